"""Registries: every entry loads and validates, lookups, provenance, parameter counts."""

import math

import pytest

import symsys
from symsys.errors import RegistryError, UnknownHardware, UnknownModel, UnsupportedPrecision
from symsys.registry import Hardware, Models
from symsys.registry.common import Fields
from symsys.registry.hardware import load as load_hardware

SEED_DEVICES = ["V100", "A100", "A100_40GB", "H100", "H100_PCIe", "H200", "B200", "MI300X",
                "TPUv4", "TPUv5e", "TPUv5p", "TPUv6e", "Cerebras_CS3"]
ALSO = ["GB200", "MI250X", "MI325X", "Gaudi2", "Gaudi3", "Trainium2", "L4", "L40S", "T4", "A10G",
        "Groq_LPU", "Cerebras_CS2", "RTX4090", "RTX5090", "M4_Max", "M2_Ultra",
        "Jetson_AGX_Orin"]


def test_at_least_30_devices_including_everything_the_seeds_name():
    assert len(Hardware) >= 30
    for key in SEED_DEVICES + ALSO:
        assert key in Hardware.list()


@pytest.mark.parametrize("device", list(Hardware), ids=lambda d: d.key)
def test_every_device_is_sourced_and_has_finite_ridge_points(device):
    assert device.source.url.startswith("http")
    assert device.source.date or device.source.retrieved
    assert device.memory.capacity.m_as("B") > 0 and device.memory.bandwidth.m_as("B/s") > 0
    for precision in device.compute.precisions:
        ridge = device.ridge_point(precision).m_as("FLOP/B")
        assert math.isfinite(ridge) and ridge > 0
    for precision, sparse in device.compute.peak_sparse.items():
        if precision in device.compute.peak_dense:
            assert sparse >= device.compute.peak_dense[precision]


def test_published_specs_the_seeds_use():
    a100, h100 = Hardware.Cloud.A100, Hardware.Cloud.H100
    assert a100.compute.peak_flops.to("TFLOPs/s").magnitude == pytest.approx(312)
    assert a100.memory.bandwidth.to("TB/s").magnitude == pytest.approx(2.039)
    assert h100.compute.peak_flops.to("TFLOPs/s").magnitude == pytest.approx(989.4, rel=1e-3)
    assert h100.memory.bandwidth.to("TB/s").magnitude == pytest.approx(3.35)
    assert h100.compute.peak_sparse["fp16"].m_as("TFLOP/s") == pytest.approx(1979, rel=1e-3)
    assert Hardware.V100.memory.bandwidth.m_as("GB/s") == pytest.approx(900)
    # the ridge point comes from the roofline law: 989.4 / 3.35
    assert h100.ridge_point("fp16").m_as("FLOP/B") == pytest.approx(295.3, rel=1e-3)


def test_lookup_by_alias_case_and_group():
    assert Hardware["h100-sxm"] is Hardware.H100 is Hardware.Cloud.H100
    assert Hardware["A100-SXM4-80GB"] is Hardware.A100
    assert Models["meta-llama/Meta-Llama-3-8B"] is Models.Llama3_8B is Models.Language.Llama3_8B
    assert Models.Language.GPT3 is Models["gpt-3"]


def test_unknown_names_suggest_close_matches():
    with pytest.raises(UnknownHardware, match="Did you mean.*H100"):
        Hardware["H1000"]
    with pytest.raises(UnknownModel, match="Did you mean"):
        Models["Llama3_9B"]
    with pytest.raises(AttributeError, match="Did you mean"):
        _ = Hardware.Cloud.H10


def test_a_missing_precision_lists_the_ones_the_device_has():
    with pytest.raises(UnsupportedPrecision, match="TPUv5e has no dense fp16 peak; it has bf16"):
        Hardware.TPUv5e.ridge_point("fp16")


def test_cerebras_streaming_bandwidth_is_recorded_in_bits():
    cs3 = Hardware.Cerebras_CS3
    assert cs3.streaming.injection_bandwidth.m_as("GB/s") == pytest.approx(150)
    assert cs3.onchip.sram.m_as("GB") == pytest.approx(44)


def test_malformed_entry_names_file_and_field(tmp_path):
    bad = tmp_path / "hardware_bad.toml"
    bad.write_text('[[device]]\nkey = "X"\nname = "X"\ngroup = "Cloud"\nvendor = "v"\n'
                   'year = 2020\nsource = { document = "d", url = "http://x", date = "2020-01-01" }\n'
                   '[device.peak_dense]\nfp16 = "100 TB/s"\n'
                   '[device.memory]\ncapacity = "80 GB"\nbandwidth = "2 TB/s"\n')
    with pytest.raises(RegistryError, match=r"hardware_bad.toml: device\[0\] \(X\)\.peak_dense\.fp16"):
        load_hardware([bad])
    with pytest.raises(RegistryError, match="year: required field is missing"):
        Fields({}, "f.toml: device[0]").get("year", int)


LANGUAGE = [m for m in Models if hasattr(m, "shape")]


@pytest.mark.parametrize("model", LANGUAGE, ids=lambda m: m.key)
def test_parameter_count_matches_the_official_number(model):
    derived = model.parameters.m_as("param")
    # within 1% of the official count; entries whose official figure is a rounded size label
    # ("7B") are held to the label's own rounding (5%) and say so in their notes
    tolerance = 0.05 if model.official_is_label else 0.01
    assert derived == pytest.approx(model.official_parameters, rel=tolerance)
    assert model.official_source.url.startswith("http")


def test_hand_checked_llama3_8b_counts():
    m = Models.Llama3_8B
    # attention 2*4096*4096 + 2*4096*1024, FFN 3*4096*14336, two RMSNorms; x32 layers;
    # embedding and untied head 128256*4096 each; final norm 4096
    per_layer = 2 * 4096 * 4096 + 2 * 4096 * 1024 + 3 * 4096 * 14336 + 2 * 4096
    expected = 32 * per_layer + 2 * 128256 * 4096 + 4096
    assert m.parameters.m_as("param") == expected == 8_030_261_248
    # KV bytes per token: 2 (K and V) x 32 layers x 8 heads x 128 dims x 2 bytes = 128 KiB
    assert m.kv_bytes_per_token("fp16").m_as("KiB") == 128


def test_moe_and_mla_counts():
    mixtral = Models.Mixtral_8x7B
    assert mixtral.parameters.m_as("Gparam") == pytest.approx(46.7, rel=0.01)
    assert mixtral.active_parameters.m_as("Gparam") == pytest.approx(12.9, rel=0.01)
    v3 = Models.DeepSeek_V3
    assert v3.parameters.m_as("Gparam") == pytest.approx(671, rel=0.01)
    assert v3.active_parameters.m_as("Gparam") == pytest.approx(37, rel=0.02)
    # MLA caches 512 + 64 elements per token per layer: 61 * 576 * 2 B
    assert v3.kv_bytes_per_token("fp16").m_as("B") == 61 * 576 * 2


def test_at_least_30_models_and_vision_entries_are_sourced():
    assert len(Models) >= 30
    resnet = Models.ResNet50
    assert resnet.flops_per_inference == pytest.approx(8.18e9)
    assert resnet.parameters.m_as("Mparam") == pytest.approx(25.557, rel=1e-4)


def test_entries_pickle_by_name():
    import pickle

    assert pickle.loads(pickle.dumps(Hardware.H100)) is Hardware.H100
    assert pickle.loads(pickle.dumps(symsys.Models.GPT3)) is Models.GPT3
