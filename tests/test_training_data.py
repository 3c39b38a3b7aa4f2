"""Measured Megatron-LM training runs (measured/training/): they load, agree with themselves and
with the papers' formulas, and every row's model shape is in the registry at the stated size."""

import csv
from pathlib import Path

import pytest

import symsys

DATA = Path(symsys.__file__).parent / "registry" / "data" / "measured" / "training"
A100_PEAK = 312e12  # dense fp16/bf16 FLOP/s, the peak both papers use


def rows(name):
    with open(DATA / name, newline="") as f:
        return list(csv.DictReader(f))


KORTHIKANTI = rows("korthikanti2022.csv")
LAYER = rows("korthikanti2022_layer.csv")
NARAYANAN = rows("narayanan2021.csv")
RUNS = [pytest.param("korthikanti2022.csv", r,
                     id=f"{r['registry_key']}-{r['technique']}-dp{r['dp']}") for r in KORTHIKANTI]
RUNS += [pytest.param("narayanan2021.csv", r, id=f"narayanan-{r['registry_key']}")
         for r in NARAYANAN]


def test_the_files_ship_with_their_readme():
    assert (DATA / "README.md").is_file()
    assert len(KORTHIKANTI) == 9 and len(LAYER) == 5 and len(NARAYANAN) == 10
    assert {r["technique"] for r in KORTHIKANTI} == {"full_recompute", "selective_sp"}


