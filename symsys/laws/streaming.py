"""Weight streaming: weights live off-chip and stream in layer by layer; activations stay.

A weight-streaming device (a Cerebras CS-3 fed by MemoryX, or a GPU reading weights from host
memory over NVLink-C2C or PCIe) keeps activations and the K/V cache in its local memory and
receives each layer's weights over an injection link while it computes. Per layer, the step
takes the longer of injecting the layer and computing it (or their sum without overlap), so a
larger batch hides the injection until compute dominates: that batch is B*. The local memory
bounds the batch from above: that batch is b_max. Both come from ``sympy.solve`` on the law.

Two laws, decode and prefill, as for the single-device roofline (:mod:`symsys.laws.inference`):
the per-layer FLOPs are exactly that module's step FLOPs divided by L.
"""

from __future__ import annotations

import sympy as sp

from symsys.laws.base import Derived, Law
from symsys.laws.inference import NO_WINDOW, decode, dense, prefill, within_window
from symsys.symbols import (
    B_star,
    C_chip,
    E_s,
    F,
    F_layer,
    L,
    L_w,
    M_act,
    M_chip,
    M_kv,
    M_wbuf,
    N_dense,
    N_embed,
    N_expert,
    N_total,
    Pi,
    R_tok,
    T,
    U_chip,
    V,
    W_layer,
    W_step,
    a_attn,
    a_dec,
    b,
    b_max,
    beta_inj,
    bytes_a,
    bytes_kv,
    bytes_w,
    d,
    d_e,
    d_ff,
    e_act,
    e_kv,
    eta_c,
    eta_m,
    k,
    n_ff,
    n_qk,
    n_star,
    n_tok,
    s,
    s_kv,
    t_cmp,
    t_inj,
    t_layer,
    w_sw,
    z_logit,
    z_ovl,
)

_INPUTS = (Pi, beta_inj, C_chip, eta_c, eta_m, L, d, d_ff, n_ff, k, E_s, d_e, N_dense, N_expert,
           N_embed, N_total, e_kv, a_attn, a_dec, V, z_logit, bytes_w, bytes_kv, bytes_a, b, s,
           z_ovl, L_w, w_sw)


def _definitions(tokens, window, layer_flops, kv_tokens):
    """The law for a step of ``tokens`` tokens, ``layer_flops`` FLOPs per layer, and
    ``kv_tokens`` cached K/V entries per layer held on chip; everything else is shared.
    ``window`` is the step law's definition of what its attention covers (s_kv, n_qk)."""
    return (
        (n_tok, tokens),
        window,
        # Every weight except the tables read row by row (N_emb) streams in once per step. The
        # LM head and final norm belong to no block: they are spread evenly over the L layers,
        # so L W_layer is exactly the bytes streamed per step. MoE: all experts stream (the
        # routing is decided on chip, after the layer's weights were sent), an upper bound.
        (W_layer, bytes_w * (N_total - N_embed) / L),
        (W_step, L * W_layer),
        (F_layer, layer_flops),
        # eta_m is the achieved fraction of the injection link (the step's "memory" here)
        (t_inj, W_layer / (eta_m * beta_inj)),
        (t_cmp, F_layer / (eta_c * Pi)),
        # overlapped (z = 1): the larger of the two; serial (z = 0): their sum
        (t_layer, sp.Max(t_inj, t_cmp) + (1 - z_ovl) * sp.Min(t_inj, t_cmp)),
        (T, L * t_layer),
        (R_tok, n_tok / T),
        # Per token in flight: the residual stream plus the widest FFN intermediate of one
        # layer ((n_ff - 1) rows of d_ff: gate and up for a gated MLP, one for a plain one; k
        # routed + E_s shared experts of width d_e in an MoE layer). Attention scores are
        # assumed fused (never materialised), so they are not counted.
        (e_act, d + (n_ff - 1) * sp.Max(d_ff, (k + E_s) * d_e)),
        (M_kv, bytes_kv * e_kv * kv_tokens),
        (M_act, bytes_a * e_act * n_tok),
        # one layer being computed, plus the next one arriving when the two overlap
        (M_wbuf, (1 + z_ovl) * W_layer),
        (M_chip, M_kv + M_act + M_wbuf),
        (U_chip, M_chip / C_chip),
    )


