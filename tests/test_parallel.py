"""Collectives (alpha-beta) and tensor-parallel steps, against hand calculations, the
single-device law they are built from, and finite differences of their exact derivatives."""

import pytest
import sympy as sp

import symsys
from symsys import Q_, Engine, SensitivitySolver, SynthesisSolver
from symsys.errors import InvalidParameter
from symsys.laws import collectives, decode, decode_tp
from symsys.symbols import (
    L_w,
    alpha_c,
    alpha_n,
    alpha_x,
    beta_n,
    beta_x,
    m_c,
    n_g,
    n_node,
    z_nvls,
)

H100_LINK = 450e9  # NVLink 4: 18 links x 25 GB/s per direction


def _collective(name, values):
    return float(collectives.expr(name).evalf(subs={n_node: 1, alpha_n: 0, beta_n: 1,
                                                   alpha_c: 0, **values}))


def test_ring_collectives_by_hand():
    at = {n_g: 8, m_c: 1e9, beta_x: H100_LINK, alpha_x: 5e-6}
    step = 5e-6 + 1e9 / (8 * H100_LINK)
    assert _collective("t_rs", at) == pytest.approx(7 * step, rel=1e-12)
    assert _collective("t_ag", at) == pytest.approx(7 * step, rel=1e-12)
    assert _collective("t_ar", at) == pytest.approx(14 * step, rel=1e-12)
    assert _collective("t_a2a", at) == pytest.approx(7 * step, rel=1e-12)
    assert _collective("t_p2p", at) == pytest.approx(5e-6 + 1e9 / H100_LINK, rel=1e-12)
    # recursive halving/doubling: log2 8 = 3 latency steps each way, the ring's bandwidth term
    assert _collective("t_ar_tree", at) == pytest.approx(
        6 * 5e-6 + 2 * 7 / 8 * 1e9 / H100_LINK, rel=1e-12)
    # the ring all-reduce's bus bandwidth, as nccl-tests reports it: 2 (n - 1) / n of the buffer
    busbw = 2 * 7 / 8 * 1e9 / _collective("t_ar", {**at, alpha_x: 0})
    assert busbw == pytest.approx(H100_LINK, rel=1e-12)
    # every call pays the per-call latency once: an all-reduce is one call of two phases
    for name in ("t_rs", "t_ag", "t_ar", "t_a2a", "t_p2p", "t_ar_tree"):
        assert _collective(name, {**at, alpha_c: 7e-6}) - _collective(name, at) == (
            pytest.approx(7e-6, rel=1e-9)), name


def test_hierarchical_all_reduce_adds_the_scale_out_ring_over_the_shards():
    values = {n_g: 8, m_c: 1e9, beta_x: H100_LINK, alpha_x: 0, n_node: 4, beta_n: 50e9,
              alpha_n: 0, alpha_c: 0, z_nvls: 0}
    inside = 2 * 7 * 1e9 / (8 * H100_LINK)
    across = 2 * 3 * (1e9 / 8) / (4 * 50e9)
    assert float(collectives.expr("t_ar_hier").evalf(subs=values)) == pytest.approx(
        inside + across, rel=1e-12)
    # where the switches reduce, the part inside the domain is half the ring's bytes
    in_switch = float(collectives.expr("t_ar_hier").evalf(subs={**values, z_nvls: 1}))
    assert in_switch == pytest.approx(inside / 2 + across, rel=1e-12)


def test_collective_derivatives_match_finite_differences():
    from symsys import derive

    point = {n_g: 8, m_c: 2e8, beta_x: H100_LINK, alpha_x: 4e-6, n_node: 2, beta_n: 5e10,
             alpha_n: 1e-5, alpha_c: 6e-6, z_nvls: 1}
    for output in ("t_ar", "t_ar_tree", "t_ar_hier", "t_a2a", "t_ar_nvls", "t_ar_fab"):
        expr = collectives.expr(output)
        for x in (beta_x, alpha_x, m_c, beta_n, alpha_n, alpha_c):
            exact = float(derive.diff(expr, x).at(point))
            h = point[x] * 1e-6
            up = float(expr.evalf(subs={**point, x: point[x] + h}))
            down = float(expr.evalf(subs={**point, x: point[x] - h}))
            assert exact == pytest.approx((up - down) / (2 * h), rel=1e-6, abs=1e-18)


