"""Hugging Face ``config.json`` -> the fields of a registry transformer, offline.

``read_config(path_or_dict)`` reads the shape fields of the common decoder architectures
(``model_type`` llama, mistral, mixtral, qwen2, gemma, gemma2, gpt2, gpt_neox, opt, phi3,
deepseek_v3) and the entry's provenance as plain data; ``Models.from_hf_config``
(:mod:`symsys.registry.models`) builds the :class:`~symsys.registry.models.Shape` and
``Transformer`` from them, so this reader needs nothing from the model zoo. The parameter
count is then derived by the parameter law, as for every registry entry. Nothing is downloaded.

Every field that sets a weight matrix's size is required: a config without it is an error that
names the file and every missing field (no silent ``kv_heads or heads or 32``). The only
defaults applied are the ones the ``transformers`` config classes document for an absent field
(``num_key_value_heads`` absent = multi-head attention, ``head_dim`` absent = hidden_size /
num_attention_heads, ``n_inner`` null = 4 n_embd, ``tie_word_embeddings`` per architecture);
each one applied is recorded in the model's ``notes``. Conventions follow the registry: a
learned position table has ``max_position_embeddings`` rows (OPT's offset of 2 is ignored, as
in ``models_language.toml``); DeepSeek's multi-token-prediction layers are not counted.

Sliding-window attention is read as the ``transformers`` model classes apply it: a
``layer_types`` list, where present, names each layer (``sliding_attention`` or
``full_attention``); otherwise mistral, mixtral and phi3 window every layer when
``sliding_window`` is a number (null: none); gemma2 windows every other layer (layers 0, 2,
4, ...: ceil(L/2) of them); qwen2 windows the layers from ``max_window_layers`` on only when
``use_sliding_window`` is true (false, the Qwen2/2.5 release configs, means none, whatever
``sliding_window`` says).
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from symsys.errors import InvalidParameter, RegistryError
from symsys.registry.common import Source, parse_table, read_text, shown

#: largest count accepted: integers above 2**53 are not exact as floats
MAX_COUNT = 2**53

_LLAMA = ("num_hidden_layers", "hidden_size", "num_attention_heads", "intermediate_size",
          "vocab_size")
#: model_type -> (required fields, tie_word_embeddings default of its transformers config)
ARCHITECTURES: dict[str, tuple[tuple[str, ...], bool]] = {
    "llama": (_LLAMA, False),
    "mistral": (_LLAMA, False),
    "qwen2": (_LLAMA, False),
    "phi3": (_LLAMA, False),
    "mixtral": ((*_LLAMA, "num_local_experts", "num_experts_per_tok"), False),
    "gemma": ((*_LLAMA, "head_dim"), True),
    "gemma2": ((*_LLAMA, "head_dim"), True),
    "gpt2": (("n_layer", "n_embd", "n_head", "vocab_size", "n_positions"), True),
    "gpt_neox": (_LLAMA, False),
    "opt": (("num_hidden_layers", "hidden_size", "num_attention_heads", "ffn_dim", "vocab_size",
             "max_position_embeddings"), True),
    "deepseek_v3": ((*_LLAMA, "moe_intermediate_size", "n_routed_experts", "num_experts_per_tok",
                     "n_shared_experts", "first_k_dense_replace", "q_lora_rank", "kv_lora_rank",
                     "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim"), False),
}
SUPPORTED = tuple(ARCHITECTURES)


class _Config:
    """Typed access to one config; every error names the file (or 'config dict') and field."""

    def __init__(self, data: Mapping, where: str):
        self.data = data
        self.where = where
        self.notes: list[str] = []

    def error(self, message: str) -> RegistryError:
        return RegistryError(f"{self.where}: {message}")

    def count(self, key: str, default=None) -> int:
        """A positive integer field (required unless ``default`` is given)."""
        value = self.data.get(key)
        if value is None:
            if default is None:
                raise self.error(f"missing field {key}")
            return default
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_COUNT:
            raise self.error(f"{key} = {shown(value)}: expected a positive integer (at most "
                             "2**53)")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(f"{key} = {shown(value)}: expected true or false")
        return value

    def unsupported(self, what: str) -> RegistryError:
        return self.error(f"{what} is not modelled by symsys (model_type "
                          f"{shown(self.data.get('model_type'))})")


def _read(path_or_dict) -> tuple[Mapping, str]:
    if isinstance(path_or_dict, Mapping):
        return path_or_dict, "config dict"
    if not isinstance(path_or_dict, str | os.PathLike):
        raise InvalidParameter(f"path_or_dict={path_or_dict!r}: expected the path of a "
                               "config.json (or its folder) or the config as a dict")
    path = Path(path_or_dict)
    if path.is_dir():
        path = path / "config.json"
    kind = "TOML" if path.suffix.lower() == ".toml" else "JSON"
    # the one reader of users' files: a missing, unreadable or non-UTF-8 file, a syntax
    # error, deep nesting, NaN/Infinity and a top level that is not an object are errors
    # naming the file
    return parse_table(read_text(path, "config"), str(path), kind, "config"), str(path)


def _head_dim(c: _Config, hidden: int, heads: int) -> int:
    if c.data.get("head_dim") is not None:
        return c.count("head_dim")
    if hidden % heads:
        raise c.error(f"missing field head_dim (hidden_size {hidden} is not a multiple of "
                      f"num_attention_heads {heads})")
    c.notes.append("head_dim absent: hidden_size / num_attention_heads")
    return hidden // heads


def _kv_heads(c: _Config, heads: int) -> int:
    if c.data.get("num_key_value_heads") is None:
        c.notes.append("num_key_value_heads absent: multi-head attention (= num_attention_heads)")
        return heads
    return c.count("num_key_value_heads")


def _llama_like(c: _Config, model_type: str) -> dict:
    layers, hidden = c.count("num_hidden_layers"), c.count("hidden_size")
    heads = c.count("num_attention_heads")
    shape = dict(layers=layers, d_model=hidden, heads=heads, kv_heads=_kv_heads(c, heads),
                 head_dim=_head_dim(c, hidden, heads), d_ff=c.count("intermediate_size"),
                 vocab=c.count("vocab_size"), gated_mlp=True, norm="rmsnorm", position="rope",
                 max_positions=c.count("max_position_embeddings", 0))
    if model_type == "qwen2":
        shape["bias"] = "qkv"  # hard-wired in Qwen2Attention: q/k/v carry biases, o does not
    else:  # the others have bias-free linears unless a config turns biases on
        attention, mlp = c.flag("attention_bias", False), c.flag("mlp_bias", False)
        if attention != mlp:
            raise c.unsupported(f"attention_bias = {attention} with mlp_bias = {mlp}")
        shape["bias"] = attention
    if model_type == "gemma2":
        shape["norms_per_layer"] = 4  # pre- and post-norms around attention and MLP
    if model_type == "mixtral":
        shape.update(experts=c.count("num_local_experts"),
                     active_experts=c.count("num_experts_per_tok"),
                     expert_d_ff=shape["d_ff"], dense_layers=0)
    return shape


def _gpt2(c: _Config) -> dict:
    hidden, heads = c.count("n_embd"), c.count("n_head")
    if c.flag("add_cross_attention", False):
        raise c.unsupported("add_cross_attention = true")
    if hidden % heads:
        raise c.error(f"n_embd {hidden} is not a multiple of n_head {heads}")
    if c.data.get("n_inner") is None:
        c.notes.append("n_inner null: d_ff = 4 n_embd")
    return dict(layers=c.count("n_layer"), d_model=hidden, heads=heads, kv_heads=heads,
                head_dim=hidden // heads, d_ff=c.count("n_inner", 4 * hidden),
                vocab=c.count("vocab_size"), norm="layernorm", bias=True, position="learned",
                max_positions=c.count("n_positions"))


def _gpt_neox(c: _Config) -> dict:
    hidden, heads = c.count("hidden_size"), c.count("num_attention_heads")
    if not c.flag("attention_bias", True):
        raise c.unsupported("attention_bias = false (the MLP keeps its biases)")
    if hidden % heads:
        raise c.error(f"hidden_size {hidden} is not a multiple of num_attention_heads {heads}")
    return dict(layers=c.count("num_hidden_layers"), d_model=hidden, heads=heads,
                kv_heads=heads, head_dim=hidden // heads, d_ff=c.count("intermediate_size"),
                vocab=c.count("vocab_size"), norm="layernorm", bias=True, position="rope",
                max_positions=c.count("max_position_embeddings", 0))


def _opt(c: _Config) -> dict:
    hidden, heads = c.count("hidden_size"), c.count("num_attention_heads")
    if c.count("word_embed_proj_dim", hidden) != hidden:
        raise c.unsupported("word_embed_proj_dim != hidden_size (project_in/project_out)")
    if not c.flag("do_layer_norm_before", True) or c.flag("_remove_final_layer_norm", False):
        raise c.unsupported("a post-LN OPT without its final layer norm")
    if hidden % heads:
        raise c.error(f"hidden_size {hidden} is not a multiple of num_attention_heads {heads}")
    return dict(layers=c.count("num_hidden_layers"), d_model=hidden, heads=heads,
                kv_heads=heads, head_dim=hidden // heads, d_ff=c.count("ffn_dim"),
                vocab=c.count("vocab_size"), norm="layernorm", bias=c.flag("enable_bias", True),
                position="learned", max_positions=c.count("max_position_embeddings"))


def _deepseek_v3(c: _Config) -> dict:
    if c.count("moe_layer_freq", 1) != 1:
        raise c.unsupported("moe_layer_freq != 1")
    if c.flag("attention_bias", False):
        raise c.unsupported("attention_bias = true")
    heads, layers = c.count("num_attention_heads"), c.count("num_hidden_layers")
    rope, nope = c.count("qk_rope_head_dim"), c.count("qk_nope_head_dim")
    dense = c.data.get("first_k_dense_replace")
    if not isinstance(dense, int) or isinstance(dense, bool) or not 0 <= dense <= layers:
        raise c.error(f"first_k_dense_replace = {shown(dense)}: expected an integer in 0..{layers}")
    shared = c.data.get("n_shared_experts")
    if not isinstance(shared, int) or isinstance(shared, bool) or not 0 <= shared <= MAX_COUNT:
        raise c.error(f"n_shared_experts = {shown(shared)}: expected an integer >= 0")
    return dict(layers=layers, d_model=c.count("hidden_size"), heads=heads,
                kv_heads=_kv_heads(c, heads), head_dim=nope + rope,
                d_ff=c.count("intermediate_size"), vocab=c.count("vocab_size"), gated_mlp=True,
                norm="rmsnorm", position="rope",
                max_positions=c.count("max_position_embeddings", 0),
                experts=c.count("n_routed_experts"), active_experts=c.count("num_experts_per_tok"),
                shared_experts=shared, expert_d_ff=c.count("moe_intermediate_size"),
                dense_layers=dense, q_lora_rank=c.count("q_lora_rank"),
                kv_lora_rank=c.count("kv_lora_rank"), qk_rope_head_dim=rope,
                qk_nope_head_dim=nope, v_head_dim=c.count("v_head_dim"))


#: model types whose transformers class windows every layer when sliding_window is a number
_WINDOW_ALL = ("mistral", "mixtral", "phi3")


def _windowed_layers(c: _Config, model_type: str, layers: int) -> int:
    """How many layers use the sliding window (0: none), as transformers applies it."""
    kinds = c.data.get("layer_types")
    if kinds is not None:
        if not isinstance(kinds, list) or len(kinds) != layers:
            raise c.error(f"layer_types: expected a list of {layers} layer kinds")
        odd = sorted({k for k in kinds if k not in ("sliding_attention", "full_attention")},
                     key=str)
        if odd:
            raise c.unsupported(f"layer_types {odd}")
        return kinds.count("sliding_attention")
    if model_type in _WINDOW_ALL:
        return layers if c.data.get("sliding_window") is not None else 0
    if model_type == "gemma2":  # Gemma2DecoderLayer: even layer indices are local
        return (layers + 1) // 2
    if model_type == "qwen2" and c.flag("use_sliding_window", False):
        first = c.data.get("max_window_layers")  # the first windowed layer's index
        if not isinstance(first, int) or isinstance(first, bool) or first < 0:
            raise c.error(f"max_window_layers = {shown(first)}: expected an integer >= 0 (with "
                          "use_sliding_window true)")
        return max(0, layers - first)
    return 0


def _window(c: _Config, model_type: str, layers: int) -> dict:
    """The ``sliding_window`` and ``window_layers`` shape fields (none without a window)."""
    windowed = _windowed_layers(c, model_type, layers)
    if not windowed:
        if model_type == "qwen2" and c.data.get("sliding_window") is not None:
            c.notes.append("use_sliding_window false: no sliding window")
        return {}
    if model_type == "gemma2" and c.data.get("sliding_window") is None:
        c.notes.append("sliding_window absent: 4096, the gemma2 default")
        return dict(sliding_window=4096, window_layers=windowed)
    return dict(sliding_window=c.count("sliding_window"), window_layers=windowed)


def _shape_fields(c: _Config, model_type: str) -> dict:
    if model_type == "gpt2":
        return _gpt2(c)
    if model_type == "gpt_neox":
        return _gpt_neox(c)
    if model_type == "opt":
        return _opt(c)
    if model_type == "deepseek_v3":
        return _deepseek_v3(c)
    return _llama_like(c, model_type)


@dataclass(frozen=True)
class HFConfig:
    """What a config says: ``Shape`` fields, the other ``Transformer`` fields, and ``where``
    (the file, or "config dict") for error messages."""

    shape: dict
    entry: dict
    where: str


def read_config(path_or_dict, *, key: str | None = None, name: str | None = None) -> HFConfig:
    """The fields of a Hugging Face ``config.json`` (a path, its folder, or the parsed dict),
    read offline. Unsupported or incomplete configs raise
    :class:`~symsys.errors.RegistryError` naming the file and the missing or bad fields."""
    data, where = _read(path_or_dict)
    model_type = data.get("model_type")
    if model_type is None:
        raise RegistryError(f"{where}: missing field model_type (supported: "
                            f"{', '.join(SUPPORTED)})")
    if not isinstance(model_type, str) or model_type not in ARCHITECTURES:
        raise RegistryError(f"{where}: model_type {shown(model_type)} is not supported; supported: "
                            f"{', '.join(SUPPORTED)}")
    required, tied_default = ARCHITECTURES[model_type]
    missing = [f for f in required if data.get(f) is None]
    if missing:
        raise RegistryError(f"{where}: missing field(s) {', '.join(missing)} (required for "
                            f"model_type {model_type!r})")
    c = _Config(data, where)
    fields = _shape_fields(c, model_type)
    fields.update(_window(c, model_type, fields["layers"]))
    if data.get("tie_word_embeddings") is None:
        c.notes.append(f"tie_word_embeddings absent: {str(tied_default).lower()}, the "
                       f"{model_type} default")
    fields["tied_embeddings"] = c.flag("tie_word_embeddings", tied_default)
    return HFConfig(fields, _entry(data, where, model_type, c.notes, key, name), where)


def _entry(data, where, model_type, notes, key, name) -> dict:
    hf_id = data.get("_name_or_path")
    hf_id = hf_id if isinstance(hf_id, str) else ""
    stem = Path(where).stem if where != "config dict" else ""
    label = hf_id or (Path(where).parent.name if stem == "config" else stem) or model_type
    today = datetime.date.today().isoformat()
    url = Path(where).resolve().as_uri() if where != "config dict" else ""
    source = Source(f"Hugging Face config.json ({where})", url, retrieved=today)
    return dict(
        key=key or f"hf:{label}", name=name or f"{label} ({model_type}, from config.json)",
        group="Language", source=source, official_parameters=0.0,
        official_source=Source("none: config.json states no parameter count", "",
                               retrieved=today),
        hf_id=hf_id, architecture="transformer",
        notes="; ".join(["loaded from a Hugging Face config.json; official_parameters = 0 "
                         "(not stated by the config)", *notes]),
    )
