"""Shape -> model summaries, by the attention and parameter-count laws (compiled once)."""

from __future__ import annotations

from symsys.compile import compile_exprs
from symsys.laws.transformer import attention_gqa, attention_mla, transformer_parameters

ATTENTION = {"gqa": attention_gqa, "mla": attention_mla}


def evaluate_law(law, values: dict) -> dict[str, float]:
    """All outputs of ``law`` at canonical magnitudes ``values`` (keyed by symbol name)."""
    fn = compile_exprs([law.expr(o) for o in law.outputs], law.inputs)
    results = fn(*(values[s.name] for s in law.inputs))
    return {o.name: float(r) for o, r in zip(law.outputs, results)}


def transformer_summary(shape) -> dict[str, float]:
    """Parameter-law outputs (N_total, N_dense, N_expert, N_embed, e_kv, a_attn, ...) of a shape."""
    attention = evaluate_law(ATTENTION[shape.attention], shape.attention_inputs())
    values = {**shape.attention_inputs(), **shape.parameter_inputs(), **attention}
    return {**attention, **evaluate_law(transformer_parameters, values)}
