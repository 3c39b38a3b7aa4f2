"""Fitting the training profiles (:mod:`symsys.calibration.training_profile`) on measured
training runs, through the training law itself, and the README's table of them.

Measurements: ``registry/data/measured/training/h100_llm_foundry.csv`` (MosaicML llm-foundry's
published MPT runs on H100, FSDP, moved out of the blind set; sources and conditions in its
README). Rows marked ``holdout`` are not fitted and were looked at while choosing the recipe
("used in development"); ``excluded`` rows need more devices than any registry system has.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from symsys.calibration.prediction import error_stats
from symsys.calibration.training_profile import (
    TrainingProfile,
    shipped_path,
    training_profile_for,
)
from symsys.errors import InvalidParameter
from symsys.registry.common import DATA

MEASURED = DATA / "measured" / "training" / "h100_llm_foundry.csv"
#: the precision column of the measurements, as the solvers name it
PRECISIONS = {"bf16 (amp_bf16)": "bf16", "fp8 (amp_fp8, Transformer Engine)": "fp8"}
#: FSDP's sharding strategies as ZeRO stages (PyTorch FSDP docs: FULL_SHARD shards
#: parameters, gradients and optimizer states; SHARD_GRAD_OP gradients and optimizer states)
SHARDING = {"FSDP FULL_SHARD": 3, "FSDP SHARD_GRAD_OP": 2}
RECOMPUTE = {"activation checkpointing (full)": "full", "none": "none"}


# --- measurements ---------------------------------------------------------------------------
def rows(path=MEASURED) -> list[dict]:
    """The measured runs, with the step time each implies (s): global batch x sequence length
    tokens over the per-device throughput times the devices."""
    with Path(path).open() as handle:
        out = list(csv.DictReader(handle))
    for row in out:
        for name in ("gpus", "global_batch_sequences", "micro_batch", "seq_len", "layers",
                     "d_model", "heads", "vocab"):
            row[name] = int(row[name])
        row["precision_key"] = PRECISIONS[row["precision"]]
        tokens = row["global_batch_sequences"] * row["seq_len"]
        row["step_s"] = tokens / (float(row["tokens_per_sec_per_gpu"]) * row["gpus"])
    return out


def model_of(row: dict):
    """The run's model: MPT is a GPT-2-shaped decoder (multi-head attention, a 4 d MLP without
    a gate, LayerNorm), read through the GPT-2 config reader (``registry.hf``); its ALiBi
    positions instead of GPT-2's learned ones add no FLOPs the law counts."""
    from symsys.registry.models import from_hf_config

    config = {"model_type": "gpt2", "n_layer": row["layers"], "n_embd": row["d_model"],
              "n_head": row["heads"], "vocab_size": row["vocab"], "n_positions": row["seq_len"]}
    return from_hf_config(config, key=row["model"].replace("-", "_"), name=row["model"])


def system_of(row: dict) -> str:
    """The smallest registry system of H100 nodes that holds the run: a DGX H100 (8 GPUs, the
    NVSwitch domain FSDP reduces over) or the SuperPOD scalable unit (up to 256)."""
    if row["gpus"] <= 8:
        return "DGX_H100"
    if row["gpus"] <= 256:
        return "DGX_H100_SU"
    raise InvalidParameter(f"{row['model']} on {row['gpus']} GPUs: no registry system of H100 "
                           "nodes is that large (DGX_H100_SU has 256)")


def predict(row: dict, eta_c: float, eta_m: float) -> float:
    """The training law's step time (s) of ``row`` at efficiencies (eta_c, eta_m). FSDP
    overlaps its gradient reduction and parameter prefetch with compute (its backward and
    forward prefetch): the data-parallel all-reduce is overlapped."""
    from symsys.solvers.training import TrainingModel

    result = TrainingModel().solve(
        model_of(row), system_of(row), global_batch_size=row["global_batch_sequences"],
        seq_len=row["seq_len"], data_parallel=row["gpus"], microbatch_size=row["micro_batch"],
        recompute=RECOMPUTE[row["recompute"]], zero_stage=SHARDING[row["fsdp_or_zero"]],
        precision=row["precision_key"], efficiency=(eta_c, eta_m), overlap_grad_reduce=True)
    return result.latency.m_as("s")


