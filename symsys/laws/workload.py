"""A workload given by its totals (a CNN's FLOPs per image, or a user's FLOPs and bytes).

The batch shares one read of the weights; every sample adds its own FLOPs and its own
input/output bytes. Then the roofline, reused as is.
"""

from __future__ import annotations

import sympy as sp

from symsys.laws.base import Law
from symsys.laws.inference import with_launches
from symsys.laws.roofline import RIDGE, roofline
from symsys.symbols import (
    F_1,
    Q_1,
    C_mem,
    F,
    M,
    N_total,
    Pi,
    Q,
    R_s,
    T,
    U_mem,
    W_read,
    W_res,
    W_ws,
    b,
    beta,
    bytes_w,
    eta_c,
    eta_m,
    n_kern,
    t_kern,
    t_o,
)

fixed_workload = Law(
    name="fixed_workload",
    title="Fixed workload (CNN or user-given FLOPs and bytes)",
    summary=(
        "A model known by its totals: F_1 FLOPs per sample at a stated input size and N "
        "parameters. A batch of b samples reads the weights once and moves Q_1 bytes of its "
        "own per sample. Intermediate activations are assumed to stay on chip, so Q is a lower "
        "bound on traffic and the latency a lower bound on time."
    ),
    inputs=(Pi, beta, eta_c, eta_m, t_o, t_kern, C_mem, F_1, Q_1, N_total, bytes_w, b, W_ws),
    definitions=(
        (F, F_1 * b),
        (W_read, bytes_w * N_total),
        (Q, W_read + Q_1 * b),
        (W_res, bytes_w * N_total),
        (M, W_res + W_ws),
        (U_mem, M / C_mem),
        (n_kern, sp.Integer(1)),  # one fused launch per batch: a fixed workload's unit
        *with_launches(roofline.definitions),
        (R_s, b / T),
    ),
    derived=(RIDGE,),
    regimes=roofline.regimes,
    latency=T, rate=R_s, footprint=M, capacity=C_mem,
    levers=(beta, Pi, eta_m, eta_c, t_o, t_kern, b, bytes_w, C_mem), integers=(b,),
    defaults={**roofline.defaults, t_kern: sp.Integer(0), W_ws: sp.Integer(0),
              Q_1: sp.Integer(0)},
)
