"""Property-based tests (hypothesis): the laws keep their mathematical properties on any input.

- latency is non-increasing in bandwidth, peak compute and both efficiencies, and
  non-decreasing in batch, context length and bytes per weight (through the real solver);
- the roofline (and the smooth roofline) is homogeneous: k F, k Q -> k T when t_o = 0;
- the regime flips exactly at the ridge point, and at the crossover batch;
- every compiled function equals evalf of its expression, for every law in symsys.laws.ALL;
- every exact derivative (symsys.derive.diff_expr, what kernels compile) equals a central
  finite difference taken at 50 significant digits, away from max()/min()/ceiling kinks;
- inverse design round-trips: the forward law at the required lever value gives the target;
- a sweep equals scalar Engine.solve at every point;
- random but valid transformer shapes derive a parameter count (checked by hand counts and by
  the cost of one more expert) and solve.

The example counts (``max_examples``) keep the file well under a minute on two cores.
"""

import dataclasses
import functools
import math
import os

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import symsys
from symsys import Engine, SynthesisSolver, derive
from symsys import symbols as S
from symsys.compile import compile_exprs
from symsys.laws import ALL
from symsys.laws.inference import dense as dense_case
from symsys.registry import Hardware, Models
from symsys.registry.models import Shape, Transformer
from symsys.solvers.inference import evaluate_step
from symsys.solvers.inputs import step_inputs
from symsys.symbols import lever_symbol

Q_ = symsys.Q_


#: SYMSYS_FUZZ_SCALE=10 multiplies every example count below (a deeper run than CI's)
SCALE = int(os.environ.get("SYMSYS_FUZZ_SCALE", "1"))


def examples(n: int, *checks: HealthCheck):
    """Settings for one fuzz or property: ``n`` examples (times SCALE), no deadline."""
    return settings(max_examples=n * SCALE, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           *checks])


TRANSFORMERS = [m.key for m in Models if isinstance(m, Transformer)]
DENSE = [k for k in TRANSFORMERS if Models[k].shape.experts == 1]
DEVICES = [hw.key for hw in Hardware if "fp16" in hw.compute.peak_dense]

models = st.sampled_from(TRANSFORMERS)
devices = st.sampled_from(DEVICES)
batches = st.integers(1, 4096)
contexts = st.integers(0, 65536)
factors = st.floats(1.0, 1e3)
efficiency = st.floats(0.01, 1.0)


@st.composite
def steps(draw, model=models):
    """A real step: registry model and device, random batch, context, phase, efficiency."""
    phase = draw(st.sampled_from(["decode", "prefill"]))
    seq = draw(contexts if phase == "decode" else st.integers(1, 16384))
    return step_inputs(draw(model), draw(devices), batch_size=draw(batches), precision="fp16", phase=phase,
                       seq_len=seq, efficiency=(draw(efficiency), draw(efficiency)),
                       overhead=Q_(draw(st.sampled_from([0, 1e-6, 1e-3])), "s"))


def _latency(inputs, **changes) -> float:
    values = {**inputs.values, **changes}
    return evaluate_step(dataclasses.replace(inputs, values=values))["T"]


def _le(a: float, b: float) -> bool:
    return a <= b * (1 + 1e-12)


# --- monotonicity ---------------------------------------------------------------------------------
@examples(150)
@given(steps(), factors, st.sampled_from(["beta", "Pi", "eta_c", "eta_m"]))
def test_latency_non_increasing_in_bandwidth_compute_and_efficiencies(inputs, k, name):
    value = inputs.values[name]
    better = min(value * k, 1.0) if name.startswith("eta") else value * k
    assert _le(_latency(inputs, **{name: better}), _latency(inputs))


@examples(80)
@given(models, devices, batches, st.integers(0, 512), contexts, st.integers(0, 4096),
       st.sampled_from(["decode", "prefill"]))
