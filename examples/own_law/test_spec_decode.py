"""The speculative-decoding law through symsys's front ends, against a hand calculation.

Llama-3-8B on an H100 SXM (989.4 TFLOP/s dense fp16, 3.35 TB/s), batch 1, 1024 cached tokens,
a draft a tenth of the target's size proposing g = 4 tokens accepted with probability 0.8.
"""

import pytest
import spec_decode  # noqa: F401 (registers nothing: the entry point does; this checks it imports)

import symsys
from symsys import Q_

PEAK, BANDWIDTH, CONTEXT, A, G, C = 989.4e12, 3.35e12, 1024, 0.8, 4, 0.1


def by_hand(batch=1, bandwidth=BANDWIDTH):
    summary = symsys.Models.Llama3_8B.summary
    n, e_kv = summary["N_total"], summary["e_kv"]
    flops = 2 * n * batch * (G + 1 + C * G)
    traffic = (2 * n + 2 * e_kv * CONTEXT * batch) * (1 + C * G)
    round_time = max(flops / PEAK, traffic / bandwidth)
    tokens = (1 - A ** (G + 1)) / (1 - A)  # 3.3616 per round
    return round_time, batch * tokens / round_time


def solve(**options):
    return symsys.Engine.solve("Llama3_8B", "H100", law="spec_decode", seq_len=CONTEXT,
                               inputs={"a_acc": A}, **options)


def test_a_round_and_its_tokens_per_second_by_hand():
    r = solve()
    latency, rate = by_hand()
    assert r.latency.m_as("s") == pytest.approx(latency, rel=1e-12)
    assert r.throughput.m_as("token/s") == pytest.approx(rate, rel=1e-12)
    assert r.bottleneck == "Memory"


def test_the_acceptance_rate_must_be_given():
    with pytest.raises(symsys.InvalidParameter, match="a_acc"):
        symsys.Engine.solve("Llama3_8B", "H100", law="spec_decode", seq_len=CONTEXT)


def test_throughput_is_linear_in_bandwidth_while_memory_bound():
    s = symsys.SensitivitySolver().solve("Llama3_8B", "H100", output="throughput",
                                         law="spec_decode", seq_len=CONTEXT,
                                         inputs={"a_acc": A})
    assert s.sensitivities["memory_bandwidth"] == pytest.approx(1.0)
    # d ln R / d ln a = a n'(a) / n(a), exactly
    tokens = (1 - A ** (G + 1)) / (1 - A)
    slope = (-(G + 1) * A ** G * (1 - A) + (1 - A ** (G + 1))) / (1 - A) ** 2
    assert s.sensitivities["acceptance_rate"] == pytest.approx(A * slope / tokens)


def test_the_bandwidth_for_a_target_rate():
    target = Q_(2 * by_hand()[1], "token/s")
    d = symsys.SynthesisSolver().solve("Llama3_8B", "H100", target=target,
                                       lever="memory_bandwidth", law="spec_decode",
                                       seq_len=CONTEXT, inputs={"a_acc": A})
    assert d.required.m_as("B/s") == pytest.approx(2 * BANDWIDTH, rel=1e-9)


def test_a_sweep_over_acceptance_and_batch():
    r = symsys.sweep("Llama3_8B", "H100", law="spec_decode", seq_len=CONTEXT,
                     batch_size=[1, 8], inputs={"a_acc": [0.6, 0.8]})
    frame = r.to_pandas()
    row = frame[(frame.a_acc == A) & (frame.batch_size == 8)].iloc[0]
    assert row["latency [s]"] == pytest.approx(by_hand(batch=8)[0], rel=1e-12)
