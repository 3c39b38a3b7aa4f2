"""End-to-end single-GPU validation (issue 15): the dataset, the report, the CLI, the README."""

import dataclasses
import io
import json
import re
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from symsys import cli
from symsys.accuracy import e2e
from symsys.calibration import profile_for
from symsys.calibration.profile import WEIGHT_ONLY_DEQUANT
from symsys.registry.hardware import Hardware
from symsys.registry.models import Models

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- accuracy-e2e:start -->", "<!-- accuracy-e2e:end -->"


@pytest.fixture(scope="module")
def data():
    return e2e.report()


def test_every_row_has_a_pinned_source_and_known_keys():
    rows = e2e.rows()
    assert len(rows) == len({r["id"] for r in rows}) >= 20
    for row in rows:
        if row["registry_device"] == "H200":  # measured by this project, in this repository
            assert row["source_url"].startswith("benchmarks/device/hopper_measure.py")
            assert (Path(__file__).resolve().parents[1] / "symsys" / "registry" / "data"
                    / "measured" / row["source_where"].split()[0].removeprefix(
                        "registry/data/measured/")).exists()
            assert row["runtime"] == "torch_eager"
        else:
            assert re.match(r"https://github\.com/[^/]+/[^/]+/blob/[0-9a-f]{40}/",
                            row["source_url"])
            assert row["commit_or_date"].split()[0] in row["source_url"]
            # TensorRT-LLM's rows name the runtime of their version (its terms are fitted
            # to the GPT-J rows); gpt-fast's and torchao's runtimes are not modelled
            expected = ("" if row["engine"] != "TensorRT-LLM" else "tensorrt_llm_v0.5"
                        if row["metric"] == "ttft_ms" else "tensorrt_llm_v0.6.1")
            assert row["runtime"] == expected, row["id"]
        assert row["engine"] and row["engine_version"] and row["source_where"]
        assert row["use"] in ("fit", "held_out")
        assert row["metric"] in e2e.METRICS and float(row["value"]) > 0
        Hardware[row["registry_device"]]
        Models[row["registry_model"]]
    # the weight-only factors' rows, the H200 steps the torch_eager runtime is derived
    # from (decode at batch 1 and context 2048, prefill of 2048 tokens), and every GPT-J row
    # (the TensorRT-LLM runtimes' fit: no Llama row is)
    assert {r["id"] for r in rows if r["use"] == "fit"} == {
        "gptfast-l2-7b-bf16", "gptfast-l2-7b-int8", "gptfast-l2-7b-int4",
        *(f"h200-eager-l3-8b-{p}-{step}" for p in ("bf16", "fp8")
          for step in ("decode-b1-s2048", "prefill-2048")),
        *(r["id"] for r in rows if r["registry_model"] == "GPT_J_6B")}
    assert len([r for r in rows if r["registry_model"] == "GPT_J_6B"]) == 10


def test_speed_of_light_never_exceeds_a_measurement(data):
    assert data["bound_violations"] == []
    for row in data["rows"]:
        assert 0 < row["speed_of_light_s"] <= row["measured_s"], row["id"]


def test_errors_equal_their_recomputation(data):
    for row in data["rows"]:
        source = next(r for r in e2e.rows() if r["id"] == row["id"])
        assert row["measured_s"] == pytest.approx(e2e.measured_seconds(source), rel=1e-12)
        if row["calibrated_s"] is None:
            continue
        assert row["calibrated_error"] == pytest.approx(
            row["calibrated_s"] / row["measured_s"] - 1, rel=1e-12)
    # one row per metric recomputed from the public API
    for rid in ("trtllm-a100-l2-7b-ttft-2048", "gptfast-l31-8b-int8"):
        row = next(r for r in data["rows"] if r["id"] == rid)
        source = next(r for r in e2e.rows() if r["id"] == rid)
        profile = profile_for(source["registry_device"], source["precision"],
                              weight_precision=source["weight_precision"])
        again, _ = e2e.predicted_seconds(source, profile, e2e.runtime_of(source))
        assert row["calibrated_s"] == pytest.approx(again, rel=1e-12)
    medians = [abs(r["calibrated_error"]) for r in data["rows"]
               if r["use"] == "held_out" and r["calibrated_error"] is not None]
    assert data["held_out"]["n"] == len(medians)
    assert data["held_out"]["max"] == pytest.approx(max(medians))