def test_latency_non_decreasing_in_batch_and_context(model, hw, b, db, s, ds, phase):
    s = max(s, 1) if phase == "prefill" else s

    def t(batch, seq):
        return Engine.solve(model, hw, batch_size=batch, seq_len=seq, phase=phase).latency.m_as("s")

    assert _le(t(b, s), t(b + db, s))
    assert _le(t(b, s), t(b, s + ds))


@examples(60)
@given(st.sampled_from(TRANSFORMERS + ["ResNet50", "ViT_B16"]), devices, batches,
       st.sampled_from(["decode", "prefill"]))
def test_latency_non_decreasing_in_bytes_per_weight(model, hw, b, phase):
    seq = None if model in ("ResNet50", "ViT_B16") else 128
    phase = "decode" if seq is None else phase
    order = ["int4", "int8", "fp16", "fp32"]  # 0.5, 1, 2, 4 bytes
    times = [Engine.solve(model, hw, batch_size=b, weight_precision=p, seq_len=seq,
                          phase=phase).latency.m_as("s") for p in order]
    assert all(_le(a, c) for a, c in zip(times, times[1:]))


# --- homogeneity and the ridge --------------------------------------------------------------------
positive = st.floats(1e-3, 1e3)


@examples(100)
@given(positive, positive, positive, positive, efficiency, efficiency,
       st.floats(1e-6, 1e6), st.sampled_from(["roofline", "smooth_roofline"]),
       st.floats(1.0, 16.0))
def test_roofline_is_homogeneous_in_work_and_traffic(pi, bw, f, q, ec, em, k, law, p):
    base = dict(Pi=Q_(pi, "TFLOP/s"), beta=Q_(bw, "TB/s"), eta_c=ec, eta_m=em,
                t_o=Q_(0, "s"), **({"p_smooth": p} if law == "smooth_roofline" else {}))
    one = symsys.evaluate(law, ["T"], F=Q_(f, "GFLOP"), Q=Q_(q, "GB"), **base)["T"]
    scaled = symsys.evaluate(law, ["T"], F=Q_(k * f, "GFLOP"), Q=Q_(k * q, "GB"), **base)["T"]
    assert scaled.m_as("s") == pytest.approx(k * one.m_as("s"), rel=1e-12)


@examples(100)
@given(st.fractions(1, 10**6), st.fractions(1, 10**6), st.fractions(1, 10**6),
       st.fractions(1, 1), st.fractions(1, 1))
def test_compute_and_memory_times_are_equal_exactly_at_the_ridge(pi, bw, q, ec, em):
    """Exact arithmetic: at I = I* the two bounds are equal; on either side one binds."""
    law = ALL["roofline"]
    ec, em = sp.Rational(ec.numerator, ec.denominator), sp.Rational(em.numerator,
                                                                      em.denominator)
    point = {S.Pi: sp.Rational(pi.numerator, pi.denominator), S.eta_c: ec, S.eta_m: em,
             S.beta: sp.Rational(bw.numerator, bw.denominator),
             S.Q: sp.Rational(q.numerator, q.denominator)}
    ridge = law.expr("I_ridge").xreplace(point)
    for scale, regime in ((1, "tie"), (sp.Rational(1001, 1000), "Compute"),
                          (sp.Rational(999, 1000), "Memory")):
        at = {**point, S.F: scale * ridge * point[S.Q]}
        gap = (law.expr("t_compute") - law.expr("t_memory")).xreplace(at)
        assert {"tie": gap == 0, "Compute": gap > 0, "Memory": gap < 0}[regime]


@examples(100)
@given(positive, positive, positive, efficiency, efficiency, st.floats(1e-9, 1e-3))
def test_reported_regime_flips_at_the_ridge(pi, bw, q, ec, em, eps):
    base = dict(Pi=Q_(pi, "TFLOP/s"), beta=Q_(bw, "TB/s"), Q=Q_(q, "GB"), eta_c=ec, eta_m=em)
    ridge = symsys.evaluate("roofline", ["I_ridge"], **base)["I_ridge"]
    regimes = symsys.evaluate("roofline", ["T"], F=ridge * Q_(q, "GB") * np.array(
        [1 - eps, 1 + eps]), **base)["regime"]
    assert list(regimes) == ["Memory", "Compute"]


