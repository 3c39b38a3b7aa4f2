"""Hugging Face config.json loading: ``symsys.Models.from_hf_config(path_or_dict)``.

Every fixture (written from the published config.json of the model) loads into the same
shape as the registry entry of that model, so its derived parameter count is the registry's
exactly, and it solves. Broken or unsupported configs are RegistryErrors that name the file
and the fields; a hypothesis fuzz of damaged configs finds nothing else.
"""

import copy
import dataclasses
import json
import math
import os
import pickle
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import symsys
from symsys import Engine, Models
from symsys.errors import InvalidParameter, RegistryError, SymsysError
from symsys.registry.hf import SUPPORTED
from symsys.registry.models import Shape, Transformer

FIXTURES = Path(__file__).parent / "fixtures" / "hf_configs"

#: SYMSYS_FUZZ_SCALE=10 multiplies every example count below (a deeper run than CI's)
SCALE = int(os.environ.get("SYMSYS_FUZZ_SCALE", "1"))


def examples(n: int, *checks: HealthCheck):
    """Settings for one fuzz or property: ``n`` examples (times SCALE), no deadline."""
    return settings(max_examples=n * SCALE, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           *checks])

#: fixture -> registry key of the same model
REGISTRY = {
    "llama3_8b": "Llama3_8B", "mistral_7b": "Mistral_7B", "mixtral_8x7b": "Mixtral_8x7B",
    "qwen2_5_7b": "Qwen2_5_7B", "gemma2_9b": "Gemma2_9B", "gpt2": "GPT2",
    "opt_6_7b": "OPT_6_7B", "phi3_mini": "Phi3_Mini", "pythia_6_9b": "Pythia_6_9B",
    "deepseek_v3": "DeepSeek_V3",
}
VALID = sorted(p.stem for p in FIXTURES.glob("*.json")
               if not p.stem.startswith(("broken", "unsupported")))


def _config(stem: str) -> dict:
    return json.loads((FIXTURES / f"{stem}.json").read_text())


def test_every_supported_architecture_has_a_fixture():
    types = {_config(stem)["model_type"] for stem in VALID}
    assert types == set(SUPPORTED)
    assert set(REGISTRY) <= set(VALID)


@pytest.mark.parametrize("stem", VALID)
def test_fixture_loads_and_solves(stem):
    model = Models.from_hf_config(FIXTURES / f"{stem}.json")
    assert isinstance(model, Transformer) and model.key == f"hf:{stem}"
    assert model.group == "Language" and "config.json" in str(model.source)
    n = model.parameters.m_as("param")
    assert n > 1e8 and n == int(n)
    for kw in ({}, {"batch_size": 32, "seq_len": 2048},
               {"phase": "prefill", "seq_len": 512, "batch_size": 4}):
        r = Engine.solve(model, "H200", **kw)
        assert math.isfinite(r.latency.m_as("s")) and r.latency.m_as("s") > 0
        assert all(math.isfinite(v) for v in r.raw.values())


@pytest.mark.parametrize("stem", sorted(REGISTRY))
def test_parameter_count_equals_the_registry_entry_exactly(stem):
    loaded = Models.from_hf_config(str(FIXTURES / f"{stem}.json"))
    entry = Models[REGISTRY[stem]]
    assert loaded.parameters == entry.parameters  # exact: derived by the same law
    assert loaded.shape == entry.shape
    assert loaded.summary == entry.summary
    a = Engine.solve(loaded, "H100", batch_size=8, seq_len=1024)
    b = Engine.solve(entry, "H100", batch_size=8, seq_len=1024)
    assert a.raw == b.raw


def test_named_examples():
    assert Models.from_hf_config(FIXTURES / "llama3_8b.json").parameters == \
        Models.Llama3_8B.parameters
    assert Models.from_hf_config(FIXTURES / "llama3_8b.json").parameters.m_as("param") == \
        8_030_261_248
    # Gemma 7B has no registry entry: the Gemma report gives 8.54B parameters
    gemma = Models.from_hf_config(FIXTURES / "gemma_7b.json")
    assert gemma.parameters.m_as("param") == pytest.approx(8.54e9, rel=1e-3)
    assert gemma.shape.tied_embeddings and gemma.shape.head_dim == 256


def test_dict_path_and_folder_give_the_same_model(tmp_path):
    data = _config("mixtral_8x7b")
    (tmp_path / "config.json").write_text(json.dumps(data))
    models = [Models.from_hf_config(data), Models.from_hf_config(tmp_path),
              Models.from_hf_config(str(tmp_path / "config.json"))]
    assert len({m.parameters.m_as("param") for m in models}) == 1
    assert models[0].key == "hf:mixtral" and models[1].key == f"hf:{tmp_path.name}"
    named = Models.from_hf_config(data, key="my-mixtral", name="My Mixtral")
    assert (named.key, named.name) == ("my-mixtral", "My Mixtral")
    hub = Models.from_hf_config({**data, "_name_or_path": "mistralai/Mixtral-8x7B-v0.1"})
    assert hub.key == "hf:mistralai/Mixtral-8x7B-v0.1" and hub.hf_id.startswith("mistralai")


