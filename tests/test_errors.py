"""The error model: every user mistake is a SymsysError whose one-line message names the
parameter, the bad value and what would be valid; no NaN or inf ever leaves a solver; an
infeasible configuration is reported (feasible=False with the reason), raised only on request.

Each parametrized case is one bad input at one API boundary (Engine.solve, SingleNodeModel,
ServingModel, sweep, SensitivitySolver, SynthesisSolver, WeightStreamingModel,
symsys.evaluate, the registries, Shape, derive). The hypothesis tests at the end throw
arbitrary values at the same boundaries.
"""

import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symsys
from symsys import (
    Engine,
    SensitivitySolver,
    ServingModel,
    SingleNodeModel,
    SynthesisSolver,
    WeightStreamingModel,
    Workload,
)
from symsys.errors import (
    InfeasibleConfiguration,
    InvalidParameter,
    SymsysError,
    UnitError,
    UnknownHardware,
    UnknownModel,
    UnsupportedPrecision,
)
from symsys.registry import Hardware, Models
from symsys.registry.models import Shape

Q_ = symsys.Q_

#: SYMSYS_FUZZ_SCALE=10 multiplies every example count below (a deeper run than CI's)
SCALE = int(os.environ.get("SYMSYS_FUZZ_SCALE", "1"))


def examples(n: int, *checks: HealthCheck):
    """Settings for one fuzz or property: ``n`` examples (times SCALE), no deadline."""
    return settings(max_examples=n * SCALE, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           *checks])


M, H = "Llama3_8B", "H100"
NAN, INF = float("nan"), float("inf")


def _solve(**kw):
    return lambda: Engine.solve(M, H, **kw)


def _case(name, call, error, *needles):
    return pytest.param(call, error, needles, id=name)


# --- Engine.solve: counts ------------------------------------------------------------------------
_COUNTS = [  # (value, error, text the message must contain besides the parameter name)
    (0, InvalidParameter, ">= 1"), (-1, InvalidParameter, ">= 1"),
    (1.5, InvalidParameter, "whole number"), (NAN, InvalidParameter, "NaN"),
    (INF, InvalidParameter, "NaN or inf"), (-INF, InvalidParameter, "NaN or inf"),
    ("8", InvalidParameter, "expected an integer"), (True, InvalidParameter, "integer"),
    (None, InvalidParameter, "integer"), ([1, 2], InvalidParameter, "symsys.sweep"),
    (np.array([1, 2]), InvalidParameter, "symsys.sweep"), ([1], InvalidParameter, "sweep"),
    (2**60, InvalidParameter, "2**53"), (2**100, InvalidParameter, "2**53"),
    (1e300, InvalidParameter, "2**53"), (Q_(4, "s"), UnitError, "plain number"),
    ({}, InvalidParameter, "integer"), (1 + 1j, InvalidParameter, "integer"),
    (b"8", InvalidParameter, "integer"), (np.float64(NAN), InvalidParameter, "NaN"),
]
_SEQS = [  # seq_len=0 (no cached context) and None (the default) are valid for decode
    (-1, InvalidParameter, ">= 0"), (1.5, InvalidParameter, "whole number"),
    (NAN, InvalidParameter, "NaN"), (INF, InvalidParameter, "inf"),
    ("8", InvalidParameter, "integer"), (True, InvalidParameter, "integer"),
    ([1], InvalidParameter, "symsys.sweep"), (np.array([0, 8]), InvalidParameter, "sweep"),
    (2**60, InvalidParameter, "2**53"), (1e300, InvalidParameter, "2**53"),
    (Q_(4, "s"), UnitError, "plain number"), ({}, InvalidParameter, "integer"),
]
ENGINE_COUNTS = [
    _case(f"batch_size={v!r}"[:40], _solve(batch_size=v), e, "batch_size", t)
    for v, e, t in _COUNTS
] + [
    _case(f"seq_len={v!r}"[:40], _solve(seq_len=v), e, "seq_len", t) for v, e, t in _SEQS
] + [
    _case("prefill without seq_len", _solve(phase="prefill"), InvalidParameter,
          "seq_len", "prompt length"),
    _case("prefill seq_len=0", _solve(phase="prefill", seq_len=0), InvalidParameter,
          "seq_len=0", ">= 1"),
]

# --- Engine.solve: efficiencies, quantities, names ---------------------------------------------
_EFFICIENCIES = [0, -0.1, 1.1, NAN, INF, "0.5", True, (0.5,), (0.5, 2), {"compute": 0},
                 {"memory": 1.5}, {"x": 1}, np.array([0.5, 0.6]), Q_(0.5, "s"), [0.5, NAN]]
