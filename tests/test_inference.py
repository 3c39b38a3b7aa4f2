"""Single-node inference: the memory-wall seed's numbers, hand calculations, crossovers, MoE,
feasibility."""

import pytest

import symsys
from symsys import Engine, SingleNodeModel
from symsys.errors import InfeasibleConfiguration, InvalidParameter, UnsupportedPrecision
from symsys.registry import Hardware, Models

LLAMA = Models.Llama3_8B
N = 8_030_261_248  # hand count, see test_registry
EMBED = 128256 * 4096


def test_llama3_8b_decode_on_h100_hand_calculation():
    r = Engine.solve(model=LLAMA, hardware=Hardware.Cloud.H100, batch_size=1, precision="fp16")
    # bytes: every weight but the input table, plus one looked-up row, plus one token's K/V
    bytes_moved = 2 * (N - EMBED + 4096) + 131072
    assert r.bytes_moved.m_as("B") == bytes_moved
    assert r.latency.m_as("ms") == pytest.approx(bytes_moved / 3.35e12 * 1e3, rel=1e-12)
    assert r.bottleneck == "Memory"
    assert r.throughput.m_as("token/s") == pytest.approx(1 / r.latency.m_as("s"))
    assert r.mbu == pytest.approx(1.0)
    assert r.memory_footprint.m_as("GB") == pytest.approx((2 * N + 131072) / 1e9)


def test_memory_wall_speedup_is_the_bandwidth_ratio():
    a = Engine.solve(model=LLAMA, hardware=Hardware.Cloud.A100, batch_size=1, precision="fp16")
    h = Engine.solve(model=LLAMA, hardware=Hardware.Cloud.H100, batch_size=1, precision="fp16")
    assert a.bottleneck == h.bottleneck == "Memory"
    assert a.latency / h.latency == pytest.approx(3.35 / 2.039, rel=1e-9)


def test_batch_sweep_crosses_into_compute_bound_at_the_closed_form_batch():
    a100 = Hardware.A100
    r = Engine.solve(LLAMA, a100, batch_size=1)
    first = r.crossover_batch
    # dense decode at s = 0: b_x = Pi bw (N - N_emb) / (2 beta N_mm - Pi bw d - Pi bw_kv e_kv)
    Pi, beta = 312e12, 2.039e12
    N_mm = N - EMBED - 32 * 2 * 4096 - 4096  # matmul weights: everything but table and norms
    closed = Pi * 2 * (N - EMBED) / (2 * beta * N_mm - Pi * 2 * 4096 - Pi * 2 * 65536)
    assert first == int(closed) + 1
    assert Engine.solve(LLAMA, a100, batch_size=first - 1).bottleneck == "Memory"
    assert Engine.solve(LLAMA, a100, batch_size=first).bottleneck == "Compute"
    # the textbook approximation Pi * bytes_per_weight / (2 beta) is within 3%
    assert first == pytest.approx(312e12 * 2 / (2 * 2.039e12), rel=0.03)
    assert Engine.solve(LLAMA, Hardware.H100, batch_size=1).crossover_batch > first


def test_with_a_2k_context_decode_never_turns_compute_bound_on_a100():
    r = Engine.solve(LLAMA, Hardware.A100, batch_size=512, seq_len=2048)
    assert r.bottleneck == "Memory"
    assert r.crossover_batch is None


def test_prefill_hand_calculation():
    r = Engine.solve(LLAMA, Hardware.H100, batch_size=1, phase="prefill", seq_len=2048)
    N_mm = N - EMBED - 32 * 2 * 4096 - 4096
    lm_head = 2 * 128256 * 4096 * (2048 - 1)  # logits only at the last prompt position
    flops = 2 * N_mm * 2048 - lm_head + 2 * 32 * 32 * (128 + 128) * 2048**2 / 2
    assert r.flops.m_as("FLOP") == pytest.approx(flops, rel=1e-12)
    every = Engine.solve(LLAMA, Hardware.H100, phase="prefill", seq_len=2048, logits="all")
    assert every.flops.m_as("FLOP") - r.flops.m_as("FLOP") == pytest.approx(lm_head, rel=1e-12)
    # the LM head at every position is 6.8 % of a 2k Llama-3-8B prefill (issue 15)
    assert lm_head / every.flops.m_as("FLOP") == pytest.approx(0.0677, abs=5e-4)
    assert r.bottleneck == "Compute"
    assert r.latency.m_as("s") == pytest.approx(flops / 989.4e12, rel=1e-3)


