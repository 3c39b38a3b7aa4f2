"""One training iteration of a transformer under Megatron-style 3D parallelism.

The work is the prefill law's forward pass (every position's logits), not retyped: a global
batch of B sequences of s tokens costs its forward FLOPs F_fwd once forward and twice backward
(the gradients of the activations and of the weights), the model FLOPs 3 F_fwd. Fused (flash)
attention (z_fa = 1) computes the causal half of the s x s scores and stores none of them; the
unfused kernels of Megatron 2021-22 compute and store the full masked square. Recomputation
adds work that the model FLOPs do not count (HFU counts it, MFU does not): full recomputation
one more forward pass, selective recomputation (Korthikanti et al. 2022) one more pass of the
attention scores only.

A microbatch's work is two kinds of kernel that run one after the other, so their times add:
the matrix products (GEMMs and attention), compute-bound, at the FLOP rate; and the
element-wise kernels between them (layer norms, dropouts, GeLU, softmax, bias and residual
adds), memory-bound, which read and write the activations: each activation byte a layer's
forward writes (Korthikanti et al.'s count) is written and read once forward and twice
backward, six bytes of traffic (eight with full recomputation, which runs the forward again;
selective recomputation writes and reads the scores once more).

Each device holds 1/(n_t n_p) of the weights (a tensor-parallel share of its pipeline stage's
L/n_p layers) and runs m = B/(b n_d) microbatches of b sequences per iteration. A microbatch
on a stage takes the roofline time of its FLOPs and weight reads, plus the tensor-parallel
all-reduces of its b s d activations (two per layer forward, two backward, two more with full
recomputation; with sequence parallelism they are reduce-scatters and all-gathers of the same
volume) and its pipeline sends (forward and backward, v times with v interleaved chunks, 1/n_t
of the activations each: the scatter-gather optimisation). The pipeline is filled and drained
once: the 1F1B schedule idles a stage for (n_p - 1)/v microbatch times (Narayanan et al. 2021),
a bubble share (n_p - 1)/(v m + n_p - 1) of the pipeline's time. The data-parallel replicas
then all-reduce the gradients of their shard over the scale-out network (ZeRO-3 gathers the
weights again: half as much more), unless that overlaps the backward pass, and the optimizer
updates the device's share of the states, reading and writing them once.

Memory per device: weights, gradients and optimizer states (bf16 weights and gradients and
12 bytes of fp32 Adam states: 16 bytes per parameter before sharding), each sharded over the
data-parallel replicas from its ZeRO stage on, plus the activations the first pipeline stage
keeps for the backward pass: Korthikanti et al.'s per-layer counts for 16-bit activations,
for n_p microbatches in flight of L/n_p layers each (L layers' worth; with interleaving
(1 + (n_p - 1)/(n_p v)) of it).
"""

from __future__ import annotations

import sympy as sp

from symsys.laws.base import Derived, Law
from symsys.laws.collectives import collectives
from symsys.laws.inference import NO_WINDOW, prefill
from symsys.laws.roofline import roofline
from symsys.symbols import (
    A_fwd,
    A_layer,
    B_g,
    C_mem,
    D_tok,
    E,
    F,
    F_attn,
    F_dev,
    F_fwd,
    F_hw,
    F_mod,
    H_dev,
    L,
    L_w,
    M,
    M_acts,
    M_state,
    N_dense,
    N_dev,
    N_embed,
    N_expert,
    N_total,
    Pi,
    Pi_a,
    Q,
    R_tok,
    T,
    T_goal,
    T_train,
    U_hfu,
    U_mfu,
    V,
    a_attn,
    alpha_c,
    alpha_n,
    alpha_x,
    b,
    b_fit,
    beta,
    beta_n,
    beta_x,
    bytes_act,
    bytes_g,
    bytes_o,
    bytes_u,
    bytes_w,
    d,
    eta_c,
    eta_m,
    f_gr,
    f_opt,
    f_w,
    g_dp,
    h,
    k,
    m_bub,
    m_c,
    m_mb,
    n_dp,
    n_g,
    n_need,
    n_node,
    n_p,
    n_t,
    phi_bub,
    phi_comm,
    r_full,
    r_sel,
    s,
    t_ar_hier,
    t_bub,
    t_comms,
    t_compute,
    t_dp,
    t_mb,
    t_memory,
    t_opt,
    t_pp,
    t_tp,
    t_work,
    v_il,
    w_sw,
    x_bub,
    z_dp,
    z_fa,
    z_il,
    z_logit,
    z_nvls,
    z_sp,
)

