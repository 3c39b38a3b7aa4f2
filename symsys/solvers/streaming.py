"""Weight streaming: ``WeightStreamingModel().solve(model=, hardware=, seq_len=, batch_size=)``.

The solver maps the model, the device's external weight store (``Device.streaming``) and its
local memory to the inputs of :mod:`symsys.laws.streaming`, calls the law's compiled function
once (every output plus B*, n* and b_max), and wraps results in units lazily. The integer
batches (first batch that hides injection, largest batch that fits) are the law's closed forms
rounded, checked on the compiled law at the neighbouring integers so that rounding can never
pick the wrong side of an exact root.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from symsys import symbols as S
from symsys.compile import Compiled, compile_exprs
from symsys.errors import InfeasibleConfiguration, InvalidParameter
from symsys.laws import Law, weight_streaming, weight_streaming_prefill
from symsys.registry.hardware import PRECISION_BYTES, Device, Hardware, check_precision
from symsys.registry.models import Transformer
from symsys.solvers import validate
from symsys.solvers.inputs import resolve_hardware, resolve_model
from symsys.units import Q_, to_magnitude, to_quantity

LAWS = {"decode": weight_streaming, "prefill": weight_streaming_prefill}
_DERIVED = (S.B_star, S.n_star, S.b_max)


@functools.cache
def kernel(law: Law) -> Compiled:
    """Every output of a streaming law plus B*, n* and b_max, compiled once per process."""
    return compile_exprs([law.expr(o) for o in (*law.outputs, *_DERIVED)], law.inputs)


@functools.cache
def _gaps(law: Law) -> Compiled:
    """(t_cmp - t_inj, M_chip - C_chip): the signs that define B* and b_max at integer batches."""
    return compile_exprs([law.expr(S.t_cmp) - law.expr(S.t_inj),
                          law.expr(S.M_chip) - S.C_chip], law.inputs)


@dataclass(frozen=True, eq=False)
class StreamingInputs:
    law: Law
    values: dict  # symbol name -> canonical magnitude
    model: Transformer
    hardware: Device
    precision: str
    phase: str


def streaming_devices() -> list[str]:
    return [device.key for device in Hardware if device.streaming is not None]


def streaming_inputs(model, hardware, seq_len, batch_size=1, precision="fp16", *,
                     phase="decode", overlap=True, efficiency=None) -> StreamingInputs:
    model, hw = resolve_model(model), resolve_hardware(hardware)
    if not isinstance(model, Transformer):
        raise InvalidParameter(f"{model.key} is not a transformer: weight streaming needs layers")
    if hw.streaming is None:
        raise InvalidParameter(
            f"{hw.key} has no external weight store to stream from (no 'streaming' entry); "
            f"devices with one: {', '.join(streaming_devices())}"
        )
    check_precision(precision)
    validate.choice("phase", phase, tuple(LAWS))
    if not isinstance(overlap, bool):
        raise InvalidParameter(f"overlap={overlap!r}: expected True (double-buffered) or False")
    if seq_len is None:
        raise InvalidParameter("seq_len is required: the K/V cache held on chip, and so the "
                               "largest batch that fits, grows with it")
    eta_c, eta_m = validate.efficiencies(efficiency)
    element = PRECISION_BYTES[precision]
    known = {
        **model.shape.parameter_inputs(), **model.summary,
        "Pi": to_magnitude(hw.compute.peak(precision), "FLOP/s", "peak"),
        "beta_inj": to_magnitude(hw.streaming.injection_bandwidth, "B/s", "injection_bandwidth"),
        "C_chip": to_magnitude(hw.memory.capacity, "B", "memory.capacity"),
        "eta_c": eta_c, "eta_m": eta_m,
        "bytes_w": element, "bytes_kv": element, "bytes_a": element,
        "b": validate.positive_int("batch_size", batch_size),
        "s": validate.positive_int("seq_len", seq_len, allow_zero=phase == "decode"),
        "z_ovl": int(overlap),
    }
    if np.ndim(known["b"]) or np.ndim(known["s"]):
        raise InvalidParameter("batch_size and seq_len must be single integers here")
    law = LAWS[phase]
    return StreamingInputs(law, {s.name: known[s.name] for s in law.inputs}, model, hw,
                           precision, phase)


def _integer_batches(inputs: StreamingInputs, b_star: float, b_fit: float) -> tuple[int, int]:
    """(first batch with t_cmp >= t_inj, largest batch with M_chip <= C_chip; 0 if none).

    Both gaps are linear in b, so the answer is within one of the rounded closed form; the
    three neighbours of each are evaluated on the compiled law in one call.
    """
    up, down = max(1, math.ceil(b_star)), max(0, math.floor(b_fit))
    batches = np.array([up - 1, up, up + 1, down - 1, down, down + 1], dtype=float)
    values = [batches if s.name == "b" else inputs.values[s.name] for s in inputs.law.inputs]
    time_gap, memory_gap = _gaps(inputs.law)(*values)
    first = min(int(c) for c, g in zip(batches[:3], time_gap[:3], strict=True) if c >= 1 and g >= 0)
    fits = [int(c) for c, g in zip(batches[3:], memory_gap[3:], strict=True) if c >= 1 and g <= 0]
    return first, max(fits, default=0)


def _q(quantity) -> str:
    return f"{quantity.to_compact():.4g~P}"


@dataclass(frozen=True, eq=False)
class WeightStreamingResult:
    """One solved weight-streaming step. Quantities are built on access."""

    inputs: StreamingInputs
    raw: dict

    # --- identity ------------------------------------------------------------------------
    @property
    def model(self) -> Transformer:
        return self.inputs.model

    @property
    def hardware(self) -> Device:
        return self.inputs.hardware

    @property
    def phase(self) -> str:
        return self.inputs.phase

    @property
    def batch_size(self) -> int:
        return self.inputs.values["b"]

    @property
    def seq_len(self) -> int:
        return self.inputs.values["s"]

    @property
    def overlap(self) -> bool:
        return bool(self.inputs.values["z_ovl"])

    def _get(self, name: str):
        return to_quantity(self.raw[name], S.info(name).unit)

    # --- per layer and per step ----------------------------------------------------------
    @property
    def layer_weight_bytes(self):
        return self._get("W_layer")

    @property
    def weight_bytes(self):
        """Weight bytes streamed per step (all layers)."""
        return self._get("W_step")

    @property
    def layer_flops(self):
        return self._get("F_layer")

    @property
    def layer_injection_time(self):
        return self._get("t_inj")

    @property
    def layer_compute_time(self):
        return self._get("t_cmp")

    @property
    def layer_time(self):
        return self._get("t_layer")

    @property
    def latency(self):
        """Step time: L layer times."""
        return self._get("T")

    step_time = latency

    @property
    def throughput(self):
        return self._get("R_tok")

    @property
    def throughput_tokens_per_sec(self) -> float:
        return float(self.raw["R_tok"])

    @property
    def timing_bottleneck(self) -> str:
        """The slower half of a layer: "Compute" (ties) or "Injection", whether or not it fits."""
        return "Compute" if self.raw["t_cmp"] >= self.raw["t_inj"] else "Injection"

    @property
    def bottleneck(self) -> str:
        """The wall binding this configuration: "On-chip memory" if it does not fit, else the
        slower half of a layer."""
        return self.timing_bottleneck if self._fits_chip else "On-chip memory"

    # --- memory --------------------------------------------------------------------------
    @property
    def memory_footprint(self):
        return self._get("M_chip")

    @property
    def memory_capacity(self):
        return self.hardware.memory.capacity

    @property
    def wafer_memory_utilization(self) -> float:
        """On-chip (local) memory footprint over capacity; above 1 means it does not fit."""
        return float(self.raw["U_chip"])

    memory_utilization = wafer_memory_utilization

    @property
    def _fits_chip(self) -> bool:
        return self.raw["M_chip"] <= self.inputs.values["C_chip"]

    @property
    def _fits_store(self) -> bool:
        store = self.hardware.streaming.external_capacity
        return store is None or self.raw["W_step"] <= store.m_as("B")

    @property
    def feasible(self) -> bool:
        return self._fits_chip and self._fits_store

    @property
    def reason(self) -> str:
        """Why the configuration does not fit ('' when it does)."""
        problems = []
        if not self._fits_chip:
            problems.append(
                f"needs {_q(self.memory_footprint)} on chip (K/V {_q(self._get('M_kv'))}, "
                f"activations {_q(self._get('M_act'))}, weight buffers "
                f"{_q(self._get('M_wbuf'))}) but {self.hardware.key} has "
                f"{self.memory_capacity:~P}: at most {self.max_feasible_batch} sequence(s) at "
                f"seq_len {self.seq_len} fit"
            )
        if not self._fits_store:
            store = self.hardware.streaming
            problems.append(f"weights {_q(self.weight_bytes)} exceed {store.name} "
                            f"({store.external_capacity:~P})")
        return "; ".join(problems)

    def raise_if_infeasible(self) -> WeightStreamingResult:
        if not self.feasible:
            raise InfeasibleConfiguration(f"{self.model.key} on {self.hardware.key}: {self.reason}")
        return self

    # --- the two walls -------------------------------------------------------------------
    @functools.cached_property
    def _integers(self) -> tuple[int, int]:
        return _integer_batches(self.inputs, float(self.raw["B_star"]), float(self.raw["b_max"]))

    @property
    def optimal_batch_exact(self) -> float:
        """B* of the closed form (sequences), before rounding."""
        return float(self.raw["B_star"])

    @property
    def optimal_tokens(self) -> float:
        """Tokens per step at which compute equals injection (n*)."""
        return float(self.raw["n_star"])

    @property
    def optimal_batch_size(self) -> int:
        """B*: the first batch at which a layer's compute is at least its injection."""
        return self._integers[0]

    @property
    def max_feasible_batch(self) -> int:
        """b_max: the largest batch whose on-chip footprint fits (0: not even one sequence)."""
        return self._integers[1]

    @property
    def operating_batch(self) -> int:
        """min(B*, b_max): the batch to run at."""
        return min(self.optimal_batch_size, self.max_feasible_batch)

    @property
    def operating_wall(self) -> str:
        """What binds at the operating batch: "On-chip memory" caps it below B*, else "Compute"
        (injection is hidden)."""
        if self.max_feasible_batch < self.optimal_batch_size:
            return "On-chip memory"
        return "Compute"

    @functools.cached_property
    def operating(self) -> WeightStreamingResult | None:
        """This configuration solved at the operating batch (None if no batch fits)."""
        if self.operating_batch == self.batch_size:
            return self
        if self.operating_batch == 0:
            return None
        values = {**self.inputs.values, "b": self.operating_batch}
        inputs = StreamingInputs(self.inputs.law, values, self.model, self.hardware,
                                 self.inputs.precision, self.phase)
        return _evaluate(inputs)

    # --- presentation --------------------------------------------------------------------
    @property
    def notes(self) -> tuple[str, ...]:
        """What the sourced numbers imply for this case, then the law's conventions."""
        return (*_case_notes(self), *self.inputs.law.notes)

    def derivation(self) -> str:
        """The law's definitions and derived results with this case's values, then the notes
        on this case's numbers (LaTeX aligned block)."""
        law = self.inputs.law
        lines = [f"{law.latex_of(sym)} &= {law.latex_of(rhs)} = {_tex_q(self._get(sym.name))}"
                 for sym, rhs in law.definitions]
        integers = {"B_star": rf"\text{{first batch with }} t_{{\mathrm{{cmp}}}} \ge "
                              rf"t_{{\mathrm{{inj}}}}: {self.optimal_batch_size}",
                    "n_star": "", "b_max": rf"\text{{largest batch that fits: }} "
                                           rf"{self.max_feasible_batch}"}
        for name, extra in integers.items():
            symbol = S.info(name).symbol
            lines.append(f"{law.latex_of(symbol)} &= {law.latex_of(law.expr(symbol))} = "
                         f"{self.raw[name]:.6g}" + (rf" && {extra}" if extra else ""))
        lines.append(rf"b_{{op}} &= \min(B^{{*}}, b_{{max}}) = {self.operating_batch} && "
                     rf"\text{{binding: {self.operating_wall}}}")
        lines += [rf"&\text{{{_tex_text(note)}}}" for note in _case_notes(self)]
        return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"

    def _repr_latex_(self) -> str:
        return "$$" + self.derivation() + "$$"

    def __repr__(self) -> str:
        return (f"<WeightStreamingResult {self.model.key} on {self.hardware.key} {self.phase} "
                f"b={self.batch_size} s={self.seq_len}: {self.throughput_tokens_per_sec:.4g} "
                f"tokens/s, {self.bottleneck}, B*={self.optimal_batch_size}, "
                f"b_max={self.max_feasible_batch}>")


