"""Transformer shape laws: attention per layer and the parameter count of the whole model.

The input is the model's shape (layers, widths, heads, experts, MLA ranks), never a parameter
count: the count is derived here and tested against the official numbers. Two attention laws
(grouped-query attention, which covers MHA and MQA, and DeepSeek's multi-head latent
attention) reduce a layer's attention to three summaries, which the parameter law consumes.
"""

from __future__ import annotations

from symsys.laws.base import Law
from symsys.symbols import (
    E,
    E_s,
    L,
    L_d,
    N_active,
    N_dense,
    N_embed,
    N_expert,
    N_total,
    P_attn,
    P_exp,
    P_ffn,
    V,
    a_attn,
    a_dec,
    d,
    d_e,
    d_ff,
    d_h,
    d_nope,
    d_qk,
    d_qk_dec,
    d_rope,
    d_v,
    d_v_dec,
    e_kv,
    e_kv_layer,
    h,
    h_kv,
    k,
    n_ff,
    n_pos,
    n_tt,
    n_vec,
    n_vec_f,
    r_kv,
    r_q,
    u_head,
    z_lin,
    z_pool,
    z_qkv,
)

attention_gqa = Law(
    name="attention_gqa",
    title="Grouped-query attention (MHA, GQA, MQA)",
    summary=(
        "Queries have h heads of dimension d_h; keys and values have h_kv heads, shared by "
        "groups of h / h_kv query heads (h_kv = h is multi-head attention, h_kv = 1 multi-query "
        "attention). Each layer has Q, K, V and O projections and caches one key and one value "
        "vector per KV head and token."
    ),
    inputs=(d, h, h_kv, d_h, z_qkv, z_lin),
    definitions=(
        (P_attn, 2 * d * h * d_h + 2 * d * h_kv * d_h + z_qkv * (h * d_h + 2 * h_kv * d_h)
         + z_lin * d),
        (e_kv_layer, 2 * h_kv * d_h),
        (d_qk, d_h),
        (d_v, d_h),
        # decode attends to the cached keys and values themselves
        (d_qk_dec, d_qk),
        (d_v_dec, d_v),
    ),
)

attention_mla = Law(
    name="attention_mla",
    title="Multi-head latent attention (DeepSeek-V2/V3)",
    summary=(
        "Queries pass through a rank-r_q bottleneck; keys and values are reconstructed from a "
        "shared latent of rank r_kv plus a decoupled RoPE key of d_rope dimensions, and only the "
        "latent and the RoPE key are cached (DeepSeek-V2, arXiv:2405.04434, section 2.1). Each "
        "low-rank projection is followed by an RMSNorm vector (r_q and r_kv parameters)."
    ),
    inputs=(d, h, r_q, r_kv, d_rope, d_nope, d_v),
    definitions=(
        (d_qk, d_nope + d_rope),
        (P_attn, d * r_q + r_q + r_q * h * d_qk + d * (r_kv + d_rope) + r_kv
         + r_kv * h * (d_nope + d_v) + h * d_v * d),
        (e_kv_layer, r_kv + d_rope),
        # Decode reads only the cached latent, so it must compute in the absorbed form
        # (DeepSeek-V2 section 2.1.2; FlashMLA): W_UK is folded into the query, each score is
        # a dot product over the latent and the RoPE key, and the weights multiply the latent
        # (W_UV applied once per token after). Prefill decompresses and uses d_qk, d_v.
        (d_qk_dec, r_kv + d_rope),
        (d_v_dec, r_kv),
    ),
)

transformer_parameters = Law(
    name="transformer_parameters",
    title="Transformer parameter count",
    summary=(
        "A decoder (or encoder) stack of L layers, of which L_d have a dense FFN and L - L_d a "
        "mixture of E routed experts (k used per token) plus E_s shared experts and a router. "
        "N_mm counts the matmul weights every token multiplies (they set the FLOPs, 2 per "
        "weight per token); N_e one routed expert across the MoE layers; N_emb the tables read "
        "only row by row (the input embedding when the head is untied, learned positions, "
        "token types)."
    ),
    inputs=(L, d, h, d_ff, n_ff, V, u_head, n_pos, n_tt, z_lin, n_vec, n_vec_f, z_pool, E, k, E_s,
            d_e, L_d, P_attn, e_kv_layer, d_qk, d_v, d_qk_dec, d_v_dec),
    definitions=(
        (P_ffn, n_ff * d * d_ff + z_lin * ((n_ff - 1) * d_ff + d)),
        (P_exp, n_ff * d * d_e),
        (N_expert, (L - L_d) * P_exp),
        (N_dense, L * P_attn + L_d * P_ffn + (L - L_d) * (E_s * P_exp + E * d) + V * d
         + z_pool * (d**2 + d)),
        (N_embed, u_head * V * d + n_pos * d + n_tt * d),
        (N_total, N_dense + E * N_expert + N_embed + L * n_vec * d + n_vec_f * d),
        (N_active, N_total - (E - k) * N_expert),
        (e_kv, L * e_kv_layer),
        (a_attn, 2 * L * h * (d_qk + d_v)),
        (a_dec, 2 * L * h * (d_qk_dec + d_v_dec)),
    ),
    notes=(
        "The LM head (V x d) is a matmul every token uses, tied or not; a tied head shares the "
        "input embedding's storage, so u = 0 removes the second table.",
        "Biases of the output and FFN projections are counted with the matmul weights they "
        "belong to (z_lin = 1); their FLOPs are negligible and counted as if they were weights.",
        "MoE layers have no dense FFN: L_d counts the dense layers (L for a dense model, 3 for "
        "DeepSeek-V3). The router is E x d per MoE layer.",
    ),
)
