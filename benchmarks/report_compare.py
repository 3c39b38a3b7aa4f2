"""The side-by-side table (symsys beside mlsysim and llm-analysis) and the agreement report
(where the predicted latencies differ, term by term)."""

from __future__ import annotations

from tables import fmt_si, table


def side_by_side(s: dict, alt: dict) -> str:
    mls, lla = alt.get("mlsysim", {}), alt.get("llm-analysis", {})

    def status(a):
        st = a.get("status", "not run")
        return "" if st == "ok" else st

    rows = []

    def row(label, mine, theirs_m, theirs_l, unit):
        cells = [label, fmt_si(mine, unit)]
        for theirs, a in ((theirs_m, mls), (theirs_l, lla)):
            if a.get("status") != "ok":
                cells += [status(a), "-"]
            elif theirs is None:
                cells += ["n/a", "-"]
            else:
                cells += [fmt_si(theirs, unit),
                          f"{theirs / mine:.3g}x" if mine else "-"]
        rows.append(cells)

    def med(a, key, scale=1.0):
        return a[key]["median"] * scale if key in a else None

    row("import (fresh process)", med(s, "import_s"), med(mls, "import_s"),
        med(lla, "import_s"), "s")
    row("import incl. first solver (symsys.Engine)", med(s, "engine_import_s"),
        med(mls, "import_s"), med(lla, "import_s"), "s")
    row("scalar solve, Llama-3-8B decode b=1 H100 fp16", med(s, "solve_quantity_s", 1e6),
        med(mls, "solve_s", 1e6), med(lla, "solve_s", 1e6), "us")
    row("all sensitivities of that configuration", med(s, "sensitivities_s", 1e6),
        med(mls, "sensitivities_s", 1e6), None, "us")
    lat = [s.get("case", {}).get("latency_ms"), mls.get("result", {}).get("latency_ms"),
           lla.get("result", {}).get("latency_ms")]
    row("predicted decode latency", lat[0], lat[1], lat[2], "ms")
    title = ("side by side (ratio = other / symsys; >1 means symsys is faster, or for latency "
             "predicts less)")
    names = [f"mlsysim {mls.get('version', '')}".strip(),
             f"llm-analysis {lla.get('version', '')}".strip()]
    text = table(["figure", "symsys", names[0], "ratio", names[1], "ratio"], rows, title)
    notes = []
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
