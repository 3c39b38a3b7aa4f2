"""Roofline figure: ceilings from the roofline law, workloads where ``Engine.solve`` puts them.

Every plotted number comes from the package: the ceilings are the law's attainable
performance ``P_att`` evaluated over intensity, the ridge is ``Device.ridge_point`` (the law's
``I_ridge``), and each workload sits at the arithmetic intensity and achieved FLOP/s
(``flops / latency``) of its solved step. Artists carry ``gid``s (``ceiling:H100``,
``ridge:H100``, ``workload:Llama3_8B:H100``, ``trajectory:Llama3_8B:H100``) so tests and users
can find them.
"""

from __future__ import annotations

import numpy as np

from symsys.viz import style

_FLOP_PER_BYTE = "FLOP/B"


def _devices(hardware) -> list:
    from symsys.solvers.inputs import resolve_hardware

    items = hardware if isinstance(hardware, list | tuple) else [hardware]
    return [resolve_hardware(h) for h in items]


def _solve_workloads(workloads, devices, precision, efficiency, batch_size, options) -> list:
    """[(name, [InferenceResult, ...])]: a model is solved on every device; a result given
    as such is plotted as it is, on its own device (added to ``devices`` if missing)."""
    from symsys.solvers.inference import Engine, InferenceResult

    solved = []
    for item in workloads or []:
        if isinstance(item, InferenceResult):
            if all(item.hardware is not d for d in devices):
                devices.append(item.hardware)
            solved.append((item.model.key, [item]))
            continue
        results = [Engine.solve(item, hw, batch_size=batch_size, precision=precision,
                                efficiency=efficiency, **options) for hw in devices]
        solved.append((results[0].model.key, results))
    return solved


def _point(result, unit: str) -> tuple[float, float]:
    """(arithmetic intensity in FLOP/B, achieved FLOP/s in ``unit``) of a solved step."""
    achieved = result.flops / result.latency
    return (float(result.arithmetic_intensity.m_as(_FLOP_PER_BYTE)),
            float(achieved.m_as(unit)))


def _ceiling(hw, precision, intensity, eta, unit):
    """The law's attainable performance over ``intensity`` (FLOP/B) for one device (the
    roofline law's compiled kernel, called on canonical magnitudes: no sympy in a cold plot)."""
    from symsys import kernels
    from symsys.units import Q_

    kernel = kernels.kernel("roofline", ("P_att", "I_ridge"))
    values = {"Pi": hw.compute.peak(precision).m_as("FLOP/s"),
              "beta": hw.memory.bandwidth.m_as("B/s"), "F": np.asarray(intensity, float),
              "Q": 1.0, "eta_c": eta[0], "eta_m": eta[1], "t_o": 0.0}
    attainable, ridge = kernel(*(values[name] for name in kernel.args))
    ridge = np.ravel(ridge)[0]  # every output is broadcast
    return Q_(attainable, "FLOP/s").m_as(unit), float(Q_(ridge, "FLOP/B").m_as(_FLOP_PER_BYTE))


def _limits(devices, solved, trajectories, precision, unit):
    ridges = [hw.ridge_point(precision).m_as(_FLOP_PER_BYTE) for hw in devices]
    peaks = [hw.compute.peak(precision).m_as(unit) for hw in devices]
    points = [p for _, results in solved for p in (_point(r, unit) for r in results)]
    points += [p for path in trajectories for p in path[2]]
    xs = [p[0] for p in points] + ridges
    xlim = style.log_limits(xs, pad_low=4, pad_high=8)
    lowest = min([p[1] for p in points] + [min(peaks) / 30])
    ylim = style.log_limits([lowest, max(peaks)], pad_low=4, pad_high=4)
    return xlim, ylim


def _trajectories(solved, devices, workloads, batch_sizes, precision, efficiency, options, unit):
    """[(name, device, [(I, P), ...], batches)] for every registry model and device."""
    from symsys.solvers.inference import Engine, InferenceResult

    if batch_sizes is None:
        return []
    paths = []
    for (name, _), item in zip(solved, workloads, strict=True):
        if isinstance(item, InferenceResult):
            continue  # a given result is one configuration; it has no batch axis of its own
        for hw in devices:
            points = [_point(Engine.solve(item, hw, batch_size=int(b), precision=precision,
                                          efficiency=efficiency, **options), unit)
                      for b in batch_sizes]
            paths.append((name, hw, points, [int(b) for b in batch_sizes]))
    return paths


