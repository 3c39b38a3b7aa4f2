"""Smoke tests of the benchmark runner (benchmarks/run.py): it runs at tiny sizes and writes
the JSON the README's figures come from. No timing assertions: this machine is shared."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "benchmarks"
sys.path.insert(0, str(BENCH))

import alternatives  # noqa: E402
import chunked  # noqa: E402
import report_markdown  # noqa: E402
from _common import ratio_stats  # noqa: E402


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "quick.json"
    done = subprocess.run([sys.executable, str(BENCH / "run.py"), "--quick", "--json", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text()), done.stdout


def test_quick_run_writes_json_with_every_figure(quick_run):
    results, _ = quick_run
    assert {"meta", "symsys", "alternatives", "agreement", "figures", "targets"} <= set(results)
    sym = results["symsys"]
    for key in ("python_startup_s", "import_s", "engine_import_s", "cold_cli_s", "solve_s",
                "solve_quantity_s", "sensitivities_s"):
        assert sym[key]["median"] > 0, key
        assert len(sym[key]["runs"]) >= 1
    assert sym["roofline"]["roofline_points_per_s"] > 0
    assert sym["roofline"]["evaluate_points_per_s"] > 0
    assert all(v["configs_per_s"] > 0 for v in sym["sweep"].values())
    memory = sym["sweep_memory"]
    assert "linear" in memory and memory["linear"]["ratio"] > 0
    assert all(m["tracemalloc_peak_bytes"] > 0 for k, m in memory.items() if k != "linear")
    assert sym["chunked"]["reduced"]["configurations"] == sym["chunked"]["configurations"]
    assert sym["chunked"]["crossover_matches"]
    explore = sym["explore"]  # the design-space runs: numpy path and a local Dask cluster
    assert explore["subset_equal"]
    assert explore["dask"]["configurations"] == 2 * explore["numpy"]["configurations"]
    assert sym["cli_breakdown"]["phases"]["phases"]
    assert sym["cli_breakdown"]["importtime_top_self"]
    assert sym["case"]["latency_ms"] == pytest.approx(4.4806, rel=1e-4)
    for name in ("mlsysim", "llm-analysis"):
        assert results["alternatives"][name]["status"].startswith("skipped")
    compare = results["compare"]  # symsys's side of the side by side, round-robin
    assert compare["imports"]["seconds"]["symsys"]["median"] > 0
    assert compare["inprocess"]["seconds"]["solve"]["symsys"]["median"] > 0
    meta = results["meta"]  # one run, stamped
    assert meta["single_run"] and meta["run_id"] and meta["loadavg_after"]
    assert meta["versions"]["numpy"] and meta["git"] and meta["run_seconds"] > 0
    assert report_markdown.problems(results) == ["a --quick run (tiny sizes)"]
    assert report_markdown.problems(results, allow_quick=True) == []
    assert all(check["agree"] for check in results["agreement"]["checks"])
    assert {t["status"] for t in results["targets"]} <= {"PASS", "FAIL", "n/a"}


def test_quick_run_measures_cold_start_per_command(quick_run):
    results, _ = quick_run
    cold = results["symsys"]["cold_cli_commands"]
    commands = {e["command"]: e for e in cold["commands"]}
    assert {"symsys solve Llama3_8B H100", "symsys sensitivity Llama3_8B H100"} <= set(commands)
    for e in [*commands.values(), results["symsys"]["cold_sensitivity_solver"]]:
        assert e["status"] == "ok", e.get("error")
        assert e["seconds"]["median"] > 0 and e["seconds"]["cpu_median"] > 0
        assert len(e["seconds"]["runs"]) == cold["repeat"]
        assert isinstance(e["imports_sympy"], bool)
        assert e["ratio"] > 0
    assert commands[cold["reference"]]["ratio"] == 1.0
    rows = {t["target"]: t for t in results["targets"]}
    row = rows["cold CLI symsys sensitivity Llama3_8B H100 <= 1.5x symsys solve Llama3_8B H100"]
    assert row["value"] == pytest.approx(commands["symsys sensitivity Llama3_8B H100"]["ratio"])
    assert row["status"] == ("PASS" if row["value"] <= 1.5 else "FAIL")


def test_markdown_of_the_quick_run_has_the_cold_cli_table(quick_run, tmp_path):
    saved = tmp_path / "quick.json"
    saved.write_text(json.dumps(quick_run[0]))
    refused = subprocess.run([sys.executable, str(BENCH / "run.py"), "--markdown", str(saved)],
                             cwd=REPO, capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "--quick run" in refused.stderr
    done = subprocess.run([sys.executable, str(BENCH / "run.py"), "--markdown", str(saved),
                           "--allow-quick"], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    text = done.stdout
    assert text.startswith("<!-- performance:start -->")
    assert text.rstrip().endswith("<!-- performance:end -->")
    assert "cold CLI per command" in text and "sympy imported" in text
    assert "<= 1.5x symsys solve" in text
    readme = tmp_path / "README.md"  # the rewrite replaces the section and nothing else
    readme.write_text("before\n\n<!-- performance:start -->\nold\n<!-- performance:end -->\n"
                      "\nafter\n")
    report_markdown.rewrite_readme(quick_run[0], readme, allow_quick=True)
    assert readme.read_text() == "before\n\n" + text + "\nafter\n"
    assert report_markdown.readme_block(readme.read_text()) == text


def test_quick_run_prints_the_tables(quick_run):
    _, stdout = quick_run
    for heading in ("symsys", "cold CLI per command", "side by side", "agreement",
                    "cold CLI breakdown", "targets"):
        assert heading in stdout
    assert "skipped (--quick)" in stdout


@pytest.mark.parametrize("axis", [range(1, 2501), np.arange(1, 2501)])
def test_package_chunks_cover_the_axis_in_order(axis):
    import symsys

    parts = list(symsys.sweep("Llama3_8B", "H100", batch_size=axis, chunk_size=700,
                              columns=["latency"]))
    assert [len(p) for p in parts] == [700, 700, 700, 400]
    assert np.array_equal(np.concatenate([p.batch_size for p in parts]), np.arange(1, 2501))


def test_chunked_reduction_equals_one_sweep():
    import symsys

    kwargs = dict(model="Llama3_8B", hardware="H100")
    whole = chunked.BestConfiguration()
    whole.update(symsys.sweep(batch_size=np.arange(1, 3001), **kwargs))
    parts = chunked.sweep_chunked(range(1, 3001), chunk_size=1000, **kwargs)
    assert parts["chunks"] == 3
    assert {k: v for k, v in parts.items() if k != "chunks"} == \
        {k: v for k, v in whole.result().items() if k != "chunks"}
    assert parts["first_compute_bound_batch"] == 297  # the closed-form crossover on an H100


def test_alternatives_report_not_installed(monkeypatch):
    assert alternatives.installed("no_such_module_for_symsys_bench", "no-such-dist") is None
    monkeypatch.setattr(alternatives, "installed", lambda module, distribution: None)
    assert alternatives.mlsysim_case() == {"status": "not installed"}
    assert alternatives.llm_analysis_case() == {"status": "not installed"}
    out = alternatives.agreement(alternatives.symsys_case(), {"status": "not installed"},
                                 {"status": "not installed"})
    assert [c["agree"] for c in out["checks"]] == [True]


def test_ratios_are_paired_round_by_round():
    # the other tool 10x slower in every round while the load doubles between rounds: the
    # paired ratio is 10 in every round, whatever the load
    symsys = {"runs": [1.0, 2.0, 4.0], "cpu_runs": [1.0, 1.0, 1.0]}
    other = {"runs": [10.0, 20.0, 40.0], "cpu_runs": [9.0, 10.0, 11.0]}
    stats = ratio_stats(other, symsys)
    assert stats["median"] == stats["p25"] == stats["p75"] == 10.0
    assert stats["ratios"] == [10.0, 10.0, 10.0]
    assert (stats["cpu_median"], stats["cpu_min"], stats["cpu_max"]) == (10.0, 9.0, 11.0)


def test_readme_renderer_refuses_what_is_not_one_complete_run():
    merged = {"meta": {"single_run": True, "run_id": "x", "loadavg_after": [0, 0, 0]},
              "symsys": {"explore": {"measured": {"timestamp": "2026-11-28T08:48"}}}}
    found = report_markdown.problems(merged)
    assert any("merged in from other runs: explore" in p for p in found)
    assert any(p.startswith("sections missing") for p in found)
    old = {"meta": {"quick": False}, "symsys": {}}  # written by the former --update runner
    assert any("not stamped as one complete run" in p for p in report_markdown.problems(old))
    partial = {"meta": {"only": "compare", "run_id": "x"}, "symsys": {}}
    assert "a partial run (--only compare)" in report_markdown.problems(partial)
    with pytest.raises(report_markdown.NotPublishable):
        report_markdown.markdown(partial)


def test_readme_performance_section_is_rendered_from_the_committed_run():
    """README.md's Performance section is exactly what the renderer makes of the committed
    run (benchmarks/performance.json): the README and its JSON cannot drift apart, and no
    figure in the section is typed by hand. Regenerate both with
    ``python benchmarks/run.py --readme`` (a full run, 3.5 min on 2 cores)."""
    published = report_markdown.PUBLISHED
    assert published.exists(), (f"{published.relative_to(REPO)} is missing: run "
                                "`python benchmarks/run.py --readme` on a quiet machine")
    results = json.loads(published.read_text())
    assert report_markdown.problems(results) == []
    readme = (REPO / "README.md").read_text()
    assert report_markdown.readme_block(readme) == report_markdown.markdown(results)