@examples(60)
@given(st.sampled_from(DENSE), devices, st.sampled_from([None, 0, 16, 128]))
def test_bottleneck_flips_exactly_at_the_crossover_batch(model, hw, seq):
    first = Engine.solve(model, hw, batch_size=1, seq_len=seq).crossover_batch
    assume(first is not None and first < 2**40)
    event(f"crossover at batch {'1' if first == 1 else '> 1'}")
    assert Engine.solve(model, hw, batch_size=first, seq_len=seq).bottleneck == "Compute"
    if first > 1:
        assert Engine.solve(model, hw, batch_size=first - 1, seq_len=seq).bottleneck == "Memory"


# --- compiled == evalf, exact derivatives == finite differences, over every law -------------------
LAWS = sorted(ALL)


@st.composite
def law_points(draw, name: str):
    """The law ``name`` and a physically consistent point of its inputs: shape, summaries and
    attention values of a registry transformer, random hardware, step and kernel values."""
    law = ALL[name]
    mla = name == "attention_mla"
    model = Models[draw(st.sampled_from(
        [k for k in TRANSFORMERS if (Models[k].shape.attention == "mla") == mla]
        if name.startswith("attention") else TRANSFORMERS))]
    shape = model.shape
    values = {**shape.parameter_inputs(), **shape.attention_inputs(), **model.summary}
    log = functools.partial(st.floats, allow_nan=False)
    values.update(
        Pi=10 ** draw(log(11, 16)), beta=10 ** draw(log(10, 13.5)), eta_c=draw(efficiency),
        eta_m=draw(efficiency), t_o=draw(st.sampled_from([0.0, 1e-6, 3e-4])),
        F=10 ** draw(log(6, 16)), Q=10 ** draw(log(6, 12)), b=draw(batches),
        s=draw(st.integers(1, 65536)), bytes_w=draw(st.sampled_from([0.5, 1, 2, 4])),
        bytes_kv=draw(st.sampled_from([0.5, 1, 2])), W_ws=10 ** draw(log(6, 10)),
        p_smooth=draw(st.floats(1, 12)), M_g=draw(st.integers(1, 8192)),
        N_g=draw(st.integers(1, 16384)), K_g=draw(st.integers(1, 16384)),
        bytes_e=draw(st.sampled_from([1, 2, 4])), m_tile=draw(st.sampled_from([64, 128])),
        F_1=10 ** draw(log(6, 12)), Q_1=10 ** draw(log(3, 9)), s_p=draw(st.integers(1, 8192)),
        beta_inj=10 ** draw(log(9, 12)), C_chip=10 ** draw(log(9, 11)),
        C_mem=10 ** draw(log(9, 12)), t_kern=draw(st.sampled_from([0.0, 2e-6, 8e-6])),
        z_logit=draw(st.sampled_from([0, 1])), n_g=draw(st.sampled_from([1, 2, 3, 8, 64])),
        beta_x=10 ** draw(log(9, 12)), alpha_x=draw(st.sampled_from([0.0, 1e-6, 2e-5])),
        alpha_c=draw(st.sampled_from([0.0, 5e-6])),
        n_node=draw(st.integers(1, 64)), beta_n=10 ** draw(log(9, 11)),
        alpha_n=draw(st.sampled_from([0.0, 5e-6])), m_c=10 ** draw(log(3, 10)),
        bytes_act=draw(st.sampled_from([1, 2])), z_comm=draw(st.sampled_from([0, 1])),
        z_nvls=draw(st.sampled_from([0, 1])),
        bytes_a=draw(st.sampled_from([1, 2])), z_ovl=draw(st.sampled_from([0, 1])),
        n_dev=draw(st.integers(1, 16)), P_dev=draw(st.floats(10, 1500)),
        f_P=draw(efficiency), p_dev=draw(st.floats(0.1, 20)) / 3600,
        n_pp=draw(st.sampled_from([1, 2, 4])), n_ep=draw(st.sampled_from([1, 2, 8, 64])),
        n_aux=draw(st.sampled_from([0, 8, 24])), t_aux=draw(st.sampled_from([0.0, 2e-6])),
        q_act=draw(st.sampled_from([0.0, 40.0, 190.0])),
        n_t=draw(st.sampled_from([1, 2, 8])), n_p=draw(st.sampled_from([1, 4, 8])),
        n_dp=draw(st.sampled_from([1, 2, 64])), v_il=draw(st.sampled_from([1, 3])),
        B_g=draw(st.sampled_from([64, 512, 1536])), z_fa=draw(st.sampled_from([0, 1])),
        r_sel=draw(st.sampled_from([0, 1])), r_full=draw(st.sampled_from([0, 1])),
        z_sp=draw(st.sampled_from([0, 1])), z_il=draw(st.sampled_from([0, 1])),
        f_w=draw(st.sampled_from([0, 1])), f_gr=draw(st.sampled_from([0, 1])),
        f_opt=draw(st.sampled_from([0, 1])), bytes_g=draw(st.sampled_from([2, 4])),
        bytes_o=12, bytes_u=28, z_dp=draw(st.sampled_from([0, 1])),
        D_tok=10 ** draw(log(9, 13)), x_bub=draw(st.floats(0.001, 0.5)),
        T_goal=10 ** draw(log(4, 8)),
    )
    values.setdefault("h_kv", shape.kv_heads)  # MLA shapes name their K/V heads too
    values["p_net"] = draw(st.integers(0, values["n_pp"] - 1))  # sends between fast domains
    # the data-parallel replicas a fast domain holds: one, all, or a divisor between
    values["g_dp"] = draw(st.sampled_from([g for g in (1, 2, 8) if values["n_dp"] % g == 0]))
    # attention's peak: the GEMM peak (16-bit training) or half of it (fp8 training)
    values["Pi_a"] = values["Pi"] / draw(st.sampled_from([1, 2]))
    values["j_0"] = draw(st.integers(1, 2048))
    values["j_1"] = values["j_0"] + draw(st.integers(0, 2048))
    return law, {s.name: values[s.name] for s in law.inputs}


