"""symsys synthesize: the lever value that meets a latency or throughput target."""

from __future__ import annotations

from symsys.commands._common import add_step_arguments, step_options

HELP = "inverse design: required bandwidth, compute, batch, bytes/weight or capacity for a target"
EXAMPLES = """  symsys synthesize Llama3_8B H100 --target "3 ms" --lever memory_bandwidth
  symsys synthesize Llama3_8B H100 --target "20000 token/s" --lever batch_size --json
  symsys synthesize Llama3_8B H100 --target "3 ms" --lever bytes_per_weight"""


def add_arguments(parser):
    add_step_arguments(parser)
    parser.add_argument("--target", required=True, help="e.g. '3 ms' or '20000 token/s'")
    # checked by the solver, whose error lists the levers (importing it here would load
    # sympy for every command)
    parser.add_argument("--lever", default="memory_bandwidth",
                        help="memory_bandwidth, peak_flops, compute_efficiency, "
                             "memory_efficiency, batch_size, bytes_per_weight, memory_capacity")


def run(args):
    import re

    from symsys.errors import InvalidParameter
    from symsys.show import format_value
    from symsys.solvers.synthesis import SynthesisSolver
    from symsys.units import Q_

    # NUMBER UNIT only: pint's own parser evaluates expressions ('[1,2] ms' reads as 12 ms)
    match = re.fullmatch(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(\S.*)?",
                         args.target)
    try:
        target = Q_(float(match[1]), match[2] or "")
    except Exception:
        raise InvalidParameter(f"--target {args.target!r}: expected a number and a unit, e.g. "
                               "'3 ms' or '20000 token/s'") from None
    r = SynthesisSolver().solve(args.model, args.hardware, target=target, lever=args.lever,
                                **step_options(args))
    data = r.to_dict()
    data["round_trip_error"] = r.round_trip_error
    if r.value is None:
        text = f"unreachable: {r.explanation}"
    elif not r.achievable:
        text = f"not achievable: {r.explanation}"
    else:
        text = (f"{r.lever}: {format_value(r.required)} needed "
                f"(now {format_value(r.current)}, {r.ratio:.3g}x)"
                + (f"\n{r.explanation}" if r.explanation else ""))
    return text, data
