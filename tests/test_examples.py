"""The examples (the seed tutorials' workflows end to end) run headless, fast, print what the
solvers say and write their files; the README's generated snippets match the package."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from symsys import Engine, render
from symsys.registry import Hardware, Models

pytestmark = pytest.mark.slow  # every example runs in its own process: the full suite runs them

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
#: example -> files it must write under --out
WRITES = {
    "memory_wall.py": ["roofline_h100.png", "roofline_a100_h100.png",
                       "sweep_a100_h100.png"],
    "wafer_scale.py": ["streaming_gpt3_cs3.png", "sensitivity_gpt3_h100.png"],
    "latex_derivations.py": ["derivations/roofline.md", "derivations/roofline.tex",
                             "cases/decode_llama3_8b_h100.tex", "cases/streaming_gpt3_cs3.tex"],
    "design_space_sweep.py": ["design_space.csv", "tokens_per_watt.png"],
    "inverse_design.py": ["inverse_design.json"],
    "procurement.py": ["procurement.csv", "procurement.png"],
}


def run_example(path: Path, out: Path) -> tuple[str, float]:
    env = dict(os.environ, MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, str(path), "--out", str(out)], capture_output=True,
                          text=True, env=env, timeout=120, cwd=ROOT)
    elapsed = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    return proc.stdout, elapsed


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """Each example run once (they take seconds each); stdout, time and out dir by name."""
    results = {}
    for path in EXAMPLES:
        out = tmp_path_factory.mktemp(path.stem)
        stdout, elapsed = run_example(path, out)
        results[path.name] = (stdout, elapsed, out)
    return results


def test_every_example_is_covered():
    assert {p.name for p in EXAMPLES} == set(WRITES)


@pytest.mark.parametrize("name", sorted(WRITES))
def test_example_runs_headless_fast_and_writes_its_files(outputs, name):
    stdout, elapsed, out = outputs[name]
    assert elapsed < 30, f"{name} took {elapsed:.1f} s"
    for relative in WRITES[name]:
        path = out / relative
        assert path.is_file() and path.stat().st_size > 0, relative
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert f"wrote {path}" in stdout


def test_memory_wall_prints_the_bandwidth_speedup_and_two_memory_bottlenecks(outputs):
    stdout = outputs["memory_wall.py"][0]
    section = stdout.split("3. The fallacy")[1].split("4. The batch size")[0]
    bottleneck = next(line for line in section.splitlines() if line.startswith("Bottleneck"))
    assert bottleneck.split()[1:] == ["Memory", "Memory"]
    latency = next(line for line in section.splitlines() if line.startswith("Latency"))
    a = Engine.solve(Models.Llama3_8B, Hardware.Cloud.A100)
    h = Engine.solve(Models.Llama3_8B, Hardware.Cloud.H100)
    speedup = f"{(a.latency / h.latency).m_as(''):.1f}x"
    assert speedup == "1.6x" and latency.split()[-1] == speedup
    for hw in ("A100", "H100"):
        first = Engine.solve(Models.Llama3_8B, Hardware[hw]).crossover_batch
        assert f"{hw}: first compute-bound batch (closed form) = {first}" in stdout


def test_wafer_scale_reports_the_shifted_wall(outputs):
    stdout = outputs["wafer_scale.py"][0]
    assert "Bottleneck : Memory" in stdout  # H100: HBM bandwidth
    assert "Bottleneck           : Injection" in stdout  # CS-3: the MemoryX link
    assert "Feasible             : no:" in stdout  # GPT-3 does not fit one H100, said so
    assert "Binding constraint : memory_capacity" in stdout
    # section 7: which law when (weight-stationary pipeline for a model the wafers hold)
    assert "Fewest wafers that hold it : 4" in stdout
    assert "Law            : weight streaming" in stdout
    assert "it fits with pipeline_parallel=9" in stdout


def test_design_space_ranks_only_feasible_devices_with_data(outputs):
    stdout, _, out = outputs["design_space_sweep.py"]
    assert "best per watt:" in stdout and "best per dollar:" in stdout
    rows = (out / "design_space.csv").read_text().splitlines()
    assert rows[0].startswith("device,precision,batch_size")
    assert "does not fit at any batch:" in stdout


def test_inverse_design_round_trips(outputs):
    import json

    answers = json.loads((outputs["inverse_design.py"][2] / "inverse_design.json").read_text())
    solved = [a for a in answers if a["round_trip_error"] is not None]
    assert solved and all(a["round_trip_error"] < 1e-9 for a in solved)
    assert any(a["required"] is None and "floor" in a["explanation"] for a in answers)


# --- README ------------------------------------------------------------------------------------

README = (ROOT / "README.md").read_text()


def test_readme_shows_a_roofline_made_by_an_example():
    """Each figure the README shows is one an example writes, with the command beside it."""
    images = re.findall(r"!\[[^\]]*\]\((docs/[^)]+\.png)\)", README)
    assert images, "README shows no figure from docs/"
    for image in images:
        assert (ROOT / image).is_file(), image
        makers = [name for name, files in WRITES.items() if Path(image).name in files]
        assert makers, f"{image} is not written by any example"
        assert any(f"python examples/{name}" in README for name in makers)


def test_readme_derivation_is_the_generated_one():
    """The README's derivation block is pasted from `symsys derive roofline`: it must still be
    what the package generates (numbers included)."""
    blocks = re.findall(r"<!-- begin: symsys derive roofline -->\n(.*?)<!-- end -->", README,
                        flags=re.S)
    assert blocks, "README has no generated derivation block"
    document = render.render("roofline", "md")
    for block in blocks:
        assert block.strip() in document


def test_procurement_answers_with_a_priced_feasible_plan(outputs):
    import csv

    stdout, _, out = outputs["procurement.py"]
    rows = list(csv.DictReader((out / "procurement.csv").open()))
    assert rows and all(float(r["itl_ms"]) <= 20 + 1e-9 for r in rows)
    cheapest = min(rows, key=lambda r: float(r["usd_per_hour"]))
    assert f"at {float(cheapest['usd_per_hour']):.0f} USD/hour" in stdout
    # every replica serves at most its batch, and together they serve the 1,000 users
    assert all(int(r["replicas"]) * int(r["batch"]) >= 1000 for r in rows)
    assert "cannot serve it" in stdout