def _tex_q(quantity) -> str:
    if str(quantity.dimensionality) in ("[time]", "[information]", "[flop]"):
        quantity = quantity.to_compact()  # ms, GB, GFLOP; rates keep their unit
    return f"{quantity:.4g~L}".replace("µ", r"\mu ")


def _tex_text(text: str) -> str:
    for ch in "_%&#$":
        text = text.replace(ch, "\\" + ch)
    return text


def _case_notes(r: WeightStreamingResult) -> list[str]:
    hw, store, precision = r.hardware, r.hardware.streaming, r.inputs.precision
    link = store.injection_bandwidth
    in_bytes = link.to("GB/s")
    notes = [f"beta_inj = {link:.4g~P}" + ("" if link.units == in_bytes.units else
                                             f" = {in_bytes:.4g~P}")
             + f", from {store.name} (source: "
             f"{hw.source_of('streaming.injection_bandwidth').document})."]
    unit_name = format(link.units, "D")
    if "bit" in unit_name:  # vendors state links in bits/s; a bytes reading is 8x too fast
        misread = Q_(link.magnitude, unit_name.replace("bit", "byte"))
        values = {**r.inputs.values, "beta_inj": misread.m_as("B/s")}
        wrong = _evaluate(StreamingInputs(r.inputs.law, values, r.model, hw, precision, r.phase))
        notes.append(f"The vendor states this link in bits per second. Read as {misread:.4g~P} "
                     f"it would be {(misread / link).m_as(''):.0f}x too fast: t_inj "
                     f"{_q(wrong.layer_injection_time)} instead of {_q(r.layer_injection_time)}, "
                     f"B* {wrong.optimal_batch_exact:.4g} instead of "
                     f"{r.optimal_batch_exact:.4g}.")
    peak = hw.compute.peak(precision)
    peak_source = hw.source_of(f"peak_dense.{precision}").document
    estimate = " It is an estimate, not a vendor figure." if peak_source.upper().startswith(
        "ESTIMATE") else ""
    sparse = hw.compute.peak_sparse.get(precision)
    notes.append(f"Pi = dense {precision} peak {peak:.4g~P}.{estimate}"
                 + (f" The {sparse:.4g~P} figure counts sparsity and is not used." if sparse
                    else ""))
    notes.append(f"C_chip = {hw.memory.capacity:~P} of {hw.memory.type} holds K/V, activations "
                 f"and weight buffers; the {_q(r.weight_bytes)} of weights live in {store.name}"
                 + (f" ({store.external_capacity:~P})." if store.external_capacity else "."))
    notes.append(_verdict(r))
    return notes


