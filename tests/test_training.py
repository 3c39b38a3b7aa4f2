"""The training law and TrainingModel: hand checks, the Megatron FLOP count, ZeRO, the bubble,
exact sensitivities, the configuration search and the validation against Table 5."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import symsys
from symsys import TrainingModel
from symsys.accuracy import training as training_accuracy
from symsys.cli import main
from symsys.errors import InvalidParameter

MEGATRON_175B = dict(global_batch_size=64, seq_len=2048, tensor_parallel=8,
                     pipeline_parallel=8, microbatch_size=1, interleave=3,
                     attention="unfused", precision="bf16")


def solve(model="Megatron_GPT_175B", hardware="DGX_A100", **options):
    return TrainingModel().solve(model, hardware, **{**MEGATRON_175B, **options})


def test_six_n_d_flops_plus_attention():
    r = solve(attention="fused")
    model = symsys.Models.Megatron_GPT_175B
    tokens = 64 * 2048
    n_mm = model.summary["N_dense"]  # every matmul weight (the tied LM head included)
    attention = model.summary["a_attn"] * 64 * 2048 ** 2 / 2  # causal half, fused kernels
    assert r.model_flops.m_as("FLOP") == pytest.approx(6 * n_mm * tokens + 3 * attention,
                                                       rel=1e-12)
    # 6 N D within 4 %: attention adds s / (6 d) = 2.8 % at s = 2048, d = 12288
    assert r.model_flops.m_as("FLOP") / (6 * n_mm * tokens) == pytest.approx(1.0, abs=0.04)


def test_megatron_flop_formula():
    # Narayanan et al. 2021 Eq. 3 (full attention square): 72 B s l h^2 (1 + s/6h + V/12lh)
    r = solve()
    B, s, l, h, V = 64, 2048, 96, 12288, 51200
    megatron = 72 * B * s * l * h ** 2 * (1 + s / (6 * h) + V / (12 * l * h))
    # the law also counts the biases' multiply-adds the formula drops: 0.03 %
    assert r.model_flops.m_as("FLOP") == pytest.approx(megatron, rel=1e-3)
    # HFU counts the recomputation: selective adds one pass of the attention scores
    selective = solve(recompute="selective")
    scores = 4 * B * s ** 2 * h * l  # QK^T and AV, full square, forward
    assert (selective.hardware_flops - selective.model_flops).m_as("FLOP") == pytest.approx(
        scores, rel=1e-9)
    full = solve(recompute="full")
    assert full.hardware_flops.m_as("FLOP") == pytest.approx(
        4 / 3 * full.model_flops.m_as("FLOP"), rel=1e-12)


def test_adam_states_are_16_bytes_per_parameter_and_zero3_divides_them():
    r = solve(tensor_parallel=1, pipeline_parallel=1, interleave=1, hardware="A100",
              global_batch_size=64)
    n = symsys.Models.Megatron_GPT_175B.parameters.m_as("param")
    assert r.state_memory.m_as("B") == pytest.approx(16 * n, rel=1e-12)
    sharded = TrainingModel().solve("Megatron_GPT_175B", "DGX_A100", global_batch_size=64,
                                    seq_len=2048, data_parallel=64, zero_stage=3,
                                    precision="bf16")
    assert sharded.state_memory.m_as("B") == pytest.approx(16 * n / 64, rel=1e-12)
    stage1 = TrainingModel().solve("Megatron_GPT_175B", "DGX_A100", global_batch_size=64,
                                   seq_len=2048, data_parallel=64, zero_stage=1,
                                   precision="bf16")
    assert stage1.state_memory.m_as("B") == pytest.approx((2 + 2 + 12 / 64) * n, rel=1e-12)
    # 2.8 TB of states plus activations on one 80 GiB device: infeasible, with what it needs
    assert not r.feasible and "needs 3.069 TB" in r.reason and "36 devices" in r.reason


def test_pipeline_bubble_share():
    for pp, v in ((8, 1), (8, 3), (4, 2)):
        r = solve(pipeline_parallel=pp, interleave=v, global_batch_size=64)
        m = 64 / 1
        values = r.scenario.values
        assert values["n_p"] == pp
        # the bubble over the pipeline's time: (p - 1) / (v m + p - 1)
        pipeline = r.raw["m_mb"] * r.raw["t_mb"] + r.raw["t_bub"]
        assert r.raw["t_bub"] / pipeline == pytest.approx((pp - 1) / (v * m + pp - 1),
                                                          rel=1e-12)


def test_korthikanti_activation_memory_per_layer():
    # selective recomputation + sequence parallelism keeps 34 s b h / t bytes per layer
    r = solve(recompute="selective", sequence_parallel=True)
    assert r.raw["A_layer"] == pytest.approx(34 * 2048 * 1 * 12288 / 8, rel=1e-12)
    # no recomputation, tensor parallel only: s b h (10 + 24/t + 5 a s / (h t))
    r = solve()
    assert r.raw["A_layer"] == pytest.approx(
        2048 * 12288 * (10 + 24 / 8 + 5 * 96 * 2048 / (12288 * 8)), rel=1e-12)


def test_table5_within_5_percent_mean_and_10_max_and_never_faster_than_measured():
    data = training_accuracy.report()
    ours = data["table5"]["calibrated"]
    assert ours["n"] == 8 and ours["mean"] <= 0.05 and ours["max"] <= 0.10
    assert not data["bound_violations"]
    assert all(r["speed_of_light_s"] <= r["measured_s"] for r in data["rows"])
    # Calculon's published accuracy on the same rows, reproduced from the data
    assert data["table5"]["calculon"]["mean"] == pytest.approx(0.0365, abs=5e-4)


def test_step_time_sensitivities_are_exact():
    r = solve(recompute="selective", sequence_parallel=True, data_parallel=2,
              global_batch_size=128)
    s = r.sensitivities("step_time")
    for lever, field in (("link_bandwidth", "link_bandwidth"),
                         ("network_bandwidth", "network_bandwidth")):
        base = r.scenario.values["beta_x" if lever == "link_bandwidth" else "beta_n"]
        h = 1e-5
        up = solve(recompute="selective", sequence_parallel=True, data_parallel=2,
                   global_batch_size=128, **{field: f"{base * (1 + h)} B/s"})
        down = solve(recompute="selective", sequence_parallel=True, data_parallel=2,
                     global_batch_size=128, **{field: f"{base * (1 - h)} B/s"})
        numeric = ((up.step_time - down.step_time) / (2 * h) / r.step_time).m_as("")
        assert s.sensitivities[lever] == pytest.approx(numeric, rel=1e-5)
    assert s.sensitivities["peak_flops"] < -0.5  # compute-bound work dominates


def test_configuration_search_is_one_vectorised_call_and_agrees_with_solve():
    rows = TrainingModel().configurations("Megatron_GPT_175B", "DGX_A100", devices=512,
                                          global_batch_size=512, seq_len=2048,
                                          recompute="selective", sequence_parallel=True,
                                          precision="bf16", attention="unfused")
    assert all(r["tensor_parallel"] <= 8 for r in rows)  # NVLink domain of a DGX A100
    best = rows[0]
    assert best["feasible"]
    check = TrainingModel().solve(
        "Megatron_GPT_175B", "DGX_A100", global_batch_size=512, seq_len=2048,
        tensor_parallel=best["tensor_parallel"], pipeline_parallel=best["pipeline_parallel"],
        data_parallel=best["data_parallel"], microbatch_size=best["microbatch_size"],
        recompute="selective", sequence_parallel=True, precision="bf16", attention="unfused")
    assert check.step_time.m_as("s") == pytest.approx(best["step_time"], rel=1e-12)
    feasible = [r for r in rows if r["feasible"]]
    assert best["step_time"] == min(r["step_time"] for r in feasible)


def test_time_to_train():
    r = solve(data_parallel=4, global_batch_size=256)
    days = r.time_to_train("300G tokens").m_as("day")
    assert days == pytest.approx(300e9 / r.tokens_per_second.m_as("token/s") / 86400)
    assert r.device_hours(300e9).m_as("hour") == pytest.approx(days * 24 * 256)


def test_bad_configurations_say_what_is_valid():
    with pytest.raises(InvalidParameter, match=r"96 attention heads must split evenly"):
        solve(tensor_parallel=5)
    with pytest.raises(InvalidParameter, match=r"multiple of microbatch_size x data_parallel"):
        solve(global_batch_size=63, data_parallel=2)
    with pytest.raises(InvalidParameter, match=r"connects 8 devices"):
        solve(tensor_parallel=16)
    with pytest.raises(InvalidParameter, match=r"a device alone has no scale-out network"):
        TrainingModel().solve("Llama3_8B", "H100", global_batch_size=8, seq_len=2048,
                              data_parallel=2)
    with pytest.raises(InvalidParameter, match=r"recompute='some'"):
        solve(recompute="some")


def test_cli_train(capsys):
    args = ["train", "Megatron_GPT_175B", "DGX_A100", "--tp", "8", "--pp", "8",
            "--interleave", "3", "-B", "64", "-s", "2048", "--recompute", "selective", "--sp",
            "--attention", "unfused", "-p", "bf16", "--efficiency", "calibrated",
            "--tokens", "300G"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "13.14 s" in out and "Time to train" in out
    assert main([*args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["T"] == pytest.approx(13.14, abs=0.01)
    assert main(["train", "Megatron_GPT_175B", "DGX_A100", "-B", "512", "-s", "2048",
                 "--devices", "512", "--search"]) == 0
    assert "configurations of 512 devices" in capsys.readouterr().out


def test_readme_validation_table_is_the_generated_one():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = readme.split("<!-- begin: symsys validate --training -->")[1].split("<!-- end -->")[0]
    rendered = training_accuracy.render(training_accuracy.report())
    assert block.strip() == f"```text\n{rendered}\n```"


# --- data parallelism inside a fast domain (issue 26, cause 3) -----------------------------
#: the per-direction bandwidths of a DGX H100: NVLink 4 450 GB/s per GPU; 8 x 400 Gb/s NICs
#: for 8 GPUs, 50 GB/s each
NVLINK4, NIC = 450e9, 50e9


def _llama8b(hardware, **options):
    return TrainingModel().solve("Llama3_8B", hardware, **{
        "global_batch_size": 64, "seq_len": 2048, "precision": "bf16", **options})


def _gradient_bytes(r) -> float:
    """bf16 gradients of one device's parameters (N / (n_t n_p)), the all-reduced buffer."""
    v = r.scenario.values
    return 2 * v["N_total"] / (v["n_t"] * v["n_p"])


