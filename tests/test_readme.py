"""Numbers quoted in the README are the code's numbers."""

from pathlib import Path

import pytest

import symsys
from symsys import Engine, SensitivitySolver, ServingModel, SynthesisSolver, WeightStreamingModel

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_memory_wall_block():
    for key in ("A100", "H100"):
        r = Engine.solve(model=symsys.Models.Llama3_8B, hardware=symsys.Hardware[key],
                         batch_size=1, precision="fp16")
        line = (f"{key} {r.latency.to('ms'):.3f~P} {r.bottleneck} "
                f"{r.throughput.m_as('token/s'):.1f} token/s {r.crossover_batch}")
        assert line in README
    a = Engine.solve("Llama3_8B", "A100").latency / Engine.solve("Llama3_8B", "H100").latency
    assert f"The speedup is {a.m_as(''):.2f}x" in README
    assert f"{symsys.Models.Llama3_8B.parameters.m_as('param'):,.0f}" in README


def test_what_it_models_block():
    Q_ = symsys.Q_
    assert repr(ServingModel().solve("Llama3_8B", "H100", prompt_len=512, output_len=256,
                                     batch_size=8)) in README
    s = SensitivitySolver().solve(model="Llama3_8B", hardware="A100", batch_size=512)
    assert repr((s.binding_constraint, s.sensitivities["peak_flops"])) in README
    assert repr(SynthesisSolver().solve("Llama3_8B", "H100", target=Q_(3, "ms"),
                                        lever="memory_bandwidth")) in README
    w = repr(WeightStreamingModel().solve("GPT3", "Cerebras_CS3", seq_len=2048, batch_size=1))
    head, tail = w.split(" tokens/s, ")
    assert head + " tokens/s," in README and tail in README
    assert "3 sequences of 2048 tokens" in README
    assert WeightStreamingModel().solve("GPT3", "Cerebras_CS3", seq_len=2048).max_feasible_batch == 3


@pytest.mark.parametrize("quoted,computed", [("16.06 / 3.35", 16.06 / 3.35)])
def test_quickstart_hand_number(quoted, computed):
    assert "4.794 ms" in README and f"{computed:.3f}" == "4.794"


def test_your_own_law_block_runs_as_printed():
    block = README.split("### Your own law")[1].split("```python")[1].split("```")[0]
    namespace = {}
    exec(block, namespace)  # the README's code, as a user would paste it
    s, Q_ = namespace["s"], symsys.Q_
    assert repr(s.solve()) in block
    assert {str(x) for x in s.sweep(b=[1, 1000, 20000],
                                    beta_wire=Q_([5, 50, 5000], "GB/s"))["regime"]} == {
        "Compute", "Memory", "Communication"}
    assert s.sensitivities("latency").binding_constraint == "wire_bandwidth"
    r = s.synthesize(Q_(1.2, "s"), "batch_size")
    assert not r.achievable and "80 GiB" in r.reason and f"{r.required_value:.0f}" in block
    assert f"b = {s.crossing('b', 't_compute', 't_wire')[0]:.1f}" in block
    assert repr(s.max_fitting("b")) in block


def test_capacity_block():
    assert f"max_batch_size                  # {Engine.solve('Llama3_8B', 'H100', seq_len=8192).max_batch_size}" in README
    r = SynthesisSolver().solve("Llama3_8B", "H100", target=symsys.Q_(3000, "token/s"),
                                lever="batch_size", seq_len=8192)
    quoted = README.split("r.achievable, r.reason\n# ")[1].split('")')[0].replace("\n#  ", " ")
    assert quoted == repr((r.achievable, r.reason))[:-2]


