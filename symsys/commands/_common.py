"""Arguments and conversions shared by the solver subcommands."""

from __future__ import annotations

import argparse

from symsys.solvers import PHASES


def add_step_arguments(parser, phase=True):
    parser.add_argument("model", help="model name, alias or Hugging Face id (symsys zoo models)")
    parser.add_argument("hardware", help="device or system name or alias (symsys zoo hardware, "
                                         "symsys zoo systems)")
    parser.add_argument("--batch-size", "-b", type=int, default=1, help="sequences (default 1)")
    parser.add_argument("--precision", "-p", default="auto",
                        help="compute precision (default auto: the device's native 16-bit format)")
    parser.add_argument("--seq-len", "-s", type=int, default=None,
                        help="decode: cached context; prefill: prompt tokens")
    if phase:
        # choices in any case, as names are everywhere else ('Decode' is decode)
        parser.add_argument("--phase", choices=PHASES, default="decode", type=str.lower,
                            help="decode (one new token per sequence) or prefill (the prompt)")
    parser.add_argument("--weight-precision", default=None, help="e.g. int8, int4 (weight-only)")
    parser.add_argument("--kv-precision", default=None, help="K/V cache precision")
    parser.add_argument("--tp", "--tensor-parallel", dest="tensor_parallel", type=int,
                        default=1, help="devices the model is split over (tensor parallel)")
    parser.add_argument("--pp", "--pipeline-parallel", dest="pipeline_parallel", type=int,
                        default=1, help="pipeline stages the layers are split over, each a "
                                        "tensor-parallel group")
    parser.add_argument("--ep", "--expert-parallel", dest="expert_parallel", type=int,
                        default=1, help="devices an MoE model's routed experts are split over "
                                        "(E/e each), e/tp replicas of the tensor-parallel "
                                        "group")
    parser.add_argument("--dp", "--data-parallel", dest="data_parallel", type=int, default=1,
                        help="independent replicas of the whole parallel group: throughput "
                             "x dp, latency unchanged")
    parser.add_argument("--logits", choices=("last", "all"), default="last", type=str.lower,
                        help="prefill: logits at the last prompt position (serving engines, "
                             "default) or at all of them")
    efficiency_argument(parser)
    memory_fraction_argument(parser)
    runtime_argument(parser)


def runtime_argument(parser):
    """``--runtime``: a measured serving runtime whose non-GEMM kernels a step adds."""
    parser.add_argument("--runtime", default=None, metavar="NAME",
                        help="serving runtime whose measured non-GEMM kernels (attention "
                             "launches, norms, rotary, residual adds, activation) the step "
                             "adds, e.g. torch_eager (default: none, all fused)")


def memory_fraction_argument(parser):
    """``--memory-fraction``, as every step command (solve, serve, sweep, ...) takes it; the
    text goes to the solver, whose check names the valid range."""
    parser.add_argument("--memory-fraction", default=None, metavar="FRACTION",
                        help="share of each device's memory the engine may use, in (0, 1], "
                             "e.g. 0.9 or 90%% (vLLM's --gpu-memory-utilization; default 1: "
                             "all of it)")


def efficiency_argument(parser):
    """``--efficiency``, as every step command (solve, serve, ...) takes it."""
    parser.add_argument("--efficiency", type=_efficiency, default=None,
                        help="compute,memory efficiency in (0,1], one value for both, "
                             "or 'calibrated' (default: 1, the speed-of-light bound)")


def _efficiency(text: str):
    if text == "calibrated":
        return text
    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError:  # argparse prints an ArgumentTypeError's own message (exit 2)
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number, 'c,m' or "
                                         "'calibrated'") from None
    return parts[0] if len(parts) == 1 else tuple(parts)


def step_options(args) -> dict:
    options = dict(batch_size=args.batch_size, precision=args.precision, seq_len=args.seq_len,
                   weight_precision=args.weight_precision, kv_precision=args.kv_precision,
                   efficiency=args.efficiency, logits=args.logits,
                   tensor_parallel=args.tensor_parallel)
    if hasattr(args, "phase"):
        options["phase"] = args.phase
    # only when asked: a solver without pipelines then names the option it lacks
    for name in ("pipeline_parallel", "expert_parallel", "data_parallel"):
        if getattr(args, name, 1) != 1:
            options[name] = getattr(args, name)
    if getattr(args, "memory_fraction", None) is not None:
        options["memory_fraction"] = args.memory_fraction
    if getattr(args, "runtime", None) is not None:
        options["runtime"] = args.runtime
    return options


def capacity(r):
    """A result's capacity line: the usable capacity, and the share of the physical memory
    it is when a ``memory_fraction`` was given."""
    fraction = r.scenario.options.get("memory_fraction")
    if fraction is None or r.memory_capacity is None:
        return r.memory_capacity
    from symsys.units import format_value

    return (f"{format_value(r.memory_capacity)} usable (memory_fraction {fraction:g} of the "
            "device's memory)")


def magnitude(quantity, unit: str) -> float:
    return float(quantity.m_as(unit))
