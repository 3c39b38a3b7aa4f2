"""The one result base of every solver.

A :class:`Result` holds its scenario and the raw outputs of a kernel (canonical magnitudes
keyed by name). Everything else is read from the law's card: Quantities in the units of the
symbol table, the binding regime (the largest of the law's named max() terms; ties, equal to
rounding, go to the first-listed regime), the latency and rate, and ``feasible``/``reason``
from the law's footprint and capacity. ``to_dict()`` writes every command's JSON with one
convention: quantities as canonical magnitudes under their readable names, their units in
``"units"``. Subclasses add readable names for their law's outputs and their own figures.
"""

from __future__ import annotations

import math

from symsys.units import format_value, to_quantity

#: two times equal to this relative rounding tie, and a tie goes to the first-listed regime
TIE = 1e-12


def binding(regimes, raw: dict) -> str:
    """The label of the largest regime term in ``raw`` (ties, to rounding, to the first)."""
    labels, values = zip(*((label, raw[term]) for label, term in regimes))
    largest = max(values)
    for label, value in zip(labels, values):
        if value >= largest - TIE * abs(largest):
            return label
    raise AssertionError("unreachable")


def regime_codes(regimes, values: dict):
    """Index of the binding regime at every point of arrays ``values`` (ties, to rounding, to
    the first-listed regime): the array form of :func:`binding`."""
    import numpy as np

    stacked = np.stack([np.asarray(values[term], dtype=float) for _, term in regimes])
    largest = stacked.max(axis=0)
    return np.argmax(stacked >= largest - TIE * np.abs(largest), axis=0).astype(np.int8)


class Output:
    """A readable name for one law output of a result, as a Quantity in its unit:
    ``latency_compute = Output("t_compute")``; None where the result's law has no such output
    (a step law of another package need not define every output of the package's)."""

    def __init__(self, name: str, doc: str = ""):
        self.name, self.__doc__ = name, doc or f"The law's output {name}, with its unit."

    def __get__(self, result, owner=None):
        if result is None:
            return self
        return result.quantity(self.name) if self.name in result.raw else None


