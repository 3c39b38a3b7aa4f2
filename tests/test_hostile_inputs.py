"""Hostile inputs never hang symsys, never show a traceback and never answer inf or NaN.

Three parts:

- the quantity reader (:func:`symsys.units.parse_quantity`): unit exponents are bounded
  before pint evaluates them ('3 ms**(9**9**9)' used to run forever), and a value that
  overflows once converted ('1e308 GiB' in bytes) is an error naming the field;
- a seeded generator of hostile device and model files, mutated from the valid files in
  ``tests/fixtures`` and the registry (wrong types, deletions, huge, negative, zero, NaN and
  infinite values, exponent bombs, non-object JSON, deep nesting, invalid UTF-8, truncation,
  binary garbage, directories), each run through the CLI in-process;
- seeded random CLI invocations with hostile option values over every command.

Every CLI call runs under ``test_cli_fuzz.deadline``, so a hang fails its test instead of
blocking CI.
The files and argument lists are the same on every run (``random.Random`` with fixed seeds).
"""

import argparse
import copy
import functools
import json
import math
import random
import re
import time
import tomllib
from pathlib import Path

import pytest
from test_cli_fuzz import check_outcome, deadline, run_main

from symsys.errors import InvalidParameter, RegistryError
from symsys.registry.common import DATA
from symsys.units import MAX_EXPONENT, Q_, parse_quantity

FIXTURES = Path(__file__).parent / "fixtures"
#: seconds one CLI call may take before it counts as a hang (a valid solve takes ~0.05 s)
SOFT_LIMIT = 10


def bounded_main(args: list[str], seconds: float = SOFT_LIMIT) -> tuple[int, str, str]:
    """:func:`run_main` with this file's shorter deadline; a hang fails the calling test."""
    return run_main(args, seconds)


# --- the quantity reader ------------------------------------------------------------------------
BOMBS = ["3 ms**(9**9**9)", "3 ms^(9**9**9)", "3 ms**9**9**9", "3 ms**999999999",
         "3 ms^99999999999", "3 ms⁹⁹⁹⁹⁹⁹⁹⁹⁹", "3 (ms**9)**9", "3 ((ms**12)**12)**12",
         "3 ms**(1/0)", "3 ms**1e400", "3 ms**-99", "3 ms**(((9)))", "3 ms*9**9**9",
         "3 " + "(" * 5000 + "ms" + ")" * 5000, "3 " + "ms*" * 2000 + "ms"]


@pytest.mark.parametrize("text", BOMBS, ids=lambda t: t[:30])
def test_unit_exponent_bombs_are_refused_quickly(text):
    start = time.perf_counter()
    with deadline(5), pytest.raises(InvalidParameter, match=r"^--target: ") as info:
        parse_quantity(text, ("s", "token/s"), "--target", error=InvalidParameter)
    assert time.perf_counter() - start < 1
    assert "\n" not in str(info.value)
    assert "exponent" in str(info.value) or "characters" in str(info.value), info.value


@pytest.mark.parametrize(("text", "expected", "read"), [
    ("3 s^-1", "1/s", "3 1/s"), ("3 s**(-1)", "1/s", "3 1/s"), ("2 (B/s)**2", "B**2/s**2", None),
    ("4 m²", "m**2", None), (f"1 s**{MAX_EXPONENT}", f"s**{MAX_EXPONENT}", None),
    ("3.35 TB/s", "B/s", "3.35 TB/s"), ("20k tok/s", "token/s", "20000 tokens/s"),
    ("1.5 M samples per second", "sample/s", None), ("80 GiB", "B", "80 GiB")])
def test_plain_exponents_and_the_usual_spellings_still_read(text, expected, read):
    quantity = parse_quantity(text, expected, "x", error=InvalidParameter)
    assert quantity.check(expected)
    if read is not None:
        assert f"{quantity:~P}" == read