ENGINE_OPTIONS = [
    _case(f"efficiency={v!r}"[:40], _solve(efficiency=v), InvalidParameter, "efficiency")
    for v in _EFFICIENCIES
] + [
    _case("efficiency=0 says (0, 1]", _solve(efficiency=0), InvalidParameter, "(0, 1]"),
    _case("efficiency=1.1 says (0, 1]", _solve(efficiency=1.1), InvalidParameter, "(0, 1]"),
    _case("overhead<0", _solve(overhead=Q_(-1, "ms")), InvalidParameter, "overhead", ">= 0"),
    _case("overhead in GB", _solve(overhead=Q_(1, "GB")), UnitError, "overhead", "s"),
    _case("overhead bare", _solve(overhead=1.0), UnitError, "overhead", "Q_(1.0, 's')"),
    _case("overhead str", _solve(overhead="1 ms"), UnitError, "overhead", "Q_('1 ms')"),
    _case("overhead NaN", _solve(overhead=Q_(NAN, "s")), InvalidParameter, "overhead", "NaN"),
    _case("overhead inf", _solve(overhead=Q_(INF, "s")), InvalidParameter, "overhead", "inf"),
    _case("overhead array", _solve(overhead=Q_(np.array([1.0, 2.0]), "ms")),
          InvalidParameter, "overhead", "one value"),
    _case("overhead huge int", _solve(overhead=Q_(10**400, "ms")), InvalidParameter,
          "overhead", "float"),
    _case("workspace<0", _solve(workspace=Q_(-1, "GB")), InvalidParameter, "workspace",
          ">= 0"),
    _case("workspace in s", _solve(workspace=Q_(1, "s")), UnitError, "workspace", "B"),
    _case("workspace bare", _solve(workspace=3), UnitError, "workspace", "Q_(3, 'B')"),
    _case("workspace inf", _solve(workspace=Q_(INF, "GB")), InvalidParameter, "workspace"),
    _case("precision fp17", _solve(precision="fp17"), UnsupportedPrecision,
          "precision='fp17'", "fp16", "Did you mean"),
    _case("precision fp17", _solve(precision="fp17"), UnsupportedPrecision,
          "'fp17'", "Did you mean 'fp16'"),
    _case("precision None", _solve(precision=None), UnsupportedPrecision, "precision=None",
          "bf16"),
    _case("precision 16", _solve(precision=16), UnsupportedPrecision, "precision=16"),
    _case("precision list", _solve(precision=["fp16"]), UnsupportedPrecision, "precision"),
    _case("precision empty", _solve(precision=""), UnsupportedPrecision, "precision=''"),
    _case("weight_precision x", _solve(weight_precision="x"), UnsupportedPrecision,
          "weight_precision='x'", "int4"),
    _case("weight_precision empty", _solve(weight_precision=""), UnsupportedPrecision,
          "weight_precision=''"),
    _case("kv_precision int3", _solve(kv_precision="int3"), UnsupportedPrecision,
          "kv_precision='int3'", "Did you mean"),
    _case("device lacks int4", _solve(precision="int4"), UnsupportedPrecision, "H100",
          "int4", "fp8"),
    _case("TPU has no fp16", lambda: Engine.solve(M, "TPUv5e", precision="fp16"),
          UnsupportedPrecision,
          "TPUv5e", "fp16", "bf16"),
    _case("model typo", lambda: Engine.solve("Llama3_8", H), UnknownModel, "'Llama3_8'",
          "Did you mean", "Llama3_8B"),
    _case("model empty", lambda: Engine.solve("", H), UnknownModel, "''", "symsys zoo"),
    _case("model None", lambda: Engine.solve(None, H), InvalidParameter, "model=None",
          "registry model"),
    _case("model int", lambda: Engine.solve(3, H), InvalidParameter, "model=3"),
    _case("model quantity", lambda: Engine.solve(Q_(1, "s"), H), InvalidParameter, "model="),
    _case("hardware typo", lambda: Engine.solve(M, "H10"), UnknownHardware, "'H10'",
          "Did you mean", "H100"),
    _case("hardware empty", lambda: Engine.solve(M, ""), UnknownHardware, "''"),
    _case("hardware None", lambda: Engine.solve(M, None), InvalidParameter, "hardware=None"),
    _case("hardware int", lambda: Engine.solve(M, 100), InvalidParameter, "hardware=100"),
    _case("phase Decode", _solve(phase="Decode"), InvalidParameter, "phase='Decode'",
          "'decode', 'prefill'"),
    _case("phase train", _solve(phase="train"), InvalidParameter, "phase='train'"),
    _case("phase None", _solve(phase=None), InvalidParameter, "phase=None"),
    _case("fixed workload prefill", lambda: Engine.solve("ResNet50", H, phase="prefill",
                                                         seq_len=5),
          InvalidParameter, "ResNet50", "transformers only"),
    _case("fixed workload seq_len", lambda: Engine.solve("ResNet50", H, seq_len=5),
          InvalidParameter, "seq_len", "transformers only"),
    _case("workload moves no bytes", lambda: Engine.solve(Workload("w", Q_(1, "GFLOP")), H),
          InvalidParameter, "'w'", "bytes_per_sample", "weight_bytes"),
    _case("workload bare flops", lambda: Engine.solve(Workload("w", 1e9, Q_(1, "MB")), H),
          UnitError, "flops_per_sample", "FLOP"),
    _case("workload flops in bytes", lambda: Engine.solve(
        Workload("w", Q_(1, "GB"), Q_(1, "MB")), H), UnitError, "flops_per_sample"),
    _case("workload negative bytes", lambda: Engine.solve(
        Workload("w", Q_(1, "GFLOP"), Q_(-1, "MB")), H), InvalidParameter,
        "bytes_per_sample", ">= 0"),
    _case("workload overflows", lambda: Engine.solve(
        Workload("w", Q_(1e308, "FLOP"), Q_(1, "B")), H, batch_size=10),
        InvalidParameter, "batch_size=10", "inf or NaN"),
    _case("raise_if_infeasible", lambda: Engine.solve("Llama3_1_405B", H,
                                                      raise_if_infeasible=True),
          InfeasibleConfiguration, "Llama3_1_405B", "H100", "80 GiB", "GB"),
    _case("SingleNodeModel batch", lambda: SingleNodeModel().solve(M, H, batch_size=0),
          InvalidParameter, "batch_size=0"),
    _case("SingleNodeModel efficiency", lambda: SingleNodeModel().solve(M, H, efficiency=2),
          InvalidParameter, "efficiency=2", "(0, 1]"),
    _case("SingleNodeModel infeasible", lambda: SingleNodeModel().solve(
        "GPT3", "A100", raise_if_infeasible=True), InfeasibleConfiguration, "GPT3", "A100"),
]

