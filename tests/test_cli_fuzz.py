"""The command line never shows a traceback: usage errors exit 2, model errors exit 1 with one
readable line on stderr (or a JSON error object under --json), answers exit 0.

A hypothesis fuzz calls ``symsys.cli.main`` in-process on generated argument lists (commands,
names, flags and values, valid and not, in any order); a handful of fixed cases go through
``python -m symsys`` in a subprocess, as a user would run them.
"""

import argparse
import contextlib
import faulthandler
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from symsys.cli import COMMANDS, build_parser, main

FIXTURES = Path(__file__).parent / "fixtures" / "hf_configs"

#: SYMSYS_FUZZ_SCALE=10 multiplies every example count below (a deeper run than CI's)
SCALE = int(os.environ.get("SYMSYS_FUZZ_SCALE", "1"))


def examples(n: int, *checks: HealthCheck):
    """Settings for one fuzz or property: ``n`` examples (times SCALE), no deadline."""
    return settings(max_examples=n * SCALE, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           *checks])



def _commands() -> list[str]:
    """The subcommands the parser really has (COMMANDS minus modules not written yet)."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(sub.choices)


#: seconds one in-process CLI call may take before it counts as a hang (most take < 0.1 s)
CALL_LIMIT = 30


class Hang(BaseException):
    """A call ran past its deadline (BaseException: no ``except Exception`` swallows it)."""


@contextlib.contextmanager
def deadline(seconds: float = CALL_LIMIT):
    """Raise :class:`Hang` in the body after ``seconds``, so a hang fails its test instead of
    blocking CI. A hang inside C code that never returns to the interpreter (a huge integer
    power) cannot be interrupted: faulthandler then prints every thread's stack and exits."""
    def expire(signum, frame):
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    faulthandler.dump_traceback_later(seconds * 3 + 30, exit=True)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        faulthandler.cancel_dump_traceback_later()
        signal.signal(signal.SIGALRM, previous)


def run_main(args: list[str], seconds: float = CALL_LIMIT) -> tuple[int, str, str]:
    """``symsys ARGS`` in-process under :func:`deadline`: (exit code, stdout, stderr);
    SystemExit is an exit code."""
    out, err = io.StringIO(), io.StringIO()
    with deadline(seconds), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(args)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    return code, out.getvalue(), err.getvalue()


def check_outcome(args, code, out, err) -> None:
    assert code in (0, 1, 2), (args, code, err[-500:])
    assert "Traceback" not in out + err, (args, err[-2000:])
    if code == 1:  # a model error: one line on stderr, or a JSON error object on stdout
        if out.strip():
            error = json.loads(out)
            assert set(error) == {"error", "message"} and error["message"], (args, out)
        else:
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("symsys "), (args, err)
    if code == 2:
        assert "error" in err or "usage" in (out + err), (args, out, err)


# --- generated argument lists ------------------------------------------------------------------
NAMES = st.sampled_from([
    "Llama3_8B", "llama-3-8b", "meta-llama/Meta-Llama-3-8B", "Mixtral_8x7B", "DeepSeek_V3",
    "GPT3", "GPT2", "ResNet50", "Llama3_1_405B", "H100", "A100", "h100-sxm", "CS3", "GH200",
    "TPUv5e", "M2_Ultra", "all", "A100,H100", "Llama3_8B,ResNet50", "", " ", "nope", "H10",
    "roofline", "decode", "weight_streaming", "hardware", "models", "Cloud", "Edge", "-", "ü",
    "1e9", "None", ",", "Llama3_8B,,H100",
])
VALUES = st.one_of(
    st.integers(-3, 3000).map(str),
    st.sampled_from([
        "0", "-1", "1.5", "nan", "inf", "-inf", "1e400", "9007199254740993", "2**60", "1:9",
        "1:200:7", "5:1:0", "1:0", "1:2:3:4", "1,2,,3", "1,64", ",", "", " ", "abc", "fp16",
        "int4", "FP16", "bf16", "fp8", "decode", "prefill", "0.5", "0.5,0.9", "0,1", "1.1",
        "calibrated", "3 ms", "3ms", "-3 ms", "0 ms", "[1,2] ms", "20000 token/s", "1 GB",
        "3 ms + 1", "memory_bandwidth", "batch_size", "bytes_per_weight", "memory_capacity",
        "memory_bandwidth=0.05", "memory_bandwidth=2", "x=", "=", "latency", "throughput",
        "crossover_batch", "md", "tex", "Language", "Vision", "out", "out/sub",
        str(FIXTURES / "gpt2.json"), str(FIXTURES), "missing.csv", "/dev/null/x",
        "roofline", "smooth", "gemm",
    ]),
    st.text(max_size=6),
)
FLAGS = st.sampled_from([
    "--json", "--help", "-h", "--batch-size", "-b", "--seq-len", "-s", "--precision", "-p",
    "--phase", "--weight-precision", "--kv-precision", "--efficiency", "--derivation",
    "--prompt-len", "--output-len", "--rows", "--serial", "--output", "--uncertainty",
    "--target", "--lever", "--format", "--all", "--out", "--list", "--group", "--data",
    "--lomo", "--law", "--version", "--bogus", "-x",
])
#: flags that take no value
SWITCHES = {"--json", "--help", "-h", "--derivation", "--serial", "--all", "--list", "--lomo",
            "--version", "--bogus", "-x"}


