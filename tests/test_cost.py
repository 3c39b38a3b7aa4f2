"""Cost and energy per token: the economics extension of the step laws, by hand."""

from __future__ import annotations

import json

import pytest

import symsys
from symsys import Q_, CostModel
from symsys.cli import main
from symsys.errors import InvalidParameter
from symsys.laws import decode, decode_cost, decode_tp, decode_tp_cost


def test_the_step_law_is_extended_not_retyped():
    for step, costed in ((decode, decode_cost), (decode_tp, decode_tp_cost)):
        assert costed.definitions[:len(step.definitions)] == step.definitions
        assert costed.expr("T") == step.expr("T")
    # a tensor-parallel group pays for all n_g of its devices
    assert decode_tp_cost.expr("c_tok").has(symsys.symbols.n_g)
    assert "n_dev" not in {s.name for s in decode_tp_cost.inputs}


@pytest.mark.parametrize(("batch", "latency_ms", "usd_per_mtoken"),
                         [(1, 4.481, 15.30), (256, 4.491, 0.05989)])
def test_llama3_8b_on_h100_by_hand(batch, latency_ms, usd_per_mtoken):
    r = CostModel().solve("Llama3_8B", "H100", batch_size=batch)
    # AWS p5.48xlarge on-demand: 98.32 USD/hour for 8 H100 = 12.29 USD per device-hour.
    # batch 1: 12.29 USD/h x 4.481 ms / 1 token = 15.30 USD per million tokens;
    # batch 256: 12.29 USD/h x 4.491 ms / 256 tokens = 0.05989 USD per million tokens
    assert r.price.m_as("USD/hour") == pytest.approx(98.32 / 8, rel=1e-9)
    assert r.latency.m_as("ms") == pytest.approx(latency_ms, abs=5e-4)
    hand = 98.32 / 8 / 3600 * r.latency.m_as("s") / batch * 1e6
    assert r.cost_per_million_tokens.m_as("USD/Mtoken") == pytest.approx(hand, rel=1e-12)
    assert r.cost_per_million_tokens.m_as("USD/Mtoken") == pytest.approx(usd_per_mtoken,
                                                                         rel=1e-3)
    # energy at TDP (700 W, the SXM5 datasheet): 700 W x latency / batch
    assert r.energy_per_token.m_as("J/token") == pytest.approx(
        700 * r.latency.m_as("s") / batch, rel=1e-12)
    assert r.tokens_per_joule.m_as("token/J") == pytest.approx(
        1 / r.energy_per_token.m_as("J/token"), rel=1e-12)


def test_given_price_power_and_fraction():
    r = CostModel().solve("Llama3_8B", "MI300X", price="2.50 USD/hour", power=Q_(750, "W"),
                          power_fraction=0.5)
    t = r.latency.m_as("s")
    assert r.cost_per_million_tokens.m_as("USD/Mtoken") == pytest.approx(2.5 / 3600 * t * 1e6)
    assert r.energy_per_token.m_as("J/token") == pytest.approx(0.5 * 750 * t)


def test_tensor_parallel_pays_for_every_device():
    one = CostModel().solve("Llama3_70B", "H200", batch_size=8)
    eight = CostModel().solve("Llama3_70B", "H200", batch_size=8, tensor_parallel=8)
    price = 84.80 / 8  # AWS p5en.48xlarge, USD per device-hour
    for r, n in ((one, 1), (eight, 8)):
        assert r.cost_per_token.m_as("USD/token") == pytest.approx(
            n * price / 3600 * r.latency.m_as("s") / 8, rel=1e-3)
    assert eight.power.m_as("W") == pytest.approx(8 * one.power.m_as("W"))


def test_cost_elasticities_are_exact():
    r = CostModel().solve("Llama3_8B", "H100", batch_size=64, seq_len=1024)
    s = r.sensitivities("cost")
    assert s.sensitivities["device_price"] == pytest.approx(1.0)
    assert s.binding_constraint == "memory_bandwidth"
    # against a central finite difference of the cost in bandwidth (memory-bound: -1)
    h = 1e-4
    bw = symsys.Hardware.H100.memory.bandwidth

    def cost(scale):
        chip = symsys.Device.custom("H100x", peak=symsys.Hardware.H100.compute.peak("fp16"),
                                    bandwidth=bw * scale, capacity="80 GiB")
        return CostModel().solve("Llama3_8B", chip, batch_size=64, seq_len=1024,
                                 price="12.29 USD/hour", power="700 W").cost_per_token.m
    numeric = (cost(1 + h) - cost(1 - h)) / (2 * h) / cost(1)
    assert s.sensitivities["memory_bandwidth"] == pytest.approx(numeric, rel=1e-6)


