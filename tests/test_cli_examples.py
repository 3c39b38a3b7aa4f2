"""Issue 25: no CLI command compiles on first use. Every example in the commands' help is run
in a fresh process on an empty user cache with sympy made unimportable: the kernels shipped in
the package answer all of them (``python -m symsys.shipping`` ships what they ask for)."""

import json
import os
import subprocess
import sys

import pytest

from symsys import shipping
from symsys.cli import examples

PROBE = """
import json, sys
sys.modules["sympy"] = None  # any import of sympy now raises ImportError
import matplotlib
matplotlib.use("Agg")
from symsys.shipping import run_examples
outcomes = run_examples()
print(json.dumps({"outcomes": [[argv, code, err[-300:]] for argv, code, err in outcomes],
                  "sympy": sys.modules.get("sympy") is not None}))
"""


def test_the_examples_are_every_command_s_documented_use():
    found = examples()
    commands = {argv[0] for argv in found}
    assert {"solve", "serve", "cost", "train", "sweep", "stream", "sensitivity", "synthesize",
            "derive", "zoo", "show", "plot", "validate"} <= commands
    assert len(found) > 60
    # continuation lines are joined into one command
    assert ["synthesize", "Llama3_70B", "DGX_H100", "--tp", "2", "--pp", "2", "--dp", "2",
            "-b", "32", "-s", "1024", "--target", "5000 token/s", "--lever",
            "link_bandwidth"] in found
    # only the examples that print a derivation are left out of the no-sympy run
    left_out = [argv for argv in found if argv not in shipping.answered_examples()]
    assert left_out and all({"derive", "--derivation"} & set(argv) for argv in left_out)


@pytest.mark.slow
def test_no_documented_command_needs_sympy_on_an_empty_cache(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYMSYS_")}
    env.update(SYMSYS_CACHE_DIR=str(tmp_path / "cache"), MPLBACKEND="Agg")
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                            env=env, cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    failed = [(" ".join(argv), code, err) for argv, code, err in report["outcomes"] if code]
    assert failed == []
    assert len(report["outcomes"]) == len(shipping.answered_examples())
    assert not report["sympy"]
    assert not (tmp_path / "cache" / "kernels").exists()  # nothing was compiled
