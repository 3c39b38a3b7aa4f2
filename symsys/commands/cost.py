"""symsys cost: dollars and joules per token of one serving step."""

from __future__ import annotations

from symsys.commands._common import add_step_arguments, step_options

HELP = "cost (USD per million tokens) and energy per token of one step, from price and power"
EXAMPLES = """  symsys cost Llama3_8B H100 --batch-size 256
  symsys cost Llama3_70B H100 --tp 8 --batch-size 64 --seq-len 2048
  symsys cost Llama3_70B DGX_H100 --tp 2 --pp 2 --dp 2 --batch-size 32
  symsys cost Mixtral_8x7B DGX_H100 --ep 8 --batch-size 64
  symsys cost Llama3_8B MI300X --price "2.50 USD/hour" --power "750 W"
  symsys cost Llama3_8B H100 --power-fraction 0.6 --json"""


def add_arguments(parser):
    add_step_arguments(parser)
    parser.add_argument("--price", default=None,
                        help="one device's price per hour, e.g. '2.50 USD/hour' (default: the "
                             "registry's on-demand cloud price; symsys show DEVICE names it)")
    parser.add_argument("--power", default=None,
                        help="one device's power, e.g. '700 W' (default: its TDP)")
    parser.add_argument("--power-fraction", type=float, default=1.0,
                        help="fraction of that power drawn during the step, in (0, 1] "
                             "(default 1: the energy is an upper bound)")


def run(args):
    import io

    from symsys.show import info
    from symsys.solvers.cost import CostModel

    r = CostModel().solve(args.model, args.hardware, price=args.price, power=args.power,
                          power_fraction=args.power_fraction, **step_options(args))
    hw = r.hardware
    where = (f"{hw.cloud_price.provider} {hw.cloud_price.instance} on-demand, "
             f"{hw.cloud_price.date}" if args.price is None else "given")
    fields = dict(
        Model=f"{r.model.name} ({r.model.key})", Hardware=f"{hw.name} ({hw.key})",
        Step=f"{r.phase}, batch {r.batch_size}, {r.inputs.precision}{_devices(r)}",
        Latency=r.latency, Throughput=r.throughput, Bottleneck=r.bottleneck,
        Feasible=r.feasible if r.feasible else f"no: {r.reason}",
        Price_per_device=f"{r.price.m_as('USD/hour'):.4g} USD/hour ({where})",
        Bill=f"{r.cost_per_hour.m_as('USD/hour'):.4g} USD/hour ({r.devices} devices)",
        Power=(f"{r.power.m_as('W'):.4g} W ({args.power_fraction:g} of "
               + ("TDP" if args.power is None else "the given power") + ", all devices)"),
        Cost=f"{r.cost_per_million_tokens.m_as('USD/Mtoken'):.4g} USD per million tokens",
        Energy=f"{r.energy_per_token.m_as('J/token'):.4g} J per token "
               f"({r.tokens_per_joule.m_as('token/J'):.4g} tokens per joule)",
    )
    buffer = io.StringIO()
    return info("symsys cost", file=buffer, **fields), r.to_dict()


def _devices(r) -> str:
    """The devices a parallel step occupies and how they split it ('' for one device)."""
    v = r.scenario.values
    parts = [f"{label} {int(v[name])}" for label, name in (("TP", "n_g"), ("EP", "n_ep"),
                                                             ("PP", "n_pp")) if name in v]
    if r.data_parallel != 1:
        parts.append(f"DP {r.data_parallel}")
    return f", {r.devices} devices ({' x '.join(parts)})" if parts else ""