@pytest.mark.parametrize("file, row", RUNS)
def test_every_run_is_consistent(file, row):
    tp, pp, dp, gpus = (int(row[k]) for k in ("tp", "pp", "dp", "gpus"))
    assert tp * pp * dp == gpus
    assert tp <= 8  # tensor parallelism stays inside one DGX A100 node
    assert int(row["layers"]) % pp == 0
    assert int(row["heads"]) % tp == 0 and int(row["hidden"]) % int(row["heads"]) == 0
    assert int(row["seq_len"]) == 2048 and int(row["vocab"]) == 51200
    assert int(row["global_batch"]) % dp == 0
    if row["microbatch"]:
        assert (int(row["global_batch"]) // dp) % int(row["microbatch"]) == 0
    if "iteration_time_s" in row:
        assert float(row["iteration_time_s"]) > 0
        assert row["calculon_time_s"] == "" or float(row["calculon_time_s"]) > 0
    else:
        assert float(row["tflops_per_gpu"]) > 0


@pytest.mark.parametrize("file, row", RUNS)
def test_each_row_names_a_registry_shape_of_the_stated_size(file, row):
    model = symsys.Models[row["registry_key"]]
    shape = model.shape
    assert (shape.layers, shape.d_model, shape.heads) == \
        (int(row["layers"]), int(row["hidden"]), int(row["heads"]))
    assert shape.vocab == int(row["vocab"]) and shape.d_ff == 4 * shape.d_model
    assert shape.tied_embeddings and shape.position == "learned"
    stated = float(row["parameters_b"]) * 1e9
    assert model.parameters.m_as("param") == pytest.approx(stated, rel=0.03)


def test_gpt3_is_unchanged_and_megatron_175b_differs_only_in_vocabulary():
    gpt3, megatron = symsys.Models.GPT3.shape, symsys.Models.Megatron_GPT_175B.shape
    assert gpt3.vocab == 50257 and megatron.vocab == 51200
    assert (gpt3.layers, gpt3.d_model, gpt3.heads) == (megatron.layers, megatron.d_model,
                                                       megatron.heads) == (96, 12288, 96)


def test_narayanan_counts_follow_their_equation_2():
    # P = 12 l h^2 (1 + 13/(12h) + (V + s)/(12 l h)), printed to one decimal (billions)
    for r in NARAYANAN:
        l, h = int(r["layers"]), int(r["hidden"])
        p = 12 * l * h * h * (1 + 13 / (12 * h) + (51200 + 2048) / (12 * l * h))
        assert round(p / 1e9, 1) == float(r["parameters_b"]), r["model"]


def test_narayanan_throughputs_agree_with_each_other():
    for r in NARAYANAN:
        tflops, gpus = float(r["tflops_per_gpu"]), int(r["gpus"])
        assert round(100 * tflops * 1e12 / A100_PEAK) == int(r["percent_of_peak"]), r["model"]
        # per-GPU throughput is printed to 3 digits, the aggregate to 4
        assert tflops * gpus / 1e3 == pytest.approx(float(r["aggregate_pflops"]), rel=0.005)


def test_printed_mfu_follows_equation_7_and_the_iteration_time():
    # model FLOPs per iteration = 72 B L s h^2 (1 + s/(6h) + v/(12 h L)) (Korthikanti Appendix A)
    checked = 0
    for r in KORTHIKANTI:
        if not r["mfu"]:
            continue
        b, l, s, h, v = (int(r[k]) for k in ("global_batch", "layers", "seq_len", "hidden",
                                               "vocab"))
        flops = 72 * b * l * s * h * h * (1 + s / (6 * h) + v / (12 * h * l))
        mfu = flops / float(r["iteration_time_s"]) / (int(r["gpus"]) * A100_PEAK)
        assert mfu == pytest.approx(float(r["mfu"]), abs=0.002), r["model"]
        if r["hfu"]:
            assert float(r["mfu"]) < float(r["hfu"]) < float(r["mfu"]) * (1 + s / (3 * h))
        checked += 1
    assert checked == 5


def test_hand_checked_values_from_the_papers():
    by = {(r["registry_key"], r["technique"], r["dp"]): r for r in KORTHIKANTI}
    # Korthikanti Table 5: 175B 18.13 s -> 13.75 s (MFU 51.4%, HFU 52.8%) on 64 GPUs
    present = by["Megatron_GPT_175B", "selective_sp", "1"]
    assert float(present["iteration_time_s"]) == 13.75
    assert (float(present["mfu"]), float(present["hfu"])) == (0.514, 0.528)
    assert (int(present["tp"]), int(present["pp"]), int(present["gpus"])) == (8, 8, 64)
    full = by["Megatron_GPT_175B", "full_recompute", "1"]
    assert float(full["iteration_time_s"]) == 18.13
    # the throughput increase Table 5 prints is the time ratio: 31.8%
    assert float(full["iteration_time_s"]) / 13.75 - 1 == pytest.approx(0.318, abs=0.001)
    # Section 6.3: 530B at 8-way data parallelism, 39.15 s, MFU 54.2%
    dp8 = by["Megatron_GPT_530B", "selective_sp", "8"]
    assert (float(dp8["iteration_time_s"]), float(dp8["mfu"]), int(dp8["gpus"])) == \
        (39.15, 0.542, 2240)
    # Narayanan Table 1: 1T on 3072 GPUs (8 x 64 x 6) at 163 TFLOP/s per GPU, 502.0 PFLOP/s
    one_t = NARAYANAN[-1]
    assert (one_t["registry_key"], int(one_t["dp"]), float(one_t["tflops_per_gpu"]),
            float(one_t["aggregate_pflops"])) == ("Megatron_GPT_1T", 6, 163, 502.0)


def test_calculon_errors_match_the_quoted_summary():
    # Calculon (commit caa4b11) on Table 5: mean |1 - calc/paper| 3.65 %, max 8.87 %
    errors = [abs(1 - float(r["calculon_time_s"]) / float(r["iteration_time_s"]))
              for r in KORTHIKANTI if r["calculon_time_s"]]
    assert len(errors) == 8
    assert sum(errors) / len(errors) == pytest.approx(0.0365, abs=5e-4)
    assert max(errors) == pytest.approx(0.0887, abs=5e-4)


def test_table_4_layer_times_add_up():
    base = float(LAYER[0]["combined_ms"])
    for r in LAYER:
        fwd, bwd, total = (float(r[k]) for k in ("forward_ms", "backward_ms", "combined_ms"))
        assert fwd > 0 and bwd > 0 and fwd + bwd == pytest.approx(total, abs=0.051)
        if r["overhead_pct"]:
            assert 100 * (total / base - 1) == pytest.approx(float(r["overhead_pct"]), abs=0.6)