def test_a_data_parallel_group_inside_one_node_reduces_over_nvlink():
    # 8 replicas in one DGX H100: one all-reduce over NVLink, in the switch (NVLink SHARP):
    # (n - 1) / n m / beta_x, half the ring's 2 (n - 1) / n m / beta_x
    r = _llama8b("DGX_H100", data_parallel=8)
    m = _gradient_bytes(r)
    assert r.scenario.values["g_dp"] == 8 and r.scenario.values["z_nvls"] == 1
    assert r.raw["t_dp"] == pytest.approx(7 / 8 * m / NVLINK4, rel=1e-12)
    # a DGX A100's switch does not reduce: the ring over its 300 GB/s
    a100 = _llama8b("DGX_A100", data_parallel=8)
    assert a100.raw["t_dp"] == pytest.approx(2 * 7 / 8 * _gradient_bytes(a100) / 300e9,
                                             rel=1e-12)
    # the same group's ring over the network would take 18x as long (2 x 450 / 50 GB/s)
    assert r.raw["t_dp"] * NVLINK4 / NIC * 2 == pytest.approx(2 * 7 / 8 * m / NIC, rel=1e-12)


def test_a_group_across_nodes_reduces_hierarchically():
    # tp 2 x dp 8 on a SuperPOD unit: 4 replicas per node over NVLink, then the 4-way shards
    # across the 2 nodes over the NICs (reduce-scatter + all-gather inside, ring across)
    r = _llama8b("DGX_H100_SU", tensor_parallel=2, data_parallel=8)
    m = _gradient_bytes(r)
    assert r.scenario.values["g_dp"] == 4
    inside = 3 / 4 * m / NVLINK4  # in the switch
    across = 2 * 1 / 2 * (m / 4) / NIC
    assert r.raw["t_dp"] == pytest.approx(inside + across, rel=1e-12)