@st.composite
def junk_lists(draw) -> list[str]:
    """Any command, names and flags in any order: mostly usage errors."""
    command = draw(st.one_of(st.sampled_from(_commands()), st.sampled_from(["", "nope", "-"]),
                             st.just(None)))
    args = [] if command is None else [command]
    args += draw(st.lists(NAMES, max_size=3))
    for flag in draw(st.lists(FLAGS, max_size=5)):
        if flag in ("--help", "-h", "--version") and draw(st.booleans()):
            continue
        args.append(flag)
        if flag not in SWITCHES or draw(st.integers(0, 9)) == 0:
            args.append(draw(VALUES))
    return args


def _mostly(valid, invalid=VALUES):
    """Valid values three times out of four, anything else otherwise."""
    return st.one_of(valid, valid, valid, invalid)


COUNT = _mostly(st.integers(1, 4096).map(str))
INTS = _mostly(st.sampled_from(["1", "1,8,64", "1:65", "1:200:7", "0,2048", "512"]))
PREC = _mostly(st.sampled_from(["fp16", "bf16", "fp8", "int8", "int4", "fp32"]))
STEP = {"--batch-size": COUNT, "--seq-len": COUNT, "--precision": PREC,
        "--phase": _mostly(st.sampled_from(["decode", "prefill"])),
        "--weight-precision": PREC, "--kv-precision": PREC,
        "--efficiency": _mostly(st.sampled_from(["0.5", "1", "0.7,0.9", "calibrated"]))}
MODEL = _mostly(st.sampled_from(["Llama3_8B", "Mixtral_8x7B", "DeepSeek_V3", "GPT3", "GPT2",
                                 "ResNet50", "Llama3_1_405B", "Phi3_Mini", "BERT_Base"]), NAMES)
DEVICE = _mostly(st.sampled_from(["H100", "A100", "B200", "MI300X", "TPUv5e", "CS3", "GH200",
                                  "L4", "M2_Ultra"]), NAMES)
SPECS = {  # command -> (positionals, {option: values}); None = a switch
    "solve": ((MODEL, DEVICE), {**STEP, "--derivation": None}),
    "serve": ((MODEL, DEVICE), {"--prompt-len": COUNT, "--output-len": COUNT,
                                "--batch-size": COUNT, "--precision": PREC,
                                "--weight-precision": PREC, "--kv-precision": PREC}),
    "sweep": ((_mostly(st.sampled_from(["Llama3_8B", "Llama3_8B,ResNet50", "GPT2,Mixtral_8x7B"])),
               _mostly(st.sampled_from(["H100", "A100,H100,TPUv5e", "all"]))),
              {"--batch-size": INTS, "--seq-len": INTS, "--phase": STEP["--phase"],
               "--precision": _mostly(st.sampled_from(["fp16", "fp16,bf16", "int4"])),
               "--rows": COUNT}),
    "stream": ((MODEL, _mostly(st.sampled_from(["CS3", "Cerebras_CS2", "GH200"]), NAMES)),
               {"--seq-len": COUNT, "--batch-size": COUNT, "--precision": PREC,
                "--phase": STEP["--phase"], "--serial": None,
                "--efficiency": STEP["--efficiency"], "--derivation": None}),
    "sensitivity": ((MODEL, DEVICE), {**STEP, "--output": _mostly(st.sampled_from(
        ["latency", "throughput", "crossover_batch", "optimal_batch", "max_batch"])),
        "--uncertainty": _mostly(st.sampled_from(["memory_bandwidth=0.05",
                                                  "peak_flops=0.1,seq_len=0.2"]))}),
    "synthesize": ((MODEL, DEVICE), {**STEP, "--target": _mostly(st.sampled_from(
        ["3 ms", "0.1 ms", "20 ms", "1000 token/s", "1e6 token/s", "5 sample/s"])),
        "--lever": _mostly(st.sampled_from(["memory_bandwidth", "peak_flops", "batch_size",
                                            "bytes_per_weight", "memory_capacity",
                                            "compute_efficiency", "memory_efficiency"]))}),
    "derive": ((_mostly(st.sampled_from(["roofline", "decode", "attention_mla"]), NAMES),),
               {"--format": _mostly(st.sampled_from(["md", "tex"])), "--list": None,
                "--out": _mostly(st.sampled_from(["out", "out/sub"]))}),
    "zoo": ((_mostly(st.sampled_from(["hardware", "models"]), NAMES),),
            {"--group": _mostly(st.sampled_from(["Cloud", "Edge", "Language", "Vision"]))}),
    "show": ((_mostly(st.sampled_from(["H100", "Llama3_8B", "CS3", "ResNet50", "DeepSeek_V3",
                                       "meta-llama/Meta-Llama-3-8B"]), NAMES),), {}),
    "validate": ((), {"--data": st.sampled_from(["missing.csv", str(FIXTURES / "gpt2.json"),
                                                 str(FIXTURES), "out", ""]),
                      "--law": _mostly(st.sampled_from(["roofline", "smooth", "gemm"]))}),
}


