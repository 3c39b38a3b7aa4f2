"""symsys sensitivity: exact elasticities of latency (or throughput, crossover batch)."""

from __future__ import annotations

import io

from symsys.commands._common import add_step_arguments, step_options

HELP = "exact partial derivatives and elasticities of an output w.r.t. every input"
EXAMPLES = """  symsys sensitivity Llama3_8B H100
  symsys sensitivity Llama3_8B A100 --batch-size 512 --output throughput --json
  symsys sensitivity Llama3_8B H100 --uncertainty memory_bandwidth=0.05,compute_efficiency=0.1
  symsys sensitivity Mixtral_8x7B DGX_H100 --ep 8 --batch-size 64
  symsys sensitivity Llama3_70B DGX_H100 --tp 2 --pp 2 --dp 2 --output throughput"""


def _uncertainty(text: str) -> dict:
    import argparse

    out = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:  # argparse prints an ArgumentTypeError's own message (exit 2)
            raise argparse.ArgumentTypeError(f"{part!r}: expected LEVER=RELATIVE, e.g. "
                                             "memory_bandwidth=0.05") from None
    return out


def add_arguments(parser):
    add_step_arguments(parser)
    parser.add_argument("--output", default="latency",
                        choices=("latency", "throughput", "crossover_batch", "max_batch_size",
                                 "optimal_batch", "max_batch"),
                        help="what to differentiate (default latency); max_batch_size is the "
                             "largest batch that fits, optimal_batch and max_batch are weight "
                             "streaming's B* and b_max")
    parser.add_argument("--uncertainty", type=_uncertainty, default=None,
                        help="relative 1-sigma per lever, e.g. memory_bandwidth=0.05")


def run(args):
    from symsys.show import info, table
    from symsys.solvers.sensitivity import SensitivitySolver

    options = step_options(args)
    r = SensitivitySolver().solve(args.model, args.hardware, output=args.output,
                                  uncertainty=args.uncertainty, **options)
    data = r.to_dict()
    buffer = io.StringIO()
    header = info("symsys sensitivity", file=buffer, Output=f"{r.output} = "
                  f"{r.value:.6g} {r.unit}", Regime=r.regime,
                  Binding_constraint=r.binding_constraint,
                  Feasible=r.feasible if r.feasible else
                  f"no: {r.baseline.reason} (sensitivities conditional on fitting)")
    rows = [[k, f"{v:+.4f}"] for k, v in r.sensitivities.items()]
    body = table(["lever", "elasticity d ln y / d ln x"], rows, file=io.StringIO())
    text = header + "\n" + body
    if args.uncertainty:
        text += f"\n\nfirst-order uncertainty: +/-{r.relative_uncertainty:.2%}"
    return text, data