# --- ServingModel ------------------------------------------------------------------------------
SERVING = [
    _case(f"serve {name}={v!r}"[:40],
          (lambda name=name, v=v: ServingModel().solve(M, H, **{"prompt_len": 16,
                                                                 "output_len": 8, name: v})),
          e, name, t)
    for name in ("prompt_len", "output_len")
    for v, e, t in _COUNTS if v is not None and not isinstance(v, dict)
] + [
    _case("serve batch 0", lambda: ServingModel().solve(M, H, prompt_len=8, output_len=8, batch_size=0),
          InvalidParameter, "batch_size=0"),
    _case("serve precision", lambda: ServingModel().solve(M, H, prompt_len=8, output_len=8, precision="fp13"),
          UnsupportedPrecision, "fp13"),
    _case("serve fixed workload", lambda: ServingModel().solve("ResNet50", H, prompt_len=8, output_len=8),
          InvalidParameter, "ResNet50"),
]

# --- sweep ----------------------------------------------------------------------------------------
def _sweep(**kw):
    return lambda: symsys.sweep(**{"model": M, "hardware": H, **kw})


SWEEP = [
    _case("sweep batch 0", _sweep(batch_size=0), InvalidParameter, "batch_size=0", ">= 1"),
    _case("sweep batch [1, 0]", _sweep(batch_size=[1, 0]), InvalidParameter, "batch_size"),
    _case("sweep batch [1.5]", _sweep(batch_size=[1.5]), InvalidParameter, "whole"),
    _case("sweep batch []", _sweep(batch_size=[]), InvalidParameter, "batch_size", "empty"),
    _case("sweep batch 2-D", _sweep(batch_size=np.ones((2, 2), int)), InvalidParameter,
          "batch_size", "1-D"),
    _case("sweep batch [nan]", _sweep(batch_size=[NAN]), InvalidParameter, "NaN"),
    _case("sweep batch [inf]", _sweep(batch_size=[INF]), InvalidParameter, "inf"),
    _case("sweep batch '8'", _sweep(batch_size="8"), InvalidParameter, "integer"),
    _case("sweep batch ['8']", _sweep(batch_size=["8"]), InvalidParameter, "integer"),
    _case("sweep batch [True]", _sweep(batch_size=[True, False]), InvalidParameter,
          "integer"),
    _case("sweep batch 1e300", _sweep(batch_size=[1e300]), InvalidParameter, "2**53"),
    _case("sweep batch quantity", _sweep(batch_size=Q_(3, "s")), UnitError, "batch_size"),
    _case("sweep seq [-1]", _sweep(seq_len=[-1]), InvalidParameter, "seq_len", ">= 0"),
    _case("sweep seq [nan]", _sweep(seq_len=[NAN]), InvalidParameter, "seq_len", "NaN"),
    _case("sweep seq ['a']", _sweep(seq_len=["a"]), InvalidParameter, "seq_len"),
    _case("sweep seq 2**60", _sweep(seq_len=[2**60]), InvalidParameter, "seq_len", "2**53"),
    _case("sweep prefill no seq", _sweep(phase="prefill"), InvalidParameter, "seq_len"),
    _case("sweep prefill seq 0", _sweep(phase="prefill", seq_len=[0, 8]), InvalidParameter,
          "seq_len", "at least 1"),
    _case("sweep precision", _sweep(precision=["fp17"]), UnsupportedPrecision, "fp17",
          "Did you mean"),
    _case("sweep no device has it", _sweep(precision="int4"), UnsupportedPrecision,
          "H100 has no int4"),
    _case("sweep models []", _sweep(model=[]), InvalidParameter, "empty"),
    _case("sweep hardware []", _sweep(hardware=[]), InvalidParameter, "empty"),
    _case("sweep precision []", _sweep(precision=[]), InvalidParameter, "empty"),
    _case("sweep unknown model", _sweep(model=["Llama3_8B", "Lama3_70B"]), UnknownModel,
          "Lama3_70B", "Did you mean"),
    _case("sweep unknown device", _sweep(hardware=["H100", "B2000"]), UnknownHardware,
          "B2000"),
    _case("sweep phase", _sweep(phase=["train"]), InvalidParameter, "phase='train'"),
    _case("sweep efficiency", _sweep(efficiency=2), InvalidParameter, "efficiency=2"),
    _case("sweep fixed workload prefill", _sweep(model="ResNet50", phase="prefill",
                                                 seq_len=[5]),
          InvalidParameter, "ResNet50", "transformers only"),
]

