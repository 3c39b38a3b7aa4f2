"""The solves whose kernels ship in the package besides those of the CLI's own examples:
``python -m symsys.shipping`` runs them (and every example of ``symsys CMD --help``) and
brings ``symsys/_kernels/`` up to date.

Each call below is an ordinary solve; what it compiles is whatever the solvers ask the one
compile path for, so the shipped set cannot drift from what they use.
"""

from __future__ import annotations

import itertools

from symsys.solvers import PHASES

#: one dense model, one MoE, one MLA, one fixed workload: every law and variant
MODELS = ("Llama3_8B", "Mixtral_8x7B", "DeepSeek_V3", "ResNet50")
#: levers the synthesize command and README examples use, per target kind
LEVERS = ("memory_bandwidth", "peak_flops", "memory_efficiency", "compute_efficiency",
          "bytes_per_weight", "batch_size", "memory_capacity")


def warm_up() -> None:
    from symsys.calibration import LAWS, report
    from symsys.calibration.fit import fit_kernel
    from symsys.solvers.inference import Engine
    from symsys.solvers.sensitivity import SensitivitySolver
    from symsys.solvers.serving import ServingModel
    from symsys.solvers.streaming import WeightStreamingModel
    from symsys.solvers.synthesis import SynthesisSolver
    from symsys.sweeps.sweep import sweep
    from symsys.units import Q_

    for model in MODELS:
        transformer = model != "ResNet50"
        for step in ({}, {"phase": "prefill", "seq_len": 128}) if transformer else ({},):
            Engine.solve(model, "H100", **step).to_dict()  # every figure a command prints
            for output in ("latency", "throughput"):
                SensitivitySolver().solve(model, "H100", output=output, **step)
            if model == "Llama3_8B":
                for output in ("crossover_batch", "max_batch_size"):
                    SensitivitySolver().solve(model, "H100", output=output, **step)
                for lever in LEVERS:
                    for target in (Q_(3, "ms"), Q_(3000, "token/s")):
                        SynthesisSolver().solve(model, "H100", target=target, lever=lever,
                                                **step)
        sweep(model, ["H100"], batch_size=[1, 2])
        sweep(model, ["H100"], batch_size=[1, 2], columns=["latency"])
    from symsys.registry.hardware import Hardware

    Hardware.get("H100").ridge_point()  # symsys zoo and show print every device's ridge point
    report()  # symsys validate: the shipped profiles' predictions
    for law in LAWS:  # symsys validate --lomo: the fits
        fit_kernel(law)
    for model in ("Llama3_70B", "Mixtral_8x7B"):  # tensor parallel, dense and MoE
        for step in ({}, {"phase": "prefill", "seq_len": 128}):
            Engine.solve(model, "H100", tensor_parallel=8, **step).to_dict()
            Engine.solve(model, "DGX_H100", tensor_parallel=8, **step).to_dict()
            Engine.solve(model, "DGX_H100", tensor_parallel=4, pipeline_parallel=2,
                         **step).to_dict()
            SensitivitySolver().solve(model, "H100", tensor_parallel=8, **step)
            if model == "Llama3_70B" and not step:
                # the inverse designs of a group: the batch that meets a per-token latency
                # (examples/procurement.py), the link bandwidth for a latency or a rate
                SynthesisSolver().solve(model, "H100", target=Q_(20, "ms"),
                                        lever="batch_size", seq_len=2048, tensor_parallel=8)
                for target in (Q_(10, "ms"), Q_(3000, "token/s")):
                    SynthesisSolver().solve(model, "DGX_H100", target=target,
                                            lever="link_bandwidth", tensor_parallel=8,
                                            batch_size=64)
            if model == "Mixtral_8x7B":  # expert parallel: over the TP group, attention
                # data parallel, and with pipeline stages (symsys solve --ep)
                for degrees in ({"tensor_parallel": 8}, {}, {"tensor_parallel": 2,
                                                              "pipeline_parallel": 2}):
                    Engine.solve(model, "DGX_H100", expert_parallel=4 if degrees.get(
                        "pipeline_parallel") else 8, **degrees, **step).to_dict()
    from symsys.solvers.cost import CostModel
    from symsys.solvers.training import TrainingModel
    from symsys.sweeps.grid import DEFAULT_COLUMNS, ECONOMICS

    for model, step in itertools.product(
            ("Llama3_8B", "Llama3_70B"),  # one fits a device (its batch limit), one does not
            ({}, {"phase": "prefill", "seq_len": 128}, {"tensor_parallel": 8})):
        cost = CostModel().solve(model, "H100", **step)
        cost.to_dict()  # every figure symsys cost prints
        cost.sensitivities("cost")
    sweep("Llama3_8B", ["H100"], batch_size=[1, 2], columns=[*DEFAULT_COLUMNS, *ECONOMICS])
    for model in ("Llama3_8B", "Mixtral_8x7B"):  # symsys train; the configuration search
        r = TrainingModel().solve(model, "DGX_H100", global_batch_size=64, seq_len=128,
                                  tensor_parallel=8, data_parallel=2)
        for output in ("step_time", "mfu", "memory_per_device"):
            r.sensitivities(output)
        # symsys train --bubble-below, --max-microbatch, --tokens --within (ZeRO-1: no
        # closed form for the devices, the search alone)
        r.microbatches_for_bubble(0.05), r.largest_microbatch()
        r.devices_to_train("1G token", "1 day")
        TrainingModel().configurations(model, "DGX_H100", devices=16, global_batch_size=64,
                                       seq_len=128)
    from symsys.accuracy import e2e, multi_gpu
    from symsys.accuracy import training as training_accuracy

    for accuracy in (e2e, multi_gpu, training_accuracy):
        accuracy.report()  # symsys validate --e2e, --multi-gpu, --training
    for model in ("Llama3_70B", "Mixtral_8x7B"):  # symsys sweep --tp
        sweep(model, ["DGX_H100"], batch_size=[1, 2], tensor_parallel=[1, 8])
        sweep(model, ["DGX_H100"], batch_size=[1, 2], tensor_parallel=[1, 8],
              columns=[*DEFAULT_COLUMNS, *ECONOMICS])
    sweep("Mixtral_8x7B", ["DGX_H100"], batch_size=[1, 2], tensor_parallel=[1, 8],
          expert_parallel=8)  # symsys sweep --tp --ep
    ServingModel().solve("Mixtral_8x7B", "DGX_H100", prompt_len=16, output_len=4,
                         tensor_parallel=8, expert_parallel=8)  # symsys serve --ep
    for model in ("Llama3_8B", "Mixtral_8x7B"):
        ServingModel().solve(model, "H100", prompt_len=16, output_len=4)
        for phase in PHASES:
            WeightStreamingModel().solve(model, "Cerebras_CS3", seq_len=128,
                                         phase=phase).to_dict()  # B*, b_max, the notes
            for output in ("optimal_batch", "max_batch"):
                SensitivitySolver().solve(model, "Cerebras_CS3", seq_len=128, phase=phase,
                                          output=output)
    _parallel_designs()


