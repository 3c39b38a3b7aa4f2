"""Shared look of the symsys figures: palette, log-axis tick labels, unit choice, label layout.

Nothing here computes a performance number; the plot modules take every value from a solver.
"""

from __future__ import annotations

import math

#: Okabe-Ito, ordered so the first colours are the most distinct on white (yellow last: it
#: has too little contrast for thin lines, so it is only reached with eight series).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
           "#F0E442")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
GREY = "#7F7F7F"
INFEASIBLE = "#D55E00"  # vermillion: the shading of configurations that do not fit

#: Prefixed units the axes use, smallest first (see :func:`pick_unit`)
RATE_UNITS = ("GFLOP/s", "TFLOP/s", "PFLOP/s", "EFLOP/s")
TIME_UNITS = ("ns", "us", "ms", "s")


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def marker(i: int) -> str:
    return MARKERS[i % len(MARKERS)]


def pick_unit(quantities, units) -> str:
    """The first of ``units`` (smallest first) in which the largest of ``quantities`` reads
    below 10^4: 2250 TFLOP/s rather than 2.25 PFLOP/s, 4.5 ms rather than 4500 us."""
    largest = max(abs(q) for q in quantities)
    for unit in units:
        if largest.m_as(unit) < 1e4:
            return unit
    return units[-1]


def unit_label(unit: str) -> str:
    return unit.replace("us", "µs") if unit == "us" else unit


def pyplot():
    """matplotlib.pyplot, imported on first use (symsys itself never needs matplotlib)."""
    import matplotlib.pyplot as plt

    return plt


def new_axes(ax=None, size=(7.5, 5.0)):
    """(fig, ax): the given axes and its figure, or a new constrained-layout figure."""
    if ax is not None:
        return ax.figure, ax
    fig, ax = pyplot().subplots(figsize=size, layout="constrained")
    return fig, ax


def _tick_text(value: float) -> str:
    """Plain numbers (0.1, 1, 10, 1000) on log axes, powers of ten only beyond 10^5."""
    if value <= 0:
        return ""
    exponent = math.log10(value)
    if -3 <= exponent < 5.5:
        return f"{value:g}"
    return f"$10^{{{round(exponent)}}}$"


def _log_formatter(minor: bool):
    """Major ticks always labelled; minor ticks at 2x and 5x labelled only when fewer than three
    powers of ten are in view, where the majors alone would leave one or two labels."""
    from matplotlib.ticker import Formatter

    class PlainLog(Formatter):
        def __call__(self, value, pos=None):
            if not minor:
                return _tick_text(value)
            low, high = sorted(self.axis.get_view_interval())
            if low <= 0 or _decades_shown(low, high) >= 3:
                return ""
            mantissa = value / 10 ** math.floor(math.log10(value) + 1e-9)
            return _tick_text(value) if round(mantissa, 6) in (2.0, 5.0) else ""

    return PlainLog()


def _decades_shown(low: float, high: float) -> int:
    """How many powers of ten lie within [low, high]."""
    return math.floor(math.log10(high) + 1e-9) - math.ceil(math.log10(low) - 1e-9) + 1


def log_axes(ax, x=True, y=True, xbase: int = 10) -> None:
    """Log scale with readable labels (base 2 suits batch sizes) and light minor grid lines."""
    from matplotlib.ticker import LogLocator, NullFormatter

    for on, axis, scale, base in ((x, ax.xaxis, ax.set_xscale, xbase),
                                  (y, ax.yaxis, ax.set_yscale, 10)):
        if not on:
            continue
        scale("log", base=base)
        axis.set_major_locator(LogLocator(base=base, numticks=12))
        axis.set_major_formatter(_log_formatter(minor=False))
        axis.set_minor_formatter(_log_formatter(minor=True) if base == 10 else NullFormatter())
    ax.grid(True, which="major", alpha=0.35)
    ax.grid(True, which="minor", alpha=0.12)


def log_limits(values, pad_low: float = 3.0, pad_high: float = 3.0) -> tuple[float, float]:
    """Limits around positive ``values`` padded by factors, snapped outwards to 1-2-5 steps."""
    low = min(v for v in values if v > 0) / pad_low
    high = max(values) * pad_high
    return _snap(low, down=True), _snap(high, down=False)


