"""A procurement question end to end: serve Llama-3-70B to 1,000 concurrent users at 20 ms per
output token (the inter-token latency, ITL), each with 2,048 tokens of context. Which device,
split how many ways, how many of them, at what hourly bill, $ per million tokens and energy?

For every device with a sourced on-demand cloud price and every tensor-parallel degree that
fits in the instance the price is for (a tensor-parallel group needs the instance's fast link:
eight single-GPU rentals are not an NVLink domain), the batch that meets 20 ms is the decode
law solved for b in closed form (``SynthesisSolver``, lever batch_size, capacity respected);
the users are split over as many replicas as that batch needs, rented as whole instances;
``CostModel`` prices the step at that batch (the devices' price and power over the step's
rate). No grid search, no formula outside the laws.

    python examples/procurement.py --out DIR     # table on stdout, DIR/procurement.csv + .png
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

import symsys
from symsys import Q_, CostModel, SynthesisSolver
from symsys.errors import SymsysError
from symsys.show import banner, table

MODEL, USERS, CONTEXT, ITL = "Llama3_70B", 1000, 2048, Q_(20, "ms")
DEGREES = (1, 2, 4, 8)


def plan(device, tp: int) -> dict:
    """One deployment: the batch per replica that meets the ITL, replicas, bill, cost, energy."""
    options = dict(seq_len=CONTEXT, tensor_parallel=tp)
    need = SynthesisSolver().solve(MODEL, device, target=ITL, lever="batch_size", **options)
    if need.required is None or not need.achievable:
        return {"device": device.key, "tp": tp, "why_not": need.explanation}
    batch = min(USERS, math.floor(need.required))  # the largest whole batch within 20 ms
    if batch < 1:
        return {"device": device.key, "tp": tp, "why_not": "no whole batch meets 20 ms"}
    step = CostModel().solve(MODEL, device, batch_size=batch, **options)
    replicas = math.ceil(USERS / batch)
    rental = device.cloud_price
    instances = math.ceil(replicas * tp / rental.devices_per_instance)
    return {
        "device": device.key, "tp": tp, "batch": batch, "replicas": replicas,
        "instances": f"{instances} x {rental.instance}", "itl_ms": step.latency.m_as("ms"),
        "usd_per_hour": instances * rental.instance_hourly.m_as("USD/hour"),
        "usd_per_mtoken": step.cost_per_million_tokens.m_as("USD/Mtoken"),
        "j_per_token": step.energy_per_token.m_as("J/token"),
        "kw": replicas * step.power.m_as("kW"), "bound": step.bottleneck, "why_not": "",
    }


def plans() -> list[dict]:
    rows = []
    for device in symsys.Hardware:
        if device.cloud_price is None or device.tdp is None:
            continue
        for tp in DEGREES:
            if tp > device.cloud_price.devices_per_instance:
                rows.append({"device": device.key, "tp": tp, "why_not": (
                    f"the priced instance ({device.cloud_price.instance}) holds "
                    f"{device.cloud_price.devices_per_instance} device(s)")})
                continue
            try:
                rows.append(plan(device, tp))
            except SymsysError as exc:  # a degree the device's link or the heads do not allow
                rows.append({"device": device.key, "tp": tp, "why_not": str(exc)})
    return rows


def draw(rows: list[dict], path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for r in rows:
        ax.scatter(r["usd_per_mtoken"], r["j_per_token"], s=20 + 8 * r["tp"])
        ax.annotate(f"{r['device']} TP{r['tp']}", (r["usd_per_mtoken"], r["j_per_token"]),
                    fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set(xscale="log", yscale="log", xlabel="USD per million output tokens (on-demand)",
           ylabel="J per token (devices at TDP: an upper bound)",
           title=f"{MODEL}, {USERS} users at {ITL:~P} ITL, {CONTEXT}-token context")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("procurement_out"))
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    rows = plans()
    ok = sorted((r for r in rows if not r["why_not"]),
                key=lambda r: (r["usd_per_hour"], r["usd_per_mtoken"]))
    banner(f"{MODEL}: {USERS} users, {ITL:~P} per token, {CONTEXT}-token context")
    table(["device", "TP", "batch", "replicas", "rented", "ITL ms", "USD/hour", "USD/Mtok",
           "J/token", "kW", "bound"],
          [[r["device"], r["tp"], r["batch"], r["replicas"], r["instances"], r["itl_ms"],
            r["usd_per_hour"], r["usd_per_mtoken"], r["j_per_token"], r["kw"], r["bound"]]
           for r in ok])
    best = ok[0]
    print(f"\ncheapest: {best['replicas']} replica(s) of {best['device']} TP{best['tp']} "
          f"({best['instances']}, batch {best['batch']} each) at "
          f"{best['usd_per_hour']:.0f} USD/hour, {best['usd_per_mtoken']:.3g} USD per million "
          f"tokens, {best['j_per_token']:.3g} J/token")
    print(f"prices: the registry's on-demand list prices ({best['device']}: "
          f"{symsys.Hardware[best['device']].cloud_price.provider}, "
          f"{symsys.Hardware[best['device']].cloud_price.date}; symsys show DEVICE cites each)")
    print("speed-of-light bound: measured serving reaches a fraction of it, so budget the "
          "replicas up by the efficiency you calibrate (efficiency='calibrated').")
    skipped = [r for r in rows if r["why_not"]]
    print(f"\n{len(skipped)} device/degree pairs cannot serve it, e.g.:")
    for r in skipped[::max(1, len(skipped) // 6)][:6]:
        print(f"  {r['device']} TP{r['tp']}: {r['why_not'][:110]}")
    with open(out / "procurement.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(ok[0]))
        writer.writeheader()
        writer.writerows(ok)
    draw(ok, out / "procurement.png")
    print(f"\nwrote {out / 'procurement.csv'}")
    print(f"wrote {out / 'procurement.png'}")


if __name__ == "__main__":
    main()