def _verdict(r: WeightStreamingResult) -> str:
    """When weight streaming is the right model for this case, and when it is not."""
    if r.raw["W_step"] <= r.inputs.values["C_chip"]:
        return (f"The weights ({_q(r.weight_bytes)}) fit in local memory "
                f"({r.memory_capacity:~P}): keeping them resident (symsys.Engine) avoids the "
                f"injection wall entirely; streaming them is a choice here, not a necessity.")
    if r.operating_wall == "Compute":
        op = r.operating
        return (f"Streaming hides injection from b = B* = {r.optimal_batch_size} "
                f"({r.optimal_tokens:.4g} tokens per step), within the on-chip limit "
                f"b_max = {r.max_feasible_batch}: there it runs compute-bound at "
                f"{op.throughput_tokens_per_sec:.4g} tokens/s.")
    op = r.operating
    at = (f"runs injection-bound at b = {r.operating_batch}, {op.throughput_tokens_per_sec:.4g} "
          f"tokens/s" if op else "does not fit at any batch")
    return (f"On-chip memory caps the batch at b_max = {r.max_feasible_batch}, below "
            f"B* = {r.optimal_batch_size} ({r.optimal_tokens:.4g} tokens per step): this step "
            f"{at}. Streaming pays when a step has that many tokens per streamed layer "
            f"(training, long prefill); a model this size that must answer with low latency is "
            f"served with its weights resident in on-chip memory across several systems "
            f"(layers pipelined over devices), which this law does not model.")


