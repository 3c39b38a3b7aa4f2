"""Expert parallelism (an MoE model's routed experts split over e devices) and data-parallel
replicas, against hand calculations and the collectives law they are built from."""

import json

import pytest
import sympy as sp

from symsys import Q_, Engine
from symsys.cli import main
from symsys.errors import InvalidParameter
from symsys.laws import collectives, decode_ep, decode_tp, prefill_ep, prefill_tp
from symsys.registry.hardware import Hardware
from symsys.solvers.serving import ServingModel
from symsys.sweeps.sweep import sweep
from symsys.symbols import (
    F,
    M,
    W_read,
    W_res,
    alpha_c,
    alpha_n,
    alpha_x,
    beta_n,
    beta_x,
    m_c,
    n_ep,
    n_g,
    n_node,
)

MIXTRAL = "Mixtral_8x7B"
# Mixtral-8x7B's parameter summaries (the registry's config.json counts)
N_TOTAL, N_EXPERT, N_DENSE, N_EMBED = 46702792704, 5637144576, 1474297856, 131072000
E, K, D, LAYERS, E_KV = 8, 2, 4096, 32, 65536
N_OTHER = N_TOTAL - E * N_EXPERT  # every weight but the routed experts: 1 605 636 096
LINK = 450e9  # DGX H100: NVLink 4, 450 GB/s per direction


def _a2a(devices, message, alpha=0.0):
    """The collectives law's all-to-all, evaluated (no per-call latency)."""
    return float(collectives.expr("t_a2a").evalf(subs={
        n_g: devices, m_c: message, beta_x: LINK, alpha_x: alpha, alpha_c: 0, n_node: 1,
        alpha_n: 0, beta_n: 1}))


def test_the_registry_numbers_the_hand_checks_use():
    r = Engine.solve(MIXTRAL, "DGX_H100", expert_parallel=8)
    v = r.inputs.values
    assert (v["N_total"], v["N_expert"], v["N_dense"], v["N_embed"]) == (
        N_TOTAL, N_EXPERT, N_DENSE, N_EMBED)
    assert (v["E"], v["k"], v["d"], v["L"], v["L_d"], v["n_ep"], v["n_g"]) == (
        E, K, D, LAYERS, 0, 8, 1)
    assert v["beta_x"] == LINK and r.card["law"] == "decode_ep"


