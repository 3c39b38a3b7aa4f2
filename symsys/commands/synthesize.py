"""symsys synthesize: the lever value that meets a latency or throughput target."""

from __future__ import annotations

from symsys.commands._common import add_step_arguments, step_options

HELP = "inverse design: required bandwidth, compute, batch, bytes/weight or capacity for a target"
EXAMPLES = """  symsys synthesize Llama3_8B H100 --target "3 ms" --lever memory_bandwidth
  symsys synthesize Llama3_8B H100 --target "20000 token/s" --lever batch_size --json
  symsys synthesize Llama3_8B H100 --target "3 ms" --lever bytes_per_weight
  symsys synthesize Llama3_70B DGX_H100 --tp 8 --target "10 ms" --lever link_bandwidth
  symsys synthesize Llama3_70B DGX_H100 --tp 2 --pp 2 --dp 2 -b 32 -s 1024 \
      --target "5000 token/s" --lever link_bandwidth"""


def add_arguments(parser):
    add_step_arguments(parser)
    parser.add_argument("--target", required=True,
                        help="a latency or a throughput, e.g. '3 ms', '20k token/s', "
                             "'500 samples/s'")
    # checked by the solver, whose error lists the levers (importing it here would load
    # sympy for every command)
    parser.add_argument("--lever", default="memory_bandwidth",
                        help="memory_bandwidth, peak_flops, compute_efficiency, "
                             "memory_efficiency, batch_size, bytes_per_weight, memory_capacity; "
                             "with --tp/--pp/--ep also link_bandwidth, link_latency, "
                             "group_size, pipeline_stages, expert_parallel (a throughput "
                             "target with --dp is all the replicas')")


def run(args):
    from symsys.show import format_value
    from symsys.solvers.synthesis import SynthesisSolver

    # the text goes to the solver as given: one reader (symsys.units.parse_quantity) for the
    # command line and Python, with the same errors
    r = SynthesisSolver().solve(args.model, args.hardware, target=args.target, lever=args.lever,
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
