"""Users' own devices and models, accepted anywhere a registry name is, and precision="auto"."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

import symsys
from symsys import Q_, Device, Engine
from symsys.cli import main
from symsys.errors import InvalidParameter, RegistryError, UnsupportedPrecision
from symsys.registry.hardware import check_precision

FIXTURES = Path(__file__).parent / "fixtures"
CHIP = FIXTURES / "devices" / "my_chip.toml"
QWEN = FIXTURES / "hf_configs" / "qwen2_5_7b.json"


def chip(**changes):
    numbers = dict(peak="500 TFLOP/s", bandwidth="4 TB/s", capacity="96 GiB")
    return Device.custom("MyChip", **{**numbers, **changes})


def test_three_lines_of_public_api_define_a_device():
    r = Engine.solve("Llama3_8B", chip())
    h100 = Engine.solve("Llama3_8B", "H100")
    # both memory-bound on the same bytes: latency scales with 1/bandwidth exactly
    assert r.bottleneck == h100.bottleneck == "Memory"
    assert r.latency.m_as("ms") == pytest.approx(h100.latency.m_as("ms") * 3.35 / 4.0, rel=1e-9)
    assert r.memory_capacity == Q_(96, "GiB")
    assert chip().user_supplied and not symsys.Hardware.H100.user_supplied


def test_a_custom_device_runs_through_every_solver():
    device = chip(link_bandwidth="450 GB/s", domain_size=8)
    tp = Engine.solve("Llama3_70B", device, tensor_parallel=8)
    assert tp.feasible and tp.quantity("beta_x") == Q_(450, "GB/s")
    serving = symsys.ServingModel().solve("Llama3_8B", device, prompt_len=1024, output_len=128)
    assert serving.feasible
    sensitivity = symsys.SensitivitySolver().solve("Llama3_8B", device)
    assert sensitivity.binding_constraint == "memory_bandwidth"
    # the bandwidth that gives 3 ms: the bytes one step reads (15.01 GB) / 3 ms
    synthesis = symsys.SynthesisSolver().solve("Llama3_8B", device, target=Q_(3, "ms"))
    read = Engine.solve("Llama3_8B", device).latency.m_as("s") * 4e12
    assert synthesis.required.m_as("B/s") == pytest.approx(read / 3e-3, rel=1e-6)
    rows = symsys.sweep("Llama3_8B", [device, "H100"], batch_size=[1, 64])
    assert rows.to_dict()["columns"]["hardware"] == ["MyChip"] * 2 + ["H100"] * 2


def test_custom_device_errors_name_the_value():
    with pytest.raises(InvalidParameter, match=r"peak=500: give units"):
        chip(peak=500)
    with pytest.raises(InvalidParameter, match=r"peak.*'5 TB/s'.*FLOP"):
        chip(peak="5 TB/s")
    with pytest.raises(InvalidParameter, match=r"must be positive"):
        chip(capacity="-1 GiB")
    with pytest.raises(InvalidParameter, match=r"domain_size=8 needs link_bandwidth"):
        chip(domain_size=8)


def test_custom_devices_pickle_by_value_and_registry_devices_by_name():
    copy = pickle.loads(pickle.dumps(chip()))  # e.g. to a Dask worker
    assert copy.memory.bandwidth == Q_(4, "TB/s") and copy.compute.peak("fp16") == Q_(500, "TFLOP/s")
    assert pickle.loads(pickle.dumps(symsys.Hardware.H100)) is symsys.Hardware.H100


def test_device_and_model_files_work_where_names_do(capsys):
    assert main(["solve", str(QWEN), str(CHIP), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["hardware"] == "my_chip" and out["model"] == "hf:qwen2_5_7b"
    # Qwen2.5-7B decode reads its 7.616 G parameters but the 0.545 G input embedding table
    # (plus the new token's K/V, 1e-5 of it): (7.616e9 - 152064 * 3584) * 2 B / 4 TB/s = 3.535 ms
    n = symsys.Models.get(str(QWEN)).parameters.m_as("param")
    assert out["latency"] == pytest.approx((n - 152064 * 3584) * 2 / 4e12, rel=1e-5)
    assert main(["show", str(CHIP)]) == 0
    assert "user-supplied" in capsys.readouterr().out


def test_the_same_file_gives_the_same_entry():
    assert symsys.Hardware.get(str(CHIP)) is symsys.Hardware.get(str(CHIP))


def test_bad_files_are_reported_with_their_path(tmp_path, capsys):
    assert main(["solve", "Llama3_8B", str(tmp_path / "none.toml")]) != 0
    assert "no such device file" in capsys.readouterr().err
    two = tmp_path / "two.toml"
    two.write_text("[[device]]\nkey='a'\n[[device]]\nkey='b'\n")
    with pytest.raises(RegistryError, match="expected one device, found 2"):
        symsys.Hardware.get(str(two))
    broken = tmp_path / "broken.toml"
    broken.write_text("[peak_dense]\nfp16 = '1 TFLOP/s'\n")
    with pytest.raises(RegistryError, match=r"memory: required table is missing"):
        symsys.Hardware.get(str(broken))


def test_a_model_file_in_the_registry_schema(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text("[shape]\nlayers = 2\nd_model = 64\nheads = 4\nkv_heads = 4\n"
                    "head_dim = 16\nd_ff = 256\nvocab = 1000\n")
    model = symsys.Models.get(str(path))
    assert model.key == "tiny" and model.official_parameters == 0.0
    assert Engine.solve(str(path), "H100").feasible


@pytest.mark.parametrize(("device", "native"), [("TPUv5p", "bf16"), ("Gaudi3", "bf16"),
                                                 ("Cerebras_CS3", "fp16"), ("H100", "fp16"),
                                                 ("V100", "fp16")])
def test_auto_precision_picks_the_native_16_bit_format(device, native):
    r = Engine.solve("Llama3_8B", device)
    assert r.inputs.precision == native
    assert r.to_dict()["precision_chosen"].startswith("auto")
    assert "precision_chosen" not in Engine.solve("Llama3_8B", "H100", precision="fp16").to_dict()


def test_cli_needs_no_precision_flag_for_tpus_and_wafers(capsys):
    assert main(["solve", "Llama3_8B", "TPUv5p"]) == 0
    assert "bf16 (auto" in capsys.readouterr().out
    assert main(["solve", "Llama3_8B", "Cerebras_CS3"]) == 0


@pytest.mark.parametrize(("spelling", "name"), [("FP16", "fp16"), ("bfloat16", "bf16"),
                                                ("torch.float16", "fp16"), ("BF16", "bf16"),
                                                ("float8_e4m3fn", "fp8"), ("half", "fp16")])
def test_common_precision_spellings(spelling, name):
    assert check_precision(spelling) == name
    assert Engine.solve("Llama3_8B", "H100", precision=spelling).inputs.precision == name


def test_unknown_precision_names_what_is_known():
    with pytest.raises(UnsupportedPrecision, match=r"'fp17'.*'auto'.*Did you mean 'fp16'"):
        Engine.solve("Llama3_8B", "H100", precision="fp17")
