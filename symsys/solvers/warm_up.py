"""Compile every kernel the commands and public solvers need for the registry, and ship them
in the package: ``python -m symsys.solvers.warm_up`` brings ``symsys/_kernels/`` up to date,
rewriting only the folders of laws that changed (``--all``: compile everything afresh).

Each call below is an ordinary solve; what it compiles is whatever the solvers ask the one
compile path for, so the shipped set cannot drift from what they use.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from symsys import kernels
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
    from symsys.solvers.sweep import sweep
    from symsys.solvers.synthesis import SynthesisSolver
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
    from symsys.solvers.sweep_grid import DEFAULT_COLUMNS, ECONOMICS
    from symsys.solvers.training import TrainingModel

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
    from symsys.solvers import e2e_validation, multi_gpu_validation, training_validation

    for validation in (e2e_validation, multi_gpu_validation, training_validation):
        validation.report()  # symsys validate --e2e, --multi-gpu, --training
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


def dump(folder: str) -> None:
    """Write every kernel of a law of the package this process holds to
    ``folder/<law>/<key>.kernel`` (what :func:`build_shipped` ships)."""
    for key, law in kernels._SHIPPABLE.items():
        target = Path(folder) / law / f"{key}.kernel"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(kernels.file_bytes(kernels._MEMORY[key]))


def _record(law) -> dict:
    """What ``SOURCES.json`` says of a law's shipped kernels: the hashes they were built under."""
    return {"law": law.name, "sources": kernels.law_hash(law.name),
            "symbols": kernels.symbols_hash(law), "files": list(kernels.law_sources(law.name))}


def _current(law) -> bool:
    try:
        recorded = json.loads((kernels.SHIPPED / law.name / "SOURCES.json").read_text())
    except (OSError, ValueError):
        return False
    return recorded == _record(law)


def build_shipped(everything: bool = False) -> dict[str, str]:
    """Bring ``symsys/_kernels/`` up to date with :func:`warm_up`, law by law.

    A law whose sources and symbols are unchanged keeps its shipped kernels (a scratch run of
    the warm-up reads them instead of compiling); a law that changed, or whose requested
    kernels changed, gets its folder rewritten from a fresh compile; a law no longer requested
    loses its folder. ``everything=True`` compiles every kernel afresh. Returns what happened
    to each law: "kept", "written" or "removed"."""
    from symsys.laws import ALL

    stale = [name for name, law in ALL.items() if everything or not _current(law)]
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "out"
        code = ("from symsys import kernels; from symsys.solvers.warm_up import warm_up, dump; "
                f"kernels._SHIPPED_CURRENT.update(dict.fromkeys({stale!r}, False)); "
                f"warm_up(); dump({str(out)!r})")
        env = dict(os.environ, SYMSYS_CACHE_DIR=str(Path(scratch) / "cache"))
        subprocess.run([sys.executable, "-c", code], env=env, check=True)
        wanted = {folder.name: {p.name: p.read_bytes() for p in folder.glob("*.kernel")}
                  for folder in out.iterdir()}
    outcome = {}
    for name, files in sorted(wanted.items()):
        folder = kernels.SHIPPED / name
        shipped = {p.name: p.read_bytes() for p in folder.glob("*.kernel")}
        if shipped == files and _current(ALL[name]):
            outcome[name] = "kept"
            continue
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for file_name, data in files.items():
            (folder / file_name).write_bytes(data)
        (folder / "SOURCES.json").write_text(json.dumps(_record(ALL[name]), indent=1) + "\n")
        outcome[name] = "written"
    for folder in kernels.SHIPPED.iterdir():
        if folder.is_dir() and folder.name not in wanted:
            shutil.rmtree(folder)
            outcome[folder.name] = "removed"
    return outcome


if __name__ == "__main__":
    result = build_shipped(everything="--all" in sys.argv[1:])
    for state in ("written", "removed", "kept"):
        laws = sorted(name for name, done in result.items() if done == state)
        print(f"{state}: {len(laws)} law(s)" + (f": {', '.join(laws)}" if laws else ""))
