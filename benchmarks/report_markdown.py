"""The README's Performance section, regenerated from a saved run (``run.py --markdown``)."""

from __future__ import annotations

import textwrap

from report import report_sections

REPRODUCE = ('python3 -m venv .venv && .venv/bin/pip install -q -e ".[bench]" && '
             '.venv/bin/python benchmarks/run.py')


def markdown(results: dict) -> str:
    """The README's Performance section for a saved run (between markers, regenerable)."""
    sec = report_sections(results)
    meta = results["meta"]
    load = f"{meta['loadavg_before'][0]:.1f} -> {meta['loadavg_after'][0]:.1f}"

    def prose(*pieces: str) -> str:
        return textwrap.fill("".join(pieces), width=96)

    text = [
        "<!-- performance:start -->",
        "## Performance",
        "",
        prose(f"Measured by `benchmarks/run.py` on {meta['timestamp'][:10]} ({meta['python']}, "
        f"{meta['cpus']} CPUs, numpy {meta['numpy']}, sympy {meta['sympy']}, pint "
        f"{meta['pint']}; git {meta['git']}). Every figure is a median: "
        f"{meta['proc_repeat']} fresh processes for import and CLI times, "
        f"{meta['repeat']} repeats after warm-up in process. The development machine is "
        f"shared (load average {load} on 2 cores during this run), so wall-clock figures "
        "include other processes' load; the CPU-time column is what symsys itself spent. "
        "To reproduce (the `bench` extra installs mlsysim 0.3.0 and llm-analysis beside "
        "symsys; without them the runner reports them \"not installed\"):"),
        "",
        "```bash",
        REPRODUCE,
        "```",
        "",
        prose("It prints every table below (and the cold-CLI breakdown) and writes "
              "`benchmarks/results/latest.json`; `--quick` is the smoke run the tests use, "
              "and `--markdown JSON` regenerates this section from a saved run."),
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
    if "explore" in sec:
        text += [prose("Design-space exploration (`symsys.sweep(..., backend=\"dask\")` "
                       "reduced by `symsys.solvers.reduce`): the numpy path folds chunks of "
                       "1e6 in one process; the Dask path runs blocks of ~2e6 on a "
                       "LocalCluster of this machine's cores, the grid never held whole, "
                       "and gives the same answer on the smaller grid. Reproduce with "
                       "`benchmarks/run.py --only explore --update JSON`:"), "",
                 "```text", sec["explore"], "```", ""]
    if "scale" in sec:
        text += [prose("Many devices and training (reproduce with `benchmarks/run.py --only "
                       "scale --update JSON`):"), "", "```text", sec["scale"], "```", ""]
    text += [
        "Side by side on the same case, in the same run (ratio = other / symsys):", "",
        "```text", sec["side_by_side"], "```", "",
    ]
    if "agreement" in sec:
        text += [prose("Where the physics agrees, the numbers agree; the differences are "
                       "accounted for term by term:"), "", "```text", sec["agreement"], "```",
                 ""]
    text += ["```text", sec["targets"], "```", "<!-- performance:end -->"]
    return "\n".join(text) + "\n"

