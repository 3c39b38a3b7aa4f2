"""The model zoo: transformers given by shape, vision models by sourced totals.

A transformer's parameter count is never stored: it is derived by the attention and
parameter-count laws from the shape, and ``official_parameters`` is only there to test it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from dataclasses import fields as dc_fields
from functools import cached_property
from pathlib import Path

import pint

from symsys.errors import RegistryError, SymsysError, UnknownModel
from symsys.registry.common import (
    DATA,
    Fields,
    FileCache,
    Source,
    SourcedEntry,
    Zoo,
    entry_key,
    one_entry,
    read_entries,
    read_table_file,
    shown,
    user_source,
)
from symsys.registry.hf import MAX_COUNT, read_config
from symsys.units import to_quantity

GROUPS = ("Language", "Vision")
NORMS = {"rmsnorm": 1, "layernorm": 2}  # d-sized vectors per norm: scale (+ bias)


@dataclass(frozen=True)
class Shape:
    """Everything about a transformer that changes its cost. Validated on construction."""

    layers: int
    d_model: int
    heads: int
    kv_heads: int
    head_dim: int
    d_ff: int
    vocab: int
    gated_mlp: bool = False
    tied_embeddings: bool = False
    norm: str = "rmsnorm"
    bias: bool | str = False
    position: str = "rope"
    max_positions: int = 0
    norms_per_layer: int = 2
    type_vocab: int = 0
    pooler: bool = False
    experts: int = 1
    active_experts: int = 1
    shared_experts: int = 0
    expert_d_ff: int | None = None
    dense_layers: int | None = None
    q_lora_rank: int | None = None
    kv_lora_rank: int | None = None
    qk_rope_head_dim: int | None = None
    qk_nope_head_dim: int | None = None
    v_head_dim: int | None = None
    sliding_window: int | None = None
    window_layers: int = 0

    def __post_init__(self):
        from symsys.errors import InvalidParameter

        def bad(name, why):
            raise InvalidParameter(f"shape.{name} = {shown(getattr(self, name))}: {why}")

        def count(value, low) -> bool:  # counts above 2**53 are not exact as floats
            return isinstance(value, int) and not isinstance(value, bool) and low <= value <= 2**53

        for f in ("layers", "d_model", "heads", "kv_heads", "head_dim", "d_ff", "vocab",
                  "experts", "active_experts", "norms_per_layer"):
            if not count(getattr(self, f), 1):
                bad(f, "must be a positive integer (at most 2**53)")
        for f in ("max_positions", "type_vocab", "shared_experts", "window_layers"):
            if not count(getattr(self, f), 0):
                bad(f, "must be an integer >= 0 (at most 2**53)")
        for f in ("expert_d_ff", "q_lora_rank", "kv_lora_rank", "qk_rope_head_dim",
                  "qk_nope_head_dim", "v_head_dim", "sliding_window"):
            if getattr(self, f) is not None and not count(getattr(self, f), 1):
                bad(f, "must be absent or a positive integer (at most 2**53)")
        for f in ("gated_mlp", "tied_embeddings", "pooler"):
            if not isinstance(getattr(self, f), bool):
                bad(f, "must be true or false")
        if self.heads % self.kv_heads:
            bad("kv_heads", f"must divide heads = {self.heads}")
        if self.active_experts > self.experts:
            bad("active_experts", f"cannot exceed experts = {self.experts}")
        if not isinstance(self.norm, str) or self.norm not in NORMS:
            bad("norm", f"expected one of {', '.join(NORMS)}")
        if not (isinstance(self.bias, bool) or self.bias == "qkv"):
            bad("bias", "expected true, false or 'qkv'")
        if self.position not in ("rope", "learned", "alibi"):
            bad("position", "expected 'rope', 'learned' or 'alibi'")
        if self.position == "learned" and self.max_positions <= 0:
            bad("max_positions", "a learned position table needs its row count")
        if self.is_moe and self.expert_d_ff is None:
            bad("expert_d_ff", "an MoE model needs its experts' FFN dimension")
        if self.dense_layers is not None and not (count(self.dense_layers, 0)
                                                  and self.dense_layers <= self.layers):
            bad("dense_layers", f"must be between 0 and layers = {self.layers}")
        self._check_window(bad)
        mla = (self.q_lora_rank, self.kv_lora_rank, self.qk_rope_head_dim,
               self.qk_nope_head_dim, self.v_head_dim)
        if any(v is not None for v in mla[1:4]) and not all(v is not None for v in mla[1:4]):
            bad("kv_lora_rank", "MLA needs kv_lora_rank, qk_rope_head_dim, qk_nope_head_dim")

    def _check_window(self, bad) -> None:
        if self.window_layers > self.layers:
            bad("window_layers", f"cannot exceed layers = {self.layers}")
        if self.sliding_window is not None and self.window_layers == 0:
            bad("window_layers", "a sliding_window needs the number of layers that use it "
                "(all of them: layers; Gemma-2: every other layer)")
        if self.sliding_window is None and self.window_layers:
            bad("sliding_window", "window_layers > 0 needs the window size")

    @property
    def is_moe(self) -> bool:
        return self.experts > 1

    def window_inputs(self) -> dict:
        """Values of the step laws' sliding-window inputs: L_w windowed layers, window w. A
        model with no window has L_w = 0 and w = 2^53 (longer than any context), the laws'
        own no-window defaults."""
        return dict(L_w=self.window_layers, w_sw=self.sliding_window or MAX_COUNT)

    @property
    def attention(self) -> str:
        return "mla" if self.kv_lora_rank is not None else "gqa"

    def attention_inputs(self) -> dict:
        """Values of the attention law's inputs (``attention_gqa`` or ``attention_mla``)."""
        if self.attention == "mla":
            if self.q_lora_rank is None:
                raise RegistryError("MLA without a query low-rank (q_lora_rank) is not modelled")
            return dict(d=self.d_model, h=self.heads, r_q=self.q_lora_rank,
                        r_kv=self.kv_lora_rank, d_rope=self.qk_rope_head_dim,
                        d_nope=self.qk_nope_head_dim,
                        d_v=self.v_head_dim or self.qk_nope_head_dim)
        return dict(d=self.d_model, h=self.heads, h_kv=self.kv_heads, d_h=self.head_dim,
                    z_qkv=int(self.bias in (True, "qkv")), z_lin=int(self.bias is True))

    def parameter_inputs(self) -> dict:
        """Values of the parameter law's shape inputs (attention summaries excluded)."""
        vectors = NORMS[self.norm]
        return dict(
            L=self.layers, d=self.d_model, h=self.heads, d_ff=self.d_ff,
            n_ff=3 if self.gated_mlp else 2, V=self.vocab, u_head=int(not self.tied_embeddings),
            n_pos=self.max_positions if self.position == "learned" else 0, n_tt=self.type_vocab,
            z_lin=int(self.bias is True), n_vec=self.norms_per_layer * vectors, n_vec_f=vectors,
            z_pool=int(self.pooler), E=self.experts, k=self.active_experts,
            E_s=self.shared_experts, d_e=self.expert_d_ff or self.d_ff,
            L_d=self.layers if not self.is_moe else (self.dense_layers or 0),
        )


