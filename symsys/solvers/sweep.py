"""Vectorised sweeps: the same keywords as ``Engine.solve``, each a value or a list/array.

The cartesian product of every list-valued keyword is evaluated by broadcast calls of the
step law's compiled function (one call per law and phase, or per chunk), never a Python loop
per configuration. Device/precision pairs the device lacks are not silently dropped: they are
listed in ``result.skipped`` with the reason, and printed under the table.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from symsys.errors import InvalidParameter, UnsupportedPrecision
from symsys.registry.hardware import check_precision
from symsys.solvers import validate
from symsys.solvers.inference import kernel
from symsys.solvers.inputs import resolve_hardware, resolve_model, step_inputs
from symsys.units import to_quantity

#: output columns: name -> (law output, unit)
_COLUMNS = {"latency": ("T", "s"), "latency_compute": ("t_compute", "s"),
            "latency_memory": ("t_memory", "s"), "arithmetic_intensity": ("I", "FLOP/B"),
            "memory_footprint": ("M", "B"), "flops": ("F", "FLOP"), "bytes": ("Q", "B")}


def _listify(value) -> list:
    if isinstance(value, str) or not hasattr(value, "__len__"):
        return [value]
    if len(value) == 0:
        raise InvalidParameter("a sweep axis is empty")
    return list(value)


def _axis(value) -> np.ndarray:
    array = np.atleast_1d(np.asarray(value))
    if array.ndim != 1:
        raise InvalidParameter("sweep axes must be scalars or 1-D arrays")
    return array


@dataclass
class SweepResult:
    """Columnar result: ``columns[name]`` is an array (strings, numbers or Quantities)."""

    columns: dict = field(default_factory=dict)
    skipped: list = field(default_factory=list)
    categories: dict = field(default_factory=dict)  # name -> (codes, labels), built on access

    def _column(self, name):
        if name not in self.columns and name in self.categories:
            codes, labels = self.categories[name]
            self.columns[name] = np.asarray(labels)[codes]
        return self.columns[name]

    def __len__(self) -> int:
        return len(self.columns["latency"])

    def __getitem__(self, name):
        return self._column(name)

    def __getattr__(self, name):
        if name.startswith("_") or name in ("columns", "categories", "skipped"):
            raise AttributeError(name)
        try:
            return self._column(name)
        except KeyError:
            raise AttributeError(name) from None

    @property
    def names(self) -> list[str]:
        return [*self.categories, *self.columns]

    def to_pandas(self):
        """A DataFrame with magnitudes; each unit in its column name (pandas is optional)."""
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - depends on the environment
            raise InvalidParameter("to_pandas() needs pandas: pip install pandas") from None
        data = {}
        for name in self.names:
            column = self._column(name)
            if hasattr(column, "units"):
                data[f"{name} [{column.units:~P}]"] = column.magnitude
            else:
                data[name] = column
        return pd.DataFrame(data)

    def table(self, max_rows: int = 40) -> str:
        from symsys.show import table

        names = ["model", "hardware", "precision", "phase", "batch_size", "seq_len", "latency",
                 "throughput", "bottleneck", "feasible"]
        rows = []
        for i in range(min(len(self), max_rows)):
            rows.append([self._cell(n, i) for n in names])
        import io

        text = table(names, rows, file=io.StringIO())
        if len(self) > max_rows:
            text += f"\n... {len(self) - max_rows} more rows"
        for reason in self.skipped:
            text += f"\nskipped: {reason}"
        return text

    def _cell(self, name, i):
        return self._column(name)[i]


def _law_of(model, phase):
    from symsys.registry.models import Transformer
    from symsys.solvers.inputs import LawRef

    if isinstance(model, Transformer):
        return LawRef(phase)  # the decode or prefill law
    if phase != "decode":
        raise InvalidParameter(f"{model.key}: phase={phase!r} applies to transformers only")
    return LawRef("fixed_workload")


def sweep(model, hardware, batch_size=1, seq_len=None, precision="fp16", phase="decode",
          weight_precision=None, kv_precision=None, efficiency=None) -> SweepResult:
    """Evaluate every combination of the list-valued arguments; see the module docstring."""
    models = [resolve_model(m) for m in _listify(model)]
    devices = [resolve_hardware(h) for h in _listify(hardware)]
    precisions = [check_precision(p) for p in _listify(precision)]
    phases = _listify(phase)
    batches = _axis(validate.positive_int("batch_size", batch_size, array=True))
    seqs = (None if seq_len is None else
            _axis(validate.positive_int("seq_len", seq_len, allow_zero=True, array=True)))

    pieces, skipped = [], []
    for phase_value, law_models in ((p, _group(models, p)) for p in phases):
        for law, group in law_models.items():
            pairs = []
            for hw, prec in itertools.product(devices, precisions):
                if prec in hw.compute.peak_dense:
                    pairs.append((hw, prec))
                elif (hw.key, prec) not in {(s[0], s[1]) for s in skipped}:
                    skipped.append((hw.key, prec, f"{hw.key} has no {prec} (it has "
                                    f"{', '.join(hw.compute.precisions)})"))
            if not pairs:
                continue
            pieces.append(_evaluate(law, group, pairs, batches, seqs, phase_value,
                                    weight_precision, kv_precision, efficiency))
    if not pieces:
        raise UnsupportedPrecision("no device in the sweep has the requested precision: "
                                   + "; ".join(s[2] for s in skipped))
    return _concatenate(pieces, [s[2] for s in skipped])


def _group(models, phase) -> dict:
    groups: dict = {}
    for m in models:
        groups.setdefault(_law_of(m, phase), []).append(m)
    return groups


def _evaluate(law, models, pairs, batches, seqs, phase, weight_precision, kv_precision,
              efficiency) -> dict:
    """One broadcast call over (model, device/precision, batch, seq_len)."""
    transformer = law.name in ("decode", "prefill")
    if phase == "prefill" and transformer:  # the checks step_inputs makes for one prefill
        if seqs is None:
            raise InvalidParameter("phase='prefill' needs seq_len (the prompt length)")
        if np.any(seqs < 1):
            raise InvalidParameter(f"seq_len={seqs.tolist()}: a prefill needs prompts of at "
                                   "least 1 token (0 is allowed for decode only)")
    seq_axis = seqs if (seqs is not None and transformer) else np.array([None], dtype=object)
    # per-model and per-pair inputs come from step_inputs at a reference point, so the
    # validation and the mapping from registry to symbols are the single ones in inputs.py
    ref_seq = None if seq_axis[0] is None else int(seq_axis[0])
    per_model = [step_inputs(m, pairs[0][0], 1, pairs[0][1], phase=phase, seq_len=ref_seq,
                             weight_precision=weight_precision, kv_precision=kv_precision,
                             efficiency=efficiency).values for m in models]
    per_pair = [step_inputs(models[0], hw, 1, prec, phase=phase, seq_len=ref_seq,
                            weight_precision=weight_precision, kv_precision=kv_precision,
                            efficiency=efficiency).values for hw, prec in pairs]
    shape = (len(models), len(pairs), len(batches), len(seq_axis))
    hardware_names = {"Pi", "beta", "eta_c", "eta_m", "t_o", "bytes_w", "bytes_kv"}
    names = [_COLUMNS[c][0] for c in _COLUMNS] + ["n_tok"] * transformer
    dense = all(v.get("E", 1) == 1 for v in per_model)
    outputs = kernel(law, dense)
    args = []
    for name in outputs.args:
        if name == "b":
            value = batches.astype(float).reshape(1, 1, -1, 1)
        elif name == "s":
            value = (np.asarray([0 if s is None else s for s in seq_axis], dtype=float)
                     .reshape(1, 1, 1, -1))
        elif name in hardware_names:
            value = np.array([v[name] for v in per_pair], dtype=float).reshape(1, -1, 1, 1)
        else:
            value = np.array([v[name] for v in per_model], dtype=float).reshape(-1, 1, 1, 1)
        args.append(value)
    wanted = [outputs.outputs.index(n) for n in names]
    with np.errstate(all="ignore"):  # non-finite results are reported just below
        raw = outputs.raw(*args)
    values = {n: _full(raw[i], shape) for n, i in zip(names, wanted)}
    bad = [n for n, v in values.items() if not np.all(np.isfinite(v))]
    if bad:
        raise InvalidParameter(f"sweep: {', '.join(bad)} would be inf or NaN at some points "
                               "(an input far outside any physical range)")
    index = np.indices(shape).reshape(4, -1)
    capacity = np.array([hw.memory.capacity.m_as("B") for hw, _ in pairs])
    out = {
        "model": ([m.key for m in models], index[0]),
        "hardware": ([hw.key for hw, _ in pairs], index[1]),
        "precision": ([p for _, p in pairs], index[1]),
        "phase": ([phase], np.zeros_like(index[0])),
        "batch_size": batches[index[2]],
        # decode without seq_len has no cached context: s = 0; fixed workloads have none
        "seq_len": np.asarray([0 if s is None else s for s in seq_axis])[index[3]],
    }
    for column, (symbol, _) in _COLUMNS.items():
        out[column] = values[symbol]
    items = values["n_tok"] if transformer else out["batch_size"].astype(float)
    out["throughput"] = items / values["T"]
    out["bottleneck"] = (["Memory", "Compute"],
                         (values["t_compute"] >= values["t_memory"]).view(np.int8))
    out["feasible"] = values["M"] <= capacity[index[1]]
    out["_unit_throughput"] = "token/s" if transformer else "sample/s"
    return out


def _full(values, shape) -> np.ndarray:
    """``values`` as a flat array of ``shape``'s size, copying only what broadcasting needs."""
    values = np.asarray(values, dtype=float)
    if values.shape != shape:
        values = np.broadcast_to(values, shape)
    return values.reshape(-1)


