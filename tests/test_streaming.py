"""Weight streaming: the seed's GPT-3 / CS-3 numbers by hand, B* and b_max closed forms against
independent arithmetic, the bottleneck flip at B*, feasibility at b_max, GH200, errors, CLI."""

import contextlib
import io
import json
import math

import numpy as np
import pytest
import sympy as sp

import symsys
from symsys import cli, derive, kernels
from symsys import symbols as S
from symsys.compile import compile_exprs
from symsys.errors import InfeasibleConfiguration, InvalidParameter
from symsys.laws import ALL, weight_streaming, weight_streaming_prefill
from symsys.solvers.streaming import WeightStreamingModel, WeightStreamingResult, streaming_inputs

GPT3 = symsys.Models.Language.GPT3
CS3 = symsys.Hardware.Cloud.Cerebras_CS3
GH200 = symsys.Hardware.GH200
SEQ = 2048


def solve(model=GPT3, hardware=CS3, seq_len=SEQ, batch_size=1, **options):
    return WeightStreamingModel().solve(model=model, hardware=hardware, seq_len=seq_len,
                                        batch_size=batch_size, precision="fp16", **options)


def rel(a, b):
    return abs(a - b) / abs(b)


# --- hand numbers, independent of the law --------------------------------------------------
# GPT-3 shape (Brown et al. 2020): L = 96, d = 12288, d_ff = 4 d, h = 96 heads of 128, V = 50257
# (tied), 2048 learned positions, biases and two LayerNorms per block.
L, D, DFF, V, NPOS = 96, 12288, 49152, 50257, 2048
BLOCK = (4 * D * D + 4 * D) + (2 * D * DFF + DFF + D) + 4 * D  # attn + MLP + 2 LayerNorms
N_TOTAL = L * BLOCK + V * D + NPOS * D + 2 * D  # + tied embedding/head, positions, final LN
N_LOOKUP = NPOS * D  # the position table is read row by row, never streamed
N_MATMUL = L * (4 * D * D + 4 * D + 2 * D * DFF + DFF + D) + V * D  # every token multiplies
ATTN = 4 * L * D  # FLOPs per new token per context token: QK^T and AV, 2 each, all layers
KV_PER_TOKEN = 2 * L * D  # K and V elements per token, all layers
CS3_LINK = 1.2e12 / 8  # 1.2 Tbit/s in bytes/s
CS3_PEAK = 15e15  # dense fp16 (registry estimate)
CS3_SRAM = 44e9
W_LAYER = 2 * (N_TOTAL - N_LOOKUP) / L  # fp16 bytes
FLOP_PER_TOKEN_LAYER = (2 * N_MATMUL + ATTN * SEQ) / L


def test_registry_numbers_are_what_the_hand_calculation_assumes():
    assert GPT3.summary["N_total"] == N_TOTAL
    assert GPT3.summary["N_embed"] == N_LOOKUP
    assert GPT3.summary["N_dense"] == N_MATMUL
    assert CS3.streaming.injection_bandwidth.m_as("B/s") == pytest.approx(CS3_LINK, rel=1e-15)
    assert CS3.compute.peak("fp16").m_as("FLOP/s") == CS3_PEAK
    assert CS3.memory.capacity.m_as("B") == CS3.onchip.sram.m_as("B") == CS3_SRAM


def test_injection_time_per_layer_gpt3_cs3():
    r = solve()
    t_inj = W_LAYER / CS3_LINK
    assert r.layer_injection_time.m_as("s") == pytest.approx(t_inj, rel=1e-12)
    assert r.layer_injection_time.m_as("ms") == pytest.approx(24.25, abs=0.005)
    # the "(350e9 B / 96) / beta_inject": GPT-3 is 174.6e9 parameters, not 175e9
    assert rel(r.layer_injection_time.m_as("s"), 350e9 / 96 / CS3_LINK) < 3e-3
    assert r.layer_weight_bytes.m_as("B") == pytest.approx(W_LAYER, rel=1e-12)