@pytest.mark.parametrize(("text", "unit", "words"), [
    ("1e308 GiB", "B", "overflows"), ("1e300 YiB", "B", "overflows"),
    ("1e400 GB", "B", "infinite"), ("inf TB/s", "B/s", "infinite"), ("nan ms", "s", "not a number"),
    ("1e-320 ps", "s", "must be positive"), ("0 GiB", "B", "must be positive"),
    ("1" + "0" * 400 + " GB", "B", "characters")])
def test_values_that_are_not_finite_once_converted_are_errors_naming_the_field(text, unit, words):
    with pytest.raises(RegistryError) as info:
        parse_quantity(text, unit, "my.toml: device (x).memory.capacity")
    message = str(info.value)
    assert message.startswith("my.toml: device (x).memory.capacity: ") and words in message
    assert "inf B" not in message.replace("infinite", "")


def test_a_comparison_value_may_be_zero_but_never_inf_or_nan():
    assert parse_quantity("0 ms", "s", "where", positive=False).magnitude == 0
    for text in ("nan ms", "inf ms", "1e308 Ms"):
        with pytest.raises(RegistryError, match="^where: "):
            parse_quantity(text, "s", "where", positive=False)


def test_device_custom_refuses_overflowing_quantities():
    from symsys.registry.hardware import Device

    for capacity in ("1e308 GiB", Q_(1e308, "GiB"), Q_(10**400, "B"), Q_(float("nan"), "GB")):
        with pytest.raises(InvalidParameter, match=r"^capacity: .*(overflows|not a number)"):
            Device.custom("x", peak="1 PFLOP/s", bandwidth="3 TB/s", capacity=capacity)


# --- the CLI on the reported cases --------------------------------------------------------------
@pytest.mark.parametrize("args", [
    ["synthesize", "Llama3_8B", "H100", "--target", "3 ms**(9**9**9)", "--lever",
     "memory_bandwidth"],
    ["sweep", "Llama3_8B", "H100", "--bandwidth", "3 TB/s**(9**9**9)"],
    ["sweep", "Llama3_8B", "H100", "--bandwidth", "1:3:1 TB/s**(9**9**9)"],
    ["sweep", "Llama3_8B", "H100", "--peak", "1,2 PFLOP/s^99999999999"],
    ["sweep", "Llama3_8B", "H100", "-b", "1:9", "--best", "latency", "--where",
     "latency <= 3 ms**(9**9**9)"],
    ["cost", "Llama3_8B", "H100", "--power", "700 W**(9**9**9)"],
    ["train", "Llama3_8B", "H100", "-B", "8", "-s", "128", "--tokens", "15 token**(9**9**9)"],
], ids=lambda a: " ".join(a[:2] + a[3:5]))
def test_exponent_bombs_on_the_command_line_are_one_line_errors(args):
    start = time.perf_counter()
    code, out, err = bounded_main(args)
    assert time.perf_counter() - start < 5
    check_outcome(args, code, out, err)
    assert code == 1 and "exponent" in err, err


@pytest.mark.parametrize(("option", "value", "words"), [
    ("--capacity", "1e308 GiB", "overflows"), ("--bandwidth", "1e400 TB/s", "infinite"),
    ("--bandwidth", "2 foo", "'foo' is not a unit"), ("--bandwidth", "1:2:1 ((", "not a unit"),
    ("--bandwidth", "2TB/s,3ms", "different dimensions"), ("--peak", "2,3 ms", "expected values")])
def test_sweep_hypothetical_hardware_errors_name_the_option(option, value, words):
    args = ["sweep", "Llama3_8B", "H100", option, value]
    code, out, err = bounded_main(args)
    check_outcome(args, code, out, err)
    assert code == 1 and f"{option} {value!r}" in err and words in err, err


