"""Calibration transfer rules (issue 15): same chip on another board, weight-only decode, and
a clear error where no rule applies."""

import pytest

from symsys import Engine
from symsys.calibration import CalibrationProfile, attach, profile_for
from symsys.calibration.profile import SAME_CHIP, WEIGHT_ONLY_DEQUANT
from symsys.errors import InvalidParameter
from symsys.registry.hardware import Hardware


def _efficiencies(profile):
    return profile.eta_c, profile.eta_m, profile.t_o


def test_same_chip_boards_exist_and_have_a_profiled_sxm_twin():
    for board, chip in SAME_CHIP.items():
        assert Hardware[board].key == board and Hardware[chip].key == chip
        assert profile_for(chip, "fp16").device == chip


@pytest.mark.parametrize("board,chip", sorted(SAME_CHIP.items()))
def test_a_board_shares_efficiencies_not_peaks(board, chip):
    mine, theirs = profile_for(board, "fp16"), profile_for(chip, "fp16")
    assert _efficiencies(mine) == _efficiencies(theirs)
    assert mine.device == board and f"transferred from {chip} to {board}" in mine.provenance
    with pytest.raises(InvalidParameter, match=f"no calibration profile for {board} at fp16"):
        profile_for(board, "fp16", transfer=False)


def test_a100_pcie_uses_its_own_bandwidth():
    """Weights-only decode is memory-bound: PCIe / SXM time = SXM / PCIe bandwidth."""
    pcie, sxm = (Engine.solve("Llama2_7B", hw, precision="fp16", efficiency="calibrated")
                 for hw in ("A100_PCIe", "A100"))
    assert pcie.efficiency_source == sxm.efficiency_source.replace("A100 fp16",
                                                                   "A100_PCIe fp16")
    ratio = (Hardware.A100.memory.bandwidth / Hardware.A100_PCIe.memory.bandwidth).m_as("")
    memory_only = [r.latency_memory.m_as("s") for r in (pcie, sxm)]
    assert memory_only[0] / memory_only[1] == pytest.approx(ratio, rel=1e-9)
    assert pcie.latency > sxm.latency


def test_board_and_precision_rules_compose():
    bf16 = profile_for("A100_PCIe", "bf16")
    assert _efficiencies(bf16) == _efficiencies(profile_for("A100", "fp16"))
    assert (bf16.device, bf16.precision) == ("A100_PCIe", "bf16")
    assert "fp16 to bf16" in bf16.provenance and "A100 to A100_PCIe" in bf16.provenance


@pytest.mark.parametrize("weight", sorted(WEIGHT_ONLY_DEQUANT))
def test_weight_only_decode_scales_eta_m_by_the_measured_factor(weight):
    rule = WEIGHT_ONLY_DEQUANT[weight]
    assert 0 < rule.factor < 1 and "gpt-fast" in rule.source
    base = profile_for("A100", "bf16")
    quant = profile_for("A100", "bf16", weight_precision=weight)
    assert quant.eta_m == pytest.approx(base.eta_m * rule.factor, rel=1e-12)
    assert (quant.eta_c, quant.t_o, quant.precision) == (base.eta_c, base.t_o, "bf16")
    assert quant.weight_precision == weight and f"weight-only {weight}" in quant.provenance
    # the same chip on another board takes the rule too
    assert profile_for("A100_PCIe", "bf16", weight_precision=weight).device == "A100_PCIe"
    # weights in the compute precision are not weight-only
    assert profile_for("A100", "bf16", weight_precision="bf16") == base
    # a CalibrationProfile round-trips the weight format
    assert CalibrationProfile.from_dict(quant.to_dict()) == quant


def test_weight_only_profile_solves_a_memory_bound_decode():
    quant = profile_for("A100", "bf16", weight_precision="int8")
    r = Engine.solve("Llama2_7B", "A100", precision="bf16", weight_precision="int8",
                     efficiency=quant)
    bf16 = Engine.solve("Llama2_7B", "A100", precision="bf16", efficiency="calibrated")
    assert r.bottleneck.lower() == "memory"
    # half the weight bytes at a lower achieved bandwidth: faster, but not twice as fast
    assert bf16.latency / 2 < r.latency < bf16.latency


def test_no_rule_is_a_clear_error():
    with pytest.raises(InvalidParameter, match="dequantisation factor for int8 weights on H100"):
        profile_for("H100", "bf16", weight_precision="int8")
    with pytest.raises(InvalidParameter, match="int4 on A100"):  # names what is measured
        profile_for("H100", "fp16", weight_precision="int4")
    with pytest.raises(InvalidParameter, match="at fp16 with fp8 weights"):  # no rule for fp8
        profile_for("A100", "fp16", weight_precision="fp8")
    with pytest.raises(InvalidParameter, match="transfer=False"):
        profile_for("A100", "bf16", weight_precision="int8", transfer=False)
    with pytest.raises(InvalidParameter, match="fp8 GEMMs of B200"):
        profile_for("B200", "fp8")  # no fp8 GEMMs timed on the B200 nor on a die twin
    with pytest.raises(InvalidParameter, match="no calibration profile for B200 at fp16"):
        profile_for("B200", "fp16")  # another chip: no board rule


def test_attach_refuses_a_weight_only_profile():
    with pytest.raises(InvalidParameter, match="weight-only profile"):
        attach(profile_for("A100", "bf16", weight_precision="int8"))
