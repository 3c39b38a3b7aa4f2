"""The roofline: a step takes as long as the slower of its compute and its memory traffic.

Williams, Waterman and Patterson, "Roofline: an insightful visual performance model for
multicore architectures", CACM 52(4), 2009.
"""

from __future__ import annotations

import sympy as sp

from symsys.laws.base import Derived, Law
from symsys.symbols import (
    F,
    I,
    I_ridge,
    P_att,
    Pi,
    Q,
    T,
    U_c,
    U_m,
    beta,
    eta_c,
    eta_m,
    t_compute,
    t_memory,
    t_o,
)


def _ridge(law: Law) -> sp.Expr:
    """Solve t_compute = t_memory for the intensity I = F / Q."""
    balance = sp.Eq(law.rhs(t_compute).subs(F, I * Q), law.rhs(t_memory))
    (solution,) = sp.solve(balance, I)
    return solution


#: The ridge point, reusable by every law that ends in the roofline's definitions.
RIDGE = Derived(I_ridge, _ridge, solves=(t_compute, t_memory), unknown=I)

#: achieved over peak: what the step's work and traffic get of the device (MFU and MBU)
UTILISATION = ((U_c, F / (T * Pi)), (U_m, Q / (T * beta)))

roofline = Law(
    name="roofline",
    title="Roofline",
    summary=(
        "A step that performs F floating-point operations and moves Q bytes cannot finish "
        "before its compute at the achieved peak, nor before its traffic at the achieved "
        "bandwidth. With perfect overlap the latency is the larger of the two, plus a fixed "
        "overhead. The ridge point is the intensity at which the two bounds are equal: below "
        "it a step is memory-bound, above it compute-bound."
    ),
    inputs=(Pi, beta, F, Q, eta_c, eta_m, t_o),
    definitions=(
        (t_compute, F / (eta_c * Pi)),
        (t_memory, Q / (eta_m * beta)),
        (T, sp.Max(t_compute, t_memory) + t_o),
        (I, F / Q),
        (P_att, sp.Min(eta_c * Pi, eta_m * beta * I)),
        *UTILISATION,
    ),
    derived=(RIDGE,),
    regimes=(("Compute", t_compute), ("Memory", t_memory)),
    latency=T,
    levers=(beta, Pi, eta_m, eta_c, t_o),
    defaults={eta_c: sp.Integer(1), eta_m: sp.Integer(1), t_o: sp.Integer(0)},
    notes=(
        "Defaults: eta_c = eta_m = 1 and t_o = 0, the speed-of-light bound. Measured kernels "
        "are slower; calibrated efficiencies are an explicit option.",
        "Regime: compute-bound when t_compute >= t_memory (at the ridge both bind; ties are "
        "reported as compute-bound). At the ridge the latency has a kink: derivatives are "
        "reported one-sided, never as a Heaviside(0) = 1/2 average.",
    ),
)