@dataclass(frozen=True, eq=False)
class Transformer(SourcedEntry):
    """A transformer model (language or vision) defined by its shape."""

    key: str
    name: str
    group: str
    shape: Shape
    source: Source
    official_parameters: float
    official_source: Source
    aliases: tuple[str, ...] = ()
    hf_id: str = ""
    year: int = 0
    official_is_label: bool = False
    notes: str = ""
    architecture: str = "transformer"
    field_sources: dict[str, Source] = field(default_factory=dict)

    @cached_property
    def summary(self) -> dict[str, float]:
        """The parameter law's outputs (N, N_mm, N_e, N_emb, e_KV, a_attn, ...) as numbers,
        and the sliding window the step laws take (L_w, w_sw: :meth:`Shape.window_inputs`)."""
        from symsys.registry.summaries import transformer_summary

        return transformer_summary(self.shape)

    @property
    def parameters(self) -> pint.Quantity:
        """Total parameters, derived from the shape by the parameter-count law."""
        return to_quantity(self.summary["N_total"], "param")

    @property
    def active_parameters(self) -> pint.Quantity:
        return to_quantity(self.summary["N_active"], "param")

    @property
    def layers(self) -> int:
        return self.shape.layers

    def kv_bytes_per_token(self, precision: str = "fp16") -> pint.Quantity:
        from symsys.registry.hardware import PRECISION_BYTES, check_precision

        check_precision(precision)
        return to_quantity(self.summary["e_kv"] * PRECISION_BYTES[precision], "B")

    def __repr__(self) -> str:
        return f"<Transformer {self.key}: {self.parameters.to('Gparam'):.2f~P}>"

    def __reduce__(self):
        return (_lookup, (self.key,)) if self.key in Models else super().__reduce__()


@dataclass(frozen=True, eq=False)
class FixedWorkload:
    """A model given by sourced totals per inference (CNNs), run through the same roofline."""

    key: str
    name: str
    group: str
    parameters_count: float
    flops_per_inference: float
    resolution: int
    source: Source
    aliases: tuple[str, ...] = ()
    year: int = 0
    architecture: str = "cnn"
    notes: str = ""

    @property
    def parameters(self) -> pint.Quantity:
        return to_quantity(self.parameters_count, "param")

    def __repr__(self) -> str:
        return f"<{self.architecture.upper()} {self.key}: {self.parameters.to('Mparam'):.1f~P}>"

    def __reduce__(self):
        return (_lookup, (self.key,))


def _lookup(key: str):
    return Models[key]


_SHAPE_FIELDS = {f.name: f for f in dc_fields(Shape)}


