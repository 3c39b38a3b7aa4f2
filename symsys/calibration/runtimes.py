"""Serving runtimes: what a runtime's non-GEMM kernels add to a step, measured.

A step law counts a runtime's kernels besides the GEMMs with three inputs (see the decode and
prefill laws' notes): ``n_aux`` non-GEMM kernels per layer (attention, norms, rotary,
residual adds, the gated activation, casts), ``t_aux`` the time floor of one, and ``q_act``
the bytes they move per token, layer and model dimension. All three are 0 at speed of light.

A :class:`Runtime` derives them from whole steps of one model on one device, timed in a CUDA
graph (``steps.csv``), and a per-kernel profile of the same steps (``step_kernels.csv``:
kernel name, GPU time and count per step, as torch.profiler reports them), never from a typed
number:

- ``n_aux``: the non-GEMM kernels of a decode step at batch 1 (attention included) per layer,
  rounded: the few kernels outside the layers (embedding gather, final norm, sampling) round
  away;
- ``t_aux``: what that step spends beyond its GEMM and attention kernels (the whole step
  timed in a CUDA graph, ``steps.csv``, less those kernels' time in the profile) over its
  non-GEMM, non-attention kernels: each kernel's floor and the gap between kernels that a
  graph replay still has. At batch 1 their tensors are a few kilobytes, so each runs at its
  floor;
- ``q_act``: the same in a prefill step, less the kernels' floors, at the device's
  calibrated bandwidth (eta_m beta of its profile), per token, layer and model dimension.

Attention's own work (its FLOPs and K/V bytes) is in the laws' roofline already; only its
launch is counted here, as one of the ``n_aux``.

A runtime whose kernels nobody has profiled is known only from its published whole requests:
a :class:`FittedRuntime` is fitted (:mod:`symsys.accuracy.runtime_fit`, shipped in
``registry/data/runtime_fits.json``) to the end-to-end rows marked ``fit`` for it in
``registry/data/measured/e2e/single_gpu.csv`` (one model, held out of every other use), for
the two numbers those requests determine: the time per layer and step beyond the
roofline (``t_aux`` with ``n_aux = 1``: the kernel count is unknown, only the product
``n_aux t_aux`` enters the law) and ``q_act``. The calibrated request time is linear in both
(the law adds ``n_aux L t_aux + q_act d L n_tok / (eta_m beta)`` to every step), so the fit is
a linear least squares in relative error, with both terms kept non-negative.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from symsys.errors import InvalidParameter
from symsys.registry.common import DATA

#: kernel-name fragments of the GEMM and attention kernels in a torch.profiler table
GEMM_NAMES = ("nvjet", "gemm", "gemv", "cutlass", "cublas")
ATTENTION_NAMES = ("sdpa", "flash", "fmha", "attention", "cudnn")


def kind(kernel: str) -> str:
    """'gemm', 'attention', 'memset' or 'other' for a kernel name of a profile."""
    name = kernel.lower()
    if any(fragment in name for fragment in GEMM_NAMES):
        return "gemm"
    if any(fragment in name for fragment in ATTENTION_NAMES):
        return "attention"
    if "memset" in name:
        return "memset"
    return "other"


@dataclass(frozen=True, eq=False)
class Runtime:
    """A serving runtime measured on one device: the source of its non-GEMM step terms."""

    key: str
    description: str
    device: str  # registry key of the device the profile was taken on
    model: str  # registry key of the profiled model
    kernels: Path  # step_kernels.csv: kernel time per name in each profiled step
    times: Path  # steps.csv: each whole step timed in a CUDA graph
    steps: dict  # precision -> (context of the batch-1 decode step, prefill tokens)
    source: str

    def measured_on(self, precision: str) -> str:
        """The registry key of the device the runtime was measured on at ``precision``."""
        return self.device

    def _totals(self, step: str) -> dict[str, tuple[float, int]]:
        """GPU time and count of each kind of kernel in the profiled step ``step``."""
        totals: dict[str, list] = {}
        for row in _read(self.kernels):
            if row["step"] == step:
                entry = totals.setdefault(kind(row["kernel"]), [0.0, 0])
                entry[0] += float(row["time_s"])
                entry[1] += int(row["count"])
        if not totals:
            raise InvalidParameter(f"runtime {self.key}: no kernels of step {step!r} in "
                                   f"{self.kernels.name}")
        return {k: (t, n) for k, (t, n) in totals.items()}

    def _step_time(self, precision: str, phase: str, batch: int, context: int) -> float:
        for row in _read(self.times):
            if (row["precision"], row["phase"], int(row["batch"]), int(row["context"])) == (
                    precision, phase, batch, context):
                return float(row["t_graph_s"])
        raise InvalidParameter(f"runtime {self.key}: no {precision} {phase} step at batch "
                               f"{batch}, context {context} in {self.times.name}")

    def _beyond_kernels(self, precision: str, phase: str, batch: int,
                        context: int) -> tuple[float, int]:
        """(time of a step beyond its GEMM and attention kernels, the count of its other
        kernels): the graph-timed step less the profile's GEMM and attention time. Profiled
        steps are labelled as the measurement script labels them."""
        label = (f"{precision} decode b{batch} s{context}" if phase == "decode"
                 else f"{precision} prefill s{context}")
        totals = self._totals(label)
        timed = sum(totals.get(k, (0.0, 0))[0] for k in ("gemm", "attention"))
        return (self._step_time(precision, phase, batch, context) - timed,
                totals["other"][1])

    def inputs(self, precision: str) -> dict[str, float]:
        """``{"n_aux", "t_aux", "q_act"}`` of this runtime at ``precision`` (SI units)."""
        if precision not in self.steps:
            raise InvalidParameter(
                f"runtime {self.key} was profiled at {', '.join(self.steps)}, not at "
                f"{precision!r}")
        return dict(_derived(self, precision))


@cache
def _derived(runtime: Runtime, precision: str) -> tuple:
    """The three terms, derived once per runtime and precision (registry data is frozen;
    the traffic is converted at the device's shipped profile, not one a user attaches)."""
    from symsys.calibration.profile import CalibrationProfile, shipped_path
    from symsys.registry.hardware import Hardware
    from symsys.registry.models import Models

    context, prompt = runtime.steps[precision]
    shape = Models[runtime.model].shape
    decode = runtime._totals(f"{precision} decode b1 s{context}")
    attention_count = decode.get("attention", (0.0, 0))[1]
    n_aux = round((decode["other"][1] + attention_count) / shape.layers)
    beyond, count = runtime._beyond_kernels(precision, "decode", 1, context)
    t_aux = beyond / count
    beyond, count = runtime._beyond_kernels(precision, "prefill", 1, prompt)
    profile = CalibrationProfile.load(shipped_path(runtime.device, precision, "roofline"))
    bandwidth = profile.eta_m * Hardware[runtime.device].memory.bandwidth.m_as("B/s")
    q_act = (beyond - count * t_aux) * bandwidth / (prompt * shape.layers * shape.d_model)
    return (("n_aux", float(n_aux)), ("t_aux", t_aux), ("q_act", q_act))


@dataclass(frozen=True, eq=False)
class FittedRuntime:
    """A serving runtime known from published whole requests: its terms are fitted to the
    end-to-end rows marked ``use = fit`` with ``runtime = key`` (see the module notes) by
    :mod:`symsys.accuracy.runtime_fit` (it solves requests, a layer above this one) and
    shipped in ``registry/data/runtime_fits.json``; a test refits them."""

    key: str
    description: str
    source: str

    @property
    def _fit(self) -> dict:
        fits = _shipped_fits()
        if self.key not in fits:
            raise InvalidParameter(f"runtime {self.key}: no fit in {FITS.name} (run "
                                   "tools/build_calibration_data.py)")
        return fits[self.key]

    @property
    def steps(self) -> dict:
        """precision -> the fit rows' device (the precisions this runtime is known at)."""
        return {p: fit["device"] for p, fit in self._fit.items()}

    def measured_on(self, precision: str) -> str:
        """The registry key of the device the fit rows were measured on at ``precision``."""
        return self.steps[precision]

    @property
    def model(self) -> str:
        return ", ".join(sorted({fit["model"] for fit in self._fit.values()}))

    def inputs(self, precision: str) -> dict[str, float]:
        """``{"n_aux", "t_aux", "q_act"}`` of this runtime at ``precision`` (SI units)."""
        if precision not in self.steps:
            raise InvalidParameter(
                f"runtime {self.key} was fitted at {', '.join(self.steps)}, not at "
                f"{precision!r}")
        return {k: float(self._fit[precision][k]) for k in ("n_aux", "t_aux", "q_act")}


#: the fitted runtimes' terms, written by tools/build_calibration_data.py
FITS = DATA / "runtime_fits.json"


@cache
def _shipped_fits() -> dict:
    return json.loads(FITS.read_text())


@cache
def _read(path: Path) -> tuple[dict, ...]:
    with path.open(newline="") as handle:
        return tuple(csv.DictReader(handle))


_H200 = DATA / "measured" / "h200"

#: the runtimes measured so far, by key
RUNTIMES = {
    "torch_eager": Runtime(
        key="torch_eager",
        description=("PyTorch 2.11 eager kernels replayed in a CUDA graph: one RMSNorm kernel, "
                     "fused QKV and gate-up GEMMs, SDPA attention with GQA, rotary in "
                     "elementwise kernels, unfused SiLU-and-mul and residual adds "
                     "(benchmarks/device/hopper_measure.py's reference decoder)"),
        device="H200", model="Llama3_8B", kernels=_H200 / "step_kernels.csv",
        times=_H200 / "steps.csv",
        steps={"bf16": (2048, 2048), "fp8": (2048, 2048)},
        source=("torch.profiler over one eager step of a Llama-3-8B-shaped model on an H200, "
                "2026-11-28 (registry/data/measured/h200/README.md)"),
    ),
    "tensorrt_llm_v0.5": FittedRuntime(
        key="tensorrt_llm_v0.5",
        description=("TensorRT-LLM v0.5 engines (gptSessionBenchmark, static batch, context "
                     "FMHA and the GPT attention plugin), fitted to its published first-token "
                     "latencies of GPT-J 6B on A100 (fp16) and H100 (fp8)"),
        source=("NVIDIA/TensorRT-LLM docs/source/performance.md at 138f96d, Low Latency "
                "tables (registry/data/measured/e2e/README.md)"),
    ),
    "tensorrt_llm_v0.6.1": FittedRuntime(
        key="tensorrt_llm_v0.6.1",
        description=("TensorRT-LLM v0.6.1 engines (gptSessionBenchmark, static batch), fitted "
                     "to its published peak throughputs of GPT-J 6B at one GPU on A100 (fp16) "
                     "and H100 (fp8)"),
        source=("NVIDIA/TensorRT-LLM docs/source/performance.md at 138f96d, Peak Throughput "
                "tables (registry/data/measured/e2e/README.md)"),
    ),
}


def runtime_inputs(runtime, precision: str) -> dict[str, float]:
    """The step laws' ``n_aux``, ``t_aux``, ``q_act`` for ``runtime`` (a key of
    :data:`RUNTIMES`, or a dict of the three numbers in SI units) at ``precision``; None
    gives zeros (the speed of light: every non-GEMM cost fused away)."""
    if runtime is None:
        return {"n_aux": 0.0, "t_aux": 0.0, "q_act": 0.0}
    if isinstance(runtime, dict):
        unknown = sorted(set(runtime) - {"n_aux", "t_aux", "q_act"})
        if unknown:
            raise InvalidParameter(f"runtime: unknown key(s) {', '.join(unknown)}; give "
                                   "n_aux, t_aux (s) and q_act (B)")
        values = {"n_aux": 0.0, "t_aux": 0.0, "q_act": 0.0, **runtime}
        for name, value in values.items():
            if not isinstance(value, (int, float)) or not value >= 0:
                raise InvalidParameter(f"runtime {name}={value!r}: expected a number >= 0")
        return {k: float(v) for k, v in values.items()}
    if runtime not in RUNTIMES:
        raise InvalidParameter(f"runtime={runtime!r}: known runtimes are "
                               f"{', '.join(RUNTIMES)}, or give a dict of n_aux, t_aux, q_act")
    return RUNTIMES[runtime].inputs(precision)
