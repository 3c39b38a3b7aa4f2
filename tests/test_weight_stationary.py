"""Weight-stationary pipelined inference on SRAM machines (issue 13): a model whose weights fit
the aggregate on-chip memory of several wafers or LPUs is served from it, its layers pipelined
over them, with no injection term; checked by hand against the registry's published numbers."""

import pytest

from symsys import Engine
from symsys.registry.models import Models
from symsys.registry.systems import Systems

CLUSTER = Systems.Cerebras_CS3_Cluster
SRAM = 44e9  # one WSE-3: 44 GB of on-wafer SRAM (Cerebras, March 2024)
SYSTEM_IO = 1.2e12 / 8  # CS-3 system I/O: 12 x 100 GbE = 1.2 Tb/s per direction
LLAMA = Models.Llama3_1_70B


def _solve(stages, **options):
    return Engine.solve("Llama3_1_70B", "Cerebras_CS3_Cluster", pipeline_parallel=stages,
                        precision="fp16", seq_len=2047, **options)


def test_the_cluster_holds_llama_70b_on_four_wafers_as_cerebras_serves_it():
    """141 GB of fp16 weights: a third is 47 GB (over a wafer's 44 GB), a quarter 35.3 GB."""
    assert CLUSTER.devices == 4 and CLUSTER.hardware.memory.capacity.m_as("B") == SRAM
    weights = 2 * LLAMA.parameters.m_as("param")
    assert weights / 3 > SRAM > weights / 4
    one = _solve(1)
    assert not one.feasible and one.min_pipeline_parallel == 4
    assert not _solve(3).feasible and "fits with pipeline_parallel=4" in _solve(3).reason
    four = _solve(4)
    assert four.feasible and four.nodes == 4 and four.network_sends == 3
    assert four.memory_footprint.m_as("B") == pytest.approx(weights / 4, rel=0.02)


def test_the_step_is_the_decode_law_per_stage_plus_three_sends_over_the_system_io():
    """No injection term: each of the 4 stages is the roofline of its quarter of the model,
    and the 3 sends of 8192 fp16 activations (16,384 B) cross the 150 GB/s system I/O."""
    r = _solve(4)
    assert r.inputs.law.name == "decode_pp"
    send = 2 * LLAMA.shape.d_model / SYSTEM_IO
    assert send == pytest.approx(109.2e-9, rel=1e-3)
    stage = max(r.raw["t_compute"], r.raw["t_memory"]) + r.raw.get("t_o", 0.0)
    assert r.latency.m_as("s") == pytest.approx(4 * stage + 3 * send, rel=1e-9)
    assert r.raw["t_comm"] == pytest.approx(3 / 4 * send, rel=1e-9)


def test_a_model_beyond_the_aggregate_sram_has_no_stationary_depth():
    """GPT-3's 349 GB of fp16 weights exceed the cluster's 4 x 44 GB: no depth holds them
    (weight streaming is its law); Llama-3.1-405B likewise."""
    for model in ("GPT3", "Llama3_1_405B"):
        assert 2 * Models[model].parameters.m_as("param") > CLUSTER.devices * SRAM
    r = Engine.solve("Llama3_1_405B", "Cerebras_CS3_Cluster", pipeline_parallel=4,
                     precision="fp16")
    assert not r.feasible and r.min_pipeline_parallel is None


def test_groqrack_holds_llama_8b_in_sram_at_tp8_pp9():
    """72 LPUs of 230 MB: 16.06 GB of fp16 Llama-3-8B weights over 64 LPUs is 251 MB each
    (over 230 MB), over 72 is 223 MB."""
    weights = 2 * Models.Llama3_8B.parameters.m_as("param")
    assert weights / 64 > 230e6 > weights / 72
    r = Engine.solve("Llama3_8B", "GroqRack", tensor_parallel=8, pipeline_parallel=8,
                     precision="fp16", seq_len=128)
    assert not r.feasible and r.min_pipeline_parallel == 9
    assert Engine.solve("Llama3_8B", "GroqRack", tensor_parallel=8, pipeline_parallel=9,
                        precision="fp16", seq_len=128).feasible