# --- SensitivitySolver ----------------------------------------------------------------------------
def _sens(**kw):
    return lambda: SensitivitySolver().solve(**{"model": M, "hardware": H, **kw})


SENSITIVITY = [
    _case("sens output", _sens(output="lat"), InvalidParameter, "output='lat'", "latency"),
    _case("sens batch", _sens(batch_size=-2), InvalidParameter, "batch_size=-2"),
    _case("sens efficiency", _sens(efficiency=NAN), InvalidParameter, "efficiency", "NaN"),
    _case("sens lever", _sens(uncertainty={"bandwidth": 0.1}), InvalidParameter,
          "'bandwidth'", "memory_bandwidth"),
    _case("sens sigma 2", _sens(uncertainty={"memory_bandwidth": 2}), InvalidParameter,
          "memory_bandwidth", "[0, 1)"),
    _case("sens sigma nan", _sens(uncertainty={"memory_bandwidth": NAN}), InvalidParameter,
          "nan"),
    _case("sens sigma str", _sens(uncertainty={"memory_bandwidth": "0.1"}), InvalidParameter,
          "'0.1'"),
    _case("sens sigma bool", _sens(uncertainty={"memory_bandwidth": True}), InvalidParameter,
          "True"),
    _case("sens uncertainty list", _sens(uncertainty=[0.1]), InvalidParameter,
          "uncertainty=[0.1]", "mapping"),
    _case("sens crossover MoE", _sens(model="Mixtral_8x7B", output="crossover_batch"),
          InvalidParameter, "MoE"),
    _case("sens crossover never", _sens(output="crossover_batch", seq_len=4096),
          InvalidParameter, "no positive b", "b = -"),
    _case("sens output typo", _sens(output="latncy"), InvalidParameter, "latncy",
          "Did you mean 'latency'"),
]

# --- SynthesisSolver ----------------------------------------------------------------------------
def _synth(target=None, **kw):
    target = Q_(3, "ms") if target is None else target
    return lambda: SynthesisSolver().solve(**{"model": M, "hardware": H, "target": target,
                                              **kw})


SYNTHESIS = [
    _case("synth lever", _synth(lever="bandwidth"), InvalidParameter, "lever='bandwidth'",
          "memory_bandwidth"),
    _case("synth lever typo", _synth(lever="memory_bandwith"), InvalidParameter,
          "memory_bandwith", "Did you mean 'memory_bandwidth'"),
    _case("synth target<0", _synth(Q_(-1, "ms")), InvalidParameter, "target", "positive"),
    _case("synth target 0", _synth(Q_(0, "ms")), InvalidParameter, "positive"),
    _case("synth target nan", _synth(Q_(NAN, "ms")), InvalidParameter, "finite"),
    _case("synth target inf", _synth(Q_(INF, "ms")), InvalidParameter, "finite"),
    _case("synth target bare", _synth(3.0), InvalidParameter, "target=3.0", "latency"),
    _case("synth target str", _synth("3 parsecs"), InvalidParameter, "3 pc", "[length]"),
    _case("synth target GB", _synth(Q_(1, "GB")), InvalidParameter, "1 GB", "throughput"),
    _case("synth target array", _synth(Q_(np.array([1.0, 2.0]), "ms")), InvalidParameter,
          "one number"),
    _case("synth target huge", _synth(Q_(10**400, "ms")), InvalidParameter, "float"),
    _case("synth MoE batch", _synth(model="Mixtral_8x7B", lever="batch_size"),
          InvalidParameter, "MoE"),
    _case("synth batch 0", _synth(batch_size=0), InvalidParameter, "batch_size=0"),
    _case("synth precision", _synth(precision="fp9"), UnsupportedPrecision, "fp9"),
]