def test_llama3_70b_on_8_h100_reads_an_eighth_of_the_weights_per_device():
    one = Engine.solve("Llama3_70B", "H100")
    r = Engine.solve("Llama3_70B", "H100", tensor_parallel=8)
    # 141.1 GB of weights on one device is 17.6 GB on each of 8; the step reads them less the
    # embedding table (a lookup): at least 5.19 ms at 3.35 TB/s before any communication
    assert r.weight_bytes.m_as("B") == pytest.approx(one.weight_bytes.m_as("B") / 8, rel=1e-12)
    assert r.memory_footprint.m_as("GB") == pytest.approx(141.107 / 8, rel=1e-4)
    assert r.latency_memory.m_as("ms") == pytest.approx(one.latency_memory.m_as("ms") / 8,
                                                        rel=1e-12)
    assert r.latency.m_as("ms") >= 5.18 and r.feasible and not one.feasible
    # two ring all-reduces of b d fp16 activations per layer, by hand
    comm = 80 * 2 * 2 * 7 * (2 * 8192 / (8 * H100_LINK))
    assert r.raw["t_comm"] == pytest.approx(comm, rel=1e-12)
    assert r.latency.m_as("s") == pytest.approx(r.raw["t_memory"] + comm, rel=1e-12)


def test_overlap_and_latency_and_the_communication_regime():
    r = Engine.solve("Llama3_8B", "H100", tensor_parallel=8, link_latency=Q_(20, "us"))
    # 32 layers x 2 all-reduces x 14 steps x 20 us = 17.9 ms: communication binds
    assert r.bottleneck == "Communication"
    assert r.raw["t_comm"] == pytest.approx(32 * 2 * 14 * (20e-6 + 2 * 4096 / (8 * H100_LINK)),
                                            rel=1e-12)


def test_tensor_parallel_one_is_the_single_device_law():
    a = Engine.solve("Mixtral_8x7B", "H200", batch_size=16, seq_len=512)
    b = Engine.solve("Mixtral_8x7B", "H200", batch_size=16, seq_len=512,
                     link_latency=Q_(0, "s"))  # the parallel law at n = 1
    assert b.scenario.law.name == "decode_tp" and a.scenario.law.name == "decode"
    for name in ("T", "F", "Q", "M"):
        assert b.raw[name] == pytest.approx(a.raw[name], rel=1e-12)
    assert b.raw["t_comm"] == 0


def test_kv_heads_split_until_each_device_has_one_then_replicate():
    # Llama-3-8B has 8 K/V heads: TP 8 splits them, TP 16 copies one per device
    kv = Engine.solve("Llama3_8B", "H100", seq_len=1000).raw["KV_read"]
    assert Engine.solve("Llama3_8B", "H100", seq_len=1000,
                        tensor_parallel=8).raw["KV_read"] == pytest.approx(kv / 8)
    with pytest.raises(InvalidParameter, match="8 K/V heads"):
        Engine.solve("Llama3_8B", "H100", tensor_parallel=3)
    with pytest.raises(InvalidParameter, match="connects at most 72"):
        Engine.solve("Llama3_8B", "GB200", tensor_parallel=144)
    with pytest.raises(InvalidParameter, match="fixed workload"):
        Engine.solve("ResNet50", "H100", tensor_parallel=2)


