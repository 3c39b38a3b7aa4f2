"""symsys synthesize: the lever value that meets a latency or throughput target."""

from __future__ import annotations

from symsys.commands._common import add_step_arguments, step_options

HELP = "inverse design: required bandwidth, compute, batch, bytes/weight or capacity for a target"
EXAMPLES = """  symsys synthesize Llama3_8B H100 --target "3 ms" --lever memory_bandwidth
  symsys synthesize Llama3_8B H100 --target "20000 token/s" --lever batch_size --json
  symsys synthesize Llama3_8B H100 --target "3 ms" --lever bytes_per_weight"""


def add_arguments(parser):
    from symsys.solvers.synthesis import SOLVABLE

    add_step_arguments(parser)
    parser.add_argument("--target", required=True, help="e.g. '3 ms' or '20000 token/s'")
    parser.add_argument("--lever", default="memory_bandwidth", choices=SOLVABLE)


def run(args):
    from symsys.errors import InvalidParameter
    from symsys.show import format_value
    from symsys.solvers.synthesis import SynthesisSolver
    from symsys.units import Q_

    try:
        target = Q_(args.target)
    except Exception:
        raise InvalidParameter(f"--target {args.target!r}: expected e.g. '3 ms' or "
                               "'20000 token/s'") from None
    r = SynthesisSolver().solve(args.model, args.hardware, target=target, lever=args.lever,
                                **step_options(args))
    data = {"lever": r.lever, "output": r.output, "target": r.target,
            "feasible": r.feasible, "required": r.value, "unit": r.unit,
            "current": float(r.current.magnitude), "ratio": r.ratio,
            "round_trip_error": r.round_trip_error, "explanation": r.explanation}
    if r.value is None:
        text = f"unreachable: {r.explanation}"
    else:
        text = (f"{r.lever}: {format_value(r.required)} needed "
                f"(now {format_value(r.current)}, {r.ratio:.3g}x)"
                + (f"\n{r.explanation}" if r.explanation else ""))
    return text, data
