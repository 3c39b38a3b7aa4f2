"""Maintainer tool: refresh the shipped measured data and calibration profiles.

    python tools/build_calibration_data.py --source PATH/vidur-linear-profiles \
        --microbenchmarks PATH/microbenchmarks.csv

writes a compact copy of the Vidur profiles (only the columns validation reads, medians to
6 significant digits) with its MIT license and provenance into
``registry/data/measured/vidur-linear/``, copies the microbenchmarks table, then fits every
calibration law on the compact copy (so a shipped profile and ``symsys validate`` see the
same numbers) and writes ``registry/data/calibration_<device>_fp16_<law>.json``; then fits the
GEMMs timed on the lent H200 (``registry/data/measured/h200/gemm.csv``, written by
``benchmarks/device/hopper_measure.py``) at bf16 and fp8; then fits the serving runtimes known
only from published requests (``symsys.accuracy.runtime_fit``) and writes
``registry/data/runtime_fits.json``.
The package never reads the source folder at run time. This script writes into the source
tree (data, its README, profiles), so it lives outside the installed package.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
from pathlib import Path

from symsys.calibration.fit import calibrate
from symsys.calibration.measurements import (
    H200_GEMMS,
    MICROBENCHMARKS,
    OPS,
    SHAPE_COLUMNS,
    SHIPPED,
    load_gemm_table,
    load_vidur,
)
from symsys.calibration.prediction import LAWS
from symsys.calibration.profile import shipped_path
from symsys.calibration.runtimes import FITS

ORIGIN = ("Vidur (microsoft/vidur, commit 7d47513), data/profiling/compute/<gpu>/<model>/mlp.csv, "
          "MIT license")

_README = """# Vidur linear-layer kernel profiles (compact copy)

{origin}.
Per-kernel fp16 times of the linear layers of decoder-only transformers on the A100 80GB SXM
(a100) and the H100 80GB SXM (h100); the license is in LICENSE beside this file.

Kept from each `<gpu>__<model>.csv`: the model shape columns, `num_tokens`,
`num_tensor_parallel_workers` and `time_stats.<op>.median` (milliseconds, 6 significant
digits) for the ops
{ops}.
Every other column (min, max, mean, std, the non-GEMM ops) was dropped. Written by
`python tools/build_calibration_data.py`; symsys validates and calibrates against it.
"""


def compact_copy(source: Path, target: Path = SHIPPED) -> list[Path]:
    """Copy the columns validation needs from every ``<gpu>__<model>.csv`` in ``source``."""
    target.mkdir(parents=True, exist_ok=True)
    columns = [*SHAPE_COLUMNS, *(f"time_stats.{op}.median" for op in OPS)]
    written = []
    for path in sorted(Path(source).glob("*__*.csv")):
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        out = target / path.name
        with out.open("w", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns)
            for row in rows:
                writer.writerow([row[c] if not c.startswith("time_stats")
                                 else f"{float(row[c]):.6g}" for c in columns])
        written.append(out)
    shutil.copyfile(Path(source) / "LICENSE", target / "LICENSE")
    (target / "README.md").write_text(_README.format(origin=ORIGIN, ops=", ".join(OPS)))
    return written


def fit_shipped(laws=tuple(LAWS)) -> list[Path]:
    """Fit every law on the shipped data and write the profiles."""
    written = []
    for key, measurements in load_vidur().items():
        models = ", ".join(measurements.models)
        for law in laws:
            profile = calibrate(measurements, law=law,
                                provenance=f"data: {ORIGIN}; models: {models}")
            written.append(profile.save(shipped_path(key, measurements.precision, law)))
    return written


def fit_device_runs(laws=tuple(LAWS)) -> list[Path]:
    """Fit every law on the GEMMs timed on the lent H200, bf16 and fp8, and write them."""
    written = []
    for precision in ("bf16", "fp8"):
        measurements = load_gemm_table(H200_GEMMS, "H200", precision)
        for law in laws:
            profile = calibrate(measurements, law=law,
                                provenance=f"data: {measurements.source}; {precision} GEMMs "
                                           "of Llama-2-7B, Llama-2-70B, Llama-3-8B and phi-2 "
                                           "at tensor-parallel splits 1-8")
            written.append(profile.save(shipped_path("H200", precision, law)))
    return written


def fit_runtimes() -> Path:
    """Fit every fitted runtime on its end-to-end rows and write ``runtime_fits.json``."""
    from symsys.accuracy.runtime_fit import fit_all

    FITS.write_text(json.dumps(fit_all(), indent=1, sort_keys=True) + "\n")
    return FITS


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, help="folder of the full Vidur CSVs")
    parser.add_argument("--microbenchmarks", type=Path, help="microbenchmarks.csv to ship")
    args = parser.parse_args(argv)
    if args.source:
        for path in compact_copy(args.source):
            print(f"wrote {path}")
    if args.microbenchmarks:
        shutil.copyfile(args.microbenchmarks, MICROBENCHMARKS)
        print(f"wrote {MICROBENCHMARKS}")
    for path in [*fit_shipped(), *fit_device_runs(), fit_runtimes()]:
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