def _exact(symbol: sp.Symbol, value) -> sp.Expr:
    """The binary value exactly, carried at 60 digits (a Float even for integers: an exact
    (1 - k/E)^(b s) with b s ~ 1e8 would be a rational of a hundred million digits)."""
    return sp.Float(value, 60)


@functools.cache
def _outputs(law) -> list[tuple[str, sp.Expr]]:
    names = [*(o.name for o in law.outputs), *(d.symbol.name for d in law.derived)]
    return [(n, law.expr(n)) for n in names]


@functools.cache
def _compiled(law, scalar: bool):
    return compile_exprs([e for _, e in _outputs(law)], law.inputs, scalar=scalar)


def _close(a: float, b: float, rel: float, scale: float = 0.0) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b), scale)


@pytest.mark.slow
@pytest.mark.parametrize("name", LAWS)
@examples(8)
@given(data=st.data())
def test_every_compiled_output_equals_evalf_of_its_expression(name, data):
    law, values = data.draw(law_points(name))
    exact = {s: _exact(s, values[s.name]) for s in law.inputs}
    args = [values[s.name] for s in law.inputs]
    vector, scalar = _compiled(law, False)(*args), _compiled(law, True).raw(*args)
    for (name, expr), v, w in zip(_outputs(law), vector, scalar):
        reference = expr.xreplace(exact).evalf(30)
        if reference == sp.oo:  # by design, e.g. a crossing that never comes (s_x when
            # every layer is windowed and the balance lies past the window): +inf compiled
            assert float(v) == float(w) == float("inf"), (law.name, name, float(v), float(w))
            continue
        assert reference.is_real, (law.name, name, reference)
        truth = float(reference)
        assert _close(float(v), truth, 1e-9), (law.name, name, float(v), truth)
        assert _close(float(w), truth, 1e-9), (law.name, name, float(w), truth)


