"""Single-GPU inference against published end-to-end measurements (``symsys validate --e2e``).

Each row of ``registry/data/measured/e2e/single_gpu.csv`` (gpt-fast and torchao decode tokens/s
on A100 in bf16 and weight-only int8/int4, TensorRT-LLM first-token latency and static-batch
throughput on A100 fp16 and H100 fp8, and decode and prefill steps timed on a lent H200; the
README there gives every source) is rebuilt from
:class:`symsys.ServingModel`, as the engine runs it:

- ``decode_tokens_per_s`` and ``output_tokens_per_s``: one prefill of ``input_len`` tokens (it
  yields the first output token) and the ``output_len - 1`` decode steps after it (their
  times summed in closed form); the rate is batch x output_len / time;
- ``ttft_ms``: the prefill alone;
- ``decode_step_ms``: one decode step after ``input_len`` cached tokens (the steps timed on
  the lent H200).

A row whose engine's non-GEMM kernels were measured names its runtime
(:mod:`symsys.calibration.runtimes`); its calibrated prediction adds them.

Each row is solved twice: at speed of light (efficiency 1, no overhead), a bound whose time must
never exceed the measured time, and with the calibrated profile
:func:`symsys.calibration.profile_for` gives for the row's device, compute precision and weight
format (its transfer rules: bf16 <-> fp16, SXM -> PCIe board, H200 -> H100 at fp8 (one die),
weight-only dequantisation). A row no rule covers gets no calibrated prediction, with the
reason. Rows marked ``fit``
in the CSV determined a rule's number (the weight-only factors); the summary separates them
from the ``held_out`` rows.
"""

from __future__ import annotations

import csv
import statistics

from symsys.calibration import profile_for
from symsys.errors import InvalidParameter
from symsys.registry.common import DATA
from symsys.solvers.serving import ServingModel

MEASURED = DATA / "measured" / "e2e" / "single_gpu.csv"
#: what a row without published lengths assumes: the defaults of gpt-fast's generate.py
#: (prompt "Hello, my name is", 5 tokens with BOS; 200 new tokens), which torchao's
#: _models/llama/generate.py derives from; the row's ``lengths_assumed`` says so
DEFAULT_LENGTHS = (5, 200)
METRICS = ("decode_tokens_per_s", "output_tokens_per_s", "output_tokens_per_s_per_gpu",
           "ttft_ms", "decode_step_ms")


def rows(path=MEASURED) -> list[dict]:
    """The rows of a dataset in this schema (``path``: the single-GPU one by default; the
    multi-GPU TensorRT-LLM rows add ``registry_system`` and ``tensor_parallel``)."""
    with path.open() as handle:
        return list(csv.DictReader(handle))


def _tensor_parallel(row: dict) -> int:
    return int(row.get("tensor_parallel") or 1)


def _lengths(row: dict) -> tuple[int, int, bool]:
    if row["input_len"] and row["output_len"]:
        return int(row["input_len"]), int(row["output_len"]), False
    return (*DEFAULT_LENGTHS, True)


def measured_seconds(row: dict) -> float:
    """The row's measurement as the seconds of the whole request (or of the prefill)."""
    value, batch = float(row["value"]), int(row["batch"])
    _, output_len, _ = _lengths(row)
    if row["metric"] in ("ttft_ms", "decode_step_ms"):
        return value / 1e3
    if row["metric"] == "decode_tokens_per_s":  # per sequence: output_len / time
        return output_len / value
    if row["metric"] == "output_tokens_per_s":  # all sequences: batch x output_len / time
        return batch * output_len / value
    if row["metric"] == "output_tokens_per_s_per_gpu":  # the same over the group's GPUs
        return batch * output_len / (value * _tensor_parallel(row))
    raise InvalidParameter(f"{row['id']}: metric {row['metric']!r} is not one of {METRICS}")


