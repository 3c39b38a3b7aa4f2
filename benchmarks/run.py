"""symsys benchmarks, side by side with mlsysim and llm-analysis when they are installed.

    python benchmarks/run.py --readme        # THE run behind the README: measures everything
                                             # in one process tree (~10 min on 2 cores), writes
                                             # benchmarks/performance.json (committed) and
                                             # rewrites README.md's Performance section from it
    python benchmarks/run.py                 # the same run, JSON to results/latest.json only
    python benchmarks/run.py --quick         # tiny sizes, no alternatives: a smoke run
    python benchmarks/run.py --json out.json # where the JSON goes (default results/latest.json)
    python benchmarks/run.py --render benchmarks/results/latest.json   # reprint a saved run
    python benchmarks/run.py --markdown benchmarks/performance.json    # README section
    python benchmarks/run.py --render-readme [JSON]   # rewrite README.md from a saved full
                                             # run (default the committed one; no measuring)
    python benchmarks/measure_cold.py           # only the cold-start table per CLI command
    python benchmarks/run.py --only compare     # only one section (compare, explore, scale,
                                             # tp-sweep), printed and written to
                                             # results/only-SECTION.json; never the README's
    python benchmarks/run.py --only explore --explore-dask 1e10   # the 1e10-config Dask run

Prints every figure as a table and writes them all to JSON, stamped with the date, commit,
machine (CPU model and count, load average before, during and after) and versions. Each
figure is a median of repeated runs: fresh interpreters for import and CLI times, warmed-up
loops for in-process times; the side-by-side ratios are medians of per-round ratios measured
round-robin (``measure_compare``). The README's section is rendered only from one complete
run: ``--markdown`` refuses a ``--quick``, a partial (``--only``) or a merged JSON. The
alternatives are measured only when importable (``pip install mlsysim==0.3.0 llm-analysis``
into the benchmark environment); otherwise they are reported "not installed".
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
import uuid
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))  # this checkout's symsys, installed or not

from _common import REPO  # noqa: E402
from measure_cold import COMMANDS, QUICK_COMMANDS, measure_cold  # noqa: E402
from measure_compare import measure_compare  # noqa: E402
from measure_explore import EXPLORE_DASK, measure_explore  # noqa: E402
from measure_inprocess import measure_roofline, measure_scalar  # noqa: E402
from measure_scale import measure_scale  # noqa: E402
from measure_startup import measure_cli_breakdown, measure_startup  # noqa: E402
from measure_sweeps import measure_chunked, measure_memory, measure_sweeps  # noqa: E402
from measure_tp_sweep import measure_tp_sweep, tp_sweep_table  # noqa: E402
from report import explore_table, report  # noqa: E402
from report_markdown import (  # noqa: E402
    PUBLISHED,
    README,
    NotPublishable,
    markdown,
    rewrite_readme,
)
from targets import check_targets, figures_of  # noqa: E402

ONLY = ("compare", "explore", "scale", "tp-sweep")


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


def _machine() -> dict:
    """CPU model and memory of this machine (Linux /proc; empty where unreadable)."""
    out: dict = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                out["cpu_model"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                out["memory_bytes"] = int(line.split()[1]) * 1024
                break
    except OSError:
        pass
    return out


def _versions() -> dict:
    import importlib.metadata

    out = {}
    for dist in ("numpy", "sympy", "pint", "dask", "distributed", "mlsysim", "llm-analysis"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = None
    return out


def _meta(quick: bool, **extra) -> dict:
    import numpy
    import pint
    import sympy

    import symsys

    versions = _versions()
    return {
        "run_id": uuid.uuid4().hex,
        "timestamp": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "python": f"Python {platform.python_version()}", "executable": sys.executable,
        "machine": f"{platform.system()} {platform.machine()}", "cpus": os.cpu_count(),
        **_machine(),
        "symsys_version": symsys.__version__, "numpy": numpy.__version__,
        "sympy": sympy.__version__, "pint": pint.__version__, "dask": versions["dask"],
        "versions": versions, "quick": quick, "loadavg_before": os.getloadavg(),
        "git": git_state(), **extra,
    }


def _finish(results: dict, started: float) -> None:
    meta = results["meta"]
    meta["loadavg_after"] = os.getloadavg()
    meta["run_seconds"] = time.perf_counter() - started


# --- main -----------------------------------------------------------------------------------
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes; skip alternatives")
    parser.add_argument("--json", type=Path,
                        help="where the JSON goes (default results/latest.json; with --readme "
                             f"{PUBLISHED.relative_to(REPO)}; with --only "
                             "results/only-SECTION.json)")
    parser.add_argument("--readme", action="store_true",
                        help="a full run whose JSON is the committed "
                             f"{PUBLISHED.relative_to(REPO)}; then rewrite README.md's "
                             "Performance section from it")
    parser.add_argument("--render-readme", nargs="?", type=Path, const=PUBLISHED,
                        metavar="JSON", help="rewrite README.md's Performance section from a "
                        "saved full run (default the committed one), measuring nothing")
    parser.add_argument("--repeat", type=int, help="in-process repeats (default 7; quick 3)")
    parser.add_argument("--proc-repeat", type=int,
                        help="fresh-process repeats (default 5; quick 1)")
    parser.add_argument("--cold-repeat", type=int,
                        help="fresh-process runs per command of the cold CLI set "
                             "(default 5; quick 1, and only solve and sensitivity)")
    parser.add_argument("--compare-rounds", type=int,
                        help="round-robin rounds of the in-process side-by-side figures "
                             "(default 21; quick 3)")
    parser.add_argument("--compare-import-rounds", type=int,
                        help="round-robin rounds of the fresh-process imports side by side "
                             "(default 15; quick 1)")
    parser.add_argument("--chunked-total", type=float, help="default 1e8 (quick 1e6)")
    parser.add_argument("--chunk-size", type=float, help="default 1e6 (quick 1e5)")
    parser.add_argument("--explore-numpy", type=float,
                        help="design-space configurations, numpy path (default 1e8; quick 1e6)")
    parser.add_argument("--explore-dask", type=float,
                        help="design-space configurations on a local Dask cluster (default "
                             f"{EXPLORE_DASK:.0e}, ~1 min on 2 cores; the README example's "
                             "1e10 takes ~6 min more; quick 2e6)")
    parser.add_argument("--no-explore", action="store_true",
                        help="skip the design-space runs (not with --readme)")
    parser.add_argument("--tp-sweep", type=float,
                        help="configurations of the tensor-parallel sweep (default 1e6; "
                             "quick 1e5)")
    parser.add_argument("--only", choices=ONLY,
                        help="measure only this section: printed and written to its own JSON, "
                             "which the README renderer refuses")
    parser.add_argument("--no-alternatives", action="store_true")
    parser.add_argument("--compare", action="store_true", help="run alternatives even if --quick")
    parser.add_argument("--render", type=Path, metavar="JSON",
                        help="print the tables of a saved run (no measuring)")
    parser.add_argument("--markdown", type=Path, metavar="JSON",
                        help="print the README Performance section of a saved full run")
    parser.add_argument("--allow-quick", action="store_true",
                        help="with --markdown: render a --quick run too (a preview, never the "
                             "README's)")
    parser.add_argument("--no-profile", action="store_true",
                        help="skip the cProfile of the CLI (always skipped with --quick)")
    args = parser.parse_args(argv)
    if args.render:
        saved = json.loads(args.render.read_text())
        print(_only_text(saved) if saved["meta"].get("only") else report(saved))
        return 0
    if args.markdown:
        try:
            print(markdown(json.loads(args.markdown.read_text()),
                           allow_quick=args.allow_quick), end="")
        except NotPublishable as exc:
            raise SystemExit(f"{args.markdown}: {exc}") from None
        return 0
    if args.render_readme:
        return _render_readme(args.render_readme)
    if args.readme and (args.quick or args.only or args.no_explore or args.no_alternatives):
        raise SystemExit("--readme is the full run: not with --quick, --only, --no-explore or "
                         "--no-alternatives")

    quick = args.quick
    sizes = {
        "explore_numpy": args.explore_numpy or (1e6 if quick else 1e8),
        "explore_dask": args.explore_dask or (2e6 if quick else EXPLORE_DASK),
        "tp_sweep": args.tp_sweep or (1e5 if quick else 1e6),
        "chunked_total": int(args.chunked_total or (1e6 if quick else 1e8)),
        "chunk_size": int(args.chunk_size or (1e5 if quick else 1e6)),
        "roofline_points": 10**5 if quick else 10**6,
        "sweep": [10**3, 10**4] if quick else [10**4, 10**5, 10**6, 10**7],
        "sweep_memory": [10**4, 10**5] if quick else [10**5, 10**6, 10**7],
    }
    repeat = args.repeat or (3 if quick else 7)
    proc_repeat = args.proc_repeat or (1 if quick else 5)
    cold_repeat = args.cold_repeat or (1 if quick else 5)
    compare_rounds = args.compare_rounds or (3 if quick else 21)
    compare_import_rounds = (args.compare_import_rounds if args.compare_import_rounds
                             is not None else (1 if quick else 15))
    with_alternatives = not (args.no_alternatives or (quick and not args.compare))
    started = time.perf_counter()
    if args.only:
        return _only(args, started, repeat, sizes, compare_rounds, compare_import_rounds,
                     with_alternatives)

    results: dict = {"meta": _meta(
        quick, single_run=True, repeat=repeat, proc_repeat=proc_repeat,
        cold_repeat=cold_repeat, compare_rounds=compare_rounds,
        compare_import_rounds=compare_import_rounds, sizes=sizes,
        explore=not args.no_explore)}
    sym: dict = {}
    results["symsys"] = sym
    step = _stepper(results["meta"])

    step("startup: import, first solver import, cold CLI (fresh processes)")
    sym.update(measure_startup(proc_repeat))
    step("cold CLI per command and cold SensitivitySolver (fresh processes)")
    sym.update(measure_cold(QUICK_COMMANDS if quick else COMMANDS, cold_repeat))
    step("scalar solve and sensitivities")
    sym.update(measure_scalar(repeat))
    step("many devices and training")
    sym["scale"] = measure_scale(repeat)
    step("side by side: imports and in-process figures, round-robin")
    results["compare"], results["alternatives"] = _compare(
        with_alternatives, args.no_alternatives, compare_import_rounds, compare_rounds)
    step("compiled roofline and symsys.evaluate")
    sym["roofline"] = measure_roofline(repeat, sizes["roofline_points"])
    step(f"sweeps {sizes['sweep']}")
    sym["sweep"] = measure_sweeps(sizes["sweep"], repeat if quick else 5)
    step(f"tensor-parallel sweep {sizes['tp_sweep']:.0e} (tp x batch x context)")
    sym["tp_sweep"] = measure_tp_sweep(sizes["tp_sweep"], repeat if quick else 5)
    step(f"sweep memory {sizes['sweep_memory']} (fresh processes)")
    sym["sweep_memory"] = measure_memory(sizes["sweep_memory"])
    chunk_total, chunk_size = sizes["chunked_total"], sizes["chunk_size"]
    step(f"chunked {chunk_total:.0e} in chunks of {chunk_size:.0e}")
    one_chunk = sym["sweep_memory"].get(str(chunk_size), {}).get("tracemalloc_peak_bytes")
    sym["chunked"] = measure_chunked(chunk_total, chunk_size, one_chunk)
    if not args.no_explore:
        step(f"design space: numpy {sizes['explore_numpy']:.0e}, "
             f"Dask {sizes['explore_dask']:.0e}")
        sym["explore"] = measure_explore(sizes["explore_numpy"], sizes["explore_dask"])
    step("cold CLI breakdown")
    sym["cli_breakdown"] = measure_cli_breakdown(with_profile=not (args.no_profile or quick))

    from alternatives import agreement, symsys_case

    sym["case"] = symsys_case()
    results["agreement"] = agreement(sym["case"], results["alternatives"].get("mlsysim", {}),
                                     results["alternatives"].get("llm-analysis", {}))
    _finish(results, started)
    results["figures"] = figures_of(results)
    results["targets"] = check_targets(results)

    print(report(results))
    out = args.json or (PUBLISHED if args.readme else BENCH / "results" / "latest.json")
    _write(out, results)
    if args.readme:
        return _render_readme(out)
    return 0


def _stepper(meta: dict):
    load_by_step = meta["load_by_step"] = []

    def step(label):  # the machine may be shared: keep the load average beside each section
        load = os.getloadavg()[0]
        load_by_step.append([label, load,
                             datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")])
        print(f"[{time.strftime('%H:%M:%S')}] {label} (load {load:.2f})", file=sys.stderr,
              flush=True)

    return step


def _compare(with_alternatives: bool, no_alternatives: bool, import_rounds: int,
             rounds: int) -> tuple[dict, dict]:
    """The side-by-side section, and each alternative's status and results on the case."""
    tools = ["symsys", "mlsysim", "llm-analysis"] if with_alternatives else ["symsys"]
    compare = measure_compare(tools, import_rounds, rounds)
    reported = compare["inprocess"]["tools"]
    if with_alternatives:
        alternatives = {name: reported[name] for name in ("mlsysim", "llm-analysis")}
    else:
        reason = "skipped (--no-alternatives)" if no_alternatives else "skipped (--quick)"
        alternatives = {"mlsysim": {"status": reason}, "llm-analysis": {"status": reason}}
    return compare, alternatives


