"""Tensor and pipeline groups that span nodes (fast domains joined by a scale-out network):
hierarchical all-reduces and inter-node pipeline sends, against hand calculations from the
registry's published numbers, the single-domain laws they reduce to, and finite differences."""

import dataclasses

import pytest
import sympy as sp

from symsys import Q_, Engine
from symsys.errors import InvalidParameter
from symsys.laws import collectives, decode_pp, decode_tp, prefill_pp, prefill_tp
from symsys.registry.hardware import PRECISION_BYTES
from symsys.registry.models import Models
from symsys.registry.systems import Systems
from symsys.solvers.inputs import node_span
from symsys.solvers.sensitivity import sensitivities
from symsys.symbols import L, b, bytes_act, d, m_c, n_node, n_pp, p_net

SU = Systems.DGX_H100_SU
LLAMA_405B = Models.Llama3_1_405B
NVLINK4 = 450e9  # per direction: 18 NVLink 4 links x 25 GB/s (NVIDIA: 900 GB/s bidirectional)
NIC = 400e9 / 8  # one ConnectX-7 per GPU: NDR 400 Gb/s = 50 GB/s per direction
D_405B, L_405B = 16384, 126  # Llama-3.1-405B: model dimension, layers (its config.json)
FP8 = 1  # bytes per fp8 activation element


def _solve(**options):
    return Engine.solve("Llama3_1_405B", "DGX_H100_SU", precision="fp8", **options)


def test_the_superpod_scalable_unit_by_hand():
    # 32 DGX H100 nodes of 8 GPUs; each node its own NVLink domain, one 400 Gb/s NIC per GPU
    assert (SU.device, SU.devices_per_node, SU.nodes, SU.devices) == ("H100", 8, 32, 256)
    assert SU.fast_domain.domain_size == 8
    assert SU.fast_domain.bandwidth.m_as("B/s") == pytest.approx(NVLINK4)
    assert SU.scale_out.links == 8
    assert SU.scale_out.bandwidth.m_as("B/s") == pytest.approx(8 * NIC)
    assert "dgx-superpod" in SU.source.url and SU.source.url.startswith("https://docs.nvidia")
    # the registry numbers the hand checks below use
    assert (LLAMA_405B.shape.d_model, LLAMA_405B.shape.layers) == (D_405B, L_405B)
    assert PRECISION_BYTES["fp8"] == FP8


def test_stages_fill_fast_domains_one_after_the_other():
    assert node_span(8, 1, 8) == (1, 0)
    assert node_span(4, 2, 8) == (1, 0)  # both stages in one node
    assert node_span(8, 2, 8) == (1, 1)  # TP8 x PP2 over two nodes: one send crosses
    assert node_span(4, 3, 8) == (1, 1)  # devices 0-3 | 4-7 || 8-11
    assert node_span(2, 8, 8) == (1, 1)  # the 5th stage starts node 2
    assert node_span(8, 4, 8) == (1, 3)
    assert node_span(16, 1, 8) == (2, 0)  # TP16: two nodes, no stages
    assert node_span(16, 3, 8) == (2, 2)  # each stage two whole nodes: every send crosses
    with pytest.raises(InvalidParameter, match=r"tensor_parallel=3 x pipeline_parallel=4.*"
                                               r"must divide 8 \(1, 2, 4, 8\)"):
        node_span(3, 4, 8)
    with pytest.raises(InvalidParameter, match="tensor_parallel=12.*multiple of 8, e.g. 8 or 16"):
        node_span(12, 1, 8)


def test_tp8_pp2_over_two_nodes_sends_once_over_infiniband():
    r = _solve(tensor_parallel=8, pipeline_parallel=2)
    assert r.scenario.law.name == "decode_pp"
    assert (r.nodes, r.network_sends, r.devices) == (2, 1, 16)
    v = r.scenario.values
    assert (v["n_node"], v["p_net"]) == (1, 1)
    assert v["beta_n"] == pytest.approx(NIC) and v["beta_x"] == pytest.approx(NVLINK4)
    # one microbatch's activations, 1 x 16384 fp8 elements = 16384 B: 36.4 ns over NVLink,
    # 0.328 us over the NIC
    message = 1 * D_405B * FP8
    send, send_net = message / NVLINK4, message / NIC
    assert send_net == pytest.approx(0.32768e-6, rel=1e-12)
    assert r.raw["t_send"] == pytest.approx(send, rel=1e-12)
    assert r.raw["t_send_net"] == pytest.approx(send_net, rel=1e-12)
    # a stage: 63 layers x 2 all-reduces over 8 GPUs in the NVSwitch (7/8 of the buffer each
    # way, half the ring's 14 steps of m/8), plus half of the one send (the network one)
    all_reduces = L_405B / 2 * 2 * 7 * message / (8 * NVLINK4)
    assert r.raw["t_comm"] == pytest.approx(all_reduces + send_net / 2, rel=1e-12)
    assert r.latency.m_as("s") == pytest.approx(2 * (r.raw["t_memory"] + r.raw["t_comm"]),
                                                rel=1e-12)
    # the same step with its send inside one fast domain: exactly the send's difference
    in_one_node = r.scenario.call(("T",), p_net=0)["T"]
    assert r.latency.m_as("s") - in_one_node == pytest.approx(send_net - send, rel=1e-6)
    # a network latency adds to the one network send only: half of it per stage, x 2 stages
    slow = _solve(tensor_parallel=8, pipeline_parallel=2, network_latency=Q_(3, "us"))
    assert slow.raw["t_send_net"] == pytest.approx(3e-6 + send_net, rel=1e-12)
    assert slow.latency.m_as("s") - r.latency.m_as("s") == pytest.approx(3e-6, rel=1e-6)
    summary = r.summary()
    assert summary["nodes"] == 2 and summary["network_sends"] == 1
    assert summary["latency_send_network"].m_as("s") == pytest.approx(send_net, rel=1e-12)
    assert summary["network_share"] == pytest.approx((send_net / 2) / r.raw["t_comm"],
                                                     rel=1e-9)
    assert "DGX_H100_SU, TP 8, PP 2, 2 nodes" in repr(r)


