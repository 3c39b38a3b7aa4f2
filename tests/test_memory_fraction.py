"""memory_fraction: the share of the device's physical memory the engine may use (vLLM's
gpu_memory_utilization), a documented option that every result reports, default 1.0."""

import json

import pytest

from symsys import sweep
from symsys.cli import main
from symsys.errors import InvalidParameter
from symsys.registry import Models
from symsys.solvers.cost import CostModel
from symsys.solvers.inference import Engine
from symsys.solvers.sensitivity import SensitivitySolver
from symsys.solvers.serving import ServingModel
from symsys.solvers.synthesis import SynthesisSolver

GIB = 2**30
#: decode after 8191 cached tokens: the step holds 8192 tokens of K/V per sequence (8k)
STEP = dict(precision="fp16", seq_len=8191)


def test_hand_check_max_batch_llama3_8b_h100_8k():
    model = Models.get("Llama3_8B")
    kv_per_sequence = model.summary["e_kv"] * 2 * 8192  # elements/token x bytes x tokens
    assert kv_per_sequence == GIB  # 65536 x 2 B x 8192 = 1 GiB
    weights = model.summary["N_total"] * 2  # 8.03e9 parameters x 2 B = 16.06 GB
    capacity = 80 * GIB  # the H100's 80 GiB = 85.90 GB
    assert capacity == pytest.approx(85.90e9, rel=1e-4)
    # by hand: (85.90 - 16.06) GB / 1.074 GB = 65.04 -> 65; (77.31 - 16.06) / 1.074 = 57.04 -> 57
    full_by_hand = int((capacity - weights) // kv_per_sequence)
    usable_by_hand = int((0.9 * capacity - weights) // kv_per_sequence)
    assert (full_by_hand, usable_by_hand) == (65, 57)

    full = Engine.solve("Llama3_8B", "H100", **STEP)
    usable = Engine.solve("Llama3_8B", "H100", memory_fraction=0.9, **STEP)
    assert full.max_batch_size == full_by_hand
    assert usable.max_batch_size == usable_by_hand
    assert usable.max_batch_size_exact == pytest.approx((0.9 * capacity - weights)
                                                        / kv_per_sequence, rel=1e-9)
    assert usable.memory_capacity.m_as("B") == pytest.approx(0.9 * capacity)
    assert usable.scenario.options["memory_fraction"] == 0.9
    assert usable.to_dict()["memory_fraction"] == 0.9
    # the batch above the usable maximum fits the physical memory but not the usable share
    assert Engine.solve("Llama3_8B", "H100", batch_size=58, **STEP).feasible
    over = Engine.solve("Llama3_8B", "H100", batch_size=58, memory_fraction=0.9, **STEP)
    assert not over.feasible
    assert "memory_fraction=0.9" in over.reason and "72 GiB" in over.reason
    assert "80 GiB" in over.reason
    assert over.summary()["memory_capacity"].m_as("B") == pytest.approx(72 * GIB)


def test_percent_text_is_the_fraction():
    a = Engine.solve("Llama3_8B", "H100", memory_fraction="90%", **STEP)
    b = Engine.solve("Llama3_8B", "H100", memory_fraction=0.9, **STEP)
    assert a.memory_capacity == b.memory_capacity and a.max_batch_size == 57
    assert Engine.solve("Llama3_8B", "H100", memory_fraction="0.9", **STEP).max_batch_size == 57


@pytest.mark.parametrize("bad", [0, 1.5, -1, "abc", "150%", float("nan"), True, [0.9]])
def test_bad_fractions_are_clear_errors(bad):
    with pytest.raises(InvalidParameter) as exc:
        Engine.solve("Llama3_8B", "H100", memory_fraction=bad)
    message = str(exc.value)
    assert "memory_fraction=" in message and "(0, 1]" in message
    assert repr(bad) in message


def test_default_is_unchanged():
    for options in (dict(batch_size=64, **STEP), dict(batch_size=4096, **STEP), {}):
        given = Engine.solve("Llama3_8B", "H100", memory_fraction=1.0, **options)
        plain = Engine.solve("Llama3_8B", "H100", **options)
        assert given.to_dict() == plain.to_dict()
        assert "memory_fraction" not in plain.scenario.options
        assert given.reason == plain.reason and given.max_batch_size == plain.max_batch_size


def test_min_tensor_parallel_uses_the_usable_capacity():
    # Llama3_70B fp16 (141 GB of weights) at b=16, 8k on H100: a degree that fits at 100%
    # may not at a smaller share; the usable degree is never smaller
    options = dict(batch_size=16, precision="fp16", seq_len=8191)
    full = Engine.solve("Llama3_70B", "H100", **options)
    tight = Engine.solve("Llama3_70B", "H100", memory_fraction=0.5, **options)
    assert not full.feasible and not tight.feasible
    assert tight.min_tensor_parallel > full.min_tensor_parallel
    assert f"fits with tensor_parallel={tight.min_tensor_parallel}" in tight.reason
    n = tight.min_tensor_parallel
    assert Engine.solve("Llama3_70B", "DGX_H100", tensor_parallel=n, memory_fraction=0.5,
                        **options).feasible


def test_every_solver_accepts_it():
    serve = ServingModel().solve("Llama3_8B", "H100", prompt_len=8000, output_len=192,
                                 batch_size=58, precision="fp16", memory_fraction=0.9)
    assert not serve.feasible and "memory_fraction=0.9" in serve.reason
    assert serve.memory_capacity.m_as("B") == pytest.approx(72 * GIB)
    assert serve.to_dict()["memory_fraction"] == 0.9
    assert ServingModel().solve("Llama3_8B", "H100", prompt_len=8000, output_len=192,
                                batch_size=58, precision="fp16").feasible

    cost = CostModel().solve("Llama3_8B", "H100", batch_size=58, memory_fraction=0.9, **STEP)
    assert not cost.feasible and cost.memory_capacity.m_as("B") == pytest.approx(72 * GIB)

    sens = SensitivitySolver().solve("Llama3_8B", "H100", output="max_batch_size",
                                     memory_fraction=0.9, **STEP)
    assert sens.value == pytest.approx(Engine.solve(
        "Llama3_8B", "H100", memory_fraction=0.9, **STEP).max_batch_size_exact, rel=1e-6)
    assert sens.baseline.scenario.options["memory_fraction"] == 0.9

    synth = SynthesisSolver().solve("Llama3_8B", "H100", target="3 ms", memory_fraction=0.9,
                                    **STEP)
    assert synth.to_dict()["memory_fraction"] == 0.9

    rows = sweep("Llama3_8B", "H100", batch_size=[57, 58], memory_fraction=0.9, **STEP)
    assert list(rows["feasible"]) == [True, False]
    rows = sweep("Llama3_8B", "H100", batch_size=[57, 58], **STEP)
    assert list(rows["feasible"]) == [True, True]
    with pytest.raises(InvalidParameter, match="not an axis"):
        sweep("Llama3_8B", "H100", memory_fraction=[0.8, 0.9])
    with pytest.raises(InvalidParameter, match=r"\(0, 1\]"):
        sweep("Llama3_8B", "H100", memory_fraction=0)


def test_sweep_applies_it_to_a_swept_capacity():
    rows = sweep("Llama3_8B", "H100", batch_size=58, capacity="80GiB", memory_fraction=0.9,
                 **STEP)
    assert list(rows["feasible"]) == [False]


@pytest.mark.parametrize("argv", [
    ["solve", "Llama3_8B", "H100", "-p", "fp16", "-s", "8191", "-b", "58"],
    ["serve", "Llama3_8B", "H100", "-p", "fp16", "--prompt-len", "8000", "--output-len",
     "192", "-b", "58"],
    ["cost", "Llama3_8B", "H100", "-p", "fp16", "-s", "8191", "-b", "58"],
])
def test_cli_flag(argv, capsys):
    assert main([*argv, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["feasible"] is True
    assert main([*argv, "--memory-fraction", "0.9", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["feasible"] is False and data["memory_fraction"] == 0.9
    assert "memory_fraction=0.9" in data["reason"]
    assert main([*argv, "--memory-fraction", "90%"]) == 0
    out = capsys.readouterr().out
    assert "memory_fraction" in out


@pytest.mark.parametrize("argv", [
    ["sensitivity", "Llama3_8B", "H100", "--output", "max_batch_size", "-s", "8191"],
    ["synthesize", "Llama3_8B", "H100", "--target", "3 ms"],
    ["sweep", "Llama3_8B", "H100", "-b", "57,58", "-s", "8191", "-p", "fp16"],
])
def test_cli_flag_other_commands(argv, capsys):
    assert main([*argv, "--memory-fraction", "0.9", "--json"]) == 0
    capsys.readouterr()


def test_cli_bad_fraction_is_one_line(capsys):
    assert main(["solve", "Llama3_8B", "H100", "--memory-fraction", "1.5"]) == 1
    err = capsys.readouterr().err
    assert "memory_fraction='1.5'" in err and "(0, 1]" in err