def _kinks_far(expr: sp.Expr, point: dict, x: sp.Symbol, gap: float = 1e-6) -> bool:
    """True when no max()/min() is near a tie, no ceiling near an integer and no Piecewise
    condition near its boundary at ``point``."""
    for atom in expr.atoms(sp.Max, sp.Min):
        args = sorted(float(a.xreplace(point).evalf(30)) for a in atom.args)
        top, second = (args[-1], args[-2]) if isinstance(atom, sp.Max) else (args[0], args[1])
        if abs(top - second) <= gap * max(abs(top), abs(second), 1e-300):
            return False
    for atom in expr.atoms(sp.ceiling, sp.floor):
        value = float(atom.args[0].xreplace(point).evalf(30))
        if abs(value - round(value)) <= gap * max(1.0, abs(value)):
            return False
    for piecewise in expr.atoms(sp.Piecewise):
        for _, condition in piecewise.args:
            if isinstance(condition, sp.core.relational.Relational):
                a = float(condition.lhs.xreplace(point).evalf(30))
                c = float(condition.rhs.xreplace(point).evalf(30))
                if abs(a - c) <= gap * max(abs(a), abs(c), 1e-300):
                    return False
    return True


@functools.cache
def _derivative(law, name: str, x: sp.Symbol, dense: bool):
    expr = dict(_outputs(law))[name]
    expr = dense_case(expr) if dense else expr
    return expr, derive.diff_expr(expr, x)  # the one expression kernels compile


#: (law, output, input) derivatives checked, for the closing report
CHECKED: dict[str, int] = {}


#: (output, input) pairs checked per example of a law with more: a random sample, drawn
#: anew in each example, so the parallel and cost laws (dozens of outputs, each in dozens of
#: inputs, at 50 digits) stay within a minute while every pair keeps its chance to be drawn
PAIRS_PER_EXAMPLE = 40


@pytest.mark.slow
@pytest.mark.parametrize("law_name", LAWS)
@examples(2)  # each example checks up to PAIRS_PER_EXAMPLE derivatives at 50 digits
@given(data=st.data())
def test_every_exact_derivative_matches_a_high_precision_central_difference(law_name, data):
    """Outputs in the inputs they depend on (every pair, or a random sample of
    PAIRS_PER_EXAMPLE), at one random point per example."""
    law, values = data.draw(law_points(law_name))
    dense = values.get("E", 1) == 1 and values.get("k", 1) == 1
    point = {s: _exact(s, values[s.name]) for s in law.inputs}
    pairs = [(name, x) for name, _ in _outputs(law) for x in law.inputs
             if _outputs_depend(law, name, x)]
    if len(pairs) > PAIRS_PER_EXAMPLE:
        pairs = data.draw(st.lists(st.sampled_from(pairs), min_size=PAIRS_PER_EXAMPLE,
                                   max_size=PAIRS_PER_EXAMPLE, unique=True))
    checked = 0
    for name, x in pairs:
        expr, derivative = _derivative(law, name, x, dense)
        if derivative.has(sp.Derivative, sp.Subs) or not _kinks_far(expr, point, x):
            continue  # ceiling() has no useful derivative; a kink has two (one-sided)
        _check_derivative(law, name, x, expr, derivative, point)
        checked += 1
    CHECKED[law.name] = CHECKED.get(law.name, 0) + checked
    assume(checked)


def _check_derivative(law, name, x, expr, derivative, point) -> None:
    x0 = point[x]
    h = sp.Float(max(abs(float(x0)), 1e-3), 60) * sp.Float("1e-20", 60)
    up = expr.xreplace({**point, x: x0 + h}).evalf(50)
    down = expr.xreplace({**point, x: x0 - h}).evalf(50)
    central = float((up - down) / (2 * h))
    exact = float(derivative.xreplace(point).evalf(50))
    # the difference carries 50 digits of y over a step of 1e-20 x: it resolves a slope to
    # about 1e-30 y / x, so a (nearly) vanishing derivative is compared at that scale
    noise = 1e-28 * abs(float(expr.xreplace(point).evalf(30))) / max(abs(float(x0)), 1e-3)
    assert abs(exact - central) <= 1e-12 * max(abs(exact), abs(central)) + noise, (
        law.name, name, x, exact, central)


