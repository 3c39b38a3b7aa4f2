"""Tensor and pipeline parallelism: a step's law on one of many devices, by substitution into
the step law.

Megatron-style tensor parallelism (Shoeybi et al., "Megatron-LM", arXiv:1909.08053) splits
every attention layer by heads and every MLP by columns then rows, and the embedding and LM
head by vocabulary: each device holds 1/n of every weight matrix, does 1/n of the FLOPs and
reads 1/n of the weights. Key/value heads split with the query heads while there are at least
n of them (n must divide h_kv); beyond that each device keeps a copy of one K/V head, so a
device's K/V is e_KV / min(n, h_kv). Each layer all-reduces its b x d activations twice (after
the attention output projection and after the MLP down projection), with the collectives law's
hierarchical all-reduce over N fast domains of n/N devices each: a ring reduce-scatter and
all-gather inside the domain, and a ring all-reduce of each device's shard (m N / n bytes)
across the N domains over the scale-out network (beta_n, alpha_n); at N = 1 (the group
inside one fast domain, the default) it is the ring all-reduce over the n devices.
Communication waits for the computation that produces it unless an overlap is given
(z_comm = 1): the step takes max(t_compute, t_memory) + t_comm, or the largest of the three.
The single-device step law is not retyped: its definitions are taken with each model summary
divided by the degree, and its T with the communication term added.

Pipeline parallelism (GPipe, Huang et al., arXiv:1811.06965; in inference as vLLM and
TensorRT-LLM run it) splits the layers into p stages of L/p layers, each stage a
tensor-parallel group of n devices: a stage holds, reads and computes 1/p of the step, and
sends its microbatch's n_tok x d activations to the next stage point to point (the
collectives law's t_P2P). One microbatch crosses the p stages in sequence with p - 1 sends:
that is the latency of a token. Of those sends, p_net cross between fast domains (stages on
different nodes) and go over the scale-out network: the same point-to-point send with the
network's bandwidth and latency (beta_n, alpha_n) in place of the fast domain's. With p
microbatches of b sequences in flight every stage is busy, one microbatch leaves the pipeline
every T / p, and each stage holds the K/V of all p microbatches for its layers.

Expert parallelism (DeepSpeed-MoE, Rajbhandari et al., arXiv:2201.05596; as vLLM's
``--enable-expert-parallel`` and SGLang's ``--ep-size`` run it) splits the routed experts of
an MoE model over e devices, each holding E/e whole experts (E divisible by e), on top of the
tensor-parallel law. The convention here: the e devices are e/n attention replicas of a
tensor-parallel group of n devices (n divides e; n = e is the usual pairing, EP over the TP
group; n = 1 is attention data parallel). Attention, dense FFN, shared experts, router and
embeddings are split n ways exactly as the tensor-parallel law has them; each replica runs its
own batch of b sequences (b is per replica), so an MoE layer routes the n_tok e/n tokens of
the whole group. With uniform routing a device computes k N_e (n_tok e/n)/e = k N_e n_tok/n of
expert work (the tensor-parallel law's share, unchanged), reads the E_hit/e whole experts it
holds that the group's tokens hit (E_hit at n_tok e/n tokens), and holds E/e experts. Each MoE
layer pays two all-to-alls over the e devices, the dispatch of the routed tokens and the
combine of their outputs, each device sending its 1/n share of its replica's k n_tok routed
token copies of d activations (the collectives law's t_A2A at m = bw_act k n_tok d / n); the
attention's all-reduce over the n devices stays (one per layer: reduce-scatter before the
dispatch, all-gather after the combine), and each of the L_d dense (non-MoE) layers
all-reduces its MLP as tensor parallelism does. The rate is the group's: n_tok e/n tokens per
step. The step law is not retyped: the tensor-parallel law's definitions are taken with the
expert weights substituted, and its communication term replaced by these collectives.

Two degrees follow from the tensor-parallel law by calculus (its ``derived`` results): the
degree at which the per-device footprint equals the capacity (the fewest devices that hold
the model), and the degree at which the shrinking weight read and the growing all-reduce
latency balance (dT/dn = 0 with alpha > 0: beyond it more devices make a memory-bound step
slower).
"""

from __future__ import annotations

import dataclasses

import sympy as sp