def test_one_replica_per_node_is_the_ring_over_the_network_as_before():
    # tp 8 fills each node: the data-parallel ring is entirely over the NICs
    r = _llama8b("DGX_H100_SU", tensor_parallel=8, data_parallel=4)
    m = _gradient_bytes(r)
    assert r.scenario.values["g_dp"] == 1
    assert r.raw["t_dp"] == pytest.approx(2 * 3 / 4 * m / NIC, rel=1e-12)


def test_zero3_inside_a_node_pays_its_extra_gather_over_nvlink():
    plain = _llama8b("DGX_H100", data_parallel=8)
    sharded = _llama8b("DGX_H100", data_parallel=8, zero_stage=3)
    assert sharded.raw["t_dp"] == pytest.approx(1.5 * plain.raw["t_dp"], rel=1e-12)


def test_layouts_whose_groups_straddle_domains_are_named():
    with pytest.raises(InvalidParameter, match=r"multiple of 8 / tensor_parallel"):
        _llama8b("DGX_H100_SU", tensor_parallel=2, data_parallel=6, global_batch_size=48)
    with pytest.raises(InvalidParameter, match=r"would straddle two"):
        _llama8b("DGX_H100_SU", data_parallel=3, pipeline_parallel=2, global_batch_size=48)


# --- fp8 training: only the linear layers' GEMMs in fp8 (issue 26, cause 7) ------------------
#: H100 SXM dense peaks: 989.4 TFLOP/s bf16, 1978.9 TFLOP/s fp8 (NVIDIA H100 datasheet)
H100_BF16, H100_FP8 = 989.4e12, 1978.9e12