# --- the work, from the prefill law --------------------------------------------------------
# prefill's forward FLOPs with every position's logits, for the whole global batch; its
# attention-score term (the a_attn part, counted causally there) rescaled to c_att of the
# square
_PREFILL_F = prefill.expr(F).xreplace({z_logit: 1})
_CAUSAL_ATTENTION = _PREFILL_F - _PREFILL_F.xreplace({a_attn: 0})
_FORWARD = (_PREFILL_F - _CAUSAL_ATTENTION).xreplace({b: B_g}) + F_attn
#: the attention scores' FLOPs: the causal half with fused attention, else the full square
_SCORES = (1 - z_fa / 2) * 2 * _CAUSAL_ATTENTION.xreplace({b: B_g})

# --- the collectives, from the collectives law ---------------------------------------------
_ALL_REDUCE = collectives.expr("t_ar_fab")
_SEND = collectives.expr("t_p2p")
#: one all-reduce of a microbatch's activations inside the tensor-parallel group (fast domain)
_TP_ALL_REDUCE = _ALL_REDUCE.xreplace({n_g: n_t, m_c: bytes_act * b * s * d})
#: one pipeline send of a microbatch's activations (1/n_t of them) over the scale-out network
_PP_SEND = _SEND.xreplace({m_c: bytes_act * b * s * d / n_t, beta_x: beta_n, alpha_x: alpha_n})
#: the gradients' all-reduce over the n_d data-parallel replicas, g_d of them in each fast
#: domain: the collectives law's hierarchical all-reduce, a ring over the g_d replicas of a
#: domain over its link (beta_x), then a ring of their shards across the n_d / g_d domains over
#: the scale-out network (beta_n). g_d = n_d: the group inside one domain (no network);
#: g_d = 1: one replica per domain (a tensor-parallel group filling a node), all over the
#: network
_DP_ALL_REDUCE = collectives.expr(t_ar_hier).xreplace({n_g: g_dp, n_node: n_dp / g_dp,
                                                       m_c: bytes_g * N_dev})

# --- activations per layer per microbatch (Korthikanti et al. 2022, Section 4, 16-bit) -----
# a layer's forward writes s b d (10 + 24/t) + 5 a s^2 b / t bytes on one device: sequence
# parallelism splits the 10 (layer norms, dropouts) over t too; the 5 a s^2 b / t are the
# stored scores (softmax input and output, dropout mask), which fused attention never stores
_LINEAR = s * b * d * ((1 - z_sp) * (10 + 24 / n_t) + z_sp * 34 / n_t)
_SCORES_KEPT = (1 - z_fa) * 5 * h * s ** 2 * b / n_t
# kept for the backward pass: all of it without recomputation; selective recomputation drops
# the scores; full recomputation keeps only each layer's input, 2 s b d (over t with
# sequence parallelism)
_KEPT = _LINEAR + (1 - r_sel) * _SCORES_KEPT
_FULL = 2 * s * b * d / n_t ** z_sp
_ACTIVATIONS = (1 - r_full) * _KEPT + r_full * _FULL

#: attention's matmul FLOPs in one microbatch on one device: the forward's, its backward's two,
#: and what full or selective recomputation repeats (the share F takes of F_hw's)
_ATTENTION_SHARE = (3 + r_full + r_sel) * F_attn * b / (B_g * n_t * n_p)

