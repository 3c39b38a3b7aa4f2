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
    done = subprocess.run([sys.executable, str(BENCH / "run.py"), "--markdown", str(saved)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    text = done.stdout
    assert text.startswith("<!-- performance:start -->")
    assert text.rstrip().endswith("<!-- performance:end -->")
    assert "cold CLI per command" in text and "sympy imported" in text
    assert "<= 1.5x symsys solve" in text


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
    assert alternatives.mlsysim_case(1, 1) == {"status": "not installed"}
    assert alternatives.llm_analysis_case(1, 1) == {"status": "not installed"}
    out = alternatives.agreement(alternatives.symsys_case(), {"status": "not installed"},
                                 {"status": "not installed"})
    assert [c["agree"] for c in out["checks"]] == [True]
