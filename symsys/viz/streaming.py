"""Weight streaming: a layer's injection and compute time against batch size.

Every point is ``WeightStreamingModel().solve`` at that batch. B* (the first batch whose compute
hides the injection) and b_max (the largest batch that fits on chip) are the solver's
``optimal_batch_size`` and ``max_feasible_batch``, drawn with gids ``B_star`` and ``b_max``;
batches beyond the on-chip limit (the law's exact root, ``raw["b_max"]``) are shaded
(gid ``infeasible``). The operating point min(B*, b_max) is starred.
"""

from __future__ import annotations

import numpy as np

from symsys.viz import style

INJECTION, COMPUTE, LAYER = style.PALETTE[0], style.PALETTE[1], "#444444"


def default_batches(base) -> np.ndarray:
    """1 up to a few times the larger wall, so both B* and b_max are on the axis."""
    top = max(4 * base.optimal_batch_size, 4 * base.max_feasible_batch, 16)
    return np.unique(np.round(np.geomspace(1, top, 80)).astype(int))


def plot_streaming(model, hardware, seq_len, batch_sizes=None, precision="auto", *,
                   phase="decode", overlap=True, efficiency=None, ax=None):
    """Layer injection vs compute time over ``batch_sizes`` (default: 1 to past both walls).
    Returns ``(fig, ax)``."""
    from symsys.solvers.streaming import WeightStreamingModel

    solver = WeightStreamingModel()
    options = {"precision": precision, "phase": phase, "overlap": overlap,
               "efficiency": efficiency}
    base = solver.solve(model, hardware, seq_len=seq_len, batch_size=1, **options)
    batches = np.asarray(batch_sizes if batch_sizes is not None else default_batches(base))
    results = [solver.solve(model, hardware, seq_len=seq_len, batch_size=int(b), **options)
               for b in batches]
    unit = style.pick_unit([r.layer_time for r in results], style.TIME_UNITS)
    fig, ax = style.new_axes(ax)
    style.log_axes(ax, xbase=10)
    series = {"injection": [r.layer_injection_time.m_as(unit) for r in results],
              "compute": [r.layer_compute_time.m_as(unit) for r in results],
              "layer": [r.layer_time.m_as(unit) for r in results]}
    link = base.hardware.streaming
    ax.plot(batches, series["layer"], color=LAYER, lw=4, alpha=0.25, gid="layer",
            label="layer time " + ("max(inject, compute), overlapped" if overlap
                                   else "inject + compute, serial"))
    ax.plot(batches, series["injection"], color=INJECTION, lw=2, gid="injection",
            label=f"injection: layer weights over {link.name} "
                  f"({link.injection_bandwidth:.4g~P})")
    ax.plot(batches, series["compute"], color=COMPUTE, lw=2, gid="compute",
            label=f"compute: {precision} at {base.hardware.compute.peak(precision):.4g~P}")
    ax.set_xlim(batches.min(), batches.max())
    _walls(ax, base, batches)
    _operating_point(ax, base, unit)
    ax.set_xlabel("Batch size (sequences)")
    ax.set_ylabel(f"Time per layer ({style.unit_label(unit)})")
    ax.set_title(f"Weight streaming: {base.model.key} on {base.hardware.key}, {phase}, "
                 f"seq_len {seq_len}, {precision}", fontsize=10)
    style.legend(fig, ax)
    return fig, ax


def _walls(ax, base, batches) -> None:
    """B* and b_max as vertical lines labelled along them; the infeasible batches shaded."""
    top = batches.max()
    b_star, b_max = base.optimal_batch_size, base.max_feasible_batch
    exact_fit = float(base.raw["b_max"])
    if exact_fit < top:
        ax.axvspan(max(exact_fit, batches.min()), top, color=style.INFEASIBLE, alpha=0.08,
                   hatch="///", gid="infeasible", lw=0)
        ax.annotate("does not fit on chip", xy=(max(exact_fit, batches.min()), 0.5),
                    xycoords=("data", "axes fraction"), xytext=(6, 0),
                    textcoords="offset points", ha="left", va="center", fontsize=8,
                    color=style.INFEASIBLE, bbox=style.TEXT_BOX)
    # labels on opposite sides of their lines, so close walls do not overwrite each other
    for x, text, side, gid in ((b_star, f"B* = {b_star:,} (compute hides injection)", 1,
                                "B_star"),
                               (b_max, f"b_max = {b_max:,} (fits on chip)", -1, "b_max")):
        if not batches.min() <= x <= top:
            style.note(ax, f"{text.split(' (')[0]} is outside the batch range")
            continue
        ax.axvline(x, color="black", ls="--" if gid == "B_star" else "-.", lw=1, gid=gid)
        # from the bottom up: the operating point sits high, on the injection line
        ax.annotate(text, xy=(x, 0.03), xycoords=("data", "axes fraction"),
                    xytext=(3 * side, 0), textcoords="offset points", rotation=90,
                    ha="left" if side > 0 else "right", va="bottom", fontsize=8,
                    bbox=style.TEXT_BOX)


def _operating_point(ax, base, unit) -> None:
    op = base.operating
    if op is None:
        style.note(ax, f"no batch fits: {base.reason}")
        return
    y = op.layer_time.m_as(unit)
    ax.plot([op.batch_size], [y], marker="*", ms=14, color=style.PALETTE[4], mec="black",
            zorder=5, gid="operating", ls="none",
            label=f"operating point b = {op.batch_size}: {base.operating_wall} binds, "
                  f"{op.throughput_tokens_per_sec:.4g} tokens/s")
