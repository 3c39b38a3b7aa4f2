"""Shape -> model summaries, by the attention and parameter-count laws.

The laws are compiled through :mod:`symsys.kernels` (cached on disk), so reading a model's
parameter count in a cold process needs no sympy.
"""

from __future__ import annotations

from symsys import kernels

ATTENTION = {"gqa": "attention_gqa", "mla": "attention_mla"}


def evaluate_law(name: str, values: dict) -> dict[str, float]:
    """All outputs of the law called ``name`` at canonical magnitudes ``values``."""

    fn = kernels.kernel(name, ("*",), scalar=True)
    return {o: float(r) for o, r in fn.named(values).items()}


def transformer_summary(shape) -> dict[str, float]:
    """Parameter-law outputs (N_total, N_dense, N_expert, N_embed, e_kv, a_attn, ...), and
    the sliding window the step laws take (L_w, w_sw)."""
    attention = evaluate_law(ATTENTION[shape.attention], shape.attention_inputs())
    values = {**shape.attention_inputs(), **shape.parameter_inputs(), **attention}
    window = {name: float(value) for name, value in shape.window_inputs().items()}
    return {**attention, **evaluate_law("transformer_parameters", values), **window}
