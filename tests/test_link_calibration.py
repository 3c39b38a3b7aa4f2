"""Link calibration: the fit recovers known parameters, the shipped profiles load and apply."""

import numpy as np
import pytest

import symsys
from symsys.calibration import links
from symsys.errors import InvalidParameter


def test_ring_all_reduce_term_by_hand():
    # alpha_c + 2 (n - 1) (alpha_x + m / (n beta)) at n = 8, m = 16 kB, 450 GB/s, a call of
    # 5 us and NCCL's 0.6 us per NVLink step: 5 + 14 x (0.6 + 0.0046) = 13.46 us
    n, m, beta, alpha_c = 8, 16384.0, 450e9, 5e-6
    expected = alpha_c + 2 * (n - 1) * (0.6e-6 + m / (n * beta))
    assert links.predict(n, m, beta, alpha_c) == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(13.46e-6, abs=0.01e-6)


def test_in_network_all_reduce_by_hand():
    # where the switch reduces: alpha_c + (n - 1)/n (2 alpha_x + m / beta), two steps and
    # (n - 1)/n of the buffer each way, at n = 8, m = 16 kB, 450 GB/s, 5 us a call:
    # 5 + 0.875 x (1.2 + 0.0364) = 6.0819 us
    n, m, beta, alpha_c = 8, 16384.0, 450e9, 5e-6
    assert links.predict(n, m, beta, alpha_c, in_network=True) == pytest.approx(
        6.0819e-6, abs=1e-10)
    # half the ring's bytes on the wire, whatever n; nothing at all for a group of one
    big = 2.0 ** 33
    for group in (2, 4, 8):
        ring = links.predict(group, big, beta, 0.0, 0.0)
        switch = links.predict(group, big, beta, 0.0, 0.0, in_network=True)
        assert ring / switch == pytest.approx(2.0, rel=1e-12)
    assert links.predict(1, big, beta, alpha_c, in_network=True) == alpha_c


def test_speed_of_light_is_never_faster_than_a_measured_all_reduce():
    # every collected (non-blind) all-reduce, whatever its split: the fabric's all-reduce at
    # the nominal link and no latency takes at most the measured time. The 8 GiB NVLS row on
    # DGX H100 (478.9 GB/s bus bandwidth) broke the ring's bound: 2 x 7/8 x 8 GiB / 450 GB/s
    # = 33.4 ms against 31.4 ms measured; the switch's bound is 7/8 x 8 GiB / 450 GB/s = 16.7 ms
    rows = links.rows()
    assert len(rows) >= 100
    ratios = []
    for row in rows:
        beta, _, _, in_network = links.nominal_link(row["system"])
        bound = links.predict(row["gpus"], row["size_bytes"], beta, 0.0, 0.0,
                              in_network=in_network)
        ratios.append(bound / row["time_s"])
    assert max(ratios) < 1
    h100 = [r for r in rows if r["system"] == "DGX_H100" and r["size_bytes"] == 2.0 ** 33]
    assert h100 and h100[0]["time_s"] == pytest.approx(31.3914e-3, rel=1e-5)
    assert links.predict(8, 2.0 ** 33, 450e9, 0.0, 0.0) > h100[0]["time_s"]


def test_fit_recovers_known_eta_and_alpha(tmp_path):
    beta, _, _, in_network = links.nominal_link("DGX_H100")
    assert in_network  # NVLink SHARP on third-generation NVSwitch: fitted on its algorithm
    eta, alpha = 0.73, 8.4e-6
    n = np.repeat([2, 4, 8], 11)
    m = np.tile(2.0 ** np.arange(3, 36, 3), 3)  # 8 B to 4 GiB
    t = links.predict(n, m, eta * beta, alpha, in_network=True)
    path = tmp_path / "synthetic.csv"
    lines = ["system,gpus,size_bytes,time_us,split,url"]
    split = ["holdout" if i % 5 == 0 else "fit" for i in range(len(n))]
    lines += [f"DGX_H100,{a},{b},{float(c) * 1e6!r},{k},https://x/y/1"
              for a, b, c, k in zip(n, m, t, split)]
    path.write_text("\n".join(lines) + "\n")
    profile = links.fit_link("DGX_H100", path)
    assert profile.eta_x == pytest.approx(eta, rel=1e-6)
    assert profile.alpha_c == pytest.approx(alpha, rel=1e-6)
    assert profile.alpha_x == links.NVLINK_STEP  # NCCL's, not fitted
    assert profile.holdout["p90"] < 1e-6 and profile.fit["p90"] < 1e-6


