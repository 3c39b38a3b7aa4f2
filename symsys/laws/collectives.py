"""Collective communication in the alpha-beta model: every step costs a latency alpha plus
its bytes over the per-direction link bandwidth beta.

A group of n devices reduces, gathers or exchanges a buffer of m bytes. The ring algorithms
move each byte (n - 1)/n of the way round once per phase: reduce-scatter and all-gather are
one phase of n - 1 steps of m / n bytes, all-reduce is both (Patarasuk and Yuan, "Bandwidth
optimal all-reduce algorithms for clusters of workstations", JPDC 69(2), 2009). Each call
also pays a latency alpha_c of its own, whatever the group size: the kernel launch and the
synchronisation that NCCL's tuning model carries as a base latency beside its per-step
hardware latency (NVIDIA/nccl src/graph/tuning.cc: baseLat and hwLat). Recursive
halving and doubling trades the ring's n - 1 latency steps for log2 n at the same bandwidth
term (Thakur, Rabenseifner and Gropp, "Optimization of collective communication operations in
MPICH", IJHPCA 19(1), 2005). All-to-all by pairwise exchange sends m / n to each of the n - 1
others. Across N fast domains the hierarchical all-reduce reduce-scatters inside each domain,
all-reduces the 1/n shards across nodes over the scale-out network, and all-gathers inside.

Where the fabric's switches reduce (NVLink SHARP, "NVLS", on third-generation NVSwitch and
later), a device sends each element of its buffer into the switch once and receives each
element of the result once: the two directions of its links carry m each, overlapped, against
the ring's 2 (n - 1)/n m each way. No algorithm does better: every element either leaves a
device as its contribution or, if reduced there, as the result, so m / beta_x per direction is
the bound of any in-network all-reduce of n >= 2 devices (the ring's is 2 (n - 1)/n m / beta_x).
The law takes (n - 1)/n of it, a bound still, which vanishes for a group of one without a
branch on n.
NCCL takes it by default where the switch offers it (NCCL_NVLS_ENABLE, NCCL 2.17+), so the
fast domain's all-reduce is the in-network one where the registry says the fabric reduces
(z_NVLS = 1) and the ring elsewhere. Pure sympy: the algorithm factors are written here once.
"""

from __future__ import annotations

import sympy as sp

from symsys.laws.base import Law
from symsys.symbols import (
    alpha_c,
    alpha_n,
    alpha_x,
    beta_n,
    beta_x,
    m_c,
    n_g,
    n_node,
    t_a2a,
    t_ag,
    t_ar,
    t_ar_fab,
    t_ar_hier,
    t_ar_nvls,
    t_ar_tree,
    t_p2p,
    t_rs,
    z_nvls,
)


def ring_phase(devices, message, alpha, beta):
    """One ring phase: devices - 1 steps, each alpha plus message / devices bytes."""
    return (devices - 1) * (alpha + message / (devices * beta))


#: the in-network all-reduce past its call latency: two steps (into the switch, multicast out)
#: and (n - 1)/n of the buffer each way, the traffic a device's links must carry even if its own
#: shard never left it. The exact bound is m each way for n >= 2 (its own shard's contribution
#: or result must leave it too); this one is at most a factor (n - 1)/n below it, vanishes for
#: a group of one as a closed form must, and keeps the law free of a branch on n
_IN_SWITCH = (n_g - 1) / n_g * (2 * alpha_x + m_c / beta_x)
_RING = 2 * ring_phase(n_g, m_c, alpha_x, beta_x)
#: the fabric's all-reduce, ring (z = 0) or in the switch (z = 1), collected into one term per
#: latency and per byte (the blend written out would double every solve's work)
_FABRIC = sp.collect(sp.expand(_RING + z_nvls * (_IN_SWITCH - _RING)), [alpha_x, m_c], sp.factor)


collectives = Law(
    name="collectives",
    title="Collectives (alpha-beta)",
    summary=(
        "A group of n devices, each with links of bandwidth beta_x per direction and a latency "
        "alpha_x per message step, reduces, gathers or exchanges a buffer of m bytes; each "
        "call costs a latency alpha_c besides. Ring reduce-scatter and all-gather are one "
        "phase of n - 1 steps of m / n bytes; ring all-reduce is both phases in one call. "
        "Where the switches reduce (NVLink SHARP, z_NVLS = 1) the all-reduce is two steps "
        "(into the switch, multicast out) and (n - 1)/n of the buffer once each way: the fast "
        "domain's all-reduce. Across N nodes the hierarchical all-reduce adds a ring "
        "all-reduce of the m / n shards over the scale-out network (beta_n, alpha_n)."
    ),
    inputs=(n_g, m_c, beta_x, alpha_x, alpha_c, n_node, beta_n, alpha_n, z_nvls),
    definitions=(
        (t_rs, alpha_c + ring_phase(n_g, m_c, alpha_x, beta_x)),
        (t_ag, alpha_c + ring_phase(n_g, m_c, alpha_x, beta_x)),
        # both phases in one call: one call's latency
        (t_ar, t_rs + t_ag - alpha_c),
        (t_ar_tree, alpha_c + 2 * sp.log(n_g, 2) * alpha_x + 2 * (n_g - 1) / n_g * m_c / beta_x),
        (t_a2a, alpha_c + ring_phase(n_g, m_c, alpha_x, beta_x)),
        (t_p2p, alpha_c + alpha_x + m_c / beta_x),
        (t_ar_nvls, alpha_c + _IN_SWITCH),
        # the fabric's own all-reduce: in the switch where it reduces, else the ring
        (t_ar_fab, alpha_c + _FABRIC),
        (t_ar_hier, t_ar_fab + 2 * ring_phase(n_node, m_c / n_g, alpha_n, beta_n)),
    ),
    levers=(beta_x, alpha_x, alpha_c, beta_n, alpha_n, n_g),
    integers=(n_g, n_node),
    defaults={alpha_x: sp.Integer(0), alpha_c: sp.Integer(0), alpha_n: sp.Integer(0),
              n_node: sp.Integer(1), z_nvls: sp.Integer(0)},
    notes=(
        "beta is per direction: NVLink and Infinity Fabric are quoted as bidirectional totals "
        "(an H100's 900 GB/s is 450 GB/s each way), InfiniBand and Ethernet in bits per second; "
        "the registry normalises both at load.",
        "The ring's bus bandwidth is 2 (n - 1)/n of the buffer per device, the figure "
        "nccl-tests reports as busbw; the model assumes every step of a phase overlaps "
        "perfectly and the fabric is non-blocking within the group.",
        "The in-network all-reduce's (n - 1)/n m / beta_x is a bound (the exact one is m / beta_x "
        "for n >= 2), not NCCL's achieved rate: NVLS "
        "reads each shard through the switch (multimem.ld_reduce) and writes the result by "
        "multicast (multimem.st), (n + 1)/n m each way, and reaches about 480 GB/s of bus "
        "bandwidth on 8 H100s (NVIDIA/nccl#1455) where the ring reaches about 370; the link "
        "profiles fit the achieved fraction.",
        "All-to-all by pairwise exchange assumes a switched (full-bisection) domain such as "
        "NVSwitch; on a ring or torus its time grows with the hop count.",
    ),
)
