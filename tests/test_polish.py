"""Issue 17, as a user hits it: quantities written as people write them, `symsys serve`'s
options and its one-token answer, fixed workloads labelled for what they are, typo help that
sees through case, separators and look-alike characters, and the wafer-scale example."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import symsys
import symsys.units
from symsys import Engine, ServingModel, SynthesisSolver
from symsys.cli import main
from symsys.errors import InvalidParameter, RegistryError, UnknownModel, suggest
from symsys.registry import Hardware, Models
from symsys.units import Q_, parse_quantity

ROOT = Path(__file__).resolve().parents[1]
TARGET = ("s", "1/s", "token/s", "sample/s")


def _read(text):
    return parse_quantity(text, TARGET, "target", error=InvalidParameter)


# --- one quantity reader ------------------------------------------------------------------------
@pytest.mark.parametrize("text, value, unit", [
    ("20k token/s", 20000, "token/s"),       # pint alone reads this k as Boltzmann's constant
    ("20k tok/s", 20000, "token/s"),
    ("20 k token/s", 20000, "token/s"),
    ("20K Tokens/sec", 20000, "token/s"),    # K is kelvin to pint
    ("1.5M tokens per second", 1.5e6, "token/s"),
    ("20 ktok/s", 20000, "token/s"),         # an SI prefix on the new 'tok' spelling
    ("500 Samples/s", 500, "sample/s"),
    ("3 ms", 3e-3, "s"),
    ("3ms", 3e-3, "s"),
    ("3 msec", 3e-3, "s"),
    ("3 SEC", 3, "s"),
    ("250 us", 250e-6, "s"),
    ("3 Ms", 3e6, "s"),                      # megaseconds: SI case is kept, M is mega
])
def test_quantities_read_as_people_write_them(text, value, unit):
    q = _read(text)
    assert q.m_as(unit) == pytest.approx(value, rel=1e-12)


def test_a_case_slip_is_an_error_that_says_what_was_read_and_what_was_meant():
    # '3 MS' is 3 megasiemens: reading it as 3 ms would guess between mega and milli (1e9
    # apart), so it is refused with the reading and the lower-case spelling
    with pytest.raises(InvalidParameter) as info:
        _read("3 MS")
    message = str(info.value)
    assert "'3 MS' was read as 3 megasiemens" in message
    assert "which is not a time" in message and "did you mean '3 ms'?" in message
    with pytest.raises(InvalidParameter, match=r"'MSEC' is not a unit.*did you mean '3 msec' "
                                               r"\(3 ms\)"):
        _read("3 MSEC")


@pytest.mark.parametrize("text, words", [
    ("[1,2] ms", "expected a number and a unit"),   # pint's parser would read 12 ms
    ("3 ms + 1", "'ms + 1' is not a unit"),
    ("3", "has no unit"),
    ("1 GB", "1 gigabyte (1 GB, [information]), which is not"),
    ("-3 ms", "must be positive"),
    ("0 token/s", "must be positive"),
])
def test_unreadable_or_wrong_quantities_name_the_text(text, words):
    with pytest.raises(InvalidParameter, match="target: ") as info:
        _read(text)
    assert words in str(info.value) and repr(text) in str(info.value)


def test_the_registry_reader_is_the_same_function_and_keeps_its_error_type():
    assert parse_quantity("3.35 TB/s", "B/s", "h100.bandwidth").m_as("B/s") == 3.35e12
    assert parse_quantity("1.2 Tbit/s", "B/s", "cs3.link").m_as("GB/s") == pytest.approx(150)
    with pytest.raises(RegistryError, match=r"dev\.bw: '3 TFLOP/s' was read as 3 teraflop/"):
        parse_quantity("3 TFLOP/s", "B/s", "dev.bw")
    assert Q_(20, "ktok/s").m_as("token/s") == 20000  # units.txt: 'tok' is a token


def test_synthesis_targets_as_text_equal_the_quantity():
    by_text = SynthesisSolver().solve("Llama3_8B", "H100", target="20k tok/s",
                                      lever="batch_size")
    by_quantity = SynthesisSolver().solve("Llama3_8B", "H100", target=Q_(20000, "token/s"),
                                          lever="batch_size")
    assert by_text.target == by_quantity.target == 20000
    assert by_text.required_value == pytest.approx(by_quantity.required_value, rel=1e-12)
    latency = SynthesisSolver().solve("Llama3_8B", "H100", target="3 ms")
    assert latency.target == pytest.approx(3e-3) and latency.output == "latency"
    with pytest.raises(InvalidParameter, match="megasiemens.*did you mean '3 ms'"):
        SynthesisSolver().solve("Llama3_8B", "H100", target="3 MS")


def test_the_command_line_reads_targets_with_the_same_reader(capsys):
    assert main(["synthesize", "Llama3_8B", "H100", "--target", "20k tok/s", "--lever",
                 "batch_size", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    python = SynthesisSolver().solve("Llama3_8B", "H100", target=Q_(20000, "token/s"),
                                     lever="batch_size")
    assert data["target"] == 20000 and data["required"] == pytest.approx(python.required_value)
    assert main(["synthesize", "Llama3_8B", "H100", "--target", "3 MS"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "megasiemens" in err and "'3 ms'" in err


# --- symsys serve -------------------------------------------------------------------------------
def test_serve_one_output_token_has_no_inter_token_latency(capsys):
    r = ServingModel().solve("Llama3_8B", "H100", prompt_len=512, output_len=1)
    assert r.itl is None and r.itl_mean is None and not r.itl_applies
    assert r.e2e_latency == r.ttft  # the one token is the prefill's
    data = r.to_dict()
    assert data["itl"] is None and data["itl_mean"] is None and "not applicable" in data["itl_note"]
    assert "ITL n/a" in repr(r)
    assert main(["serve", "Llama3_8B", "H100", "--prompt-len", "512", "--output-len", "1"]) == 0
    out = capsys.readouterr().out
    assert "ITL first                : not applicable" in out
    assert "ITL mean                 : not applicable" in out
    assert "none (no decode step)" in out and "0 s" not in out and "nan" not in out.lower()


def test_serve_repeats_the_question_and_takes_efficiency(capsys):
    args = ["serve", "Llama3_8B", "H100", "--prompt-len", "512", "--output-len", "256",
            "-b", "8", "--precision", "fp16"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Model                    : Llama-3-8B (Llama3_8B)" in out
    assert "Hardware                 : NVIDIA H100 SXM5 80GB (H100)" in out
    assert ("Requests                 : batch 8, 512 tokens of prompt and 256 tokens of output "
            "each, fp16") in out
    assert main([*args, "--json"]) == 0
    base = json.loads(capsys.readouterr().out)
    assert main([*args, "--efficiency", "0.5", "--json"]) == 0
    half = json.loads(capsys.readouterr().out)
    # no overhead: every term of max() doubles at half efficiency, so every time doubles
    assert half["e2e_latency"] == pytest.approx(2 * base["e2e_latency"], rel=1e-12)
    assert half["itl"] == pytest.approx(2 * base["itl"], rel=1e-12)
    assert base["itl"] == pytest.approx(ServingModel().solve(
        "Llama3_8B", "H100", prompt_len=512, output_len=256, batch_size=8,
        precision="fp16").itl.m_as("s"), rel=1e-12)


def test_serve_help_describes_every_option():
    code = subprocess.run([sys.executable, "-m", "symsys", "serve", "--help"],
                          capture_output=True, text=True, timeout=120)
    help_text = " ".join(code.stdout.split())
    for words in ("prompt tokens per request", "tokens generated per request",
                  "requests served together", "K/V cache precision", "--efficiency",
                  "speed-of-light"):
        assert words in help_text


# --- fixed workloads are not decode steps -------------------------------------------------------
@pytest.mark.parametrize("model", ["ResNet50", "ViT_B16", "MobileNetV2"])
def test_fixed_workloads_are_labelled_forward(model, capsys):
    r = Engine.solve(model, "H100")
    assert r.phase == "forward" and r.to_dict()["phase"] == "forward"
    assert " forward b=1:" in repr(r)
    assert main(["solve", model, "H100"]) == 0
    step = [line for line in capsys.readouterr().out.splitlines() if "Step" in line][0]
    assert "forward, batch 1" in step and "one forward pass per sample" in step
    assert "decode" not in step
    assert Engine.solve("Llama3_8B", "H100").phase == "decode"  # transformers unchanged


def test_the_forward_label_is_accepted_back_for_fixed_workloads_only():
    again = Engine.solve("ResNet50", "H100", phase="forward")
    assert again.latency == Engine.solve("ResNet50", "H100").latency
    with pytest.raises(InvalidParameter, match="Llama3_8B is a transformer: phase='decode' or "
                                               "'prefill'"):
        Engine.solve("Llama3_8B", "H100", phase="forward")


# --- typo help ----------------------------------------------------------------------------------
@pytest.mark.parametrize("typed, first", [
    ("H1OO", "H100"),            # letter O for zero
    ("h1oo", "H100"),
    ("A1OO", "A100"),
    ("LIama3_8B", "Llama3_8B"),  # capital I for l
    ("1lama3-8b", "Llama3_8B"),  # digit 1 for l
])
def test_look_alike_characters_find_the_name(typed, first):
    choices = [*Hardware.list(), *Models.list()]
    assert suggest(typed, choices) == f" Did you mean {first!r}?"


def test_a_prefix_lists_every_name_it_starts():
    text = suggest("llama3", Models.list())
    for key in ("Llama3_8B", "Llama3_70B", "Llama3_1_8B", "Llama3_1_70B", "Llama3_1_405B"):
        assert repr(key) in text
    assert "Llama2_7B" not in text


def test_every_command_suggests_with_the_same_rules(capsys):
    for args in (["solve", "Llama3_8B", "H1OO"], ["serve", "Llama3_8B", "H1OO",
                                                  "--prompt-len", "8", "--output-len", "2"],
                 ["sensitivity", "Llama3_8B", "H1OO"], ["show", "H1OO"]):
        assert main(args) == 1
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and err.endswith("Did you mean 'H100'?"), (args, err)
    assert main(["show", "llama3"]) == 1
    err = capsys.readouterr().err
    assert "no device, system or model 'llama3'" in err
    assert "'Llama3_8B'" in err and "'Llama3_70B'" in err
    with pytest.raises(UnknownModel, match="Did you mean 'Llama3_8B'"):
        Models.get("lama3-8b")
    # a near miss of an alias ('cs3') is offered by its key
    assert main(["stream", "GPT3", "CS3X", "--seq-len", "8"]) == 1
    assert capsys.readouterr().err.strip().endswith("Did you mean 'Cerebras_CS3'?")


def test_phase_choices_in_any_case(capsys):
    assert main(["solve", "Llama3_8B", "H100", "--phase", "Prefill", "-s", "128", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["phase"] == "prefill"


def test_zoo_groups_and_kinds_in_any_case(capsys):
    assert main(["zoo", "hardware", "--group", "Cloud", "--json"]) == 0
    exact = json.loads(capsys.readouterr().out)
    assert main(["zoo", "Hardware", "--group", "cloud", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == exact
    assert {d["group"] for d in exact} == {"Cloud"} and any(d["key"] == "H100" for d in exact)
    assert main(["zoo", "models", "--group", "VISION"]) == 0
    assert "ResNet50" in capsys.readouterr().out
    assert main(["zoo", "hardware", "--group", "clod"]) == 1
    err = capsys.readouterr().err
    assert "no hardware group 'clod'" in err and "Did you mean 'Cloud'?" in err


# --- loose bounds say so ------------------------------------------------------------------------
def test_a_model_held_in_on_chip_sram_is_called_a_loose_bound(capsys):
    r = Engine.solve("Llama3_8B", "Cerebras_CS3")
    assert r.latency.m_as("us") == pytest.approx(1.0, rel=0.01)  # 1 us per token: the bound
    assert r.caveat.startswith("a loose bound") and "21 PB/s" in r.caveat
    assert r.to_dict()["caveat"] == r.caveat
    assert main(["solve", "Llama3_8B", "Cerebras_CS3"]) == 0
    assert "Note             : a loose bound" in capsys.readouterr().out
    assert Engine.solve("Llama3_8B", "H100").caveat == ""
    assert "caveat" not in Engine.solve("Llama3_8B", "H100").to_dict()


# --- the wafer-scale example --------------------------------------------------------------------
def test_wafer_scale_example_prints_only_meaningful_numbers(tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "wafer_scale.py"), "--out",
                           str(tmp_path)], capture_output=True, text=True, env=env,
                          timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "0 tokens/sec" not in out.replace("0.43 tokens/sec", "")
    assert "Throughput           : 0.43 tokens/sec" in out
    assert "Speedup" not in out and "0.0x" not in out
    # the comparison is with a GPU baseline that fits, at the same context
    assert "A baseline that fits: 8 x H100 in tensor parallel" in out
    assert "Feasible                : yes" in out
    assert "answers 174x faster per token" in out
    # the advice agrees with b_max = 3: the batch is not the lever
    assert "increase batch size" not in out
    assert "not the batch: SRAM caps it at b_max = 3, far below B* = 97310" in out
    rows = [line.split() for line in out.splitlines() if line[:1].isdigit()
            and ("YES" in line or "OOM" in line)]
    assert [r[0] for r in rows if r[-1] == "YES"] == ["1", "2", "3"]
    assert all("n/a" in r for r in rows if r[-1] == "OOM")


def test_jupyter_shows_a_result_as_its_answer_not_its_derivation():
    r = symsys.Engine.solve("Llama3_8B", "H100", batch_size=8, seq_len=1024)
    page = r._repr_html_()
    assert page.startswith("<div><b>InferenceResult: Llama3_8B on H100</b>")
    assert "<th style='text-align:left'>latency</th>" in page
    assert f"<td style='text-align:left'>{symsys.units.format_value(r.latency)}</td>" in page
    assert "aligned" not in page  # the derivation stays on request: r.derivation()
    assert str(r).splitlines()[0] == "InferenceResult: Llama3_8B on H100"


def test_a_sweep_prints_its_rows_not_its_internals():
    s = symsys.sweep("Llama3_8B", ["H100", "A100"], batch_size=[1, 8])
    assert repr(s).startswith("<SweepResult 4 rows: model, hardware")
    assert str(s) == s.table(20) and "lambda" not in str(s)
    assert s._repr_html_().startswith("<pre>model")


def test_a_mistyped_option_names_the_closest_of_the_command(capsys):
    assert main(["solve", "Llama3_8B", "H100", "--batchsize", "8"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == ("symsys solve: error: unrecognized arguments: --batchsize "
                                    "8. Did you mean '--batch-size'?")
    assert "usage: symsys solve" in err  # the command's usage, not the top level's
    assert main(["sweep", "Llama3_8B", "H100", "--tensorparallel=1,2"]) == 2
    assert "Did you mean '--tensor-parallel'" in capsys.readouterr().err


def test_zoo_hardware_lists_what_cost_and_energy_use(capsys):
    # an H100 SXM's 700 W TDP (NVIDIA datasheet) and its registry cloud price per GPU-hour
    assert main(["zoo", "hardware", "--json"]) == 0
    rows = {d["key"]: d for d in json.loads(capsys.readouterr().out)}
    h100 = Hardware["H100"]
    assert rows["H100"]["tdp_w"] == 700
    assert rows["H100"]["price_usd_per_hour"] == pytest.approx(
        h100.cloud_price.hourly.m_as("USD/hour"))
    assert rows["MI250X"]["price_usd_per_hour"] is None  # none in the registry: blank
    assert main(["zoo", "hardware"]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert header.rstrip().endswith("TDP W  USD/h")