# --- weight streaming -----------------------------------------------------------------------------
STREAMING = [
    _case("stream no seq_len", lambda: WeightStreamingModel().solve("GPT3", "CS3"),
          InvalidParameter, "seq_len"),
    _case("stream device without store", lambda: WeightStreamingModel().solve(
        "GPT3", H, seq_len=8), InvalidParameter, "H100", "Cerebras_CS3"),
    _case("stream seq<0", lambda: WeightStreamingModel().solve("GPT3", "CS3", seq_len=-5),
          InvalidParameter, "seq_len=-5"),
    _case("stream batch list", lambda: WeightStreamingModel().solve(
        "GPT3", "CS3", seq_len=8, batch_size=[1, 2]), InvalidParameter, "batch_size"),
    _case("stream overlap", lambda: WeightStreamingModel().solve(
        "GPT3", "CS3", seq_len=8, overlap="yes"), InvalidParameter, "overlap='yes'"),
    _case("stream CNN", lambda: WeightStreamingModel().solve("ResNet50", "CS3", seq_len=8),
          InvalidParameter, "ResNet50", "transformer"),
]

# --- symsys.evaluate ----------------------------------------------------------------------------
ROOF = dict(Pi=Q_(1, "TFLOP/s"), beta=Q_(1, "TB/s"), F=Q_(1, "GFLOP"), Q=Q_(1, "GB"))


def _eval(law="roofline", **kw):
    return lambda: symsys.evaluate(law, **{**ROOF, **kw})


EVALUATE = [
    _case("eval Pi<0", _eval(Pi=Q_(-1, "TFLOP/s")), InvalidParameter, "Pi=-1 TFLOP/s",
          ">= 0"),
    _case("eval Pi=0", _eval(Pi=Q_(0, "TFLOP/s")), InvalidParameter, "Pi = 0", "divides"),
    _case("eval Q=0", _eval(Q=Q_(0, "GB")), InvalidParameter, "Q = 0", "I would be inf"),
    _case("eval beta=0", _eval(beta=Q_(0, "TB/s")), InvalidParameter, "beta = 0"),
    _case("eval nan", _eval(Pi=Q_(NAN, "TFLOP/s")), InvalidParameter, "Pi=nan", "NaN"),
    _case("eval inf", _eval(F=Q_(INF, "FLOP")), InvalidParameter, "F=inf", "finite"),
    _case("eval bare", _eval(Pi=1e12), UnitError, "Pi", "bare number", "FLOP/s"),
    _case("eval wrong unit", _eval(Pi=Q_(1, "TB/s")), UnitError, "Pi", "FLOP/s"),
    _case("eval FLOP vs B", _eval(F=Q_(1, "GB")), UnitError, "F", "[flop]"),
    _case("eval string", _eval(F="1 GFLOP"), UnitError, "F", "string", "Q_('1 GFLOP')"),
    _case("eval eta 0", _eval(eta_c=0), InvalidParameter, "eta_c=0", "(0, 1]"),
    _case("eval eta 2", _eval(eta_m=2.0), InvalidParameter, "eta_m=2.0", "(0, 1]"),
    _case("eval eta str", _eval(eta_c="0.5"), InvalidParameter, "eta_c='0.5'", "number"),
    _case("eval eta nan", _eval(eta_c=NAN), InvalidParameter, "eta_c=nan"),
    _case("eval t_o<0", _eval(t_o=Q_(-1, "s")), InvalidParameter, "t_o=-1 s", ">= 0"),
    _case("eval array element", _eval(F=Q_(np.array([1.0, -1.0]), "GFLOP")),
          InvalidParameter, "F[1]=-1000000000.0", "of 2 values"),
    _case("eval array nan", _eval(Q=Q_(np.array([1.0, NAN]), "GB")), InvalidParameter,
          "Q[1]=nan"),
    _case("eval unknown input", _eval(bogus=1), InvalidParameter, "no input 'bogus'", "Pi"),
    _case("eval typo input", _eval(eta_cc=0.5), InvalidParameter, "'eta_cc'",
          "Did you mean 'eta_c'"),
    _case("eval missing input", lambda: symsys.evaluate("roofline", Pi=Q_(1, "TFLOP/s")),
          InvalidParameter, "missing input", "in B"),
    _case("eval unknown law", lambda: symsys.evaluate("rooflin"), InvalidParameter,
          "'rooflin'", "Did you mean 'roofline'"),
    _case("eval law None", lambda: symsys.evaluate(None), InvalidParameter, "law=None",
          "roofline"),
    _case("eval law int", lambda: symsys.evaluate(3), InvalidParameter, "law=3"),
    _case("eval unknown output", lambda: symsys.evaluate("roofline", ["Tx"], **ROOF),
          InvalidParameter, "'Tx'", "Did you mean 'T'"),
    _case("eval non-integer count", lambda: symsys.evaluate(
        "attention_gqa", d=4096.5, h=32, h_kv=8, d_h=128, z_qkv=0, z_lin=0),
        InvalidParameter, "d=4096.5", "whole number"),
    _case("eval overflow", lambda: symsys.evaluate(
        "roofline", Pi=Q_(1e-300, "FLOP/s"), beta=Q_(1, "B/s"), F=Q_(1e300, "FLOP"),
        Q=Q_(1, "B")), InvalidParameter, "inf or NaN", "physical range"),
]

