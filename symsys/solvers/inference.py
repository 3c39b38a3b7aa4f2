"""Single-node inference: ``Engine.solve`` / ``SingleNodeModel().solve``.

The solver maps the model, device and options to the decode, prefill or fixed-workload law's
inputs (:mod:`symsys.solvers.inputs`), calls the law's compiled function once, and wraps the
outputs in units lazily (a Quantity is built only when a field is read, which keeps a solve
in the tens of microseconds).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from symsys import kernels
from symsys.errors import InfeasibleConfiguration, InvalidParameter
from symsys.solvers.inputs import StepInputs, step_inputs
from symsys.units import to_quantity


@functools.cache
def kernel(law, dense: bool = False, scalar: bool = False,
           outputs: tuple[str, ...] | None = None) -> kernels.Kernel:
    """All outputs of a step law (a Law or LawRef) plus its ridge point, compiled once.

    ``dense=True`` specialises E = k = 1 before compiling: the expected-experts power
    E (1 - (1 - k/E)^b) folds to 1, which saves a float power per configuration in sweeps.
    Through :mod:`symsys.kernels` a cold process loads it from disk without sympy.
    ``outputs`` restricts it to those output names (sweeps skip what they do not report).
    """

    def build():
        from symsys import symbols as S
        from symsys.laws import get
        from symsys.laws.inference import dense as dense_case

        real = get(law.name)
        wanted = ((*real.outputs, S.I_ridge) if outputs is None
                  else tuple(real.symbol(name) for name in outputs))
        exprs = [real.expr(o) for o in wanted]
        exprs = [dense_case(e) for e in exprs] if dense else exprs
        return exprs, real.inputs, [o.name for o in wanted]

    name = f"{law.name}{'-dense' if dense else ''}"
    if outputs is not None:
        name += "-" + "-".join(outputs)
    return kernels.kernel(name, build, scalar)


def evaluate_step(inputs: StepInputs) -> dict[str, float]:
    fn = kernel(inputs.law, scalar=True)
    names = fn.outputs
    try:
        raw = fn.raw(*(inputs.values[a] for a in fn.args))
    except (ZeroDivisionError, OverflowError) as exc:  # math-module floats raise, not inf
        raise _not_finite(inputs, f"result ({exc})") from None
    if not all(map(math.isfinite, raw)):  # only at extreme inputs: never let inf/NaN out
        raise _not_finite(inputs, ", ".join(n for n, v in zip(names, raw)
                                            if not math.isfinite(v)))
    return dict(zip(names, raw))


def _not_finite(inputs: StepInputs, what: str) -> InvalidParameter:
    v = inputs.values
    return InvalidParameter(
        f"{inputs.model.key} on {inputs.hardware.key}, batch_size={v['b']}"
        + (f", seq_len={v['s']}" if "s" in v else "")
        + f": the step's {what} would be inf or NaN; an input is zero where it divides, or "
        "far outside any physical range")


@dataclass(frozen=True, eq=False)
class InferenceResult:
    """One solved step. Fields are Quantities (built on access), plus labels and flags."""

    inputs: StepInputs
    raw: dict

    # --- identity ------------------------------------------------------------------------
    @property
    def model(self):
        return self.inputs.model

    @property
    def hardware(self):
        return self.inputs.hardware

    @property
    def phase(self) -> str:
        return self.inputs.phase

    @property
    def efficiency_source(self) -> str:
        """Which efficiencies produced this answer: speed of light, given, or a profile."""
        profile = self.inputs.profile
        if profile is not None:
            return (f"calibrated profile {profile.device} {profile.precision} ({profile.law}): "
                    f"eta_c {profile.eta_c:.3f}, eta_m {profile.eta_m:.3f}, "
                    f"{profile.t_o * 1e6:.2f} us per GEMM kernel")
        v = self.inputs.values
        if v["eta_c"] == v["eta_m"] == 1 and v["t_o"] == 0:
            return "speed of light (efficiency 1, no overhead)"
        return f"given: eta_c {v['eta_c']:.3g}, eta_m {v['eta_m']:.3g}, overhead {v['t_o']:.3g} s"

    @property
    def batch_size(self) -> int:
        return self.inputs.values["b"]

    # --- times and rates -----------------------------------------------------------------
    @property
    def latency(self):
        return to_quantity(self.raw["T"], "s")

    @property
    def latency_compute(self):
        return to_quantity(self.raw["t_compute"], "s")

    @property
    def latency_memory(self):
        return to_quantity(self.raw["t_memory"], "s")

    @property
    def bottleneck(self) -> str:
        return "Compute" if self.raw["t_compute"] >= self.raw["t_memory"] else "Memory"

    @property
    def throughput(self):
        """Tokens/s of a transformer step, samples/s of a fixed workload (the law's rate)."""
        if "R_tok" in self.raw:
            return to_quantity(self.raw["R_tok"], "token/s")
        return to_quantity(self.raw["R_s"], "sample/s")

    @property
    def flops(self):
        return to_quantity(self.raw["F"], "FLOP")

    @property
    def bytes_moved(self):
        return to_quantity(self.raw["Q"], "B")

    @property
    def weight_bytes(self):
        return to_quantity(self.raw["W_read"], "B")

    @property
    def arithmetic_intensity(self):
        return to_quantity(self.raw["I"], "FLOP/B")

    @property
    def ridge_point(self):
        return to_quantity(self.raw["I_ridge"], "FLOP/B")

    @property
    def mfu(self) -> float:
        """Model FLOPs utilisation: achieved FLOP/s over the device's peak at this precision."""
        return self.raw["F"] / self.raw["T"] / self.inputs.values["Pi"]

    @property
    def mbu(self) -> float:
        """Memory bandwidth utilisation: achieved bytes/s over the device's peak bandwidth."""
        return self.raw["Q"] / self.raw["T"] / self.inputs.values["beta"]

    # --- memory --------------------------------------------------------------------------
    @property
    def memory_footprint(self):
        return to_quantity(self.raw["M"], "B")

    @property
    def memory_capacity(self):
        return self.hardware.memory.capacity

    @property
    def feasible(self) -> bool:
        return self.raw["M"] <= self.memory_capacity.m_as("B")

    @property
    def reason(self) -> str:
        """Why the configuration does not fit ('' when it does)."""
        if self.feasible:
            return ""
        need = self.memory_footprint.to("GB")
        weights = to_quantity(self.raw["W_res"], "B").to("GB")
        return (f"needs {need:.1f~P} (weights {weights:.1f~P} + KV cache and workspace) but "
                f"{self.hardware.key} has {self.memory_capacity:~P}: "
                f"{math.ceil(need.m_as('B') / self.memory_capacity.m_as('B'))} devices' memory")

    def raise_if_infeasible(self) -> InferenceResult:
        if not self.feasible:
            raise InfeasibleConfiguration(f"{self.model.key} on {self.hardware.key}: {self.reason}")
        return self

    # --- crossover -----------------------------------------------------------------------
    @property
    def crossover_batch(self) -> int | None:
        """First batch at which this step is compute-bound (None if no batch is)."""
        from symsys.solvers.crossover import crossover_batch

        return crossover_batch(self.inputs)

    @property
    def crossover_batch_exact(self) -> float | None:
        """The real root of t_compute = t_memory in b (closed form; dense models only)."""
        from symsys.solvers.crossover import crossover_exact

        return crossover_exact(self.inputs)

    # --- presentation --------------------------------------------------------------------
    def derivation(self) -> str:
        """The law's definitions with this case's values: symbolic = numeric, in units."""
        from symsys import symbols as S

        law = self.inputs.law
        lines = []
        for symbol, rhs in law.definitions:
            value = to_quantity(self.raw[symbol.name], S.info(symbol).unit)
            lines.append(f"{law.latex_of(symbol)} &= {law.latex_of(rhs)} = {value:.4g~L}")
        ridge = to_quantity(self.raw["I_ridge"], "FLOP/B")
        lines.append(f"{law.latex_of(S.I_ridge)} &= {law.latex_of(law.expr(S.I_ridge))} "
                     f"= {ridge:.4g~L}")
        note = ""
        if self.phase == "decode" and not self.inputs.seq_len_given and "s" in self.inputs.values:
            note = (r"\text{no seq\_len: decode with no cached context } (s = 0)"
                    r"\text{, the weights-only roofline} \\" + "\n")
        return "\\begin{aligned}\n" + note + " \\\\\n".join(lines) + "\n\\end{aligned}"

    def _repr_latex_(self) -> str:
        return "$$" + self.derivation() + "$$"

    def __repr__(self) -> str:
        return (f"<InferenceResult {self.model.key} on {self.hardware.key} {self.phase} "
                f"b={self.batch_size}: {self.latency.to('ms'):.3f~P}, {self.bottleneck}-bound"
                f"{'' if self.feasible else ', INFEASIBLE'}>")


def solve(model, hardware, batch_size=1, precision="fp16", **options) -> InferenceResult:
    """Solve one inference step; see :meth:`Engine.solve` for the options."""
    raise_if_infeasible = options.pop("raise_if_infeasible", False)
    inputs = step_inputs(model, hardware, batch_size, precision, **options)
    result = InferenceResult(inputs, evaluate_step(inputs))
    return result.raise_if_infeasible() if raise_if_infeasible else result


class Engine:
    """The seeds' entry point: ``Engine.solve(model=, hardware=, batch_size=, precision=)``."""

    @staticmethod
    def solve(model, hardware, batch_size=1, precision="fp16", *, phase="decode", seq_len=None,
              weight_precision=None, kv_precision=None, efficiency=None, overhead=None,
              workspace=None, raise_if_infeasible=False) -> InferenceResult:
        """Latency, throughput, bottleneck and footprint of one inference step.

        ``phase``: "decode" (one new token per sequence after ``seq_len`` cached tokens; with
        no ``seq_len`` there is no cached context: the weights-only roofline) or "prefill"
        (``seq_len`` prompt tokens). ``efficiency``: a number in (0, 1] for both compute and
        memory, or ``(compute, memory)``; default 1 (speed of light). ``overhead`` and
        ``workspace`` are Quantities (time, bytes).
        """
        return solve(model, hardware, batch_size, precision, phase=phase, seq_len=seq_len,
                     weight_precision=weight_precision, kv_precision=kv_precision,
                     efficiency=efficiency, overhead=overhead, workspace=workspace,
                     raise_if_infeasible=raise_if_infeasible)


class SingleNodeModel:
    """Object form of :meth:`Engine.solve`, as the wafer-scale seed uses it."""

    def solve(self, model, hardware, batch_size=1, precision="fp16", **options):
        return Engine.solve(model, hardware, batch_size, precision, **options)


