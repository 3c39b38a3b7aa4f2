"""The printed report of a run, section by section: symsys figures, sweeps, cold CLI per command,
side by side, agreement, cold CLI breakdown, targets."""

from __future__ import annotations

from _common import HARDWARE_KEY, MODEL_KEY
from report_compare import agreement_report, side_by_side
from tables import fmt_si, table


def _header(meta: dict) -> str:
    after = meta.get("loadavg_after")
    cpu = f" ({meta['cpu_model']})" if meta.get("cpu_model") else ""
    took = f"  |  {meta['run_seconds'] / 60:.1f} min" if meta.get("run_seconds") else ""
    return (
        f"symsys {meta['symsys_version']} benchmarks  |  {meta['python']} on {meta['machine']}, "
        f"{meta['cpus']} CPUs{cpu}  |  numpy {meta['numpy']}, sympy {meta['sympy']}, pint "
        f"{meta['pint']}, dask {meta.get('dask')}  |  load avg "
        f"{meta['loadavg_before'][0]:.2f} -> {after[0] if after else float('nan'):.2f}  |  "
        f"{'QUICK sizes' if meta['quick'] else 'full'}{took}  |  git {meta['git']}  |  "
        f"{meta['timestamp']}")


def _symsys_table(s: dict) -> str:
    rows = []

    def add(label, key, unit, scale=1.0):
        stats = s.get(key)
        if stats is None:
            return
        rows.append([label, fmt_si(stats["median"] * scale, unit),
                     f"{fmt_si(stats['min'] * scale, unit)} .. "
                     f"{fmt_si(stats['max'] * scale, unit)}",
                     fmt_si(stats["cpu_median"] * scale, unit) if "cpu_median" in stats else "-",
                     len(stats["runs"])])

    add("python -c pass (interpreter start)", "python_startup_s", "s")
    add("import symsys", "import_s", "s")
    add("import symsys; symsys.Engine (first solver import)", "engine_import_s", "s")
    add(f"cold CLI: python -m symsys solve {MODEL_KEY} {HARDWARE_KEY}", "cold_cli_s", "s")
    add("cold CLI, empty kernel cache (first run after install)", "cold_cli_empty_cache_s", "s")
    add("Engine.solve (result, Quantities built lazily)", "solve_s", "us", scale=1e6)
    add("Engine.solve(...).latency (a Quantity)", "solve_quantity_s", "us", scale=1e6)
    add(f"SensitivitySolver().solve: {len(s['sensitivity_result']['levers'])} levers, exact",
        "sensitivities_s", "us", scale=1e6)
    if "roofline" in s:
        r = s["roofline"]
        for label, key, rate in (
                (f"compiled roofline T, {r['points']:.0e} points", "compiled_T_s",
                 "roofline_points_per_s"),
                (f"symsys.evaluate('roofline'), {r['points']:.0e} Quantity points, all "
                 "outputs + regime", "evaluate_s", "evaluate_points_per_s"),
                (f"symsys.sweep(..., columns=['latency']), {r['points']:.0e} decode configs",
                 "sweep_latency_s", "sweep_latency_configs_per_s")):
            if key not in r:
                continue
            t = r[key]
            rows.append([label, fmt_si(r[rate], "points/s"),
                         f"{fmt_si(t['median'], 's')} per call",
                         fmt_si(r["points"] / t["cpu_median"], "points/s"), len(t["runs"])])
    return table(["figure", "wall median", "range", "CPU median", "runs"], rows, "symsys")


