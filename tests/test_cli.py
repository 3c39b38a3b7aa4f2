"""The command line: every command answers, --json parses, mistakes are one line."""

import importlib.util
import json
import subprocess
import sys

import pytest

from symsys.cli import COMMANDS, main


def run(*args):
    proc = subprocess.run([sys.executable, "-m", "symsys", *args], capture_output=True,
                          text=True, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def test_main_job_matches_the_solver(capsys):
    assert main(["solve", "Llama3_8B", "H100", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["regime"] == "Memory" and data["kind"] == "step" and data["law"] == "decode"
    # one convention for every command: canonical magnitudes, their units beside them
    assert data["latency"] == pytest.approx(4.48059e-3, rel=1e-5)
    assert data["units"]["latency"] == "s" and data["units"]["memory_footprint"] == "B"
    assert data["memory_footprint"] == pytest.approx(16.0607e9, rel=1e-4)


def test_version_and_module_entry_point():
    code, out, _ = run("--version")
    assert code == 0 and out.startswith("symsys ")


@pytest.mark.parametrize("args", [
    ["serve", "Llama3_8B", "H100", "--prompt-len", "128", "--output-len", "16"],
    ["sweep", "Llama3_8B", "A100,H100", "--batch-size", "1,64"],
    ["sensitivity", "Llama3_8B", "H100"],
    ["synthesize", "Llama3_8B", "H100", "--target", "3 ms"],
    ["zoo", "hardware"],
    ["zoo", "models"],
    ["zoo", "systems"],
    ["show", "H100"],
    ["show", "DGX_H100"],
    ["show", "Llama3_8B"],
    ["derive", "roofline"],
])
def test_every_command_answers_in_json(args, capsys):
    assert main([*args, "--json"]) == 0
    json.loads(capsys.readouterr().out)


def test_user_mistakes_are_one_line_exit_1(capsys):
    assert main(["solve", "Llama3_8B", "H900"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Did you mean" in err and "H100" in err
    assert main(["solve", "Llama3_8B", "H100", "--batch-size", "0", "--json"]) == 1
    error = json.loads(capsys.readouterr().out)
    assert error["error"] == "InvalidParameter" and "batch_size=0" in error["message"]


def test_usage_errors_exit_2():
    code, _, err = run("solve", "Llama3_8B")
    assert code == 2 and "Traceback" not in err


AVAILABLE = [c for c in COMMANDS if importlib.util.find_spec(f"symsys.commands.{c}")]


@pytest.mark.parametrize("command", AVAILABLE)
def test_help_has_examples(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "examples:" in capsys.readouterr().out


def test_synthesize_reports_a_design_that_does_not_fit(capsys):
    argv = ["synthesize", "Llama3_8B", "H100", "--target", "3000 token/s", "--lever",
            "batch_size", "-s", "8192"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert text.startswith("not achievable: batch_size = 350.8 meets the target but does not fit")
    assert "H100 has 80 GiB" in text and "the largest batch_size that fits is 65" in text
    assert main([*argv, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["achievable"] is False and data["feasible"] is False
    assert data["required"] == pytest.approx(350.8, rel=1e-3) and data["units"]["required"] == ""
