"""The symsys figures (matplotlib), each returning ``(fig, ax)`` (``plot_sweep``: two axes).

- :func:`plot_roofline`: ceilings, ridge point, workloads and batch trajectories;
- :func:`plot_sweep`: latency and throughput against batch or context, crossover marked;
- :func:`plot_sensitivity`: tornado of exact elasticities, the binding lever highlighted;
- :func:`plot_streaming`: a layer's injection and compute time against batch, B* and b_max.

Plots only draw what the solvers return; none recomputes a formula. matplotlib is imported
when a plot is first drawn; the backend is left to the user (the examples and tests use Agg).
"""

from __future__ import annotations

from symsys.viz.roofline import plot_roofline
from symsys.viz.sensitivity import plot_sensitivity
from symsys.viz.streaming import plot_streaming
from symsys.viz.sweep import plot_sweep

__all__ = ["plot_roofline", "plot_sensitivity", "plot_streaming", "plot_sweep"]
