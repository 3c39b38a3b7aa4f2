"""Arguments and conversions shared by the solver subcommands."""

from __future__ import annotations

from symsys.solvers.options import OPTIONS, STEP_OPTIONS, efficiency_text


def add_step_arguments(parser, exclude=(), helps=None):
    """The model and hardware, and a flag for every step option that has one
    (:data:`symsys.solvers.options.STEP_OPTIONS`), except those named in ``exclude``;
    ``helps`` words some options in the command's own terms ({name: help})."""
    parser.add_argument("model", help="model name, alias or Hugging Face id (symsys zoo models)")
    parser.add_argument("hardware", help="device or system name or alias (symsys zoo hardware, "
                                         "symsys zoo systems)")
    for option in STEP_OPTIONS:
        if option.flags and option.name not in exclude:
            option_argument(parser, option, (helps or {}).get(option.name))


def option_argument(parser, option, help=None):
    """``option``'s flags, as declared: its default, its help (or ``help``), any argparse
    type or choices. Without a type the text goes on as typed: the solver's check reads it
    and names the valid values (a quantity's text is read by :func:`step_options`)."""
    shown = "" if option.default is None else f" (default {option.default})"
    parser.add_argument(*option.flags, dest=option.name, default=option.default,
                        help=((help or option.help) + shown).replace("%", "%%"),
                        **option.cli)


def runtime_argument(parser):
    """``--runtime``: a measured serving runtime whose non-GEMM kernels a step adds."""
    option_argument(parser, OPTIONS["runtime"])


def memory_fraction_argument(parser):
    """``--memory-fraction``, as every step command (solve, serve, sweep, ...) takes it."""
    option_argument(parser, OPTIONS["memory_fraction"])


def efficiency_argument(parser):
    """``--efficiency``, as every step command (solve, serve, train, ...) takes it."""
    option_argument(parser, OPTIONS["efficiency"])


#: ``--efficiency``'s reader (the plot command's derated ceilings read it too)
_efficiency = efficiency_text


def step_options(args) -> dict:
    """The step options given on the command line: those left at their declared default are
    not passed, so every solver applies the same defaults. A quantity typed as text ("5 us")
    becomes a Quantity here, read by the one quantity reader (an error names the flag)."""
    out = {}
    for option in STEP_OPTIONS:
        value = getattr(args, option.name, option.default)
        if value is option.default or value == option.default:
            continue
        if option.unit is not None and isinstance(value, str):
            from symsys.solvers.checks import quantity_text  # loads pint: only when typed

            value = quantity_text(option, value, option.flags[0])
        out[option.name] = value
    return out


def capacity(r):
    """A result's capacity line: the usable capacity, and the share of the physical memory
    it is when a ``memory_fraction`` was given."""
    fraction = r.scenario.options.get("memory_fraction")
    if fraction is None or r.memory_capacity is None:
        return r.memory_capacity
    from symsys.units import format_value

    return (f"{format_value(r.memory_capacity)} usable (memory_fraction {fraction:g} of the "
            "device's memory)")


def magnitude(quantity, unit: str) -> float:
    return float(quantity.m_as(unit))