def runtime_of(row: dict) -> str | None:
    """The serving runtime whose measured non-GEMM kernels the calibrated prediction adds
    (``symsys.calibration.runtimes``), or None where none was measured for the row's engine."""
    return row.get("runtime") or None


def predicted_seconds(row: dict, efficiency, runtime=None) -> tuple[float, bool]:
    """(seconds of the request under ``efficiency`` and ``runtime``, whether every step fits
    in memory): the serving model's prefill (TTFT) or its whole request (the decode steps
    summed in closed form); one decode step after ``input_len`` cached tokens for
    ``decode_step_ms``."""
    input_len, output_len, _ = _lengths(row)
    common = dict(batch_size=int(row["batch"]), precision=row["precision"],
                  weight_precision=row["weight_precision"], kv_precision=row["kv_precision"],
                  efficiency=efficiency, runtime=runtime)
    if _tensor_parallel(row) > 1:  # a group of the system's devices, over its fast domain
        common["tensor_parallel"] = _tensor_parallel(row)
    hardware = row.get("registry_system") or row["registry_device"]
    if row["metric"] == "decode_step_ms":
        from symsys.solvers.inference import Engine

        step = Engine.solve(row["registry_model"], hardware, phase="decode",
                            seq_len=input_len, **common)
        return step.latency.m_as("s"), step.feasible
    served = ServingModel().solve(
        row["registry_model"], hardware, prompt_len=input_len,
        output_len=1 if row["metric"] == "ttft_ms" else output_len, **common)
    return served.e2e_latency.m_as("s"), served.feasible


def calibrated_profile(row: dict):
    """The profile :func:`profile_for` gives the row (its rules applied), or the error text."""
    try:
        return profile_for(row["registry_device"], row["precision"],
                           weight_precision=row["weight_precision"]), None
    except InvalidParameter as exc:
        return None, str(exc)


def group_of(row: dict) -> str:
    """GPU and precision, e.g. 'A100 bf16 + int8 weights'."""
    label = f"{row['registry_device']} {row['precision']}"
    if _tensor_parallel(row) > 1:
        label = f"{row['registry_system']} TP{_tensor_parallel(row)} {row['precision']}"
    if row["weight_precision"] != row["precision"]:
        label += f" + {row['weight_precision']} weights"
    if runtime_of(row):
        label += f", {runtime_of(row)} runtime"
    return label


def _stats(errors: list[float]) -> dict:
    magnitudes = [abs(e) for e in errors]
    if not magnitudes:
        return {"n": 0, "median": None, "max": None}
    return {"n": len(magnitudes), "median": statistics.median(magnitudes),
            "max": max(magnitudes)}


def report(path=MEASURED) -> dict:
    """Per row: measured, speed-of-light and calibrated seconds with the calibrated error and
    the profile used; per GPU and precision and overall: median/max absolute error of the
    held-out and of the fit rows; the rows without a calibrated prediction; bound violations.
    ``path``: the dataset (the single-GPU one by default)."""
    out = []
    for row in rows(path):
        measured = measured_seconds(row)
        bound, feasible = predicted_seconds(row, None)
        profile, why_not = calibrated_profile(row)
        calibrated = (None if profile is None
                      else predicted_seconds(row, profile, runtime_of(row))[0])
        input_len, output_len, assumed = _lengths(row)
        out.append({
            "id": row["id"], "engine": row["engine"], "source": row["source_url"],
            "group": group_of(row), "device": row["registry_device"],
            "model": row["registry_model"], "metric": row["metric"],
            "batch": int(row["batch"]), "input_len": input_len, "output_len": output_len,
            "lengths_assumed": assumed, "use": row["use"], "value": float(row["value"]),
            "unit": row["unit"], "measured_s": measured, "speed_of_light_s": bound,
            "bound_holds": bound <= measured, "fits_in_memory": feasible,
            "calibrated_s": calibrated,
            "calibrated_error": None if calibrated is None else calibrated / measured - 1,
            "profile": None if profile is None else profile.provenance,
            "no_profile": why_not,
        })
    scored = [r for r in out if r["calibrated_error"] is not None]
    groups = {}
    for r in scored:
        groups.setdefault(r["group"], {"held_out": [], "fit": []})[r["use"]].append(
            r["calibrated_error"])
    return {
        "source": str(path.relative_to(DATA.parent.parent)),
        "rows": out,
        "groups": {g: {use: _stats(errors) for use, errors in v.items()}
                   for g, v in sorted(groups.items())},
        "held_out": _stats([r["calibrated_error"] for r in scored if r["use"] == "held_out"]),
        "fit": _stats([r["calibrated_error"] for r in scored if r["use"] == "fit"]),
        "no_calibrated": [r["id"] for r in out if r["calibrated_error"] is None],
        "bound_violations": [r["id"] for r in out if not r["bound_holds"]],
        "targets": {"median": 0.15, "max": 0.35},
    }


