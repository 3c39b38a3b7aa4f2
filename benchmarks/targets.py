"""The headline figures of a run and the targets they are checked against."""

from __future__ import annotations

from tables import fmt_si

#: name -> (description, comparison, threshold, unit); checked against ``figures``
TARGETS = {
    "import_s": ("import symsys", "<=", 1.0, "s"),
    "cold_cli_s": ("cold CLI: symsys solve Llama3_8B H100", "<=", 1.5, "s"),
    "solve_quantity_us": ("scalar Engine.solve returning Quantities", "<=", 50.0, "us"),
    "sensitivities_us": ("all sensitivities of one configuration", "<=", 100.0, "us"),
    "roofline_points_per_s": ("compiled roofline at 1e6 points", ">=", 3e7, "points/s"),
    "sweep_1e6_configs_per_s": ("symsys.sweep at 1e6 configurations", ">=", 1e7, "configs/s"),
    "sweep_1e6_latency_configs_per_s": ("decode-roofline sweep (latency) at 1e6", ">=", 3e7,
                                        "configs/s"),
    "tp_sweep_configs_per_s": ("symsys.sweep over (tensor_parallel, batch, context) at 1e6",
                               ">=", 1e7, "configs/s"),
    "tp8_over_single": ("tensor-parallel solve / single-device solve", "<=", 2.0, "ratio"),
    "ep8_over_single": ("expert-parallel solve / single-device solve", "<=", 2.0, "ratio"),
    "training_solve_us": ("one TrainingModel.solve", "<=", 100.0, "us"),
    "training_search_ms": ("every parallel configuration of 4096 devices", "<=", 50.0, "ms"),
}


def figures_of(results: dict) -> dict:
    """Flat name -> value of the headline figures (what the targets are checked on); each
    with a ``_cpu`` twin computed from CPU time instead of wall-clock time where measured."""
    s = results["symsys"]
    f = {}
    for key in ("import_s", "engine_import_s", "cold_cli_s", "cold_cli_empty_cache_s",
                "python_startup_s"):
        if key in s:
            f[key] = s[key]["median"]
            f[key + "_cpu"] = s[key].get("cpu_median")
    for key in ("solve", "solve_quantity", "sensitivities"):
        if f"{key}_s" in s:
            f[f"{key}_us"] = s[f"{key}_s"]["median"] * 1e6
            f[f"{key}_us_cpu"] = s[f"{key}_s"]["cpu_median"] * 1e6
    if "roofline" in s and s["roofline"]["points"] >= 10**6:
        r = s["roofline"]
        f["roofline_points_per_s"] = r["roofline_points_per_s"]
        f["roofline_points_per_s_cpu"] = r["points"] / r["compiled_T_s"]["cpu_median"]
    if "1000000" in s.get("sweep", {}):
        v = s["sweep"]["1000000"]
        f["sweep_1e6_configs_per_s"] = v["configs_per_s"]
        f["sweep_1e6_configs_per_s_cpu"] = v["configs_per_cpu_s"]
    tp = s.get("tp_sweep", {}).get("default_columns")
    if tp and tp["configurations"] >= 10**6 * 0.99:
        f["tp_sweep_configs_per_s"] = tp["configs_per_s"]
        f["tp_sweep_configs_per_s_cpu"] = tp["configs_per_cpu_s"]
    if "roofline" in s and "sweep_latency_s" in s["roofline"]:
        r = s["roofline"]
        f["sweep_1e6_latency_configs_per_s"] = r["sweep_latency_configs_per_s"]
        f["sweep_1e6_latency_configs_per_s_cpu"] = r["points"] / r["sweep_latency_s"]["cpu_median"]
    scale = s.get("scale")
    if scale:
        f["tp8_over_single"] = scale["tp8_over_single"]
        if "ep8_over_single" in scale:
            f["ep8_over_single"] = scale["ep8_over_single"]
        f["training_solve_us"] = scale["training_solve_s"]["median"] * 1e6
        f["training_solve_us_cpu"] = scale["training_solve_s"]["cpu_median"] * 1e6
        f["training_search_ms"] = scale["training_search_s"]["median"] * 1e3
        f["training_search_ms_cpu"] = scale["training_search_s"]["cpu_median"] * 1e3
    cold = s.get("cold_cli_commands", {}).get("commands", [])
    solver = s.get("cold_sensitivity_solver")
    for e in cold + ([solver] if solver else []):
        if "seconds" in e:
            f[f"cold_{e['key']}_s"] = e["seconds"]["median"]
            f[f"cold_{e['key']}_s_cpu"] = e["seconds"].get("cpu_median")
        if "ratio" in e:
            f[f"cold_{e['key']}_ratio"] = e["ratio"]
            f[f"cold_{e['key']}_ratio_cpu"] = e.get("cpu_ratio")
    return f


