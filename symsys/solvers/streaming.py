"""Weight streaming: ``WeightStreamingModel().solve(model, hardware, seq_len=, batch_size=)``.

The solver binds the model, the device's external weight store (``Device.streaming``) and its
local memory to the inputs of :mod:`symsys.laws.streaming` as a scenario, and evaluates the
law's kernel once (every output plus B*, n* and b_max). The integer batches (the first batch
that hides injection, the largest batch that fits) are the generic balance point and capacity
limit of :mod:`symsys.solvers.balance`, checked at whole batches. The notes printed under a
result's derivation live in :mod:`symsys.solvers.streaming_notes`.
"""

from __future__ import annotations

import functools

from symsys.errors import InfeasibleConfiguration, InvalidParameter
from symsys.kernels import LawRef
from symsys.registry.hardware import PRECISION_BYTES, Hardware, resolve_precision
from symsys.registry.models import Transformer
from symsys.solvers import STREAMING_LAWS, balance, checks
from symsys.solvers.inputs import resolve_hardware, resolve_model
from symsys.solvers.result import Output, Result
from symsys.solvers.scenario import Option, Scenario, device_inputs
from symsys.solvers.streaming_notes import _case_notes, _q, _tex_q


class StreamingInputs(Scenario):
    """The scenario of one weight-streaming step."""

    precision = Option()
    phase = Option()


def streaming_devices() -> list[str]:
    return [device.key for device in Hardware if device.streaming is not None]


def streaming_inputs(model, hardware, *, seq_len, batch_size=1, precision="auto",
                     phase="decode", overlap=True, efficiency=None) -> StreamingInputs:
    model, hw = resolve_model(model), resolve_hardware(hardware)
    if not isinstance(model, Transformer):
        raise InvalidParameter(f"{model.key} is not a transformer: weight streaming needs layers")
    if hw.streaming is None:
        raise InvalidParameter(
            f"{hw.key} has no external weight store to stream from (no 'streaming' entry); "
            f"devices with one: {', '.join(streaming_devices())}"
        )
    precision = resolve_precision(hw, precision)
    checks.choice("phase", phase, tuple(STREAMING_LAWS))
    if not isinstance(overlap, bool):
        raise InvalidParameter(f"overlap={overlap!r}: expected True (double-buffered) or False")
    if seq_len is None:
        raise InvalidParameter("seq_len is required: the K/V cache held on chip, and so the "
                               "largest batch that fits, grows with it")
    eta_c, eta_m = checks.efficiencies(efficiency)
    element = PRECISION_BYTES[precision]
    b = checks.positive_int("batch_size", batch_size)
    s = checks.positive_int("seq_len", seq_len, allow_zero=phase == "decode")
    values = {
        **model.shape.parameter_inputs(), **model.summary, **device_inputs(hw, precision),
        "eta_c": eta_c, "eta_m": eta_m, "bytes_w": element, "bytes_kv": element,
        "bytes_a": element, "b": b, "s": s, "z_ovl": int(overlap), "z_logit": 0,
    }
    law = LawRef(STREAMING_LAWS[phase])
    options = {"precision": precision, "phase": phase, "batch_size": b, "seq_len": s,
               "overlap": overlap}
    variant = "dense" if model.shape.experts == 1 else None
    card = Scenario(law, values, variant=variant).card
    return StreamingInputs(law, {name: values[name] for name in card["inputs"]}, model, hw,
                           options, variant)


