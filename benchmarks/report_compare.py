"""The side-by-side table (symsys beside mlsysim and llm-analysis) and the agreement report
(where the predicted latencies differ, term by term)."""

from __future__ import annotations

from tables import fmt_si, table

ALTERNATIVES = ("mlsysim", "llm-analysis")


def _ratio(stats: dict | None, prefix: str = "") -> str:
    return f"{stats[prefix + 'median']:.3g}x" if stats and prefix + "median" in stats else "-"


def side_by_side(results: dict) -> str:
    """symsys beside mlsysim and llm-analysis, from the run's ``compare`` section: every
    ratio the median of per-round ratios measured round-robin, with its spread."""
    from measure_compare import spread

    s, alt = results["symsys"], results["alternatives"]
    compare = results.get("compare") or {}
    imports = compare.get("imports") or {}
    inproc = compare.get("inprocess") or {}
    isec, psec = imports.get("seconds", {}), inproc.get("seconds", {})

    def med(stats, scale=1.0):
        return stats["median"] * scale if stats else None

    rows, cpu_notes = [], {name: [] for name in ALTERNATIVES}

    def row(label, mine, theirs: dict, ratios: dict, unit, short=None):
        cells = [label, fmt_si(mine, unit)]
        for name in ALTERNATIVES:
            a = alt.get(name, {})
            if a.get("status") != "ok":
                cells += [a.get("status", "not run"), "-", "-"]
            elif theirs.get(name) is None:
                cells += ["n/a", "-", "-"]
            else:
                stats = ratios.get(name)
                cells += [fmt_si(theirs[name], unit),
                          _ratio(stats) if stats else (f"{theirs[name] / mine:.3g}x"
                                                       if mine else "-"),
                          spread(stats)]
                if stats and "cpu_median" in stats:
                    cpu_notes[name].append(f"{short or label} {_ratio(stats, 'cpu_')}")
        rows.append(cells)

    irat, prat = imports.get("ratios", {}), inproc.get("ratios", {})
    row("import (fresh process)", med(isec.get("symsys")),
        {n: med(isec.get(n)) for n in ALTERNATIVES}, irat.get("import", {}), "s", "import")
    row("import incl. first solver (symsys.Engine)", med(isec.get("symsys_engine")),
        {n: med(isec.get(n)) for n in ALTERNATIVES}, irat.get("engine_import", {}), "s",
        "import incl. first solver")
    for figure, label, short in (
            ("solve", "scalar solve, Llama-3-8B decode b=1 H100 fp16", "scalar solve"),
            ("sensitivities", "all sensitivities of that configuration", "all sensitivities")):
        sec = psec.get(figure, {})
        row(label, med(sec.get("symsys"), 1e6), {n: med(sec.get(n), 1e6) for n in ALTERNATIVES},
            prat.get(figure, {}), "us", short)
    lat = {name: alt.get(name, {}).get("result", {}).get("latency_ms") for name in ALTERNATIVES}
    mine = s.get("case", {}).get("latency_ms")
    row("predicted decode latency", mine, lat, {}, "ms")
    title = ("side by side (ratio = other / symsys; >1 means symsys is faster, or for latency "
             "predicts less)")
    names = [f"{name} {alt.get(name, {}).get('version', '')}".strip() for name in ALTERNATIVES]
    text = table(["figure", "symsys", names[0], "ratio", "IQR", names[1], "ratio", "IQR"],
                 rows, title)
    notes = []
    if imports or inproc:
        several = {n for n, k in imports.get("runs_per_round", {}).items() if k > 1}
        shown = {"python": "python -c pass", "symsys": "import symsys",
                 "symsys_engine": "symsys.Engine"}
        medians = (f"; {', '.join(shown.get(n, n) for n in sorted(several))}: the median of "
                   f"{max(imports['runs_per_round'].values())} runs in each round"
                   if several else "")
        notes.append(
            f"ratio: median of the per-round ratios other / symsys, measured round-robin in "
            f"this run: imports {imports.get('rounds', 0)} rounds of fresh processes (after "
            f"one untimed run of each{medians}), in process {inproc.get('rounds', 0)} rounds "
            "in one process after warm-up; IQR: interquartile range of those per-round ratios")
    for name in ALTERNATIVES:
        if cpu_notes[name]:
            notes.append(f"CPU-time ratios (same rounds), {name}: "
                         + ", ".join(cpu_notes[name]))
    mls, lla = alt.get("mlsysim", {}), alt.get("llm-analysis", {})
    if mls.get("status") == "ok":
        sr = mls["sensitivity_result"]
        notes.append(f"mlsysim model: {mls['model_path']}; its SensitivitySolver: "
                     f"{len(sr['levers'])} levers ({', '.join(sr['levers'])}), {sr['method']}, "
                     f"binding {sr['binding']}")
    if s.get("sensitivity_result"):
        sr = s["sensitivity_result"]
        notes.append(f"symsys SensitivitySolver: {len(sr['levers'])} levers, {sr['method']}, "
                     f"binding {sr['binding']}")
    if lla.get("status") == "ok":
        notes.append("llm-analysis: LLMAnalysis(...).inference(batch_size_per_gpu=1, seq_len=1, "
                     "num_tokens_to_generate=1, use_kv_cache=False), efficiencies 1, logging "
                     "off; it has no sensitivity API")
    return text + ("\n" + "\n".join(notes) if notes else "")


def agreement_report(a: dict) -> str:
    rows = [[c["name"], f"{c['expected']:.6g} {c['unit']}", f"{c['got']:.6g} {c['unit']}",
             f"{c['relative_difference']:.2e}", "AGREE" if c["agree"] else "DIFFER"]
            for c in a["checks"]]
    text = table(["check", "expected", "got", "rel. diff", ""], rows,
                 "agreement: Llama-3-8B decode, batch 1, fp16, H100 (3.35 TB/s), no context")
    lines = [f"symsys {a['symsys_latency_ms']:.4f} ms reads {a['symsys_weight_read_GB']:.4f} GB:"
             f" every matmul weight incl. the LM head, and one {a['embedding_table_GB']:.4f} GB"
             " input-embedding row per token (a lookup, not a table read)."]
    m = a.get("mlsysim")
    if m:
        lines.append(
            f"mlsysim {m['latency_ms']:.4f} ms = {m['ratio_to_symsys']:.3f}x symsys: reads all "
            f"{m['parameters_used']:.4g} parameters incl. the whole embedding table "
            f"(x{m['embedding_table_factor']:.4f} -> {m['weights_only_ms']:.4f} ms, "
            f"= symsys all-weights {a['symsys_all_weights_ms']:.4f} ms), adds a 10%-of-weights"
            f"-per-sample activation heuristic (x{m['activation_traffic_factor']:.3f}) and "
            f"{m['overhead_ms']:.2f} ms of dispatch + per-layer tax; rebuilt from symsys: "
            f"{m['rebuilt_from_symsys_ms']:.4f} ms.")
    la = a.get("llm-analysis")
    if la:
        lines.append(
            f"llm-analysis {la['latency_ms']:.4f} ms = {la['ratio_to_symsys']:.4f}x symsys: it "
            "reads the whole input-embedding table but not the LM head (computed only), the "
            "same bytes for untied Llama-3 "
            f"({la['weight_bytes_minus_symsys']:+.0f} B vs symsys = one embedding row); "
            f"the remaining {la['other_terms_ms'] * 1e3:.2f} us are its activation, "
            "layernorm and serial LM-head compute terms.")
    return text + "\n" + "\n".join(lines)
