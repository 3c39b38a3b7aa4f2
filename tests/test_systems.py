"""Interconnects normalised at load, and systems (nodes, racks, clusters) as registry entries.

The hand checks restate the cited datasheets: NVIDIA quotes NVLink/PCIe as bidirectional
totals, Ethernet/InfiniBand are per-direction line rates in bits per second.
"""

import json
import pickle
import subprocess
import sys

import pytest

import symsys
from symsys.cli import main
from symsys.errors import InvalidParameter, RegistryError, UnknownHardware, UnknownSystem
from symsys.registry import Hardware, Systems
from symsys.registry.hardware import load as load_hardware
from symsys.registry.links import Link
from symsys.registry.systems import System
from symsys.registry.systems import load as load_systems
from symsys.units import Q_

REQUIRED = ["DGX_A100", "DGX_H100", "DGX_H200", "DGX_B200", "GB200_NVL72", "MI300X_Platform",
            "TPUv5p_Slice_64", "Gaudi3_Node", "Trn2_Node", "Cerebras_CS3_Cluster", "GroqRack"]
NUMBERS = ("links", "link_bandwidth", "bandwidth", "domain_size", "alpha")


def gbs(quantity):
    return quantity.m_as("GB/s")


def test_the_issue_lists_systems_are_all_there():
    assert set(REQUIRED) <= set(Systems.list())
    assert symsys.Systems is Systems


@pytest.mark.parametrize("system", list(Systems), ids=lambda s: s.key)
def test_every_system_loads_with_a_source_for_every_number(system):
    assert system.hardware is Hardware[system.device]
    assert system.devices == system.devices_per_node * system.nodes
    assert system.source.url.startswith("http")
    assert system.fast_domain or system.scale_out
    for role in ("fast_domain", "scale_out"):
        link = getattr(system, role)
        if link is None:
            continue
        for number in NUMBERS:
            if getattr(link, number) is not None:
                assert system.source_of(f"{role}.{number}").url.startswith("http")
    if system.fast_domain:
        assert 1 <= system.fast_domain.domain_size <= system.devices


def test_dgx_h100_by_hand():
    # DGX H100: 8 x H100; 18 NVLink 4 links of 25 GB/s per direction (NVIDIA: 900 GB/s
    # bidirectional per GPU); 8 single-port ConnectX-7 at 400 Gb/s = 50 GB/s each
    dgx = Systems.DGX_H100
    assert (dgx.device, dgx.devices_per_node, dgx.nodes, dgx.devices) == ("H100", 8, 1, 8)
    fast = dgx.fast_domain
    assert fast.links == 18 and gbs(fast.link_bandwidth) == pytest.approx(25)
    assert gbs(fast.bandwidth) == pytest.approx(450) and fast.domain_size == 8
    assert fast.alpha is None  # no public per-link latency found: None, never a guess
    out = dgx.scale_out
    assert out.links == 8 and gbs(out.link_bandwidth) == pytest.approx(50)
    assert gbs(out.bandwidth) == pytest.approx(400)
    # the NVLink numbers are the H100's own, with the H100's sources (typed once)
    assert dgx.source_of("fast_domain.links") is Hardware.H100.source_of("interconnect.links")
    assert "BasePOD" in dgx.source_of("scale_out.links").document


def test_other_systems_by_hand():
    nvl72 = Systems.GB200_NVL72
    assert nvl72.devices == 72 == 18 * 4 and nvl72.fast_domain.domain_size == 72
    assert gbs(nvl72.fast_domain.bandwidth) == pytest.approx(900)  # 1.8 TB/s bidirectional
    assert gbs(nvl72.scale_out.bandwidth) == pytest.approx(4 * 50)
    assert gbs(Systems.DGX_A100.fast_domain.bandwidth) == pytest.approx(300)  # 12 x 25
    assert gbs(Systems.DGX_A100.scale_out.link_bandwidth) == pytest.approx(25)  # 200 Gb/s
    assert gbs(Systems.DGX_B200.fast_domain.link_bandwidth) == pytest.approx(50)
    mi = Systems.MI300X_Platform  # 7 links x 128 GB/s bidirectional = 896
    assert (mi.fast_domain.links, gbs(mi.fast_domain.bandwidth)) == (7, pytest.approx(448))
    assert mi.scale_out is None  # the NICs are the server vendor's choice
    gaudi = Systems.Gaudi3_Node  # Intel: 525 GB/s scale-up, 600 GB/s scale-out per box
    assert gbs(gaudi.fast_domain.bandwidth) == pytest.approx(525)
    assert gbs(gaudi.scale_out.bandwidth) == pytest.approx(600)
    tpu = Systems.TPUv5p_Slice_64  # 1200 GBps bidirectional per chip over 6 torus links
    assert tpu.devices == 64 and gbs(tpu.fast_domain.link_bandwidth) == pytest.approx(100)
    trn2 = Systems.Trn2_Node  # AWS does not say per direction or bidirectional: left out
    assert trn2.fast_domain.bandwidth is None and trn2.fast_domain.links == 4
    assert gbs(trn2.scale_out.bandwidth) == pytest.approx(400)  # 3,200 Gbps EFA
    cs3 = Systems.Cerebras_CS3_Cluster  # one wafer per node: no fast domain
    assert cs3.fast_domain is None and gbs(cs3.scale_out.bandwidth) == pytest.approx(150)
    assert gbs(Systems.GroqRack.fast_domain.bandwidth) == pytest.approx(16 * 14)