class Result:
    """A solved scenario. ``raw`` maps output names to canonical magnitudes."""

    #: the kind of answer, for repr and JSON ("step", "sensitivity", "synthesis", ...)
    kind = "result"

    def __init__(self, scenario, raw: dict):
        self.scenario = scenario
        self.raw = raw

    # --- identity ------------------------------------------------------------------------
    @property
    def model(self):
        return self.scenario.model

    @property
    def hardware(self):
        return self.scenario.hardware

    @property
    def card(self) -> dict:
        return self.scenario.card

    def identity(self) -> dict:
        """Model, hardware and the scenario's options: what was asked."""
        out = {"kind": self.kind, "law": self.card["law"]}
        if self.model is not None:
            out["model"] = self.model.key
        if self.hardware is not None:
            out["hardware"] = self.hardware.key
        return {**out, **self.scenario.options}

    # --- outputs -------------------------------------------------------------------------
    def quantity(self, name: str):
        """Output (or input) ``name`` as a Quantity in its symbol's unit."""
        if name in self.raw:
            return to_quantity(self.raw[name], self.card["units"][name])
        return to_quantity(self.scenario.values[name], self.card["units"][name])

    @property
    def outputs(self) -> dict:
        """Every raw output with a unit in the symbol table, as Quantities."""
        units = self.card["units"]
        return {name: to_quantity(v, units[name]) for name, v in self.raw.items()
                if name in units}

    @property
    def regime(self) -> str | None:
        """The binding term of the law's max(), by its name; None for a law without one."""
        regimes = self.card["regimes"]
        return binding(regimes, self.raw) if regimes else None

    bottleneck = regime

    @property
    def latency(self):
        return self.quantity(self.card["latency"])

    @property
    def throughput(self):
        return self.quantity(self.card["rate"]) * self.copies(self.card["rate"])

    def copies(self, spec: str) -> int:
        """How many copies of the law's answer an output of this result counts: 1 here;
        data-parallel replicas count r of the law's rate (``InferenceResult``). Solvers that
        read the law's raw outputs (sensitivities, synthesis) scale by it."""
        return 1

    # --- capacity ------------------------------------------------------------------------
    @property
    def memory_footprint(self):
        return self.quantity(self.card["footprint"]) if self.card["footprint"] else None

    @property
    def memory_capacity(self):
        capacity = self.card["capacity"]
        return None if capacity is None else self.quantity(capacity)

    @property
    def feasible(self) -> bool:
        """The footprint fits in the capacity (a law without a footprint always fits)."""
        footprint, capacity = self.card["footprint"], self.card["capacity"]
        if footprint is None:
            return True
        return self.raw[footprint] <= self.scenario.values[capacity]

    @property
    def reason(self) -> str:
        """Why the scenario is infeasible, naming the capacity ('' when it fits)."""
        if self.feasible:
            return ""
        need, have = self.memory_footprint, self.memory_capacity
        where = f" {self.hardware.key}" if self.hardware is not None else ""
        fraction = self.scenario.options.get("memory_fraction")
        usable = ("" if fraction is None else
                  f" usable (memory_fraction={fraction:g} of its "
                  f"{format_value(to_quantity(have.m_as('B') / fraction, 'B'))})")
        return (f"needs {format_value(need)} of memory but{where} has {format_value(have)}"
                f"{usable} ({self.card['footprint']} > {self.card['capacity']}): "
                f"{math.ceil(need.m_as('B') / have.m_as('B'))} devices' memory")

    # --- export --------------------------------------------------------------------------
    def summary(self) -> dict:
        """The readable figures of this result, Quantities or plain values, by name."""
        out = {}
        for role in ("latency", "throughput"):
            if self.card["latency" if role == "latency" else "rate"]:
                out[role] = getattr(self, role)
        if self.regime is not None:
            out["regime"] = self.regime
        if self.card["footprint"]:
            out.update(memory_footprint=self.memory_footprint,
                       memory_capacity=self.memory_capacity)
        out.update(feasible=self.feasible, reason=self.reason)
        return out

    def to_dict(self) -> dict:
        """JSON-safe: identity, the summary and every output, quantities as canonical
        magnitudes with their units under ``"units"``."""
        data, units = dict(self.identity()), {}
        for name, value in {**self.summary(), **self.outputs}.items():
            if hasattr(value, "units"):  # every Quantity here is in its canonical unit
                data[name], units[name] = _plain(value.magnitude), f"{value.units:~P}"
            else:
                data[name] = _plain(value)
        data["units"] = units
        return data

    def to_pandas(self):
        """One row: :meth:`to_dict` as a DataFrame (pandas is optional)."""
        from symsys.errors import InvalidParameter

        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - depends on the environment
            raise InvalidParameter("to_pandas() needs pandas: pip install pandas") from None
        data = self.to_dict()
        units = data.pop("units")
        return pd.DataFrame([{(f"{k} [{units[k]}]" if k in units else k): v
                              for k, v in data.items()}])

    # --- presentation ----------------------------------------------------------------------
    def derivation(self) -> str:
        """The law's definitions with this case's values: symbolic = numeric, in units."""
        law = self.scenario.law
        lines = [f"{law.latex_of(symbol)} &= {law.latex_of(rhs)} = "
                 f"{self.quantity(symbol.name):.4g~L}"
                 for symbol, rhs in law.definitions if symbol.name in self.raw]
        lines += [f"{law.latex_of(d.symbol)} &= {law.latex_of(law.expr(d.symbol))} = "
                  f"{self.quantity(d.symbol.name):.4g~L}"
                  for d in law.derived if d.symbol.name in self.raw]
        note = self._derivation_note()
        return ("\\begin{aligned}\n" + (note + " \\\\\n" if note else "")
                + " \\\\\n".join(lines) + "\n\\end{aligned}")

    def _derivation_note(self) -> str:
        """A LaTeX line printed above the derivation (what a default meant here)."""
        return ""

    def _repr_latex_(self) -> str:
        return "$$" + self.derivation() + "$$"

    def _repr_html_(self) -> str:
        """Jupyter's view: the answer as a compact table (it takes this over the LaTeX
        derivation, which ``derivation()`` gives on request)."""
        import html

        title, settings, rows = self._card()
        body = "".join(f"<tr><th style='text-align:left'>{html.escape(name)}</th>"
                       f"<td style='text-align:left'>{html.escape(value)}</td></tr>"
                       for name, value in rows)
        note = (f"<div style='font-size:smaller'>{html.escape(settings)}</div>"
                if settings else "")
        return f"<div><b>{html.escape(title)}</b>{note}<table>{body}</table></div>"

    def _card(self) -> tuple[str, str, list[tuple[str, str]]]:
        """(title, the settings that shaped the answer, (name, value) rows): what ``str`` and
        the HTML view show, each value at 4 significant digits."""
        extra = {k: v for k, v in self.identity().items()
                 if k not in ("kind", "law", "model", "hardware") and v is not None}
        rows = [(name.replace("_", " "), format_value(value))
                for name, value in self.summary().items()
                if not (name == "reason" and not value)]
        return (f"{type(self).__name__}: {self.scenario.label()}",
                ", ".join(f"{k} {v}" for k, v in extra.items()), rows)

    def __str__(self) -> str:
        title, settings, rows = self._card()
        lines = [title] + (["  " + settings] if settings else [])
        lines += [f"  {name}: {value}" for name, value in rows]
        return "\n".join(lines)

    def _repr_tail(self) -> str:
        """What a repr shows after the label (": 4.48 ms, Memory-bound"); subclasses choose."""
        parts = []
        if self.card["latency"]:
            parts.append(format_value(self.latency))
        if self.regime is not None:
            parts.append(f"{self.regime}-bound")
        if not self.feasible:
            parts.append("INFEASIBLE")
        return ": " + ", ".join(parts)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.scenario.label()}{self._repr_tail()}>"


def _plain(value):
    """A JSON-safe scalar: numpy scalars as Python numbers, NaN/inf as None."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
