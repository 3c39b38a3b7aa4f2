"""The kernel disk cache: a cold process answers without sympy, and gets the same numbers."""

import os
import subprocess
import sys

import pytest

from symsys import kernels

PROBE = (
    "import sys, symsys; r = symsys.Engine.solve('Llama3_8B', 'H100'); "
    "print(repr(r.latency.m_as('s')), 'sympy' in sys.modules)"
)


def run_probe(cache, shipped=True):
    env = dict(os.environ, SYMSYS_CACHE_DIR=str(cache))
    if not shipped:
        env["SYMSYS_NO_SHIPPED"] = "1"
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         env=env, timeout=120, check=True).stdout.split()
    return float(out[0]), out[1] == "True"


def test_a_warm_cache_answers_without_sympy_and_with_the_same_number(tmp_path):
    cold_latency, cold_used_sympy = run_probe(tmp_path, shipped=False)
    assert cold_used_sympy  # the first process compiles the laws
    warm_latency, warm_used_sympy = run_probe(tmp_path, shipped=False)
    assert not warm_used_sympy
    # 2 B x (all weights - input table + one looked-up row) + one token's K/V, at 3.35 TB/s
    assert warm_latency == cold_latency == pytest.approx(15_009_988_608 / 3.35e12, rel=1e-12)
    cached = list((tmp_path / kernels.fingerprint()).glob("*.py"))
    assert {p.name for p in cached} >= {"decode.scalar.py", "transformer_parameters.scalar.py"}


def test_cached_source_is_the_code_that_runs(tmp_path, monkeypatch):
    import sympy as sp

    monkeypatch.setenv("SYMSYS_CACHE_DIR", str(tmp_path))
    x = sp.Symbol("x", positive=True)
    built = kernels.kernel("test-square", lambda: ([x**2, sp.Max(x, 3)], (x,), ["sq", "mx"]),
                           scalar=True)
    kernels._MEMORY.clear()
    loaded = kernels.kernel("test-square", lambda: pytest.fail("should load from disk"),
                            scalar=True)
    assert loaded.source == built.source
    assert loaded.named({"x": 2.0}) == {"sq": 4.0, "mx": 3}
    assert loaded.args == ("x",) and loaded.outputs == ("sq", "mx")


def test_fingerprint_covers_the_laws():
    assert len(kernels.fingerprint()) == 16
    assert "laws" in kernels._SOURCES and "symbols.py" in kernels._SOURCES


def test_shipped_kernels_are_current():
    shipped = [p for p in kernels.SHIPPED.iterdir() if p.is_dir()]
    assert [p.name for p in shipped] == [kernels.fingerprint()], (
        "symsys/_kernels is stale: run `python -m symsys.kernels` (laws or the compiler changed)")
    names = {p.stem for p in shipped[0].glob("*.kernel")}
    assert {"decode.scalar", "prefill.scalar", "transformer_parameters.scalar",
            "decode_sums.scalar"} <= names


def test_first_process_after_install_needs_no_sympy(tmp_path):
    # an empty user cache: the answer comes from the kernels shipped in the package
    latency, used_sympy = run_probe(tmp_path)
    assert not used_sympy
    assert latency == pytest.approx(15_009_988_608 / 3.35e12, rel=1e-12)