from symsys.laws.base import Derived, Law, StepRole
from symsys.laws.collectives import collectives
from symsys.laws.inference import decode, prefill
from symsys.symbols import (
    C_mem,
    E,
    E_hit,
    L,
    L_d,
    L_w,
    M,
    M_kv,
    N_dense,
    N_embed,
    N_expert,
    N_total,
    R_tok,
    T,
    W_read,
    W_res,
    a_attn,
    a_dec,
    alpha_c,
    alpha_n,
    alpha_x,
    beta_n,
    beta_x,
    bytes_act,
    d,
    e_kv,
    h_kv,
    k,
    m_c,
    n_ep,
    n_fast,
    n_fit,
    n_g,
    n_node,
    n_pp,
    n_tok,
    p_net,
    t_a2a,
    t_ar_hier,
    t_comm,
    t_compute,
    t_disp,
    t_memory,
    t_p2p,
    t_send,
    t_send_net,
    t_stage,
    z_comm,
    z_nvls,
)

#: what one of n devices holds and does: every weight matrix split n ways (vocabulary-parallel
#: embedding rows included), attention heads split, K/V heads split until each has one
PER_DEVICE = {N_dense: N_dense / n_g, N_expert: N_expert / n_g, N_embed: N_embed / n_g,
              N_total: N_total / n_g, d: d / n_g, a_dec: a_dec / n_g, a_attn: a_attn / n_g,
              e_kv: e_kv / sp.Min(n_g, h_kv)}

#: what one of p pipeline stages holds and does: L/p of the layers, so 1/p of every weight,
#: attention FLOP and K/V byte; the embedding and LM head are counted as 1/p each (balanced
#: stages: the first and last stage carry them in practice, with fewer layers), and the
#: sliding-window layers as 1/p each (Gemma-2's alternate, Mistral's are all of them)
PER_STAGE = {N_dense: N_dense / n_pp, N_expert: N_expert / n_pp, N_embed: N_embed / n_pp,
             N_total: N_total / n_pp, d: d / n_pp, a_dec: a_dec / n_pp, a_attn: a_attn / n_pp,
             e_kv: e_kv / n_pp, L: L / n_pp, L_w: L_w / n_pp, L_d: L_d / n_pp}

# what a step sends: its activations, n_tok x d elements (the message every collective here
# carries; the full d, since every device of a tensor-parallel group ends with all of it)
_ACTIVATIONS = {m_c: bytes_act * n_tok * d}
# the tensor-parallel group of n devices as N fast domains of n / N: the collectives law's
# hierarchical all-reduce rings over the devices of one domain, then over the N domains
_GROUP_OVER_NODES = {n_g: n_g / n_node}
# two all-reduces of the step's activations per layer (at N = 1 the ring all-reduce over n)
_ALL_REDUCES = 2 * collectives.expr(t_ar_hier).xreplace(_GROUP_OVER_NODES).xreplace(_ACTIVATIONS)
# a stage's send of its activations to the next stage, over the fast domain; between fast
# domains the same send over the scale-out network, its bandwidth and latency in place
_SEND = collectives.expr(t_p2p).xreplace(_ACTIVATIONS)
_OVER_NETWORK = {beta_x: beta_n, alpha_x: alpha_n}

#: the closed forms hold where each device has its share of the K/V heads (n <= h_kv)
_SHARED_HEADS = {sp.Min(n_g, h_kv): n_g}

#: fewest devices whose per-device footprint fits: footprint(n) = capacity, solved for n
FITTING_DEGREE = Derived.balance(n_fit, M, C_mem, n_g, given=_SHARED_HEADS)


#: the closed-form optimum degree is taken inside one fast domain (N = 1): N = n / domain
#: size moves with n in steps, so across nodes the solvers search whole degrees instead
#: one; and on a ring fabric (z_NVLS = 0): the in-network all-reduce takes as long for any
#: n >= 2, so there every added device shortens the step and n* is infinite
_ONE_DOMAIN = {**_SHARED_HEADS, n_node: sp.Integer(1), z_nvls: sp.Integer(0)}


def _fastest_degree(law: Law) -> sp.Expr:
    """Solve d(t_memory + t_comm)/dn = 0 for n: the weight read falls as 1/n, each ring
    all-reduce's 2 (n - 1) latency steps grow with n; the positive root is the optimum."""
    time = (law.expr(t_memory) + law.expr(t_comm)).xreplace(_ONE_DOMAIN)
    roots = [r for r in sp.solve(sp.diff(time, n_g), n_g) if not r.could_extract_minus_sign()]
    if len(roots) != 1:
        raise ValueError(f"{law.name}: d(t_memory + t_comm)/dn = 0 has roots {roots}")
    return roots[0]


