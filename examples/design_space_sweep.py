"""Registry-wide design-space sweep: Llama-3-8B decode on every device, ranked per watt and
per dollar where the registry has the device's TDP or list price.

One vectorised ``symsys.sweep`` call evaluates every device x batch size; tokens/s per watt and
per dollar divide the solver's throughput by the registry's TDP and list price (each with its
source). Devices where the model does not fit are listed as such, never ranked.

    python examples/design_space_sweep.py --out DIR     # tables on stdout, CSV + figure in DIR
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: figures go to files

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import symsys  # noqa: E402
from symsys.show import banner, table  # noqa: E402
from symsys.viz import style  # noqa: E402

MODEL = "Llama3_8B"
BATCHES = [1, 16, 64, 256]
SEQ_LEN = 1024  # tokens of cached context per sequence: the K/V cache competes for memory


def run_sweep():
    """One sweep per precision: fp16 where the device has it, bf16 otherwise (TPUs)."""
    devices = list(symsys.Hardware)
    fp16 = [d for d in devices if "fp16" in d.compute.peak_dense]
    bf16 = [d for d in devices if d not in fp16 and "bf16" in d.compute.peak_dense]
    results = [symsys.sweep(model=MODEL, hardware=group, batch_size=BATCHES, seq_len=SEQ_LEN,
                            precision=p)
               for group, p in ((fp16, "fp16"), (bf16, "bf16")) if group]
    missing = [d.key for d in devices if d not in fp16 and d not in bf16]
    return results, missing


def rows_of(results) -> list[dict]:
    rows = []
    for result in results:
        for i in range(len(result)):
            hw = symsys.Hardware[result.hardware[i]]
            rows.append({
                "device": hw.key, "precision": result.precision[i],
                "batch_size": int(result.batch_size[i]),
                "latency_ms": float(result.latency[i].m_as("ms")),
                "tokens_per_s": float(result.throughput[i].magnitude),
                "bottleneck": result.bottleneck[i], "feasible": bool(result.feasible[i]),
                "tdp_w": float(hw.tdp.m_as("W")) if hw.tdp is not None else None,
                "price_usd": float(hw.price.list.m_as("USD")) if hw.price else None,
            })
    for row in rows:
        row["tokens_per_s_per_w"] = (row["tokens_per_s"] / row["tdp_w"]
                                     if row["tdp_w"] else None)
        row["tokens_per_s_per_usd"] = (row["tokens_per_s"] / row["price_usd"]
                                       if row["price_usd"] else None)
    return rows


def best_per_device(rows, metric: str) -> list[dict]:
    """Each device's best feasible batch by ``metric``, best device first."""
    best: dict[str, dict] = {}
    for row in rows:
        if not row["feasible"] or row[metric] is None:
            continue
        if row["device"] not in best or row[metric] > best[row["device"]][metric]:
            best[row["device"]] = row
    return sorted(best.values(), key=lambda r: -r[metric])


def report(rows, missing) -> None:
    devices = len({r["device"] for r in rows})
    banner(f"{MODEL} decode, {SEQ_LEN} tokens of context, on {devices} devices, "
           f"batch {BATCHES}")
    per_watt = best_per_device(rows, "tokens_per_s_per_w")
    table(["device", "precision", "batch", "tokens/s", "TDP (W)", "tokens/s per W",
           "bottleneck"],
          [[r["device"], r["precision"], r["batch_size"], r["tokens_per_s"], r["tdp_w"],
            r["tokens_per_s_per_w"], r["bottleneck"]] for r in per_watt[:12]])
    banner("per dollar (devices with a list price in the registry)")
    per_usd = best_per_device(rows, "tokens_per_s_per_usd")
    table(["device", "batch", "tokens/s", "price (USD)", "tokens/s per USD"],
          [[r["device"], r["batch_size"], r["tokens_per_s"], r["price_usd"],
            r["tokens_per_s_per_usd"]] for r in per_usd])
    if per_watt:
        print(f"best per watt: {per_watt[0]['device']} at batch {per_watt[0]['batch_size']}")
    if per_usd:
        print(f"best per dollar: {per_usd[0]['device']} at batch {per_usd[0]['batch_size']}")
    never = sorted({r["device"] for r in rows} - {r["device"] for r in rows if r["feasible"]})
    print(f"does not fit at any batch: {', '.join(never) or 'none'}")
    no_tdp = sorted({r["device"] for r in rows if r["tdp_w"] is None})
    print(f"no TDP in the registry (not ranked per watt): {', '.join(no_tdp) or 'none'}")
    if missing:
        print(f"no fp16/bf16 peak (not swept): {', '.join(missing)}")


def figure(rows, out: Path) -> Path:
    per_watt = best_per_device(rows, "tokens_per_s_per_w")[:15][::-1]
    fig, ax = plt.subplots(figsize=(7.5, 0.32 * len(per_watt) + 1.6), layout="constrained")
    values = np.array([r["tokens_per_s_per_w"] for r in per_watt])
    colours = [style.PALETTE[1] if r is per_watt[-1] else style.PALETTE[0] for r in per_watt]
    ax.barh(range(len(per_watt)), values, color=colours)
    ax.set_yticks(range(len(per_watt)),
                  [f"{r['device']} (b={r['batch_size']})" for r in per_watt], fontsize=8)
    for y, value in enumerate(values):
        ax.annotate(f"{value:.3g}", xy=(value, y), xytext=(3, 0), textcoords="offset points",
                    va="center", fontsize=7.5)
    ax.set_xlim(0, values.max() * 1.15)
    ax.set_xlabel("Decode throughput per watt of TDP (tokens/s/W), best feasible batch")
    ax.set_title(f"{MODEL} decode with {SEQ_LEN} tokens of context: the 15 most efficient "
                 "devices per watt", fontsize=10)
    ax.grid(True, axis="x", alpha=0.3)
    path = out / "tokens_per_watt.png"
    fig.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(fig)
    return path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output",
                        help="directory for the CSV and figure (default examples/output)")
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)
    results, missing = run_sweep()
    rows = rows_of(results)
    report(rows, missing)
    csv_path = out / "design_space.csv"
    with csv_path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {csv_path}")
    print(f"wrote {figure(rows, out)}")


if __name__ == "__main__":
    main()