@st.composite
def command_lists(draw) -> list[str]:
    """One command with its positionals and a few of its own options: mostly parseable, so
    most lists reach the solvers; values are valid three times out of four."""
    command = draw(st.sampled_from(sorted(set(SPECS) & set(_commands()))))
    positionals, options = SPECS[command]
    args = [command, *(draw(p) for p in positionals)]
    if command == "serve":  # both required
        args += ["--prompt-len", draw(COUNT), "--output-len", draw(COUNT)]
    if command == "synthesize":  # required
        args += ["--target", draw(SPECS["synthesize"][1]["--target"])]
    if command == "validate":  # the shipped-data run is covered elsewhere; fuzz its inputs
        args += ["--data", draw(options["--data"])]
    if command == "stream":
        args += ["--seq-len", draw(COUNT)]
    chosen = draw(st.lists(st.sampled_from(sorted(options)), unique=True, max_size=4)
                  ) if options else []
    for flag in chosen:
        args.append(flag)
        if options[flag] is not None:
            args.append(draw(options[flag]))
    if draw(st.booleans()):
        args.append("--json")
    return args


argument_lists = st.one_of(command_lists(), command_lists(), command_lists(), junk_lists())


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """A scratch working directory: --out and relative paths land there, not in the repo."""
    path = tmp_path_factory.mktemp("cli_fuzz")
    here = os.getcwd()
    os.chdir(path)
    try:
        yield path
    finally:
        os.chdir(here)


@examples(300, HealthCheck.function_scoped_fixture)
@given(argument_lists)
def test_fuzz_cli_exits_0_1_or_2_and_never_prints_a_traceback(scratch, args):
    code, out, err = run_main(args)
    event(f"exit {code}")
    event(f"command {args[0] if args else '-'}")
    check_outcome(args, code, out, err)


@examples(100, HealthCheck.function_scoped_fixture)
@given(st.lists(st.text(max_size=12), max_size=6))
def test_fuzz_cli_with_arbitrary_strings(scratch, args):
    code, out, err = run_main(args)
    check_outcome(args, code, out, err)


# --- fixed cases --------------------------------------------------------------------------------
@pytest.mark.parametrize("command", _commands())
def test_every_command_has_help_with_examples(command):
    code, out, err = run_main([command, "--help"])
    assert code == 0 and not err
    assert "examples:" in out and f"symsys {command}" in out.split("examples:")[1]
    assert "--json" in out


def test_top_level_help_lists_every_command():
    code, out, _ = run_main(["--help"])
    assert code == 0
    for command in _commands():
        assert command in out
    assert set(_commands()) <= set(COMMANDS)