def test_attention_data_parallel_ep8_by_hand():
    # tensor_parallel=1, expert_parallel=8: 8 attention replicas of one device, batch 1 each
    r = Engine.solve(MIXTRAL, "DGX_H100", expert_parallel=8)
    raw = r.raw
    # each device holds E/e = 1 whole expert and every other weight: 7.243 G params, fp16
    assert raw["W_res"] == pytest.approx(2 * (N_OTHER + E // 8 * N_EXPERT), rel=1e-12)
    assert raw["W_res"] == pytest.approx(14_485_561_344, rel=1e-12)
    assert raw["M"] == pytest.approx(14_485_561_344 + 2 * E_KV * 1, rel=1e-12)  # + K/V of s+1
    # the group routes 8 tokens (one per replica): 8 (1 - (6/8)^8) = 7.1991 experts hit, of
    # which a device reads its 1/8
    hit = E * (1 - (1 - K / E) ** 8)
    assert raw["E_hit"] == pytest.approx(hit, rel=1e-12) and hit == pytest.approx(7.19909668)
    assert raw["W_read"] == pytest.approx(
        2 * (N_OTHER - N_EMBED + hit / 8 * N_EXPERT + D), rel=1e-12)
    # expert FLOPs: k N_e x 8 tokens / 8 devices, plus the dense weights for its own token
    assert raw["F"] == pytest.approx(2 * (N_DENSE + K * N_EXPERT * 8 / 8) * 1, rel=1e-12)
    assert raw["F"] == pytest.approx(25_497_174_016, rel=1e-12)
    # dispatch: each device sends its token's k copies of d fp16 activations, 16 384 B, as
    # pairwise exchange over 8 devices: 7 x 2048 B / 450 GB/s = 31.86 ns
    message = 2 * K * 1 * D
    assert message == 16384
    assert raw["t_disp"] == pytest.approx(_a2a(8, message), rel=1e-12)
    assert raw["t_disp"] == pytest.approx(7 * 16384 / (8 * LINK), rel=1e-12)
    # 32 MoE layers x (dispatch + combine); the all-reduce over n = 1 device costs nothing
    assert raw["t_comm"] == pytest.approx(2 * LAYERS * raw["t_disp"], rel=1e-12)
    assert raw["t_comm"] == pytest.approx(2.0389e-6, rel=1e-4)
    # the group's rate: 8 tokens per step
    assert raw["R_tok"] == pytest.approx(8 / raw["T"], rel=1e-12)
    assert r.devices == 8 and r.group_devices == 8
    assert r.communication_share == pytest.approx(raw["t_comm"] / raw["T"], rel=1e-12)
    assert r.feasible and r.reason == ""


def test_ep_over_the_tp_group_with_link_latency_by_hand():
    # tensor_parallel = expert_parallel = 8: one batch of 4 over the 8-device group
    alpha = 2e-6
    r = Engine.solve(MIXTRAL, "DGX_H100", tensor_parallel=8, expert_parallel=8, batch_size=4,
                     link_latency=Q_(2, "us"))
    raw = r.raw
    # a device holds 1/8 of the other weights and one whole expert: N_total / 8 when e = n
    assert raw["W_res"] == pytest.approx(2 * (N_OTHER / 8 + N_EXPERT), rel=1e-12)
    assert raw["W_res"] == pytest.approx(2 * N_TOTAL / 8, rel=1e-12)
    # b x d fp16 over 8 devices, in the DGX H100's NVSwitch: (n - 1)/n (2 alpha + m / beta)
    all_reduce = 7 / 8 * (2 * alpha + 2 * 4 * D / LINK)
    message = 2 * K * 4 * D / 8  # a device's 1/8 share of the 4 tokens' 2 copies: 8 192 B
    dispatch = 7 * (alpha + message / (8 * LINK))
    assert raw["t_disp"] == pytest.approx(_a2a(8, message, alpha), rel=1e-12)
    assert raw["t_disp"] == pytest.approx(dispatch, rel=1e-12)
    assert raw["t_comm"] == pytest.approx(LAYERS * all_reduce + 2 * LAYERS * dispatch,
                                          rel=1e-12)
    # the communication waits for the step (no overlap by default)
    assert raw["T"] == pytest.approx(max(raw["t_compute"], raw["t_memory"]) + raw["t_comm"],
                                     rel=1e-12)


def test_ep_over_the_tp_group_moves_the_tp_law_weights_and_flops():
    # with e = n the expected expert weights read, held and computed are the tensor-parallel
    # law's exactly (1/n of each expert = E_hit/e whole experts); only the collectives differ
    for ep, tp in ((decode_ep, decode_tp), (prefill_ep, prefill_tp)):
        for symbol in (W_read, W_res, F, M):
            assert sp.simplify(ep.expr(symbol).subs(n_ep, n_g) - tp.expr(symbol)) == 0, symbol
    a = Engine.solve(MIXTRAL, "DGX_H100", tensor_parallel=8, expert_parallel=8, batch_size=16,
                     seq_len=256)
    b = Engine.solve(MIXTRAL, "DGX_H100", tensor_parallel=8, batch_size=16, seq_len=256)
    for name in ("W_read", "W_res", "F", "M", "t_compute", "t_memory"):
        assert a.raw[name] == pytest.approx(b.raw[name], rel=1e-12), name
    assert a.raw["t_comm"] != pytest.approx(b.raw["t_comm"])


def test_replicas_of_the_tp_group_by_hand():
    # tensor_parallel=2, expert_parallel=8: 4 replicas of a 2-device group, batch 4 each
    r = Engine.solve(MIXTRAL, "DGX_H100", tensor_parallel=2, expert_parallel=8, batch_size=4)
    raw = r.raw
    assert raw["W_res"] == pytest.approx(2 * (N_OTHER / 2 + N_EXPERT), rel=1e-12)
    hit = E * (1 - (1 - K / E) ** 16)  # the group's 4 x 4 tokens
    assert raw["E_hit"] == pytest.approx(hit, rel=1e-12)
    assert raw["W_read"] == pytest.approx(
        2 * ((N_OTHER - N_EMBED) / 2 + hit / 8 * N_EXPERT + 4 * D / 2), rel=1e-12)
    # expert work per device: k N_e x 16 tokens / 8 devices = the TP law's k N_e x 4 / 2
    assert raw["F"] == pytest.approx(2 * (N_DENSE / 2 + K * N_EXPERT / 2) * 4, rel=1e-12)
    message = 2 * K * 4 * D / 2
    all_reduce = 1 / 2 * (2 * 4 * D / LINK)  # in the switch: half the ring's bytes
    assert raw["t_comm"] == pytest.approx(
        LAYERS * all_reduce + 2 * LAYERS * _a2a(8, message), rel=1e-12)
    assert raw["R_tok"] == pytest.approx(16 / raw["T"], rel=1e-12)
    assert r.devices == 8


def test_expert_parallel_errors_name_the_numbers():
    with pytest.raises(InvalidParameter, match=r"expert_parallel=3.*8 routed experts.*"
                                               r"8 is not divisible by 3"):
        Engine.solve(MIXTRAL, "DGX_H100", expert_parallel=3)
    with pytest.raises(InvalidParameter, match=r"expert_parallel=2: Llama3_8B has no experts"):
        Engine.solve("Llama3_8B", "DGX_H100", expert_parallel=2)
    with pytest.raises(InvalidParameter, match=r"tensor_parallel must divide expert_parallel"):
        Engine.solve(MIXTRAL, "DGX_H100", tensor_parallel=8, expert_parallel=4)
    with pytest.raises(InvalidParameter, match=r"16 devices.*at most 8"):
        Engine.solve(MIXTRAL, "DGX_H100", expert_parallel=8, pipeline_parallel=2)
    with pytest.raises(InvalidParameter, match=r"expert_parallel=0"):
        Engine.solve(MIXTRAL, "DGX_H100", expert_parallel=0)
    with pytest.raises(InvalidParameter, match=r"data_parallel"):
        Engine.solve(MIXTRAL, "DGX_H100", data_parallel=0)
    with pytest.raises(InvalidParameter, match="expert_parallel"):
        Engine.solve("ResNet50", "DGX_H100", expert_parallel=2)
    # a dense model is fine with expert_parallel=1
    assert Engine.solve("Llama3_8B", "DGX_H100", expert_parallel=1).feasible


def test_data_parallel_multiplies_the_rate_and_keeps_the_latency():
    one = Engine.solve(MIXTRAL, "DGX_H100", tensor_parallel=4, expert_parallel=4,
                       batch_size=8, seq_len=512)
    two = Engine.solve(MIXTRAL, "DGX_H100", tensor_parallel=4, expert_parallel=4,
                       batch_size=8, seq_len=512, data_parallel=2)
    assert two.latency.m_as("s") == one.latency.m_as("s")
    assert two.throughput.m_as("token/s") == 2 * one.throughput.m_as("token/s")
    assert two.throughput_per_replica.m_as("token/s") == one.throughput.m_as("token/s")
    assert two.memory_footprint.m_as("B") == one.memory_footprint.m_as("B")
    assert (one.devices, two.devices, two.group_devices) == (4, 8, 4)
    assert two.feasible and two.to_dict()["devices"] == 8
    assert two.to_dict()["throughput"] == pytest.approx(2 * one.to_dict()["throughput"],
                                                        rel=1e-15)
    # more replicas than the system holds: infeasible, with the count
    three = Engine.solve(MIXTRAL, "DGX_H100", tensor_parallel=4, expert_parallel=4,
                         data_parallel=3)
    assert not three.feasible
    assert three.reason == ("data_parallel=3 replicas x 4 devices each = 12 devices, but "
                            "DGX_H100 has 8 (use at most data_parallel=2)")
    # the same on a dense tensor-parallel and a single-device step
    dense = Engine.solve("Llama3_8B", "DGX_H100", tensor_parallel=2, data_parallel=4)
    assert dense.feasible and dense.devices == 8
    single = Engine.solve("Llama3_8B", "H100", data_parallel=5)
    base = Engine.solve("Llama3_8B", "H100")
    assert single.throughput.m_as("token/s") == 5 * base.throughput.m_as("token/s")
    assert single.latency == base.latency and single.devices == 5


def test_pipeline_stages_of_expert_parallel_groups():
    r = Engine.solve(MIXTRAL, "DGX_H100", tensor_parallel=2, expert_parallel=4,
                     pipeline_parallel=2, batch_size=8, seq_len=512)
    raw = r.raw
    assert r.card["law"] == "decode_ep_pp" and r.devices == 8
    # a stage: 16 layers' all-reduces (over 2) and all-to-alls (over 4), half the one send
    all_reduce = 1 / 2 * (2 * 8 * D / LINK)  # over 2, in the switch: half the ring's bytes
    dispatch = _a2a(4, 2 * K * 8 * D / 2)
    send = 2 * 8 * D / LINK
    assert raw["t_disp"] == pytest.approx(dispatch, rel=1e-12)
    assert raw["t_comm"] == pytest.approx(16 * (all_reduce + 2 * dispatch) + send / 2,
                                          rel=1e-12)
    assert raw["T"] == pytest.approx(2 * raw["t_stage"], rel=1e-12)
    # a stage holds half of every weight: its 1/2 of the others and E/e experts of 16 layers
    assert raw["W_res"] == pytest.approx(2 * (N_OTHER / 2 / 2 + 2 * N_EXPERT / 2), rel=1e-12)


def test_not_fitting_names_the_expert_parallel_degree():
    # half of 80 GiB: 42.9 GB; E/e = 4 experts need 2 (N_other + 4 N_e) = 48.3 GB, 2 need 25.8
    r = Engine.solve(MIXTRAL, "DGX_H100", expert_parallel=2, memory_fraction=0.5)
    assert r.memory_footprint.m_as("B") == pytest.approx(2 * (N_OTHER + 4 * N_EXPERT) + 2 * E_KV,
                                                         rel=1e-12)
    assert not r.feasible and r.reason.endswith("; fits with expert_parallel=4")
    assert r.min_expert_parallel == 4
    assert Engine.solve(MIXTRAL, "DGX_H100", expert_parallel=4, memory_fraction=0.5).feasible
    big = Engine.solve("DeepSeek_V3", "DGX_H100", tensor_parallel=2, expert_parallel=2)
    assert not big.feasible and big.reason.endswith(
        "no expert-parallel degree within DGX_H100's fast domain fits at this tensor_parallel")


def test_serving_sums_the_expert_parallel_steps():
    serving = ServingModel().solve(MIXTRAL, "DGX_H100", prompt_len=64, output_len=4,
                                   expert_parallel=8, data_parallel=1)
    steps = [Engine.solve(MIXTRAL, "DGX_H100", expert_parallel=8, seq_len=64 + j).raw["T"]
             for j in (1, 2, 3)]
    assert serving.itl_mean.m_as("s") == pytest.approx(sum(steps) / 3, rel=1e-12)
    prefill = Engine.solve(MIXTRAL, "DGX_H100", expert_parallel=8, phase="prefill",
                           seq_len=64).raw["T"]
    assert serving.e2e_latency.m_as("s") == pytest.approx(prefill + sum(steps), rel=1e-12)
    # 8 attention replicas of batch 1, each request 4 tokens
    assert serving.replicas == 8
    assert serving.tokens_per_sec.m_as("token/s") == pytest.approx(
        8 * 4 / (prefill + sum(steps)), rel=1e-12)


def test_sweep_takes_one_expert_parallel_degree():
    result = sweep(MIXTRAL, ["DGX_H100"], batch_size=[1, 4], tensor_parallel=[1, 2, 3, 8],
                   expert_parallel=8)
    rows = result.to_pandas()
    for _, row in rows.iterrows():
        n, b = int(row["tensor_parallel"]), int(row["batch_size"])
        if n == 3:
            assert not row["feasible"] and "tensor_parallel must divide" in row["reason"]
            continue
        r = Engine.solve(MIXTRAL, "DGX_H100", tensor_parallel=n, expert_parallel=8,
                         batch_size=b)
        assert row["latency [s]"] == pytest.approx(r.raw["T"], rel=1e-12)
        assert row["latency_communication [s]"] == pytest.approx(r.raw["t_comm"], rel=1e-12)
    with pytest.raises(InvalidParameter, match="no experts"):
        sweep("Llama3_8B", ["DGX_H100"], expert_parallel=2)


def test_sweep_prices_an_expert_parallel_group():
    """Cost columns with expert_parallel: the e devices of the group over its rate, as
    CostModel gives them (the decode_ep_cost law)."""
    from symsys import CostModel

    result = sweep(MIXTRAL, ["DGX_H100"], batch_size=[1, 64], expert_parallel=8,
                   columns=["throughput", "cost_per_token", "feasible"])
    rows = result.to_pandas()
    price = Hardware["H100"].cloud_price.hourly.m_as("USD/s")
    for _, row in rows.iterrows():
        cost = CostModel().solve(MIXTRAL, "DGX_H100", expert_parallel=8,
                                 batch_size=int(row["batch_size"]))
        assert row["cost_per_token [USD/tokens]"] == pytest.approx(
            cost.cost_per_token.m_as("USD/token"), rel=1e-12)
        assert row["cost_per_token [USD/tokens]"] == pytest.approx(
            8 * price / row["throughput [tokens/s]"], rel=1e-12)


def test_cli_solve_expert_parallel(capsys):
    assert main(["solve", MIXTRAL, "DGX_H100", "--ep", "8"]) == 0
    out = capsys.readouterr().out
    assert "Expert parallel" in out and "1 of 8 experts each" in out
    assert "Communication time" in out and "Min expert parallel" in out
    assert main(["solve", MIXTRAL, "DGX_H100", "--ep", "8", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["law"] == "decode_ep" and data["expert_parallel"] == 8
    assert data["devices"] == 8 and data["feasible"] is True
    assert data["memory_footprint"] == pytest.approx(14_485_692_416, rel=1e-12)
    assert data["latency_all_to_all"] == pytest.approx(7 * 16384 / (8 * LINK), rel=1e-12)
    assert main(["solve", MIXTRAL, "DGX_H100", "--tp", "4", "--ep", "4", "--dp", "2",
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["data_parallel"] == 2 and data["devices"] == 8
    assert data["throughput"] == pytest.approx(2 * data["throughput_per_replica"], rel=1e-15)
    assert main(["solve", "Llama3_8B", "DGX_H100", "--ep", "2"]) == 1
    assert "has no experts" in capsys.readouterr().err