def _pct(value) -> str:
    return "-" if value is None else f"{value:.1%}"


def render(data: dict) -> str:
    """The report as a text table."""
    from symsys.units import text_table

    lines = [f"measured: {data['source']} (sources per row in its README)",
             "error = calibrated / measured time - 1; speed of light must not exceed measured",
             ""]
    body = [[r["id"], r["use"], r["metric"], f"{r['value']:g} {r['unit']}",
             f"{r['measured_s'] * 1e3:.4g}", f"{r['speed_of_light_s'] * 1e3:.4g}",
             "-" if r["calibrated_s"] is None else f"{r['calibrated_s'] * 1e3:.4g}",
             "no profile" if r["calibrated_error"] is None else f"{r['calibrated_error']:+.1%}"]
            for r in data["rows"]]
    lines.append(text_table(["row", "use", "metric", "published", "measured ms",
                             "speed of light ms", "calibrated ms", "error"], body))
    lines += ["", "absolute error of calibrated predictions (median / max, n):"]
    for group, uses in data["groups"].items():
        parts = [f"{use} {_pct(s['median'])} / {_pct(s['max'])} (n={s['n']})"
                 for use, s in uses.items() if s["n"]]
        lines.append(f"  {group:28s} " + "; ".join(parts))
    held, target = data["held_out"], data["targets"]
    lines += [f"  all held-out rows            {_pct(held['median'])} / {_pct(held['max'])} "
              f"(n={held['n']}; target median <= {target['median']:.0%}, max <= "
              f"{target['max']:.0%})"]
    if data["no_calibrated"]:
        reasons = {r["id"]: r["no_profile"] for r in data["rows"] if r["no_profile"]}
        first = next(iter(reasons.values()))
        lines += ["", f"no calibrated prediction for {len(data['no_calibrated'])} row(s): "
                      + ", ".join(data["no_calibrated"]), f"  reason: {first}"]
    lines += ["", f"speed-of-light bound: {len(data['bound_violations'])} row(s) measured "
                  "faster than it" + "".join(f"\n  VIOLATION {v}"
                                             for v in data["bound_violations"])]
    return "\n".join(lines)


def markdown(data: dict) -> str:
    """The README's end-to-end table (between its accuracy-e2e markers)."""
    lines = ["| GPU and precision | rows held out | median | max | rows fit | median | max |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for group, uses in data["groups"].items():
        held, fit = uses.get("held_out", _stats([])), uses.get("fit", _stats([]))
        lines.append(f"| {group} | {held['n']} | {_pct(held['median'])} | {_pct(held['max'])} "
                     f"| {fit['n']} | {_pct(fit['median'])} | {_pct(fit['max'])} |")
    held = data["held_out"]
    lines.append(f"| all held out | {held['n']} | {_pct(held['median'])} | "
                 f"{_pct(held['max'])} |  |  |  |")
    return "\n".join(lines)