def _parallel_designs() -> None:
    """What symsys sensitivity and synthesize can ask of a parallel layout beyond their help's
    examples: both outputs of a pipeline and an expert-parallel step, the link bandwidth for
    either kind of target with pipeline stages, and the network's latency on a group that
    spans nodes (symsys synthesize --lever network_latency)."""
    from symsys.solvers.sensitivity import SensitivitySolver
    from symsys.solvers.synthesis import SynthesisSolver
    from symsys.units import Q_

    for output in ("latency", "throughput"):
        SensitivitySolver().solve("Mixtral_8x7B", "DGX_H100", expert_parallel=8,
                                  data_parallel=2, batch_size=64, seq_len=1024, output=output)
        SensitivitySolver().solve("Llama3_70B", "DGX_H100", tensor_parallel=2,
                                  pipeline_parallel=2, data_parallel=2, output=output)
    for target in (Q_(12, "ms"), Q_(5000, "token/s")):
        SynthesisSolver().solve("Llama3_70B", "DGX_H100", tensor_parallel=4,
                                pipeline_parallel=2, batch_size=32, seq_len=1024,
                                target=target, lever="link_bandwidth")
    across_nodes = {"precision": "fp8", "tensor_parallel": 16}
    SensitivitySolver().solve("Llama3_1_405B", "DGX_H100_SU", **across_nodes,
                              network_latency=Q_(5, "us"))
    SynthesisSolver().solve("Llama3_1_405B", "DGX_H100_SU", **across_nodes,
                            network_latency=Q_(5, "us"), target=Q_(60, "ms"),
                            lever="network_latency")
