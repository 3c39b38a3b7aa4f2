"""symsys validate --multi-gpu: tensor-parallel decode against gpt-fast's A100 numbers."""

import json

import pytest

from symsys.accuracy import multi_gpu
from symsys.cli import main


@pytest.fixture(scope="module")
def data():
    return multi_gpu.report()


def test_speed_of_light_bound_holds_on_every_row(data):
    assert len(data["rows"]) == len(multi_gpu.rows()) == 14
    assert data["bound_violations"] == []
    for row in data["rows"]:
        assert row["speed_of_light_tokens_s"] >= row["measured_tokens_s"]


def test_reported_errors_equal_recomputation(data):
    for row, source in zip(data["rows"], multi_gpu.rows()):
        calibrated = multi_gpu._solve(source, "calibrated")
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
    assert multi_gpu.readme_tables(data) in readme
    tp = data["tensor_parallel"]
    assert (f"Over the tensor-parallel rows the mean error is {tp['mean']:.1%} and the largest "
            f"{tp['max']:.1%}") in readme


def _engine(data, rid):
    return next(r for r in data["tensorrt_llm"]["rows"] if r["id"] == rid)


def test_tensorrt_llm_rows_are_held_out_and_bounded(data):
    engine = data["tensorrt_llm"]
    source = multi_gpu.e2e_rows()
    assert len(engine["rows"]) == len(source) == 14
    assert {r["use"] for r in source} == {"held_out"}
    assert {int(r["tensor_parallel"]) for r in source} == {2, 4}
    assert engine["bound_violations"] == [] and engine["no_calibrated"] == []
    for row in engine["rows"]:
        assert row["speed_of_light_s"] <= row["measured_s"], row["id"]


def test_tensorrt_llm_per_gpu_throughput_by_hand(data):
    """1,486 out tok/s/GPU at TP 4, batch 480, 2,048 output tokens: the batch takes
    480 x 2048 / (1486 x 4) = 165.4 s."""
    row = _engine(data, "trtllm-h100-l2-70b-tp4-tput-480-128-2048")
    assert row["measured_s"] == pytest.approx(480 * 2048 / (1486 * 4))


def test_readme_claims_on_tensorrt_llm_rows(data):
    """The README's sentences on these rows: first-token latencies within 17 %, the
    multi-head models' requests within 12 %, Llama-2-70B's long decodes 43-59 % fast and its
    short-output rows within 22 %; and the per-GPU reading of the A100 table (as totals,
    GPT-J at TP 2 and batch 120 would be only 1.14x one GPU's Llama-2-7B at batch 60)."""
    rows = data["tensorrt_llm"]["rows"]
    ttft = [abs(r["calibrated_error"]) for r in rows if r["metric"] == "ttft_ms"]
    assert max(ttft) < 0.17
    multi_head = [abs(r["calibrated_error"]) for r in rows
                  if r["model"] in ("GPT_J_6B", "Llama2_7B")]
    assert len(multi_head) == 3 and max(multi_head) < 0.12
    long_70b = [r["calibrated_error"] for r in rows if r["model"] == "Llama2_70B"
                and r["metric"] != "ttft_ms" and r["output_len"] == 2048]
    assert len(long_70b) == 3 and all(-0.60 < e < -0.42 for e in long_70b)
    short_70b = [abs(r["calibrated_error"]) for r in rows if r["model"] == "Llama2_70B"
                 and r["metric"] != "ttft_ms" and r["output_len"] == 128]
    assert len(short_70b) == 4 and max(short_70b) < 0.22
    from symsys.accuracy import e2e

    single = {r["id"]: float(r["value"]) for r in e2e.rows()}
    gptj = next(float(r["value"]) for r in multi_gpu.e2e_rows()
                if r["id"] == "trtllm-a100-gptj-6b-tp2-tput-120-128-2048")
    assert gptj / single["trtllm-a100-l2-7b-tput-60-128-2048"] == pytest.approx(1.14, abs=0.005)


def test_per_query_head_kv_reads_do_not_explain_both_gpus(data):
    """The README's reason for adding no GQA re-read term: with every K/V head read once per
    query head (Llama-2-70B as if it had 64 K/V heads), the long-output H100 rows come within
    20 % and the A100 rows overshoot (up to 46 % slow)."""
    import dataclasses
    import warnings

    from symsys.accuracy import e2e
    from symsys.calibration import profile_for
    from symsys.errors import BeyondMaxContext
    from symsys.registry.models import Models
    from symsys.solvers.serving import ServingModel

    base = Models["Llama2_70B"]
    reread = dataclasses.replace(base, shape=dataclasses.replace(base.shape, kv_heads=64))
    errors = {}
    for row in multi_gpu.e2e_rows():
        if row["registry_model"] != "Llama2_70B" or row["metric"] == "ttft_ms":
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", BeyondMaxContext)
            served = ServingModel().solve(
                reread, row["registry_system"], prompt_len=int(row["input_len"]),
                output_len=int(row["output_len"]), batch_size=int(row["batch"]),
                precision=row["precision"], kv_precision=row["kv_precision"],
                efficiency=profile_for(row["registry_device"], row["precision"]),
                runtime=row["runtime"], tensor_parallel=int(row["tensor_parallel"]))
        errors[row["id"]] = (served.e2e_latency.m_as("s")
                             / e2e.measured_seconds(row) - 1)
    h100 = [abs(e) for k, e in errors.items() if "h100" in k]
    a100 = [e for k, e in errors.items() if "a100" in k]
    assert len(h100) == 4 and max(h100) < 0.20
    assert len(a100) == 3 and 0.40 < max(a100) < 0.47
