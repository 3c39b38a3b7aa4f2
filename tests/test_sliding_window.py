"""Sliding-window attention: windowed layers keep, read and attend to at most w positions.

Hand values: Mistral-7B-v0.1 caches 2 (K and V) x 8 KV heads x 128 dims = 2048 elements per
token per layer, 4096 bytes at fp16, in each of its 32 layers, every one windowed at 4096;
Gemma-2-9B caches 2 x 8 x 256 = 4096 elements (8192 bytes) per token per layer in 42 layers,
21 of them windowed at 4096.
"""

from __future__ import annotations

import warnings

import pytest

import symsys
from symsys.errors import BeyondMaxContext, RegistryError
from symsys.laws import decode, decode_sums, prefill, training
from symsys.laws.inference import NO_WINDOW
from symsys.registry.hf import MAX_COUNT
from symsys.registry.models import Models
from symsys.solvers.serving import decode_total
from symsys.symbols import L, L_w, b, bytes_kv, e_kv, s, w_sw

MISTRAL_TOKEN_LAYER = 2 * 8 * 128 * 2  # bytes of K/V per token per layer, fp16
GEMMA_TOKEN_LAYER = 2 * 8 * 256 * 2


def _decode(model, seq_len, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BeyondMaxContext)
        return symsys.Engine.solve(model, "H100", precision="fp16", seq_len=seq_len, **options)


# --- the registry and the config reader ----------------------------------------------------
def test_registry_windows_are_sourced():
    expected = {"Mistral_7B": (4096, 32), "Gemma2_9B": (4096, 21), "Gemma2_27B": (4096, 23),
                "Phi3_Mini": (2047, 32)}
    for key, (window, layers) in expected.items():
        model = Models[key]
        assert (model.shape.sliding_window, model.shape.window_layers) == (window, layers)
        for name in ("shape.sliding_window", "shape.window_layers"):
            assert model.source_of(name).url.startswith("https://")
    mistral = Models.Mistral_7B
    assert "Mistral-7B-v0.1/blob/main/config.json" in mistral.source_of(
        "shape.sliding_window").url
    for key in ("Llama3_8B", "Mixtral_8x7B", "Qwen2_5_7B", "DeepSeek_V3", "GPT3"):
        assert Models[key].shape.window_inputs() == {"L_w": 0, "w_sw": MAX_COUNT}


def test_no_window_value_is_the_laws_default():
    assert MAX_COUNT == NO_WINDOW
    for law in (decode, prefill, decode_sums, training):
        assert law.defaults[L_w] == 0 and law.defaults[w_sw] == NO_WINDOW


def test_a_window_needs_both_fields():
    shape = dict(layers=2, d_model=8, heads=2, kv_heads=1, head_dim=4, d_ff=16, vocab=10)
    with pytest.raises(symsys.errors.InvalidParameter, match="window_layers"):
        symsys.registry.models.Shape(**shape, sliding_window=4)
    with pytest.raises(symsys.errors.InvalidParameter, match="sliding_window"):
        symsys.registry.models.Shape(**shape, window_layers=1)
    with pytest.raises(symsys.errors.InvalidParameter, match="cannot exceed"):
        symsys.registry.models.Shape(**shape, sliding_window=4, window_layers=3)


def _config(model_type, **fields):
    return {"model_type": model_type, "num_hidden_layers": 42, "hidden_size": 3584,
            "num_attention_heads": 16, "num_key_value_heads": 8, "head_dim": 256,
            "intermediate_size": 14336, "vocab_size": 256000, **fields}


