"""symsys plot: draw a figure (roofline, sweep, sensitivity, streaming) into a file."""

from __future__ import annotations

import argparse
from pathlib import Path

from symsys.commands._common import _efficiency
from symsys.solvers import PHASES

HELP = "draw a roofline, batch sweep, sensitivity tornado or weight-streaming figure to a file"
EXAMPLES = """  symsys plot roofline H100 --workload Llama3_8B --out roofline.png
  symsys plot roofline A100,H100,B200 --workload Llama3_8B --workload Llama3_70B \\
      --batch-sizes 1,8,64,512 --efficiency 0.7,0.8 --out roofline.svg
  symsys plot sweep Llama3_8B A100,H100 --batch-sizes 1:1025 --out sweep.png
  symsys plot sweep Llama3_8B H100 --seq-lens 128,512,2048,8192 --batch-size 64
  symsys plot sensitivity Llama3_8B H100 --batch-size 512 --out tornado.png
  symsys plot streaming GPT3 Cerebras_CS3 --seq-len 2048 --out streaming.png"""


def _ints(text: str):
    from symsys.commands.sweep import _ints as parse

    return [int(v) for v in parse(text)]


def _common(parser, kind: str) -> None:
    parser.add_argument("--out", "-o", type=Path, default=Path(f"{kind}.png"),
                        help=f"file to write; the suffix picks the format (default {kind}.png)")
    parser.add_argument("--dpi", type=int, default=150, help="resolution of raster formats")
    parser.add_argument("--precision", "-p", default="auto",
                        help="compute precision (default auto: the device's native 16-bit format)")
    # SUPPRESS: a default here would overwrite 'symsys plot --json KIND ...'
    parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="machine-readable output")


def add_arguments(parser):
    sub = parser.add_subparsers(dest="kind", metavar="KIND", required=True,
                                parser_class=type(parser))
    roof = sub.add_parser("roofline", help="ceilings, ridge point and workloads (log-log)")
    roof.add_argument("hardware", help="comma-separated device names")
    roof.add_argument("--workload", "-w", action="append", default=[],
                      help="model to place on the roofline (repeatable)")
    roof.add_argument("--batch-size", "-b", type=int, default=1, help="batch of each workload")
    roof.add_argument("--batch-sizes", type=_ints, default=None,
                      help="trajectory: N,M,... or START:STOP[:STEP]")
    roof.add_argument("--seq-len", "-s", type=int, default=None, help="cached context")
    roof.add_argument("--efficiency", type=_efficiency, default=None,
                      help="compute,memory efficiency in (0,1]: derated ceilings, dashed")
    sweep = sub.add_parser("sweep", help="latency and throughput vs batch (or context)")
    sweep.add_argument("model")
    sweep.add_argument("hardware", help="comma-separated device names")
    sweep.add_argument("--batch-sizes", type=_ints, default=None,
                       help="x axis: N,M,... or START:STOP[:STEP] (default 1,2,4,...,1024)")
    sweep.add_argument("--seq-lens", type=_ints, default=None,
                       help="x axis instead: context lengths, at --batch-size")
    sweep.add_argument("--batch-size", "-b", type=int, default=1)
    sweep.add_argument("--seq-len", "-s", type=int, default=None, help="cached context")
    sweep.add_argument("--phase", choices=PHASES, default="decode")
    sens = sub.add_parser("sensitivity", help="tornado of exact elasticities")
    sens.add_argument("model")
    sens.add_argument("hardware")
    sens.add_argument("--batch-size", "-b", type=int, default=1)
    sens.add_argument("--seq-len", "-s", type=int, default=None)
    sens.add_argument("--phase", choices=PHASES, default="decode")
    sens.add_argument("--output", default="latency",
                      choices=("latency", "throughput", "crossover_batch"))
    stream = sub.add_parser("streaming", help="layer injection vs compute time, B*, b_max")
    stream.add_argument("model")
    stream.add_argument("hardware", help="device with an external weight store (CS-3, GH200)")
    stream.add_argument("--seq-len", "-s", type=int, required=True)
    stream.add_argument("--batch-sizes", type=_ints, default=None)
    stream.add_argument("--phase", choices=PHASES, default="decode")
    for kind, command in (("roofline", roof), ("sweep", sweep), ("sensitivity", sens),
                          ("streaming", stream)):
        _common(command, kind)


def _draw(args) -> tuple:
    """(fig, data): the figure and the numbers it shows, as the solvers returned them."""
    from symsys.viz import plots

    if args.kind == "roofline":
        devices = args.hardware.split(",")
        fig, ax = plots.plot_roofline(devices, workloads=args.workload, precision=args.precision,
                                      efficiency=args.efficiency, batch_sizes=args.batch_sizes,
                                      batch_size=args.batch_size, seq_len=args.seq_len)
        return fig, _points(ax)
    if args.kind == "sweep":
        fig, _ = plots.plot_sweep(args.model, args.hardware.split(","),
                                  batch_sizes=args.batch_sizes, seq_lens=args.seq_lens,
                                  precision=args.precision, batch_size=args.batch_size,
                                  seq_len=args.seq_len, phase=args.phase)
        return fig, _points(fig.axes[0])
    if args.kind == "sensitivity":
        fig, _ = plots.plot_sensitivity(model=args.model, hardware=args.hardware,
                                        precision=args.precision, batch_size=args.batch_size,
                                        seq_len=args.seq_len, phase=args.phase,
                                        output=args.output)
        return fig, {}
    fig, ax = plots.plot_streaming(args.model, args.hardware, args.seq_len,
                                   batch_sizes=args.batch_sizes, precision=args.precision,
                                   phase=args.phase)
    return fig, _points(ax)


def _points(ax) -> dict:
    """Marked positions by gid (ridge, crossover, B*, workloads) in the axes' units, for --json
    (a vertical marker's y is an axes fraction)."""
    marks = {"x_axis": ax.get_xlabel(), "y_axis": ax.get_ylabel()}
    for line in ax.lines:
        gid = line.get_gid()
        if gid and gid.split(":")[0] in ("ridge", "crossover", "B_star", "b_max", "workload"):
            marks[gid] = [float(line.get_xdata()[-1]), float(line.get_ydata()[-1])]
    return marks


def run(args):
    import matplotlib

    matplotlib.use("Agg")  # the command writes a file; it never opens a window
    import matplotlib.pyplot as plt

    fig, marks = _draw(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=args.dpi, bbox_inches="tight")
    plt.close(fig)
    return f"wrote {args.out}", {"kind": args.kind, "out": str(args.out), "marks": marks}
