"""Many devices and training, in process after warm-up: a tensor-parallel and an
expert-parallel solve beside a single-device one, one training solve, and the search over
every parallel configuration of 4096 devices (one vectorised call of the compiled training
law)."""
from __future__ import annotations

from _common import time_call

#: Megatron GPT-3 175B on 64 A100 (Korthikanti et al. 2022 Table 3), selective + SP
TRAINING = dict(global_batch_size=64, seq_len=2048, tensor_parallel=8, pipeline_parallel=8,
                interleave=3, recompute="selective", sequence_parallel=True, precision="bf16",
                attention="unfused")
SEARCH = dict(devices=4096, global_batch_size=4096, seq_len=2048,
              microbatch_sizes=(1, 2, 4, 8), recompute="selective", sequence_parallel=True)


def measure_scale(repeat: int) -> dict:
    import symsys

    engine, training = symsys.Engine, symsys.TrainingModel()
    single = time_call(lambda: engine.solve("Llama3_70B", "H200"), repeat)
    parallel = time_call(lambda: engine.solve("Llama3_70B", "H100", tensor_parallel=8), repeat)
    moe_single = time_call(lambda: engine.solve("Mixtral_8x7B", "H200"), repeat)
    expert = time_call(lambda: engine.solve("Mixtral_8x7B", "DGX_H100", expert_parallel=8),
                       repeat)
    solve = time_call(lambda: training.solve("Megatron_GPT_175B", "DGX_A100", **TRAINING),
                      repeat)
    search = time_call(lambda: training.configurations("Megatron_GPT_1T", "DGX_A100",
                                                       **SEARCH), repeat)
    rows = training.configurations("Megatron_GPT_1T", "DGX_A100", **SEARCH)
    return {"single_solve_s": single, "tp8_solve_s": parallel,
            "tp8_over_single": parallel["median"] / single["median"],
            "moe_single_solve_s": moe_single, "ep8_solve_s": expert,
            "ep8_over_single": expert["median"] / moe_single["median"],
            "training_solve_s": solve, "training_search_s": search,
            "training_search_configurations": len(rows),
            "training_search_best": rows[0]}


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.1f} us" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


def scale_table(scale: dict) -> str:
    best = scale["training_search_best"]
    lines = [
        f"{'Engine.solve Llama3_70B H200 (one device)':58s} "
        f"{_us(scale['single_solve_s']['median']):>10s}",
        f"{'Engine.solve Llama3_70B H100 tensor_parallel=8':58s} "
        f"{_us(scale['tp8_solve_s']['median']):>10s}  "
        f"({scale['tp8_over_single']:.2f}x the single-device solve)",
        f"{'Engine.solve Mixtral_8x7B H200 (one device)':58s} "
        f"{_us(scale['moe_single_solve_s']['median']):>10s}",
        f"{'Engine.solve Mixtral_8x7B DGX_H100 expert_parallel=8':58s} "
        f"{_us(scale['ep8_solve_s']['median']):>10s}  "
        f"({scale['ep8_over_single']:.2f}x the single-device solve)",
        f"{'TrainingModel.solve GPT-3 175B, 64 A100 (tp8 pp8 v3)':58s} "
        f"{_us(scale['training_solve_s']['median']):>10s}",
        f"{'every tp x pp x dp x microbatch of 4096 devices (1T)':58s} "
        f"{_us(scale['training_search_s']['median']):>10s}  "
        f"({scale['training_search_configurations']} configurations, one call)",
        f"  fastest that fits: tp {best['tensor_parallel']} x pp {best['pipeline_parallel']} "
        f"x dp {best['data_parallel']}, microbatch {best['microbatch_size']}: "
        f"{best['step_time']:.3g} s per iteration, MFU {best['mfu']:.1%} (speed of light)",
    ]
    return "\n".join(lines)
