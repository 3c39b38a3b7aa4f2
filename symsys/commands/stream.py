"""symsys stream: one weight-streaming step (weights injected layer by layer)."""

from __future__ import annotations

import io

from symsys.solvers import PHASES

HELP = "weight streaming: layer injection vs compute, B*, on-chip batch limit, tokens/s"
EXAMPLES = """  symsys stream GPT3 Cerebras_CS3 --seq-len 2048
  symsys stream GPT3 GH200 --seq-len 2048 --batch-size 8 --json
  symsys stream Llama3_70B CS-3 --seq-len 4096 --phase prefill --derivation"""


def add_arguments(parser):
    parser.add_argument("model", help="model name, alias or Hugging Face id (symsys zoo models)")
    parser.add_argument("hardware", help="device with an external weight store (CS-3, GH200)")
    parser.add_argument("--seq-len", "-s", type=int, required=True,
                        help="decode: cached context; prefill: prompt tokens")
    parser.add_argument("--batch-size", "-b", type=int, default=1, help="sequences (default 1)")
    parser.add_argument("--precision", "-p", default="auto",
                        help="precision (default auto: the device's native 16-bit format)")
    parser.add_argument("--phase", choices=PHASES, default="decode")
    parser.add_argument("--serial", action="store_true",
                        help="inject and compute one after the other (default: overlapped)")
    parser.add_argument("--efficiency", type=float, default=None,
                        help="achieved fraction of peak compute and of the link, in (0,1]")
    parser.add_argument("--derivation", action="store_true", help="print the LaTeX derivation")


def run(args):
    from symsys.show import info
    from symsys.solvers.streaming import WeightStreamingModel

    r = WeightStreamingModel().solve(args.model, args.hardware, seq_len=args.seq_len,
                                     batch_size=args.batch_size, precision=args.precision,
                                     phase=args.phase, overlap=not args.serial,
                                     efficiency=args.efficiency)
    op = r.operating
    fields = dict(
        Model=f"{r.model.name} ({r.model.key})", Hardware=f"{r.hardware.name} ({r.hardware.key})",
        Step=f"{r.phase}, batch {r.batch_size}, seq_len {r.seq_len}, {r.inputs.precision}, "
             f"{'overlapped' if r.overlap else 'serial'}",
        Injection=f"{r.hardware.streaming.name}, {r.hardware.streaming.injection_bandwidth:.4g~P}",
        Layer_injection_time=r.layer_injection_time, Layer_compute_time=r.layer_compute_time,
        Step_time=r.latency, Throughput=r.throughput, Bottleneck=r.bottleneck,
        Memory_footprint=r.memory_footprint, Capacity=r.memory_capacity,
        Memory_utilization=f"{r.wafer_memory_utilization:.1%}",
        Feasible=r.feasible if r.feasible else f"no: {r.reason}",
        Optimal_batch_B_star=r.optimal_batch_size, Max_feasible_batch=r.max_feasible_batch,
        Operating_batch=f"{r.operating_batch} ({r.operating_wall} binds"
                        + (f", {op.throughput_tokens_per_sec:.4g} tokens/s)" if op else ")"),
    )
    text = info("symsys stream", file=io.StringIO(), **fields)
    text += "\n\n" + "\n".join(f"- {note}" for note in r.notes[:-len(r.card["notes"])])
    if args.derivation:
        text += "\n\n" + r.derivation()
    return text, r.to_dict()