def test_link_elasticities_are_exact():
    s = SensitivitySolver().solve("Llama3_70B", "H100", tensor_parallel=8, batch_size=64,
                                  link_latency=Q_(8, "us"))
    base = s.scenario
    for lever, symbol in (("link_bandwidth", "beta_x"), ("link_latency", "alpha_x")):
        x, h = base.values[symbol], base.values[symbol] * 1e-6
        up = base.replace(**{symbol: x + h}).call(("T",))["T"]
        down = base.replace(**{symbol: x - h}).call(("T",))["T"]
        numeric = (up - down) / (2 * h) * x / s.value
        assert s.sensitivities[lever] == pytest.approx(numeric, rel=1e-6)
    assert s.sensitivities["link_latency"] > 0 > s.sensitivities["link_bandwidth"]
    # the calibrated link carries a latency per call too (alpha_c): exact as well
    s = SensitivitySolver().solve("Llama3_70B", "DGX_H100", tensor_parallel=8,
                                  efficiency="calibrated")
    base, x = s.scenario, s.scenario.values["alpha_c"]
    up, down = (base.replace(alpha_c=x * (1 + sign * 1e-6)).call(("T",))["T"]
                for sign in (1, -1))
    numeric = (up - down) / (2e-6 * x) * x / s.value
    assert s.sensitivities["collective_latency"] == pytest.approx(numeric, rel=1e-6)
    # 160 all-reduces of Llama-3-70B's 80 layers, each paying alpha_c once
    assert s.raw_partials["collective_latency"][0] == pytest.approx(160, rel=1e-12)


def test_what_nvlink_bandwidth_makes_tp8_decode_hit_a_target():
    # one call: the link bandwidth at which Llama-3-70B TP8 decode, batch 64, with 2 us per
    # message step, takes 10 ms per token
    r = SynthesisSolver().solve("Llama3_70B", "H100", target=Q_(10, "ms"),
                                lever="link_bandwidth", tensor_parallel=8, batch_size=64,
                                link_latency=Q_(2, "us"))
    assert r.achievable and r.round_trip_error < 1e-9
    check = Engine.solve("Llama3_70B", "H100", tensor_parallel=8, batch_size=64,
                         link_latency=Q_(2, "us"))
    faster = check.scenario.replace(beta_x=r.required_value).call(("T",))["T"]
    assert faster == pytest.approx(10e-3, rel=1e-9)
    # below the latency floor no bandwidth helps: 80 layers x 2 x 14 steps x 2 us + memory
    slow = SynthesisSolver().solve("Llama3_70B", "H100", target=Q_(8, "ms"),
                                   lever="link_bandwidth", tensor_parallel=8, batch_size=64,
                                   link_latency=Q_(2, "us"))
    assert not slow.achievable and "floor" in slow.reason


def test_the_parallel_law_is_the_step_law_by_substitution():
    # at n = 1 (N = 1 node), with no latency, every output of the parallel law is the step's. With a
    # sliding window sympy cannot prove the step's times positive (it does not know
    # L_w <= L), so T, whose communication term is min(max(t_c, t_m), 0), is checked
    # symbolically with no window and in numbers with one
    for name in ("F", "W_read", "KV_read", "M", "T"):
        parallel = decode_tp.expr(name).xreplace({n_g: 1, n_node: 1, alpha_x: 0, alpha_c: 0})
        single = decode.expr(name)
        if name == "T":
            parallel, single = parallel.xreplace({L_w: 0}), single.xreplace({L_w: 0})
        assert sp.simplify(parallel - single) == 0, name
    gemma = Engine.solve("Gemma2_9B", "H100", seq_len=6000, batch_size=8).inputs.values
    point = {x: gemma.get(x.name, 1) for x in decode_tp.inputs}  # 21 of 42 layers windowed
    for name in ("T", "M"):
        parallel = decode_tp.expr(name).xreplace({n_g: 1, n_node: 1, alpha_x: 0, alpha_c: 0})
        assert float(parallel.xreplace(point)) == pytest.approx(
            float(decode.expr(name).xreplace(point)), rel=1e-12)
    assert "t_comm" in [o.name for o in decode_tp.outputs]
    assert symsys.laws.get("prefill_tp").regimes[-1][0] == "Communication"