@pytest.mark.parametrize("key, per_direction, links", [
    ("H100", 450, 18), ("A100", 300, 12), ("V100", 150, 6), ("B200", 900, 18),
    ("GB200", 900, 18), ("MI250X", 400, 8), ("MI300X", 448, 7), ("TPUv5e", 200, 4),
    ("TPUv5p", 600, 6), ("Gaudi2", 300, 24), ("Gaudi3", 600, 24),
    ("Cerebras_CS3", 150, 12), ("L4", 32, 1), ("H100_NVL", 300, None),
])
def test_device_interconnects_are_normalised_per_direction(key, per_direction, links):
    link = Hardware[key].interconnect
    assert gbs(link.bandwidth) == pytest.approx(per_direction) and link.links == links
    assert ("bidirectional" in link.quoted) or ("per direction" in link.quoted)
    assert not hasattr(link, "direction")  # no free text left


def test_host_links_and_unresolved_directions():
    assert gbs(Hardware.H100.interconnect.host.bandwidth) == pytest.approx(64)  # 128 bidir
    assert gbs(Hardware.GH200.interconnect.host.bandwidth) == pytest.approx(450)  # C2C
    for key in ("Trainium2", "Inferentia2"):  # the vendor does not say: no number
        assert Hardware[key].interconnect.bandwidth is None


BAD_DEVICE = '''[[device]]
key = "X"
name = "X"
group = "Cloud"
vendor = "v"
year = 2020
source = {{ document = "d", url = "http://x", date = "2020-01-01" }}
[device.peak_dense]
fp16 = "100 TFLOP/s"
[device.memory]
capacity = "80 GB"
bandwidth = "2 TB/s"
[device.interconnect]
name = "Link"
{link}
'''


@pytest.mark.parametrize("link, field", [
    ('bandwidth = "900 GB/s"', r"interconnect\.statement: required field is missing"),
    ('bandwidth = "900 GB/s"\nstatement = "aggregate"', r"interconnect\.statement: 'aggregate'"),
    ('bandwidth = "900 GB/s"\ndirection = "aggregate over 18 links"', r"interconnect\.direction"),
    ('link_bandwidth = "25 GB/s"\nstatement = "per_direction"', r"interconnect\.links"),
    ('bandwidth = "900 GB/s"\nstatement = "bidirectional"\nalpha = "1 us"',
     r"interconnect\.alpha: a latency needs its own source"),
    ('bandwith = "900 GB/s"', r"interconnect\.bandwith: unknown key.*Did you mean"),
])
def test_an_ambiguous_interconnect_is_a_load_error_naming_file_and_field(tmp_path, link, field):
    bad = tmp_path / "hardware_bad.toml"
    bad.write_text(BAD_DEVICE.format(link=link))
    with pytest.raises(RegistryError, match=r"hardware_bad\.toml: device\[0\] \(X\)\." + field):
        load_hardware([bad])


def test_a_stated_interconnect_in_bits_loads(tmp_path):
    good = tmp_path / "hardware_good.toml"
    good.write_text(BAD_DEVICE.format(link='bandwidth = "4.8 Tbit/s"\nstatement = "bidirectional"'
                                      '\nlinks = 24'))
    (device,) = load_hardware([good])
    assert gbs(device.interconnect.link_bandwidth) == pytest.approx(12.5)  # 100 Gb/s


BAD_SYSTEM = '''[[system]]
key = "S"
name = "S"
group = "Node"
vendor = "v"
year = 2024
device = "{device}"
devices_per_node = 8
source = {{ document = "d", url = "http://x", date = "2024-01-01" }}
[system.fast_domain]
name = "fabric"
domain_size = {domain}
bandwidth = "900 GB/s"
{statement}
'''


@pytest.mark.parametrize("device, domain, statement, message", [
    ("H100", 8, "", r"fast_domain\.statement: required field is missing"),
    ("H1000", 8, 'statement = "bidirectional"', r"\.device: unknown hardware.*Did you mean"),
    ("H100", 16, 'statement = "bidirectional"', r"fast-domain size 16 exceeds .* 8 devices"),
    # a claim that the switches reduce changes every all-reduce: it needs its own source
    ("H100", 8, 'statement = "bidirectional"\nin_network_reduction = true',
     r"fast_domain\.in_network_reduction: needs its own source"),
    ("H100", 8, 'statement = "bidirectional"\nin_network_reduction = "yes"',
     r"fast_domain\.in_network_reduction: expected"),
])
def test_a_bad_system_is_a_load_error_naming_file_and_field(tmp_path, device, domain,
                                                             statement, message):
    bad = tmp_path / "systems_bad.toml"
    bad.write_text(BAD_SYSTEM.format(device=device, domain=domain, statement=statement))
    with pytest.raises(RegistryError, match=r"systems_bad\.toml: system\[0\] \(S\)" + ".*" + message):
        load_systems([bad])


