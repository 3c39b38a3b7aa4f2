"""One transformer inference step (decode or prefill) on the roofline.

The step's work F and traffic Q are built from the model summaries of the parameter law
(N_mm, N_e, N_emb, e_KV, and the attention FLOPs a_dec of decode, a_attn of prefill) and
the step's batch b and context s; the roofline's own
definitions then give its latency. The roofline is reused, not retyped: these laws are the
workload definitions followed by ``roofline.definitions``.
"""

from __future__ import annotations

import sympy as sp

from symsys.laws.base import Derived, Law, StepRole
from symsys.laws.roofline import RIDGE, roofline
from symsys.symbols import (
    C_mem,
    E,
    E_hit,
    F,
    KV_read,
    KV_write,
    L,
    L_w,
    M,
    M_kv,
    N_dense,
    N_embed,
    N_expert,
    N_total,
    Pi,
    Q,
    Q_act,
    R_tok,
    T,
    U_mem,
    V,
    W_read,
    W_res,
    W_ws,
    a_attn,
    a_dec,
    b,
    b_cross,
    beta,
    bytes_kv,
    bytes_w,
    d,
    e_kv,
    eta_c,
    eta_m,
    k,
    n_aux,
    n_kern,
    n_qk,
    n_tok,
    q_act,
    s,
    s_kv,
    t_aux,
    t_aux_step,
    t_compute,
    t_kern,
    t_memory,
    t_o,
    w_sw,
    z_logit,
)

_HARDWARE = (Pi, beta, eta_c, eta_m, t_o, t_kern, C_mem)
_MODEL = (L, N_dense, N_expert, N_embed, N_total, E, k, d, e_kv, L_w, w_sw)

#: a window longer than any context: with it (or with L_w = 0) no layer is windowed
NO_WINDOW = sp.Integer(2) ** 53
_NO_WINDOW = {L_w: sp.Integer(0), w_sw: NO_WINDOW}

# GEMM launches per step: Q/K/V, O, FFN up and FFN down in every layer, plus the LM head
_KERNELS = (n_kern, 4 * L + 1)


# What a serving runtime adds between the GEMMs: n_aux non-GEMM kernels per layer (attention,
# norms, rotary, residual adds, the gated activation, casts), each at least t_aux, moving
# q_act bytes per token, layer and model dimension that no GEMM overlaps (an unfused norm
# reads and writes the d activations of every token). Zero by default: the speed of light
# keeps activations on chip. A runtime profile (registry/data/runtimes.toml) gives them.
_RUNTIME = (n_aux, t_aux, q_act)
_AUX = ((Q_act, q_act * d * L * n_tok),
        (t_aux_step, n_aux * L * t_aux + Q_act / (eta_m * beta)))


def with_launches(definitions, serial=sp.S.Zero):
    """The roofline's definitions with each kernel launch's overhead, and any ``serial``
    time (a step's non-GEMM kernels), added to the fixed overhead: t_o becomes
    t_o + n_kern t_kern + serial (a substitution; the roofline is not retyped)."""
    overhead = {t_o: t_o + n_kern * t_kern + serial}
    return tuple((out, rhs.xreplace(overhead)) for out, rhs in definitions)
_PRECISION = (bytes_w, bytes_kv)
_NO_RUNTIME = {symbol: sp.Integer(0) for symbol in _RUNTIME}

# Expected distinct experts hit per MoE layer when n_tok tokens each pick k of E experts
# uniformly: each expert is missed by one token with probability 1 - k/E.
_EXPERTS_TOUCHED = E * (1 - (1 - k / E) ** n_tok)

# Weights read in a step: every matmul weight except routed experts no token picked, plus the
# looked-up embedding rows (one d-vector per token) instead of the whole input table.
_WEIGHTS_READ = bytes_w * (N_total - N_embed - (E - E_hit) * N_expert + n_tok * d)

_NOTES = (
    "Speed-of-light defaults: eta_c = eta_m = 1, t_o = t_kern = 0, W_ws = 0. A calibrated "
    "profile sets t_kern, the overhead it fitted per GEMM kernel; n_kern counts the step's "
    "GEMMs. Weights, K/V cache and the embedding rows are the only traffic counted: "
    "activations between kernels are assumed to stay on chip, so Q is a lower bound on bytes "
    "and T a lower bound on latency.",
    "A serving runtime's non-GEMM kernels (n_aux per layer, each at least t_aux, moving q_act "
    "bytes per token, layer and model dimension) add t_aux,step to the step, serially: they "
    "run between the GEMMs. All three are 0 by default (everything fused into the GEMMs, "
    "activations on chip); a runtime profile measured on a device sets them (symsys zoo "
    "runtimes). The three kernels outside the layers (embedding gather, final norm, "
    "sampling: about 30 us on an H200) are not counted.",
    "MoE: tokens are assumed to pick experts uniformly and independently; a real router's "
    "imbalance touches fewer experts at small batch.",
    "Sliding-window attention: L_w of the L layers attend to (and keep) only the last w "
    "cached positions, so a decode step reads and attends to s_kv = s - (L_w/L) max(s - w, 0) "
    "positions per layer on average, and its cache holds s + 1 of them capped the same way. "
    "A prefill's windowed layers score only the band of keys within w of each query; the "
    "prefill writes and holds the K/V of every prompt token (its queries need them). No "
    "window by default: L_w = 0, w = 2^53.",
)


def dense(expr: sp.Expr) -> sp.Expr:
    """``expr`` for a dense model (E = k = 1): every expert is always touched.

    The expected-experts term E (1 - (1 - k/E)^n) becomes 1 - 0^n; n is the step's token
    count, at least 1 (validated), so 0^n = 0. sympy cannot fold 0^(b s) alone because s may
    be 0, and left unfolded its derivative in b carries log(0).
    """
    folded = expr.subs({E: 1, k: 1})
    return folded.replace(lambda e: e.is_Pow and e.base == 0, lambda e: sp.Integer(0))


