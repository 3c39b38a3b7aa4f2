"""Start-up figures, in fresh interpreters: interpreter start, ``import symsys``, the first
solver import, a cold ``symsys solve``, and where that cold run spends its time."""

from __future__ import annotations

import subprocess
import sys
import tempfile

from _common import HARDWARE_KEY, MODEL_KEY, REPO, env_with_repo, run_probe, time_subprocess


def measure_startup(proc_repeat: int) -> dict:
    py = sys.executable
    cli = [py, "-m", "symsys", "solve", MODEL_KEY, HARDWARE_KEY]
    scratch = tempfile.TemporaryDirectory(prefix="symsys-bench-cache-")

    def empty_cache() -> dict:  # a new, empty kernel cache directory for each run
        return {"SYMSYS_CACHE_DIR": tempfile.mkdtemp(dir=scratch.name)}

    with scratch:
        out = {
            "python_startup_s": time_subprocess([py, "-c", "pass"], proc_repeat),
            "import_s": time_subprocess([py, "-c", "import symsys"], proc_repeat),
            "engine_import_s": time_subprocess([py, "-c", "import symsys; symsys.Engine"],
                                               proc_repeat),
            "cold_cli_s": time_subprocess(cli, proc_repeat),
            "cold_cli_empty_cache_s": time_subprocess(cli, proc_repeat, extra_env=empty_cache),
        }
    return out


def importtime(args: list[str], timeout: float = 300.0) -> list[dict]:
    """The ``-X importtime`` rows of ``python -X importtime ARGS`` in a fresh interpreter, in
    import order: ``{"module", "self_s", "cumulative_s"}``. Raises if the process fails."""
    argv = [sys.executable, "-X", "importtime", *args]
    done = subprocess.run(argv, cwd=REPO, env=env_with_repo(), capture_output=True, text=True,
                          timeout=timeout)
    if done.returncode != 0:
        tail = [line for line in done.stderr.splitlines() if not line.startswith("import time:")]
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: "
                           f"{chr(10).join(tail)[-2000:]}")
    rows = []
    for line in done.stderr.splitlines():
        parts = line[len("import time:"):].split("|") if line.startswith("import time:") else []
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        rows.append({"module": parts[2].strip(), "self_s": int(parts[0]) / 1e6,
                     "cumulative_s": int(parts[1]) / 1e6})
    return rows


def _package(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "symsys" and len(parts) > 1 else parts[0]


def measure_cli_breakdown(with_profile: bool) -> dict:
    out = {"phases": run_probe("cli-breakdown")}
    if with_profile:
        out["profile"] = run_probe("cli-profile")
    rows = importtime(["-m", "symsys", "solve", MODEL_KEY, HARDWARE_KEY])
    by_package: dict = {}
    for r in rows:
        key = _package(r["module"])
        by_package[key] = by_package.get(key, 0.0) + r["self_s"]
    out["importtime_by_package"] = sorted(
        ({"package": k, "self_s": v} for k, v in by_package.items()), key=lambda r: -r["self_s"])
    out["importtime_top_self"] = sorted(rows, key=lambda r: -r["self_s"])[:10]
    out["importtime_total_s"] = sum(r["self_s"] for r in rows)
    return out