def test_compute_time_per_layer_at_batch_1_and_consistency_with_decode_law():
    r = solve()
    assert r.layer_compute_time.m_as("s") == pytest.approx(FLOP_PER_TOKEN_LAYER / CS3_PEAK,
                                                         rel=1e-12)
    # L layers of streaming compute = the single-device decode law's compute time
    engine = symsys.Engine.solve(GPT3, CS3, batch_size=1, seq_len=SEQ)
    assert L * r.layer_compute_time.m_as("s") == pytest.approx(
        engine.latency_compute.m_as("s"), rel=1e-12)


def test_step_time_and_throughput_are_injection_bound_at_batch_1():
    r = solve()
    assert r.bottleneck == r.timing_bottleneck == "Injection"
    assert r.latency.m_as("s") == pytest.approx(L * W_LAYER / CS3_LINK, rel=1e-12)
    assert r.throughput_tokens_per_sec == pytest.approx(CS3_LINK / (L * W_LAYER), rel=1e-12)
    assert isinstance(r.throughput_tokens_per_sec, float)


# --- B* ------------------------------------------------------------------------------------
def test_b_star_closed_form_equals_sympys():
    w = S.bytes_w * (S.N_total - S.N_embed) / S.L
    # decode attends in the absorbed form for MLA: a_dec per cached token it attends to (the
    # L_w sliding-window layers at most w of them)
    attended = S.s - S.L_w / S.L * sp.Max(S.s - S.w_sw, 0)
    per_token = (2 * (S.N_dense + S.k * S.N_expert) + S.a_dec * attended) / S.L
    hand = (w / (S.eta_m * S.beta_inj)) / (per_token / (S.eta_c * S.Pi))
    assert sp.simplify(weight_streaming.expr("B_star") - hand) == 0
    assert sp.simplify(weight_streaming.expr("n_star") - hand) == 0
    # prefill: logits at the last of the s positions unless z_logit = 1
    lm_head = (1 - S.z_logit) * 2 * S.V * S.d * (S.s - 1) / S.s
    pairs = S.s**2 / 2 - S.L_w / S.L * sp.Max(S.s - S.w_sw, 0) ** 2 / 2  # causal, windowed
    prefill_tokens = (2 * (S.N_dense + S.k * S.N_expert) - lm_head + S.a_attn * pairs / S.s) / S.L
    prefill_hand = (w / (S.eta_m * S.beta_inj)) / (prefill_tokens / (S.eta_c * S.Pi))
    assert sp.simplify(weight_streaming_prefill.expr("n_star") - prefill_hand) == 0
    assert sp.simplify(weight_streaming_prefill.expr("B_star") * S.s - prefill_hand) == 0


def test_b_star_value_and_integer_for_gpt3_cs3():
    r = solve()
    exact = (W_LAYER / CS3_LINK) / (FLOP_PER_TOKEN_LAYER / CS3_PEAK)
    assert r.optimal_batch_exact == pytest.approx(exact, rel=1e-12)
    assert r.optimal_tokens == pytest.approx(exact, rel=1e-12)
    first = math.ceil(exact)
    assert r.optimal_batch_size == first == 97310
    # the defining property, in plain arithmetic: compute catches up exactly at B*
    assert (first - 1) * FLOP_PER_TOKEN_LAYER / CS3_PEAK < W_LAYER / CS3_LINK
    assert first * FLOP_PER_TOKEN_LAYER / CS3_PEAK >= W_LAYER / CS3_LINK