class WeightStreamingResult(Result):
    """One solved weight-streaming step. Quantities are built on access."""

    kind = "streaming step"
    #: what a step reports: every output of its law, B*, its tokens n* and b_max
    SPECS = ("*", "B_star", "n_star", "b_max")

    @property
    def inputs(self) -> StreamingInputs:
        return self.scenario

    @property
    def phase(self) -> str:
        return self.scenario.phase

    @property
    def batch_size(self) -> int:
        return self.scenario.values["b"]

    @property
    def seq_len(self) -> int:
        return self.scenario.values["s"]

    @property
    def overlap(self) -> bool:
        return bool(self.scenario.values["z_ovl"])

    # --- per layer and per step ----------------------------------------------------------
    layer_weight_bytes = Output("W_layer", "Weight bytes streamed per layer.")
    weight_bytes = Output("W_step", "Weight bytes streamed per step (all layers).")
    layer_flops = Output("F_layer", "FLOPs of one layer for the step's tokens.")
    layer_injection_time = Output("t_inj", "Time to inject one layer's weights.")
    layer_compute_time = Output("t_cmp", "Time to compute one layer.")
    layer_time = Output("t_layer", "Time per layer (overlapped or serial).")

    @property
    def step_time(self):
        """Step time: L layer times."""
        return self.latency

    @property
    def throughput_tokens_per_sec(self) -> float:
        return float(self.raw["R_tok"])

    @property
    def timing_bottleneck(self) -> str:
        """The slower half of a layer: "Compute" (ties) or "Injection", whether or not it fits."""
        return self.regime

    @property
    def bottleneck(self) -> str:
        """The wall binding this configuration: "On-chip memory" if it does not fit, else the
        slower half of a layer."""
        return self.timing_bottleneck if self._fits_chip else "On-chip memory"

    # --- memory --------------------------------------------------------------------------
    @property
    def wafer_memory_utilization(self) -> float:
        """On-chip (local) memory footprint over capacity; above 1 means it does not fit."""
        return float(self.raw["U_chip"])

    memory_utilization = wafer_memory_utilization

    @property
    def _fits_chip(self) -> bool:
        return Result.feasible.fget(self)

    @property
    def _fits_store(self) -> bool:
        store = self.hardware.streaming.external_capacity
        return store is None or self.raw["W_step"] <= store.m_as("B")

    @property
    def feasible(self) -> bool:
        """The on-chip footprint fits the local memory and the weights fit the store."""
        return self._fits_chip and self._fits_store

    @property
    def reason(self) -> str:
        """Why the configuration does not fit ('' when it does)."""
        problems = []
        if not self._fits_chip:
            problems.append(
                f"needs {_q(self.memory_footprint)} on chip (K/V {_q(self.quantity('M_kv'))}, "
                f"activations {_q(self.quantity('M_act'))}, weight buffers "
                f"{_q(self.quantity('M_wbuf'))}) but {self.hardware.key} has "
                f"{self.hardware.memory.capacity:~P}: at most {self.max_feasible_batch} "
                f"sequence(s) at seq_len {self.seq_len} fit"
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
    @property
    def optimal_batch_exact(self) -> float:
        """B* of the closed form (sequences), before rounding."""
        return float(self.raw["B_star"])

    @property
    def optimal_tokens(self) -> float:
        """Tokens per step at which compute equals injection (n*)."""
        return float(self.raw["n_star"])

    @functools.cached_property
    def optimal_batch_size(self) -> int:
        """B*: the first batch at which a layer's compute is at least its injection."""
        (_, compute), (_, injection) = self.card["regimes"]
        return balance.first_integer(self.scenario, "b", compute, injection) or 0

    @functools.cached_property
    def max_feasible_batch(self) -> int:
        """b_max: the largest batch whose on-chip footprint fits (0: not even one sequence)."""
        return balance.max_fitting(self.scenario, "b")[1]

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
        return _evaluate(self.scenario.replace(b=self.operating_batch))

    # --- presentation --------------------------------------------------------------------
    @property
    def notes(self) -> tuple[str, ...]:
        """What the sourced numbers imply for this case, then the law's conventions."""
        return (*_case_notes(self), *self.card["notes"])

    def derivation(self) -> str:
        """The law's definitions and derived results with this case's values, then the notes
        on this case's numbers (LaTeX aligned block)."""
        law = self.scenario.law
        lines = [f"{law.latex_of(sym)} &= {law.latex_of(rhs)} = "
                 f"{_tex_q(self.quantity(sym.name))}" for sym, rhs in law.definitions]
        integers = {"B_star": rf"\text{{first batch with }} t_{{\mathrm{{cmp}}}} \ge "
                              rf"t_{{\mathrm{{inj}}}}: {self.optimal_batch_size}",
                    "n_star": "", "b_max": rf"\text{{largest batch that fits: }} "
                                           rf"{self.max_feasible_batch}"}
        for name, extra in integers.items():
            symbol = law.symbol(name)
            lines.append(f"{law.latex_of(symbol)} &= {law.latex_of(law.expr(symbol))} = "
                         f"{self.raw[name]:.6g}" + (rf" && {extra}" if extra else ""))
        lines.append(rf"b_{{op}} &= \min(B^{{*}}, b_{{max}}) = {self.operating_batch} && "
                     rf"\text{{binding: {self.operating_wall}}}")
        lines += [rf"&\text{{{_tex_text(note)}}}" for note in _case_notes(self)]
        return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"

    def summary(self) -> dict:
        op = self.operating
        return {**super().summary(), "bottleneck": self.bottleneck,
                "beta_inj": self.quantity("beta_inj"),
                "layer_injection_time": self.layer_injection_time,
                "layer_compute_time": self.layer_compute_time,
                "memory_utilization": self.wafer_memory_utilization,
                "optimal_batch_size": self.optimal_batch_size,
                "optimal_batch_exact": self.optimal_batch_exact,
                "optimal_tokens": self.optimal_tokens,
                "max_feasible_batch": self.max_feasible_batch,
                "operating_batch": self.operating_batch, "operating_wall": self.operating_wall,
                "operating_throughput": op.throughput if op else None,
                "notes": list(self.notes)}

    def _repr_tail(self) -> str:
        return (f" {self.phase} b={self.batch_size} s={self.seq_len}: "
                f"{self.throughput_tokens_per_sec:.4g} tokens/s, {self.bottleneck}, "
                f"B*={self.optimal_batch_size}, b_max={self.max_feasible_batch}")


def _tex_text(text: str) -> str:
    for ch in "_%&#$":
        text = text.replace(ch, "\\" + ch)
    return text


def _evaluate(inputs: StreamingInputs) -> WeightStreamingResult:
    # floats: a product of Python ints (b s at 2**53) is too large for numpy's C long
    scenario = inputs.replace(**{k: float(v) for k, v in inputs.values.items()})
    return WeightStreamingResult(inputs, scenario.call(WeightStreamingResult.SPECS))


class WeightStreamingModel:
    """Weight streaming from an external store (Cerebras MemoryX, GH200 host memory)."""

    @checks.keywords
    def solve(self, model, hardware, *, seq_len=None, batch_size=1, precision="auto",
              phase="decode", overlap=True, efficiency=None,
              raise_if_infeasible=False) -> WeightStreamingResult:
        """Layer times, bottleneck, tokens/s, B*, b_max and the operating batch of one step.

        Parameters
        ----------
        model, hardware : a transformer and a device with an external weight store.
        seq_len : int, required: decode: cached context; prefill: prompt tokens.
        batch_size : int, sequences; default 1.
        precision : str, weights, K/V and activations; default "auto" (native 16-bit).
        phase : "decode" or "prefill".
        overlap : inject layer l+1 while computing layer l (two weight buffers, default) or
            serially (one).
        efficiency : one number in (0, 1] for compute and injection, or
            ``(compute, injection)``; default 1 (speed of light).
        raise_if_infeasible : raise InfeasibleConfiguration when it does not fit.
        """
        inputs = streaming_inputs(model, hardware, seq_len=seq_len, batch_size=batch_size,
                                  precision=precision, phase=phase, overlap=overlap,
                                  efficiency=efficiency)
        result = _evaluate(inputs)
        return result.raise_if_infeasible() if raise_if_infeasible else result
