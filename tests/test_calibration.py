"""Calibration (issue 7): the smooth and tiled laws, the fit, profiles, validation, README."""

import io
import json
import runpy
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import symsys
from symsys import cli
from symsys import symbols as S
from symsys.calibration import (
    CalibrationProfile,
    Measurements,
    attach,
    calibrate,
    detach,
    load_vidur,
    predict,
    profile_for,
    report,
)
from symsys.calibration.fit import _Problem, _Transform
from symsys.errors import InvalidParameter
from symsys.laws import ALL, gemm_tiled, roofline, smooth_roofline
from symsys.registry.hardware import Hardware

KNOWN = {"eta_c": 0.62, "eta_m": 0.81, "t_o": 4e-6, "p_smooth": 2.5}


def synthetic(law: str, params=KNOWN, noise=0.0, seed=0) -> Measurements:
    """GEMMs spanning both regimes, timed by ``law`` itself (times are then replaced)."""
    m, n, k = (a.ravel().astype(float) for a in np.meshgrid(
        [1, 8, 64, 100, 200, 513, 1024, 4096], [1024, 4096, 12288], [512, 4096, 8192]))
    shapes = Measurements("A100", "fp16", 2 * m * n * k, 2 * (m * k + k * n + m * n),
                          np.ones_like(m), m=m, n=n, k=k)
    fitted = {name: params[name] for name in ("eta_c", "eta_m", "t_o", "p_smooth")
              if law != "roofline" or name != "p_smooth"}
    time = predict(law, shapes, Hardware.A100, fitted)
    time = time * np.exp(np.random.default_rng(seed).normal(0, noise, time.size))
    return Measurements("A100", "fp16", shapes.flops, shapes.bytes, time, m=m, n=n, k=k)


# --- laws ----------------------------------------------------------------------------------
def test_laws_are_registered_and_reuse_the_roofline_definitions():
    assert ALL["smooth_roofline"] is smooth_roofline and ALL["gemm_tiled"] is gemm_tiled
    for name in ("t_compute", "t_memory"):
        assert smooth_roofline.rhs(name) == roofline.rhs(name)
    assert gemm_tiled.rhs("T") == smooth_roofline.rhs("T")
    assert gemm_tiled.rhs("t_compute") == roofline.rhs("t_compute").xreplace({S.F: S.F_x})


def test_smooth_law_latex():
    assert (r"T &= t_{o} + \left(t_{\mathrm{compute}}^{p} + t_{\mathrm{memory}}^{p}\right)"
            r"^{\frac{1}{p}}") in smooth_roofline.latex()


def test_smooth_law_tends_to_the_max_law():
    smooth = smooth_roofline.expr("T")
    # exact limit of one instance
    instance = {S.F: 3, S.Q: 2, S.Pi: 1, S.beta: 1, S.eta_c: 1, S.eta_m: 1, S.t_o: 0}
    assert sp.limit(smooth.subs(instance), S.p_smooth, sp.oo) == 3
    # numerically, over intensities across the ridge: the gap is largest at the ridge,
    # where it is 2^(1/p) - 1, and shrinks as p grows
    values = {"eta_c": 1.0, "eta_m": 1.0, "t_o": 0.0}
    ridge = 1e9 * Hardware.A100.ridge_point("fp16").m_as("FLOP/B")  # FLOPs of Q = 1 GB
    flops = ridge * np.logspace(-2, 2, 401)  # the middle point is the ridge itself
    for p, gap in ((8, 0.0906), (64, 0.0109), (1024, 0.00068)):
        shapes = Measurements("A100", "fp16", flops, np.full_like(flops, 1e9), np.ones(401))
        ratio = (predict("smooth", shapes, Hardware.A100, {**values, "p_smooth": p})
                 / predict("roofline", shapes, Hardware.A100, values))
        assert np.all(ratio >= 1 - 1e-12)
        assert ratio.max() == pytest.approx(2 ** (1 / p), rel=1e-4) and ratio.max() - 1 < gap
    away = np.abs(np.log(flops / ridge)) > np.log(1.5)
    assert np.max(ratio[away] - 1) < 1e-9  # p = 1024, a factor 1.5 from the ridge


