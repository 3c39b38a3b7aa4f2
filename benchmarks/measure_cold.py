"""Cold start per CLI command: each command's median wall and CPU time over fresh processes
(``python -m symsys ...``), its ratio to a cold ``symsys solve`` measured in the same rounds,
and whether the process imported sympy; the same for a cold ``SensitivitySolver().solve`` from
Python.

The commands run round-robin (one run of each per round) so a change in the shared machine's
load touches every command alike. Whether sympy was imported is read from ``-X importtime`` in
one separate fresh process per command, after the timed runs, so the timing is undisturbed and
the check sees the same warm caches as the timed runs.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import HARDWARE_KEY, MODEL_KEY, summary, time_subprocess  # noqa: E402
from measure_startup import importtime  # noqa: E402

REFERENCE = f"solve {MODEL_KEY} {HARDWARE_KEY}"
#: ``symsys`` command lines, the reference first; a target each: <= RATIO_TARGET x reference
COMMANDS = [
    REFERENCE,
    "zoo hardware",
    f"show {HARDWARE_KEY}",
    f"sensitivity {MODEL_KEY} {HARDWARE_KEY}",
    f'synthesize {MODEL_KEY} {HARDWARE_KEY} --target "3 ms" --lever memory_bandwidth',
    "stream GPT3 Cerebras_CS3 --seq-len 2048",
    f"serve {MODEL_KEY} {HARDWARE_KEY} --prompt-len 512 --output-len 256",
    f"sweep {MODEL_KEY} {HARDWARE_KEY},A100 --batch-size 1:65",
]
#: the ``--quick`` set (the smoke test's), one run each: every command twice took ~25 s
QUICK_COMMANDS = [REFERENCE, f"sensitivity {MODEL_KEY} {HARDWARE_KEY}"]
RATIO_TARGET = 1.5
SENSITIVITY_CODE = (f"import symsys; symsys.SensitivitySolver().solve({MODEL_KEY!r}, "
                    f"{HARDWARE_KEY!r})")
SYMPY_CHECK = "-X importtime, one separate fresh process after the timed runs"


def label(command: str) -> str:
    return f"symsys {command}"


def key(command: str) -> str:
    """A short name for a command's figures and target: its subcommand."""
    return shlex.split(command)[0]


def _failure(message: str) -> str:
    """``failed (exit N): <last line of stderr>``, from ``time_subprocess``'s error."""
    _, exited, rest = message.partition(" exited ")
    code, _, stderr = rest.partition(": ") if exited else ("", "", message)
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return (f"failed (exit {code}): " if exited else "failed: ") + \
        (lines[-1] if lines else "no error output")[:160]


def _imports(args: list[str], timeout: float) -> dict:
    rows = importtime(args, timeout)
    sympy = [r for r in rows if r["module"] == "sympy"]
    return {"imports_sympy": bool(sympy),
            "sympy_import_s": sympy[0]["cumulative_s"] if sympy else None,
            "modules_imported": len(rows)}


def measure_cold(commands: list[str], repeat: int, timeout: float = 300.0) -> dict:
    """``commands`` (``symsys`` argument strings) plus the cold ``SensitivitySolver`` snippet,
    ``repeat`` fresh processes each. A command that fails is reported, not raised."""
    if REFERENCE not in commands:
        commands = [REFERENCE, *commands]
    entries = [{"command": label(c), "key": key(c), "args": ["-m", "symsys", *shlex.split(c)]}
               for c in commands]
    entries.append({"command": f'python -c "{SENSITIVITY_CODE}"', "key": "sensitivity_solver",
                    "args": ["-c", SENSITIVITY_CODE]})
    runs = {e["key"]: ([], []) for e in entries}
    errors: dict = {}
    for _ in range(repeat):
        for e in entries:
            if e["key"] in errors:
                continue
            try:
                t = time_subprocess([sys.executable, *e["args"]], 1, timeout)
            except (RuntimeError, subprocess.SubprocessError) as exc:
                errors[e["key"]] = str(exc)
                continue
            runs[e["key"]][0].extend(t["runs"])
            runs[e["key"]][1].extend(t["cpu_runs"])
    for e in entries:
        if e["key"] not in errors:
            e["status"] = "ok"
            e["seconds"] = summary(*runs[e["key"]])
            try:
                e.update(_imports(e["args"], timeout))
            except (RuntimeError, subprocess.SubprocessError) as exc:
                e["imports_sympy"] = None
                e["sympy_check_error"] = str(exc)[-2000:]
        else:
            e["status"], e["error"] = _failure(errors[e["key"]]), errors[e["key"]][-2000:]
    ref = entries[0].get("seconds")
    for e in entries:
        if ref and "seconds" in e:
            e["ratio"] = e["seconds"]["median"] / ref["median"]
            e["cpu_ratio"] = e["seconds"]["cpu_median"] / ref["cpu_median"]
    solver = entries.pop()
    solver["code"] = SENSITIVITY_CODE
    return {"cold_cli_commands": {"repeat": repeat, "reference": label(REFERENCE),
                                  "ratio_target": RATIO_TARGET, "sympy_check": SYMPY_CHECK,
                                  "commands": entries},
            "cold_sensitivity_solver": solver}


def main(argv=None) -> int:
    """Only the cold-start table: ``python benchmarks/measure_cold.py [--quick] [--repeat N]``
    (every command 5 times; --quick: solve and sensitivity once)."""
    import argparse
    import json

    from report import cold_cli_table

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="only solve and sensitivity, one run each")
    parser.add_argument("--repeat", type=int, help="runs per command (default 5; quick 1)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    out = measure_cold(QUICK_COMMANDS if args.quick else COMMANDS,
                       args.repeat or (1 if args.quick else 5))
    print(cold_cli_table(out))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