def _concatenate(pieces, skipped) -> SweepResult:
    per_piece = [p.pop("_unit_throughput") for p in pieces]
    units = set(per_piece)
    categorical = [n for n, v in pieces[0].items() if isinstance(v, tuple)]
    categories = {}
    for name in categorical:
        labels = sorted({label for p in pieces for label in p[name][0]})
        position = {label: i for i, label in enumerate(labels)}
        codes = [np.asarray([position[x] for x in p[name][0]])[p[name][1]] for p in pieces]
        categories[name] = (np.concatenate(codes) if len(codes) > 1 else codes[0], labels)
    columns = {name: np.concatenate([p[name] for p in pieces]) if len(pieces) > 1
               else pieces[0][name] for name in pieces[0] if name not in categorical}
    for name, (_, unit) in _COLUMNS.items():
        columns[name] = to_quantity(columns[name], unit)
    if len(units) == 1:
        columns["throughput"] = to_quantity(columns["throughput"], units.pop())
    else:  # tokens/s and samples/s together: magnitudes, with the unit of each row beside them
        labels = sorted(units)
        codes = [np.full(len(p["latency"]), labels.index(u)) for p, u in zip(pieces, per_piece)]
        categories["throughput_unit"] = (np.concatenate(codes), labels)
    return SweepResult(columns, skipped, categories)

