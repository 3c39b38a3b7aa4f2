"""The kernels shipped in the package: what they are, and how ``symsys/_kernels/`` is rebuilt.

``python -m symsys.shipping`` runs every example of the commands' help (``symsys CMD --help``:
what the CLI documents) and the solves of :func:`symsys.warm_up.warm_up` (what the
public solvers and the README's examples need), in a scratch cache, and ships every kernel of
a law of the package they asked for. It rewrites only the folders of laws whose sources,
symbols or requested kernels changed (``--all``: compile everything afresh), so adding or
changing one law touches that law's files only. ``tests/test_cli_examples.py`` runs every
example with sympy made unimportable on an empty user cache: none compiles on first use.

This module sits with the command line (it runs the CLI's examples), above the solvers.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from symsys import kernels

#: examples that print a derivation: they need sympy by design (the LaTeX comes from it)
NEEDS_SYMPY = ("derive", "--derivation")


def answered_examples() -> list[list[str]]:
    """The CLI's documented examples that answer with numbers (no derivation printed)."""
    from symsys.cli import examples

    return [argv for argv in examples() if not set(NEEDS_SYMPY) & set(argv)]


def run_examples() -> list[tuple[list[str], int, str]]:
    """Run :func:`answered_examples` in-process in a scratch directory (their figures are
    written there): ``(argv, exit code, stderr)`` for each."""
    from symsys.cli import main

    outcomes = []
    with tempfile.TemporaryDirectory() as scratch, contextlib.chdir(scratch):
        for argv in answered_examples():
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(argv)
            outcomes.append((argv, code, err.getvalue()))
    return outcomes


def request_all() -> None:
    """Ask for every kernel that ships: the CLI's examples, then the solver warm-up."""
    import matplotlib

    from symsys.warm_up import warm_up

    matplotlib.use("Agg")
    failed = [(argv, code, err) for argv, code, err in run_examples() if code != 0]
    if failed:
        raise SystemExit(f"CLI examples failed: {failed}")
    warm_up()


def dump(folder: str) -> None:
    """Write every kernel of a law of the package this process holds to
    ``folder/<law>/<key>.kernel`` (what :func:`build_shipped` ships)."""
    for key, law in kernels._SHIPPABLE.items():
        target = Path(folder) / law / f"{key}.kernel"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(kernels.file_bytes(kernels._MEMORY[key]))


def _record(law) -> dict:
    """What ``SOURCES.json`` says of a law's shipped kernels: the hashes they were built under."""
    return {"law": law.name, "sources": kernels.law_hash(law.name),
            "symbols": kernels.symbols_hash(law), "files": list(kernels.law_sources(law.name))}


def _current(law) -> bool:
    try:
        recorded = json.loads((kernels.SHIPPED / law.name / "SOURCES.json").read_text())
    except (OSError, ValueError):
        return False
    return recorded == _record(law)


def build_shipped(everything: bool = False) -> dict[str, str]:
    """Bring ``symsys/_kernels/`` up to date with :func:`request_all`, law by law.

    A law whose sources and symbols are unchanged keeps its shipped kernels (a scratch run of
    the warm-up reads them instead of compiling); a law that changed, or whose requested
    kernels changed, gets its folder rewritten from a fresh compile; a law no longer requested
    loses its folder. ``everything=True`` compiles every kernel afresh. Returns what happened
    to each law: "kept", "written" or "removed"."""
    from symsys.laws import ALL

    stale = [name for name, law in ALL.items() if everything or not _current(law)]
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "out"
        code = ("from symsys import kernels; from symsys.shipping import request_all, dump; "
                f"kernels._SHIPPED_CURRENT.update(dict.fromkeys({stale!r}, False)); "
                f"request_all(); dump({str(out)!r})")
        env = dict(os.environ, SYMSYS_CACHE_DIR=str(Path(scratch) / "cache"))
        subprocess.run([sys.executable, "-c", code], env=env, check=True)
        wanted = {folder.name: {p.name: p.read_bytes() for p in folder.glob("*.kernel")}
                  for folder in out.iterdir()}
    outcome = {}
    for name, files in sorted(wanted.items()):
        folder = kernels.SHIPPED / name
        shipped = {p.name: p.read_bytes() for p in folder.glob("*.kernel")}
        if shipped == files and _current(ALL[name]):
            outcome[name] = "kept"
            continue
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for file_name, data in files.items():
            (folder / file_name).write_bytes(data)
        (folder / "SOURCES.json").write_text(json.dumps(_record(ALL[name]), indent=1) + "\n")
        outcome[name] = "written"
    for folder in kernels.SHIPPED.iterdir():
        if folder.is_dir() and folder.name not in wanted:
            shutil.rmtree(folder)
            outcome[folder.name] = "removed"
    write_step_roles()
    return outcome


def write_step_roles() -> None:
    """Write the step laws' roles, which the front ends choose laws by without sympy
    (:data:`symsys.solvers.steps.INDEX`)."""
    from symsys.laws import ALL
    from symsys.solvers.steps import INDEX, roles_of_laws

    INDEX.write_text(json.dumps(roles_of_laws(ALL), indent=1) + "\n")


if __name__ == "__main__":
    result = build_shipped(everything="--all" in sys.argv[1:])
    for state in ("written", "removed", "kept"):
        laws = sorted(name for name, done in result.items() if done == state)
        print(f"{state}: {len(laws)} law(s)" + (f": {', '.join(laws)}" if laws else ""))
