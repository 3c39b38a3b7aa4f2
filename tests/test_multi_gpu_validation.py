"""symsys validate --multi-gpu: tensor-parallel decode against gpt-fast's A100 numbers."""

import json

import pytest

from symsys.cli import main
from symsys.solvers import multi_gpu_validation


@pytest.fixture(scope="module")
def data():
    return multi_gpu_validation.report()


def test_speed_of_light_bound_holds_on_every_row(data):
    assert len(data["rows"]) == len(multi_gpu_validation.rows()) == 14
    assert data["bound_violations"] == []
    for row in data["rows"]:
        assert row["speed_of_light_tokens_s"] >= row["measured_tokens_s"]


def test_reported_errors_equal_recomputation(data):
    for row, source in zip(data["rows"], multi_gpu_validation.rows()):
        calibrated = multi_gpu_validation._solve(source, "calibrated")
        predicted = calibrated.latency.m_as("s")
        measured = 1 / float(source["tokens_per_s"])
        assert row["calibrated_error"] == pytest.approx(predicted / measured - 1, rel=1e-9)
    errors = [abs(r["calibrated_error"]) for r in data["rows"]]
    assert data["all"]["mean"] == pytest.approx(sum(errors) / len(errors))
    for s in data["speedups"]:
        runs = {r["tp"]: r for r in data["rows"] if r["model"] == s["model"]}
        assert s["measured"] == pytest.approx(runs[s["to_tp"]]["measured_tokens_s"]
                                              / runs[s["from_tp"]]["measured_tokens_s"])


def test_cli_validate_multi_gpu(capsys):
    assert main(["validate", "--multi-gpu"]) == 0
    out = capsys.readouterr().out
    assert "Llama-2-70B" in out and "speed-of-light bound: 0 row(s)" in out
    assert main(["validate", "--multi-gpu", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["bound_violations"] == []


def test_readme_numbers_equal_the_report(data):
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    assert multi_gpu_validation.readme_tables(data) in readme
    tp = data["tensor_parallel"]
    assert (f"Over the tensor-parallel rows the mean error is {tp['mean']:.1%} and the largest "
            f"{tp['max']:.1%}") in readme