def test_batch_just_below_and_above_b_star_flips_the_bottleneck():
    star = solve().optimal_batch_size
    assert solve(batch_size=star - 1).timing_bottleneck == "Injection"
    assert solve(batch_size=star).timing_bottleneck == "Compute"
    # a case that fits on either side: Llama-3-8B on GH200 with a short context
    model = symsys.Models.Llama3_8B
    r = solve(model, GH200, seq_len=128)
    star = r.optimal_batch_size
    assert star < r.max_feasible_batch
    below, above = solve(model, GH200, 128, star - 1), solve(model, GH200, 128, star)
    assert below.feasible and above.feasible
    assert (below.bottleneck, above.bottleneck) == ("Injection", "Compute")
    assert r.operating_batch == star and r.operating_wall == "Compute"
    # past B* the layer time is compute: tokens/s saturates at eta Pi / FLOPs per token
    assert above.layer_time == above.layer_compute_time
    assert below.layer_time == below.layer_injection_time


# --- b_max ---------------------------------------------------------------------------------
def test_b_max_closed_form_equals_sympys():
    w = S.bytes_w * (S.N_total - S.N_embed) / S.L
    act = S.bytes_a * (S.d + (S.n_ff - 1) * sp.Max(S.d_ff, (S.k + S.E_s) * S.d_e))
    held = S.s + 1 - S.L_w / S.L * sp.Max(S.s + 1 - S.w_sw, 0)  # windowed layers keep w
    decode = (S.C_chip - (1 + S.z_ovl) * w) / (S.bytes_kv * S.e_kv * held + act)
    prefill = (S.C_chip - (1 + S.z_ovl) * w) / (S.s * (S.bytes_kv * S.e_kv + act))
    assert sp.simplify(weight_streaming.expr("b_max") - decode) == 0
    assert sp.simplify(weight_streaming_prefill.expr("b_max") - prefill) == 0


def test_b_max_at_2048_for_gpt3_cs3():
    r = solve()
    kv_per_seq = 2 * KV_PER_TOKEN * (SEQ + 1)  # fp16, context + the new token
    act_per_seq = 2 * (D + DFF)  # residual + MLP hidden of the token in flight
    exact = (CS3_SRAM - 2 * W_LAYER) / (kv_per_seq + act_per_seq)
    assert float(r.raw["b_max"]) == pytest.approx(exact, rel=1e-12)
    assert r.max_feasible_batch == math.floor(exact) == 3
    assert r.wafer_memory_utilization == pytest.approx(
        (kv_per_seq + act_per_seq + 2 * W_LAYER) / CS3_SRAM, rel=1e-12)
    assert r.operating_batch == 3 and r.operating_wall == "On-chip memory"
    assert r.operating.bottleneck == "Injection"
    assert r.operating.throughput_tokens_per_sec == pytest.approx(
        3 * CS3_LINK / (L * W_LAYER), rel=1e-12)


def test_infeasible_above_b_max_with_reason():
    fits, too_big = solve(batch_size=3), solve(batch_size=4)
    assert fits.feasible and fits.reason == ""
    assert not too_big.feasible
    assert too_big.bottleneck == "On-chip memory"
    assert too_big.wafer_memory_utilization > 1
    assert "at most 3 sequence(s)" in too_big.reason and "44 GB" in too_big.reason
    with pytest.raises(InfeasibleConfiguration):
        solve(batch_size=4, raise_if_infeasible=True)


def test_serial_schedule_sums_and_needs_one_buffer():
    overlapped, serial = solve(batch_size=2), solve(batch_size=2, overlap=False)
    assert serial.layer_time.m_as("s") == pytest.approx(
        serial.layer_injection_time.m_as("s") + serial.layer_compute_time.m_as("s"), rel=1e-12)
    saved = overlapped.memory_footprint.m_as("B") - serial.memory_footprint.m_as("B")
    assert saved == pytest.approx(W_LAYER, rel=1e-12)
    assert serial.max_feasible_batch == math.floor(
        (CS3_SRAM - W_LAYER) / (2 * KV_PER_TOKEN * (SEQ + 1) + 2 * (D + DFF)))