@pytest.mark.parametrize(("config", "window"), [
    (_config("mistral", sliding_window=4096), (4096, 42)),
    (_config("mistral", sliding_window=None), (None, 0)),  # Mistral-7B-v0.2/v0.3
    (_config("phi3", sliding_window=2047), (2047, 42)),
    (_config("gemma2", sliding_window=4096), (4096, 21)),  # layers 0, 2, ..., 40
    (_config("qwen2", sliding_window=131072, use_sliding_window=False, max_window_layers=28),
     (None, 0)),  # the Qwen2.5 release configs
    (_config("qwen2", sliding_window=4096, use_sliding_window=True, max_window_layers=28),
     (4096, 14)),
    (_config("llama", sliding_window=1024,
             layer_types=["sliding_attention", "full_attention"] * 21), (1024, 21)),
])
def test_hf_config_windows(config, window):
    shape = Models.from_hf_config(config).shape
    assert (shape.sliding_window, shape.window_layers) == window


def test_hf_config_rejects_odd_layer_types():
    config = _config("llama", sliding_window=8, layer_types=["chunked_attention"] * 42)
    with pytest.raises(RegistryError, match="layer_types"):
        Models.from_hf_config(config)


# --- decode: K/V read, attention FLOPs, footprint ------------------------------------------
@pytest.mark.parametrize("context", [4096, 16384, 32768])
def test_mistral_decode_reads_at_most_the_window(context):
    result = _decode("Mistral_7B", context)
    windowed = MISTRAL_TOKEN_LAYER * 32 * min(context, 4096)
    assert result.raw["KV_read"] == pytest.approx(windowed, rel=1e-12)
    assert windowed == 536_870_912  # 0.54 GB at every context, not 2.15 / 4.29 GB
    # the cache holds s + 1 positions, the windowed layers at most w of them
    assert result.raw["M_kv"] == pytest.approx(MISTRAL_TOKEN_LAYER * 32 * min(context + 1, 4096))
    # attention: 4 h d_h FLOPs per layer per attended key, on min(s, w) keys
    attention = result.raw["F"] - _decode("Mistral_7B", 0).raw["F"]
    assert attention == pytest.approx(4 * 32 * 128 * 32 * min(context, 4096), rel=1e-9)


@pytest.mark.parametrize("context", [2048, 4096, 8000])
def test_gemma2_decode_windows_half_the_layers(context):
    result = _decode("Gemma2_9B", context)
    hand = GEMMA_TOKEN_LAYER * (21 * context + 21 * min(context, 4096))
    assert result.raw["KV_read"] == pytest.approx(hand, rel=1e-12)
    assert result.raw["s_kv"] == pytest.approx((context + min(context, 4096)) / 2)


def test_a_model_without_window_is_unchanged():
    result = _decode("Llama3_8B", 8000)
    # 32 layers x 2 x 8 heads x 128 dims x 2 bytes per token, over all 8000 cached tokens
    assert result.raw["KV_read"] == 131072 * 8000
    assert result.raw["M_kv"] == 131072 * 8001
    assert result.raw["s_kv"] == 8000
    # the law with no window is the law as it was: the window's terms vanish exactly
    assert decode.expr("KV_read").xreplace({L_w: 0}) == bytes_kv * e_kv * s * b
    assert decode.expr("M_kv").xreplace({L_w: 0}) == bytes_kv * e_kv * b * (s + 1)
    assert prefill.expr("n_qk").xreplace({L_w: 0}) == s**2 / 2


