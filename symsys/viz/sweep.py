"""Latency and throughput against batch size (or context length), one line per device.

The curves are one vectorised ``symsys.sweep`` call; the crossover batch of each device is the
solver's ``InferenceResult.crossover_batch`` (the law's closed form), drawn as a dashed
vertical line with gid ``crossover:<device>``. Memory-bound points are hollow, compute-bound
points filled, and configurations that do not fit in device memory dotted.
"""

from __future__ import annotations

import numpy as np

from symsys.viz import style

DEFAULT_BATCHES = tuple(2**k for k in range(11))  # 1 ... 1024


def plot_sweep(model, hardware, batch_sizes=None, seq_lens=None, precision="auto", *,
               batch_size=1, seq_len=None, phase="decode", efficiency=None, axes=None):
    """Latency and throughput of ``model`` on one device or several.

    The x axis is ``batch_sizes`` (default 1 to 1024; context ``seq_len``), or ``seq_lens``
    (at ``batch_size``) when given. Returns ``(fig, (ax_latency, ax_throughput))``.
    """
    from symsys.solvers.inputs import resolve_hardware, resolve_model
    from symsys.sweeps.sweep import sweep

    model = resolve_model(model)
    devices = [resolve_hardware(h) for h in
               (hardware if isinstance(hardware, list | tuple) else [hardware])]
    by_seq = seq_lens is not None
    xs = np.asarray(seq_lens if by_seq else (batch_sizes or DEFAULT_BATCHES))
    result = sweep(model=model, hardware=devices, precision=precision, phase=phase,
                   efficiency=efficiency, batch_size=batch_size if by_seq else xs,
                   seq_len=xs if by_seq else seq_len)
    fig, (ax_lat, ax_thr) = _axes(axes)
    hidden = [] if not by_seq else [int(v) for v in xs if v <= 0]  # no place on a log axis
    time_unit = style.pick_unit([result.latency.max()], style.TIME_UNITS)
    rate_unit = f"{result.throughput.units:~P}"
    any_infeasible = False
    for i, hw in enumerate(devices):
        rows = np.asarray(result.hardware) == hw.key
        if not rows.any():
            continue  # skipped by the sweep (no such precision): listed in the note below
        x = np.asarray(result["seq_len" if by_seq else "batch_size"])
        rows &= x > 0
        x = x[rows]
        series = {ax_lat: result.latency[rows].m_as(time_unit),
                  ax_thr: result.throughput[rows].m_as(rate_unit)}
        compute = np.asarray(result.bottleneck)[rows] == "Compute"
        fits = np.asarray(result.feasible)[rows]
        any_infeasible = any_infeasible or not fits.all()
        for ax, y in series.items():
            _draw_series(ax, x, y, compute, fits, i, hw.key)
        if by_seq:
            _mark_flip(ax_lat, ax_thr, x, compute, i, hw.key)
        else:
            probe = _probe(model, hw, precision, phase, seq_len, efficiency)
            _mark_crossover(ax_lat, ax_thr, probe.crossover_batch, x, i, hw.key)
    notes = [f"skipped: {reason}" for reason in result.skipped]
    if hidden:
        notes.append(f"context {', '.join(map(str, hidden))} not shown on the log axis")
    _decorate(fig, (ax_lat, ax_thr), model, (precision, phase, by_seq, batch_size, seq_len),
              (time_unit, rate_unit), notes, any_infeasible)
    return fig, (ax_lat, ax_thr)


def _probe(model, hw, precision, phase, seq_len, efficiency):
    from symsys.solvers.inference import Engine

    return Engine.solve(model, hw, batch_size=1, precision=precision, phase=phase,
                        seq_len=seq_len, efficiency=efficiency)


def _axes(axes):
    if axes is not None:
        return axes[0].figure, tuple(axes)
    fig, pair = style.pyplot().subplots(1, 2, figsize=(11, 4.6), layout="constrained")
    return fig, tuple(pair)


