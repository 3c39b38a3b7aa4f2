"""A law defined here alone, with three regimes, gets every solver with no solver code.

The law: a batch of b requests on one device, each doing 2 N FLOPs per token against weights
read once per step, plus a fixed communication term (a message of m bytes over a link of
bandwidth beta_wire) that no batch hides. Everything below comes from the generic solvers
reading the law's declared roles; the expected values are hand calculations.
"""

import json
import math

import numpy as np
import pytest
import sympy as sp

import symsys
from symsys import Q_
from symsys.laws import Law
from symsys.symbols import (
    Q_1,
    C_mem,
    F,
    M,
    N_total,
    Pi,
    Q,
    R_s,
    T,
    b,
    beta,
    bytes_w,
    eta_c,
    eta_m,
    t_compute,
    t_memory,
)

# new symbols, declared by the test like any user would (units, LaTeX, the lever name)
# (the same declarations as the README's example: declaring a symbol again identically is
# allowed, differently is an error)
beta_wire = symsys.declare("beta_wire", r"\beta_{wire}", "B/s", "wire bandwidth",
                           lever="wire_bandwidth")
m_msg = symsys.declare("m_msg", "m", "B", "bytes sent every step")
t_wire = symsys.declare("t_wire", r"t_{\mathrm{wire}}", "s", "time to send the message")

LAW = Law(
    name="three_walls_test", title="Compute, memory and a fixed message",
    summary="A step of b requests bounded by compute, weight traffic and a message.",
    inputs=(Pi, beta, eta_c, eta_m, C_mem, N_total, bytes_w, Q_1, b, beta_wire, m_msg),
    definitions=(
        (F, 2 * N_total * b),
        (Q, bytes_w * N_total + Q_1 * b),
        (t_compute, F / (eta_c * Pi)),
        (t_memory, Q / (eta_m * beta)),
        (t_wire, m_msg / beta_wire),
        (T, sp.Max(t_compute, t_memory, t_wire)),
        (R_s, b / T),
        (M, bytes_w * N_total + Q_1 * b),
    ),
    regimes=(("Compute", t_compute), ("Memory", t_memory), ("Communication", t_wire)),
    latency=T, rate=R_s, footprint=M, capacity=C_mem,
    levers=(beta, Pi, beta_wire, b, C_mem), integers=(b,),
    defaults={eta_c: 1, eta_m: 1},
)

# H100: 989.4 TFLOP/s dense fp16, 3.35 TB/s, 80 GiB of HBM3
PI, BETA, CAPACITY = 989.4e12, 3.35e12, 80 * 2**30
N, BYTES, PER_REQUEST, MESSAGE, LINK = 8e9, 2.0, 1e6, 0.2e9, 50e9


def scenario(**override):
    given = dict(N_total=Q_(N, "param"), bytes_w=Q_(BYTES, "B"), Q_1=Q_(PER_REQUEST, "B"), b=8,
                 beta_wire=Q_(LINK, "B/s"), m_msg=Q_(MESSAGE, "B"))
    return symsys.bind(LAW, "H100", **{**given, **override})


def by_hand(batch):
    compute = 2 * N * batch / PI
    memory = (BYTES * N + PER_REQUEST * batch) / BETA
    comm = MESSAGE / LINK
    return compute, memory, comm


def test_solve_binds_registry_hardware_and_names_the_regime():
    r = scenario().solve()
    compute, memory, comm = by_hand(8)
    assert r.latency.m_as("s") == pytest.approx(max(compute, memory, comm), rel=1e-12)
    assert r.regime == "Memory"  # 16.008 GB / 3.35 TB/s = 4.78 ms > 4 ms message > 0.13 ms
    assert r.throughput.m_as("sample/s") == pytest.approx(8 / memory, rel=1e-12)
    assert r.feasible and r.reason == ""
    # at b = 1 the weights alone take 16 GB / 3.35 TB/s = 4.78 ms, still above the 4 ms message
    assert scenario(b=1).solve().regime == "Memory"


def test_the_third_regime_binds_where_the_link_is_slow():
    r = scenario(beta_wire=Q_(5, "GB/s")).solve()  # 40 ms message
    assert r.regime == "Communication"
    assert r.latency.m_as("ms") == pytest.approx(40.0, rel=1e-12)


def test_sweep_equals_solves_and_labels_all_three_regimes():
    links = Q_([5, 50, 5000], "GB/s")
    batches = [1, 1000, 20000]
    swept = scenario().sweep(beta_wire=links, b=batches)
    assert len(swept) == 9
    for i, link in enumerate(links):
        for j, batch in enumerate(batches):
            one = scenario(beta_wire=link, b=batch).solve()
            k = i * 3 + j
            assert swept["T"][k].m_as("s") == pytest.approx(one.latency.m_as("s"), rel=1e-12)
            assert swept["regime"][k] == one.regime
            assert bool(swept["feasible"][k]) == one.feasible
    assert set(swept["regime"]) == {"Compute", "Memory", "Communication"}


