"""The Memory Wall (seed tutorial 01_memory_wall.qmd) end to end with symsys.

Why 3.2x more FLOP/s gives only ~1.6x speedup for Llama-3-8B decode: both GPUs are
memory-bound, so the speedup follows the bandwidth ratio. The code cells of the tutorial run
as written with ``symsys`` in place of ``mlsysim``; where the tutorial computes something by
hand (the ridge point), the law's value is printed beside it.

    python examples/memory_wall.py --out DIR     # tables on stdout, figures in DIR
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: figures go to files

import matplotlib.pyplot as plt  # noqa: E402

import symsys  # noqa: E402
from symsys import Engine  # noqa: E402
from symsys.show import banner, table  # noqa: E402
from symsys.viz.plots import plot_roofline, plot_sweep  # noqa: E402


def side_by_side(a100, h100):
    """Section 2 of the tutorial: the two specs that matter."""
    banner("2. Side-by-side hardware comparison")
    flops_a = a100.compute.peak_flops.to("TFLOPs/s").magnitude
    flops_h = h100.compute.peak_flops.to("TFLOPs/s").magnitude
    bw_a = a100.memory.bandwidth.to("TB/s").magnitude
    bw_h = h100.memory.bandwidth.to("TB/s").magnitude
    table(
        ["Spec", "A100", "H100", "Ratio"],
        [
            ["Peak FP16 (TFLOP/s)", flops_a, flops_h, f"{flops_h/flops_a:.1f}x"],
            ["HBM BW (TB/s)", bw_a, bw_h, f"{bw_h/bw_a:.1f}x"],
            ["Ridge (FLOP/byte)", flops_a*1e12/(bw_a*1e12), flops_h*1e12/(bw_h*1e12), ""]
        ]
    )
    # the tutorial divides by hand; the roofline law's solved ridge point agrees
    print(f"ridge point from the law: A100 {a100.ridge_point('fp16'):.4g~P}, "
          f"H100 {h100.ridge_point('fp16'):.4g~P}")


def the_fallacy(model, a100, h100):
    """Section 3: Llama-3 8B decode at batch 1 on both GPUs."""
    banner("3. The fallacy: LLM inference speedup")
    prof_a100 = Engine.solve(model=model, hardware=a100, batch_size=1, precision="fp16")
    prof_h100 = Engine.solve(model=model, hardware=h100, batch_size=1, precision="fp16")
    lat_a = prof_a100.latency.to("ms").magnitude
    lat_h = prof_h100.latency.to("ms").magnitude
    speedup = lat_a / lat_h
    table(
        ["", "A100", "H100", "Speedup"],
        [
            ["Bottleneck", prof_a100.bottleneck, prof_h100.bottleneck, ""],
            ["Latency", lat_a * symsys.ureg.ms, lat_h * symsys.ureg.ms, f"{speedup:.1f}x"],
            ["Throughput", prof_a100.throughput, prof_h100.throughput, ""]
        ]
    )
    bandwidth_ratio = (h100.memory.bandwidth / a100.memory.bandwidth).m_as("")
    print(f"speedup {speedup:.3f}x = bandwidth ratio {bandwidth_ratio:.3f}x "
          f"(weights read per step: {prof_h100.weight_bytes.to('GB'):.4g~P})")


def crossover(model, a100, h100):
    """Section 4 and exercise 2: where does the FLOP/s advantage start to matter?"""
    banner("4. The batch size crossover")
    rows = []
    for batch in [1, 4, 16, 32, 64, 128, 256]:
        pa = Engine.solve(model=model, hardware=a100, batch_size=batch, precision="fp16")
        ph = Engine.solve(model=model, hardware=h100, batch_size=batch, precision="fp16")
        la = pa.latency.to("ms").magnitude
        lh = ph.latency.to("ms").magnitude
        sp = la / lh if lh > 0 else 0
        rows.append([batch, pa.bottleneck, ph.bottleneck, f"{sp:.1f}x"])
    table(["Batch", "A100 Bottleneck", "H100 Bottleneck", "Speedup"], rows)
    for hw in (a100, h100):
        first = Engine.solve(model=model, hardware=hw, batch_size=1).crossover_batch
        print(f"{hw.key}: first compute-bound batch (closed form) = {first}")


def procurement(model):
    """Section 5: three generations."""
    banner("5. The procurement table: three generations")
    gpus = [
        ("V100", symsys.Hardware.Cloud.V100),
        ("A100", symsys.Hardware.Cloud.A100),
        ("H100", symsys.Hardware.Cloud.H100),
    ]
    rows = []
    for name, hw in gpus:
        p = Engine.solve(model=model, hardware=hw, batch_size=1, precision="fp16")
        flops = hw.compute.peak_flops.to("TFLOPs/s").magnitude
        bw = hw.memory.bandwidth.to("TB/s").magnitude
        ridge = flops * 1e12 / (bw * 1e12)
        rows.append([name, flops, bw, ridge, p.latency, p.bottleneck])
    table(["GPU", "TFLOP/s", "BW (TB/s)", "Ridge", "Latency", "Bottleneck"], rows)


def exercise_b200(model, h100):
    """Exercise 1: H100 -> B200 at batch 1."""
    banner("Exercise 1: H100 -> B200")
    b200 = symsys.Hardware.Cloud.B200
    p_h = Engine.solve(model=model, hardware=h100, batch_size=1, precision="fp16")
    p_b = Engine.solve(model=model, hardware=b200, batch_size=1, precision="fp16")
    print(f"B200 {p_b.latency.to('ms'):.4g~P} ({p_b.bottleneck}) vs H100 "
          f"{p_h.latency.to('ms'):.4g~P}: {(p_h.latency / p_b.latency).m_as(''):.2f}x")


def figures(model, a100, h100, out: Path) -> list[Path]:
    """The tutorial's roofline (its exact call), plus the crossover story in two figures."""
    written = []
    fig, ax = plot_roofline(h100, workloads=[model])
    written.append(out / "roofline_h100.png")
    fig.savefig(written[-1], dpi=150, bbox_inches="tight")
    batches = [1, 4, 16, 64, 256, 1024]
    fig, ax = plot_roofline([a100, h100], workloads=[model], batch_sizes=batches)
    written.append(out / "roofline_a100_h100.png")
    fig.savefig(written[-1], dpi=150, bbox_inches="tight")
    fig, axes = plot_sweep(model, [a100, h100], batch_sizes=[2**k for k in range(11)])
    written.append(out / "sweep_a100_h100.png")
    fig.savefig(written[-1], dpi=150, bbox_inches="tight")
    plt.close("all")
    return written


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output",
                        help="directory for the figures (default examples/output)")
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)

    a100 = symsys.Hardware.Cloud.A100
    h100 = symsys.Hardware.Cloud.H100
    model = symsys.Models.Llama3_8B
    side_by_side(a100, h100)
    the_fallacy(model, a100, h100)
    crossover(model, a100, h100)
    procurement(model)
    exercise_b200(model, h100)
    for path in figures(model, a100, h100, out):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