def _draw_series(ax, x, y, compute, fits, i, key) -> None:
    colour = style.colour(i)
    ax.plot(x[fits], y[fits], color=colour, lw=1.8, label=key, gid=f"series:{key}", zorder=3)
    if (~fits).any():  # a configuration that does not fit is shown, but never as if it ran
        tail = np.flatnonzero(~fits)
        start = max(tail[0] - 1, 0)
        ax.plot(x[start:], y[start:], color=colour, lw=1.2, ls=":", zorder=2,
                gid=f"infeasible:{key}")
    marked = np.zeros(len(x), dtype=bool)  # a dense sweep gets ~24 markers, log-spaced
    marked[np.unique(np.searchsorted(x, np.geomspace(x.min(), x.max(), 24)).clip(0, len(x) - 1))
           if len(x) > 40 else slice(None)] = True
    for shown, alpha in ((fits & marked, 1.0), (~fits & marked, 0.4)):
        memory, compute_bound = shown & ~compute, shown & compute
        ax.plot(x[memory], y[memory], ls="none", marker=style.marker(i), ms=5, mfc="white",
                color=colour, zorder=4, alpha=alpha)
        ax.plot(x[compute_bound], y[compute_bound], ls="none", marker=style.marker(i), ms=5,
                color=colour, zorder=4, alpha=alpha)


def _mark_crossover(ax_lat, ax_thr, crossover, x, i, key) -> None:
    """Dashed line at the first compute-bound batch, labelled at the top of the latency axes."""
    if crossover is None:
        ax_lat.plot([], [], color=style.colour(i), ls="--", label=f"{key}: never compute-bound")
        return
    if not x.min() <= crossover <= x.max():
        ax_lat.plot([], [], color=style.colour(i), ls="--",
                    label=f"{key}: crossover at b = {crossover} (beyond the range)")
        return
    for ax in (ax_lat, ax_thr):
        ax.axvline(crossover, color=style.colour(i), ls="--", lw=1, gid=f"crossover:{key}",
                   zorder=1)
    ax_lat.annotate(f"{key} crossover\nb = {crossover}", xy=(crossover, 0.97),
                    xycoords=("data", "axes fraction"), xytext=(-4 if i % 2 == 0 else 4, 0),
                    textcoords="offset points", ha="right" if i % 2 == 0 else "left", va="top",
                    fontsize=7.5, color=style.colour(i), bbox=style.TEXT_BOX)


def _mark_flip(ax_lat, ax_thr, x, compute, i, key) -> None:
    """Along the context axis: the first context at which the regime differs from the start."""
    changed = np.flatnonzero(compute != compute[0])
    if not changed.size:
        return
    flip = x[changed[0]]
    for ax in (ax_lat, ax_thr):
        ax.axvline(flip, color=style.colour(i), ls="--", lw=1, gid=f"regime-flip:{key}")
    regime = "compute" if compute[changed[0]] else "memory"
    ax_lat.annotate(f"{key} turns {regime}-bound\nat {flip} tokens", xy=(flip, 0.97),
                    xycoords=("data", "axes fraction"), xytext=(-4, 0),
                    textcoords="offset points", ha="right", va="top", fontsize=7.5,
                    color=style.colour(i), bbox=style.TEXT_BOX)


def _decorate(fig, axes, model, case, units, notes, any_infeasible) -> None:
    ax_lat, ax_thr = axes
    precision, phase, by_seq, batch_size, seq_len = case
    for ax in axes:
        style.log_axes(ax, xbase=2 if not by_seq else 10)
        ax.set_xlabel("Context length (tokens)" if by_seq else "Batch size (sequences)")
    ax_lat.set_ylabel(f"Latency per step ({style.unit_label(units[0])})")
    ax_thr.set_ylabel(f"Throughput ({units[1]})")
    fixed = f"batch {batch_size}" if by_seq else (
        "no cached context" if seq_len is None else f"{seq_len} tokens of context")
    fig.suptitle(f"{model.key} {phase}, {precision}, {fixed}", fontsize=11)
    ax_lat.set_title("Latency (hollow: memory-bound, filled: compute-bound)", fontsize=9)
    ax_thr.set_title("Throughput" + (" (dotted, faded: does not fit in device memory)"
                                     if any_infeasible else ""), fontsize=9)
    low, high = ax_lat.get_ylim()
    ax_lat.set_ylim(low, high * (high / low) ** 0.12)  # headroom for the crossover labels
    style.legend(fig, ax_lat, ncols=min(len(ax_lat.get_legend_handles_labels()[1]), 4))
    if notes:
        style.note(ax_thr, "; ".join(notes))