def plot_roofline(hardware, workloads=None, precision="auto", efficiency=None, batch_sizes=None,
                  ax=None, *, batch_size=1, seq_len=None, phase="decode"):
    """Log-log roofline of one device or several, with workloads placed by ``Engine.solve``.

    ``workloads``: registry models (or names), each solved at ``batch_size`` on every device,
    and/or ``InferenceResult``s, plotted as solved. ``efficiency``: as ``Engine.solve``; the
    derated ceilings are drawn dashed and the workloads solved with it. ``batch_sizes``: a
    trajectory per model and device showing the step moving toward the ridge as the batch
    grows. ``seq_len``/``phase`` are passed to the solver. Returns ``(fig, ax)``.
    """
    from symsys.solvers import checks

    devices = _devices(hardware)
    workloads = list(workloads or [])
    options = {"seq_len": seq_len, "phase": phase}
    unit = style.pick_unit([hw.compute.peak(precision) for hw in devices], style.RATE_UNITS)
    solved = _solve_workloads(workloads, devices, precision, efficiency, batch_size, options)
    paths = _trajectories(solved, devices, workloads, batch_sizes, precision, efficiency,
                          options, unit)
    fig, ax = style.new_axes(ax)
    style.log_axes(ax)
    xlim, ylim = _limits(devices, solved, paths, precision, unit)
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    eta = checks.efficiencies(efficiency)
    for i, hw in enumerate(devices):
        _draw_device(ax, hw, i, precision, eta, unit, xlim, ylim)
    names = [name for name, _ in solved]
    # batch sizes are written on the fastest-memory device: above-left of its points nothing
    # else is drawn (its roof is the top one on the memory-bound side)
    labelled = max(devices, key=lambda hw: hw.memory.bandwidth)
    for path in paths:
        _draw_trajectory(ax, path, devices, names.index(path[0]))
    if paths:  # one legend entry for all trajectories: their markers match the workloads'
        ax.plot([], [], ls="none", marker="o", ms=4.5, color=style.GREY,
                label=f"small markers: each workload at batch {', '.join(map(str, paths[0][3]))}"
                      f" (numbers: batch size)")
    anchors, texts = _draw_workloads(ax, solved, devices, unit)
    ax.set_xlabel("Arithmetic intensity (FLOP/byte)")
    ax.set_ylabel(f"Attainable performance ({unit})")
    ax.set_title(f"Roofline: {', '.join(hw.key for hw in devices)}, {precision}"
                 + ("" if seq_len is None else f", {phase} with {seq_len} tokens of context"))
    style.legend(fig, ax)
    # labels are laid out in axes fractions: settle the axes' final size first
    style.settle(fig)
    taken = style.Occupancy()
    _draw_ridge_labels(ax, devices, precision, unit, taken)
    for path in paths:
        if path[1] is labelled:
            _label_batches(ax, path, taken)
    _place_labels(ax, anchors, texts)
    return fig, ax


def _draw_device(ax, hw, i, precision, eta, unit, xlim, ylim) -> None:
    """Solid speed-of-light ceiling, the ridge drop line, and the derated ceiling dashed."""
    ridge = hw.ridge_point(precision).m_as(_FLOP_PER_BYTE)
    peak = hw.compute.peak(precision).m_as(unit)
    _, derated_ridge = _ceiling(hw, precision, np.array([ridge]), eta, unit)
    grid = np.unique(np.concatenate([np.geomspace(*xlim, 400), [ridge, derated_ridge]]))
    ceiling, _ = _ceiling(hw, precision, grid, (1.0, 1.0), unit)  # the grid holds both kinks
    bandwidth = hw.memory.bandwidth.to("TB/s")
    label = (f"{hw.key}: {peak:.4g} {unit} peak, {bandwidth.magnitude:.3g} TB/s, "
             f"ridge {ridge:.4g} FLOP/B")
    ax.plot(grid, ceiling, color=style.colour(i), lw=2.2, label=label, gid=f"ceiling:{hw.key}",
            zorder=3)
    ax.plot([ridge, ridge], [ylim[0], peak], color=style.colour(i), lw=1, ls=":",
            gid=f"ridge:{hw.key}", zorder=2)
    ax.plot([ridge], [peak], marker="o", ms=6, color=style.colour(i), mec="white", zorder=4,
            gid=f"ridge-point:{hw.key}")
    if eta == (1.0, 1.0):
        return
    derated, _ = _ceiling(hw, precision, grid, eta, unit)
    ax.plot(grid, derated, color=style.colour(i), lw=1.5, ls="--", gid=f"derated:{hw.key}",
            label=f"{hw.key} at η_compute = {eta[0]:g}, η_memory = {eta[1]:g} "
                  f"(ridge {derated_ridge:.4g} FLOP/B)", zorder=3)
    at_ridge, _ = _ceiling(hw, precision, np.array([derated_ridge]), eta, unit)
    ax.plot([derated_ridge], [at_ridge[0]], marker="o", ms=5, mfc="white", zorder=4,
            color=style.colour(i), gid=f"derated-ridge-point:{hw.key}")