def _evaluate(inputs: StreamingInputs) -> WeightStreamingResult:
    law = inputs.law
    # floats: a product of Python ints (b s at 2**53) is too large for numpy's C long
    with np.errstate(all="ignore"):  # non-finite results are reported just below
        raw = kernel(law).raw(*(float(inputs.values[s.name]) for s in law.inputs))
    names = (*(o.name for o in law.outputs), *(d.name for d in _DERIVED))
    out = {n: float(v) for n, v in zip(names, raw, strict=True)}
    bad = [n for n, v in out.items() if not math.isfinite(v)]
    if bad:
        v = inputs.values
        raise InvalidParameter(f"{inputs.model.key} on {inputs.hardware.key}, batch_size="
                               f"{v['b']}, seq_len={v['s']}: {', '.join(bad)} would be inf or "
                               "NaN (an input far outside any physical range)")
    return WeightStreamingResult(inputs, out)


class WeightStreamingModel:
    """Weight streaming from an external store (Cerebras MemoryX, GH200 host memory)."""

    def solve(self, model, hardware, seq_len=None, batch_size=1, precision="fp16", *,
              phase="decode", overlap=True, efficiency=None,
              raise_if_infeasible=False) -> WeightStreamingResult:
        """Layer times, bottleneck, tokens/s, B*, b_max and the operating batch of one step.

        ``seq_len`` (required): decode: cached context; prefill: prompt tokens. ``overlap``:
        inject layer l+1 while computing layer l (two weight buffers) or serially (one).
        ``efficiency``: one number in (0, 1] for compute and injection, or
        ``(compute, injection)``; default 1 (speed of light).
        """
        inputs = streaming_inputs(model, hardware, seq_len, batch_size, precision, phase=phase,
                                  overlap=overlap, efficiency=efficiency)
        result = _evaluate(inputs)
        return result.raise_if_infeasible() if raise_if_infeasible else result