def _write(path: Path, results: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nJSON: {path}")


def _render_readme(path: Path) -> int:
    """README.md's Performance section rewritten from the saved full run ``path`` (refused
    unless it is one complete run); a JSON other than the committed one is then copied over
    it, so that the test comparing the README with that JSON compares the right pair."""
    results = json.loads(path.read_text())
    try:
        rewrite_readme(results, README)
    except NotPublishable as exc:
        raise SystemExit(f"{path}: {exc}") from None
    if path.resolve() != PUBLISHED.resolve():
        _write(PUBLISHED, results)
    print(f"README.md: Performance section rendered from {path}")
    return 0


def _only(args, started: float, repeat: int, sizes: dict, compare_rounds: int,
          compare_import_rounds: int, with_alternatives: bool) -> int:
    """``--only SECTION``: that section alone, printed and written to its own JSON (marked
    partial, so the README renderer refuses it). Nothing is merged into another run."""
    results: dict = {"meta": _meta(args.quick, only=args.only, repeat=repeat, sizes=sizes)}
    sym: dict = {}
    results["symsys"] = sym
    step = _stepper(results["meta"])
    step(f"only {args.only}")
    if args.only == "scale":
        sym["scale"] = measure_scale(repeat)
    elif args.only == "tp-sweep":
        sym["tp_sweep"] = measure_tp_sweep(sizes["tp_sweep"], repeat)
    elif args.only == "explore":
        sym["explore"] = measure_explore(sizes["explore_numpy"], sizes["explore_dask"])
    else:
        from alternatives import agreement, symsys_case

        results["compare"], results["alternatives"] = _compare(
            with_alternatives, args.no_alternatives, compare_import_rounds, compare_rounds)
        sym["case"] = symsys_case()
        sym["sensitivity_result"] = results["compare"]["inprocess"]["tools"]["symsys"].get(
            "sensitivity_result")
        results["agreement"] = agreement(sym["case"], results["alternatives"]["mlsysim"],
                                         results["alternatives"]["llm-analysis"])
    _finish(results, started)
    print(_only_text(results))
    _write(args.json or BENCH / "results" / f"only-{args.only}.json", results)
    return 0


def _only_text(results: dict) -> str:
    """The printed section of a ``--only`` run."""
    only, sym = results["meta"]["only"], results["symsys"]
    if only == "scale":
        from measure_scale import scale_table

        return scale_table(sym["scale"])
    if only == "tp-sweep":
        return tp_sweep_table(sym["tp_sweep"])
    if only == "explore":
        return explore_table(sym["explore"])
    from report_compare import agreement_report, side_by_side

    return side_by_side(results) + "\n\n" + agreement_report(results["agreement"])


if __name__ == "__main__":
    raise SystemExit(main())
