"""symsys serve: TTFT, inter-token latency and end-to-end latency of a batch of requests."""

from __future__ import annotations

import io

HELP = "serve a batch of requests: TTFT, ITL, end-to-end latency, tokens/s, KV cache"
EXAMPLES = """  symsys serve Llama3_8B H100 --prompt-len 512 --output-len 256 --batch-size 8
  symsys serve Llama3_70B H200 --prompt-len 2048 --output-len 512 --json"""


def add_arguments(parser):
    parser.add_argument("model")
    parser.add_argument("hardware")
    parser.add_argument("--prompt-len", type=int, required=True)
    parser.add_argument("--output-len", type=int, required=True)
    parser.add_argument("--batch-size", "-b", type=int, default=1)
    parser.add_argument("--precision", "-p", default="fp16")
    parser.add_argument("--weight-precision", default=None)
    parser.add_argument("--kv-precision", default=None)


def run(args):
    from symsys.show import info
    from symsys.solvers.serving import ServingModel

    r = ServingModel().solve(args.model, args.hardware, prompt_len=args.prompt_len,
                             output_len=args.output_len, batch_size=args.batch_size,
                             precision=args.precision, weight_precision=args.weight_precision,
                             kv_precision=args.kv_precision)
    data = r.to_dict()
    text = info("symsys serve", file=io.StringIO(), TTFT=r.ttft, ITL_first=r.itl,
                ITL_mean=r.itl_mean, End_to_end=r.e2e_latency, Tokens_per_s=r.tokens_per_sec,
                KV_cache=r.kv_cache, Footprint=r.memory_footprint,
                Memory_bound_steps=f"{r.memory_bound_steps} of {r.output_len - 1}",
                Feasible=r.feasible if r.feasible else f"no: {r.reason}")
    return text, data
