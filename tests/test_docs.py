"""The documentation site builds with every warning an error, and covers the public API.

``mkdocs build --strict`` renders the API reference from the docstrings (mkdocstrings), the
README, the derivation documents and the notebook tutorial; a docstring the parser cannot read,
a broken link or a missing page fails here. mkdocs comes with the dev extra: if it is missing
the test errors, it is never skipped.
"""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

import symsys
from symsys.laws import ALL

ROOT = Path(__file__).resolve().parents[1]
API = ROOT / "docs" / "api"


def _extension():
    path = ROOT / "docs" / "griffe_docstrings.py"
    spec = importlib.util.spec_from_file_location("griffe_docstrings", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                          str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    return out


@pytest.mark.slow
def test_docs_build_strict(site):
    for page in ("index.html", "readme/index.html", "tutorial/index.html", "tutorial.ipynb",
                 "derivations/index.html", "derivations/decode/index.html",
                 *(f"api/{p.stem}/index.html" for p in API.glob("*.md"))):
        assert (site / page).is_file(), page
    tutorial = (site / "tutorial" / "index.html").read_text()
    assert "Engine.solve" in tutorial and "plot_roofline" in tutorial  # the notebook's cells


@pytest.mark.slow
def test_api_reference_renders_the_public_api(site):
    html = "".join(p.read_text() for p in (site / "api").glob("*/index.html"))
    anchors = set(re.findall(r'id="(symsys[\w.]*)"', html))
    for name in symsys.__all__:
        if name in ("__version__", "ureg", "Q_", "Quantity"):
            continue
        obj = getattr(symsys, name)
        path = f"{obj.__module__}.{obj.__qualname__}" if hasattr(obj, "__qualname__") else None
        if path is None:  # a zoo instance: documented as its module's attribute
            path = f"{type(obj).__module__.rsplit('.', 1)[0]}.{name.lower()}.{name}"
        assert path in anchors, f"symsys.{name} ({path}) is not in the API reference"
    assert "symsys.units.Q_" in anchors


@pytest.mark.slow
def test_every_law_is_on_the_laws_page_with_its_derivation(site):
    html = (site / "api" / "laws" / "index.html").read_text()
    for name in ALL:
        assert f"<code>{name}</code>" in html, name
        if (ROOT / "derivations" / f"{name}.md").exists():
            assert f'href="../../derivations/{name}/"' in html, name


def test_parameters_rewrite():
    ext = _extension()
    text = ("Solve.\n\nParameters\n----------\nmodel, hardware : registry entries.\n"
            "n : int\n    How many.\nbatch_size, precision,\nseq_len : as for\n"
            "Engine.solve (and more).\nlever : one of memory_bandwidth (default),\n"
            "    peak_flops.\n\nReturns\n-------\nint\n    A count.")
    assert ext.numpy_parameters(text) == (
        "Solve.\n\nParameters\n----------\nmodel, hardware\n    registry entries.\n"
        "n : int\n    How many.\nbatch_size, precision, seq_len\n    as for\n"
        "    Engine.solve (and more).\nlever\n    one of memory_bandwidth (default),\n"
        "    peak_flops.\n\nReturns\n-------\nint\n    A count.")
