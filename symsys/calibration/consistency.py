"""Are fitted efficiencies physical? Compare them with independent microbenchmarks.

A fitted eta_m times the spec bandwidth is a sustained bandwidth: it should sit near what
BabelStream sustains on the same GPU. A fitted eta_c times the spec peak is a sustained GEMM
throughput: below what cuBLASLt reaches on large square GEMMs (the linear layers are smaller
and skinnier), above what it reaches on small ones. The table of measured values ships in
``registry/data/measured/microbenchmarks.csv`` with the source of every row.
"""

from __future__ import annotations

import csv

from symsys.calibration.measurements import MICROBENCHMARKS
from symsys.registry.hardware import Hardware


def microbenchmarks() -> list[dict]:
    """Rows of the shipped microbenchmark table, with the device resolved to a Hardware key."""
    with MICROBENCHMARKS.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["device"] = Hardware[row["gpu"]].key if row["gpu"] in Hardware else row["gpu"]
    return rows


def consistency(profile) -> list[dict]:
    """Fitted sustained bandwidth / throughput of ``profile`` against each microbenchmark.

    Each row: the benchmark, the fitted and the measured value (TB/s or TFLOP/s), their
    ratio, and the benchmark's source. GEMM rows at another precision compare efficiencies
    (achieved / that precision's peak) instead, and say so.
    """
    hardware = Hardware[profile.device]
    bandwidth = profile.eta_m * hardware.memory.bandwidth.m_as("TB/s")
    rows = []
    for bench in microbenchmarks():
        if bench["device"] != hardware.key:
            continue
        measured = float(bench["value"])
        if bench["benchmark"].startswith("babelstream"):
            fitted, unit = bandwidth, "TB/s"
        elif bench["precision"] == profile.precision:
            fitted, unit = profile.eta_c * hardware.compute.peak(profile.precision).m_as(
                "TFLOP/s"), "TFLOP/s"
        else:  # another precision: compare achieved fractions of each precision's peak
            peak = hardware.compute.peak(bench["precision"]).m_as("TFLOP/s")
            fitted, measured, unit = profile.eta_c, measured / peak, "of peak"
        rows.append({"benchmark": bench["benchmark"], "precision": bench["precision"],
                     "size": bench["size"], "fitted": fitted, "measured": measured,
                     "unit": unit, "ratio": fitted / measured, "source": bench["source"]})
    return rows


def decode_bandwidth(measurements) -> dict:
    """Sustained bandwidth seen by decode-sized GEMMs (M <= 16 rows) alone.

    These kernels are far below the ridge, so the roofline fitted to them is its memory
    branch, ``t_o + Q / (eta_m beta)``: an estimate of bandwidth from the kernels themselves
    that does not trade off against the compute side of the fit.
    """
    from symsys.calibration.fit import calibrate

    subset = measurements.select(measurements.m <= 16)
    profile = calibrate(subset, law="roofline")
    bandwidth = profile.eta_m * Hardware[profile.device].memory.bandwidth.m_as("TB/s")
    return {"n": len(subset), "bandwidth_TBps": bandwidth,
            "t_o_us": profile.t_o * 1e6}
