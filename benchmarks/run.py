"""symsys benchmarks, side by side with mlsysim and llm-analysis when they are installed.

    python benchmarks/run.py                 # full run (~4 min on 2 cores with both tools)
    python benchmarks/run.py --quick         # tiny sizes, no alternatives: a smoke run
    python benchmarks/run.py --json out.json # where the JSON goes (default results/latest.json)
    python benchmarks/run.py --render benchmarks/results/latest.json   # reprint a saved run
    python benchmarks/run.py --markdown benchmarks/results/latest.json # README section
    python benchmarks/measure_cold.py           # only the cold-start table per CLI command
    python benchmarks/run.py --only explore --update benchmarks/results/latest.json
                                             # only the design-space runs (numpy 1e8, Dask
                                             # 1e10: ~15 min), merged into a saved run
    python benchmarks/run.py --only tp-sweep    # only the (tensor_parallel, batch, context)
                                             # sweep; --update JSON merges it into a run

Prints every figure as a table and writes them all to JSON. Each figure is a median of
repeated runs: fresh interpreters for import and CLI times, warmed-up loops for in-process
times. The alternatives are measured only when importable (``pip install mlsysim==0.3.0
llm-analysis`` into the benchmark environment); otherwise they are reported "not installed".
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))  # this checkout's symsys, installed or not

from _common import REPO  # noqa: E402
from measure_cold import COMMANDS, QUICK_COMMANDS, measure_cold  # noqa: E402
from measure_explore import measure_explore  # noqa: E402
from measure_inprocess import measure_roofline, measure_scalar  # noqa: E402
from measure_scale import measure_scale  # noqa: E402
from measure_startup import measure_cli_breakdown, measure_startup  # noqa: E402
from measure_sweeps import measure_chunked, measure_memory, measure_sweeps  # noqa: E402
from measure_tp_sweep import measure_tp_sweep, tp_sweep_table  # noqa: E402
from report import report, report_sections  # noqa: E402
from report_markdown import markdown  # noqa: E402
from targets import check_targets, figures_of  # noqa: E402


def git_state() -> str:
    """The commit measured, and whether the working tree differed from it (read-only git)."""
    import subprocess

    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "symsys"], cwd=REPO,
                               capture_output=True, text=True, timeout=10).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head or 'unknown'}" + (f" + {len(dirty)} changed files in symsys/" if dirty else "")


# --- main -----------------------------------------------------------------------------------
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes; skip alternatives")
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "latest.json")
    parser.add_argument("--repeat", type=int, help="in-process repeats (default 7; quick 3)")
    parser.add_argument("--proc-repeat", type=int,
                        help="fresh-process repeats (default 5; quick 1)")
    parser.add_argument("--cold-repeat", type=int,
                        help="fresh-process runs per command of the cold CLI set "
                             "(default 5; quick 1, and only solve and sensitivity)")
    parser.add_argument("--alt-import-repeat", type=int, default=3,
                        help="fresh-process repeats of the alternatives' imports")
    parser.add_argument("--chunked-total", type=float, help="default 1e8 (quick 1e6)")
    parser.add_argument("--chunk-size", type=float, help="default 1e6 (quick 1e5)")
    parser.add_argument("--explore-numpy", type=float,
                        help="design-space configurations, numpy path (default 1e8; quick 1e6)")
    parser.add_argument("--explore-dask", type=float,
                        help="design-space configurations on a local Dask cluster (default "
                             "1e10; quick 2e6)")
    parser.add_argument("--no-explore", action="store_true",
                        help="skip the design-space runs (the Dask one takes ~15 min)")
    parser.add_argument("--tp-sweep", type=float,
                        help="configurations of the tensor-parallel sweep (default 1e6; "
                             "quick 1e5)")
    parser.add_argument("--only", choices=("explore", "scale", "tp-sweep"),
                        help="measure only this section; with --update, merge it into a run")
    parser.add_argument("--update", type=Path, metavar="JSON",
                        help="with --only: the saved run to merge into (rewritten in place)")
    parser.add_argument("--no-alternatives", action="store_true")
    parser.add_argument("--compare", action="store_true", help="run alternatives even if --quick")
    parser.add_argument("--render", type=Path, metavar="JSON",
                        help="print the tables of a saved run (no measuring)")
    parser.add_argument("--markdown", type=Path, metavar="JSON",
                        help="print the README Performance section of a saved run")
    parser.add_argument("--no-profile", action="store_true",
                        help="skip the cProfile of the CLI (always skipped with --quick)")
    args = parser.parse_args(argv)
    if args.render:
        print(report(json.loads(args.render.read_text())))
        return 0
    if args.markdown:
        print(markdown(json.loads(args.markdown.read_text())), end="")
        return 0

    quick = args.quick
    explore_numpy = args.explore_numpy or (1e6 if quick else 1e8)
    explore_dask = args.explore_dask or (2e6 if quick else 1e10)
    tp_sweep = args.tp_sweep or (1e5 if quick else 1e6)
    if args.only == "scale":
        return _only_scale(args)
    if args.only == "tp-sweep":
        return _only_tp_sweep(args, tp_sweep)
    if args.only:
        return _only_explore(args, explore_numpy, explore_dask)
    repeat = args.repeat or (3 if quick else 7)
    proc_repeat = args.proc_repeat or (1 if quick else 5)
    cold_repeat = args.cold_repeat or (1 if quick else 5)
    sweep_sizes = [10**3, 10**4] if quick else [10**4, 10**5, 10**6, 10**7]
    memory_sizes = [10**4, 10**5] if quick else [10**5, 10**6, 10**7]
    chunk_total = int(args.chunked_total or (1e6 if quick else 1e8))
    chunk_size = int(args.chunk_size or (1e5 if quick else 1e6))
    roofline_points = 10**5 if quick else 10**6

    import numpy
    import pint
    import sympy

    import symsys

    results: dict = {"meta": {
        "timestamp": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "python": f"Python {platform.python_version()}", "executable": sys.executable,
        "machine": f"{platform.system()} {platform.machine()}", "cpus": os.cpu_count(),
        "symsys_version": symsys.__version__, "numpy": numpy.__version__,
        "sympy": sympy.__version__, "pint": pint.__version__, "quick": quick,
        "repeat": repeat, "proc_repeat": proc_repeat, "cold_repeat": cold_repeat,
        "loadavg_before": os.getloadavg(),
        "git": git_state(),
    }}
    sym: dict = {}
    results["symsys"] = sym

    load_by_step = results["meta"]["load_by_step"] = []

    def step(label):  # the machine is shared: keep the load average beside each section
        load_by_step.append([label, os.getloadavg()[0]])
        print(f"[{time.strftime('%H:%M:%S')}] {label} (load {os.getloadavg()[0]:.2f})",
              file=sys.stderr, flush=True)

    step("startup: import, first solver import, cold CLI (fresh processes)")
    sym.update(measure_startup(proc_repeat))
    step("cold CLI per command and cold SensitivitySolver (fresh processes)")
    sym.update(measure_cold(QUICK_COMMANDS if quick else COMMANDS, cold_repeat))
    step("scalar solve and sensitivities")
    sym.update(measure_scalar(repeat))
    sym["scale"] = measure_scale(repeat)
    step("compiled roofline and symsys.evaluate")
    sym["roofline"] = measure_roofline(repeat, roofline_points)
    step(f"sweeps {sweep_sizes}")
    sym["sweep"] = measure_sweeps(sweep_sizes, repeat if quick else 5)
    step(f"tensor-parallel sweep {tp_sweep:.0e} (tp x batch x context)")
    sym["tp_sweep"] = measure_tp_sweep(tp_sweep, repeat if quick else 5)
    step(f"sweep memory {memory_sizes} (fresh processes)")
    sym["sweep_memory"] = measure_memory(memory_sizes)
    step(f"chunked {chunk_total:.0e} in chunks of {chunk_size:.0e}")
    one_chunk = sym["sweep_memory"].get(str(chunk_size), {}).get("tracemalloc_peak_bytes")
    sym["chunked"] = measure_chunked(chunk_total, chunk_size, one_chunk)
    if not args.no_explore:
        step(f"design space: numpy {explore_numpy:.0e}, Dask {explore_dask:.0e}")
        sym["explore"] = measure_explore(explore_numpy, explore_dask)
    step("cold CLI breakdown")
    sym["cli_breakdown"] = measure_cli_breakdown(with_profile=not (args.no_profile or quick))

    from alternatives import agreement, llm_analysis_case, mlsysim_case, symsys_case

    sym["case"] = symsys_case()
    alternatives: dict = {}
    if args.no_alternatives or (quick and not args.compare):
        reason = "skipped (--no-alternatives)" if args.no_alternatives else "skipped (--quick)"
        alternatives = {"mlsysim": {"status": reason}, "llm-analysis": {"status": reason}}
    else:
        for name, case in (("mlsysim", mlsysim_case), ("llm-analysis", llm_analysis_case)):
            step(f"{name} (when installed)")
            try:
                alternatives[name] = case(repeat, args.alt_import_repeat)
            except Exception as exc:  # report, never abort the symsys figures
                alternatives[name] = {"status": f"failed: {type(exc).__name__}: {exc}"}
    results["alternatives"] = alternatives
    results["agreement"] = agreement(sym["case"], alternatives.get("mlsysim", {}),
                                     alternatives.get("llm-analysis", {}))
    results["meta"]["loadavg_after"] = os.getloadavg()
    results["figures"] = figures_of(results)
    results["targets"] = check_targets(results)

    text = report(results)
    print(text)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nJSON: {args.json}")
    return 0


def _only_scale(args) -> int:
    """``--only scale``: the many-device and training figures alone, merged into ``--update``."""
    if args.update is None:
        raise SystemExit("--only scale needs --update JSON (the saved run to merge into)")
    results = json.loads(args.update.read_text())
    scale = measure_scale(args.repeat or 7)
    scale["measured"] = {
        "timestamp": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "loadavg": os.getloadavg(), "git": git_state(), "cpus": os.cpu_count()}
    results["symsys"]["scale"] = scale
    results["figures"] = figures_of(results)
    results["targets"] = check_targets(results)
    args.update.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(report_sections(results)["scale"])
    print(f"\nJSON: {args.update}")
    return 0


def _only_tp_sweep(args, configurations: float) -> int:
    """``--only tp-sweep``: the tensor-parallel sweep alone, printed; with ``--update JSON``
    merged into that saved run (only its ``tp_sweep`` section and the figures)."""
    tp = measure_tp_sweep(configurations, args.repeat or 7)
    tp["measured"] = {
        "timestamp": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "loadavg": os.getloadavg(), "git": git_state(), "cpus": os.cpu_count()}
    print(tp_sweep_table(tp))
    if args.update is not None:
        results = json.loads(args.update.read_text())
        results["symsys"]["tp_sweep"] = tp
        results["figures"] = figures_of(results)
        results["targets"] = check_targets(results)
        args.update.write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(f"\nJSON: {args.update}")
    return 0


def _only_explore(args, explore_numpy: float, explore_dask: float) -> int:
    """``--only explore``: the design-space runs alone, merged into ``--update JSON``."""
    if args.update is None:
        raise SystemExit("--only explore needs --update JSON (the saved run to merge into)")
    results = json.loads(args.update.read_text())
    explore = measure_explore(explore_numpy, explore_dask)
    explore["measured"] = {
        "timestamp": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "loadavg": os.getloadavg(), "git": git_state(), "cpus": os.cpu_count()}
    results["symsys"]["explore"] = explore
    results["targets"] = check_targets(results)
    args.update.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(report_sections(results)["explore"])
    print(f"\nJSON: {args.update}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
