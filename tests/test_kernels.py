"""The one compile path: kernels keyed by what they compute, cached on disk and shipped; a cold
process answers without sympy, and a changed expression can never reuse an old kernel."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

import symsys
from symsys import kernels
from symsys.laws import Law
from symsys.symbols import F, Pi, T, t_compute

PROBE = (
    "import sys, symsys; r = symsys.Engine.solve('Llama3_8B', 'H100'); "
    "print(repr(r.latency.m_as('s')), 'sympy' in sys.modules)"
)
# 2 B x (all weights - input table + one looked-up row) + one token's K/V, at 3.35 TB/s
LLAMA3_8B_H100 = 15_009_988_608 / 3.35e12


def run(code, cache, shipped=True, pythonpath=None):
    env = dict(os.environ, SYMSYS_CACHE_DIR=str(cache))
    if not shipped:
        env["SYMSYS_NO_SHIPPED"] = "1"
    if pythonpath:
        env["PYTHONPATH"] = str(pythonpath)
    Path(cache).mkdir(parents=True, exist_ok=True)  # also the working directory: not the
    # repository's, whose symsys/ would shadow a copy given on PYTHONPATH
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=300, check=True, cwd=cache).stdout.split()


def run_probe(cache, shipped=True, pythonpath=None):
    out = run(PROBE, cache, shipped, pythonpath)
    return float(out[0]), out[1] == "True"


def test_a_warm_cache_answers_without_sympy_and_with_the_same_number(tmp_path):
    cold_latency, cold_used_sympy = run_probe(tmp_path, shipped=False)
    assert cold_used_sympy  # the first process compiles the laws
    warm_latency, warm_used_sympy = run_probe(tmp_path, shipped=False)
    assert not warm_used_sympy
    assert warm_latency == cold_latency == pytest.approx(LLAMA3_8B_H100, rel=1e-12)
    cached = {p.name.split(".")[0] for p in (tmp_path / "kernels").glob("*/*.py")}
    assert {"decode", "transformer_parameters", "attention_gqa"} <= cached
    # one folder per law and hash of its sources
    assert (tmp_path / "kernels" / f"decode-{kernels.law_hash('decode')}").is_dir()


def _law():
    return Law("square_test", "t", "s", inputs=(F, Pi),
               definitions=((t_compute, F / Pi), (T, sp.Max(t_compute, 3))))


def test_a_user_law_is_keyed_by_its_expressions_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMSYS_CACHE_DIR", str(tmp_path))
    built = kernels.kernel(_law(), ("T", "t_compute"), scalar=True)
    kernels._MEMORY.clear()
    loaded = kernels.kernel(_law(), ("T", "t_compute"), scalar=True)  # from disk
    assert loaded.source == built.source
    assert loaded.named({"F": 8.0, "Pi": 2.0}) == {"T": 4.0, "t_compute": 4.0}
    assert loaded.args == ("Pi", "F") and loaded.outputs == ("T", "t_compute")
    changed = Law("square_test", "t", "s", inputs=(F, Pi),
                  definitions=((t_compute, 2 * F / Pi), (T, sp.Max(t_compute, 3))))
    other = kernels.kernel(changed, ("T", "t_compute"), scalar=True)
    assert other.name != built.name  # same law name and specs, new expressions: new kernel
    assert other.named({"F": 8.0, "Pi": 2.0})["T"] == 8.0


def test_the_key_covers_the_specs_and_the_variant():
    a = kernels.kernel("decode", ("T",), "dense", scalar=True)
    b = kernels.kernel("decode", ("T", "M"), "dense", scalar=True)
    c = kernels.kernel("decode", ("T",), None, scalar=True)
    assert len({a.name, b.name, c.name}) == 3


def test_each_law_is_keyed_by_the_files_that_decide_its_kernels():
    from symsys.laws import ALL

    core = ("compile.py", "derive.py", "kernel_source.py")
    assert kernels.law_sources("roofline") == (*core, "laws/base.py", "laws/roofline.py")
    assert kernels.law_sources("decode_tp") == (
        *core, "laws/base.py", "laws/collectives.py", "laws/inference.py", "laws/parallel.py",
        "laws/roofline.py")
    # kernels.py (where kernels are kept and how they are checked), the symbol table and
    # laws/__init__.py (where a new law is registered) are in no law's hash
    for name, law in ALL.items():
        sources = kernels.law_sources(name)
        assert not {"kernels.py", "symbols.py", "laws/__init__.py"} & set(sources)
        module = sources[-1] if name not in kernels._law_modules() else \
            f"laws/{kernels._law_modules()[name]}.py"
        assert module in sources
        # the module named really holds the law (read as text, checked here with the import)
        defining = __import__(f"symsys.laws.{kernels._law_modules()[name]}", fromlist=["x"])
        assert getattr(defining, name) is law, name
    assert len({kernels.law_hash(name) for name in ALL}) > 10


def test_shipped_kernels_are_current():
    from symsys.laws import ALL

    folders = sorted(p for p in kernels.SHIPPED.iterdir() if p.is_dir())
    assert {p.name for p in folders} <= set(ALL)
    assert sum(len(list(p.glob("*.kernel"))) for p in folders) > 100
    for folder in folders:
        law = ALL[folder.name]
        assert kernels.shipped_is_current(law.name), (
            f"symsys/_kernels/{law.name} is stale: run `python -m symsys.shipping` (the "
            "law, a law it imports or the compiler changed)")
        recorded = json.loads((folder / "SOURCES.json").read_text())
        assert recorded["symbols"] == kernels.symbols_hash(law), (
            f"the symbols of {law.name} changed: run `python -m symsys.shipping`")
        assert recorded["files"] == list(kernels.law_sources(law.name))


@pytest.mark.slow
def test_shipped_kernels_compute_what_the_laws_say_now():
    """Each shipped kernel records the hash of its expressions: recompute a spread of them from
    the laws now (symbolic work: the slow tier)."""
    # per law, the smallest kernel of plain outputs (no derivative, root or inverse: cheap to
    # derive again). The per-law source and symbol hashes above are the everyday check; this
    # one checks that they are a sound key.
    files = []
    for folder in sorted(kernels.SHIPPED.iterdir()):
        plain = [p for p in folder.glob("*.kernel") if ":" not in _specs(p)]
        files += [min(plain, key=lambda p: p.stat().st_size)] if plain else []
    assert len(files) > 20
    for path in files:
        kernel = kernels._read(path.stem, path)
        assert kernel is not None, path.name  # its SHA-256 header holds
        recorded = kernel.source.split("EXPR_HASH = ")[1].split("\n")[0].strip("'")
        assert kernels.expression_hash(kernel) == recorded, path.name


def _specs(path) -> str:
    """The SPECS line of a kernel file."""
    return next(line for line in path.read_text().splitlines() if line.startswith("SPECS = "))


def test_first_process_after_install_needs_no_sympy(tmp_path):
    # an empty user cache: the answer comes from the kernels shipped in the package
    latency, used_sympy = run_probe(tmp_path)
    assert not used_sympy
    assert latency == pytest.approx(LLAMA3_8B_H100, rel=1e-12)


def test_changing_an_expression_invalidates_the_shipped_kernels(tmp_path):
    # a copy of the package whose decode law reads every weight twice
    copy = tmp_path / "src"
    shutil.copytree(Path(symsys.__file__).parent, copy / "symsys",
                    ignore=shutil.ignore_patterns("__pycache__"))
    law = copy / "symsys" / "laws" / "inference.py"
    text = law.read_text()
    assert "_WEIGHTS_READ = bytes_w * (" in text
    law.write_text(text.replace("_WEIGHTS_READ = bytes_w * (", "_WEIGHTS_READ = 2 * bytes_w * ("))
    latency, used_sympy = run_probe(tmp_path / "cache", pythonpath=copy)
    assert used_sympy  # the shipped kernels were not used: they were built from the old law
    weights = 15_009_857_536  # the step's weight bytes, now read twice
    assert latency == pytest.approx((LLAMA3_8B_H100 * 3.35e12 + weights) / 3.35e12, rel=1e-12)


def test_a_cold_sensitivity_solve_does_not_import_sympy(tmp_path):
    code = ("import sys, symsys; s = symsys.SensitivitySolver().solve('Llama3_8B', 'H100'); "
            "print(s.binding_constraint, 'sympy' in sys.modules)")
    assert run(code, tmp_path) == ["memory_bandwidth", "False"]


def test_array_kernels_take_duck_arrays_lazily():
    dask = pytest.importorskip("dask.array")
    fn = kernels.kernel("roofline", ("T", "I_ridge"))
    F = dask.from_array([1e12, 1e15], chunks=1)
    assert fn.args == ("Pi", "beta", "F", "Q", "eta_c", "eta_m", "t_o")
    out = fn(989.4e12, 3.35e12, F, 1e9, 1.0, 1.0, 0.0)
    assert all(hasattr(o, "dask") for o in out)  # still lazy
    assert out[0].compute() == pytest.approx([1e12 / 989.4e12, 1e15 / 989.4e12])
    assert out[1].compute() == pytest.approx([989.4 / 3.35] * 2)
