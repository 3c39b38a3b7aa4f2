"""Issue 25: kernels are keyed per law. Changing one law regenerates that law's shipped kernels
only, and adding a law (with a new symbol) regenerates none: the manifests of
``symsys/_kernels`` before and after ``python -m symsys.shipping`` are compared."""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import symsys

TOY_LAW = '''"""A law added by a test: t_toy = F / Pi + z_toy."""

from symsys.laws.base import Law
from symsys.symbols import F, Pi, z_toy, t_compute

toy = Law(name="toy", title="Toy", summary="A test's law.", inputs=(F, Pi, z_toy),
          definitions=((t_compute, F / Pi + z_toy),), latency=t_compute)
'''


def manifest(root: Path) -> dict[str, str]:
    """Every shipped kernel file (and SOURCES.json) by path, with the SHA-256 of its bytes."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_changing_one_law_and_adding_another_rewrites_only_the_changed_law(tmp_path):
    copy = tmp_path / "src"
    shutil.copytree(Path(symsys.__file__).parent, copy / "symsys",
                    ignore=shutil.ignore_patterns("__pycache__"))
    package = copy / "symsys"
    before = manifest(package / "_kernels")
    # 1. change one law: a fixed workload now pays two launches per batch
    workload = package / "laws" / "workload.py"
    text = workload.read_text()
    assert "(n_kern, sp.Integer(1))," in text
    workload.write_text(text.replace("(n_kern, sp.Integer(1)),", "(n_kern, sp.Integer(2)),"))
    # 2. add a law with a symbol of its own: three files (symbol, law module, registration)
    with (package / "symbols.py").open("a") as symbols:
        symbols.write('\nz_toy = _declare("z_toy", r"z_{toy}", "s", "a test\'s symbol")\n')
    (package / "laws" / "toy_law.py").write_text(TOY_LAW)
    init = package / "laws" / "__init__.py"
    text = init.read_text()
    init.write_text(text.replace("from symsys.laws.workload import fixed_workload\n",
                                 "from symsys.laws.workload import fixed_workload\n"
                                 "from symsys.laws.toy_law import toy\n")
                    .replace("                training)\n", "                training, toy)\n"))
    env = dict(os.environ, PYTHONPATH=str(copy), SYMSYS_CACHE_DIR=str(tmp_path / "cache"))
    result = subprocess.run([sys.executable, "-m", "symsys.shipping"], env=env,
                            cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "written: 1 law(s): fixed_workload" in result.stdout, result.stdout
    after = manifest(package / "_kernels")
    changed = {path for path in before.keys() | after.keys()
               if before.get(path) != after.get(path)}
    assert changed and all(path.startswith("fixed_workload/") for path in changed), changed
    assert "fixed_workload/SOURCES.json" in changed
    # the kernels whose expressions involve the launch count, and no other: the rest of the
    # law's folder was compiled afresh and came out byte-identical
    assert any(path.endswith(".kernel") for path in changed)
