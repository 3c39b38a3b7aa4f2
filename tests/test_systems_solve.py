"""Many devices, second increment: a system as hardware, pipeline parallelism, and the
tensor-parallel degrees solved from the law (fewest that fit, fastest), against hand
calculations, the laws they are built from, the compiled law at neighbouring degrees and
finite differences of exact derivatives."""

import json
import math

import pytest
import sympy as sp

from symsys import Q_, Engine
from symsys.cli import main
from symsys.errors import InvalidParameter, UnknownHardware
from symsys.laws import decode_pp, decode_tp, prefill_pp, prefill_tp
from symsys.symbols import n_pp, p_net

NVLINK4 = 450e9  # H100 NVLink 4 per direction: 900 GB/s bidirectional
LAYERS, D_MODEL = 80, 8192  # Llama-3-70B


# --- a system as hardware -----------------------------------------------------------------
def test_a_system_is_its_device_and_its_fast_domain():
    on_system = Engine.solve("Llama3_70B", "DGX_H100", tensor_parallel=8)
    on_device = Engine.solve("Llama3_70B", "H100", tensor_parallel=8)
    assert on_system.system.key == "DGX_H100" and on_system.hardware.key == "H100"
    assert on_system.scenario.values["beta_x"] == NVLINK4
    for name in ("M", "W_read", "t_memory"):
        assert on_system.raw[name] == on_device.raw[name]
    # the DGX H100's NVSwitch reduces in the network (NVLink SHARP): half the ring's bytes and
    # 2 (n - 1)/n steps instead of 2 (n - 1), where a bare H100 says nothing of its switch
    assert on_system.scenario.values["z_nvls"] == 1 and on_device.scenario.values["z_nvls"] == 0
    assert on_system.raw["t_comm"] == pytest.approx(on_device.raw["t_comm"] / 2, rel=1e-12)
    data = on_system.to_dict()
    assert data["system"] == "DGX_H100" and data["hardware"] == "H100"
    assert data["devices"] == 8
    # 141.1 GB of fp16 weights over 8 devices read at 3.35 TB/s: 5.19 ms before communication
    assert on_system.latency_memory.m_as("ms") == pytest.approx(5.187, abs=1e-3)
    assert "DGX_H100, TP 8" in repr(on_system)


def test_a_rack_uses_its_own_fabric_and_domain():
    # GB200 NVL72: NVLink 5, 900 GB/s per direction, 72 GPUs in one domain
    r = Engine.solve("Llama3_70B", "GB200_NVL72", tensor_parallel=72)
    assert r.scenario.values["beta_x"] == pytest.approx(900e9) and r.devices == 72
    with pytest.raises(InvalidParameter, match="connects at most 72 devices"):
        Engine.solve("Llama3_70B", "GB200_NVL72", tensor_parallel=8, pipeline_parallel=10)


def test_tensor_parallel_defaults_to_one_and_says_what_would_fit():
    # the same call means the same in every solver: a system does not pick a degree
    r = Engine.solve("Llama3_70B", "DGX_H100")
    assert r.scenario.law.name == "decode" and not r.feasible
    assert r.min_tensor_parallel == 2
    assert r.reason.endswith("fits with tensor_parallel=2")
    assert r.to_dict()["min_tensor_parallel"] == 2


def test_system_errors_name_the_domain_and_the_choices():
    with pytest.raises(InvalidParameter, match="DGX_H100's NVLink 4.*at most 8 devices"):
        Engine.solve("Llama3_70B", "DGX_H100", tensor_parallel=16)
    with pytest.raises(InvalidParameter, match="Trn2_Node has no device-to-device link"):
        Engine.solve("Llama3_8B", "Trn2_Node", tensor_parallel=2)
    with pytest.raises(UnknownHardware, match="nor a system.*'DGX_H100'"):
        Engine.solve("Llama3_8B", "DGX_H10")


