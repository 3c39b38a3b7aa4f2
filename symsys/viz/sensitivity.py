"""Tornado chart of the exact elasticities from ``SensitivitySolver``.

Bars are sorted by |elasticity|; the binding lever (the solver's ``binding_constraint``) is
drawn in vermillion with a bold label. At a max() kink the solver reports both one-sided
elasticities; such a lever gets two thin bars (hatched: the lever decreasing, solid: the lever
increasing) and a note, never an average. Levers with no effect are listed in a note instead
of drawn as empty rows.
"""

from __future__ import annotations

from symsys.viz import style

_ZERO = 1e-12


def _result(result_or_args, kwargs):
    from symsys.solvers.sensitivity import SensitivityResult, SensitivitySolver

    if isinstance(result_or_args, SensitivityResult):
        return result_or_args
    args = dict(result_or_args or {}, **kwargs)
    return SensitivitySolver().solve(**args)


def plot_sensitivity(result_or_args=None, ax=None, **solve_args):
    """Tornado of a ``SensitivityResult``, or of ``SensitivitySolver().solve(**args)`` for a dict
    of arguments (or keyword arguments: ``plot_sensitivity(model=..., hardware=...)``).
    Returns ``(fig, ax)``."""
    from symsys.solvers.sensitivity import OneSided

    r = _result(result_or_args, solve_args)
    levers = {k: v for k, v in r.sensitivities.items() if abs(v) > _ZERO}
    silent = [k for k in r.sensitivities if k not in levers]
    # the binding lever is the solver's, or (infeasible baseline) the largest by its own rule
    binding = r.binding_constraint if r.feasible else max(
        levers, key=lambda k: (abs(levers[k]), -list(r.sensitivities).index(k)), default=None)
    # barh draws bottom-up: largest on top, the binding lever first among equals
    order = sorted(levers, key=lambda k: (round(abs(levers[k]), 9), k == binding))
    fig, ax = style.new_axes(ax, size=(7.5, 0.45 * max(len(order), 3) + 2.4))
    kink = False
    for row, name in enumerate(order):
        value = levers[name]
        colour = style.PALETTE[1] if name == binding else style.PALETTE[0]
        if isinstance(value, OneSided):
            kink = True
            _one_sided_bars(ax, row, name, value, colour)
        else:
            ax.barh(row, value, height=0.6, color=colour, gid=f"bar:{name}")
            _value_text(ax, row, value, f"{value:+.3g}")
    ax.set_yticks(range(len(order)), [_tick(name, name == binding, r.feasible) for name in order])
    for tick, name in zip(ax.get_yticklabels(), order, strict=True):
        if name == binding:
            tick.set_fontweight("bold")
            tick.set_color(style.PALETTE[1])
    _frame(ax, r, levers, silent, kink)
    return fig, ax


def _one_sided_bars(ax, row, name, value, colour) -> None:
    ax.barh(row + 0.17, value.left, height=0.32, color="white", edgecolor=colour, hatch="////",
            gid=f"bar-left:{name}")
    ax.barh(row - 0.17, value.right, height=0.32, color=colour, gid=f"bar-right:{name}")
    _value_text(ax, row, value.left if abs(value.left) >= abs(value.right) else value.right,
                f"{value.left + 0.0:+.3g} | {value.right + 0.0:+.3g}")  # + 0.0: no "-0"


def _value_text(ax, row, value, text) -> None:
    ax.annotate(text, xy=(value, row), xytext=(4 if value >= 0 else -4, 0),
                textcoords="offset points", ha="left" if value >= 0 else "right", va="center",
                fontsize=8)


def _tick(name: str, binding: bool, feasible: bool) -> str:
    label = name.replace("_", " ")
    if binding:
        label += "  (binding)" if feasible else "  (largest, if it fit)"
    return label


def _frame(ax, r, levers, silent, kink) -> None:
    from symsys.show import format_value

    reach = max((abs(v) for v in levers.values()), default=1.0)
    ax.set_xlim(-1.45 * reach, 1.45 * reach)  # room for the value beside the longest bar
    ax.axvline(0, color="black", lw=0.8)
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_ylim(-0.7, max(len(levers), 1) - 0.3)
    ax.set_xlabel(f"Elasticity ∂ln {r.output} / ∂ln lever  (% per 1% change, dimensionless)")
    base = r.baseline
    ax.set_title(f"Sensitivity of {r.output} ({format_value(r.baseline_value)})\n"
                 f"{base.model.key} on {base.hardware.key}, b = {base.batch_size}, "
                 f"{r.regime.lower()}-bound" + ("" if r.feasible else ", does not fit"),
                 fontsize=10)
    notes = []
    if not r.feasible:
        notes.append(f"Does not fit: {base.reason}. Binding: memory capacity; the bars hold "
                     "only if it fitted.")
    if kink:
        notes.append("At the ridge: one-sided values, hatched = lever decreasing, "
                     "solid = lever increasing.")
    if silent:
        notes.append("No effect here: " + ", ".join(s.replace("_", " ") for s in silent) + ".")
    if notes:
        ax.annotate("\n".join(notes), xy=(0, 0), xycoords="axes fraction", xytext=(0, -38),
                    textcoords="offset points", fontsize=7.5, color=style.GREY, va="top",
                    wrap=True)