@pytest.mark.parametrize(("args", "words"), [
    (["sweep", "Llama3_8B", "H100", "-b", "1:99999999999999"], "at most 10,000,000"),
    (["sweep", "Llama3_8B", "H100", "--tp", "1:99999999999"], "at most 10,000,000"),
    (["sweep", "Llama3_8B", "H100", "-b", "1:" + "9" * 30], "at most 10,000,000"),
    (["sweep", "Llama3_8B", "H100", "-b", "1,99999999999999999999"], "beyond 2**53"),
    (["sweep", "Llama3_8B", "H100", "--bandwidth", "1:1e8:1TB/s"], "at most 10,000,000"),
    (["validate", "--data", "9" * 5000], "cannot read it (File name too long)"),
    (["solve", "a" * 5000 + ".json", "H100"], "cannot read the model file (File name too long)"),
    (["show", "a\x00.toml"], "a\x00.toml: cannot read it"),
    (["solve", "Llama3_8B", "~nobody-here/chip.toml"], "cannot read the device file"),
], ids=lambda v: " ".join(v)[:50] if isinstance(v, list) else "")
def test_memory_and_name_bombs_are_one_line_errors(args, words):
    code, out, err = bounded_main(args)
    check_outcome(args, code, out, err)
    assert code == 1 and words in err, err


def _device_file(tmp_path, name: str, **memory) -> Path:
    memory = {"capacity": "80 GiB", "bandwidth": "3 TB/s", **memory}
    path = tmp_path / name
    path.write_text('[peak_dense]\nfp16 = "1 PFLOP/s"\n[memory]\n'
                    + "".join(f"{k} = {json.dumps(v)}\n" for k, v in memory.items()))
    return path


@pytest.mark.parametrize(("memory", "words"), [
    ({"bandwidth": "4 TB/s**(9**9**9)"}, "exponent"),
    ({"capacity": "1e308 GiB"}, "overflows"),
    ({"capacity": "1" + "0" * 400 + " GiB"}, "characters"),
    ({"capacity": "nan GiB"}, "not a number")])
def test_device_file_quantities_are_bounded(tmp_path, memory, words):
    path = _device_file(tmp_path, "chip.toml", **memory)
    field = next(iter(memory))
    args = ["solve", "Llama3_8B", str(path)]
    code, out, err = bounded_main(args)
    check_outcome(args, code, out, err)
    assert code == 1 and f"chip.toml: device (chip).memory.{field}: " in err and words in err


def test_a_capacity_so_large_that_the_max_batch_passes_2_to_the_53(tmp_path):
    """Before: balance.max_fitting walked to the largest batch that fits one step at a time,
    and past 2**53 a float step adds nothing, so a zettabyte of memory never returned."""
    path = _device_file(tmp_path, "vast.toml", capacity="1e12 GiB")
    code, out, err = bounded_main(["solve", "Llama3_8B", str(path), "--json"], seconds=10)
    assert code == 0, err
    answer = json.loads(out)
    # (1e12 GiB - 16 GB of weights) / 131,072 B of K/V per sequence = 8.192e15: beyond
    # 2**52, where floats step by 1 or more and no neighbour walk can tell batches apart
    assert answer["max_batch_size"] == pytest.approx(1e12 * 2**30 / 131_072, rel=1e-9)
    assert answer["max_batch_size"] > 2**52
    assert answer["feasible"] is True


def test_an_unreadable_file_names_the_file_and_the_reason(tmp_path, monkeypatch):
    path = _device_file(tmp_path, "locked.toml")
    real_open = Path.open

    def refuse(self, *args, **kwargs):  # root reads through chmod 000: simulate EACCES
        if self.name == "locked.toml":
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)
    code, out, err = bounded_main(["solve", "Llama3_8B", str(path)])
    assert code == 1 and "locked.toml: cannot read the device file (Permission denied)" in err


# --- generated hostile files --------------------------------------------------------------------
@functools.cache
def _device_sources() -> list[dict]:
    """Valid device tables: the fixture, and registry devices with interconnects, prices,
    streaming and sparse peaks; without ``key``, so the file's stem names each."""
    tables = [tomllib.loads((FIXTURES / "devices" / "my_chip.toml").read_text())]
    for name, count in (("hardware_nvidia.toml", 3), ("hardware_cerebras.toml", 1),
                        ("hardware_google.toml", 1), ("hardware_amd.toml", 1)):
        tables += tomllib.loads((DATA / name).read_text())["device"][:count]
    for table in tables:
        table.pop("key", None)
    return tables