def test_the_command_line_solves_on_a_system(capsys):
    assert main(["solve", "Llama3_70B", "DGX_H100", "--tp", "4", "--pp", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["system"], data["tensor_parallel"], data["pipeline_parallel"]) == \
        ("DGX_H100", 4, 2)
    assert data["law"] == "decode_pp" and data["devices"] == 8
    assert main(["solve", "Llama3_70B", "DGX_H100", "--tp", "8"]) == 0
    text = capsys.readouterr().out
    assert "NVIDIA DGX H100 (DGX_H100): 8 x" in text and "Fastest tensor parallel" in text


# --- pipeline parallelism -------------------------------------------------------------------
def test_pipeline_law_is_the_tensor_parallel_law_at_one_stage():
    for pipeline, tensor in ((decode_pp, decode_tp), (prefill_pp, prefill_tp)):
        for name in ("F", "W_read", "Q", "M", "T", "R_tok", "t_comm"):
            # one stage sends nothing, so no send crosses between fast domains (p_net = 0)
            difference = pipeline.expr(name).xreplace({n_pp: 1, p_net: 0}) - tensor.expr(name)
            assert sp.simplify(difference) == 0, (pipeline.name, name)
        assert pipeline.regimes[-1][0] == "Communication"


def test_pipeline_decode_by_hand():
    one = Engine.solve("Llama3_70B", "H100", batch_size=4, seq_len=1024)
    r = Engine.solve("Llama3_70B", "DGX_H100", batch_size=4, seq_len=1024,
                     pipeline_parallel=8, link_latency=Q_(2, "us"))
    # a stage reads 1/8 of the step: 5.2 ms of the single device's 41.6 ms
    assert r.raw["t_memory"] == pytest.approx(one.raw["t_memory"] / 8, rel=1e-12)
    # its send: 2 us + 4 tokens x 8192 x 2 B over 450 GB/s = 2.146 us
    send = 2e-6 + 4 * D_MODEL * 2 / NVLINK4
    assert r.raw["t_send"] == pytest.approx(send, rel=1e-12)
    # a token crosses 8 stages in sequence with 7 sends
    assert r.latency.m_as("s") == pytest.approx(one.raw["T"] + 7 * send, rel=1e-12)
    # 8 microbatches of 4 in flight, one leaving every T / 8
    assert r.throughput.m_as("token/s") == pytest.approx(8 * 4 / r.latency.m_as("s"))
    # a device holds 1/8 of the weights and its layers' K/V for all 8 microbatches
    weights = one.raw["W_res"]
    assert r.raw["M"] == pytest.approx(weights / 8 + one.raw["M_kv"], rel=1e-12)
    assert r.feasible and not one.feasible


def test_tensor_times_pipeline_and_the_communication_regime():
    r = Engine.solve("Llama3_70B", "DGX_H100", tensor_parallel=4, pipeline_parallel=2)
    # per stage: 40 layers x 2 all-reduces over 4 devices of 16 kB, in the switch (3/4 of
    # the buffer each way, half the ring's 2 x 3/4) + half a send
    all_reduces = 40 * 2 * 3 * (2 * D_MODEL / (4 * NVLINK4))
    send = 2 * D_MODEL / NVLINK4
    assert r.raw["t_comm"] == pytest.approx(all_reduces + send / 2, rel=1e-12)
    assert r.latency.m_as("s") == pytest.approx(2 * (r.raw["t_memory"] + r.raw["t_comm"]),
                                                rel=1e-12)
    # a slow link: 8 stages of Llama-3-8B send with 1 ms each, more than a stage's 0.6 ms read
    slow = Engine.solve("Llama3_8B", "DGX_H100", pipeline_parallel=8, link_latency=Q_(1, "ms"))
    assert slow.bottleneck == "Communication"
    with pytest.raises(InvalidParameter, match="32 layers, at most one stage each"):
        Engine.solve("Llama3_8B", "H100", pipeline_parallel=64)
    with pytest.raises(InvalidParameter, match="pipeline_parallel=2 = 16 devices"):
        Engine.solve("Llama3_70B", "DGX_H100", tensor_parallel=8, pipeline_parallel=2)
    with pytest.raises(InvalidParameter, match="fixed workload"):
        Engine.solve("ResNet50", "H100", pipeline_parallel=2)


def test_pipeline_prefill_and_derivatives_match_finite_differences():
    r = Engine.solve("Llama3_70B", "DGX_H100", phase="prefill", seq_len=2048, batch_size=2,
                     tensor_parallel=2, pipeline_parallel=4, link_latency=Q_(3, "us"))
    assert r.scenario.law.name == "prefill_pp" and r.bottleneck == "Compute"
    base = r.scenario
    for symbol in ("alpha_x", "beta_x", "beta", "Pi"):
        x = base.values[symbol]
        h = x * 1e-6
        exact = base.call((f"d:right:{symbol}:T",))[f"d:right:{symbol}:T"]
        up = base.replace(**{symbol: x + h}).call(("T",))["T"]
        down = base.replace(**{symbol: x - h}).call(("T",))["T"]
        assert exact == pytest.approx((up - down) / (2 * h), rel=1e-6, abs=1e-22), symbol


# --- the degrees solved from the law ------------------------------------------------------
def test_fewest_devices_that_hold_the_model():
    r = Engine.solve("Llama3_70B", "H100", tensor_parallel=8)
    weights = Engine.solve("Llama3_70B", "H100").raw["W_res"]  # 141.1 GB in fp16
    # 141.1 GB of weights and one token's K/V (327,680 B) over 80 GiB: 1.643 devices
    assert weights == pytest.approx(141.1074e9, rel=1e-6)
    assert r.min_tensor_parallel_exact == pytest.approx((weights + 327_680) / 80 / 2**30,
                                                        rel=1e-12)
    at_root = r.scenario.call(("M",), n_g=r.min_tensor_parallel_exact)["M"]
    assert at_root == pytest.approx(80 * 2**30, rel=1e-12)
    assert r.min_tensor_parallel == 2
    # batch 64 at 8000 tokens of context holds 64 x 8001 x 327,680 B of K/V (80 layers x
    # 8 K/V heads x 128 x K and V x 2 B): 167.8 GB more, 3.596 devices -> 4
    big = Engine.solve("Llama3_70B", "DGX_H100", tensor_parallel=8, batch_size=64,
                       seq_len=8000)
    kv = 64 * 8001 * LAYERS * 8 * 128 * 2 * 2
    assert big.min_tensor_parallel_exact == pytest.approx((weights + kv) / 2**30 / 80,
                                                          rel=1e-12)
    assert big.min_tensor_parallel_exact == pytest.approx(3.596, abs=1e-3)
    assert big.min_tensor_parallel == 4
    fits = {n: big.scenario.call(("M",), n_g=n)["M"] <= 80 * 2**30 for n in (2, 4)}
    assert fits == {2: False, 4: True}


def test_the_degree_beyond_which_decode_gets_slower():
    one = Engine.solve("Llama3_70B", "H100")
    # a ring fabric (a bare H100's NVLink 4, which says nothing of a switch that reduces)
    r = Engine.solve("Llama3_70B", "H100", tensor_parallel=8, link_latency=Q_(3, "us"))
    # T(n) = t_mem(1)/n + 4 L (n - 1)(alpha + m / (n beta_x)): dT/dn = 0 at
    # n*^2 = (t_mem(1) - 4 L m / beta_x) / (4 L alpha), m = 8192 x 2 B: 41.49 ms and 3 us
    # per message step give n* = 6.57
    m = 2 * D_MODEL
    by_hand = math.sqrt((one.raw["t_memory"] - 4 * LAYERS * m / NVLINK4)
                        / (4 * LAYERS * 3e-6))
    assert r.fastest_tensor_parallel_exact == pytest.approx(by_hand, rel=1e-12)
    assert by_hand == pytest.approx(6.574, abs=1e-3)
    # the compiled law is least at n* among its neighbours, and flat there
    n = r.fastest_tensor_parallel_exact

    def latency(x):
        return r.scenario.call(("T",), n_g=x)["T"]

    assert latency(n) < latency(n - 0.25) and latency(n) < latency(n + 0.25)
    slope = (latency(n * (1 + 1e-6)) - latency(n * (1 - 1e-6))) / (2e-6 * n)
    assert abs(slope) < 1e-9 * (4 * LAYERS * 3e-6)  # vs each term's slope, 4 L alpha
    # of the degrees 8 K/V heads allow in the node, 8 is still faster than 4
    assert r.fastest_tensor_parallel == 8 and latency(8) < latency(4)
    # 2 us: n* = 8.05, just beyond the node
    faster = Engine.solve("Llama3_70B", "H100", tensor_parallel=8, link_latency=Q_(2, "us"))
    assert faster.fastest_tensor_parallel_exact == pytest.approx(8.051, abs=1e-3)
    # 20 us per message step: n* = 2.55, and of the degrees 1, 2, 4, 8 two is fastest
    slow = Engine.solve("Llama3_70B", "H100", tensor_parallel=8, link_latency=Q_(20, "us"))
    assert slow.fastest_tensor_parallel_exact == pytest.approx(2.546, abs=1e-3)
    times = {k: slow.scenario.call(("T",), n_g=k)["T"] for k in (1, 2, 4, 8)}
    assert min(times, key=times.get) == slow.fastest_tensor_parallel == 2
    # where the switch reduces (DGX H100, NVLink SHARP) the all-reduce takes 2 (n - 1)/n
    # steps, fewer than 2 for any n: there is no n*, and the whole node is fastest
    in_switch = Engine.solve("Llama3_70B", "DGX_H100", tensor_parallel=8,
                             link_latency=Q_(20, "us"))
    assert in_switch.fastest_tensor_parallel_exact is None
    assert in_switch.fastest_tensor_parallel == 8


def test_with_no_message_latency_every_device_helps():
    r = Engine.solve("Llama3_70B", "DGX_H100", tensor_parallel=8)
    assert r.fastest_tensor_parallel_exact is None and r.fastest_tensor_parallel == 8
    # a bare device whose link has no domain size: no optimum to report
    assert Engine.solve("Llama3_70B", "H100", tensor_parallel=8).fastest_tensor_parallel is None


def test_the_readme_quotes_these_numbers():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("### Many devices")[1].split("\n### ")[0]
    assert repr(Engine.solve("Llama3_70B", "DGX_H100", tensor_parallel=8)) in section
    assert "fits with tensor_parallel=2" in Engine.solve("Llama3_70B", "DGX_H100").reason
    r = Engine.solve("Llama3_70B", "DGX_H100", tensor_parallel=4, pipeline_parallel=2)
    assert repr(r).split(", Memory")[0] in section
    assert f"{r.throughput.m_as('token/s'):.1f} tokens/s" in section
    r = Engine.solve("Llama3_70B", "H100", tensor_parallel=8, link_latency=Q_(3, "us"))
    assert (f"({r.min_tensor_parallel}, {r.min_tensor_parallel_exact:.4f})" in section
            and f"({r.fastest_tensor_parallel}, {r.fastest_tensor_parallel_exact:.4f})"
            in section)