def test_moe_expected_experts_touched():
    from symsys.solvers.inference import evaluate_step
    from symsys.solvers.inputs import step_inputs

    for b in (1, 2, 4, 16):
        raw = evaluate_step(step_inputs("Mixtral_8x7B", "H200", batch_size=b))
        assert raw["E_hit"] == pytest.approx(8 * (1 - (1 - 2 / 8) ** b))
    r = Engine.solve("Mixtral_8x7B", "H200", batch_size=1)
    m = Models.Mixtral_8x7B.summary
    # batch 1 reads the 2 chosen experts of 8 in every layer, not all of them
    expected = 2 * (m["N_total"] - m["N_embed"] - 6 * m["N_expert"] + 4096) + 2 * m["e_kv"]
    assert r.bytes_moved.m_as("B") == pytest.approx(expected)
    crossover = r.crossover_batch
    assert Engine.solve("Mixtral_8x7B", "H200", batch_size=crossover).bottleneck == "Compute"
    assert Engine.solve("Mixtral_8x7B", "H200", batch_size=crossover - 1).bottleneck == "Memory"


def test_gpt3_on_one_h100_is_infeasible_with_the_capacity_it_needs():
    r = SingleNodeModel().solve(model=Models.Language.GPT3, hardware=Hardware.H100,
                                batch_size=1, precision="fp16")
    assert not r.feasible
    assert "needs 349.2 GB" in r.reason and "80 GiB" in r.reason
    with pytest.raises(InfeasibleConfiguration, match="GPT3 on H100"):
        Engine.solve("GPT3", "H100", raise_if_infeasible=True)


def test_weight_only_quantization_halves_weight_traffic():
    fp16 = Engine.solve(LLAMA, Hardware.H100)
    int8 = Engine.solve(LLAMA, Hardware.H100, weight_precision="int8")
    assert int8.weight_bytes / fp16.weight_bytes == pytest.approx(0.5)
    assert int8.inputs.kv_precision == "fp16"


def test_efficiency_and_overhead():
    base = Engine.solve(LLAMA, Hardware.H100)
    slow = Engine.solve(LLAMA, Hardware.H100, efficiency=(0.5, 0.8),
                        overhead=symsys.Q_(20, "us"))
    assert slow.latency.m_as("s") == pytest.approx(base.latency.m_as("s") / 0.8 + 20e-6)


def test_cnn_goes_through_the_same_roofline():
    r = Engine.solve("ResNet50", "H100", batch_size=256)
    assert r.flops.m_as("FLOP") == pytest.approx(256 * 8.18e9)
    assert r.bottleneck == "Compute"
    assert r.throughput.units == symsys.ureg.Unit("sample/s")


def test_user_workload():
    w = symsys.Workload("gemm", flops_per_sample=symsys.Q_(2 * 4096**3, "FLOP"),
                        bytes_per_sample=symsys.Q_(3 * 2 * 4096**2, "B"))
    r = Engine.solve(w, "H100", batch_size=1)
    assert r.latency.m_as("s") == pytest.approx(2 * 4096**3 / 989.4e12, rel=1e-3)


def test_bad_inputs_are_named():
    with pytest.raises(InvalidParameter, match="batch_size=0"):
        Engine.solve(LLAMA, "H100", batch_size=0)
    with pytest.raises(InvalidParameter, match="batch_size=1.5"):
        Engine.solve(LLAMA, "H100", batch_size=1.5)
    with pytest.raises(InvalidParameter, match="efficiency=1.2"):
        Engine.solve(LLAMA, "H100", efficiency=1.2)
    with pytest.raises(InvalidParameter, match="phase='prefill' needs seq_len"):
        Engine.solve(LLAMA, "H100", phase="prefill")
    with pytest.raises(UnsupportedPrecision, match="it has bf16, int8"):
        Engine.solve(LLAMA, "TPUv5e", precision="fp16")