def within_window(x: sp.Expr) -> sp.Expr:
    """Positions of a context of ``x`` tokens that the average layer keeps and attends to.

    Sliding-window attention (Mistral-7B-v0.1: every layer; Gemma-2: every other layer)
    keeps only the last w positions in the L_w windowed layers; the other L - L_w layers keep
    all x. Averaged over the L layers: x less the L_w/L share of the positions beyond the
    window. With L_w = 0 (no window) it is x exactly.
    """
    return x - L_w / L * sp.Max(x - w_sw, 0)


#: query-key pairs of a causal prefill of s tokens, per layer on average: the causal triangle
#: s^2/2, less in the windowed layers the triangle of keys that fell out of the window, so
#: a windowed layer counts the band w s - w^2/2 once s > w (the same continuous count as the
#: triangle; continuous at s = w)
_PAIRS = s**2 / 2 - L_w / L * sp.Max(s - w_sw, 0) ** 2 / 2

# Every active matmul weight multiplies every token of the step once: 2 FLOPs each
_MATMUL_FLOPS = 2 * (N_dense + k * N_expert) * n_tok

# What every step ends with, once its work F, traffic Q and K/V held M_kv are defined: the
# resident weights and the footprint against the capacity, the kernel launches, the roofline
# and the rate.
_STEP = (
    (W_res, bytes_w * N_total),
    (M, W_res + M_kv + W_ws),
    (U_mem, M / C_mem),
    _KERNELS,
    *_AUX,
    *with_launches(roofline.definitions, t_aux_step),
    (R_tok, n_tok / T),
)

#: what the generic solvers need to know of a step law (see Law)
_ROLES = dict(latency=T, rate=R_tok, footprint=M, capacity=C_mem,
              levers=(beta, Pi, eta_m, eta_c, t_o, t_kern, t_aux, q_act, b, s, bytes_w,
                      bytes_kv, C_mem),
              integers=(b, s), variants={"dense": dense})

# The crossover batch has a closed form for dense models only: with E > 1 the expected number of
# experts touched, E (1 - (1 - k/E)^b), makes the balance transcendental in b (solved numerically).
_CROSSOVER = Derived.balance(b_cross, t_compute, t_memory, b, given={E: 1, k: 1})

decode = Law(
    name="decode",
    title="Transformer decode step",
    summary=(
        "b sequences each generate one token, attending to s cached tokens. Every active weight "
        "is multiplied once per token (2 FLOPs each) and each new token attends to the s cached "
        "keys and values (the last w of them in a sliding-window layer). With s = 0 the step "
        "is the textbook weights-only roofline: all the traffic is the weights, so batch 1 "
        "sits at about 1 FLOP per byte (fp16)."
    ),
    inputs=(*_HARDWARE, *_MODEL, a_dec, *_PRECISION, b, s, W_ws, *_RUNTIME),
    definitions=(
        (n_tok, b),
        (E_hit, _EXPERTS_TOUCHED),
        # each new token attends to the cached positions its layers keep (all s, or w)
        (s_kv, within_window(s)),
        (F, _MATMUL_FLOPS + a_dec * s_kv * n_tok),
        (W_read, _WEIGHTS_READ),
        (KV_read, bytes_kv * e_kv * s_kv * b),
        (KV_write, bytes_kv * e_kv * n_tok),
        (Q, W_read + KV_read + KV_write),
        (M_kv, bytes_kv * e_kv * b * within_window(s + 1)),
        *_STEP,
    ),
    derived=(RIDGE, _CROSSOVER),
    regimes=roofline.regimes,
    **_ROLES,
    step=StepRole("decode"),
    defaults={**roofline.defaults, t_kern: sp.Integer(0), W_ws: sp.Integer(0), s: sp.Integer(0),
              **_NO_WINDOW, **_NO_RUNTIME},
    notes=_NOTES,
)

prefill = Law(
    name="prefill",
    title="Transformer prefill step",
    summary=(
        "b sequences of s prompt tokens are processed at once. Every active weight multiplies "
        "every prompt token, and causal attention costs half of the full s x s score and value "
        "products (a sliding-window layer only the band of keys within w of each query). The "
        "step writes the prompt's keys and values to the cache."
    ),
    inputs=(*_HARDWARE, *_MODEL, a_attn, V, z_logit, *_PRECISION, b, s, W_ws, *_RUNTIME),
    definitions=(
        (n_tok, b * s),
        (E_hit, _EXPERTS_TOUCHED),
        (n_qk, _PAIRS),
        # serving engines compute logits at the last prompt position only (z_logit = 0):
        # the LM head's 2 V d FLOPs are spent on b tokens, not on all b s
        (F, _MATMUL_FLOPS - (1 - z_logit) * 2 * V * d * (n_tok - b) + a_attn * b * n_qk),
        (W_read, _WEIGHTS_READ),
        (KV_write, bytes_kv * e_kv * n_tok),
        (Q, W_read + KV_write),
        (M_kv, bytes_kv * e_kv * n_tok),
        *_STEP,
    ),
    derived=(RIDGE, _CROSSOVER),
    regimes=roofline.regimes,
    **_ROLES,
    step=StepRole("prefill"),
    defaults={**roofline.defaults, t_kern: sp.Integer(0), W_ws: sp.Integer(0),
              z_logit: sp.Integer(0), **_NO_WINDOW, **_NO_RUNTIME},
    notes=_NOTES,
)