def _draw_ridge_labels(ax, devices, precision, unit, taken) -> None:
    """'ridge 295.3 FLOP/B' above-left of each ridge point (the empty side of the roof),
    stacked so that devices with close ridges do not overwrite each other."""
    anchors = [(hw.ridge_point(precision).m_as(_FLOP_PER_BYTE),
                hw.compute.peak(precision).m_as(unit)) for hw in devices]
    fractions = [style.to_axes_fraction(ax, x, y) for x, y in anchors]
    gap = style.line_height(ax, 8)
    ys = style.spread([fy + 0.035 for _, fy in fractions], gap, high=0.975)
    for i, ((x, y), (fx, _), ly) in enumerate(zip(anchors, fractions, ys, strict=True)):
        prefix = f"{devices[i].key} " if len(devices) > 1 else ""
        text = f"{prefix}ridge {x:.4g} FLOP/B"
        taken.claim(fx - 0.01 - style.text_width(ax, text, 8), ly - gap / 2, fx - 0.01,
                    ly + gap / 2)
        ax.annotate(text, xy=(x, y), xytext=(fx - 0.01, ly),
                    textcoords="axes fraction", ha="right", va="center", fontsize=8,
                    color=style.colour(i), bbox=style.TEXT_BOX, zorder=5)


def _draw_trajectory(ax, path, devices, j) -> None:
    """The workload's (I, P) as the batch grows, as markers: every point lies on the roof, and
    straight segments between them would cut its corner."""
    name, hw, points, _ = path
    i = next(k for k, d in enumerate(devices) if d is hw)
    xs, ys = zip(*points, strict=True)
    ax.plot(xs, ys, ls="none", color=style.colour(i), marker=style.marker(j), ms=4.5,
            mec="white", mew=0.5, zorder=4, gid=f"trajectory:{name}:{hw.key}")


def _label_batches(ax, path, taken) -> None:
    """Batch sizes above-left of the trajectory's points (outside the roof), skipping any
    that would overlap a label already placed."""
    _, _, points, batches = path
    height = style.line_height(ax, 6.5)
    for (x, y), b in zip(points, batches, strict=True):
        fx, fy = style.to_axes_fraction(ax, x, y)
        width = style.text_width(ax, str(b), 6.5)
        if not taken.claim(fx - width - 0.006, fy + 0.006, fx - 0.006, fy + 0.006 + height):
            continue
        ax.annotate(f"{b}", xy=(x, y), xytext=(-3, 4), textcoords="offset points",
                    ha="right", va="bottom", fontsize=6.5, color=style.GREY, zorder=5)


def _regime_text(results) -> str:
    """'Memory-bound' when every device agrees, else 'Compute on A100; Memory on H100, B200'."""
    by_regime: dict[str, list[str]] = {}
    for r in results:
        by_regime.setdefault(r.bottleneck, []).append(r.hardware.key)
    if len(by_regime) == 1:
        return f"{next(iter(by_regime))}-bound"
    return "; ".join(f"{regime} on {', '.join(keys)}" for regime, keys in by_regime.items())


def _draw_workloads(ax, solved, devices, unit) -> tuple[list, list]:
    """A marker per (workload, device); returns one label (anchor, text) per workload, at its
    highest point, to be placed once the layout has settled."""
    anchors, texts = [], []
    for j, (name, results) in enumerate(solved):
        for r in results:
            i = next(k for k, d in enumerate(devices) if d is r.hardware)
            x, y = _point(r, unit)
            ax.plot([x], [y], ls="none", marker=style.marker(j), ms=8, color=style.colour(i),
                    mec="black", mew=0.8, zorder=6, gid=f"workload:{name}:{r.hardware.key}")
        top = max(results, key=lambda r: _point(r, unit)[1])
        anchors.append(_point(top, unit))
        intensity = top.arithmetic_intensity.m_as(_FLOP_PER_BYTE)
        head, regime = f"{name} b={top.batch_size}, {intensity:.3g} FLOP/B", _regime_text(results)
        # one line when short; a long mixed-regime description goes on a line of its own
        texts.append(f"{head}: {regime}" if len(head) + len(regime) < 44 else f"{head}\n{regime}")
    return anchors, texts


def _place_labels(ax, anchors, texts) -> None:
    """Labels below-right of their points, or below-left where the text would run past the
    right edge: under the roof, where nothing else is drawn; each side stacked with a line
    of clearance and a leader line back to its point."""
    fractions = [style.to_axes_fraction(ax, x, y) for x, y in anchors]
    line = style.line_height(ax, 8)
    sides = []
    for (fx, _), text in zip(fractions, texts, strict=True):
        width = max(style.text_width(ax, part, 8) for part in text.split("\n"))
        room_right, room_left = 0.99 - fx - 0.06, fx - 0.06 - 0.01
        sides.append(width < room_right or room_right >= room_left)
    for right in (True, False):
        members = [k for k in range(len(texts)) if sides[k] == right]
        heights = [line * (texts[k].count("\n") + 1) + 0.15 * line for k in members]
        ys = style.spread([fractions[k][1] - 0.08 for k in members], heights, low=0.02)
        for k, ly in zip(members, ys, strict=True):
            fx = fractions[k][0] + (0.06 if right else -0.06)
            ax.annotate(texts[k], xy=anchors[k], xytext=(fx, ly), textcoords="axes fraction",
                        ha="left" if right else "right", va="center", fontsize=8, zorder=7,
                        bbox=style.TEXT_BOX,
                        arrowprops={"arrowstyle": "-", "color": style.GREY, "lw": 0.6,
                                    "shrinkA": 0, "shrinkB": 4},
                        gid=f"label:{texts[k].split(' ')[0]}")