def test_gemm_law_pads_rows_only_above_one_tile():
    t_c = gemm_tiled.expr("t_compute").subs({S.N_g: 1, S.K_g: 1, S.Pi: 2, S.eta_c: 1,
                                              S.m_tile: 128})
    assert [t_c.subs(S.M_g, m) for m in (1, 100, 128, 129, 256, 257)] == \
        [1, 100, 128, 256, 256, 384]


# --- fit -----------------------------------------------------------------------------------
@pytest.mark.parametrize("law", ["roofline", "smooth", "gemm"])
def test_fit_recovers_known_parameters(law):
    profile = calibrate(synthetic(law), law=law)
    for name, value in profile.params.items():
        assert value == pytest.approx(KNOWN[name], rel=1e-6), name
    assert profile.median < 1e-8 and profile.bounds_hit == ()


def test_fit_with_noise_is_within_a_few_standard_errors():
    profile = calibrate(synthetic("smooth", noise=0.02, seed=1), law="smooth")
    for name, value in profile.params.items():
        assert abs(value - KNOWN[name]) < 4 * profile.stderr[name], name


def test_a_parameter_at_its_bound_is_reported_not_clamped():
    data = synthetic("roofline", params={**KNOWN, "eta_m": 1.0})
    profile = calibrate(data, law="roofline")
    assert "eta_m reached its upper bound 1" in profile.bounds_hit
    assert profile.stderr["eta_m"] is None and 0.999 < profile.eta_m <= 1


@pytest.mark.parametrize("law", ["smooth", "gemm", "roofline"])
def test_jacobian_matches_central_difference(law):
    data = synthetic(law)
    if law == "roofline":  # away from the max() kink, where the derivative exists
        intensity = data.flops / data.bytes
        data = data.select(np.abs(np.log(intensity / 200)) > 0.2)
    problem = _Problem(law, data, Hardware.A100)
    u = np.array([_Transform(p).inverse(v) for p, v in
                  zip(problem.fitted, (0.55, 0.75, 3.0, 3.0))])
    _, jacobian = problem.evaluate(u)
    for j in range(len(u)):
        h = np.zeros_like(u)
        h[j] = 1e-6
        numeric = (problem.evaluate(u + h)[0] - problem.evaluate(u - h)[0]) / 2e-6
        np.testing.assert_allclose(jacobian[:, j], numeric, rtol=1e-5, atol=1e-9)


def test_gemm_law_needs_shapes():
    data = synthetic("roofline")
    bare = Measurements("A100", "fp16", data.flops, data.bytes, data.time)
    with pytest.raises(InvalidParameter, match="GEMM shapes"):
        calibrate(bare, law="gemm")
    with pytest.raises(InvalidParameter, match="calibration laws are"):
        calibrate(bare, law="nope")


def test_measurements_from_quantities():
    from symsys import Q_

    data = Measurements.of([(Q_(2, "TFLOP"), Q_(1, "GB"), Q_(10, "ms"))], "A100")
    assert data.flops[0] == 2e12 and data.bytes[0] == 1e9 and data.time[0] == 0.01
    truth = synthetic("roofline")
    kernels = [(Q_(f, "FLOP"), Q_(q / 1e9, "GB"), Q_(t * 1e3, "ms"))
               for f, q, t in zip(truth.flops, truth.bytes, truth.time)]
    profile = symsys.calibrate(kernels, hardware="A100")  # the public entry point
    assert profile.eta_c == pytest.approx(KNOWN["eta_c"], rel=1e-6)
    with pytest.raises(InvalidParameter, match="hardware="):
        calibrate(kernels)


# --- profiles ------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".json", ".toml"])
@pytest.mark.parametrize("law", ["roofline", "gemm"])
def test_profile_round_trips(tmp_path, suffix, law):
    profile = calibrate(synthetic(law, noise=0.01), law=law, provenance="synthetic")
    path = profile.save(tmp_path / f"p{suffix}")
    assert CalibrationProfile.load(path) == profile


