"""The README's Performance section, rendered from ONE saved run and nothing else.

``python benchmarks/run.py --readme`` measures everything in one process tree, writes the
committed ``benchmarks/performance.json`` and rewrites README.md between the markers below
from it; ``--render-readme`` does the rewrite alone; ``--markdown JSON`` prints the section.
Every figure and ratio in the section, prose included, is formatted here from the JSON: a test
(``tests/test_benchmarks_smoke.py``) checks that the README's section is exactly
``markdown(performance.json)``. A run that is not one complete run (``--quick``, ``--only``,
or a JSON merged from several runs, as the former ``--update`` wrote) is refused.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from measure_explore import EXAMPLE_GRID
from report import report_sections

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
#: the run the README's Performance section is rendered from (committed)
PUBLISHED = REPO / "benchmarks" / "performance.json"
START, END = "<!-- performance:start -->", "<!-- performance:end -->"
REPRODUCE = ('python3 -m venv .venv && .venv/bin/pip install -q -e ".[bench]" && '
             '.venv/bin/python benchmarks/run.py --readme')
#: what one complete run measures: the sections of ``results["symsys"]`` the section renders
REQUIRED = ("python_startup_s", "import_s", "engine_import_s", "cold_cli_s", "solve_s",
            "solve_quantity_s", "sensitivities_s", "sensitivity_result", "cold_cli_commands",
            "scale", "roofline", "sweep", "tp_sweep", "sweep_memory", "chunked", "explore",
            "cli_breakdown", "case")


class NotPublishable(ValueError):
    """The JSON is not one complete run, so the README may not be rendered from it."""


def problems(results: dict, allow_quick: bool = False) -> list[str]:
    """Why ``results`` may not be the README's run (empty: it may)."""
    meta = results.get("meta", {})
    out = []
    if meta.get("only"):
        out.append(f"a partial run (--only {meta['only']})")
    if not meta.get("single_run") or "run_id" not in meta:
        out.append("not stamped as one complete run (written before issue 24, or merged)")
    if meta.get("quick") and not allow_quick:
        out.append("a --quick run (tiny sizes)")
    sym = results.get("symsys", {})
    merged = [k for k, v in sym.items() if isinstance(v, dict) and "measured" in v]
    if merged:
        out.append("sections merged in from other runs: " + ", ".join(merged))
    missing = [k for k in REQUIRED if k not in sym]
    missing += [k for k in ("compare", "alternatives", "agreement", "targets")
                if k not in results]
    if missing:
        out.append("sections missing: " + ", ".join(missing))
    if "loadavg_after" not in meta:
        out.append("no load average after the run")
    return out


def _n(count: int, noun: str) -> str:
    """``1 round``, ``9 rounds``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _e(value: float) -> str:
    """``1e9``, ``2e6``: a size as the runner's options spell it."""
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _versions(results: dict) -> str:
    meta, alt = results["meta"], results["alternatives"]
    tools = []
    for name in ("mlsysim", "llm-analysis"):
        a = alt.get(name, {})
        tools.append(f"{name} {a['version']}" if a.get("status") == "ok"
                     else f"{name} {a.get('status', 'not run')}")
    return (f"{meta['python']}, numpy {meta['numpy']}, sympy {meta['sympy']}, pint "
            f"{meta['pint']}, dask {meta.get('dask')}; " + ", ".join(tools))


def _machine(meta: dict) -> str:
    cpu = f"{meta['cpu_model']}, " if meta.get("cpu_model") else ""
    memory = (f", {meta['memory_bytes'] / 2**30:.0f} GiB" if meta.get("memory_bytes") else "")
    loads = [load for _, load, *_ in meta.get("load_by_step", [])]
    peak = f", {max(loads):.1f} at most at a section's start" if loads else ""
    return (f"{meta['machine']}, {cpu}{meta['cpus']} CPUs{memory}; load average "
            f"{meta['loadavg_before'][0]:.1f} before the run, {meta['loadavg_after'][0]:.1f} "
            f"after{peak}")


