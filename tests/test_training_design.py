"""Inverse designs of a training iteration: each closed form (derived by sympy from the law)
satisfies its equation on the compiled law, reads by hand from the law's own terms, and the
whole answer is the integer configuration that meets the request, while the next smaller
one does not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from symsys import TrainingModel
from symsys.cli import main
from symsys.errors import SymsysError
from symsys.laws.training import training

GPT_175B = dict(global_batch_size=64, seq_len=2048, tensor_parallel=8, pipeline_parallel=8,
                interleave=3, recompute="selective", sequence_parallel=True,
                attention="unfused", precision="bf16")


def solve(**options):
    return TrainingModel().solve("Megatron_GPT_175B", "DGX_A100", **{**GPT_175B, **options})


def test_bubble_share_and_shares_are_law_outputs():
    r = solve()
    raw = r.raw
    assert r.bubble_share == pytest.approx(raw["t_bub"] / raw["T"], rel=1e-12)
    assert r.communication_share == pytest.approx(raw["t_comms"] / raw["T"], rel=1e-12)
    # Narayanan et al. 2021: the bubble is (p - 1) / v microbatch times: 7/3 of 64 here
    assert raw["t_bub"] == pytest.approx(7 / 3 * raw["t_mb"], rel=1e-12)
    flops_per_device = raw["F_mod"] / raw["T"] / 64
    assert r.model_flops_per_device.m_as("FLOP/s") == pytest.approx(flops_per_device,
                                                                    rel=1e-12)
    assert r.mfu == pytest.approx(flops_per_device / 312e12, rel=1e-12)


def test_microbatches_for_bubble_closed_form_by_hand():
    r = solve()
    x = 0.02
    design = r.microbatches_for_bubble(x)
    raw = r.raw
    # t_bub = x (m t_mb + t_bub + t_dp + t_opt), solved for m
    hand = (raw["t_bub"] * (1 - x) - x * (raw["t_dp"] + raw["t_opt"])) / (x * raw["t_mb"])
    assert design.exact == pytest.approx(hand, rel=1e-12)
    # with no optimizer step, (p - 1)(1 - x) / (v x) = 7 x 0.98 / (3 x 0.02) = 114.33
    assert design.exact == pytest.approx(114.07, abs=0.01) and design.whole == 115
    assert design.result.bubble_share <= x
    assert design.result.scenario.options["global_batch_size"] == 115  # b = 1, dp = 1
    fewer = solve(global_batch_size=design.whole - 1)
    assert fewer.bubble_share > x


def test_microbatches_for_bubble_without_a_pipeline_is_one():
    r = solve(pipeline_parallel=1, interleave=1, data_parallel=8)
    design = r.microbatches_for_bubble(0.05)
    assert design.exact is None and design.whole == 1  # no bubble to shrink


def test_largest_microbatch_fits_and_the_next_does_not():
    r = solve()
    design = r.largest_microbatch()
    # the closed form puts the memory exactly at the capacity on the compiled law
    at = r.scenario.call(("M",), b=design.exact)["M"]
    assert at == pytest.approx(r.scenario.values["C_mem"], rel=1e-9)
    assert design.exact == pytest.approx(3.185, abs=1e-3)
    # 3 does not divide the 64 sequences: the largest whole microbatch that does is 2
    assert design.whole == 2
    assert design.result.feasible and not solve(microbatch_size=4).feasible
    # closed form by hand: capacity less the states, over the activations of one sequence
    per_sequence = r.raw["M_acts"]  # microbatch 1
    hand = (r.scenario.values["C_mem"] - r.raw["M_state"]) / per_sequence
    assert design.exact == pytest.approx(hand, rel=1e-12)


def test_largest_microbatch_infeasible_names_the_memory():
    r = TrainingModel().solve("Megatron_GPT_175B", "DGX_A100", global_batch_size=8,
                              seq_len=2048, tensor_parallel=8, precision="bf16")
    design = r.largest_microbatch()
    assert not design.feasible and design.result is None
    assert "even a microbatch of 1 needs" in design.reason and "GB" in design.reason


def test_devices_to_train_closed_form_and_whole_answer():
    r = solve(global_batch_size=1536)
    tokens, days = 300e9, 30
    design = r.devices_to_train(f"{tokens:g} token", f"{days} day")
    goal = days * 86400
    # the closed form meets the time exactly on the compiled law
    at = r.scenario.call(("T_train",), n_dp=design.exact, D_tok=tokens)["T_train"]
    assert at == pytest.approx(goal, rel=1e-9)
    dp = design.result.scenario.options["data_parallel"]
    assert design.whole == 64 * dp and dp == 12 and design.exact == pytest.approx(8.29,
                                                                                  abs=0.01)
    assert design.result.time_to_train(tokens).m_as("day") <= days
    slower = solve(global_batch_size=1536, data_parallel=8)  # the divisor of 1536 below 12
    assert slower.time_to_train(tokens).m_as("day") > days


def test_devices_to_train_closed_form_only_where_it_holds():
    # ZeRO-1 shards the optimizer over the replicas (n_d^f_o in the time): no closed form,
    # the whole answer still searched on the compiled law
    r = solve(global_batch_size=1536, zero_stage=1)
    design = r.devices_to_train("300G token", "30 day")
    assert design.exact is None and design.feasible


def test_devices_to_train_unreachable_says_why():
    design = solve().devices_to_train("300G token", "10 day")  # 64 sequences: dp <= 64
    assert not design.feasible
    assert "raise the global batch or the time" in design.reason and "days" in design.reason


@pytest.mark.parametrize("call, message", [
    (lambda r: r.microbatches_for_bubble(1.5), "share=1.5"),
    (lambda r: r.devices_to_train("1T token", 30), "time"),
    (lambda r: r.devices_to_train("1T", "30 day"), "tokens"),
])
def test_bad_requests_are_errors(call, message):
    with pytest.raises(SymsysError, match=message):
        call(solve())


def test_derived_results_print_over_the_laws_terms():
    text = training.latex()
    assert r"\text{solves } \phi_{bubble} = x_{bubble} \text{ for } m" in text
    assert r"\text{solves } M = C_{mem} \text{ for } b" in text
    assert r"\text{ with } \alpha_{n} = 0, f_{o} = 0" in text
    shown = {d.symbol.name: d.shown(training) for d in training.derived}
    assert {s.name for s in shown["m_bub"].free_symbols} == {"t_bub", "t_dp", "t_opt", "t_mb",
                                                              "x_bub"}
    assert "M_state" in {s.name for s in shown["b_fit"].free_symbols}


def test_cli_inverse_designs(capsys):
    args = ["train", "Megatron_GPT_175B", "DGX_A100", "--tp", "8", "--pp", "8",
            "--interleave", "3", "-B", "1536", "-s", "2048", "--recompute", "selective",
            "--sp", "--attention", "unfused", "-p", "bf16", "--tokens", "300G",
            "--within", "30days", "--bubble-below", "0.02", "--max-microbatch"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Devices needed          : 768 (data parallel 12" in out
    assert "Microbatches for bubble : 115 per pipeline" in out
    assert "Largest microbatch      : 2 " not in out  # 1536 splits into microbatches of 3
    assert main([*args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["devices_needed"]["whole"] == 768
    assert data["largest_microbatch"]["whole"] == 3
    assert main(["train", "Megatron_GPT_175B", "DGX_A100", "-B", "64", "-s", "2048",
                 "--within", "30days"]) != 0
    assert "--within needs --tokens" in capsys.readouterr().err


def test_readme_inverse_designs():
    # the README's Training example (calibrated A100 profile, batch 64)
    r = solve(global_batch_size=64, efficiency="calibrated")
    bubble, micro = r.microbatches_for_bubble(0.02), r.largest_microbatch()
    devices = r.devices_to_train("300G tokens", "60 day")
    assert (round(bubble.exact, 2), bubble.whole) == (114.07, 115)
    assert (round(micro.exact, 3), micro.whole) == (3.185, 2)
    assert (round(devices.exact, 3), devices.whole) == (9.257, 1024)
    assert devices.result.time_to_train("300G tokens").m_as("day") == pytest.approx(45.3,
                                                                                     abs=0.05)
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert "114.07 -> 115" in readme and "3.185 -> 2" in readme and "9.257 -> 16" in readme