def test_fp8_training_runs_the_gemms_at_the_fp8_peak_and_attention_at_bf16():
    kwargs = dict(tensor_parallel=8, global_batch_size=8, seq_len=8192)
    bf16 = _llama8b("DGX_H100", **kwargs)
    fp8 = _llama8b("DGX_H100", **{**kwargs, "precision": "fp8"})
    v = fp8.scenario.values
    assert (v["Pi"], v["Pi_a"]) == pytest.approx((H100_FP8, H100_BF16))
    assert v["bytes_w"] == v["bytes_g"] == v["bytes_act"] == 2  # held and moved in bf16
    assert "attention, weights, gradients and activations in bf16" in fp8.to_dict()[
        "precision_note"]
    # the same FLOPs: attention's share at the bf16 peak, the rest at twice it
    share = 3 * fp8.raw["F_attn"] * v["b"] / (v["B_g"] * v["n_t"] * v["n_p"])  # no recompute
    flops = fp8.raw["F"]
    assert flops == pytest.approx(bf16.raw["F"], rel=1e-12)
    assert fp8.raw["t_compute"] == pytest.approx(
        (flops - share) / H100_FP8 + share / H100_BF16, rel=1e-12)
    assert bf16.raw["t_compute"] == pytest.approx(flops / H100_BF16, rel=1e-12)
    # so fp8 is less than 2x faster: the attention at 8k context and the memory-bound kernels
    speedup = bf16.step_time.m_as("s") / fp8.step_time.m_as("s")
    assert 1 < speedup < 2
    readme = " ".join((Path(__file__).resolve().parents[1] / "README.md").read_text().split())
    assert f"steps {speedup:.2f}x faster in fp8 than in bf16" in readme
    assert f"(MFU over the fp8 peak: {fp8.mfu:.3f})" in readme