def markdown(results: dict, allow_quick: bool = False) -> str:
    """The README's Performance section of one complete run (between its markers)."""
    found = problems(results, allow_quick)
    if found:
        raise NotPublishable("; ".join(found))
    sec = report_sections(results)
    meta = results["meta"]
    compare = results["compare"]
    imports = compare.get("imports") or {}
    minutes = meta.get("run_seconds", 0) / 60

    def prose(*pieces: str) -> str:
        return textwrap.fill("".join(pieces), width=96)

    text = [
        START,
        "## Performance",
        "",
        prose(f"Every figure below, ratios included, comes from one run, `{meta['command']}` "
              f"({minutes:.1f} min), on {meta['timestamp'][:16].replace('T', ' ')} "
              f"UTC at git {meta['git']}: {_versions(results)}; {_machine(meta)}. "
              f"Every figure is a median: {meta['proc_repeat']} fresh "
              f"process{'es' if meta['proc_repeat'] != 1 else ''} "
              f"for import and CLI times, {_n(meta['repeat'], 'repeat')} after warm-up in "
              "process. Wall-clock "
              "figures include whatever else the machine ran; the CPU-time columns are what "
              "the measured process itself spent. To reproduce (the `bench` extra installs "
              "mlsysim 0.3.0 and llm-analysis beside symsys; without them the runner reports "
              "them \"not installed\"):"),
        "",
        "```bash",
        REPRODUCE,
        "```",
        "",
        prose("It measures everything in one process tree, prints every table below (and "
              "the cold-CLI breakdown), writes `benchmarks/performance.json` and renders this "
              "section from that JSON alone (`git diff README.md` then shows what moved; a "
              "test checks that the section is exactly what the JSON renders). Without "
              "`--readme` the JSON goes to `benchmarks/results/latest.json` and the README "
              "is left alone; `--markdown JSON` prints the section of a saved run and refuses "
              "a `--quick` run, a single section (`--only`) or a merge of several runs."),
        "",
        "```text", sec["symsys"], "```", "",
    ]
    if "cold_cli" in sec:
        cold = results["symsys"]["cold_cli_commands"]
        runs = f"{cold['repeat']} fresh process{'es' if cold['repeat'] != 1 else ''} each"
        text += [prose(f"Cold start of each CLI command ({runs}, run round-robin) beside a "
                       "cold `symsys solve`, and whether the process imported sympy:"), "",
                 "```text", sec["cold_cli"], "```", ""]
    text += [
        "```text", sec["sweep"] + ("\n\n" + sec["chunked"] if "chunked" in sec else ""),
        "```", "",
    ]
    if "tp_sweep" in sec:
        text += ["```text", sec["tp_sweep"], "```", ""]
    e = results["symsys"]["explore"]
    dask = e["dask"]
    text += [prose(
        "Design-space exploration (`symsys.sweep(..., backend=\"dask\")` reduced by "
        f"`symsys.sweeps.reduce`): the numpy path folds chunks of "
        f"{_e(e['numpy']['chunk_size'])} in one process; the Dask path runs "
        f"{dask['blocks']:,} blocks of ~{_e(dask['chunk_size'])} on a LocalCluster of this "
        f"machine's cores, the grid never held whole, and gives the same answer on the "
        f"smaller grid. This run's Dask grid is {_e(dask['configurations'])} configurations, "
        f"so that the whole run fits in about 10 minutes; the {_e(EXAMPLE_GRID)}-configuration "
        "grid of \"Exploring a design space\" is `python benchmarks/run.py --only explore "
        f"--explore-dask {_e(EXAMPLE_GRID)}` (about "
        f"{EXAMPLE_GRID / dask['configs_per_s'] / 60:.0f} min at this run's rate; it writes "
        "its own JSON, never this section's):"), "",
        "```text", sec["explore"], "```", ""]
    text += [prose("Many devices and training (in process, after warm-up):"), "",
             "```text", sec["scale"], "```", ""]
    inproc = compare.get("inprocess") or {}
    text += [
        prose("Side by side on the same case, in the same run, measured round-robin: the "
              f"imports in {_n(imports.get('rounds', 0), 'round')} of fresh processes, the "
              f"solves in {_n(inproc.get('rounds', 0), 'round')} inside one process, every "
              "tool once per "
              "round in rotating order after its first calls; a ratio is the median of the "
              "per-round ratios, IQR their interquartile range:"), "",
        "```text", sec["side_by_side"], "```", "",
    ]
    if "agreement" in sec:
        text += [prose("Where the physics agrees, the numbers agree; the differences are "
                       "accounted for term by term:"), "", "```text", sec["agreement"], "```",
                 ""]
    text += ["```text", sec["targets"], "```", END]
    return "\n".join(text) + "\n"


def readme_block(text: str) -> str:
    """The Performance section of README text, markers included (with its final newline)."""
    start = text.index(START)
    end = text.index(END, start) + len(END)
    return text[start:end] + "\n"


def rewrite_readme(results: dict, path: Path = README, allow_quick: bool = False) -> None:
    """Replace the Performance section of ``path`` by ``markdown(results)``; the rest of the
    file is left as it is."""
    section = markdown(results, allow_quick=allow_quick)
    text = path.read_text()
    old = readme_block(text)
    path.write_text(text.replace(old, section, 1))