def test_tp16_over_two_nodes_is_a_hierarchical_all_reduce():
    r = _solve(tensor_parallel=16)
    tp8 = _solve(tensor_parallel=8)
    assert r.scenario.law.name == "decode_tp" and r.nodes == 2 and r.network_sends == 0
    assert r.scenario.values["n_node"] == 2
    m = 1 * D_405B * FP8  # b x d fp8 activations
    # inside each node: an all-reduce over its 8 GPUs in the NVSwitch, 7/8 of m each way over
    # NVLink (a ring would send twice that); across the 2 nodes: each GPU all-reduces its
    # shard m/8 with its peer in the other node, a ring of 2: 2 x 1 steps of (m/8)/2 over its
    # NIC
    inside = 7 * (m / 8) / NVLINK4
    across = 2 * 1 * (m / 8 / 2) / NIC
    assert r.raw["t_comm"] == pytest.approx(L_405B * 2 * (inside + across), rel=1e-12)
    assert r.summary()["network_share"] == pytest.approx(across / (inside + across), rel=1e-9)
    # each GPU holds and reads half of what it does at TP8
    assert r.raw["W_read"] == pytest.approx(tp8.raw["W_read"] / 2, rel=1e-12)
    # the network latency: 2 steps per all-reduce, 2 all-reduces per layer
    slow = _solve(tensor_parallel=16, network_latency=Q_(5, "us"))
    assert slow.raw["t_comm"] - r.raw["t_comm"] == pytest.approx(L_405B * 2 * 2 * 5e-6,
                                                                 rel=1e-9)
    # four nodes: the intra ring stays over 8; the inter ring has 3 steps of (m/8)/4 each way
    r32 = _solve(tensor_parallel=32)
    across = 2 * 3 * (m / 8 / 4) / NIC
    assert r32.raw["t_comm"] == pytest.approx(L_405B * 2 * (inside + across), rel=1e-12)


def test_one_fast_domain_is_exactly_the_flat_law():
    # decode: one token per sequence, b x d activations per collective
    message = {m_c: bytes_act * b * d}
    ring = collectives.expr("t_ar_fab").xreplace(message)
    send = collectives.expr("t_p2p").xreplace(message)
    assert sp.simplify(decode_tp.expr("t_comm").xreplace({n_node: 1}) - 2 * L * ring) == 0
    flat = 2 * (L / n_pp) * ring + (n_pp - 1) / n_pp * send
    assert sp.simplify(decode_pp.expr("t_comm").xreplace({n_node: 1, p_net: 0}) - flat) == 0
    # prefill: the same structure over its n_tok tokens
    stages = (prefill_tp.expr("t_comm").xreplace({n_node: 1, L: L / n_pp})
              + (n_pp - 1) / n_pp * prefill_pp.expr("t_send"))
    assert sp.simplify(prefill_pp.expr("t_comm").xreplace({n_node: 1, p_net: 0})
                       - stages) == 0
    # numerically: DGX_H100 nodes in the SU give the DGX_H100's numbers bit for bit, and
    # half the ring's hand value of tests/test_parallel.py (80 layers x 2 all-reduces x 14
    # steps of 2 kB on a bare H100): the NVSwitch reduces
    on_su = Engine.solve("Llama3_70B", "DGX_H100_SU", tensor_parallel=8)
    on_node = Engine.solve("Llama3_70B", "DGX_H100", tensor_parallel=8)
    on_device = Engine.solve("Llama3_70B", "H100", tensor_parallel=8)
    for name in ("T", "t_comm", "M", "W_read"):
        assert on_su.raw[name] == on_node.raw[name]
    assert on_device.raw["t_comm"] == pytest.approx(
        80 * 2 * 2 * 7 * (2 * 8192 / (8 * NVLINK4)), rel=1e-12)
    assert on_su.raw["t_comm"] == pytest.approx(on_device.raw["t_comm"] / 2, rel=1e-12)
    assert on_su.nodes == 1 and "nodes" not in on_su.summary()
    pp_su = Engine.solve("Llama3_70B", "DGX_H100_SU", tensor_parallel=4, pipeline_parallel=2)
    pp_node = Engine.solve("Llama3_70B", "DGX_H100", tensor_parallel=4, pipeline_parallel=2)
    assert pp_su.scenario.values["p_net"] == 0
    for name in ("T", "t_comm", "t_stage", "t_send"):
        assert pp_su.raw[name] == pp_node.raw[name]