def read_shape(fields: Fields) -> Shape:
    unknown = set(fields.table) - set(_SHAPE_FIELDS)
    if unknown:
        raise RegistryError(f"{fields.where}: unknown field(s) {', '.join(sorted(unknown))}")
    values = dict(fields.table)
    required = [n for n in ("layers", "d_model", "heads", "kv_heads", "head_dim", "d_ff", "vocab")
                if n not in values]
    if required:
        raise RegistryError(f"{fields.where}: missing required field(s) {', '.join(required)}")
    try:
        return Shape(**values)
    except Exception as exc:  # InvalidParameter from validation: name the file
        raise RegistryError(f"{fields.where}: {exc}") from None


def _field_sources(fields: Fields) -> dict[str, Source]:
    """``[model.field_sources]``: a source per ``shape.<field>`` not taken from the entry's."""
    sources = fields.sub("field_sources")
    if sources is None:
        return {}
    for name in sources.table:
        head, _, tail = name.partition(".")
        if head != "shape" or tail not in _SHAPE_FIELDS:
            raise RegistryError(f"{sources.where}.{name}: expected 'shape.<field>' of a shape "
                                "field")
    return {name: sources.source(name) for name in sources.table}


def _model(fields: Fields, user: bool = False):
    key = fields.get("key", str)
    group = fields.get("group", str)
    if group not in GROUPS:
        raise RegistryError(f"{fields.where}.group: {group!r} is not one of {', '.join(GROUPS)}")
    common = dict(key=key, name=fields.get("name", str), group=group, source=fields.source(),
                  aliases=tuple(fields.get("aliases", list, [])), year=fields.get("year", int, 0),
                  notes=fields.get("notes", str, ""))
    architecture = fields.get("architecture", str)
    if fields.has("shape"):
        return Transformer(
            shape=read_shape(fields.sub("shape")), hf_id=fields.get("hf_id", str, ""),
            official_parameters=(fields.get("official_parameters", float) if user else
                                 fields.positive("official_parameters", float)),
            official_source=fields.source("official_source"),
            official_is_label=fields.get("official_is_label", bool, False),
            architecture=architecture, field_sources=_field_sources(fields), **common,
        )
    return FixedWorkload(
        parameters_count=fields.positive("parameters", float),
        flops_per_inference=fields.positive("flops_per_inference", float),
        resolution=fields.positive("resolution"), architecture=architecture, **common,
    )


def load(paths=None) -> list:
    return read_entries(paths or sorted(DATA.glob("models_*.toml")), "model", _model)


def from_hf_config(path_or_dict, *, key: str | None = None, name: str | None = None):
    """A :class:`Transformer` read offline from a Hugging Face ``config.json`` (path, folder or
    dict); see :mod:`symsys.registry.hf`. ``Models.from_hf_config(...)``."""
    config = read_config(path_or_dict, key=key, name=name)
    try:
        shape = Shape(**config.shape)
    except SymsysError as exc:  # InvalidParameter from Shape's validation: name the file
        raise RegistryError(f"{config.where}: {exc}") from None
    return Transformer(shape=shape, **config.entry)


def read_model_file(path: Path):
    """The model a user's file describes: a Hugging Face ``config.json`` (it has
    ``model_type``), or one model in the registry's schema (TOML or JSON, a ``[[model]]``
    table or the model table at the top level). In a registry-schema file ``key`` (default:
    the file's stem), ``name``, ``group``, ``architecture``, ``source`` and
    ``official_parameters`` may be left out; the model is then flagged user-supplied."""
    data = read_table_file(path, "model")
    if "model_type" in data:
        return from_hf_config(path)
    table = one_entry(data, "model", path, "a [[model]] table with a [shape], or a Hugging "
                                           "Face config.json with model_type")
    if "shape" not in table and "parameters" not in table:
        raise RegistryError(f"{path}: no [shape] table (a transformer: layers, d_model, heads, "
                            "kv_heads, head_dim, d_ff, vocab) and no parameters and "
                            "flops_per_inference (a fixed workload); give one of them")
    table.setdefault("key", path.stem)
    table.setdefault("name", table["key"])
    table.setdefault("group", "Language")
    table.setdefault("architecture", "transformer")
    source = user_source(path)
    as_table = {"document": source.document, "url": source.url, "retrieved": source.retrieved}
    table.setdefault("source", as_table)
    if "shape" in table and "official_parameters" not in table:
        # the parameter count is derived from the shape; without an official figure to test
        # it against, 0 says "none stated", as for a config.json
        table["official_parameters"] = 0.0
        table.setdefault("official_source", {**as_table,
                                             "document": "none: the file states no count"})
    return _model(Fields(table, f"{path.name}: model ({entry_key(table)})"), user=True)


class ModelZoo(Zoo):
    """The model zoo, which also reads models from Hugging Face configs."""

    from_hf_config = staticmethod(from_hf_config)


#: The model zoo: ``Models.Llama3_8B``, ``Models.Language.GPT3``, ``Models["meta-llama/..."]``.
Models = ModelZoo("Models", load, UnknownModel, file_loader=FileCache(read_model_file, "model"))