def test_loaded_models_work_with_every_solver_and_pickle():
    model = Models.from_hf_config(FIXTURES / "qwen2_5_7b.json")
    r = symsys.sweep(model=[model, "Llama3_8B"], hardware="H100", batch_size=[1, 64])
    assert set(r.model) == {"hf:qwen2_5_7b", "Llama3_8B"}
    assert symsys.ServingModel().solve(model, "H100", prompt_len=128, output_len=16).e2e_latency.m_as("s") > 0
    assert symsys.SensitivitySolver().solve(model, "H100").binding_constraint
    clone = pickle.loads(pickle.dumps(model))
    assert clone.parameters == model.parameters and clone.key == model.key


def test_documented_defaults_are_recorded_in_notes():
    gpt2 = Models.from_hf_config(FIXTURES / "gpt2.json")
    assert gpt2.shape.d_ff == 4 * 768 and "n_inner null" in gpt2.notes
    assert "tie_word_embeddings absent" in gpt2.notes
    data = _config("llama3_8b")
    del data["num_key_value_heads"]
    mha = Models.from_hf_config(data)
    assert mha.shape.kv_heads == 32 and "num_key_value_heads absent" in mha.notes
    assert Models.from_hf_config({**data, "head_dim": 64}).shape.head_dim == 64


# --- broken and unsupported configs --------------------------------------------------------------
def _raises(config, *needles):
    with pytest.raises(RegistryError) as info:
        Models.from_hf_config(config)
    message = str(info.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, (needle, message)
    return message


def test_broken_fixture_names_the_file_and_every_missing_field():
    _raises(FIXTURES / "broken_missing_fields.json", "broken_missing_fields.json",
            "num_attention_heads", "intermediate_size", "'llama'")


def test_unsupported_architecture_names_it_and_the_supported_ones():
    _raises(FIXTURES / "unsupported_arch.json", "unsupported_arch.json", "'mamba'",
            "llama", "deepseek_v3")


@pytest.mark.parametrize("edit, needles", [
    ({"model_type": None}, ["missing field model_type"]),
    ({"model_type": "bert"}, ["'bert' is not supported"]),
    ({"model_type": 3}, ["model_type 3"]),
    ({"hidden_size": None, "vocab_size": None}, ["hidden_size, vocab_size"]),
    ({"hidden_size": "4096"}, ["hidden_size = '4096'", "positive integer"]),
    ({"hidden_size": 4096.0}, ["hidden_size = 4096.0"]),
    ({"num_hidden_layers": 0}, ["num_hidden_layers = 0"]),
    ({"num_hidden_layers": -32}, ["num_hidden_layers = -32"]),
    ({"num_hidden_layers": True}, ["num_hidden_layers = True"]),
    ({"vocab_size": 2**60}, ["vocab_size", "2**53"]),
    ({"num_key_value_heads": 5}, ["kv_heads = 5", "divide heads = 32"]),
    ({"num_key_value_heads": "8"}, ["num_key_value_heads = '8'"]),
    ({"tie_word_embeddings": "false"}, ["tie_word_embeddings = 'false'", "true or false"]),
    ({"attention_bias": True}, ["attention_bias = True", "not modelled"]),
    ({"head_dim": None, "hidden_size": 4100}, ["head_dim", "4100"]),
    ({"max_position_embeddings": "8k"}, ["max_position_embeddings = '8k'"]),
])
def test_damaged_llama_config_names_the_field(edit, needles):
    data = {k: v for k, v in {**_config("llama3_8b"), **edit}.items() if v is not None}
    message = _raises(data, "config dict", *needles)
    assert "Traceback" not in message


@pytest.mark.parametrize("stem, edit, needles", [
    ("gpt2", {"n_embd": 770}, ["n_embd 770", "n_head 12"]),
    ("gpt2", {"add_cross_attention": True}, ["add_cross_attention"]),
    ("gpt2", {"n_positions": None}, ["n_positions"]),
    ("opt_6_7b", {"word_embed_proj_dim": 512}, ["word_embed_proj_dim"]),
    ("opt_6_7b", {"do_layer_norm_before": False}, ["post-LN"]),
    ("mixtral_8x7b", {"num_experts_per_tok": 9}, ["active_experts = 9", "experts = 8"]),
    ("mixtral_8x7b", {"num_local_experts": None}, ["num_local_experts"]),
    ("deepseek_v3", {"moe_layer_freq": 2}, ["moe_layer_freq"]),
    ("deepseek_v3", {"q_lora_rank": None}, ["q_lora_rank"]),
    ("deepseek_v3", {"first_k_dense_replace": 99}, ["first_k_dense_replace = 99"]),
    ("deepseek_v3", {"n_shared_experts": -1}, ["n_shared_experts = -1"]),
    ("gemma_7b", {"head_dim": None}, ["head_dim"]),
    ("pythia_6_9b", {"attention_bias": False}, ["attention_bias"]),
])
def test_damaged_configs_of_other_architectures(stem, edit, needles):
    data = {k: v for k, v in {**_config(stem), **edit}.items() if v is not None}
    _raises(data, *needles)


def test_unreadable_files_name_the_path(tmp_path):
    _raises(tmp_path / "nope.json", "nope.json", "cannot read")
    _raises(tmp_path, str(tmp_path / "config.json"))  # a folder without config.json
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    _raises(bad, "bad.json", "not valid JSON")
    listing = tmp_path / "list.json"
    listing.write_text("[1, 2]")
    _raises(listing, "list.json", "JSON object")
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00")
    _raises(binary, "binary.json")
    with pytest.raises(InvalidParameter, match="path_or_dict=42"):
        Models.from_hf_config(42)


# --- hypothesis -----------------------------------------------------------------------------------
JUNK = st.one_of(st.none(), st.booleans(), st.integers(-2**64, 2**64),
                 st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5),
                 st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=2),
                                                                      st.integers(), max_size=2))