def test_groups_that_cannot_span_nodes_say_why():
    with pytest.raises(InvalidParameter, match=r"tensor_parallel=8 x pipeline_parallel=64 = "
                                               r"512 devices.*DGX_H100_SU has 256 devices.*"
                                               r"at most 256"):
        _solve(tensor_parallel=8, pipeline_parallel=64)
    with pytest.raises(InvalidParameter, match="a device alone has no scale-out network"):
        Engine.solve("Llama3_8B", "GB200", tensor_parallel=144)
    with pytest.raises(InvalidParameter, match=r"expert_parallel=8 \(tensor_parallel=8\) x "
                                               r"pipeline_parallel=2 = 16 devices.*"
                                               "expert-parallel groups across fast domains"):
        Engine.solve("Mixtral_8x7B", "DGX_H100_SU", tensor_parallel=8, expert_parallel=8,
                     pipeline_parallel=2)
    # two 8-GPU nodes with no scale-out network in the registry
    islands = dataclasses.replace(SU, key="Two_islands", nodes=2, scale_out=None)
    with pytest.raises(InvalidParameter, match="Two_islands has no scale-out network.*"
                                               "use at most 8 devices"):
        Engine.solve("Llama3_70B", islands, tensor_parallel=16)
    with pytest.raises(InvalidParameter, match="network_latency"):
        _solve(tensor_parallel=16, network_latency=Q_(-1, "us"))
    # a single DGX H100 still stops at its 8 GPUs
    with pytest.raises(InvalidParameter, match="DGX_H100 has 8 devices"):
        Engine.solve("Llama3_70B", "DGX_H100", tensor_parallel=16)


def test_the_degree_search_spans_nodes_on_a_cluster():
    # 405B parameters in bf16 are 811 GB: more than 8 x 80 GB, within 16 GPUs of the SU
    r = Engine.solve("Llama3_1_405B", "DGX_H100_SU")
    assert not r.feasible and r.min_tensor_parallel == 16
    assert r.reason.endswith("fits with tensor_parallel=16")
    assert Engine.solve("Llama3_1_405B", "DGX_H100").min_tensor_parallel is None


def test_calibrated_fast_domain_and_a_speed_of_light_network_say_so():
    r = _solve(tensor_parallel=8, pipeline_parallel=2, efficiency="calibrated")
    # the SU's nodes are DGX H100s: their NVLink domain's fitted profile applies
    assert "link profile DGX_H100" in r.inputs.options["link_calibration"]
    assert "scale-out network between fast domains has no fitted profile" in r.caveat
    assert r.summary()["caveat"] == r.caveat
    # the network send: the call's fitted latency, no network latency, the NIC at line rate
    assert r.raw["t_send_net"] == pytest.approx(r.scenario.values["alpha_c"] + D_405B * FP8 / NIC,
                                                rel=1e-12)
    assert _solve(tensor_parallel=8, efficiency="calibrated").caveat == ""


def test_network_elasticities_are_exact():
    base = _solve(tensor_parallel=16, network_latency=Q_(2, "us"))
    s = sensitivities(base)
    scenario = base.scenario
    for lever, symbol in (("network_bandwidth", "beta_n"), ("network_latency", "alpha_n")):
        x = scenario.values[symbol]
        h = x * 1e-6
        up = scenario.replace(**{symbol: x + h}).call(("T",))["T"]
        down = scenario.replace(**{symbol: x - h}).call(("T",))["T"]
        numeric = (up - down) / (2 * h) * x / s.value
        assert s.sensitivities[lever] == pytest.approx(numeric, rel=1e-6)
    # by hand: T falls by the inter-node bandwidth time as beta_n grows (elasticity -1 of it)
    across = L_405B * 2 * 2 * (D_405B * FP8 / 8 / 2) / NIC
    assert s.sensitivities["network_bandwidth"] == pytest.approx(-across / s.value, rel=1e-9)
    assert s.sensitivities["network_latency"] == pytest.approx(
        L_405B * 2 * 2 * 2e-6 / s.value, rel=1e-9)