def _sweep_table(s: dict) -> str:
    sweep = s.get("sweep", {})
    memory = s.get("sweep_memory", {})
    rows = []
    for key, v in sweep.items():
        m = memory.get(key, {})
        rows.append([f"{v['configurations']:.0e}", fmt_si(v["seconds"]["median"], "s"),
                     fmt_si(v["configs_per_s"], "configs/s"),
                     fmt_si(v["configs_per_cpu_s"], "configs/s"), f"{v['ns_per_config']:.0f}",
                     fmt_si(m.get("configs_per_s"), "configs/s") if m else "-",
                     fmt_si(m.get("tracemalloc_peak_bytes"), "B") if m else "-",
                     f"{m['peak_bytes_per_config']:.0f}" if m else "-",
                     fmt_si(m.get("rss_growth_bytes"), "B") if m else "-"])
    for key, m in memory.items():
        if key in sweep or key == "linear":
            continue
        rows.append([f"{m['configurations']:.0e}", "-", "-", "-", "-",
                     fmt_si(m["configs_per_s"], "configs/s"),
                     fmt_si(m["tracemalloc_peak_bytes"], "B"),
                     f"{m['peak_bytes_per_config']:.0f}", fmt_si(m["rss_growth_bytes"], "B")])
    c = s.get("chunked")
    if c:
        rows.append([f"{c['configurations']:.0e} chunked by {c['chunk_size']:.0e}", "-", "-", "-",
                     f"{c['seconds'] / c['configurations'] * 1e9:.0f}",
                     fmt_si(c["configs_per_s"], "configs/s"),
                     fmt_si(c["tracemalloc_peak_bytes"], "B"),
                     f"{c['tracemalloc_peak_bytes'] / c['configurations']:.1f}",
                     fmt_si(c["rss_growth_bytes"], "B")])
    return table(
        ["configs", "warm median", "warm configs/s", "per CPU s", "ns/config",
         "fresh-process configs/s",
         "peak (tracemalloc)", "B/config", "peak RSS growth"], rows,
        f"symsys.sweep(model={MODEL_KEY}, hardware={HARDWARE_KEY}, batch_size=1..n)")


def _chunked_line(c: dict) -> str:
    red = c["reduced"]
    return (
        f"chunked run: {red['configurations']:,} configurations in {red['chunks']} chunks, "
        f"{c['seconds']:.1f} s; best feasible throughput {red['max_throughput']:.4g} "
        f"{red['throughput_unit']} at batch {red['max_throughput_batch']}, "
        f"{red['feasible']:,} feasible; first compute-bound batch "
        f"{red['first_compute_bound_batch']} (closed-form crossover "
        f"{c['crossover_batch_closed_form']}: "
        f"{'matches' if c['crossover_matches'] else 'DIFFERS'})")


def explore_table(e: dict) -> str:
    rows = []
    for label, run in (("numpy, chunked (1 core)", e["numpy"]),
                       (f"Dask, local cluster ({e['dask'].get('workers', 2)} workers)",
                        e["dask"])):
        rows.append([label, f"{run['configurations']:.0e}", f"{run['blocks']:,}",
                     fmt_si(run["seconds"], "s"), fmt_si(run["cpu_seconds"], "s"),
                     fmt_si(run["configs_per_s"], "configs/s"),
                     fmt_si(run["peak_rss_bytes"], "B"), run["pareto_points"]])
    text = table(["path", "configs", "chunks", "wall", "CPU", "configs/s", "peak RSS",
                  "Pareto points"], rows,
                 "design space: best throughput per model + Pareto(latency, throughput), "
                 "feasible rows")
    best = "; ".join(f"{b['model']} {b['throughput']:.4g} tokens/s at batch {b['batch_size']}, "
                     f"{b['bandwidth_TBps']:.3g} TB/s, {b['capacity_GiB']:.4g} GiB"
                     for b in e["dask"]["best"])
    return (text + "\ngrid: Llama3_8B, Llama3_70B x H100 x 1000 bandwidths (1-10 TB/s) x 100 "
            "capacities (16-512 GiB) x batch 1..B, decode, speed of light"
            + f"\nDask best per model: {best}\nDask answer on the numpy run's "
            f"{e['numpy']['configurations']:.0e} grid equals the numpy answer: "
            f"{'yes' if e['subset_equal'] else 'NO'}")


