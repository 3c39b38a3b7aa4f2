"""A new step law in three files -- the law, its package metadata, its test -- reaches every
front end: Engine.solve, cost, sensitivities, synthesis, the registry sweep and the command
line, with no edit to symsys.

``examples/own_law/`` is that package (the README's "Your own law" shows it). Here it is
installed into a temporary directory as pip would lay it out (its modules, and a dist-info
whose entry points are read from its own pyproject.toml), then used as a user would: its own
test suite in a fresh process, and each command with the law asked for by name. Kernels are
compiled on first use into one scratch cache shared by the processes.
"""

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "own_law"
#: everything the new law needed: no file of symsys changed
FILES = {"spec_decode.py", "pyproject.toml", "test_spec_decode.py"}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The example package installed into a temporary site directory; the environment that
    sees it (and a scratch kernel cache)."""
    assert {p.name for p in EXAMPLE.iterdir() if not p.name.startswith((".", "__"))} == FILES
    root = tmp_path_factory.mktemp("own_law")
    site = root / "site"
    site.mkdir()
    for name in ("spec_decode.py", "test_spec_decode.py"):
        shutil.copy(EXAMPLE / name, site / name)
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]
    info = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\n"
                                   f"Version: {project['version']}\n")
    points = project["entry-points"]["symsys.laws"]
    (info / "entry_points.txt").write_text(
        "[symsys.laws]\n" + "".join(f"{k} = {v}\n"
                                    for k, v in points.items()))
    env = dict(os.environ, PYTHONPATH=str(site), SYMSYS_CACHE_DIR=str(root / "cache"))
    return site, env


def run(env, *argv, cwd=None):
    done = subprocess.run([sys.executable, *argv], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def cli(env, *argv):
    return json.loads(run(env, "-m", "symsys", *argv, "--json"))


ASK = ("Llama3_8B", "H100", "--law", "spec_decode", "--set", "a_acc=0.8", "-s", "1024")


def test_its_own_tests_pass_against_the_installed_symsys(installed):
    site, env = installed
    out = run(env, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_spec_decode.py",
              cwd=site)
    assert "5 passed" in out


def test_every_command_answers_with_the_law_by_name(installed):
    _, env = installed
    sys.path.insert(0, str(installed[0]))
    try:
        from test_spec_decode import by_hand
    finally:
        sys.path.remove(str(installed[0]))
    latency, rate = by_hand()
    step = cli(env, "solve", *ASK)
    assert step["step_law"] == "spec_decode" and step["inputs"] == {"a_acc": 0.8}
    assert step["latency"] == pytest.approx(latency, rel=1e-12)
    assert step["throughput"] == pytest.approx(rate, rel=1e-12)
    cost = cli(env, "cost", *ASK)
    assert cost["law"] == "spec_decode_cost"
    # one H100 at its registry price for the round, over the tokens the round yields
    assert cost["units"]["cost_per_hour"] == "USD/h"
    assert cost["cost_per_million_tokens"] == pytest.approx(
        cost["cost_per_hour"] / 3600 / rate * 1e6, rel=1e-9)
    sens = cli(env, "sensitivity", *ASK, "--output", "throughput")
    assert sens["elasticities"]["memory_bandwidth"] == pytest.approx(1.0)
    assert sens["binding_constraint"] == "acceptance_rate"  # 1.56: more than bandwidth
    design = cli(env, "synthesize", *ASK, "--target", f"{2 * rate} tok/s")
    assert design["required"] == pytest.approx(2 * 3.35e12, rel=1e-9)
    sweep = cli(env, "sweep", "Llama3_8B", "H100", "--law", "spec_decode",
                "--set", "a_acc=0.6,0.8", "-s", "1024", "-b", "1,8")
    readme = " ".join((EXAMPLE.parents[1] / "README.md").read_text().split())
    assert (f"{step['latency'] * 1e3:.3f} ms a round, {step['throughput']:.1f} tokens/s"
            in readme)
    assert f"(elasticity {sens['elasticities']['acceptance_rate']:.2f}, against" in readme
    columns = sweep["columns"]
    assert columns["a_acc"] == [0.6, 0.6, 0.8, 0.8] and columns["batch_size"] == [1, 8, 1, 8]
    assert columns["throughput"][2] == pytest.approx(rate, rel=1e-12)


def test_a_missing_input_is_named_with_how_to_give_it(installed):
    _, env = installed
    done = subprocess.run([sys.executable, "-m", "symsys", "solve", "Llama3_8B", "H100",
                           "--law", "spec_decode"], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "--set a_acc=VALUE" in done.stderr