def test_derivation_substitutes_this_case():
    text = Engine.solve(LLAMA, Hardware.H100).derivation()
    assert "no cached context" in text
    assert (r"T &= n_{kern} t_{kern} + t_{aux,step} + t_{o} + \max\left(t_{\mathrm{compute}}, "
            r"t_{\mathrm{memory}}\right) = 0.004481") in text
    assert r"n_{kern} &= 4 L + 1 = 129" in text  # GEMM launches: 4 per layer + the LM head


def test_calibrated_efficiency_uses_the_shipped_profile_per_kernel():
    from symsys.calibration import profile_for

    profile = profile_for("H100", "fp16")
    base = Engine.solve(LLAMA, Hardware.H100)
    r = Engine.solve(LLAMA, Hardware.H100, efficiency="calibrated")
    kernels = 4 * 32 + 1  # QKV, O, up, down per layer, plus the LM head
    expected = base.latency_memory.m_as("s") / profile.eta_m + kernels * profile.t_o
    assert r.latency.m_as("s") == pytest.approx(expected, rel=1e-12)
    assert "calibrated profile H100 fp16" in r.efficiency_source
    assert Engine.solve(LLAMA, Hardware.H100, efficiency=profile).latency == r.latency
    with pytest.raises(InvalidParameter, match="profiles exist for A100 fp16, H100 fp16"):
        Engine.solve(LLAMA, Hardware.B200, efficiency="calibrated")
    with pytest.raises(InvalidParameter, match="efficiency='fast'"):
        Engine.solve(LLAMA, Hardware.H100, efficiency="fast")


# --- issue 15: physical capacity, MLA in the absorbed form, context beyond the model's -----------
@pytest.mark.parametrize("key,visible", [
    # what the device reports as its total (nvidia-smi MiB, rocm-smi bytes): physical memory
    # in GiB, less what the driver reserves -- never more than the registry's capacity
    ("A100", 81_920 * 2**20), ("H100", 81_559 * 2**20), ("H200", 143_771 * 2**20),
    ("B200", 182_784 * 2**20), ("MI300X", 205_822_885_888),
])
def test_hbm_capacity_is_binary_and_covers_what_the_driver_reports(key, visible):
    capacity = Hardware[key].memory.capacity.m_as("B")
    assert capacity % 2**30 == 0 and capacity >= visible
    assert (capacity - visible) / capacity < 0.025  # the reserve is small: 0 to 2.1 %
    assert Hardware[key].memory.capacity_stated.endswith(" GB")


def test_mla_decode_attends_in_the_absorbed_form():
    # DeepSeek-V3: 61 layers, 128 heads, latent 512, RoPE key 64, no-RoPE 128, value 128
    summary = Models.DeepSeek_V3.summary
    assert summary["a_dec"] == 2 * 61 * 128 * ((512 + 64) + 512)  # 17.0 MFLOP per pair
    assert summary["a_attn"] == 2 * 61 * 128 * ((128 + 64) + 128)  # 5.0: prefill decompresses
    r = Engine.solve("DeepSeek_V3", "H200", seq_len=4096)
    no_context = Engine.solve("DeepSeek_V3", "H200", seq_len=0)
    attention = r.flops.m_as("FLOP") - no_context.flops.m_as("FLOP")
    assert attention == pytest.approx(summary["a_dec"] * 4096, rel=1e-12)
    # a GQA model's decode and prefill attend over the same head dimensions
    llama = Models.Llama3_8B.summary
    assert llama["a_dec"] == llama["a_attn"] == 2 * 32 * 32 * (128 + 128)


def test_a_context_beyond_the_model_is_a_warning_that_names_it():
    from symsys.errors import BeyondMaxContext

    with pytest.warns(BeyondMaxContext, match=r"Mistral_7B: 40001 tokens .* \(32768\)"):
        Engine.solve("Mistral_7B", "H100", seq_len=40_000)
    with pytest.warns(BeyondMaxContext, match="GPT2"):
        symsys.sweep("GPT2", "H100", seq_len=[512, 2048])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Engine.solve("Mistral_7B", "H100", seq_len=32_767)  # 32768 tokens held: within