MODEL_ERRORS = [
    ["solve", "Llama3_8B", "H900"],
    ["solve", "Lama3_8B", "H100"],
    ["solve", "Llama3_8B", "H100", "--batch-size", "0"],
    ["solve", "Llama3_8B", "H100", "--batch-size", "9007199254740993"],
    ["solve", "Llama3_8B", "H100", "--seq-len", "-1"],
    ["solve", "Llama3_8B", "H100", "--efficiency", "1.5"],
    ["solve", "Llama3_8B", "H100", "--efficiency", "nan"],
    ["solve", "Llama3_8B", "H100", "--efficiency", "0.5,0.5,0.5"],
    ["solve", "Llama3_8B", "H100", "--precision", "FP61"],
    ["solve", "Llama3_8B", "H100", "--precision", "int4"],
    ["solve", "Llama3_8B", "TPUv5e", "--precision", "fp16"],
    ["solve", "Llama3_8B", "H100", "--phase", "prefill"],
    ["solve", "ResNet50", "H100", "--seq-len", "8"],
    ["serve", "Llama3_8B", "H100", "--prompt-len", "0", "--output-len", "8"],
    ["sweep", "Llama3_8B", "H100", "--batch-size", "5:1:0"],
    ["sweep", "Llama3_8B", "H100", "--batch-size", "1:0"],
    ["sweep", "Llama3_8B", "H100", "--seq-len", "1:2:3:4"],
    ["sweep", "Llama3_8B", "H100", "--rows", "-1"],
    ["sweep", "Llama3_8B", "H100", "--precision", "fp16,,fp8"],
    ["sweep", ",", ","],
    ["stream", "GPT3", "H100", "--seq-len", "8"],
    ["stream", "GPT3", "CS3", "--seq-len", "-8"],
    ["sensitivity", "Mixtral_8x7B", "H100", "--output", "crossover_batch"],
    ["sensitivity", "Llama3_8B", "H100", "--uncertainty", "bandwidth=0.1"],
    ["synthesize", "Llama3_8B", "H100", "--target", "abc"],
    ["synthesize", "Llama3_8B", "H100", "--target", "[1,2] ms"],
    ["synthesize", "Llama3_8B", "H100", "--target", "-3 ms"],
    ["synthesize", "Llama3_8B", "H100", "--target", "3 GB"],
    ["synthesize", "Llama3_8B", "H100", "--target", "3 ms", "--lever", "magic"],
    ["derive", "nope"],
    ["derive"],
    ["derive", "roofline", "--out", "/dev/null/x"],
    ["zoo", "hardware", "--group", "Space"],
    ["show", "nope"],
    ["validate", "--data", "missing.csv"],
    ["validate", "--law", "foo"],
]


@pytest.mark.parametrize("args", MODEL_ERRORS, ids=" ".join)
def test_model_errors_exit_1_with_one_line_or_a_json_object(scratch, args):
    code, out, err = run_main(args)
    assert code == 1 and not out, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"symsys {args[0]}: "), err
    code, out, err = run_main([*args, "--json"])
    assert code == 1 and not err, (code, err)
    error = json.loads(out)
    assert error["error"].endswith(("Parameter", "Error", "Precision", "Hardware", "Model",
                                    "Name")) and error["message"] == lines[0].split(": ", 1)[1]


USAGE_ERRORS = [
    [], ["nope"], ["solve"], ["solve", "Llama3_8B"], ["solve", "Llama3_8B", "H100", "-b", "x"],
    ["solve", "Llama3_8B", "H100", "--efficiency", "abc"],
    ["solve", "Llama3_8B", "H100", "--phase", "train"],
    ["serve", "Llama3_8B", "H100"], ["synthesize", "Llama3_8B", "H100"],
    ["sensitivity", "Llama3_8B", "H100", "--uncertainty", "x"],
    ["derive", "roofline", "--format", "pdf"], ["zoo"], ["zoo", "gpus"],
    ["solve", "Llama3_8B", "H100", "--bogus"],
]


@pytest.mark.parametrize("args", USAGE_ERRORS, ids=lambda a: " ".join(a) or "(nothing)")
def test_usage_errors_exit_2(args):
    code, _, err = run_main(args)
    assert code == 2 and "Traceback" not in err


@pytest.mark.parametrize("args", [
    ["solve", "Llama3_8B", "H100", "--batch-size", "0"],
    ["solve", "Llama3_8B", "H100", "--batch-size", "x"],
    ["synthesize", "Llama3_8B", "H100", "--target", "3 ms", "--lever", "batch_size", "--json"],
    ["sweep", "Llama3_8B", "H100", "--batch-size", "5:1:0", "--json"],
    ["derive", "roofline", "--out", "/dev/null/x"],
    ["show", "Llama3_8B"],
], ids=" ".join)
def test_as_a_user_runs_it_python_m_symsys(args):
    proc = subprocess.run([sys.executable, "-m", "symsys", *args], capture_output=True,
                          text=True, timeout=300, cwd=Path(__file__).parent.parent)
    check_outcome(args, proc.returncode, proc.stdout, proc.stderr)