def cold_cli_table(s: dict) -> str:
    """Cold start per CLI command (and the cold SensitivitySolver from Python), each beside
    its ratio to a cold ``symsys solve`` from the same rounds."""
    cold = s["cold_cli_commands"]
    entries = list(cold["commands"])
    if s.get("cold_sensitivity_solver"):
        entries.append(s["cold_sensitivity_solver"])
    rows, failures = [], []
    for e in entries:
        if "seconds" not in e:
            rows.append([e["command"], "failed", "-", "-", "-", "-", 0])
            failures.append(f"{e['command']}: {e['status']}")
            continue
        t = e["seconds"]
        sympy = {True: "yes", False: "no", None: "?"}[e.get("imports_sympy")]
        if e.get("sympy_import_s") is not None:
            sympy += f" ({fmt_si(e['sympy_import_s'], 's')})"
        rows.append([e["command"], fmt_si(t["median"], "s"), fmt_si(t.get("cpu_median"), "s"),
                     fmt_si(e.get("ratio"), "ratio"), fmt_si(e.get("cpu_ratio"), "ratio"),
                     sympy, len(t["runs"])])
    return (table(["command (fresh process each run)", "wall median", "CPU median",
                   "ratio", "CPU ratio", "sympy imported", "runs"], rows,
                  "cold CLI per command")
            + f"\nratio = median / {cold['reference']}, run round-robin in the same rounds; "
            f"sympy imported: {cold['sympy_check']}"
            + "".join(f"\n{line}" for line in failures))


def _cli_sections(br: dict) -> dict:
    parts = {}
    ph = br["phases"]
    loaded = ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in ph["loaded"].items())
    rows = [[p["phase"], f"{p['seconds'] * 1e3:.0f} ms"] for p in ph["phases"]]
    rows.append(["total, probe start -> first answer", f"{ph['total_s'] * 1e3:.0f} ms"])
    parts["cli_breakdown"] = (table(["symsys solve in one fresh process", "time"], rows,
                                    "cold CLI breakdown") + f"\nloaded by the answer: {loaded}")
    pk = br["importtime_by_package"]
    rows = [[r["package"], f"{r['self_s'] * 1e3:.0f} ms",
             f"{r['self_s'] / br['importtime_total_s']:.0%}"] for r in pk[:10]]
    parts["cli_imports"] = table(
        ["package (-X importtime self time, summed)", "import", "share"], rows,
        f"cold CLI imports: {br['importtime_total_s'] * 1e3:.0f} ms in all")
    if "profile" in br:
        prof = br["profile"]
        rows = [[r["label"], f"{r['cumulative_s'] * 1e3:.0f} ms", f"{r['share']:.0%}"]
                for r in prof["rows"] if r["cumulative_s"] > 0]
        rows += [[f"own time: {r['function']}", f"{r['own_s'] * 1e3:.0f} ms",
                  f"{r['own_s'] / prof['profiled_total_s']:.0%}"]
                 for r in prof["top_own_time"][:6]]
        parts["cli_profile"] = (table(
            ["function (cProfile of cli.main; cumulative rows overlap)", "profiled",
             "share"], rows,
            f"cold CLI profile (profiled total {prof['profiled_total_s']:.2f} s; cProfile "
            "inflates)"))
    return parts


def _targets_table(targets: list[dict]) -> str:
    rows = [[t["target"], fmt_si(t["value"], t["unit"]), t["status"],
             fmt_si(t.get("cpu_value"), t["unit"]), t.get("cpu_status", "-")]
            for t in targets]
    return table(["target (2-core machine)", "wall median", "status", "CPU median",
                  "on CPU time"], rows, "targets (status is on wall-clock time)")


def report_sections(results: dict) -> dict:
    """The printed report, section by section (name -> text)."""
    s = results["symsys"]
    parts = {"header": _header(results["meta"]), "symsys": _symsys_table(s),
             "sweep": _sweep_table(s)}
    if s.get("chunked"):
        parts["chunked"] = _chunked_line(s["chunked"])
    if s.get("tp_sweep"):
        from measure_tp_sweep import tp_sweep_table

        parts["tp_sweep"] = tp_sweep_table(s["tp_sweep"])
    if s.get("explore"):
        parts["explore"] = explore_table(s["explore"])
    if s.get("scale"):
        from measure_scale import scale_table

        parts["scale"] = scale_table(s["scale"])
    if s.get("cold_cli_commands"):
        parts["cold_cli"] = cold_cli_table(s)
    parts["side_by_side"] = side_by_side(results)
    if "agreement" in results:
        parts["agreement"] = agreement_report(results["agreement"])
    if s.get("cli_breakdown"):
        parts.update(_cli_sections(s["cli_breakdown"]))
    parts["targets"] = _targets_table(results["targets"])
    return parts


def report(results: dict) -> str:
    return "\n\n".join(report_sections(results).values())
