"""The symbolic pipeline of one law, stage by stage (issue 25): where the time of compiling a
law's kernels goes, so that CSE, symengine or caching are chosen on measurements.

    python benchmarks/measure_pipeline.py                  # a few laws, a fresh process each
    python benchmarks/measure_pipeline.py decode_pp        # one law

Stages, each timed in a fresh interpreter (sympy's caches start empty, as in a cold compile):
import (the laws and the calculus), flatten (every output as an expression of the inputs),
differentiate (the exact one-sided derivative of the latency in every lever), solve (the
closed-form inverse of the latency in the first lever), lambdify (the numpy source of all of
them, ``cse=True``) and write (a kernel file with its hash). Prints one table; nothing is
cached on disk.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LAWS = ("roofline", "decode", "decode_tp", "decode_pp", "training")

PROBE = r"""
import json, sys, time, tempfile
t0 = time.perf_counter()
from symsys.laws import get
from symsys import kernel_source as K
from symsys.compile import compile_exprs
law = get(sys.argv[1])
stages = {"import": time.perf_counter() - t0}

def timed(name, specs):
    start = time.perf_counter()
    exprs, args, outputs = K.expressions_of(law, tuple(specs), None)
    stages[name] = time.perf_counter() - start
    return list(exprs), list(args)

latency = law.latency.name
levers = [x.name for x in law.levers]
exprs, args = timed("flatten", ["*"])
d_exprs, d_args = timed("differentiate", [f"d:right:{x}:{latency}" for x in levers])
i_exprs, i_args = timed("solve", [f"inverse:{levers[0]}:{latency}"])
every = exprs + d_exprs + i_exprs
symbols = sorted({*args, *d_args, *i_args}, key=lambda s: s.name)
start = time.perf_counter()
compiled = compile_exprs(every, symbols)
source = compiled.source
stages["lambdify"] = time.perf_counter() - start
start = time.perf_counter()
with tempfile.TemporaryDirectory() as folder:
    import hashlib, pathlib
    data = source.encode()
    (pathlib.Path(folder) / "k.py").write_bytes(hashlib.sha256(data).hexdigest().encode() + data)
stages["write"] = time.perf_counter() - start
print(json.dumps({"law": law.name, "levers": len(levers), "outputs": len(exprs),
                  "source_kB": len(source) / 1e3, "stages": stages}))
"""


def measure(law: str) -> dict:
    """The stage times of ``law`` from a fresh interpreter."""
    result = subprocess.run([sys.executable, "-c", PROBE, law], capture_output=True, text=True,
                            cwd=REPO, timeout=1800, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def table(rows: list[dict]) -> str:
    stages = ("import", "flatten", "differentiate", "solve", "lambdify", "write")
    header = ["law", "levers", *stages, "total", "source"]
    lines = ["  ".join(f"{h:>13}" for h in header)]
    for row in rows:
        times = [row["stages"][s] for s in stages]
        cells = [row["law"], str(row["levers"]), *(f"{t:.2f} s" for t in times),
                 f"{sum(times):.2f} s", f"{row['source_kB']:.0f} kB"]
        lines.append("  ".join(f"{c:>13}" for c in cells))
    return "\n".join(lines)


if __name__ == "__main__":
    print(table([measure(law) for law in (sys.argv[1:] or LAWS)]))