#: the degree beyond which a memory-bound step gets slower (infinite when alpha = 0)
FASTEST_DEGREE = Derived(n_fast, _fastest_degree,
                         solves=(sp.Derivative(t_memory + t_comm, n_g), sp.Integer(0)),
                         unknown=n_g, given=_ONE_DOMAIN)

# the roofline's time of a step, and with a communication term that waits for it (z = 0) or
# overlaps it (z = 1)
_ROOFLINE_TIME = sp.Max(t_compute, t_memory)
_WITH_COMM = sp.Max(t_compute, t_memory, t_comm) + (1 - z_comm) * sp.Min(_ROOFLINE_TIME, t_comm)


def tensor_parallel(step: Law, name: str, title: str) -> Law:
    """``step`` on one of n_g devices of a tensor-parallel group."""
    definitions = []
    for output, rhs in step.definitions:
        if output == T:  # the roofline's time, plus the collectives
            definitions.append((t_comm, L * _ALL_REDUCES))
            rhs = rhs.xreplace({_ROOFLINE_TIME: _WITH_COMM})
        definitions.append((output, rhs.xreplace(PER_DEVICE)))
    return Law(
        name=name, title=title,
        summary=(step.summary + " Here the step runs on n devices in tensor parallel: each "
                 "holds and reads 1/n of the weights, computes 1/n of the FLOPs, keeps its "
                 "share of the K/V heads, and all-reduces the activations twice per layer."),
        inputs=(*step.inputs, n_g, beta_x, alpha_x, alpha_c, h_kv, bytes_act, z_comm, n_node,
                beta_n, alpha_n, z_nvls),
        definitions=tuple(definitions),
        derived=(*step.derived, FITTING_DEGREE),
        regimes=(*step.regimes, ("Communication", t_comm)),
        defaults={**step.defaults, alpha_x: sp.Integer(0), alpha_c: sp.Integer(0),
                  z_comm: sp.Integer(0), n_node: sp.Integer(1), alpha_n: sp.Integer(0),
                  z_nvls: sp.Integer(0)},
        notes=(*step.notes,
               "Tensor parallelism: n must divide h_kv when n <= h_kv; beyond h_kv each device "
               "replicates one K/V head. Communication is the hierarchical all-reduce of the "
               "collectives law over N fast domains of n/N devices (N = 1: the fast "
               "domain's all-reduce over n, in the switch where it reduces (z_NVLS = 1, "
               "NVLink SHARP) and the ring elsewhere; N > 1 adds a ring all-reduce of each "
               "device's m N/n shard across the domains over the scale-out network, beta_n "
               "per device); overlap with computation is an option (z_comm), off by "
               "default because a layer's all-reduce waits for the GEMM that produces it.",
               "n_fit holds for n <= h_kv (each device its share of the K/V heads). The "
               "degree beyond which a memory-bound step gets slower, n* = root of "
               "d(t_memory + t_comm)/dn = 0, is derived on the same law by the solvers "
               "(FASTEST_DEGREE in symsys.laws.parallel) inside one fast domain (N = 1: "
               "across domains N = n / domain size moves with n in whole steps, and the "
               "solvers search whole degrees) on a ring fabric; it is infinite when alpha is 0 "
               "or the switch reduces (the in-network all-reduce takes as long for any "
               "n >= 2)."),
        latency=step.latency, rate=step.rate, footprint=step.footprint,
        capacity=step.capacity,
        levers=(*step.levers, beta_x, alpha_x, alpha_c, beta_n, alpha_n, n_g),
        integers=(*step.integers, n_g, n_node), variants=step.variants,
        step=StepRole(step.step.phase, ("tensor",), devices=n_g, communication=t_comm),
    )


