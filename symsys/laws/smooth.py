"""The smooth roofline: the max() of the roofline replaced by a p-norm.

    T = (t_compute^p + t_memory^p)^(1/p) + t_o

Measured kernels do not switch sharply from memory- to compute-bound: near the ridge both
pipes are busy and neither hides the other completely, so a kernel is slower than the larger
of the two times. The p-norm models that partial overlap with one number: p = 1 adds the two
times (no overlap), p -> oo recovers the max() of the roofline (perfect overlap). Unlike
max() it is differentiable everywhere, so a least-squares fit of the efficiencies sees a
gradient from every kernel, not only from the side of the ridge it lies on.

t_compute and t_memory are the roofline's own definitions, imported, never retyped.
"""

from __future__ import annotations

from symsys.laws.base import Law
from symsys.laws.roofline import RIDGE, roofline
from symsys.symbols import F, Pi, Q, T, beta, eta_c, eta_m, p_smooth, t_compute, t_memory, t_o

smooth_roofline = Law(
    name="smooth_roofline",
    title="Smooth roofline",
    summary=(
        "The roofline with its max() replaced by a p-norm of the compute and memory times. "
        "p measures how well the two overlap: p = 1 adds them, and as p grows the law tends "
        "to the roofline's max(). Differentiable everywhere, it is the law symsys fits "
        "measured kernel times with (eta_c, eta_m, t_o and p by least squares on log error)."
    ),
    inputs=(Pi, beta, F, Q, eta_c, eta_m, t_o, p_smooth),
    definitions=(
        (t_compute, roofline.rhs(t_compute)),
        (t_memory, roofline.rhs(t_memory)),
        (T, (t_compute**p_smooth + t_memory**p_smooth) ** (1 / p_smooth) + t_o),
    ),
    derived=(RIDGE,),
    regimes=roofline.regimes,
    defaults=dict(roofline.defaults),
    notes=(
        "p has no default: it is a fitted property of a device's kernels (calibration "
        "profiles carry it). p = 1 is the serial sum, p -> oo the roofline.",
        "For every p >= 1 the smooth latency lies between the roofline's and 2^(1/p) times "
        "it (the upper end at the ridge): with the same efficiencies it never predicts a "
        "kernel faster than the roofline does.",
        "The ridge point is the roofline's: where t_compute = t_memory, the smooth law is "
        "2^(1/p) times either term.",
    ),
)
