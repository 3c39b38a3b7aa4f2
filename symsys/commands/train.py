"""symsys train: one training iteration under tensor, pipeline and data parallelism."""

from __future__ import annotations

from symsys.commands._common import efficiency_argument

HELP = "time, MFU and memory per device of one training iteration (3D parallel, ZeRO)"
EXAMPLES = """  symsys train GPT3 DGX_A100 --tp 8 --pp 8 --dp 16 --global-batch-size 1536 \\
      --seq-len 2048
  symsys train GPT3 DGX_A100 --tp 8 --pp 8 --dp 16 -B 1536 -s 2048 --recompute selective --sp
  symsys train Llama3_8B DGX_H100 --dp 64 -B 512 -s 8192 --zero 3 --tokens 15T
  symsys train GPT3 DGX_A100 --devices 4096 -B 1536 -s 2048 --search   (every factorisation)
  symsys train GPT3 DGX_A100 --tp 8 --pp 8 -B 64 -s 2048 --bubble-below 0.05 --max-microbatch
  symsys train GPT3 DGX_A100 --tp 8 --pp 8 -B 1536 -s 2048 --tokens 300G --within 30days"""


def add_arguments(parser):
    parser.add_argument("model", help="model name or config.json path")
    parser.add_argument("hardware", help="system (symsys zoo systems) or device")
    parser.add_argument("--global-batch-size", "-B", type=int, required=True,
                        help="sequences per iteration")
    parser.add_argument("--seq-len", "-s", type=int, required=True, help="tokens per sequence")
    parser.add_argument("--tp", "--tensor-parallel", dest="tensor_parallel", type=int,
                        default=1, help="tensor-parallel degree (inside the fast domain)")
    parser.add_argument("--pp", "--pipeline-parallel", dest="pipeline_parallel", type=int,
                        default=1, help="pipeline stages")
    parser.add_argument("--dp", "--data-parallel", dest="data_parallel", type=int, default=1,
                        help="data-parallel replicas")
    parser.add_argument("--microbatch-size", "-b", type=int, default=1,
                        help="sequences per microbatch (default 1)")
    parser.add_argument("--interleave", type=int, default=1,
                        help="model chunks per pipeline stage (interleaved 1F1B; default 1)")
    parser.add_argument("--recompute", choices=("none", "selective", "full"), default="none",
                        help="activation recomputation (default none)")
    parser.add_argument("--sp", "--sequence-parallel", dest="sequence_parallel",
                        action="store_true", help="sequence parallelism")
    parser.add_argument("--zero", dest="zero_stage", type=int, default=0, choices=(0, 1, 2, 3),
                        help="ZeRO stage: shard optimizer states (1), gradients (2), weights (3)")
    parser.add_argument("--precision", "-p", default="auto",
                        help="weights, gradients, activations (default auto: the device's "
                             "native 16-bit format)")
    parser.add_argument("--attention", choices=("fused", "unfused"), default="fused",
                        help="fused (FlashAttention: causal half of the scores, none stored; "
                             "default) or unfused (the full square, stored: Megatron 2021-22)")
    parser.add_argument("--overlap-grad-reduce", action="store_true",
                        help="hide the data-parallel all-reduce behind the backward pass")
    efficiency_argument(parser)
    parser.add_argument("--tokens", default=None,
                        help="tokens to train on, e.g. 1T or '300G tokens': prints the time "
                             "and device-hours")
    parser.add_argument("--within", default=None,
                        help="with --tokens: the fewest devices (more data-parallel replicas "
                             "of this layout, same global batch) that train on them within "
                             "this time, e.g. 30days")
    parser.add_argument("--bubble-below", type=float, default=None, metavar="SHARE",
                        help="the fewest microbatches (so the global batch) at which the "
                             "pipeline bubble is at most SHARE of the iteration, e.g. 0.05")
    parser.add_argument("--max-microbatch", action="store_true",
                        help="the largest microbatch that fits in memory")
    parser.add_argument("--devices", type=int, default=None,
                        help="with --search: the devices to factorise into tp x pp x dp")
    parser.add_argument("--search", action="store_true",
                        help="evaluate every (tp, pp, dp, microbatch) factorisation of "
                             "--devices in one vectorised call; print the fastest that fit")


def _tokens(text):
    from symsys.errors import InvalidParameter
    from symsys.units import parse_quantity

    if text is None:
        return None
    words = text if any(c.isalpha() and c not in "kKMGTP" for c in text) else f"{text} token"
    try:
        return parse_quantity(words, "token", "--tokens", error=InvalidParameter)
    except InvalidParameter:
        spaced = text[:-1] + " " + text[-1] + " token" if text[-1:] in "kKMGTP" else words
        return parse_quantity(spaced, "token", "--tokens", error=InvalidParameter)