_DEFINITIONS = (
    (F_attn, _SCORES),
    (F_fwd, _FORWARD),
    (F_mod, 3 * F_fwd),
    (F_hw, (3 + r_full) * F_fwd + r_sel * F_attn),
    (m_mb, B_g / (b * n_dp)),
    (N_dev, N_total / (n_t * n_p)),
    # one microbatch on one device: its share of the iteration's hardware FLOPs, and the
    # element-wise kernels' traffic over its stage's L/n_p layers
    (F, F_hw * b / (B_g * n_t * n_p)),
    (A_fwd, _LINEAR + _SCORES_KEPT),
    (Q, L / n_p * ((6 + 2 * r_full) * A_fwd + 2 * r_sel * _SCORES_KEPT)),
    # the linear layers at the GEMM peak Pi, attention's matmuls at Pi_a (equal in 16-bit
    # training; in fp8 training only the linear layers run in fp8)
    (t_compute, roofline.expr(t_compute).xreplace({F: F - _ATTENTION_SHARE})
     + roofline.expr(t_compute).xreplace({F: _ATTENTION_SHARE, Pi: Pi_a})),
    (t_memory, roofline.expr(t_memory)),
    (t_tp, L / n_p * (4 + 2 * r_full) * _TP_ALL_REDUCE),
    (t_pp, 2 * v_il * sp.Min(n_p - 1, 1) * _PP_SEND),
    (t_mb, t_compute + t_memory + t_tp + t_pp),
    (t_bub, (n_p - 1) / v_il * t_mb),
    (t_dp, (1 - z_dp) * (1 + f_w / 2) * _DP_ALL_REDUCE),
    (t_opt, bytes_u * N_dev / n_dp ** f_opt / (beta * eta_m)),
    (T, m_mb * t_mb + t_bub + t_dp + t_opt),
    (t_work, m_mb * (t_compute + t_memory)),
    (t_comms, m_mb * (t_tp + t_pp) + t_dp),
    (R_tok, B_g * s / T),
    (F_dev, F_mod / (T * n_t * n_p * n_dp)),
    (U_mfu, F_dev / Pi),
    (U_hfu, F_hw / (T * n_t * n_p * n_dp * Pi)),
    (phi_bub, t_bub / T),
    (phi_comm, t_comms / T),
    (M_state, N_dev * (bytes_w / n_dp ** f_w + bytes_g / n_dp ** f_gr
                       + bytes_o / n_dp ** f_opt)),
    (A_layer, _ACTIVATIONS),
    (M_acts, L * A_layer * (1 + z_il * (n_p - 1) / (n_p * v_il))),
    (M, M_state + M_acts),
    (T_train, D_tok / R_tok),
    (H_dev, T_train * n_t * n_p * n_dp),
)

# --- inverse designs, solved by sympy over the law's own terms -------------------------------
_DERIVED = (
    # the microbatches per pipeline that bring the bubble's share of the iteration down to
    # x_bub (a microbatch's time does not depend on how many there are)
    Derived.solve(m_bub, phi_bub, x_bub, m_mb, whole=(t_mb, t_bub, t_dp, t_opt)),
    # the largest microbatch whose activations fit beside the sharded states
    Derived.solve(b_fit, M, C_mem, b, whole=(M_state,)),
    # the data-parallel replicas that train D tokens in T_goal at a fixed global batch: more
    # replicas, fewer microbatches each; the gradient all-reduce's bandwidth term grows
    # towards 2 G / beta_n. Closed form with no network latency (alpha_n: a latency adds a
    # term in n_d, a second root) and unsharded optimizer states (ZeRO-1 puts n_d^f_o in it)
    Derived.solve(n_need, T_train, T_goal, n_dp, whole=(t_mb, t_bub, t_opt),
                  given={alpha_n: 0, f_opt: 0}),
)

