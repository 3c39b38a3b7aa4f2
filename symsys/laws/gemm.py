"""The tiled GEMM: a smooth roofline whose compute term pays for padded output tiles.

A GEMM multiplies an M x K activation by a K x N weight. Its useful work is F = 2 M N K
and, streamed once, it moves Q = bw_e (M K + K N + M N) bytes. cuBLAS-class kernels compute
the output in tiles of m_tile rows, so a GEMM with M = 129 rows costs the tensor cores as
much as one with 256: measured linear-layer times step up every 128 tokens on both the A100
and the H100 (Vidur's profiles). A GEMM of at most one tile of rows (decode-sized M) runs on
a kernel sized to it (small tiles, split-K), so only M above one tile is padded:

    M_x = M                          if M <= m_tile
          m_tile ceil(M / m_tile)    otherwise

The compute time is the roofline's t_compute of the executed work F_x = 2 M_x N K, and the
latency is the smooth roofline's T. m_tile is a structural constant of the kernel library,
not a fitted parameter: ceil() has no useful derivative, and least squares with exact
derivatives fits only eta_c, eta_m, t_o and p.
"""

from __future__ import annotations

import sympy as sp

from symsys import symbols as S
from symsys.laws.base import Law
from symsys.laws.roofline import roofline
from symsys.laws.smooth import smooth_roofline

gemm_tiled = Law(
    name="gemm_tiled",
    title="Tiled GEMM (smooth roofline with tile padding)",
    summary=(
        "A matrix multiply (M x K by K x N) on a tiled kernel: the useful work and traffic "
        "follow from the shape, the tensor cores execute whole tiles of m_tile rows once M "
        "exceeds one tile, and the latency is the smooth roofline of the executed work and "
        "the traffic. symsys calibrates linear-layer kernels with it."
    ),
    inputs=(S.Pi, S.beta, S.M_g, S.N_g, S.K_g, S.bytes_e, S.m_tile, S.eta_c, S.eta_m, S.t_o,
            S.p_smooth),
    definitions=(
        (S.F, 2 * S.M_g * S.N_g * S.K_g),
        (S.Q, S.bytes_e * (S.M_g * S.K_g + S.K_g * S.N_g + S.M_g * S.N_g)),
        (S.M_x, sp.Piecewise((S.M_g, S.M_g <= S.m_tile),
                             (S.m_tile * sp.ceiling(S.M_g / S.m_tile), True))),
        (S.F_x, 2 * S.M_x * S.N_g * S.K_g),
        (S.t_compute, roofline.rhs(S.t_compute).xreplace({S.F: S.F_x})),
        (S.t_memory, roofline.rhs(S.t_memory)),
        (S.T, smooth_roofline.rhs(S.T)),
    ),
    regimes=roofline.regimes,
    defaults=dict(roofline.defaults),
    notes=(
        "Traffic counts each matrix once (inputs read, output written), the least a kernel "
        "must move; tile padding adds executed FLOPs, not DRAM bytes.",
        "m_tile = 1 removes the padding; p -> oo recovers the roofline's max().",
    ),
)