# --- registries, shapes, calculus ---------------------------------------------------------------
_SHAPE = dict(layers=2, d_model=64, heads=4, kv_heads=2, head_dim=16, d_ff=128, vocab=100)


def _shape(**kw):
    return lambda: Shape(**{**_SHAPE, **kw})


REGISTRY = [
    _case("Models[typo]", lambda: Models["llama-3-8c"], UnknownModel, "unknown model",
          "Did you mean"),
    _case("Hardware[typo]", lambda: Hardware["h1000"], UnknownHardware, "unknown hardware",
          "'h1000'"),
    _case("Models.list group", lambda: Models.list("Audio"), UnknownModel, "'Audio'",
          "Language"),
    _case("ridge_point fp17", lambda: Hardware.H100.ridge_point("fp17"),
          UnsupportedPrecision, "fp17"),
    _case("ridge_point int4", lambda: Hardware.H100.ridge_point("int4"),
          UnsupportedPrecision, "H100", "int4", "fp8"),
    _case("kv_bytes fp3", lambda: Models.Llama3_8B.kv_bytes_per_token("fp3"),
          UnsupportedPrecision, "fp3"),
    _case("shape layers 0", _shape(layers=0), InvalidParameter, "shape.layers = 0",
          "positive integer"),
    _case("shape float d", _shape(d_model=64.0), InvalidParameter, "shape.d_model = 64.0"),
    _case("shape bool heads", _shape(heads=True), InvalidParameter, "shape.heads = True"),
    _case("shape huge", _shape(vocab=2**60), InvalidParameter, "shape.vocab", "2**53"),
    _case("shape kv", _shape(kv_heads=3), InvalidParameter, "kv_heads = 3", "divide"),
    _case("shape experts", _shape(experts=2, active_experts=3, expert_d_ff=8),
          InvalidParameter, "active_experts = 3", "experts = 2"),
    _case("shape moe d_ff", _shape(experts=4, active_experts=2), InvalidParameter,
          "expert_d_ff"),
    _case("shape norm", _shape(norm="batchnorm"), InvalidParameter, "norm", "rmsnorm"),
    _case("shape norm list", _shape(norm=["rmsnorm"]), InvalidParameter, "norm"),
    _case("shape bias 1", _shape(bias=1), InvalidParameter, "bias = 1", "'qkv'"),
    _case("shape position", _shape(position="sinusoid"), InvalidParameter, "position"),
    _case("shape learned no rows", _shape(position="learned"), InvalidParameter,
          "max_positions"),
    _case("shape dense_layers", _shape(dense_layers=5), InvalidParameter, "dense_layers",
          "layers = 2"),
    _case("shape dense_layers str", _shape(dense_layers="1"), InvalidParameter,
          "dense_layers"),
    _case("shape gated", _shape(gated_mlp="yes"), InvalidParameter, "gated_mlp", "true"),
    _case("shape MLA partial", _shape(kv_lora_rank=8), InvalidParameter, "kv_lora_rank"),
    _case("shape max_positions<0", _shape(max_positions=-1), InvalidParameter,
          "max_positions = -1"),
    _case("law name", lambda: symsys.laws.get("rofline"), InvalidParameter, "'rofline'",
          "Did you mean 'roofline'"),
    _case("derive side", lambda: symsys.derive.diff(symsys.symbols.T, symsys.symbols.F,
                                                    side="up"),
          InvalidParameter, "side='up'", "left"),
]

ALL_CASES = (ENGINE_COUNTS + ENGINE_OPTIONS + SERVING + SWEEP + SENSITIVITY + SYNTHESIS
             + STREAMING + EVALUATE + REGISTRY)


@pytest.mark.parametrize("call, error, needles", ALL_CASES)
def test_bad_input_is_one_clear_symsys_error(call, error, needles):
    with pytest.raises(error) as info:
        call()
    exc = info.value
    assert isinstance(exc, SymsysError), type(exc)
    message = str(exc)
    assert message and "\n" not in message, message
    assert "Traceback" not in message and "object at 0x" not in message, message
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"


def test_every_error_class_is_raised_by_some_case():
    raised = {case.values[1] for case in ALL_CASES}
    assert {InvalidParameter, UnitError, UnknownModel, UnknownHardware, UnsupportedPrecision,
            InfeasibleConfiguration} <= raised


def test_attribute_typos_suggest_close_matches():
    with pytest.raises(AttributeError, match="Did you mean 'Llama3_8B'"):
        _ = Models.Llama3_8
    with pytest.raises(AttributeError, match="Did you mean 'H100'"):
        _ = Hardware.Cloud.H10