def test_every_row_has_a_calibrated_prediction(data):
    assert data["no_calibrated"] == []
    # the H100 fp8 rows take the H200's fp8 efficiencies (same die) with the H100's own
    # per-kernel overhead
    for row in data["rows"]:
        if row["id"].startswith("trtllm-h100"):
            assert "transferred from H200 to H100 (one die, other memory)" in row["profile"]


def test_the_runtime_adds_to_the_calibrated_steps_only(data):
    """The H200 rows' calibrated predictions add the torch_eager runtime's kernels; the
    speed-of-light bound adds nothing."""
    row = next(r for r in e2e.rows() if r["id"] == "h200-eager-l3-8b-bf16-decode-b64-s2048")
    profile = profile_for("H200", "bf16")
    with_runtime, _ = e2e.predicted_seconds(row, profile, "torch_eager")
    without, _ = e2e.predicted_seconds(row, profile)
    bound, _ = e2e.predicted_seconds(row, None)
    reported = next(r for r in data["rows"] if r["id"] == row["id"])
    assert reported["calibrated_s"] == pytest.approx(with_runtime, rel=1e-12)
    assert reported["speed_of_light_s"] == pytest.approx(bound, rel=1e-12)
    assert with_runtime > without > bound


def test_weight_only_factors_refit_from_the_fit_rows():
    """WEIGHT_ONLY_DEQUANT is what the gpt-fast Llama-2-7B rows give (to its 3 decimals)."""
    rows = {r["id"]: r for r in e2e.rows()}
    base_row = rows["gptfast-l2-7b-bf16"]
    base = profile_for("A100", "bf16")
    predicted_base = e2e.predicted_seconds(base_row, base)[0]
    for weight, rule in WEIGHT_ONLY_DEQUANT.items():
        row = rows[f"gptfast-l2-7b-{weight}"]
        target = (e2e.measured_seconds(row) / e2e.measured_seconds(base_row)) * predicted_base
        lo, hi = 0.2, 1.0
        for _ in range(40):
            factor = (lo + hi) / 2
            trial = dataclasses.replace(base, eta_m=base.eta_m * factor, weight_precision=weight)
            lo, hi = (factor, hi) if e2e.predicted_seconds(row, trial)[0] > target else (lo, factor)
        assert rule.factor == pytest.approx(factor, abs=6e-4), (weight, factor)


def test_cli_validate_e2e_runs(data):
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(["validate", "--e2e", "--json"]) == 0
    parsed = json.loads(out.getvalue())
    assert len(parsed["rows"]) == len(data["rows"])
    assert parsed["held_out"]["median"] == pytest.approx(data["held_out"]["median"])
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(["validate", "--e2e"]) == 0
    assert "speed-of-light bound: 0 row(s)" in out.getvalue()


def test_readme_end_to_end_table_is_the_generated_one(data):
    text = README.read_text()
    block = text.split(START)[1].split(END)[0]
    assert e2e.markdown(data) in block, (
        "README end-to-end table is stale: paste symsys.accuracy.e2e.markdown("
        "report()) between the accuracy-e2e markers")


def test_without_the_runtime_the_h200_steps_are_predicted_fast():
    """The README's claim: a sum of GEMMs (the calibrated profile without the runtime) is
    24 % to 65 % faster than every H200 step measured."""
    for row in e2e.rows():
        if row["registry_device"] == "H200":
            seconds, _ = e2e.predicted_seconds(row, profile_for("H200", row["precision"]))
            assert -0.65 < seconds / e2e.measured_seconds(row) - 1 < -0.23, row["id"]