def test_missing_price_or_power_is_an_error_that_says_what_to_give():
    with pytest.raises(InvalidParameter, match=r"MI300X has no cloud price.*price="):
        CostModel().solve("Llama3_8B", "MI300X")
    with pytest.raises(InvalidParameter, match=r"power_fraction=1.5"):
        CostModel().solve("Llama3_8B", "H100", power_fraction=1.5)
    with pytest.raises(InvalidParameter, match=r"price"):
        CostModel().solve("Llama3_8B", "H100", price="3 ms")


def test_cli_cost(capsys):
    assert main(["cost", "Llama3_8B", "H100", "--batch-size", "256"]) == 0
    out = capsys.readouterr().out
    assert "0.05989 USD per million tokens" in out and "AWS p5.48xlarge" in out
    assert main(["cost", "Llama3_8B", "H100", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["c_tok"] == pytest.approx(15.30e-6, rel=1e-3)


def test_sweep_cost_columns_equal_the_cost_model():
    columns = ["latency", "feasible", "cost_per_token", "energy_per_token", "tokens_per_joule"]
    r = symsys.sweep("Llama3_8B", ["H100", "B200"], batch_size=[1, 256], seq_len=1024,
                     columns=columns)
    data = r.to_dict()["columns"]
    for i, (hw, b) in enumerate(zip(data["hardware"], data["batch_size"])):
        one = CostModel().solve("Llama3_8B", hw, batch_size=b, seq_len=1024)
        assert data["cost_per_token"][i] == pytest.approx(one.cost_per_token.m_as("USD/token"),
                                                          rel=1e-12)
        assert data["energy_per_token"][i] == pytest.approx(
            one.energy_per_token.m_as("J/token"), rel=1e-12)
    # cost is not computed unless asked for: a sweep of unpriced devices still works
    assert "cost_per_token" not in symsys.sweep("Llama3_8B", "MI300X").to_dict()["columns"]
    with pytest.raises(InvalidParameter, match="MI300X has no cloud price"):
        symsys.sweep("Llama3_8B", "MI300X", columns=["cost_per_token"])
    with pytest.raises(InvalidParameter, match="need a cost or energy column"):
        symsys.sweep("Llama3_8B", "H100", price="2 USD/hour")


def test_pareto_of_latency_and_cost():
    r = symsys.sweep("Llama3_70B", ["H100", "H200", "B200"], batch_size=range(1, 65),
                     seq_len=2048, columns=["latency", "feasible", "cost_per_token"])
    front = symsys.pareto(r, objectives={"latency": "min", "cost_per_token": "min"},
                          where=["feasible"]).to_dict()["columns"]
    # on the front, latency rises exactly where cost falls
    latency, cost = front["latency"], front["cost_per_token"]
    order = sorted(range(len(latency)), key=latency.__getitem__)
    assert all(cost[a] > cost[b] for a, b in zip(order, order[1:]))
    # Llama-3-70B fp16 (141 GB) fits a B200 and an H200 alone, not an H100 (80 GiB)
    assert set(front["hardware"]) <= {"H200", "B200"}


def test_cli_sweep_cost(capsys):
    assert main(["sweep", "Llama3_8B", "H100", "--cost", "--batch-size", "256"]) == 0
    assert "0.05989 USD/Mtokens" in capsys.readouterr().out
    assert main(["sweep", "Llama3_8B", "H100", "--price", "2 USD/hour"]) == 1
    assert "--price/--power apply with --cost" in capsys.readouterr().err


def test_price_is_a_sweep_axis_and_cost_is_linear_in_it():
    r = symsys.sweep("Llama3_8B", "MI300X", batch_size=[1, 8], columns=["cost_per_token"],
                     price=Q_([1.0, 2.0, 4.0], "USD/hour"), power="750 W")
    data = r.to_dict()["columns"]
    assert data["price"] == pytest.approx([1 / 3600] * 2 + [2 / 3600] * 2 + [4 / 3600] * 2)
    one = CostModel().solve("Llama3_8B", "MI300X", batch_size=8, price="4 USD/hour",
                            power="750 W")
    assert data["cost_per_token"][5] == pytest.approx(one.cost_per_token.m_as("USD/token"),
                                                      rel=1e-12)
    assert data["cost_per_token"][5] == pytest.approx(4 * data["cost_per_token"][1])


def test_cli_price_range(capsys):
    assert main(["sweep", "Llama3_8B", "MI300X", "--cost", "--price", "1:3:1USD/hour",
                 "--power", "750 W", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["columns"]
    assert rows["price"] == pytest.approx([1 / 3600, 2 / 3600, 3 / 3600])