# --- infeasible configurations: reported, raised only on request ------------------------------
def test_infeasible_is_reported_with_the_reason_not_raised():
    r = Engine.solve("Llama3_1_405B", H)
    assert r.feasible is False
    assert "needs 811.7 GB" in r.reason and "H100 has 80 GiB" in r.reason
    assert math.isfinite(r.latency.m_as("s"))  # the roofline answer is still given
    assert "INFEASIBLE" in repr(r)
    serve = ServingModel().solve("Llama3_1_405B", H, prompt_len=16, output_len=4)
    assert serve.feasible is False and "H100" in serve.reason
    swept = symsys.sweep(["Llama3_8B", "Llama3_1_405B"], H, batch_size=[1, 2])
    assert list(swept.feasible) == [True, True, False, False]
    sens = SensitivitySolver().solve("Llama3_1_405B", H)
    assert sens.feasible is False and sens.binding_constraint == "memory_capacity"
    assert Engine.solve(M, H, raise_if_infeasible=True).feasible


def test_streaming_infeasible_raises_only_on_request():
    r = WeightStreamingModel().solve("GPT3", "CS3", seq_len=2048, batch_size=10**6)
    assert r.feasible is False and r.reason
    with pytest.raises(InfeasibleConfiguration):
        WeightStreamingModel().solve("GPT3", "CS3", seq_len=2048, batch_size=10**6,
                                     raise_if_infeasible=True)


# --- no NaN or inf out of any solver, over the whole registry ------------------------------------
def _finite_result(r) -> bool:
    return all(math.isfinite(v) for v in r.raw.values())


def _devices():
    return [hw for hw in Hardware if "fp16" in hw.compute.peak_dense
            or "bf16" in hw.compute.peak_dense]


def _precision(hw):
    return "fp16" if "fp16" in hw.compute.peak_dense else "bf16"


def test_every_registry_model_on_every_device_is_finite():
    checked = 0
    for model in Models:
        for hw in _devices():
            for batch, seq in ((1, None), (64, 4096), (2**40, 2**20)):
                r = Engine.solve(model, hw, batch_size=batch, precision=_precision(hw),
                                 seq_len=seq if hasattr(model, "shape") else None)
                assert _finite_result(r), (model.key, hw.key, batch, seq)
                assert math.isfinite(r.throughput.magnitude) and r.mfu <= 1 + 1e-12
                checked += 1
    assert checked > 1000


def test_sweep_over_the_registry_is_finite():
    models = [m.key for m in Models if hasattr(m, "shape")]
    for phase, seqs in (("decode", [0, 1, 8192]), ("prefill", [1, 8192])):
        r = symsys.sweep(models, [hw.key for hw in _devices()], batch_size=[1, 256, 2**30],
                         seq_len=seqs, precision=["fp16", "bf16"], phase=phase)
        for name in ("latency", "throughput", "memory_footprint", "flops", "bytes"):
            assert np.all(np.isfinite(r[name].magnitude)), name


@pytest.mark.parametrize("output", ["latency", "throughput", "crossover_batch"])
def test_sensitivities_over_the_registry_are_finite(output):
    for model in ("Llama3_8B", "Mixtral_8x7B", "DeepSeek_V3", "GPT2", "ResNet50"):
        if output == "crossover_batch" and model in ("Mixtral_8x7B", "DeepSeek_V3",
                                                     "ResNet50"):
            continue
        for hw in ("A100", "H100", "B200", "MI300X"):
            r = SensitivitySolver().solve(model, hw, output=output,
                                          uncertainty={"memory_bandwidth": 0.05})
            values = [r.value, r.relative_uncertainty] + [abs(v) for v in
                                                           r.sensitivities.values()]
            assert all(math.isfinite(v) for v in values), (model, hw, output)


# --- hypothesis: arbitrary values at the boundaries -------------------------------------------
JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-2**70, 2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=6),
    st.lists(st.integers(-3, 3), max_size=3), st.dictionaries(st.text(max_size=3),
                                                               st.floats(), max_size=2),
    st.sampled_from([Q_(1, "s"), Q_(-1, "ms"), Q_(2, "GB"), Q_(NAN, "s"), Q_(3, ""),
                     np.float64(2.0), np.int64(3), np.array([1, 2]), np.array(4), 1 + 2j,
                     "fp16", "int4", "decode", "prefill", (0.5, 0.5), {"compute": 0.5}]),
)
OPTIONS = ("batch_size", "seq_len", "precision", "phase", "weight_precision", "kv_precision",
           "efficiency", "overhead", "workspace")


def _check_solver_answer(result):
    assert _finite_result(result)
    assert result.feasible in (True, False)
    assert math.isfinite(result.throughput.magnitude)


@examples(600)
@given(st.dictionaries(st.sampled_from(OPTIONS), JUNK, min_size=1, max_size=4),
       st.sampled_from(["Llama3_8B", "Mixtral_8x7B", "DeepSeek_V3", "ResNet50", "GPT2"]),
       st.sampled_from(["H100", "A100", "TPUv5e", "M2_Ultra"]))
def test_fuzz_engine_solve_gives_a_finite_answer_or_a_symsys_error(options, model, hw):
    try:
        result = Engine.solve(model, hw, **options)
    except SymsysError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    _check_solver_answer(result)


@examples(150)
@given(st.dictionaries(st.sampled_from(["batch_size", "seq_len", "precision", "phase",
                                        "efficiency"]),
                       st.one_of(JUNK, st.lists(st.integers(-2, 2**54), max_size=3)),
                       min_size=1, max_size=3))
