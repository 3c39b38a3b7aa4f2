"""symsys solve: one inference step of a model on a device."""

from __future__ import annotations

from symsys.commands._common import add_step_arguments, capacity, step_options

HELP = "latency, throughput and bottleneck of one inference step (decode or prefill)"
EXAMPLES = """  symsys solve Llama3_8B H100
  symsys solve Llama3_8B A100 --batch-size 64 --seq-len 2048
  symsys solve GPT3 H100 --json
  symsys solve Llama3_70B H200 --phase prefill --seq-len 4096 --weight-precision int8
  symsys solve Llama3_70B DGX_H100 --tp 8
  symsys solve Llama3_70B DGX_H100 --tp 4 --pp 2
  symsys solve Mixtral_8x7B DGX_H100 --ep 8
  symsys solve Mixtral_8x7B DGX_H100 --tp 8 --ep 8 --dp 2"""


def add_arguments(parser):
    add_step_arguments(parser)
    parser.add_argument("--derivation", action="store_true", help="print the LaTeX derivation")


def run(args):
    from symsys.show import info
    from symsys.solvers import FORWARD
    from symsys.solvers.inference import Engine

    r = Engine.solve(args.model, args.hardware, **step_options(args))
    context = ("one forward pass per sample" if r.phase == FORWARD
               else "no cached context (weights-only roofline)" if r.phase == "decode"
               and args.seq_len is None else f"seq_len {r.inputs.values.get('s')}")
    fields = dict(
        Model=f"{r.model.name} ({r.model.key})", Hardware=_hardware(r),
        Step=f"{r.phase}, batch {r.batch_size}, {_precision(r)}, {context}",
        **({"Law": _law(r)} if {"step_law", "inputs"} & set(r.scenario.options) else {}),
        Latency=r.latency, Bottleneck=r.bottleneck, Throughput=r.throughput,
        Compute_time=r.latency_compute, Memory_time=r.latency_memory,
        **(_parallel(r) if r.step_output("communication") else {}),
        **(_replicas(r) if r.data_parallel != 1 else {}),
        Intensity=r.arithmetic_intensity, Ridge_point=r.ridge_point,
        Memory_footprint=r.memory_footprint, Capacity=capacity(r),
        Feasible=r.feasible if r.feasible else f"no: {r.reason}",
        **{name: f"{value:.1%}" for name, value in (("MFU", r.mfu), ("MBU", r.mbu))
           if value is not None},
        Efficiency=r.efficiency_source,
        Crossover_batch=_crossover(r),
        **({"Note": r.caveat} if r.caveat else {}),
    )
    import io

    buffer = io.StringIO()
    text = info("symsys solve", file=buffer, **fields)
    if args.derivation:
        text += "\n\n" + r.derivation()
    return text, r.to_dict()


def _law(r) -> str:
    """The step law asked for by name, with the inputs given."""
    given = r.scenario.options.get("inputs") or {}
    return r.card["law"] + (" with " + ", ".join(f"{k} = {v}" for k, v in given.items())
                            if given else "")


def _hardware(r) -> str:
    device = f"{r.hardware.name} ({r.hardware.key})"
    system = r.system
    return device if system is None else f"{system.name} ({system.key}): {r.devices} x {device}"


def _parallel(r) -> dict:
    """The communication lines of a tensor- or pipeline-parallel step."""
    v = r.scenario.values
    comm, dispatch, stage = (r.step_output(role) for role in ("communication", "dispatch",
                                                              "stage"))
    fields = {"Communication_time": f"{r.quantity(comm).to('us'):.4g~P} "
                                    f"({r.communication_share:.1%} of the step)",
              "Tensor_parallel": f"{v['n_g']} device{'s' if v['n_g'] != 1 else ''}, "
                                 f"{r.quantity('beta_x').to('GB/s'):.4g~P} per direction"}
    if dispatch is not None:
        e, n = int(v["n_ep"]), int(v["n_g"])
        per_device = int(v["E"]) // e
        replicas = (f"{e // n} attention replicas of the tensor-parallel group, batch "
                    f"{r.batch_size} each" if e > n else "over the tensor-parallel group")
        fields["Expert_parallel"] = (
            f"{e} devices, {per_device} of {int(v['E'])} experts each ({replicas}); "
            f"all-to-all {r.quantity(dispatch).to('us'):.4g~P}, 2 per MoE layer")
    if stage is not None:
        sends = (f", sends {r.quantity('t_send').to('us'):.4g~P}" if "t_send" in r.raw else "")
        fields["Pipeline_parallel"] = (f"{v['n_pp']} stages of "
                                       f"{r.quantity(stage).to('ms'):.4g~P}{sends}")
    if dispatch is not None:
        need = r.min_expert_parallel
        fields["Min_expert_parallel"] = need or "none in the fast domain"
        return fields
    fastest = r.fastest_tensor_parallel_exact
    fields.update(Min_tensor_parallel=r.min_tensor_parallel or "none in the fast domain",
                  Fastest_tensor_parallel=f"{r.fastest_tensor_parallel}" + (
                      f" (closed form n* = {fastest:.4g})" if fastest is not None
                      else " (no link latency: every device helps)"))
    return fields


def _replicas(r) -> dict:
    """The data-parallel lines: replicas, devices, the rate of one and of all."""
    return {"Data_parallel": (f"{r.data_parallel} replicas of {r.group_devices} devices = "
                              f"{r.devices} devices"),
            "Throughput_per_replica": r.throughput_per_replica}


def _precision(r) -> str:
    """The compute precision, and why it was chosen when the user did not name one."""
    chosen = r.scenario.options.get("precision_chosen")
    return r.inputs.precision + (f" ({chosen})" if chosen else "")


def _crossover(r) -> str:
    first = r.crossover_batch
    if first is None:
        return "none: no batch turns this step compute-bound"
    exact = r.crossover_batch_exact
    exact_text = f" (closed form b = {exact:.6g})" if exact is not None else " (MoE: bisection)"
    return f"batch {first}{exact_text}"