def run(args):
    import io

    from symsys.errors import InvalidParameter
    from symsys.show import info, table
    from symsys.solvers.training import TrainingModel

    options = dict(global_batch_size=args.global_batch_size, seq_len=args.seq_len,
                   recompute=args.recompute, sequence_parallel=args.sequence_parallel,
                   zero_stage=args.zero_stage, precision=args.precision,
                   attention=args.attention, overlap_grad_reduce=args.overlap_grad_reduce,
                   efficiency=args.efficiency)
    if args.search:
        if args.devices is None:
            raise InvalidParameter("--search needs --devices N (the devices to factorise)")
        rows = TrainingModel().configurations(args.model, args.hardware, devices=args.devices,
                                              **options)
        buffer = io.StringIO()
        text = table(["tp", "pp", "dp", "microbatch", "step time s", "MFU", "GB per device",
                      "fits"],
                     [[r["tensor_parallel"], r["pipeline_parallel"], r["data_parallel"],
                       r["microbatch_size"], r["step_time"], f"{r['mfu']:.1%}",
                       r["memory_per_device"] / 1e9, "yes" if r["feasible"] else "no"]
                      for r in rows[:20]], file=buffer)
        return (f"{len(rows)} configurations of {args.devices} devices, fastest first:\n"
                + text), {"configurations": rows}
    r = TrainingModel().solve(args.model, args.hardware, tensor_parallel=args.tensor_parallel,
                              pipeline_parallel=args.pipeline_parallel,
                              data_parallel=args.data_parallel,
                              microbatch_size=args.microbatch_size,
                              interleave=args.interleave, **options)
    o = r.scenario.options
    where = (f"{r.hardware.name} ({r.hardware.key})"
             + (f" in {o['system']}" if "system" in o else ""))
    fields = dict(
        Model=f"{r.model.name} ({r.model.key})", Hardware=where,
        Parallelism=(f"tp {o['tensor_parallel']} x pp {o['pipeline_parallel']} x dp "
                     f"{o['data_parallel']} = {r.devices} devices, microbatch "
                     f"{o['microbatch_size']}, interleave {o['interleave']}"),
        Options=(f"recompute {o['recompute']}, sequence parallel "
                 f"{'on' if o['sequence_parallel'] else 'off'}, ZeRO {o['zero_stage']}, "
                 f"{o['precision']}, attention {o['attention']}"),
        Step_time=r.step_time, Tokens_per_second=r.tokens_per_second,
        MFU=f"{r.mfu:.1%}", HFU=f"{r.hfu:.1%} (recomputation counted)",
        Model_FLOPs_per_device=r.model_flops_per_device,
        Memory_per_device=(f"{r.memory_per_device.to('GB'):.4g~P} (states "
                           f"{r.state_memory.to('GB'):.4g~P}, activations "
                           f"{r.activation_memory.to('GB'):.4g~P}) of "
                           f"{r.memory_capacity.to('GiB'):.4g~P}"),
        Feasible=r.feasible if r.feasible else f"no: {r.reason}",
        Binding=r.regime,
        Communication=f"{r.communication_share:.1%} of the step (not hidden)",
        Bubble=f"{r.bubble_share:.1%} of the step",
        Efficiency=o["efficiency"],
    )
    data = r.to_dict()
    tokens = _tokens(args.tokens)
    if tokens is not None:
        fields["Time_to_train"] = (f"{r.time_to_train(tokens):.4g~P} on {tokens:.4g~P}, "
                                   f"{r.device_hours(tokens).m_as('hour'):.4g} device-hours")
        data["time_to_train_s"] = r.time_to_train(tokens).m_as("s")
    designs = []
    if args.within is not None:
        if tokens is None:
            raise InvalidParameter("--within needs --tokens (the tokens to train on)")
        designs.append(("Devices_needed", r.devices_to_train(tokens, args.within),
                        lambda d: (f"{d.whole} (data parallel "
                                   f"{d.result.scenario.options['data_parallel']}: "
                                   f"{d.result.time_to_train(tokens):.4g~P})")))
    if args.bubble_below is not None:
        designs.append(("Microbatches_for_bubble", r.microbatches_for_bubble(args.bubble_below),
                        lambda d: (f"{d.whole} per pipeline (global batch "
                                   f"{d.result.scenario.options['global_batch_size']}: bubble "
                                   f"{d.result.bubble_share:.2%})")))
    if args.max_microbatch:
        designs.append(("Largest_microbatch", r.largest_microbatch(),
                        lambda d: (f"{d.whole} ({d.result.memory_per_device.to('GB'):.4g~P} "
                                   "per device)")))
    for name, design, describe in designs:
        exact = "n/a" if design.exact is None else f"{design.exact:.4g}"
        fields[name] = (f"{describe(design)}; closed form {exact}" if design.feasible
                        else f"none: {design.reason}")
        data[name.lower()] = {"exact": design.exact, "whole": design.whole,
                              "reason": design.reason}
    buffer = io.StringIO()
    return info("symsys train", file=buffer, **fields), data