def test_physics_conventions_numbers():
    m = symsys.Models.DeepSeek_V3
    assert f"a_dec = {m.summary['a_dec'] / 1e6:.2f}" in README
    assert f"a_attn = {m.summary['a_attn'] / 1e6:.2f} MFLOP" in README
    assert f"{m.summary['a_dec'] / m.summary['a_attn']:.1f}x the FLOPs" in README
    r = Engine.solve("Llama3_70B", "H200")
    assert r.feasible and f"({r.memory_footprint.m_as('GB'):.1f} GB\nin 141 GiB)" in README
    assert f"fits {Engine.solve('Llama3_8B', 'H100', seq_len=8192).max_batch_size} sequences" \
        in README
    every = Engine.solve("Llama3_8B", "H100", phase="prefill", seq_len=2048, logits="all")
    last = Engine.solve("Llama3_8B", "H100", phase="prefill", seq_len=2048)
    saved = 1 - (last.flops / every.flops).m_as("")
    assert f"{saved * 100:.1f} % fewer FLOPs" in README


def test_many_devices_block():
    Q_ = symsys.Q_
    block = README.split("### Many devices")[1].split("### Your own law")[0]
    assert repr(Engine.solve("Llama3_70B", "H100", tensor_parallel=8)) in block
    assert repr(Engine.solve("Llama3_70B", "H100", tensor_parallel=8,
                             link_latency=Q_(8, "us"))) in block
    r = Engine.solve("Llama3_70B", "H100", tensor_parallel=8)
    assert f"({r.latency_memory.m_as('ms'):.2f} ms at 3.35 TB/s" in block
    assert f"({r.raw['t_comm'] * 1e6:.1f} us with no message latency)" in block


def test_parallel_solvers_block():
    """The README's numbers for the parallel keywords of synthesis, sensitivity and cost."""
    from symsys import CostModel

    s = SynthesisSolver().solve("Llama3_70B", "DGX_H100", target="10 ms",
                                lever="link_bandwidth", tensor_parallel=8, batch_size=64,
                                seq_len=2048)
    assert f"{s.required.m_as('GB/s'):.2f} GB/s per direction, {s.ratio:.3f}" in README
    e = SensitivitySolver().solve("Mixtral_8x7B", "DGX_H100", expert_parallel=8, batch_size=64)
    assert f"# {e.sensitivities['link_bandwidth']:.4f}" in README
    c = CostModel().solve("Llama3_70B", "DGX_H100", tensor_parallel=2, pipeline_parallel=2,
                          data_parallel=2, batch_size=32)
    assert (f"{c.cost_per_million_tokens.m_as('USD/Mtokens'):.3f} USD/Mtokens, "
            f"{c.cost_per_hour.m_as('USD/hour'):.2f} USD/h, {c.devices} devices") in README


def test_multi_node_and_weight_stationary_blocks():
    r = Engine.solve("Llama3_1_405B", "DGX_H100_SU", precision="fp8", tensor_parallel=8,
                     pipeline_parallel=2)
    assert repr(r).split(", Memory")[0] in README
    assert "fits with tensor_parallel=16" in Engine.solve("Llama3_1_405B", "DGX_H100_SU",
                                                          precision="bf16").reason
    send = 16384 / 50e9
    assert f"{send * 1e6:.3f} us instead of NVLink's {16384 / 450e9 * 1e9:.0f} ns" in README
    assert r.raw["t_send_net"] == pytest.approx(send)
    tp16 = Engine.solve("Llama3_1_405B", "DGX_H100_SU", precision="bf16", tensor_parallel=16)
    assert f"{round(100 * tp16.network_share)} % of its communication" in README
    w = Engine.solve("Llama3_1_70B", "Cerebras_CS3_Cluster", precision="fp16")
    assert w.min_pipeline_parallel == 4 and "r.min_pipeline_parallel # 4" in README
    four = Engine.solve("Llama3_1_70B", "Cerebras_CS3_Cluster", precision="fp16",
                        pipeline_parallel=4)
    assert f"{four.memory_footprint.m_as('GB'):.2f} GB of SRAM per wafer" in README
    assert f"needs {w.memory_footprint.m_as('GB'):.1f} GB" in README
