"""Tensor-parallel sweeps: ``symsys.sweep`` over (tensor_parallel, batch, context), in process
after warm-up, beside the single-device sweep of the same grid size.

The grid: Llama-3-70B on DGX_H100 (its NVSwitch domain: degrees up to 8) x tensor_parallel
1, 2, 4, 8 x batch 1..B x 256 contexts (0..8160 by 32), decode at speed of light; every degree
is one broadcast axis of the ``decode_tp`` law's kernel calls. The default columns (with the
communication time and its share, and the per-row feasibility) and ``columns=["latency"]``
are timed; the columns are built lazily, as in the other sweep figures.

    python benchmarks/run.py --only tp-sweep    # print the figures and write them to
                                                # results/only-tp-sweep.json (never the
                                                # README run's JSON)
"""

from __future__ import annotations

import gc
import time
import warnings

from _common import summary

MODEL, SYSTEM = "Llama3_70B", "DGX_H100"
DEGREES = (1, 2, 4, 8)
CONTEXTS = 256  # 0, 32, ..., 8160


def grid(configurations: int, degrees=DEGREES) -> dict:
    import numpy as np

    batches = max(1, configurations // (len(degrees) * CONTEXTS))
    return dict(model=MODEL, hardware=SYSTEM, tensor_parallel=list(degrees),
                batch_size=np.arange(1, batches + 1), seq_len=np.arange(CONTEXTS) * 32)


def _time(kwargs: dict, repeat: int) -> dict:
    import symsys

    symsys.sweep(**kwargs)  # warm: kernels compiled and loaded
    times, cpu = [], []
    for _ in range(repeat):
        gc.collect()
        cpu_start, start = time.process_time(), time.perf_counter()
        result = symsys.sweep(**kwargs)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
        size = len(result)
        del result
    stats = summary(times, cpu)
    return {"configurations": size, "seconds": stats,
            "configs_per_s": size / stats["median"],
            "configs_per_cpu_s": size / stats["cpu_median"]}


def measure_tp_sweep(configurations: float, repeat: int) -> dict:
    """Configs/s of the (tp, batch, context) sweep with the default columns and with latency
    only, and of the single-device sweep of as many configurations, for comparison."""
    import symsys

    kwargs = grid(int(configurations))
    single = {k: v for k, v in kwargs.items() if k != "tensor_parallel"}
    single["batch_size"] = kwargs["batch_size"].size * len(DEGREES)
    single["batch_size"] = range(1, single["batch_size"] + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # contexts past the model's trained length
        out = {"grid": f"{MODEL} x {SYSTEM} x tp {list(DEGREES)} x batch 1.."
                       f"{kwargs['batch_size'].size} x {CONTEXTS} contexts, decode",
               "default_columns": _time(kwargs, repeat),
               "latency_only": _time({**kwargs, "columns": ["latency"]}, repeat),
               "single_device": _time(single, repeat)}
        result = symsys.sweep(**{**kwargs, "batch_size": [1, 64], "seq_len": 4096})
    best = symsys.best(result, by="throughput", per=())
    out["best_at_4096"] = {"tensor_parallel": int(best.tensor_parallel[0]),
                           "batch_size": int(best.batch_size[0]),
                           "throughput": float(best.throughput[0].m)}
    # time per configuration of the tensor-parallel sweep over the single-device one's
    out["tp_time_over_single"] = (out["single_device"]["configs_per_s"]
                                  / out["default_columns"]["configs_per_s"])
    return out


def tp_sweep_table(tp: dict) -> str:
    from tables import fmt_si, table

    rows = [[label, f"{run['configurations']:.2e}", fmt_si(run["seconds"]["median"], "s"),
             fmt_si(run["configs_per_s"], "configs/s"),
             fmt_si(run["configs_per_cpu_s"], "configs/s")]
            for label, run in (("tensor_parallel axis, default columns",
                                tp["default_columns"]),
                               ("tensor_parallel axis, columns=['latency']",
                                tp["latency_only"]),
                               ("single device (same size), default columns",
                                tp["single_device"]))]
    best = tp["best_at_4096"]
    return (table(["sweep", "configs", "warm median", "configs/s", "per CPU s"], rows,
                  f"tensor-parallel sweep: {tp['grid']}")
            + f"\ntime per configuration, tensor-parallel / single device: "
              f"{tp['tp_time_over_single']:.2f}x; best throughput at 4096 tokens of context, "
              f"batch 1 or 64: tp {best['tensor_parallel']}, batch {best['batch_size']}, "
              f"{best['throughput']:.4g} tokens/s")