@functools.cache
def _model_sources() -> list[dict]:
    """Valid model tables: Hugging Face configs and registry entries (GQA, MoE, MLA, CNN)."""
    configs = [json.loads(p.read_text()) for p in sorted((FIXTURES / "hf_configs").glob("*.json"))
               if not p.stem.startswith(("broken", "unsupported"))]
    registry = [m for f in ("models_language.toml", "models_vision.toml")
                for m in tomllib.loads((DATA / f).read_text())["model"]
                if m["key"] in ("GPT2", "Mixtral_8x7B", "DeepSeek_V3", "ResNet50")]
    for table in registry:
        table.pop("key", None)
    return configs + registry


def _toml_value(value) -> str:
    """``value`` as an inline TOML value (strings JSON-escaped, which TOML reads alike)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, int | float | str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value if v is not None) + "]"
    pairs = (f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items() if v is not None)
    return "{" + ", ".join(pairs) + "}"


def to_toml(table: dict) -> str:
    """A table as TOML, one top-level key a line (None values, which TOML lacks, left out)."""
    return "".join(f"{json.dumps(k)} = {_toml_value(v)}\n" for k, v in table.items()
                   if v is not None)


def _paths(node, prefix=()):
    """Every path to a value inside ``node``, tables and lists included."""
    items = (node.items() if isinstance(node, dict)
             else enumerate(node) if isinstance(node, list) else ())
    for key, value in items:
        yield (*prefix, key)
        yield from _paths(value, (*prefix, key))


def _parent(node, path):
    for key in path[:-1]:
        node = node[key]
    return node


QUANTITY = re.compile(r"^\s*[-+]?[\d.]+(?:[eE][-+]?\d+)?\s+(\S.*)$")


def _hostile_quantity(rng: random.Random, text: str) -> str:
    """A hostile spelling of the quantity ``text`` ('3.35 TB/s')."""
    unit = QUANTITY.match(text)[1]
    return rng.choice([
        f"3 {unit}**(9**9**9)", f"3 {unit}^99999999999", f"3 {unit}⁹⁹⁹⁹⁹⁹⁹⁹⁹",
        f"3 ({unit}**12)**12", f"1e308 {unit}", f"1e400 {unit}", f"1{'0' * 400} {unit}",
        f"nan {unit}", f"inf {unit}", f"-3 {unit}", f"0 {unit}", f"1e-320 {unit}", "3 ms",
        f"3 {unit.swapcase()}", "3", "", f"3 {unit} + 1", f"[1,2] {unit}", "x" * 100_000,
        f"3 {'(' * 3000}{unit}{')' * 3000}"])


#: a value written as 3000 nested lists once the file is serialised
DEEP = "@@deep@@"
HUGE = [10**20, 2**53 + 1, 10**400, 10**4000, 1e308, -1e308, 1.7976931348623157e308]
SMALL = [0, -1, -0.0, 5e-324, -(10**30)]
NONFINITE = [math.nan, math.inf, -math.inf]
OTHER_TYPES = [0, 1.5, "x", "", [], {}, [1, 2], {"a": 1}, True, False, None, "é" * 100_000,
               "\u0000", "\u202e"]


def _mutate_value(rng: random.Random, table: dict, kind: str) -> None:
    """Change one value inside ``table`` in place, as ``kind`` says."""
    paths = list(_paths(table))
    path = rng.choice(paths)
    parent, key = _parent(table, path), path[-1]
    if kind in ("quantity", "bomb"):
        texts = [p for p in paths if isinstance(_parent(table, p)[p[-1]], str)
                 and QUANTITY.match(_parent(table, p)[p[-1]])]
        if texts:
            path = rng.choice(texts)
            parent, key = _parent(table, path), path[-1]
            unit = QUANTITY.match(parent[key])[1]
            parent[key] = (rng.choice(BOMBS).replace("ms", unit, 1) if kind == "bomb"
                           else _hostile_quantity(rng, parent[key]))
            return
        kind = "huge"
    if kind == "delete":
        del parent[key]
    elif kind == "unknown field":
        target = rng.choice([t for t in [table, *(_parent(table, p)[p[-1]] for p in paths)]
                             if isinstance(t, dict)])
        target[rng.choice(["bogus", "fp3", "layers", "memory", "model", "device"])] = \
            rng.choice(OTHER_TYPES[:10])
    elif kind == "deep value":  # spelled out after serialising: json.dumps would recurse
        parent[key] = DEEP
    else:
        pool = {"type": OTHER_TYPES, "huge": HUGE, "small": SMALL, "nonfinite": NONFINITE}[kind]
        parent[key] = rng.choice(pool)


def _text_mutation(rng: random.Random, text: str, fmt: str, kind: str) -> bytes:
    """A hostile file body made from the valid ``text``, as ``kind`` says."""
    data = text.encode()
    if kind == "truncate":
        return data[:rng.randrange(len(data))]
    if kind == "utf8":
        at = rng.randrange(len(data))
        return data[:at] + bytes(rng.randrange(0x80, 0x100) for _ in range(3)) + data[at:]
    if kind == "garbage":
        return rng.randbytes(rng.randrange(1, 4000))
    if kind == "empty":
        return rng.choice([b"", b"  \n", b"\xef\xbb\xbf", b"\x00"])
    if kind == "non-object":
        return rng.choice([b"[]", b"1", b'"x"', b"null", b"true", b"1e400", b"NaN",
                           b"[" + data + b"]"])
    if kind == "deep":
        depth = rng.choice([1000, 100_000])
        return rng.choice([b"[" * depth, b'{"a":' * depth,
                           b"a = " + b"[" * depth + b"]" * depth,
                           b'{"memory": ' + b"[" * depth + b"]" * depth + b"}"])
    if kind == "bigint":
        literal = b"1" + b"0" * rng.choice([400, 5000])
        return data.replace(b"1", literal, 1) if fmt == "json" else data + b"zz = " + literal
    if kind == "json literal":  # NaN and Infinity, which Python's json accepts by default
        return re.sub(rb"\b\d+(\.\d+)?\b", rng.choice([b"NaN", b"Infinity", b"-Infinity"]),
                      data, count=1)
    return data + data  # "duplicate": every key twice


VALUE_KINDS = ["type", "delete", "huge", "small", "nonfinite", "quantity", "bomb",
               "unknown field", "deep value"]
TEXT_KINDS = ["truncate", "utf8", "garbage", "empty", "non-object", "deep", "bigint",
              "json literal", "duplicate"]
#: how many hostile files of each role (device, model) the generator writes
FILES_PER_ROLE = 120


def hostile_file(folder: Path, role: str, i: int) -> tuple[Path, str]:
    """The ``i``-th hostile ``role`` ('device' or 'model') file, written into ``folder``:
    (its path, what was done to it). Seeded by role and index: the same on every run."""
    rng = random.Random(f"hostile-{role}-{i}")
    sources = _device_sources() if role == "device" else _model_sources()
    table = copy.deepcopy(rng.choice(sources))
    fmt = rng.choice(["json", "toml"])
    kinds = VALUE_KINDS + TEXT_KINDS + ["directory"]
    kind = kinds[i % len(kinds)]
    path = folder / f"{role}_{i:03d}.{fmt}"
    if kind == "directory":
        path.mkdir()
        return path, kind
    if kind in VALUE_KINDS:  # a bomb alone, so no earlier error stops the reading before it
        for _ in range(1 if kind == "bomb" else rng.choice([1, 1, 2, 3])):
            _mutate_value(rng, table, kind)
    text = json.dumps(table, allow_nan=True) if fmt == "json" else to_toml(table)
    text = text.replace(json.dumps(DEEP), "[" * 3000 + "]" * 3000)
    body = _text_mutation(rng, text, fmt, kind) if kind in TEXT_KINDS else text.encode()
    path.write_bytes(body)
    return path, kind


DEVICE_COMMANDS = [["show", "{}"], ["serve", "Llama3_8B", "{}", "--prompt-len", "64",
                                    "--output-len", "8"],
                   ["sweep", "Llama3_8B", "{}", "-b", "1,8"], ["sensitivity", "Llama3_8B", "{}"],
                   ["synthesize", "Llama3_8B", "{}", "--target", "3 ms"],
                   ["cost", "Llama3_8B", "{}", "--price", "2 USD/hour", "--power", "700 W"],
                   ["stream", "GPT3", "{}", "--seq-len", "8"]]
MODEL_COMMANDS = [["show", "{}"], ["serve", "{}", "H100", "--prompt-len", "64", "--output-len",
                                   "8"],
                  ["sweep", "{}", "H100", "-b", "1,8"], ["sensitivity", "{}", "H100"],
                  ["synthesize", "{}", "H100", "--target", "3 ms"], ["cost", "{}", "H100"],
                  ["train", "{}", "H100", "-B", "8", "-s", "128"]]


def _invocations(path: Path, role: str, i: int) -> list[list[str]]:
    """Two CLI calls on a hostile file: solve, and one other command that reads it."""
    rng = random.Random(f"commands-{role}-{i}")
    solve = ["solve", "Llama3_8B", "{}"] if role == "device" else ["solve", "{}", "H100"]
    other = rng.choice(DEVICE_COMMANDS if role == "device" else MODEL_COMMANDS)
    calls = [[str(path) if a == "{}" else a for a in args] for args in (solve, other)]
    return [args + ["--json"] * (rng.random() < 0.5) for args in calls]


#: a number that is not finite, as Python or JSON prints it (AMD's "Infinity Fabric", a link's
#: name in the registry, is not one)
NON_FINITE_WORD = re.compile(r"(?<![\w.])-?(inf|nan|infinity)(?![\w.])(?! Fabric)",
                             re.IGNORECASE)


def assert_finite_answer(args, out: str) -> None:
    """Every number of an answer is finite: each JSON number, or no 'inf'/'nan' word in text."""
    if "--json" not in args:
        assert not NON_FINITE_WORD.search(out), (args, out[-2000:])
        return

    def walk(node, where):
        if isinstance(node, float):
            assert math.isfinite(node), (args, where, node)
        elif isinstance(node, str):
            assert not NON_FINITE_WORD.fullmatch(node.strip()), (args, where, node)
        items = (node.items() if isinstance(node, dict)
                 else enumerate(node) if isinstance(node, list) else ())
        for key, value in items:
            walk(value, f"{where}.{key}")

    walk(json.loads(out, parse_constant=float), "")


def _error_message(out: str, err: str) -> str:
    """The message of a one-line error, from the JSON error object or stderr."""
    return json.loads(out)["message"] if out.strip() else err.strip().split(": ", 1)[-1]


def check_hostile_run(args, path: Path, code: int, out: str, err: str) -> None:
    """No traceback, exit 0/1/2, one line; an error names the file (its name, or the stem
    that is its entry's key); an answer is finite."""
    check_outcome(args, code, out, err)
    if code == 1:
        message = _error_message(out, err)
        assert path.name in message or path.stem in message, (args, message)
    elif code == 0:
        assert_finite_answer(args, out)


@pytest.fixture(scope="module")
def warm(tmp_path_factory):
    """Every command once on every valid source file, without a deadline: the first call of
    a law compiles its kernel (seconds, when the shipped kernels are stale), which is not a
    hang; the deadlines then time the hostile inputs alone."""
    folder = tmp_path_factory.mktemp("valid")
    for role, sources, commands in (("device", _device_sources(), DEVICE_COMMANDS),
                                    ("model", _model_sources(), MODEL_COMMANDS)):
        for i, table in enumerate(sources):
            path = folder / f"{role}_{i}.json"
            path.write_text(json.dumps(table))
            solve = ["solve", "Llama3_8B", "{}"] if role == "device" else ["solve", "{}", "H100"]
            for args in (solve, *commands):
                code, out, err = run_main([str(path) if a == "{}" else a for a in args], 600)
                check_outcome(args, code, out, err)


@pytest.fixture(scope="module")
def hostile_folder(tmp_path_factory, warm):
    return tmp_path_factory.mktemp("hostile")


CASES = [(role, i) for role in ("device", "model") for i in range(FILES_PER_ROLE)]


@pytest.mark.parametrize(("role", "i"), CASES, ids=lambda v: str(v))
def test_hostile_file_gives_an_answer_or_one_line_naming_the_file(hostile_folder, role, i):
    path, kind = hostile_file(hostile_folder, role, i)
    for args in _invocations(path, role, i):
        code, out, err = bounded_main(args)
        check_hostile_run(args, path, code, out, err)


# --- seeded random invocations of every command -------------------------------------------------
def _parser_specs() -> dict[str, tuple[list, list, list]]:
    """command -> (positionals as (dest, nargs, choices), [(option, takes a value)], required
    options), read from the real parser."""
    from symsys.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    specs = {}
    for name, command in sub.choices.items():
        positionals = [(a.dest, a.nargs, a.choices) for a in command._actions
                       if not a.option_strings]
        options = [(a.option_strings[-1], a.nargs != 0) for a in command._actions
                   if a.option_strings and a.option_strings[0] not in ("-h", "--help")]
        required = [a.option_strings[-1] for a in command._actions
                    if a.required and a.option_strings]
        specs[name] = positionals, options, required
    return specs


HOSTILE_VALUES = [*BOMBS[:6], "1e308 GiB", "1e400", "nan", "inf", "-inf", "-1", "0", "",
                  " ", "\x00", "9" * 5000, "1" + "0" * 400, "1e-320", "1:1e308:1", "1:0",
                  "é" * 500, "3 ms", "20k tok/s", "latency <= 3 ms**(9**9**9)", "1,,2",
                  "2**60", "0x10", "fp16", "H100", "Llama3_8B", "1", "8", "0.5", "64"]
#: plausible values per option, drawn half the time, so calls get past the parser
VALID = {"-b": ["1", "8", "1,8"], "-s": ["128", "0,2048"], "--prompt-len": ["64"],
         "--output-len": ["8"], "-B": ["8"], "--target": ["3 ms", "1000 token/s"],
         "-p": ["fp16", "bf16", "fp8"], "--phase": ["decode", "prefill"],
         "--lever": ["memory_bandwidth", "batch_size", "peak_flops"], "--tokens": ["15T"],
         "--within": ["30days"], "--price": ["2 USD/hour", "1:3:1 USD/hour"],
         "--power": ["700 W"], "--bandwidth": ["1:3:1 TB/s"], "--capacity": ["80,141 GiB"],
         "--peak": ["500,1000 TFLOP/s"], "--where": ["latency <= 20 ms"],
         "--best": ["latency", "throughput"], "--efficiency": ["0.5", "0.7,0.9"],
         "--memory-fraction": ["0.9", "90%"], "--uncertainty": ["memory_bandwidth=0.05"],
         "--output": ["latency", "throughput"], "--group": ["Cloud", "Language"],
         "--format": ["md", "tex"], "--tensor-parallel": ["1", "2"], "--tp": ["1,2"],
         "--data": [str(FIXTURES / "hf_configs")], "--law": ["roofline", "gemm"]}
#: plausible positionals by their dest
POSITIONALS = {"model": ["Llama3_8B", "GPT2", "Mixtral_8x7B", "ResNet50"],
               "models": ["Llama3_8B", "Llama3_8B,GPT2"],
               "hardware": ["H100", "CS3", "DGX_H100", "A100,H100"],
               "name": ["H100", "Llama3_8B", "roofline", "decode"],
               "kind": ["hardware", "models", "systems"]}
JUNK = ["nope", "", "\x00", "all", "1e400", "é" * 300]
#: options the random calls leave out: --out writes files (test_cli_fuzz fuzzes it in a
#: scratch folder), derive --all renders every law (seconds of sympy; test_derivations)
LEFT_OUT = ("--out", "--all")
#: seeded CLI invocations, on top of two per hostile file
RANDOM_CALLS = 200


def _positional(rng: random.Random, dest: str, choices, files: list[str]) -> list[str]:
    """A value for one positional: a plausible one, a hostile file or junk."""
    if choices:  # plot's kinds: the kind, then names
        return [rng.choice(sorted(choices)), rng.choice(POSITIONALS["model"] + files),
                rng.choice(POSITIONALS["hardware"] + files)]
    return [rng.choice([*POSITIONALS.get(dest, []) * 2, *files, *JUNK])]


def random_invocation(rng: random.Random, specs: dict, files: list[str]) -> list[str]:
    """One command with its positionals (plausible names, hostile files or junk), its
    required options and up to four more, each with a plausible or a hostile value."""
    command = rng.choice(sorted(specs))
    positionals, options, required = specs[command]
    args = [command]
    for dest, nargs, choices in positionals:
        count = {"?": rng.randint(0, 1), "+": rng.randint(1, 2)}.get(nargs, 1)
        for _ in range(count):
            args += _positional(rng, dest, choices, files)
    takes = dict(options)
    chosen = required + rng.sample(options, min(len(options), rng.randint(0, 4)))
    for option in dict.fromkeys(o if isinstance(o, str) else o[0] for o in chosen):
        if option in LEFT_OUT:
            continue
        if takes[option]:
            plausible = VALID.get(option, []) and rng.random() < 0.5
            args += [option, rng.choice(VALID[option] if plausible else HOSTILE_VALUES + files)]
        else:
            args.append(option)
    return args + ["--json"] * (rng.random() < 0.5 and "--json" not in args)


def test_random_invocations_of_every_command(tmp_path, monkeypatch, warm):
    monkeypatch.chdir(tmp_path)  # anything a command writes lands here
    files = [str(hostile_file(tmp_path, role, i)[0]) for role, i in CASES[::20]]
    specs, outcomes = _parser_specs(), set()
    rng = random.Random("random-invocations")
    for _ in range(RANDOM_CALLS):
        args = random_invocation(rng, specs, files)
        code, out, err = bounded_main(args)
        outcomes.add((args[0], code))
        check_outcome(args, code, out, err)
        if code == 0 and args[0] not in ("derive", "plot"):
            assert_finite_answer(args, out)
    assert {command for command, _ in outcomes} == set(specs)
    assert len({command for command, code in outcomes if code in (0, 1)}) >= len(specs) - 2, \
        sorted(outcomes)  # most commands got past the parser to an answer or a model error


# --- measurement files (symsys validate --data) ---------------------------------------------------
_VIDUR_HEADER = ("n_head,n_kv_head,n_embd,n_expanded_embd,use_gated_mlp,num_tokens,"
                 "num_tensor_parallel_workers,time_stats.attn_pre_proj.median,"
                 "time_stats.attn_post_proj.median,time_stats.mlp_up_proj.median,"
                 "time_stats.mlp_down_proj.median\n")
_VIDUR_ROW = "32,8,4096,14336,True,128,1,0.05,0.03,0.2,0.1\n"


@pytest.mark.parametrize("content, words", [
    (_VIDUR_HEADER.encode() + b"\xff\xfe\n", "not UTF-8 text"),
    ((_VIDUR_HEADER + "32,8,4096\n").encode(), "column n_expanded_embd is None"),
    ((_VIDUR_HEADER + _VIDUR_ROW.replace("32,8,", "0,8,", 1)).encode(), "column n_head is '0'"),
    ((_VIDUR_HEADER + _VIDUR_ROW.replace("0.05", "nan")).encode(), "positive, finite"),
    ((_VIDUR_HEADER + _VIDUR_ROW.replace("True", "maybe")).encode(), "use_gated_mlp"),
    (_VIDUR_HEADER.encode() + b"1,2\x00,3\n", "H100__Llama3_8B.csv"),
    (b"", "missing column(s)"),
])
def test_a_hostile_measurement_file_is_one_line(tmp_path, content, words):
    """Before: invalid UTF-8 raised UnicodeDecodeError and a short row TypeError."""
    path = tmp_path / "H100__Llama3_8B.csv"
    path.write_bytes(content)
    args = ["validate", "--data", str(path)]
    code, out, err = bounded_main(args)
    check_outcome(args, code, out, err)
    assert code == 1 and "H100__Llama3_8B.csv" in err and words in err, err