@functools.cache
def _outputs_depend(law, name: str, x: sp.Symbol) -> bool:
    return x in dict(_outputs(law))[name].free_symbols


# --- inverse design round trips -------------------------------------------------------------------
SOLVABLE = ("memory_bandwidth", "peak_flops", "compute_efficiency", "memory_efficiency",
            "batch_size", "bytes_per_weight")


@examples(80)
@given(st.sampled_from(DENSE + ["ResNet50"]), devices, st.integers(1, 512),
       st.sampled_from([None, 0, 512, 4096]), st.sampled_from(SOLVABLE),
       st.sampled_from(["latency", "throughput"]), st.floats(0.2, 5.0))
def test_synthesis_round_trips_through_the_forward_law(model, hw, b, seq, lever, output, f):
    seq = None if model == "ResNet50" else seq
    base = Engine.solve(model, hw, batch_size=b, seq_len=seq)
    target = (base.latency * f if output == "latency" else base.throughput * f)
    r = SynthesisSolver().solve(model, hw, target=target, lever=lever, batch_size=b,
                                seq_len=seq)
    if r.value is None:
        event("unreachable (explained)")
        assert r.explanation and not r.achievable
        return
    event("solved")
    symbol = lever_symbol(lever).name
    inputs = base.inputs
    raw = evaluate_step(dataclasses.replace(inputs, values={**inputs.values,
                                                            symbol: r.value}))
    items = raw["n_tok"] if "n_tok" in raw else (r.value if lever == "batch_size" else b)
    achieved = raw["T"] if output == "latency" else items / raw["T"]
    wanted = target.m_as("s") if output == "latency" else target.magnitude
    assert achieved == pytest.approx(wanted, rel=1e-9)
    assert r.round_trip_error <= 1e-9


# --- sweep == scalar solves -----------------------------------------------------------------------
@examples(30)
@given(st.lists(st.sampled_from(TRANSFORMERS + ["ResNet50"]), min_size=1, max_size=3,
                unique=True),
       st.lists(devices, min_size=1, max_size=3, unique=True),
       st.lists(batches, min_size=1, max_size=3, unique=True),
       st.lists(st.integers(1, 32768), min_size=1, max_size=2, unique=True),
       st.sampled_from(["decode", "prefill"]), st.sampled_from(["fp16", "int8"]),
       st.data())
def test_sweep_equals_scalar_solves_at_random_points(ms, hws, bs, seqs, phase, wp, data):
    fixed = [m for m in ms if m == "ResNet50"]
    if phase == "prefill":
        ms = [m for m in ms if m not in fixed] or ["Llama3_8B"]
    r = symsys.sweep(ms, hws, batch_size=bs, seq_len=seqs, phase=phase, weight_precision=wp)
    rows = data.draw(st.lists(st.integers(0, len(r) - 1), min_size=1, max_size=8))
    for i in rows:
        model = str(r.model[i])
        seq = None if model == "ResNet50" else int(r.seq_len[i])
        e = Engine.solve(model, str(r.hardware[i]), batch_size=int(r.batch_size[i]), seq_len=seq,
                         phase=phase, weight_precision=wp)
        assert r.latency[i].m_as("s") == pytest.approx(e.latency.m_as("s"), rel=1e-12)
        assert r.memory_footprint[i].m_as("B") == pytest.approx(
            e.memory_footprint.m_as("B"), rel=1e-12)
        throughput = r.throughput[i]
        assert getattr(throughput, "magnitude", throughput) == pytest.approx(
            e.throughput.magnitude, rel=1e-12)
        assert r.bottleneck[i] == e.bottleneck and bool(r.feasible[i]) == e.feasible