def _snap(value: float, down: bool) -> float:
    decade = 10 ** math.floor(math.log10(value))
    steps = (1, 2, 5, 10)
    if down:
        return max(decade * s for s in steps if decade * s <= value * (1 + 1e-12))
    return min(decade * s for s in steps if decade * s >= value * (1 - 1e-12))


def spread(desired: list[float], gap, low: float = 0.03, high: float = 0.97) -> list[float]:
    """Centres close to ``desired`` (axes fractions) with no two labels overlapping.

    ``gap`` is one label height, or a list of heights (a two-line label needs twice the room).
    One dimension is enough for labels stacked beside their points: sort, push each label
    below its upper neighbour, then shift the whole stack back inside [low, high].
    """
    heights = list(gap) if isinstance(gap, list | tuple) else [gap] * len(desired)
    order = sorted(range(len(desired)), key=lambda i: -desired[i])
    placed: dict[int, float] = {}
    previous, previous_half = math.inf, 0.0
    for i in order:
        half = heights[i] / 2
        y = min(desired[i], high - half, previous - previous_half - half)
        placed[i] = y
        previous, previous_half = y, half
    bottom = min((placed[i] - heights[i] / 2 for i in placed), default=low)
    if bottom < low:
        placed = {i: y + low - bottom for i, y in placed.items()}
    return [placed[i] for i in range(len(desired))]


def settle(fig) -> None:
    """Run the figure's layout engine now (constrained layout normally runs at draw time), so
    that axes sizes are final before labels are placed in axes fractions."""
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.execute(fig)


def to_axes_fraction(ax, x: float, y: float) -> tuple[float, float]:
    """Data point -> axes fraction, for the axes' current limits and scales."""
    display = ax.transData.transform((x, y))
    fx, fy = ax.transAxes.inverted().transform(display)
    return float(fx), float(fy)


def line_height(ax, fontsize: float, lines: int = 1) -> float:
    """Height of ``lines`` lines of text at ``fontsize`` as a fraction of the axes height."""
    fig = ax.figure
    height_px = ax.get_position().height * fig.get_figheight() * fig.dpi
    return lines * 1.35 * fontsize / 72 * fig.dpi / height_px


def text_width(ax, text: str, fontsize: float) -> float:
    """Rough width of one line of ``text`` as a fraction of the axes width (0.6 em per
    character, DejaVu Sans' average), good enough to choose which side a label goes."""
    fig = ax.figure
    width_px = ax.get_position().width * fig.get_figwidth() * fig.dpi
    return len(text) * 0.6 * fontsize / 72 * fig.dpi / width_px


def note(ax, text: str) -> None:
    """A small grey note in the axes' bottom-left corner (conventions, omitted items)."""
    ax.text(0.01, 0.01, text, transform=ax.transAxes, fontsize=7.5, color=GREY,
            ha="left", va="bottom", wrap=True)


def legend(fig, ax, ncols: int = 1, handles=None, labels=None) -> None:
    """Below the axes when the figure is ours (constrained layout: nothing to collide with),
    inside the axes when the caller gave their own axes."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return
    if fig.get_layout_engine() is not None and len(fig.axes) <= 2:
        fig.legend(handles, labels, loc="outside lower center", fontsize=8, frameon=False,
                   ncols=ncols)
    else:
        ax.legend(handles, labels, loc="best", fontsize=7.5)


#: White backing for text drawn over lines, so a crossing line never makes it unreadable
TEXT_BOX = {"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85}


class Occupancy:
    """Axes-fraction boxes already used by labels: a new label that would overlap one is
    dropped (for optional labels such as batch sizes along a trajectory)."""

    def __init__(self):
        self.boxes: list[tuple[float, float, float, float]] = []

    def claim(self, x0: float, y0: float, x1: float, y1: float) -> bool:
        for a0, b0, a1, b1 in self.boxes:
            if x0 < a1 and a0 < x1 and y0 < b1 and b0 < y1:
                return False
        self.boxes.append((x0, y0, x1, y1))
        return True
