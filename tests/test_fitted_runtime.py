"""TensorRT-LLM's runtimes, fitted to its published GPT-J 6B requests and checked on its
Llama-2-7B requests (issue 15: every held-out end-to-end row within 35 %)."""

import numpy as np
import pytest

from symsys.accuracy import e2e
from symsys.accuracy.runtime_fit import fit, fit_all, fit_nonnegative
from symsys.calibration import profile_for
from symsys.calibration.runtimes import FITS, RUNTIMES, runtime_inputs
from symsys.errors import InvalidParameter
from symsys.registry.models import Models

TRT = ("tensorrt_llm_v0.5", "tensorrt_llm_v0.6.1")


def _rows(runtime, use):
    return [r for r in e2e.rows() if r["runtime"] == runtime and r["use"] == use]


def test_gpt_j_matches_its_model_card():
    """GPT-J 6B: 28 layers of 4096, 16 heads of 256 (no grouped K/V), GELU MLP of 16384;
    the model card's 6,053,381,344 parameters; K/V per token 2 x 28 x 4096 x 2 B."""
    model = Models["GPT_J_6B"]
    assert model.parameters.m_as("param") == pytest.approx(6_053_381_344, rel=5e-4)
    assert model.kv_bytes_per_token("fp16").m_as("B") == 2 * 28 * 4096 * 2
    shape = model.shape
    assert (shape.layers, shape.d_model, shape.heads, shape.kv_heads, shape.head_dim,
            shape.d_ff, shape.vocab) == (28, 4096, 16, 16, 256, 16384, 50400)
    assert not shape.gated_mlp and not shape.tied_embeddings


def test_each_runtime_is_fitted_on_gpt_j_only():
    for key in TRT:
        fit = _rows(key, "fit")
        assert {r["registry_model"] for r in fit} == {"GPT_J_6B"}
        assert {r["registry_model"] for r in _rows(key, "held_out")} == {"Llama2_7B"}
        assert RUNTIMES[key].steps == {"fp16": "A100", "fp8": "H100"}
    # v0.5 is known from first-token latencies, v0.6.1 from whole static batches
    assert {r["metric"] for r in _rows("tensorrt_llm_v0.5", "fit")} == {"ttft_ms"}
    assert {r["metric"] for r in _rows("tensorrt_llm_v0.6.1", "fit")} == {
        "output_tokens_per_s"}


@pytest.mark.parametrize("precision", ["fp16", "fp8"])
def test_two_first_token_rows_determine_v05_exactly(precision):
    """Two GPT-J first-token latencies (128 and 2048 tokens) and two unknowns, both positive:
    the fit reproduces both rows (12 / 129 ms on A100, 7 / 29 ms on H100)."""
    terms = runtime_inputs("tensorrt_llm_v0.5", precision)
    assert terms["n_aux"] == 1 and terms["t_aux"] > 0 and terms["q_act"] > 0
    for row in _rows("tensorrt_llm_v0.5", "fit"):
        if row["precision"] == precision:
            predicted, _ = e2e.predicted_seconds(row, profile_for(row["registry_device"],
                                                                  precision), terms)
            assert predicted == pytest.approx(e2e.measured_seconds(row), rel=1e-9)


def test_the_request_time_is_linear_in_both_terms():
    """The fit's premise: a calibrated request is base + t_aux A + q_act B exactly."""
    row = next(r for r in _rows("tensorrt_llm_v0.6.1", "fit")
               if r["id"] == "trtllm-h100-gptj-6b-tput-64-2048-128")
    profile = profile_for("H100", "fp8")

    def at(t, q):
        return e2e.predicted_seconds(row, profile, {"n_aux": 1.0, "t_aux": t, "q_act": q})[0]

    base, a, b = at(0, 0), at(1e-4, 0) - at(0, 0), at(0, 100) - at(0, 0)
    assert at(3e-5, 70) == pytest.approx(base + 0.3 * a + 0.7 * b, rel=1e-9)


def test_nonnegative_least_squares_by_hand():
    measured = np.array([2.0, 4.0, 6.0])
    base = np.array([1.0, 1.0, 1.0])
    per_t, per_q = np.array([1.0, 1.0, 1.0]), np.array([0.0, 1.0, 2.0])
    # 1 + t + q x = 2, 4, 6 for x = 0, 1, 2: t = 1, q = 2 exactly
    assert fit_nonnegative(base, per_t, per_q, measured) == pytest.approx((1.0, 2.0))
    # a measurement below the base asks for a negative term: it stays at 0 and the other
    # term takes the fit (here q = 0 is best too: nothing to add)
    assert fit_nonnegative(np.array([3.0, 3.0]), np.array([1.0, 1.0]),
                            np.array([1.0, 2.0]), np.array([2.0, 2.0])) == (0.0, 0.0)


def test_held_out_llama_rows_within_20_percent_and_closer_than_without():
    """Every Llama-2-7B TensorRT-LLM row (held out) within 20 %; without the runtime four
    of them were 37-57 % fast."""
    data = e2e.report()
    without_worst = 0.0
    for row in data["rows"]:
        if row["engine"] != "TensorRT-LLM" or row["use"] != "held_out":
            continue
        assert abs(row["calibrated_error"]) < 0.20, row["id"]
        source = next(r for r in e2e.rows() if r["id"] == row["id"])
        bare, _ = e2e.predicted_seconds(source, profile_for(row["device"], source["precision"]))
        without_worst = max(without_worst, abs(bare / row["measured_s"] - 1))
    assert without_worst > 0.55
    assert data["held_out"]["max"] <= data["targets"]["max"]
    assert data["held_out"]["median"] <= data["targets"]["median"]


def test_shipped_fits_equal_a_refit():
    """registry/data/runtime_fits.json is what the fit gives on the shipped rows now."""
    import json

    shipped = json.loads(FITS.read_text())
    again = fit_all()
    assert shipped.keys() == again.keys() == set(TRT)
    for key, precisions in again.items():
        for precision, terms in precisions.items():
            stored = shipped[key][precision]
            assert stored["rows"] == terms["rows"] and stored["device"] == terms["device"]
            for name in ("n_aux", "t_aux", "q_act"):
                assert stored[name] == pytest.approx(terms[name], rel=1e-9, abs=1e-15), (
                    f"{FITS.name} is stale: run python tools/build_calibration_data.py")


def test_fitted_runtime_errors_name_the_precision():
    with pytest.raises(InvalidParameter, match="fitted at fp16, fp8, not at 'bf16'"):
        runtime_inputs("tensorrt_llm_v0.6.1", "bf16")
    with pytest.raises(InvalidParameter, match="not a fitted runtime"):
        fit("torch_eager")