def pipeline_parallel(step: Law, name: str, title: str) -> Law:
    """``step`` (a tensor-parallel law) as one of p pipeline stages, p microbatches in flight.

    A stage is the step with 1/p of the layers (``PER_STAGE``); its communication is its
    layers' all-reduces plus its share 1/p of the p - 1 sends, p - 1 - p_net of them over the
    fast domain and p_net over the scale-out network, so p stages take
    p t_stage = p (stage work + all-reduces) + (p - 1 - p_net) t_send + p_net t_send_net.
    The step's time becomes the
    stage's (utilisations and rate are per stage: p microbatches, one per stage, each
    leaving every t_stage), T the p stages in sequence, and the K/V held is p microbatches'.
    """
    definitions = []
    for output, rhs in step.definitions:
        if output == t_disp:  # a layer's all-to-all carries the full d of its tokens
            pass
        elif output == t_comm:  # the stage's layers' all-reduces and its share of the sends
            definitions.append((t_send, _SEND))
            definitions.append((t_send_net, _SEND.xreplace(_OVER_NETWORK)))
            sends = (n_pp - 1 - p_net) * t_send + p_net * t_send_net
            rhs = rhs.xreplace({L: L / n_pp, L_d: L_d / n_pp}) + sends / n_pp
        else:
            rhs = rhs.xreplace(PER_STAGE).xreplace({T: t_stage})
        if output == M_kv:  # every stage keeps its layers' K/V for all p microbatches
            rhs = n_pp * rhs
        definitions.append((t_stage if output == T else output, rhs))
        if output == T:
            definitions.append((T, n_pp * t_stage))
    return Law(
        name=name, title=title,
        summary=(step.summary + " The layers are split into p pipeline stages, each a "
                 "tensor-parallel group holding 1/p of the layers; a token crosses the p "
                 "stages in sequence with p - 1 point-to-point sends of its activations, and "
                 "p microbatches of b sequences are in flight, one per stage."),
        inputs=(*step.inputs, n_pp, p_net), definitions=tuple(definitions),
        derived=step.derived, regimes=step.regimes,
        defaults={**step.defaults, p_net: sp.Integer(0)},
        notes=(*step.notes,
               "Pipeline parallelism: stages are balanced (1/p of every weight, FLOP and K/V "
               "byte each; the embedding and LM head are spread evenly, where real pipelines "
               "give the first and last stage fewer layers). b is one microbatch; p b "
               "sequences are in flight and their K/V is held. Of the p - 1 sends, p_net "
               "(default 0) cross between fast domains over the scale-out network (beta_n, "
               "alpha_n), the rest use the fast-domain link; all wait for the stage unless "
               "z_comm = 1; the sampled token's return to the first stage (a few bytes) is "
               "not counted."),
        latency=step.latency, rate=step.rate, footprint=step.footprint,
        capacity=step.capacity, levers=(*step.levers, n_pp),
        integers=(*step.integers, n_pp, p_net), variants=step.variants,
        step=dataclasses.replace(step.step, parallel=(*step.step.parallel, "pipeline"),
                                 devices=step.step.devices * n_pp, stage=t_stage),
    )


#: what one of e expert-parallel devices holds of the routed experts, written on the symbols
#: of the tensor-parallel law (which has every weight / n): the n_e E N_e expert parameters
#: count E N_e / e instead of E N_e / n, and a routed expert's weight read is a whole expert
#: of the E_hit / e the device holds (N_e / n becomes N_e / e)
_EXPERTS_HELD = {N_total: N_total + E * N_expert * (n_g / n_ep - 1)}
_EXPERTS_READ = {**_EXPERTS_HELD, N_expert: N_expert * n_g / n_ep}
#: the tokens of the whole expert-parallel group: e / n attention replicas of n_tok each
_GROUP_TOKENS = {n_tok: n_tok * n_ep / n_g}
# one all-to-all of a MoE layer: each device sends its 1/n share of its replica's k n_tok
# routed token copies, d activations each, spread over the e devices
_DISPATCH = collectives.expr(t_a2a).xreplace({n_g: n_ep, m_c: bytes_act * k * n_tok * d / n_g})