def test_in_network_reduction_is_a_sourced_fast_domain_claim(tmp_path):
    # the DGX H100's third-generation NVSwitch reduces in the network; the DGX A100's does not
    assert Systems.DGX_H100.fast_domain.in_network_reduction
    assert "Third-Generation NVIDIA NVSwitch" in str(
        Systems.DGX_H100.source_of("fast_domain.in_network_reduction"))
    assert not Systems.DGX_A100.fast_domain.in_network_reduction
    assert not Systems.MI300X_Platform.fast_domain.in_network_reduction
    good = tmp_path / "systems_good.toml"
    good.write_text(BAD_SYSTEM.format(device="H100", domain=8, statement=(
        'statement = "bidirectional"\nin_network_reduction = true\n[system.field_sources]\n'
        '"fast_domain.in_network_reduction" = { document = "d", url = "http://x", '
        'date = "2024-01-01" }')))
    (system,) = load_systems([good])
    assert system.fast_domain.in_network_reduction


def test_link_and_system_validate_themselves():
    link = Link("NVLink 4", link_bandwidth=Q_(25, "GB/s"), links=18)
    assert gbs(link.bandwidth) == pytest.approx(450)  # derived, not typed
    with pytest.raises(InvalidParameter, match="is not links x link_bandwidth"):
        Link("x", link_bandwidth=Q_(25, "GB/s"), links=18, bandwidth=Q_(900, "GB/s"))
    with pytest.raises(InvalidParameter, match="links=0"):
        Link("x", links=0)
    with pytest.raises(InvalidParameter, match="expected a quantity in B/s"):
        Link("x", bandwidth=Q_(1, "s"))
    dgx = Systems.DGX_H100
    with pytest.raises(InvalidParameter, match="group="):
        System(**{**vars(dgx), "group": "Pod"})


def test_lookup_typos_and_pickling():
    assert Systems["dgx-h100"] is Systems.DGX_H100 is Systems.Node.DGX_H100
    assert Systems["NVL72"] is Systems.Rack.GB200_NVL72
    with pytest.raises(UnknownSystem, match="Did you mean.*DGX_H100"):
        Systems["DGX_H10"]
    with pytest.raises(UnknownHardware):  # a system is hardware to a solver
        Systems["DGX-H900"]
    with pytest.raises(AttributeError, match="Did you mean"):
        _ = Systems.DGX_H10
    assert pickle.loads(pickle.dumps(Systems.DGX_H100)) is Systems.DGX_H100
    assert repr(Systems.GB200_NVL72) == "<System GB200_NVL72: 72 x GB200>"


def test_zoo_systems_json_and_table(capsys):
    assert main(["zoo", "systems", "--json"]) == 0
    data = {s["key"]: s for s in json.loads(capsys.readouterr().out)}
    assert set(REQUIRED) <= set(data)
    fast = data["DGX_H100"]["fast_domain"]
    assert fast["links"] == 18 and fast["link_bandwidth_per_direction_gbs"] == pytest.approx(25)
    assert data["DGX_H100"]["scale_out"]["link_bandwidth_per_direction_gbs"] == pytest.approx(50)
    assert main(["zoo", "systems", "--group", "Rack"]) == 0
    text = capsys.readouterr().out
    assert "GB200_NVL72" in text and "18 x 50 = 900" in text and "DGX_H100" not in text


def test_show_dgx_h100_gives_every_number_with_its_source(capsys):
    assert main(["show", "DGX_H100"]) == 0
    text = capsys.readouterr().out
    assert "8 x H100" in text and "18 x 25 GB/s = 450 GB/s per direction" in text
    assert "900 GB/s bidirectional over 18 links" in text
    assert "8 x 50 GB/s = 400 GB/s per direction" in text and "alpha not published" in text
    assert main(["show", "DGX_H100", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"fast_domain.links", "fast_domain.bandwidth", "scale_out.link_bandwidth",
            "devices_per_node"} <= set(data["sources"])
    assert main(["show", "GB200 NVL72", "--json"]) == 0  # also a device alias: the rack wins
    assert json.loads(capsys.readouterr().out)["key"] == "GB200_NVL72"


def test_show_device_prints_the_normalised_interconnect(capsys):
    assert main(["show", "MI300X"]) == 0
    text = capsys.readouterr().out
    assert "7 x 64 GB/s = 448 GB/s per direction (vendor: 896 GB/s bidirectional" in text


def test_the_cli_answers_systems_without_sympy():
    code = ("import sys; from symsys.cli import main; main(['zoo', 'systems']); "
            "main(['show', 'DGX_H100']); assert 'sympy' not in sys.modules, 'sympy imported'")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
