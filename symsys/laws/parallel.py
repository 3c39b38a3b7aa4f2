"""Tensor parallelism: a step's law on one of n devices, by substitution into the step law.

Megatron-style tensor parallelism (Shoeybi et al., "Megatron-LM", arXiv:1909.08053) splits
every attention layer by heads and every MLP by columns then rows, and the embedding and LM
head by vocabulary: each device holds 1/n of every weight matrix, does 1/n of the FLOPs and
reads 1/n of the weights. Key/value heads split with the query heads while there are at least
n of them (n must divide h_kv); beyond that each device keeps a copy of one K/V head, so a
device's K/V is e_KV / min(n, h_kv). Each layer all-reduces its b x d activations twice (after
the attention output projection and after the MLP down projection), with the collectives law's
ring all-reduce. Communication waits for the computation that produces it unless an overlap
is given (z_comm = 1): the step takes max(t_compute, t_memory) + t_comm, or the largest of the
three. The single-device step law is not retyped: its definitions are taken with each model
summary divided by the degree, and its T with the communication term added.
"""

from __future__ import annotations

import sympy as sp

from symsys.laws.base import Law
from symsys.laws.collectives import collectives
from symsys.laws.inference import decode, prefill
from symsys.symbols import (
    N_dense,
    N_embed,
    N_expert,
    N_total,
    T,
    a_attn,
    a_dec,
    alpha_x,
    beta_x,
    bytes_act,
    d,
    e_kv,
    h_kv,
    m_c,
    n_g,
    n_tok,
    t_ar,
    t_comm,
    t_compute,
    t_memory,
    z_comm,
)

#: what one of n devices holds and does: every weight matrix split n ways (vocabulary-parallel
#: embedding rows included), attention heads split, K/V heads split until each has one
PER_DEVICE = {N_dense: N_dense / n_g, N_expert: N_expert / n_g, N_embed: N_embed / n_g,
              N_total: N_total / n_g, d: d / n_g, a_dec: a_dec / n_g, a_attn: a_attn / n_g,
              e_kv: e_kv / sp.Min(n_g, h_kv)}

# two all-reduces of the step's activations (n_tok x d elements) per layer
_ALL_REDUCES = 2 * collectives.expr(t_ar).xreplace({m_c: bytes_act * n_tok * d})


def tensor_parallel(step: Law, name: str, title: str) -> Law:
    """``step`` on one of n_g devices of a tensor-parallel group."""
    compute_or_memory = sp.Max(t_compute, t_memory)
    with_comm = (sp.Max(t_compute, t_memory, t_comm)
                 + (1 - z_comm) * sp.Min(compute_or_memory, t_comm))
    definitions = []
    for output, rhs in step.definitions:
        if output == T:  # the roofline's time, plus the collectives
            definitions.append((t_comm, step.symbol("L") * _ALL_REDUCES))
            rhs = rhs.xreplace({compute_or_memory: with_comm})
        definitions.append((output, rhs.xreplace(PER_DEVICE)))
    return Law(
        name=name, title=title,
        summary=(step.summary + " Here the step runs on n devices in tensor parallel: each "
                 "holds and reads 1/n of the weights, computes 1/n of the FLOPs, keeps its "
                 "share of the K/V heads, and all-reduces the activations twice per layer."),
        inputs=(*step.inputs, n_g, beta_x, alpha_x, h_kv, bytes_act, z_comm),
        definitions=tuple(definitions),
        derived=step.derived,
        regimes=(*step.regimes, ("Communication", t_comm)),
        defaults={**step.defaults, alpha_x: sp.Integer(0), z_comm: sp.Integer(0)},
        notes=(*step.notes,
               "Tensor parallelism: n must divide h_kv when n <= h_kv; beyond h_kv each device "
               "replicates one K/V head. Communication is the ring all-reduce of the "
               "collectives law; overlap with computation is an option (z_comm), off by "
               "default because a layer's all-reduce waits for the GEMM that produces it."),
        latency=step.latency, rate=step.rate, footprint=step.footprint,
        capacity=step.capacity, levers=(*step.levers, beta_x, alpha_x, n_g),
        integers=(*step.integers, n_g), variants=step.variants,
    )


decode_tp = tensor_parallel(decode, "decode_tp", "Transformer decode step, tensor parallel")
prefill_tp = tensor_parallel(prefill, "prefill_tp", "Transformer prefill step, tensor parallel")
