"""Training calibration: the measured runs read as stated, the fit recovers a known efficiency,
the shipped profiles reproduce, and calibrated H100 training uses them."""

import csv

import pytest

from symsys.accuracy import training_fit as tp
from symsys.calibration import profile_for
from symsys.calibration.training_profile import training_profile_for
from symsys.solvers.training import TrainingModel


def test_step_time_of_a_published_run_by_hand():
    # MPT-70b on 256 H100s (llm-foundry, large-scale table): 2048 sequences of 2048 tokens at
    # 1035 tokens/s per GPU: 2048 x 2048 / (1035 x 256) = 15.83 s a step
    row = next(r for r in tp.rows() if r["model"] == "MPT-70b" and r["gpus"] == 256)
    assert row["step_s"] == pytest.approx(2048 * 2048 / (1035 * 256), rel=1e-12)
    assert row["step_s"] == pytest.approx(15.83, abs=0.01)
    assert tp.system_of(row) == "DGX_H100_SU"
    with pytest.raises(Exception, match="no registry system of H100 nodes"):
        tp.system_of({**row, "gpus": 512})


def test_the_model_is_the_published_shape():
    row = next(r for r in tp.rows() if r["model"] == "MPT-7b")
    model = tp.model_of(row)
    shape = model.shape
    assert (shape.layers, shape.d_model, shape.heads, shape.d_ff) == (32, 4096, 32, 4 * 4096)
    assert shape.kv_heads == shape.heads and not shape.gated_mlp
    # llm-foundry's mpt-7b.yaml is 6.7B parameters (its README's 7b)
    assert model.parameters.m_as("param") == pytest.approx(6.65e9, rel=0.02)


def test_fit_recovers_a_known_efficiency(tmp_path):
    rows = [r for r in tp.rows() if r["precision_key"] == "bf16"
            and r["split"] != "excluded"][:6]
    eta_c, eta_m = 0.52, profile_for("H100", "bf16").eta_m
    path = tmp_path / "runs.csv"
    with tp.MEASURED.open() as handle:
        fields = next(csv.reader(handle))
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for i, row in enumerate(rows):
            step = tp.predict(row, eta_c, eta_m)  # what a run at eta_c would measure
            tokens = row["global_batch_sequences"] * row["seq_len"]
            writer.writerow({**row, "tokens_per_sec_per_gpu": repr(tokens / (step * row["gpus"])),
                             "split": "holdout" if i == 0 else "fit"})
    profile = tp.fit_training("H100", "bf16", path)
    assert profile.eta_c == pytest.approx(eta_c, rel=1e-4)
    assert profile.fit["max"] < 1e-3 and profile.holdout["max"] < 1e-3


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["bf16", "fp8"])
def test_shipped_profile_matches_a_refit(precision):
    shipped = training_profile_for("H100", precision)
    refit = tp.fit_training("H100", precision)
    assert refit.eta_c == pytest.approx(shipped.eta_c, rel=1e-5)
    assert refit.holdout["median"] == pytest.approx(shipped.holdout["median"], rel=1e-6)


def test_calibrated_h100_training_uses_the_training_profile():
    profile = training_profile_for("H100", "bf16")
    assert profile is not None and profile.n_fit >= 40
    # fitted on training runs, it is below the inference kernels' efficiency (issue 26: every
    # H100 run came out slower than the kernel profile predicted)
    assert profile.eta_c < profile_for("H100", "bf16").eta_c
    kwargs = dict(global_batch_size=64, seq_len=2048, data_parallel=8, zero_stage=3)
    calibrated = TrainingModel().solve("Llama3_8B", "DGX_H100", efficiency="calibrated",
                                       **kwargs)
    assert calibrated.scenario.values["eta_c"] == profile.eta_c
    # the native 16-bit format of the H100 is fp16 here: the bf16 fit, the same tensor cores
    assert ("training profile H100 fp16" in calibrated.scenario.options["efficiency"]
            and "transferred from bf16 to fp16" in calibrated.scenario.options["efficiency"])
    bound = TrainingModel().solve("Llama3_8B", "DGX_H100", **kwargs)
    assert bound.latency < calibrated.latency
    # a device with no training profile keeps its kernel profile, and says so
    a100 = TrainingModel().solve("Llama3_8B", "DGX_A100", efficiency="calibrated", **kwargs)
    assert "calibrated profile A100" in a100.scenario.options["efficiency"]


@pytest.mark.slow
def test_the_readme_carries_the_generated_table():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert tp.readme_table() in readme
