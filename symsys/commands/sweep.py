"""symsys sweep: evaluate every combination of models, devices, batches and contexts."""

from __future__ import annotations

from symsys.solvers import PHASES

HELP = "sweep models x devices x precisions x batch sizes x context lengths"
EXAMPLES = """  symsys sweep Llama3_8B A100,H100,B200 --batch-size 1,8,64,512
  symsys sweep Llama3_8B,Mixtral_8x7B H100 --batch-size 1:1025 --seq-len 0,2048 --json
  symsys sweep Llama3_8B all --batch-size 1   (every device in the registry)"""


def _ints(text: str):
    import numpy as np

    from symsys.errors import InvalidParameter

    try:
        if ":" in text:
            start, stop, *step = (int(x) for x in text.split(":"))
            if len(step) > 1 or step == [0]:
                raise ValueError
            values = np.arange(start, stop, step[0] if step else 1)
        else:
            values = [int(x) for x in text.split(",")]
    except ValueError:
        raise InvalidParameter(f"{text!r}: expected N, N,M,... or START:STOP[:STEP] "
                               "(STEP not 0)") from None
    if not len(values):
        raise InvalidParameter(f"{text!r}: the range START:STOP[:STEP] is empty")
    return values


def add_arguments(parser):
    parser.add_argument("models", help="comma-separated model names")
    parser.add_argument("hardware", help="comma-separated device names, or 'all'")
    parser.add_argument("--batch-size", "-b", default="1", help="N, N,M,... or START:STOP[:STEP]")
    parser.add_argument("--seq-len", "-s", default=None, help="N, N,M,... or START:STOP[:STEP]")
    parser.add_argument("--precision", "-p", default="fp16", help="comma-separated precisions")
    parser.add_argument("--phase", default="decode", choices=PHASES)
    parser.add_argument("--rows", type=int, default=40, help="rows to print (text output)")


def run(args):
    from symsys.errors import InvalidParameter
    from symsys.registry import Hardware
    from symsys.solvers.sweep import sweep

    if args.rows < 0:
        raise InvalidParameter(f"--rows {args.rows}: expected a number of rows >= 0")
    hardware = Hardware.list() if args.hardware == "all" else args.hardware.split(",")
    result = sweep(model=args.models.split(","), hardware=hardware,
                   batch_size=_ints(args.batch_size),
                   seq_len=None if args.seq_len is None else _ints(args.seq_len),
                   precision=args.precision.split(","), phase=args.phase)
    return result.table(args.rows), result.to_dict()