def test_prefill_tokens_are_batch_times_prompt_and_match_prefill_law():
    r = solve(batch_size=2, phase="prefill")
    assert r.optimal_tokens == pytest.approx(r.optimal_batch_exact * SEQ, rel=1e-12)
    engine = symsys.Engine.solve(GPT3, CS3, batch_size=2, seq_len=SEQ, phase="prefill")
    assert L * r.layer_compute_time.m_as("s") == pytest.approx(
        engine.latency_compute.m_as("s"), rel=1e-12)
    assert r.throughput_tokens_per_sec == pytest.approx(2 * SEQ / r.latency.m_as("s"))


# --- GH200 ---------------------------------------------------------------------------------
def test_gh200_streams_from_grace_memory_over_nvlink_c2c():
    r = solve(hardware=GH200)
    link, peak, hbm = 450e9, 990e12, 96e9
    assert GH200.streaming.injection_bandwidth.m_as("B/s") == link
    assert r.layer_injection_time.m_as("s") == pytest.approx(W_LAYER / link, rel=1e-12)
    exact = (W_LAYER / link) / (FLOP_PER_TOKEN_LAYER / peak)
    assert r.optimal_batch_size == math.ceil(exact) == 2141
    fit = (hbm - 2 * W_LAYER) / (2 * KV_PER_TOKEN * (SEQ + 1) + 2 * (D + DFF))
    assert r.max_feasible_batch == math.floor(fit) == 9
    assert (r.operating_batch, r.operating_wall) == (9, "On-chip memory")
    assert r.feasible  # 349 GB of weights fit in Grace's 480 GB


def test_weights_that_fit_locally_say_streaming_is_optional():
    r = solve(symsys.Models.Llama3_8B, GH200, seq_len=128)
    assert any("fit in local memory" in note for note in r.notes)


# --- the law: compiled vs evalf, derivatives vs finite differences -------------------------
def _point():
    return streaming_inputs(GPT3, CS3, seq_len=SEQ, batch_size=5).values


@pytest.mark.parametrize("law", [weight_streaming, weight_streaming_prefill])
def test_compiled_outputs_match_evalf(law):
    values = _point()
    subs = {s: values[s.name] for s in law.inputs}
    fn = kernels.kernel(law, WeightStreamingResult.SPECS)
    outputs = fn.raw(*(values[a] for a in fn.args))
    names = (*law.outputs, S.B_star, S.n_star, S.b_max)
    for name, value in zip(names, outputs, strict=True):
        expected = float(law.expr(name).evalf(30, subs=subs))
        assert float(value) == pytest.approx(expected, rel=1e-12), name


@pytest.mark.parametrize("output", ["T", "R_tok", "B_star", "b_max", "U_chip"])
def test_derivatives_match_central_differences(output):
    law, values = weight_streaming, _point()
    expr = law.expr(output)
    for wrt in ("Pi", "beta_inj", "C_chip", "eta_c", "eta_m", "b", "s", "bytes_w", "N_total"):
        symbol = S.info(wrt).symbol
        exact = compile_exprs([derive.diff_expr(expr, symbol)], law.inputs)
        f = compile_exprs([expr], law.inputs)
        args = [values[s.name] for s in law.inputs]
        i = law.inputs.index(symbol)
        h = 1e-6 * abs(args[i])
        up, down = list(args), list(args)
        up[i] += h
        down[i] -= h
        numeric = (f.raw(*up)[0] - f.raw(*down)[0]) / (2 * h)
        analytic = float(exact.raw(*args)[0])
        assert analytic == pytest.approx(numeric, rel=1e-5, abs=1e-12 * abs(f.raw(*args)[0])), (
            output, wrt)


def test_latex_of_layer_time_and_registration():
    assert weight_streaming.latex_of(weight_streaming.rhs("t_layer")) == (
        r"\left(1 - z_{ovl}\right) \min\left(t_{\mathrm{cmp}}, t_{\mathrm{inj}}\right) + "
        r"\max\left(t_{\mathrm{cmp}}, t_{\mathrm{inj}}\right)")
    assert ALL["weight_streaming"] is weight_streaming
    assert ALL["weight_streaming_prefill"] is weight_streaming_prefill
    assert weight_streaming.regimes == (("Compute", S.t_cmp), ("Injection", S.t_inj))


