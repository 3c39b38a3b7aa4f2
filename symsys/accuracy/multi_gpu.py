"""Tensor-parallel decode against published multi-GPU measurements
(``symsys validate --multi-gpu``).

Each row of ``registry/data/measured/multi_gpu/gpt_fast.csv`` (gpt-fast's README: batch 1,
bf16, Llama 2 and 3.1 on 1 to 8 A100-80GB) is solved as a decode step on the A100 with
``tensor_parallel`` = the row's GPU count, at the run's mean context (a 5-token prompt and 200
new tokens: 105 cached tokens on average). Twice: at speed of light, which must never be
faster than the measurement, and with ``efficiency="calibrated"``: the A100 kernel profile
(fitted on Vidur's single-GPU kernels; bf16 takes the fp16 profile) and the A100 NVLink link
profile (fitted on all-reduce times, :mod:`symsys.calibration.links`). No row is fitted.
The TP scaling compares predicted and measured speedups of the largest degree over the
smallest of each model.

``registry/data/measured/multi_gpu/tensorrt_llm.csv`` holds TensorRT-LLM's published
tensor-parallel rows (first-token latency at TP 4, static-batch throughput at TP 2 and 4, on
DGX A100 in fp16 and DGX H100 in fp8). They are whole requests in the end-to-end schema and
are solved by :mod:`symsys.accuracy.e2e` on the system, with the kernel profile,
the link profile and the TensorRT-LLM runtime of the row's version (fitted on single-GPU
GPT-J rows only): every one of them is held out.
"""

from __future__ import annotations

import csv
import statistics

from symsys.registry.common import DATA
from symsys.solvers.inference import Engine

MEASURED = DATA / "measured" / "multi_gpu" / "gpt_fast.csv"
TENSORRT_LLM = DATA / "measured" / "multi_gpu" / "tensorrt_llm.csv"
#: the runs' mean cached context: 5 prompt tokens + half of the 200 generated
SEQ_LEN = 105


def rows() -> list[dict]:
    with MEASURED.open() as handle:
        return list(csv.DictReader(handle))


def _solve(row: dict, efficiency):
    return Engine.solve(row["registry_key"], row["registry_hardware"],
                        batch_size=int(row["batch"]), seq_len=SEQ_LEN, precision=row["precision"],
                        tensor_parallel=int(row["tensor_parallel"]), efficiency=efficiency)


def _stats(errors: list[float]) -> dict:
    magnitudes = [abs(e) for e in errors]
    return {"n": len(errors), "mean": statistics.fmean(magnitudes), "max": max(magnitudes)}


def _speedups(out: list[dict]) -> list[dict]:
    """Per model: the largest degree's tokens/s over the smallest's, measured and predicted."""
    table = []
    for model in dict.fromkeys(r["model"] for r in out):
        runs = sorted((r for r in out if r["model"] == model), key=lambda r: r["tp"])
        low, high = runs[0], runs[-1]

        def ratio(key, low=low, high=high):
            return high[key] / low[key]

        table.append({"model": model, "from_tp": low["tp"], "to_tp": high["tp"],
                      "measured": ratio("measured_tokens_s"),
                      "speed_of_light": ratio("speed_of_light_tokens_s"),
                      "calibrated": ratio("calibrated_tokens_s")})
    return table


def report() -> dict:
    """Per row: measured, speed-of-light and calibrated tokens/s with errors; mean/max
    errors; the TP speedups side by side; the rows measured faster than the bound."""
    out = []
    calibrated = None
    for row in rows():
        measured = float(row["tokens_per_s"])
        bound = _solve(row, None)
        calibrated = _solve(row, "calibrated")
        out.append({
            "model": row["model"], "tp": int(row["tensor_parallel"]),
            "measured_tokens_s": measured,
            "speed_of_light_tokens_s": 1 / bound.latency.m_as("s"),
            "calibrated_tokens_s": 1 / calibrated.latency.m_as("s"),
            "calibrated_error": measured / (1 / calibrated.latency.m_as("s")) - 1,
            "calibrated_regime": calibrated.bottleneck,
            "bound_holds": 1 / bound.latency.m_as("s") >= measured,
        })
        # error is of the predicted time: t_pred / t_measured - 1 = measured / predicted rate - 1
    single = [r for r in out if r["tp"] == 1]
    multi = [r for r in out if r["tp"] > 1]
    return {
        "source": str(MEASURED.relative_to(DATA.parent.parent)),
        "seq_len": SEQ_LEN,
        "efficiency": calibrated.efficiency_source if calibrated is not None else "",
        "rows": out,
        "all": _stats([r["calibrated_error"] for r in out]),
        "single_gpu": _stats([r["calibrated_error"] for r in single]),
        "tensor_parallel": _stats([r["calibrated_error"] for r in multi]),
        "speedups": _speedups(out),
        "bound_violations": [f"{r['model']} TP{r['tp']}" for r in out if not r["bound_holds"]],
        "tensorrt_llm": _engine_rows(),
    }