training = Law(
    name="training",
    title="Transformer training iteration (3D parallel)",
    summary=(
        "One iteration of a global batch of B sequences of s tokens on n_t x n_p x n_d devices "
        "(tensor, pipeline, data parallel): the prefill law's forward work three times (forward "
        "and backward), plus what recomputation adds, in m = B / (b n_d) microbatches through a "
        "1F1B pipeline with its bubble, the tensor-parallel all-reduces and pipeline sends of "
        "each microbatch, the data-parallel gradient all-reduce and the optimizer step."
    ),
    inputs=(Pi, Pi_a, beta, eta_c, eta_m, L, d, h, V, E, k, N_total, N_dense, N_expert, N_embed,
            a_attn, b, s, bytes_w, bytes_act, bytes_g, bytes_o, bytes_u, C_mem, beta_x, alpha_x,
            beta_n, alpha_n, n_t, n_p, n_dp, g_dp, v_il, B_g, z_fa, r_sel, r_full, z_sp, z_il,
            f_w, f_gr, f_opt, z_dp, D_tok, L_w, w_sw, x_bub, T_goal, alpha_c, z_nvls),
    definitions=_DEFINITIONS,
    derived=_DERIVED,
    regimes=(("Work", t_work), ("Communication", t_comms), ("Bubble", t_bub),
             ("Optimizer", t_opt)),
    defaults={eta_c: 1, eta_m: 1, alpha_x: 0, alpha_n: 0, alpha_c: 0, z_fa: 1, r_sel: 0,
              r_full: 0, z_sp: 0, z_il: 0, f_w: 0, f_gr: 0, f_opt: 0, z_dp: 0, v_il: 1,
              g_dp: 1, z_nvls: 0,
              bytes_act: 2, bytes_g: 2, bytes_o: 12, bytes_u: 28,
              # no sliding window (the Megatron GPT models have none)
              L_w: 0, w_sw: NO_WINDOW},
    notes=(
        "Mixed-precision Adam: bf16 weights and gradients (2 + 2 bytes) and fp32 master "
        "weights, first and second moments (12 bytes): 16 bytes per parameter before ZeRO "
        "shards them. The optimizer step reads and writes the master weights and both moments, "
        "reads the gradient and writes the bf16 weight: 28 bytes per parameter.",
        "Activations are Korthikanti et al. 2022's per-layer counts (16-bit, dropout masks "
        "included); the embedding and output layers' activations and the pipeline's "
        "embedding stage imbalance are not counted (each device is given N/(n_t n_p) "
        "parameters).",
        "Low-precision training (fp8) runs the linear layers' GEMMs at the fp8 peak Pi and "
        "attention's matmuls at the 16-bit peak Pi_a (Transformer Engine's recipe: fused "
        "attention stays in bf16); weights, gradients and activations are held and moved in "
        "16 bits beside the fp32 master weights and moments. U_mfu is over the GEMM peak Pi.",
        "Communication does not overlap computation, except the data-parallel all-reduce when "
        "z_dp = 1. Tensor parallelism runs over the fast domain (beta_x; its all-reduce in "
        "the switch where the fabric reduces, z_NVLS = 1) and pipeline sends "
        "over the scale-out network (beta_n); the data-parallel all-reduce is hierarchical: "
        "over the fast domain among the g_d replicas a domain holds, over the network among "
        "the n_d / g_d domains (g_d = 1 when the tensor-parallel group fills a node). The "
        "solvers lay devices out tensor-parallel ranks first, then data-parallel, then "
        "pipeline stages (Megatron-LM's order).",
    ),
    latency=T, rate=R_tok, footprint=M, capacity=C_mem,
    levers=(Pi, beta, eta_c, eta_m, beta_x, alpha_x, beta_n, alpha_n, C_mem, b, B_g, n_t,
            n_p, n_dp, v_il),
    integers=(b, B_g, n_t, n_p, n_dp, g_dp, v_il),
    variants={"dense": lambda expr: expr.xreplace({E: 1, k: 1})},
)