def _tokens_at(balance: Derived) -> Derived:
    """B* counted in tokens: n_tok of the law at b = B* (b for decode, b s for prefill)."""

    def build(law: Law) -> sp.Expr:
        return sp.simplify(law.expr(n_tok).xreplace({b: balance.build(law)}))

    return Derived(n_star, build, balance.solves, n_tok)


_OPTIMAL = Derived.balance(B_star, t_inj, t_cmp, b)
_DERIVED = (_OPTIMAL, _tokens_at(_OPTIMAL), Derived.balance(b_max, M_chip, C_chip, b))

_REGIMES = (("Compute", t_cmp), ("Injection", t_inj))
_DEFAULTS = {eta_c: sp.Integer(1), eta_m: sp.Integer(1), z_ovl: sp.Integer(1),
             z_logit: sp.Integer(0), L_w: sp.Integer(0), w_sw: NO_WINDOW}

_NOTES = (
    "Speed-of-light defaults: eta_c = eta_m = 1 (eta_m applies to the injection link) and "
    "z_ovl = 1 (injection of layer l+1 overlaps compute of layer l, which needs two layer "
    "buffers on chip). z_ovl = 0 is the serial schedule: one buffer, layer time = sum.",
    "Streamed weights: all parameters except the tables read by lookup (N_emb), spread evenly "
    "over the L layers (the LM head is counted in the average). Compute per layer is the "
    "decode/prefill law's F divided by L, so L t_cmp is that law's t_compute.",
    "On-chip footprint: K/V cache of all layers for the batch, activations of the tokens in "
    "flight (residual stream + widest FFN intermediate; attention scores assumed fused), and "
    "the layer-weight buffers. Runtime reserves, code and fragmentation are not counted, so "
    "b_max is an upper bound. C_chip is the device's local memory: wafer SRAM on a CS-3, HBM "
    "on a GPU streaming from host memory.",
    "beta_inj is in bytes per second. Vendors state network links (Ethernet, Cerebras' CS "
    "system I/O) in bits per second: read as bytes, a link looks 8x faster than it is.",
    "When this is the right model: the weights do not fit in local memory and the step has "
    "many tokens to amortise each streamed layer over (training batches, long prefill, large "
    "offline decode batches). B* in tokens is the amortisation needed; if the footprint caps "
    "the batch below B*, the step stays injection-bound.",
    "When it is not: latency-bound decode. Each decode token must wait for the whole model to "
    "stream in, so vendors serve it with the weights resident in on-chip memory instead, split "
    "across several systems (Cerebras Inference pipelines layers over several CS-3 wafers, "
    "Llama-3.1-70B over four per Cerebras' 'Introducing Cerebras Inference', August 2024; "
    "Groq over many LPUs). That is a pipelined, weight-stationary "
    "model with no injection term, not this law.",
)


def _law(name, title, summary, tokens, window, layer_flops, kv_tokens) -> Law:
    return Law(name=name, title=title, summary=summary, inputs=_INPUTS,
               definitions=_definitions(tokens, window, layer_flops, kv_tokens),
               derived=_DERIVED,
               regimes=_REGIMES, defaults=_DEFAULTS, notes=_NOTES,
               latency=T, rate=R_tok, footprint=M_chip, capacity=C_chip,
               levers=(Pi, eta_m, eta_c, b, s, bytes_w, bytes_kv, beta_inj, C_chip),
               integers=(b, s), variants={"dense": dense})


weight_streaming = _law(
    "weight_streaming", "Weight streaming, decode step",
    "b sequences each generate one token after s cached tokens. Layer by layer, the layer's "
    "weights W_layer are injected over the link while the previous layer computes; the step "
    "ends after L layers. The batch that makes compute as long as injection is B*; the batch "
    "whose K/V cache, activations and weight buffers fill the local memory is b_max.",
    tokens=b, window=(s_kv, decode.rhs(s_kv)), layer_flops=decode.rhs(F) / L,
    kv_tokens=b * within_window(s + 1),
)

weight_streaming_prefill = _law(
    "weight_streaming_prefill", "Weight streaming, prefill step",
    "b prompts of s tokens pass through the model layer by layer while each layer's weights "
    "stream in: every streamed weight is used by b s tokens, so prefill reaches B* with far "
    "fewer sequences than decode. Causal attention costs half of the s x s products.",
    tokens=b * s, window=(n_qk, prefill.rhs(n_qk)), layer_flops=prefill.rhs(F) / L,
    kv_tokens=b * s,
)