def _status(value, op, threshold):
    if value is None:
        return "n/a"
    return "PASS" if (value <= threshold if op == "<=" else value >= threshold) else "FAIL"


def check_targets(results: dict) -> list[dict]:
    f = figures_of(results)
    out = []
    for key, (label, op, threshold, unit) in TARGETS.items():
        value, cpu = f.get(key), f.get(key + "_cpu")
        out.append({"key": key, "target": f"{label} {op} {fmt_si(threshold, unit)}",
                    "value": value, "cpu_value": cpu, "unit": unit,
                    "status": _status(value, op, threshold),
                    "cpu_status": _status(cpu, op, threshold)})
    cold = results["symsys"].get("cold_cli_commands")
    if cold:
        reference, threshold = cold["reference"], cold["ratio_target"]
        for e in cold["commands"]:
            if e["command"] == reference:
                continue  # its own ratio is 1; its absolute target is cold_cli_s above
            value, cpu = f.get(f"cold_{e['key']}_ratio"), f.get(f"cold_{e['key']}_ratio_cpu")
            out.append({"key": f"cold_{e['key']}_ratio", "unit": "ratio",
                        "target": f"cold CLI {e['command']} <= {threshold:g}x {reference}",
                        "value": value, "cpu_value": cpu,
                        "status": _status(value, "<=", threshold),
                        "cpu_status": _status(cpu, "<=", threshold)})
    memory = results["symsys"].get("sweep_memory", {}).get("linear")
    if memory:
        out.append({"key": "memory_linear", "unit": "ratio",
                    "target": "sweep memory linear in configurations "
                              f"({memory['sizes_compared'][0]:.0e} -> "
                              f"{memory['sizes_compared'][1]:.0e}: bytes/config within "
                              "0.8-1.25x)",
                    "value": memory["ratio"], "status": "PASS" if memory["pass"] else "FAIL"})
    chunked = results["symsys"].get("chunked", {})
    if "bounded" in chunked:
        out.append({"key": "chunked_bounded", "unit": "ratio",
                    "target": f"chunked {chunked['configurations']:.0e}-config run peak <= 1.5x "
                              "one chunk's sweep peak",
                    "value": chunked["peak_vs_one_chunk_sweep"],
                    "status": "PASS" if chunked["bounded"] else "FAIL"})
    explore = results["symsys"].get("explore")
    if explore:
        dask = explore["dask"]
        out.append({"key": "explore_same_answer", "unit": "",
                    "target": f"Dask design-space answer = numpy's on the "
                              f"{explore['numpy']['configurations']:.0e} grid",
                    "value": None, "status": "PASS" if explore["subset_equal"] else "FAIL"})
        per_config = (results["symsys"].get("sweep_memory", {}).get("linear", {})
                      .get("peak_bytes_per_config", [None])[-1])
        whole = (f"; the grid would be ~{fmt_si(dask['configurations'] * per_config / 1e9)} GB"
                 f" at {per_config:.0f} B/config" if per_config else "")
        out.append({"key": "explore_bounded", "unit": "B",
                    "target": f"Dask {dask['configurations']:.0e}-config design space peak RSS "
                              f"<= 4 GiB (bounded{whole})",
                    "value": dask["peak_rss_bytes"],
                    "status": "PASS" if dask["peak_rss_bytes"] <= 4 * 2**30 else "FAIL"})
    return out