# --- random valid shapes --------------------------------------------------------------------------
@st.composite
def shapes(draw) -> Shape:
    kv = draw(st.integers(1, 16))
    heads = kv * draw(st.integers(1, 8))
    layers = draw(st.integers(1, 96))
    fields = dict(layers=layers, d_model=64 * draw(st.integers(1, 256)), heads=heads,
                  kv_heads=kv, head_dim=draw(st.sampled_from([32, 64, 96, 128, 256])),
                  d_ff=draw(st.integers(1, 65536)), vocab=draw(st.integers(1, 300_000)),
                  gated_mlp=draw(st.booleans()), tied_embeddings=draw(st.booleans()),
                  norm=draw(st.sampled_from(["rmsnorm", "layernorm"])),
                  bias=draw(st.sampled_from([False, True, "qkv"])))
    if draw(st.booleans()):
        fields.update(position="learned", max_positions=draw(st.integers(1, 131072)))
    if draw(st.booleans()):  # mixture of experts
        experts = draw(st.integers(2, 256))
        fields.update(experts=experts, active_experts=draw(st.integers(1, min(experts, 16))),
                      expert_d_ff=draw(st.integers(1, 32768)),
                      shared_experts=draw(st.integers(0, 2)),
                      dense_layers=draw(st.integers(0, layers)))
    if draw(st.integers(0, 3)) == 0:  # multi-head latent attention
        fields.update(q_lora_rank=draw(st.integers(16, 2048)),
                      kv_lora_rank=draw(st.integers(16, 1024)),
                      qk_rope_head_dim=draw(st.sampled_from([32, 64])),
                      qk_nope_head_dim=draw(st.sampled_from([64, 128])),
                      v_head_dim=draw(st.sampled_from([64, 128])))
    return Shape(**fields)


def _model(shape: Shape) -> Transformer:
    return dataclasses.replace(Models.Llama3_8B, key="random", name="random", shape=shape)


def _hand_count(shape: Shape) -> int:
    """Parameters of a dense GQA transformer counted by hand (no MoE, no MLA)."""
    d, h, kv, dh, f = shape.d_model, shape.heads, shape.kv_heads, shape.head_dim, shape.d_ff
    vectors = 1 if shape.norm == "rmsnorm" else 2
    attention = 2 * d * h * dh + 2 * d * kv * dh
    if shape.bias in (True, "qkv"):
        attention += h * dh + 2 * kv * dh
    if shape.bias is True:
        attention += d
    mlp = (3 if shape.gated_mlp else 2) * d * f
    if shape.bias is True:
        mlp += ((2 if shape.gated_mlp else 1) * f) + d
    per_layer = attention + mlp + shape.norms_per_layer * vectors * d
    tables = shape.vocab * d * (1 if shape.tied_embeddings else 2)
    tables += shape.max_positions * d if shape.position == "learned" else 0
    return shape.layers * per_layer + tables + vectors * d


@examples(100)
@given(shapes())
def test_random_valid_shapes_derive_a_parameter_count_and_solve(shape):
    model = _model(shape)
    n = model.parameters.m_as("param")
    assert n > 0 and n == int(n) and model.active_parameters.m_as("param") <= n
    if not shape.is_moe and shape.attention == "gqa":
        event("dense GQA: hand count")
        assert n == _hand_count(shape)
    if shape.is_moe:  # one more routed expert adds its FFN and a router row per MoE layer
        event("MoE: cost of one more expert")
        more = _model(dataclasses.replace(shape, experts=shape.experts + 1))
        moe_layers = shape.layers - (shape.dense_layers or 0)
        per_expert = (3 if shape.gated_mlp else 2) * shape.d_model * shape.expert_d_ff
        assert more.parameters.m_as("param") - n == moe_layers * (per_expert + shape.d_model)
    for kw in ({"batch_size": 1}, {"batch_size": 64, "seq_len": 4096},
               {"phase": "prefill", "seq_len": 2048, "batch_size": 2}):
        r = Engine.solve(model, "B200", **kw)
        assert all(math.isfinite(v) for v in r.raw.values()) and r.latency.m_as("s") > 0
    small, large = (Engine.solve(model, "B200", batch_size=b, seq_len=512).latency for b in (1, 8))
    assert _le(small.m_as("s"), large.m_as("s"))
