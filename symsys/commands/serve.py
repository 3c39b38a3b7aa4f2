"""symsys serve: TTFT, inter-token latency and end-to-end latency of a batch of requests."""

from __future__ import annotations

import io

HELP = "serve a batch of requests: TTFT, ITL, end-to-end latency, tokens/s, KV cache"
EXAMPLES = """  symsys serve Llama3_8B H100 --prompt-len 512 --output-len 256 --batch-size 8
  symsys serve Llama3_70B H200 --prompt-len 2048 --output-len 512 --json"""


def add_arguments(parser):
    from symsys.commands._common import add_step_arguments

    # the phase and context of each step follow from the prompt and output lengths
    add_step_arguments(parser, exclude=("phase", "seq_len"),
                       helps={"batch_size": "requests served together"})
    parser.add_argument("--prompt-len", type=int, required=True,
                        help="prompt tokens per request (the prefill that gives the TTFT)")
    parser.add_argument("--output-len", type=int, required=True,
                        help="tokens generated per request; the first comes from the prefill, "
                             "each further one from a decode step")


def run(args):
    from symsys.commands._common import capacity, step_options
    from symsys.show import info
    from symsys.solvers.serving import ServingModel

    r = ServingModel().solve(args.model, args.hardware, prompt_len=args.prompt_len,
                             output_len=args.output_len, **step_options(args))
    data = r.to_dict()
    step = r.prefill.inputs
    precisions = step.precision + "".join(
        f", {label} {value}" for label, value in (("weights", step.weight_precision),
                                                  ("K/V", step.kv_precision))
        if value != step.precision)
    steps = r.output_len - 1
    # the answer restates what was asked, so a pasted result stands on its own
    fields = dict(
        Model=f"{r.model.name} ({r.model.key})",
        Hardware=f"{r.hardware.name} ({r.hardware.key})"
                 + (f", {args.tensor_parallel} devices in tensor parallel"
                    if args.tensor_parallel != 1 else "")
                 + (f", {args.pipeline_parallel} pipeline stages"
                    if args.pipeline_parallel != 1 else "")
                 + (f", experts over {args.expert_parallel} devices (expert parallel)"
                    if args.expert_parallel != 1 else "")
                 + (f", {args.data_parallel} data-parallel replicas ({r.devices} devices)"
                    if args.data_parallel != 1 else ""),
        Requests=f"batch {r.prefill.batch_size}, {_tokens(r.prompt_len)} of prompt and "
                 f"{_tokens(r.output_len)} of output each, {precisions}",
        TTFT=r.ttft,
        ITL_first=r.itl if r.itl_applies else "not applicable (one output token: it comes "
                                              "from the prefill, no next token follows)",
        ITL_mean=r.itl_mean if r.itl_applies else "not applicable",
        End_to_end=r.e2e_latency, Tokens_per_s=r.tokens_per_sec,
        Tokens_per_s_per_request=r.tokens_per_sec_per_request,
        KV_cache=r.kv_cache, Footprint=r.memory_footprint, Capacity=capacity(r),
        Memory_bound_steps=(f"{r.memory_bound_steps} of {steps} decode steps" if steps
                            else "none (no decode step)"),
        Efficiency=r.prefill.efficiency_source,
        Feasible=r.feasible if r.feasible else f"no: {r.reason}")
    text = info("symsys serve", file=io.StringIO(), **fields)
    return text, data


def _tokens(n: int) -> str:
    return f"{n} token" + ("" if n == 1 else "s")