@pytest.mark.parametrize("system", ["DGX_A100", "DGX_H100", "MI300X_Platform"])
def test_shipped_profile_loads_and_matches_a_refit(system):
    shipped = links.link_profile_for(None, system)
    assert shipped.system == system and 0 < shipped.eta_x <= 1 and shipped.alpha_x > 0
    assert shipped.holdout["n"] > 0 and shipped.holdout_rows
    # fitted on whole 8-GPU nodes, 8 KiB to 8 GiB, on the algorithm the fabric runs
    assert shipped.n_fit >= 15
    assert shipped.in_network == (system == "DGX_H100")
    assert shipped.holdout["p90"] < 0.35 and shipped.fit["median"] < 0.15
    refit = links.fit_link(system)
    assert refit.eta_x == pytest.approx(shipped.eta_x, rel=1e-6)
    assert refit.alpha_c == pytest.approx(shipped.alpha_c, rel=1e-6)


def test_calibrated_tp8_uses_the_link_profile():
    profile = links.link_profile_for(None, "DGX_H100")
    r = symsys.Engine.solve("Llama3_70B", "DGX_H100", tensor_parallel=8,
                            efficiency="calibrated")
    v = r.inputs.values
    assert v["alpha_x"] == profile.alpha_x and v["alpha_c"] == profile.alpha_c
    assert v["beta_x"] == pytest.approx(profile.eta_x * profile.beta_nominal)
    assert "link profile DGX_H100" in r.efficiency_source
    # the communication term is the law's two all-reduces per layer at those values, in the
    # switch (NVLink SHARP on the DGX H100's third-generation NVSwitch)
    assert v["z_nvls"] == 1 and profile.in_network
    m = 2 * 8192  # fp16 activations of one token, d = 8192
    per_layer = 2 * links.predict(8, m, v["beta_x"], v["alpha_c"], v["alpha_x"],
                                  in_network=True)
    assert r.quantity("t_comm").m_as("s") == pytest.approx(80 * per_layer, rel=1e-9)
    # the speed-of-light default is unchanged: nominal link, no latency
    bound = symsys.Engine.solve("Llama3_70B", "DGX_H100", tensor_parallel=8)
    assert bound.inputs.values["alpha_x"] == 0
    assert bound.inputs.values["beta_x"] == profile.beta_nominal
    assert bound.latency < r.latency


def test_calibrated_without_link_profile_is_an_error():
    with pytest.raises(InvalidParameter, match="no link calibration"):
        links.link_profile_for("Gaudi3", "Gaudi3_Node")
    with pytest.raises(InvalidParameter, match="link_latency"):
        symsys.Engine.solve("Llama3_70B", "DGX_H100", tensor_parallel=8,
                            efficiency="calibrated", link_latency=symsys.Q_(1, "us"))


def test_a_fabric_profile_transfers_to_a_system_with_the_same_fast_domain():
    # DGX H200: the DGX H100's NVLink 4 / third-generation NVSwitch fabric with H200 GPUs
    profile = links.link_profile_for(None, "DGX_H200")
    assert profile is links.link_profile_for(None, "DGX_H100") or (
        profile.system == "DGX_H100")
    r = symsys.Engine.solve("Llama3_70B", "DGX_H200", tensor_parallel=8,
                            efficiency="calibrated")
    v = r.inputs.values
    assert v["beta_x"] == pytest.approx(profile.eta_x * profile.beta_nominal)
    assert v["alpha_c"] == profile.alpha_c
    assert ("fitted on DGX_H100, transferred to DGX_H200's identical fast domain"
            in r.efficiency_source)
    # another fabric (NVLink 5 on a DGX B200) has none, and says which systems do
    with pytest.raises(InvalidParameter, match="no link calibration for system DGX_B200"):
        links.link_profile_for(None, "DGX_B200")