def e2e_rows() -> list[dict]:
    """TensorRT-LLM's tensor-parallel rows (the end-to-end schema)."""
    from symsys.accuracy import e2e

    return e2e.rows(TENSORRT_LLM)


def _engine_rows() -> dict:
    """TensorRT-LLM's tensor-parallel requests, as the end-to-end validation reports them."""
    from symsys.accuracy import e2e

    return e2e.report(TENSORRT_LLM)


def render(data: dict) -> str:
    """The report as text tables."""
    from symsys.units import text_table

    lines = [f"measured: {data['source']} (gpt-fast README; batch 1, bf16, A100-80GB at 330 W)",
             f"decode at the mean context s = {data['seq_len']}; calibrated: {data['efficiency']}",
             "error = predicted time / measured time - 1", ""]
    body = [[r["model"], r["tp"], f"{r['measured_tokens_s']:.1f}",
             f"{r['speed_of_light_tokens_s']:.1f}", f"{r['calibrated_tokens_s']:.1f}",
             f"{r['calibrated_error']:+.1%}", r["calibrated_regime"]] for r in data["rows"]]
    lines.append(text_table(["model", "TP", "measured tok/s", "speed of light tok/s",
                             "calibrated tok/s", "error", "calibrated regime"], body))
    speed = [[s["model"], f"TP{s['to_tp']}/TP{s['from_tp']}", f"{s['measured']:.2f}",
              f"{s['speed_of_light']:.2f}", f"{s['calibrated']:.2f}"] for s in data["speedups"]]
    lines += ["", text_table(["model", "speedup", "measured", "speed of light", "calibrated"],
                             speed)]
    lines += ["", f"calibrated |error|: TP1 mean {data['single_gpu']['mean']:.1%}; TP>1 mean "
                  f"{data['tensor_parallel']['mean']:.1%}, max {data['tensor_parallel']['max']:.1%}"
                  f"; all {data['all']['n']} rows mean {data['all']['mean']:.1%}",
              f"speed-of-light bound: {len(data['bound_violations'])} row(s) measured faster "
              "than it" + "".join(f"\n  VIOLATION {v}" for v in data["bound_violations"])]
    from symsys.accuracy import e2e

    lines += ["", "TensorRT-LLM, tensor parallel (whole requests; kernel, link and runtime "
                  "profiles)", e2e.render(data["tensorrt_llm"])]
    return "\n".join(lines)


def readme_tables(data: dict) -> str:
    """The README's multi-device accuracy tables (markdown), generated from ``data`` and the
    shipped link profiles; a test checks the README carries exactly this text."""
    from symsys.calibration.links import shipped

    lines = ["| link profile | all-reduce | eta_x | alpha_c per call | alpha_x per step (NCCL) "
             "| fitted rows: median, worst | held-out rows (used in development): median, "
             "worst |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {p.system} ({p.link}) | {'in-network' if p.in_network else 'ring'} | "
              f"{p.eta_x:.3f} | {p.alpha_c * 1e6:.2f} us | {p.alpha_x * 1e6:.2f} us | "
              f"{p.fit['n']}: {p.fit['median']:.1%}, {p.fit['max']:.1%} | "
              f"{p.holdout['n']}: {p.holdout['median']:.1%}, {p.holdout['max']:.1%} |"
              for p in shipped()]
    lines += ["", "| model (gpt-fast, A100) | speedup | measured | speed of light | calibrated "
              "| calibrated error at TP1 or TP2 / at TP8 |",
              "| --- | --- | --- | --- | --- | --- |"]
    for s in data["speedups"]:
        runs = {r["tp"]: r for r in data["rows"] if r["model"] == s["model"]}
        lines.append(f"| {s['model']} | TP{s['to_tp']}/TP{s['from_tp']} | {s['measured']:.2f} "
                     f"| {s['speed_of_light']:.2f} | {s['calibrated']:.2f} | "
                     f"{runs[s['from_tp']]['calibrated_error']:+.1%} / "
                     f"{runs[s['to_tp']]['calibrated_error']:+.1%} |")
    from symsys.accuracy import e2e

    engine = data["tensorrt_llm"]
    lines += ["", "| TensorRT-LLM request | measured | speed of light | calibrated | error |",
              "| --- | ---: | ---: | ---: | ---: |"]
    lines += [f"| {r['id']} | {r['value']:g} {r['unit']} | {r['speed_of_light_s'] * 1e3:.4g} ms "
              f"| {r['calibrated_s'] * 1e3:.4g} ms | {r['calibrated_error']:+.1%} |"
              for r in engine["rows"]]
    lines += ["", e2e.markdown(engine)]
    return "\n".join(lines)