def test_max_batch_grows_with_the_window():
    # at 32k context Mistral keeps 4096 positions per sequence, not 32k: 8x the batch fits
    mistral = _decode("Mistral_7B", 32000)
    free = mistral.inputs.values["C_mem"] - mistral.raw["W_res"]
    per_sequence = MISTRAL_TOKEN_LAYER * 32 * 4096
    assert mistral.max_batch_size == int(free // per_sequence)
    unwindowed = MISTRAL_TOKEN_LAYER * 32 * 32001
    assert mistral.max_batch_size >= 7 * int(free // unwindowed)
    gemma = _decode("Gemma2_9B", 8000)
    free = gemma.inputs.values["C_mem"] - gemma.raw["W_res"]
    assert gemma.max_batch_size == int(free // (GEMMA_TOKEN_LAYER * 21 * (8001 + 4096)))


# --- prefill: the band of keys within the window -------------------------------------------
def _pairs_by_hand(prompt, window):
    """Query-key pairs of one windowed layer, in the law's continuous count: the causal
    triangle s^2/2 up to the window, then the band w s - w^2/2."""
    return prompt**2 / 2 if prompt <= window else window * prompt - window**2 / 2


@pytest.mark.parametrize("prompt", [2048, 16384])
def test_mistral_prefill_attention_is_the_band(prompt):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BeyondMaxContext)
        result = symsys.Engine.solve("Mistral_7B", "H100", precision="fp16", phase="prefill",
                                     seq_len=prompt)
    assert result.raw["n_qk"] == _pairs_by_hand(prompt, 4096)
    a_attn = Models.Mistral_7B.summary["a_attn"]
    assert a_attn == 2 * 32 * 32 * (128 + 128)
    # attention FLOPs: a_attn per query-key pair; the rest of F is the matmuls (the LM head
    # at the last position only)
    matmuls = result.raw["F"] - a_attn * _pairs_by_hand(prompt, 4096)
    assert matmuls == pytest.approx(2 * Models.Mistral_7B.summary["N_dense"] * prompt
                                    - 2 * 32000 * 4096 * (prompt - 1), rel=1e-12)
    if prompt > 4096:  # the band: 58.7M pairs per layer at 16k, not the triangle's 134.2M
        assert result.raw["n_qk"] == 4096 * 16384 - 4096**2 / 2 == 58_720_256


def test_gemma2_prefill_pairs_average_two_kinds_of_layer():
    result = symsys.Engine.solve("Gemma2_9B", "H100", precision="fp16", phase="prefill",
                                 seq_len=8000)
    assert result.raw["n_qk"] == pytest.approx((8000**2 / 2 + _pairs_by_hand(8000, 4096)) / 2)


def test_the_band_law():
    law = prefill.expr("n_qk")
    band = law.xreplace({L_w: L})  # every layer windowed
    for prompt, window in ((100, 300), (300, 100), (1000, 1000)):
        assert float(band.xreplace({s: prompt, w_sw: window})) == _pairs_by_hand(prompt, window)


# --- serving: the closed-form sums across the window ---------------------------------------
def _loop(model, prompt, output, batch):
    total, memory = 0.0, 0
    for j in range(1, output):
        step = _decode(model, prompt + j, batch_size=batch)
        total += step.raw["T"]
        memory += step.raw["t_memory"] > step.raw["t_compute"]
    return total, memory


@pytest.mark.parametrize(("model", "prompt", "output", "batch"), [
    ("Mistral_7B", 4000, 300, 1),     # crosses the window at token 96
    ("Mistral_7B", 3000, 400, 512),   # compute-bound until the attention grows, then capped
    ("Gemma2_9B", 3900, 400, 1),
    ("Gemma2_9B", 1000, 4000, 1024),  # the regime flips past the window
    ("Llama3_8B", 1000, 300, 256),
])
def test_serving_sums_match_the_step_loop(model, prompt, output, batch):
    first = _decode(model, prompt + 1, batch_size=batch)
    seconds, memory = decode_total(first.inputs.values, prompt, output - 1,
                                   first.scenario.variant)
    loop_seconds, loop_memory = _loop(model, prompt, output, batch)
    assert seconds == pytest.approx(loop_seconds, rel=1e-9)
    assert memory == loop_memory


def test_serving_reflects_the_window():
    serving = symsys.ServingModel().solve("Mistral_7B", "H100", prompt_len=8000,
                                          output_len=4000, precision="fp16")
    # every decode step reads the weights and 4096 positions: the ITL does not grow
    assert serving.itl_mean.m_as("s") == pytest.approx(serving.itl.m_as("s"), rel=1e-12)
    assert serving.kv_cache.m_as("B") == MISTRAL_TOKEN_LAYER * 32 * 4096


def test_training_law_has_no_window_by_default():
    flat = training.expr("F_attn")
    assert flat.xreplace({L_w: 0}) == flat.xreplace({L_w: 0, w_sw: NO_WINDOW})
    assert L_w in training.inputs and w_sw in training.inputs
