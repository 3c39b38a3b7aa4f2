"""symsys solve: one inference step of a model on a device."""

from __future__ import annotations

from symsys.commands._common import add_step_arguments, magnitude, step_options

HELP = "latency, throughput and bottleneck of one inference step (decode or prefill)"
EXAMPLES = """  symsys solve Llama3_8B H100
  symsys solve Llama3_8B A100 --batch-size 64 --seq-len 2048
  symsys solve GPT3 H100 --json
  symsys solve Llama3_70B H200 --phase prefill --seq-len 4096 --weight-precision int8"""


def add_arguments(parser):
    add_step_arguments(parser)
    parser.add_argument("--derivation", action="store_true", help="print the LaTeX derivation")


def as_dict(r) -> dict:
    return {
        "model": r.model.key, "hardware": r.hardware.key, "phase": r.phase,
        "batch_size": r.batch_size, "precision": r.inputs.precision,
        "weight_precision": r.inputs.weight_precision, "kv_precision": r.inputs.kv_precision,
        "seq_len": r.inputs.values.get("s"),
        "latency_ms": magnitude(r.latency, "ms"),
        "latency_compute_ms": magnitude(r.latency_compute, "ms"),
        "latency_memory_ms": magnitude(r.latency_memory, "ms"),
        "throughput": float(r.throughput.magnitude),
        "throughput_unit": f"{r.throughput.units:~P}",
        "bottleneck": r.bottleneck,
        "arithmetic_intensity_flop_per_byte": magnitude(r.arithmetic_intensity, "FLOP/B"),
        "ridge_point_flop_per_byte": magnitude(r.ridge_point, "FLOP/B"),
        "flops": magnitude(r.flops, "FLOP"), "bytes": magnitude(r.bytes_moved, "B"),
        "memory_footprint_gb": magnitude(r.memory_footprint, "GB"),
        "memory_capacity_gb": magnitude(r.memory_capacity, "GB"),
        "feasible": r.feasible, "reason": r.reason, "mfu": r.mfu, "mbu": r.mbu,
        "efficiency": r.efficiency_source,
        "crossover_batch": r.crossover_batch, "crossover_batch_exact": r.crossover_batch_exact,
    }


def run(args):
    from symsys.show import info
    from symsys.solvers.inference import Engine

    r = Engine.solve(args.model, args.hardware, **step_options(args))
    context = ("no cached context (weights-only roofline)" if r.phase == "decode"
               and args.seq_len is None else f"seq_len {r.inputs.values.get('s')}")
    fields = dict(
        Model=f"{r.model.name} ({r.model.key})", Hardware=f"{r.hardware.name} ({r.hardware.key})",
        Step=f"{r.phase}, batch {r.batch_size}, {r.inputs.precision}, {context}",
        Latency=r.latency, Bottleneck=r.bottleneck, Throughput=r.throughput,
        Compute_time=r.latency_compute, Memory_time=r.latency_memory,
        Intensity=r.arithmetic_intensity, Ridge_point=r.ridge_point,
        Memory_footprint=r.memory_footprint, Capacity=r.memory_capacity,
        Feasible=r.feasible if r.feasible else f"no: {r.reason}",
        MFU=f"{r.mfu:.1%}", MBU=f"{r.mbu:.1%}", Efficiency=r.efficiency_source,
        Crossover_batch=_crossover(r),
    )
    import io

    buffer = io.StringIO()
    text = info("symsys solve", file=buffer, **fields)
    if args.derivation:
        text += "\n\n" + r.derivation()
    return text, as_dict(r)


def _crossover(r) -> str:
    first = r.crossover_batch
    if first is None:
        return "none: no batch turns this step compute-bound"
    exact = r.crossover_batch_exact
    exact_text = f" (closed form b = {exact:.6g})" if exact is not None else " (MoE: bisection)"
    return f"batch {first}{exact_text}"