def test_profile_for_shipped_and_errors():
    profile = profile_for(Hardware.H100, "fp16")
    assert (profile.device, profile.law, profile.p_smooth) == ("H100", "roofline", None)
    assert 0 < profile.eta_c <= 1 and 0 < profile.eta_m <= 1 and profile.t_o > 0
    assert "7d47513" in profile.provenance and "law roofline" in profile.provenance
    assert profile_for("a100-sxm", "fp16", "smooth").p_smooth > 1
    with pytest.raises(InvalidParameter, match="A100 fp16, H100 fp16"):
        profile_for("A100", "fp8")
    with pytest.raises(InvalidParameter, match="A100 fp16"):
        profile_for("B200", "fp16")


def test_attached_profile_wins_until_detached():
    mine = calibrate(synthetic("roofline"), law="roofline")
    attach(mine)
    try:
        assert profile_for("A100") is mine
    finally:
        detach("A100")
    assert profile_for("A100") != mine


# --- data and validation ---------------------------------------------------------------------
def test_shipped_data_is_inside_the_package_and_shapes_follow_tensor_parallelism():
    data = load_vidur()
    assert set(data) == {"A100", "H100"} and len(data["A100"]) == 16692
    a100 = data["A100"]
    pick = (a100.model == "Llama-2-70b-hf") & (a100.op == "attn_pre_proj") & (a100.tp == 8)
    assert set(zip(a100.k[pick], a100.n[pick])) == {(8192, 1280)}  # QKV: 10240 / 8 out
    pick = (a100.model == "Llama-2-70b-hf") & (a100.op == "mlp_down_proj") & (a100.tp == 8)
    assert set(zip(a100.k[pick], a100.n[pick])) == {(3584, 8192)}  # down: 28672 / 8 in


def test_validation_report_on_shipped_data():
    result = report()
    for key, device in result["devices"].items():
        assert device["violations"] == [], key  # the speed of light is never slower
        assert device["slowdown_median"] > 1
        for law, calibrated in device["calibrated"].items():
            fit = profile_for(key, "fp16", law)
            stats = calibrated["all"]
            assert stats["n"] == fit.n
            for name in ("median", "mean", "p90"):
                assert stats[name] == pytest.approx(getattr(fit, name), rel=1e-9)
        assert set(device["speed_of_light"]["by_op"]) == {
            "attn_pre_proj", "attn_post_proj", "mlp_up_proj", "mlp_down_proj"}


def test_cli_validate_json_parses():
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(["validate", "--json", "--law", "roofline"]) == 0
    data = json.loads(out.getvalue())
    assert set(data["devices"]) == {"A100", "H100"}
    assert list(data["devices"]["A100"]["calibrated"]) == ["roofline"]


def test_cli_validate_bad_data_path_is_one_line():
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(["validate", "--json", "--data", "/no/such/folder"]) == 1
    assert json.loads(out.getvalue())["error"] == "InvalidParameter"


def test_readme_accuracy_section_is_generated():
    # the README writer is a repository script, not part of the installed package
    tool = runpy.run_path(str(Path(__file__).resolve().parents[1] / "tools/readme_accuracy.py"))
    assert tool["readme_section"]() == tool["accuracy_markdown"](), (
        "README accuracy section is stale: run `python tools/readme_accuracy.py`")


def test_bf16_and_fp16_share_a_profile_where_they_share_a_peak():
    bf16 = profile_for("A100", "bf16")
    fp16 = profile_for("A100", "fp16")
    assert (bf16.eta_c, bf16.eta_m, bf16.t_o) == (fp16.eta_c, fp16.eta_m, fp16.t_o)
    assert bf16.precision == "bf16" and "transferred from fp16 to bf16" in bf16.provenance
    # nothing else transfers: fp8 runs other kernels (the H100 takes the fp8 GEMMs timed on
    # the H200, its die twin; the A100 has no fp8); a device without a profile has none
    with pytest.raises(InvalidParameter, match="no calibration profile for A100 at fp8"):
        profile_for("A100", "fp8")
    assert profile_for("H100", "fp8").provenance.endswith("(fp16 profile)")
    with pytest.raises(InvalidParameter, match="no calibration profile for B200 at bf16"):
        profile_for("B200", "bf16")