def test_fuzz_sweep_gives_finite_columns_or_a_symsys_error(options):
    try:
        r = symsys.sweep(["Llama3_8B", "ResNet50"], ["H100", "TPUv5e"], **options)
    except SymsysError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    for name in ("latency", "throughput", "memory_footprint"):  # mixed units: magnitudes
        assert np.all(np.isfinite(getattr(r[name], "magnitude", r[name])))


@examples(150)
@given(st.dictionaries(st.sampled_from(["Pi", "beta", "F", "Q", "eta_c", "eta_m", "t_o"]),
                       st.one_of(JUNK, st.builds(
                           Q_, st.floats(allow_nan=True, allow_infinity=True),
                           st.sampled_from(["TFLOP/s", "TB/s", "GFLOP", "GB", "ms", ""]))),
                       min_size=1, max_size=4))
def test_fuzz_evaluate_gives_finite_quantities_or_a_symsys_error(overrides):
    try:
        r = symsys.evaluate("roofline", **{**ROOF, **overrides})
    except SymsysError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    for name, value in r.items():
        if name != "regime":
            assert np.all(np.isfinite(value.magnitude)), name


@examples(300)
@given(st.sampled_from(["ServingModel", "SensitivitySolver", "SynthesisSolver",
                        "WeightStreamingModel"]),
       st.dictionaries(st.sampled_from(["prompt_len", "output_len", "batch_size", "seq_len",
                                        "target", "lever", "output", "uncertainty", "phase",
                                        "efficiency", "overlap"]),
                       st.one_of(JUNK, st.sampled_from([2**20, 2**40, 2**53, 2**53 + 1])),
                       min_size=1, max_size=3))
def test_fuzz_other_solvers_give_finite_answers_or_a_symsys_error(solver, options):
    try:
        if solver == "WeightStreamingModel":
            kw = {k: v for k, v in options.items() if k in ("batch_size", "seq_len", "phase",
                                                            "efficiency", "overlap")}
            r = WeightStreamingModel().solve("GPT3", "CS3", **{"seq_len": 2048, **kw})
            values = [*r.raw.values(), r.throughput_tokens_per_sec, r.optimal_batch_size,
                      r.max_feasible_batch, r.latency, r.memory_footprint]
            _ = r.notes, r.operating
        elif solver == "ServingModel":
            kw = {k: v for k, v in options.items() if k in ("prompt_len", "output_len",
                                                            "batch_size")}
            request = {"prompt_len": 8, "output_len": 4, **kw}
            r = ServingModel().solve(M, H, **request)
            values = [r.ttft, r.e2e_latency, r.tokens_per_sec, r.kv_cache]
            # a one-token answer has no inter-token latency (None by design, shown "n/a")
            assert (r.itl is None) == (request["output_len"] == 1)
            values += [] if r.itl is None else [r.itl]
        elif solver == "SensitivitySolver":
            kw = {k: v for k, v in options.items() if k in ("batch_size", "seq_len",
                                                            "output", "uncertainty")}
            r = SensitivitySolver().solve(M, H, **kw)
            values = [r.baseline_value, r.output_uncertainty,
                      *(abs(v) for v in r.sensitivities.values())]
        else:
            kw = {k: v for k, v in options.items() if k in ("batch_size", "seq_len", "target",
                                                            "lever")}
            r = SynthesisSolver().solve(M, H, **{"target": Q_(3, "ms"), **kw})
            values = [] if r.value is None else [r.value, r.achieved, r.ratio]
    except SymsysError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    for value in values:
        assert math.isfinite(getattr(value, "magnitude", value))


# --- every solve(model, hardware, *, ...): a misspelled keyword names the closest option ------
@pytest.mark.parametrize("call,typo,meant", [
    (lambda **kw: Engine.solve(M, H, **kw), "batchsize", "batch_size"),
    (lambda **kw: symsys.SingleNodeModel().solve(M, H, **kw), "seqlen", "seq_len"),
    (lambda **kw: ServingModel().solve(M, H, prompt_len=8, output_len=8, **kw), "batchsize",
     "batch_size"),
    (lambda **kw: SensitivitySolver().solve(M, H, **kw), "uncertanty", "uncertainty"),
    (lambda **kw: SynthesisSolver().solve(M, H, target=Q_(3, "ms"), **kw), "levr", "lever"),
    (lambda **kw: WeightStreamingModel().solve("GPT3", "CS3", seq_len=64, **kw), "overlp",
     "overlap"),
])
def test_a_misspelled_keyword_is_one_symsys_error_with_a_suggestion(call, typo, meant):
    with pytest.raises(InvalidParameter, match=f"no option '{typo}'.*Did you mean '{meant}'"):
        call(**{typo: 4})


def test_a_third_positional_argument_says_keywords():
    with pytest.raises(InvalidParameter, match="by keyword, e.g. batch_size=8"):
        Engine.solve(M, H, 4)