def test_exact_sensitivities_match_finite_differences_and_skip_what_does_not_enter():
    base = scenario(beta_wire=Q_(5, "GB/s"))
    s = base.sensitivities("latency")
    assert s.binding_constraint == "wire_bandwidth"
    assert s.sensitivities["wire_bandwidth"] == pytest.approx(-1.0, rel=1e-12)
    assert s.sensitivities["memory_bandwidth"] == 0 and s.sensitivities["peak_flops"] == 0
    assert "memory_capacity" not in s.sensitivities  # the latency does not depend on it
    memory_bound = scenario(b=64).sensitivities("throughput")
    h = 1e-6
    for lever, symbol in (("memory_bandwidth", "beta"), ("batch_size", "b")):
        x = memory_bound.scenario.values[symbol]
        up = memory_bound.scenario.replace(**{symbol: x * (1 + h)}).call(("R_s",))["R_s"]
        down = memory_bound.scenario.replace(**{symbol: x * (1 - h)}).call(("R_s",))["R_s"]
        numeric = (math.log(up) - math.log(down)) / (2 * h)
        assert memory_bound.sensitivities[lever] == pytest.approx(numeric, rel=1e-6)


def test_synthesis_respects_the_capacity():
    # a 1.2 s step is compute-bound at b = 1.2 Pi / (2 N) = 74205 requests, whose 1 MB each
    # on top of 16 GB of weights overflow 80 GiB: only 69899 fit
    r = scenario().synthesize(Q_(1.2, "s"), "batch_size")
    assert r.required_value == pytest.approx(1.2 * PI / (2 * N), rel=1e-12)
    assert not r.achievable and "80 GiB" in r.reason and "C_mem" in r.reason
    largest = math.floor((CAPACITY - BYTES * N) / PER_REQUEST)
    assert f"the largest batch_size that fits is {largest}" in r.reason and largest == 69_899
    fits = scenario().synthesize(Q_(1.0, "s"), "batch_size")  # b = 61838 fits
    assert fits.achievable and fits.design.feasible
    ok = scenario().synthesize(Q_(10, "ms"), "wire_bandwidth")
    assert ok.achievable
    assert ok.required.m_as("B/s") == pytest.approx(MESSAGE / 10e-3, rel=1e-12)


def test_balance_point_in_closed_form():
    # compute reaches the message time at 2 N b / Pi = m / beta_wire
    exact, first = scenario().crossing("b", "t_compute", "t_wire")
    assert exact == pytest.approx(MESSAGE / LINK * PI / (2 * N), rel=1e-12)
    assert first == math.ceil(exact)


def test_max_batch_size_in_closed_form_equals_the_sweep():
    exact, largest = scenario().max_fitting("b")
    assert exact == pytest.approx((CAPACITY - BYTES * N) / PER_REQUEST, rel=1e-12)
    swept = scenario().sweep(b=np.arange(69_890, 69_910))
    feasible = swept["b"][np.asarray(swept["feasible"])].magnitude
    assert largest == int(feasible.max()) == 69_899


def test_json_and_derivation():
    r = scenario(beta_wire=Q_(5, "GB/s")).solve()
    data = json.loads(json.dumps(r.to_dict()))
    assert data["law"] == "three_walls_test" and data["hardware"] == "H100"
    assert data["regime"] == "Communication" and data["units"]["t_wire"] == "s"
    assert data["t_wire"] == pytest.approx(0.04)
    assert r"t_{\mathrm{wire}} &= \frac{m}{\beta_{wire}}" in r.derivation()
    frame = r.to_pandas()
    assert frame["latency [s]"][0] == pytest.approx(0.04)


def test_a_symbol_declared_again_differently_is_an_error():
    assert symsys.declare("m_msg", "m", "B", "bytes sent every step") is m_msg
    with pytest.raises(ValueError, match="declared twice, differently"):
        symsys.declare("m_msg", "m", "GB", "bytes sent every step")


def test_unknown_inputs_and_levers_are_named():
    with pytest.raises(symsys.InvalidParameter, match="Did you mean 'm_msg'"):
        scenario(m_mesg=Q_(1, "B"))
    with pytest.raises(symsys.InvalidParameter, match="wire_bandwidth"):
        scenario().synthesize(Q_(10, "ms"), "wire_bandwith")