# --- what the derivation says about the sourced numbers -----------------------------------
def test_derivation_states_units_of_the_link_peak_and_when_streaming_applies():
    r = solve()
    text = r.derivation()
    assert text.startswith("\\begin{aligned}") and text.endswith("\\end{aligned}")
    assert "1.2 Tb/s = 150 GB/s" in text
    assert "Read as 1.2 TB/s it would be 8x too fast: t\\_inj 3.031 ms" in text  # the seed's
    assert "estimate" in text and "125 PFLOP/s figure counts sparsity" in text
    assert "several systems" in text
    assert "b_{op} &= \\min(B^{*}, b_{max}) = 3" in text
    assert any("When it is not: latency-bound decode" in note for note in r.notes)
    assert r._repr_latex_().startswith("$$")


# --- errors --------------------------------------------------------------------------------
def test_device_without_streaming_names_those_with_it():
    with pytest.raises(InvalidParameter) as error:
        solve(hardware="H100")
    for key in ("H100", "Cerebras_CS3", "GH200"):
        assert key in str(error.value)


@pytest.mark.parametrize("options, fragment", [
    (dict(seq_len=None), "seq_len is required"),
    (dict(batch_size=0), "batch_size"),
    (dict(phase="train"), "phase"),
    (dict(overlap="yes"), "overlap"),
    (dict(efficiency=1.5), "efficiency"),
    (dict(model="ResNet50"), "not a transformer"),
])
def test_bad_arguments_are_named(options, fragment):
    with pytest.raises(InvalidParameter, match=fragment):
        solve(**options)


def test_efficiency_scales_the_two_halves():
    r = solve(efficiency=(0.5, 0.8))
    assert r.layer_compute_time.m_as("s") == pytest.approx(
        FLOP_PER_TOKEN_LAYER / (0.5 * CS3_PEAK), rel=1e-12)
    assert r.layer_injection_time.m_as("s") == pytest.approx(W_LAYER / (0.8 * CS3_LINK),
                                                             rel=1e-12)


# --- CLI -----------------------------------------------------------------------------------
def run_cli(*argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(list(argv))
    return code, out.getvalue()


def test_cli_stream_json():
    code, text = run_cli("stream", "GPT3", "Cerebras_CS3", "--seq-len", "2048", "--json")
    assert code == 0
    data = json.loads(text)
    assert data["layer_injection_time"] == pytest.approx(W_LAYER / CS3_LINK)
    assert data["units"]["layer_injection_time"] == "s"
    assert data["beta_inj"] == pytest.approx(150.0e9) and data["units"]["beta_inj"] == "B/s"
    assert (data["optimal_batch_size"], data["max_feasible_batch"]) == (97310, 3)
    assert (data["operating_batch"], data["operating_wall"]) == (3, "On-chip memory")
    assert data["bottleneck"] == "Injection" and data["feasible"] is True


def test_cli_stream_text_and_errors():
    code, text = run_cli("stream", "GPT3", "GH200", "-s", "2048", "-b", "16")
    assert code == 0 and "On-chip memory" in text and "no: needs" in text
    code, text = run_cli("stream", "GPT3", "H100", "-s", "2048", "--json")
    assert code == 1 and json.loads(text)["error"] == "InvalidParameter"


def test_seed_table_runs():
    rows = [solve(batch_size=b) for b in (1, 2, 4, 8, 16, 32, 64, 128)]
    assert [r.feasible for r in rows] == [True, True] + [False] * 6
    assert all(np.isfinite(r.throughput_tokens_per_sec) for r in rows)
    assert f"{rows[0].wafer_memory_utilization:.1%}" == "38.5%"