def expert_parallel(step: Law, name: str, title: str) -> Law:
    """``step`` (a tensor-parallel law over n devices) with its routed experts split over e
    devices, e / n attention replicas of the tensor-parallel group (see the module notes).

    Substitutions into ``step``: the experts a step touches are those of the group's
    n_tok e / n tokens; the weights held and read count E / e and E_hit / e whole experts
    instead of 1/n of every expert; the rate is the group's. The expert FLOPs per device,
    k N_e n_tok / n, are the tensor-parallel law's already. The communication is one
    all-reduce over n per layer (attention), one more per dense layer (its MLP), and two
    all-to-alls over e per MoE layer (dispatch and combine).
    """
    definitions = []
    for output, rhs in step.definitions:
        if output == t_comm:
            definitions.append((t_disp, _DISPATCH))
            rhs = (L + L_d) * _ALL_REDUCES / 2 + 2 * (L - L_d) * t_disp
        elif output in (E_hit, R_tok):
            rhs = rhs.xreplace(_GROUP_TOKENS)
        elif output == W_read:
            rhs = rhs.xreplace(_EXPERTS_READ)
        elif output == W_res:
            rhs = rhs.xreplace(_EXPERTS_HELD)
        definitions.append((output, rhs))
    return Law(
        name=name, title=title,
        summary=(step.summary + " The routed experts are split over e devices in expert "
                 "parallel, e/n replicas of the tensor-parallel group each with its own "
                 "batch: each device holds E/e whole experts and reads those of them the "
                 "group's tokens hit, and every MoE layer exchanges the routed tokens in two "
                 "all-to-alls (dispatch and combine)."),
        inputs=(*step.inputs, n_ep, L_d), definitions=tuple(definitions),
        derived=tuple(x for x in step.derived if x is not FITTING_DEGREE),
        regimes=step.regimes, defaults={**step.defaults, L_d: sp.Integer(0)},
        notes=(*step.notes,
               "Expert parallelism: e devices, e/n attention replicas of the n-device "
               "tensor-parallel group (n divides e; n = e, EP over the TP group, is the usual "
               "pairing; n = 1 is attention data parallel). b is the batch of one replica; "
               "the group serves n_tok e/n tokens per step. E must be divisible by e: each "
               "device holds E/e whole experts, E N_e/e of the expert parameters, beside 1/n "
               "of the rest.",
               "Routing is uniform and balanced: each device receives k n_tok/n of the "
               "group's token-expert pairs (the expert FLOPs of the tensor-parallel law), and "
               "reads E_hit/e of its experts, E_hit taken at the group's n_tok e/n tokens. A "
               "real router's imbalance makes the busiest device slower than this average.",
               "Communication per step: (L + L_d) all-reduces of n_tok d activations over the "
               "n devices (attention in every layer, the MLP of the L_d dense layers; at "
               "n = 1 only their call latency alpha_c) plus 2 (L - L_d) all-to-alls over the "
               "e devices, t_disp = t_A2A(e, m) with m = bw_act k n_tok d / n, the routed "
               "token copies a device sends (its 1/n share of its replica's tokens). Shared "
               "experts are split n ways with the dense weights, their partial sums reduced "
               "with the attention's all-reduce (not counted separately)."),
        latency=step.latency, rate=step.rate, footprint=step.footprint,
        capacity=step.capacity, levers=(*step.levers, n_ep),
        integers=(*step.integers, n_ep), variants=step.variants,
        # an expert-parallel group is its e devices (e/n attention replicas of n devices each)
        step=dataclasses.replace(step.step, parallel=(*step.step.parallel, "expert"),
                                 devices=n_ep, dispatch=t_disp),
    )


decode_tp = tensor_parallel(decode, "decode_tp", "Transformer decode step, tensor parallel")
prefill_tp = tensor_parallel(prefill, "prefill_tp", "Transformer prefill step, tensor parallel")
decode_pp = pipeline_parallel(decode_tp, "decode_pp",
                              "Transformer decode step, tensor x pipeline parallel")
prefill_pp = pipeline_parallel(prefill_tp, "prefill_pp",
                               "Transformer prefill step, tensor x pipeline parallel")
decode_ep = expert_parallel(decode_tp, "decode_ep",
                            "Transformer decode step, tensor x expert parallel")
prefill_ep = expert_parallel(prefill_tp, "prefill_ep",
                             "Transformer prefill step, tensor x expert parallel")
decode_ep_pp = pipeline_parallel(decode_ep, "decode_ep_pp",
                                 "Transformer decode step, tensor x expert x pipeline parallel")
prefill_ep_pp = pipeline_parallel(prefill_ep, "prefill_ep_pp",
                                  "Transformer prefill step, tensor x expert x pipeline parallel")


def with_fastest_degree(law: Law) -> Law:
    """``law`` with n* (FASTEST_DEGREE) as its one derived result. Kept off the registered
    laws: n* is infinite at alpha = 0, the default, where every other output is finite."""
    return dataclasses.replace(law, name=f"{law.name}_fastest", derived=(FASTEST_DEGREE,),
                               step=None)


#: the parallel step laws with n*, by the name of the law they extend
FASTEST_DEGREE_LAWS = {law.name: with_fastest_degree(law)
                       for law in (decode_tp, prefill_tp, decode_pp, prefill_pp)}