@st.composite
def damaged_configs(draw) -> dict:
    data = copy.deepcopy(_config(draw(st.sampled_from(VALID))))
    keys = sorted(data)
    for key in draw(st.lists(st.sampled_from(keys), unique=True, max_size=4)):
        del data[key]
    for key in draw(st.lists(st.sampled_from(keys), unique=True, max_size=3)):
        data[key] = draw(JUNK)
    if draw(st.booleans()):  # plausible-but-wrong sizes, not only junk types
        key = draw(st.sampled_from(keys))
        data[key] = draw(st.integers(1, 2**20))
    return data


@examples(400)
@given(damaged_configs())
def test_fuzz_damaged_configs_load_or_raise_registry_error(data):
    try:
        model = Models.from_hf_config(data)
    except RegistryError as exc:
        event("RegistryError")
        assert str(exc).startswith("config dict: ") and "\n" not in str(exc)
        return
    event("loaded")
    n = model.parameters.m_as("param")
    assert math.isfinite(n) and n > 0
    assert model.active_parameters.m_as("param") <= n
    try:
        r = Engine.solve(model, "B200", batch_size=4, seq_len=128)
    except SymsysError as exc:  # only a shape far outside any real model may overflow
        assert "inf or NaN" in str(exc)
        return
    assert all(math.isfinite(v) for v in r.raw.values())


@st.composite
def llama_configs(draw) -> tuple[dict, Shape]:
    kv = draw(st.integers(1, 16))
    heads = kv * draw(st.integers(1, 8))
    head_dim = draw(st.sampled_from([32, 64, 80, 96, 128, 256]))
    hidden = draw(st.sampled_from([heads * head_dim, 256 * draw(st.integers(1, 64))]))
    layers, d_ff = draw(st.integers(1, 128)), draw(st.integers(1, 65536))
    vocab, tied = draw(st.integers(1, 300_000)), draw(st.booleans())
    model_type = draw(st.sampled_from(["llama", "mistral", "qwen2", "phi3"]))
    config = {"model_type": model_type, "num_hidden_layers": layers, "hidden_size": hidden,
              "num_attention_heads": heads, "num_key_value_heads": kv, "head_dim": head_dim,
              "intermediate_size": d_ff, "vocab_size": vocab, "tie_word_embeddings": tied}
    shape = Shape(layers=layers, d_model=hidden, heads=heads, kv_heads=kv, head_dim=head_dim,
                  d_ff=d_ff, vocab=vocab, gated_mlp=True, tied_embeddings=tied,
                  bias="qkv" if model_type == "qwen2" else False)
    return config, shape


@examples(150)
@given(llama_configs())
def test_random_valid_configs_load_with_the_hand_counted_parameters(case):
    config, shape = case
    model = Models.from_hf_config(config)
    assert dataclasses.replace(model.shape, max_positions=0) == shape
    L, d, h, kv, dh = shape.layers, shape.d_model, shape.heads, shape.kv_heads, shape.head_dim
    qkv_bias = (h * dh + 2 * kv * dh) if shape.bias == "qkv" else 0
    per_layer = 2 * d * h * dh + 2 * d * kv * dh + qkv_bias + 3 * d * shape.d_ff + 2 * d
    hand = L * per_layer + shape.vocab * d * (1 if shape.tied_embeddings else 2) + d
    assert model.parameters.m_as("param") == hand
    assert Engine.solve(model, "H100").latency.m_as("s") > 0
