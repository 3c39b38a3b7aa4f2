"""The parallel keywords (pipeline_parallel, expert_parallel, data_parallel) in the
sensitivity, synthesis and cost solvers: elasticities against finite differences of
Engine.solve, synthesized link bandwidths put back into Engine.solve, costs by hand."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from symsys import Q_, CostModel
from symsys.cli import main
from symsys.errors import InvalidParameter
from symsys.laws import (
    decode_ep,
    decode_ep_cost,
    decode_ep_pp,
    decode_ep_pp_cost,
    decode_pp,
    decode_pp_cost,
    prefill_ep_cost,
    prefill_ep_pp_cost,
    prefill_pp_cost,
)
from symsys.registry.systems import Systems
from symsys.solvers.inference import Engine
from symsys.solvers.sensitivity import SensitivitySolver
from symsys.solvers.synthesis import SynthesisSolver
from symsys.symbols import R_tok, c_tok, n_ep, n_g, n_pp, p_dev

#: Mixtral-8x7B with its 8 experts over the 8 H100 of a DGX, memory-bound at batch 64
MOE = dict(expert_parallel=8, batch_size=64, seq_len=1024)
#: Llama-3-70B in 2 pipeline stages of 4-way tensor-parallel groups
PIPE = dict(tensor_parallel=4, pipeline_parallel=2, batch_size=32, seq_len=1024)
#: AWS p5.48xlarge on demand: 98.32 USD/hour for 8 H100 (symsys show H100)
H100_USD_PER_HOUR = 98.32 / 8
H100_TDP_W = 700.0


def dgx_h100_with_link(bandwidth_bytes_per_s: float):
    """DGX H100 whose NVLink fast domain has another per-direction bandwidth."""
    system = Systems.get("DGX_H100")
    link = dataclasses.replace(system.fast_domain, link_bandwidth=None,
                               bandwidth=Q_(bandwidth_bytes_per_s, "B/s"))
    return dataclasses.replace(system, fast_domain=link)


# --- sensitivities ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def moe_latency():
    return SensitivitySolver().solve("Mixtral_8x7B", "DGX_H100", **MOE)


def test_expert_parallel_levers_are_the_laws(moe_latency):
    s = moe_latency
    assert s.card["law"] == "decode_ep"
    assert {"link_bandwidth", "group_size", "expert_parallel"} <= set(s.sensitivities)
    assert s.value == pytest.approx(Engine.solve("Mixtral_8x7B", "DGX_H100", **MOE)
                                    .latency.m_as("s"), rel=1e-15)


def test_link_bandwidth_elasticity_is_a_finite_difference_of_engine_solve(moe_latency):
    beta = Systems.get("DGX_H100").fast_domain.bandwidth.m_as("B/s")
    h = 1e-4

    def latency(scale):
        return Engine.solve("Mixtral_8x7B", dgx_h100_with_link(beta * scale),
                            **MOE).latency.m_as("s")

    numeric = (latency(1 + h) - latency(1 - h)) / (2 * h) / latency(1)
    exact = moe_latency.sensitivities["link_bandwidth"]
    assert exact < -1e-3  # the all-to-alls and all-reduces are a visible share here
    assert exact == pytest.approx(numeric, rel=1e-6)


def test_expert_parallel_elasticity_is_a_finite_difference_of_the_solved_law(moe_latency):
    # Engine.solve takes whole divisors of the 8 experts only: the difference is taken on the
    # scenario it solved (its compiled law), at e = 8 (1 +/- h)
    scenario = Engine.solve("Mixtral_8x7B", "DGX_H100", **MOE).scenario
    h = 1e-5

    def latency(e):
        return scenario.replace(n_ep=e).call(("T",))["T"]

    numeric = (latency(8 * (1 + h)) - latency(8 * (1 - h))) / (2 * h) / latency(8)
    assert moe_latency.sensitivities["expert_parallel"] == pytest.approx(numeric, rel=1e-6)


def test_latency_is_homogeneous_in_the_rates(moe_latency):
    # with no latencies or overheads, T(x beta, x Pi, x beta_x) = T / x: the rates'
    # elasticities sum to -1 (Euler's theorem)
    e = moe_latency.sensitivities
    assert e["memory_bandwidth"] + e["peak_flops"] + e["link_bandwidth"] == pytest.approx(
        -1.0, rel=1e-12)


def test_data_parallel_throughput_value_is_the_results():
    one = SensitivitySolver().solve("Mixtral_8x7B", "DGX_H100", output="throughput", **MOE)
    two = SensitivitySolver().solve("Mixtral_8x7B", "DGX_H100", output="throughput",
                                    data_parallel=2, **MOE)
    solved = Engine.solve("Mixtral_8x7B", "DGX_H100", data_parallel=2, **MOE)
    # the rate of 2 replicas, as InferenceResult.throughput reports it
    assert two.value == pytest.approx(solved.throughput.m_as("token/s"), rel=1e-12)
    assert two.baseline_value.m_as("token/s") == pytest.approx(two.value, rel=1e-15)
    assert two.throughput.m_as("token/s") == pytest.approx(two.value, rel=1e-15)
    assert two.value == pytest.approx(2 * one.value, rel=1e-15)
    # a constant factor: the elasticities are one replica's, the partials twice theirs
    for lever, elasticity in one.sensitivities.items():
        assert two.sensitivities[lever] == pytest.approx(elasticity, rel=1e-12, abs=1e-15)
    assert two.partials["link_bandwidth"].m == pytest.approx(
        2 * one.partials["link_bandwidth"].m, rel=1e-12)
    # R = group tokens / T and the link does not change the tokens: el_R = -el_T
    latency = SensitivitySolver().solve("Mixtral_8x7B", "DGX_H100", **MOE)
    assert two.sensitivities["link_bandwidth"] == pytest.approx(
        -latency.sensitivities["link_bandwidth"], rel=1e-12)


# --- synthesis --------------------------------------------------------------------------------

#: synthesis on the tensor-parallel law: its inverse in the link bandwidth compiles in seconds
#: (the pipeline law's takes minutes on first use: not in the suite's time budget)
GROUP = dict(tensor_parallel=8, batch_size=32, seq_len=1024)


def test_link_bandwidth_for_a_latency_target_round_trips_through_engine_solve():
    base = Engine.solve("Llama3_70B", "DGX_H100", **GROUP)
    raw = base.raw
    roof = max(raw["t_compute"], raw["t_memory"])
    target = roof + 2 * raw["t_comm"]  # twice the all-reduce time: half the bandwidth
    s = SynthesisSolver().solve("Llama3_70B", "DGX_H100", target=Q_(target, "s"),
                                lever="link_bandwidth", **GROUP)
    assert s.card["law"] == "decode_tp" and s.achievable
    # by hand: with no link latency T = max(t_compute, t_memory) + t_comm and t_comm goes as
    # 1/beta_x, so beta_x = t_comm,0 beta_x,0 / (T - max(t_compute, t_memory)) = beta_x,0 / 2
    beta0 = base.scenario.values["beta_x"]
    assert beta0 == pytest.approx(450e9)
    assert s.required.m_as("B/s") == pytest.approx(beta0 / 2, rel=1e-9)
    design = Engine.solve("Llama3_70B", dgx_h100_with_link(s.required.m_as("B/s")), **GROUP)
    assert design.latency.m_as("s") == pytest.approx(target, rel=1e-6)


def test_a_data_parallel_throughput_target_is_split_over_the_replicas():
    options = dict(GROUP, tensor_parallel=4)  # 4 devices a replica, 2 replicas: 8 H100
    one = Engine.solve("Llama3_70B", "DGX_H100", **options)
    target = 1.8 * one.throughput.m_as("token/s")  # each replica at 0.9 of its rate
    two = SynthesisSolver().solve("Llama3_70B", "DGX_H100", target=Q_(target, "token/s"),
                                  lever="link_bandwidth", data_parallel=2, **options)
    half = SynthesisSolver().solve("Llama3_70B", "DGX_H100", target=Q_(target / 2, "token/s"),
                                   lever="link_bandwidth", **options)
    assert two.achievable and two.target == target
    assert two.required.m_as("B/s") == pytest.approx(half.required.m_as("B/s"), rel=1e-12)
    assert two.achieved == pytest.approx(target, rel=1e-9) and two.round_trip_error < 1e-9
    design = Engine.solve("Llama3_70B", dgx_h100_with_link(two.required.m_as("B/s")),
                          data_parallel=2, **options)
    assert design.feasible and design.devices == 8
    assert design.throughput.m_as("token/s") == pytest.approx(target, rel=1e-6)


def test_an_unreachable_throughput_names_the_ceiling_of_all_replicas():
    options = dict(GROUP, tensor_parallel=4)
    far = Q_(1e9, "token/s")
    one = SynthesisSolver().solve("Llama3_70B", "DGX_H100", target=far,
                                  lever="link_bandwidth", **options)
    two = SynthesisSolver().solve("Llama3_70B", "DGX_H100", target=far,
                                  lever="link_bandwidth", data_parallel=2, **options)
    assert not two.achievable and "2 data-parallel replicas" in two.explanation

    def ceiling(result):
        return float(re.search(r"ceiling ([0-9.e+]+)/s", result.explanation).group(1))

    assert ceiling(two) == pytest.approx(2 * ceiling(one), rel=1e-3)


# --- cost -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("costed", "step", "devices"), [
    (decode_pp_cost, decode_pp, n_g * n_pp), (prefill_pp_cost, None, n_g * n_pp),
    (decode_ep_cost, decode_ep, n_ep), (prefill_ep_cost, None, n_ep),
    (decode_ep_pp_cost, decode_ep_pp, n_ep * n_pp), (prefill_ep_pp_cost, None, n_ep * n_pp)])
def test_parallel_cost_laws_extend_their_step_laws(costed, step, devices):
    if step is not None:
        assert costed.definitions[:len(step.definitions)] == step.definitions
        assert costed.expr("T") == step.expr("T")
    # the group pays for every one of its devices over the group's rate
    assert dict(costed.definitions)[c_tok] == devices * p_dev / R_tok
    assert "n_dev" not in {s.name for s in costed.inputs}


def test_pipeline_cost_by_hand():
    r = CostModel().solve("Llama3_70B", "DGX_H100", **PIPE)
    step = Engine.solve("Llama3_70B", "DGX_H100", **PIPE)
    assert r.card["law"] == "decode_pp_cost" and r.devices == 8
    rate = step.throughput.m_as("token/s")
    # one microbatch of 32 sequences leaves the 2-stage pipeline every stage time
    assert rate == pytest.approx(32 / step.raw["t_stage"], rel=1e-12)
    # 4 x 2 devices at 12.29 USD/hour over the pipeline's rate, 32 tokens / 5.6583 ms =
    # 5655.4 token/s: 98.32 USD/hour / 3600 / 5655.4 token/s = 4.829 USD per Mtoken
    hand = 4 * 2 * H100_USD_PER_HOUR / 3600 / rate
    assert r.cost_per_token.m_as("USD/token") == pytest.approx(hand, rel=1e-12)
    assert rate == pytest.approx(5655.4, rel=1e-4)
    assert r.cost_per_million_tokens.m_as("USD/Mtoken") == pytest.approx(4.829, rel=1e-3)
    assert r.energy_per_token.m_as("J/token") == pytest.approx(8 * H100_TDP_W / rate,
                                                                rel=1e-12)
    assert r.cost_per_hour.m_as("USD/hour") == pytest.approx(98.32, rel=1e-12)


def test_data_parallel_cost_per_token_is_one_replicas_and_the_bill_doubles():
    options = dict(PIPE, tensor_parallel=2)
    one = CostModel().solve("Llama3_70B", "DGX_H100", **options)
    two = CostModel().solve("Llama3_70B", "DGX_H100", data_parallel=2, **options)
    # 2 replicas: 2 x 4 devices for 2 x the rate, so the same USD per token
    assert two.cost_per_million_tokens.m_as("USD/Mtoken") == pytest.approx(
        one.cost_per_million_tokens.m_as("USD/Mtoken"), rel=1e-15)
    assert two.energy_per_token.m_as("J/token") == pytest.approx(
        one.energy_per_token.m_as("J/token"), rel=1e-15)
    assert (one.devices, two.devices) == (4, 8) and two.feasible
    # the bill: 4 and 8 devices at 98.32 / 8 USD per device-hour; the power at 700 W each
    assert one.cost_per_hour.m_as("USD/hour") == pytest.approx(98.32 / 2, rel=1e-12)
    assert two.cost_per_hour.m_as("USD/hour") == pytest.approx(98.32, rel=1e-12)
    assert one.power.m_as("W") == pytest.approx(4 * 700, rel=1e-12)
    assert two.power.m_as("W") == pytest.approx(8 * 700, rel=1e-12)
    assert two.throughput.m_as("token/s") == pytest.approx(
        2 * one.throughput.m_as("token/s"), rel=1e-15)
    # bill / throughput is the cost per token
    assert two.cost_per_hour.m_as("USD/s") / two.throughput.m_as("token/s") == pytest.approx(
        two.cost_per_token.m_as("USD/token"), rel=1e-12)


def test_expert_parallel_cost_by_hand():
    r = CostModel().solve("Mixtral_8x7B", "DGX_H100", **MOE)
    assert r.card["law"] == "decode_ep_cost" and r.devices == 8
    # 8 attention replicas of 64 sequences: 512 tokens a step for 8 devices
    rate = 8 * 64 / r.latency.m_as("s")
    assert r.throughput.m_as("token/s") == pytest.approx(rate, rel=1e-12)
    assert r.cost_per_token.m_as("USD/token") == pytest.approx(
        8 * H100_USD_PER_HOUR / 3600 / rate, rel=1e-12)
    assert r.energy_per_token.m_as("J/token") == pytest.approx(8 * H100_TDP_W / rate,
                                                                rel=1e-12)


# --- bad input --------------------------------------------------------------------------------

SOLVERS = [
    lambda **kw: SensitivitySolver().solve("Llama3_8B", "DGX_H100", **kw),
    lambda **kw: SynthesisSolver().solve("Llama3_8B", "DGX_H100", target="3 ms", **kw),
    lambda **kw: CostModel().solve("Llama3_8B", "DGX_H100", **kw),
]


@pytest.mark.parametrize("solve", SOLVERS)
@pytest.mark.parametrize(("options", "message"), [
    (dict(data_parallel=0), r"data_parallel=0"),
    (dict(pipeline_parallel=0), r"pipeline_parallel=0"),
    (dict(expert_parallel=2), r"expert_parallel=2: Llama3_8B has no experts"),
    (dict(pipeline_parallel=64), r"pipeline_parallel=64"),
    (dict(tensor_parallel=8, expert_parallel=2), r"expert_parallel=2: Llama3_8B"),
])
def test_bad_parallel_degrees_are_clear_errors(solve, options, message):
    with pytest.raises(InvalidParameter, match=message):
        solve(**options)


def test_weight_streaming_refuses_parallel_degrees():
    with pytest.raises(InvalidParameter, match=r"tensor_parallel, data_parallel: not an "
                                               r"option of weight streaming"):
        SensitivitySolver().solve("Llama3_8B", "H100", output="optimal_batch",
                                  tensor_parallel=2, data_parallel=2)


# --- command line -----------------------------------------------------------------------------

def test_cli_parallel_options(capsys):
    assert main(["cost", "Llama3_70B", "DGX_H100", "--tp", "2", "--pp", "2", "--dp", "2",
                 "-b", "32", "-s", "1024"]) == 0
    out = capsys.readouterr().out
    assert "8 devices (TP 2 x PP 2 x DP 2)" in out and "98.32 USD/hour (8 devices)" in out
    assert main(["sensitivity", "Mixtral_8x7B", "DGX_H100", "--ep", "8", "--dp", "2",
                 "-b", "64", "-s", "1024", "--output", "throughput", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    solved = Engine.solve("Mixtral_8x7B", "DGX_H100", data_parallel=2, **MOE)
    assert data["value"] == pytest.approx(solved.throughput.m_as("token/s"), rel=1e-12)
    assert main(["synthesize", "Llama3_70B", "DGX_H100", "--tp", "4", "--pp", "2", "-b", "32",
                 "-s", "1024", "--target", "12 ms", "--lever", "link_bandwidth",
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    # the all-reduces in the DGX H100's NVSwitch send half the ring's bytes: about half the
    # link the ring needed (153.3 GB/s per direction)
    assert data["required"] == pytest.approx(76.9617e9, rel=1e-5)