def _log_errors(subset, eta_c, eta_m) -> np.ndarray:
    return np.array([math.log(predict(r, eta_c, eta_m) / r["step_s"]) for r in subset])


def _golden(cost, low, high, tolerance=1e-6) -> float:
    """The minimum of a unimodal ``cost`` on [low, high] by golden-section search."""
    ratio = (math.sqrt(5) - 1) / 2
    a, b = low, high
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = cost(c), cost(d)
    while b - a > tolerance:
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = cost(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = cost(d)
    return (a + b) / 2


def fit_training(device: str = "H100", precision: str = "bf16", path=MEASURED
                 ) -> TrainingProfile:
    """Fit ``eta_c`` of ``device`` at ``precision`` on the measured runs (``fit`` rows);
    ``eta_m`` is the kernel profile's."""
    from symsys.calibration import profile_for

    selected = [r for r in rows(path) if r["precision_key"] == precision
                and r["split"] != "excluded"]
    fitted = [r for r in selected if r["split"] == "fit"]
    held = [r for r in selected if r["split"] == "holdout"]
    if not fitted:
        raise InvalidParameter(f"no fitted training rows at precision={precision!r} in "
                               f"{Path(path).name}")
    eta_m = profile_for(device, precision).eta_m

    def cost(log_eta):
        r = _log_errors(fitted, math.exp(log_eta), eta_m)
        return float(r @ r)

    eta_c = math.exp(_golden(cost, math.log(0.05), 0.0))
    stats = {name: {k: (int(v) if k == "n" else float(v)) for k, v in
                    error_stats(np.expm1(_log_errors(subset, eta_c, eta_m))).items()}
             for name, subset in (("fit", fitted), ("holdout", held)) if subset}
    sources = sorted({r["url"] for r in selected})
    return TrainingProfile(
        device=device, precision=precision, eta_c=eta_c, eta_m=eta_m, n_fit=len(fitted),
        fit=stats["fit"], holdout=stats.get("holdout", {}),
        provenance=(f"fitted by symsys.calibration.training_profile.fit_training on "
                    f"{len(fitted)} runs of measured/training/{Path(path).name} "
                    f"({len(held)} held out, used in development): " + "; ".join(sources)
                    + f"; eta_m from the {device} {precision} kernel profile"))


def write_shipped(device: str = "H100", precisions=("bf16", "fp8")) -> list[Path]:
    """Refit and write the shipped training profiles (a maintainer's step)."""
    return [fit_training(device, p).save(shipped_path(device, p)) for p in precisions]


def readme_table(device: str = "H100", precisions=("bf16", "fp8")) -> str:
    """The README's table of the shipped training profiles, beside the error of the kernel
    profile they replace on the same runs (a test checks the README carries this text)."""
    from symsys.calibration import profile_for

    lines = [f"| {device} training profile | eta_c | kernel profile's error on these runs: "
             "median, worst | fitted runs: median, worst | held out (used in development): "
             "median, worst |", "| --- | --- | --- | --- | --- |"]
    for precision in precisions:
        p = training_profile_for(device, precision)
        kernel = profile_for(device, precision)
        runs = [r for r in rows() if r["precision_key"] == precision
                and r["split"] != "excluded"]
        before = error_stats(np.expm1(_log_errors(runs, kernel.eta_c, kernel.eta_m)))
        lines.append(f"| {precision} | {p.eta_c:.3f} | {before['n']}: {before['median']:.1%}, "
                     f"{before['max']:.1%} | {p.fit['n']}: {p.fit['median']:.1%}, "
                     f"{p.fit['max']:.1%} | {p.holdout['n']}: {p.holdout['median']:.1%}, "
                     f"{p.holdout['max']:.1%} |")
    return "\n".join(lines)
