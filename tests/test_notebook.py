"""The notebook tutorial runs headless, top to bottom, and its asserts hold.

``examples/tutorial.ipynb`` is committed without outputs (so it never shows stale numbers);
this test executes it with nbclient on a kernel running this interpreter, so a change that
breaks a cell or moves an asserted value fails here. nbclient and ipykernel come with the dev
extra: if they are missing the test errors, it is never skipped.
"""

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow  # executes the tutorial notebook in a kernel

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "tutorial.ipynb"
KERNEL = "symsys-tests"
TIMEOUT = 180  # seconds per cell; the whole notebook takes a few seconds


def test_notebook_is_committed_without_outputs():
    for cell in json.loads(NOTEBOOK.read_text())["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, cell["source"]


def test_notebook_runs_headless(tmp_path, monkeypatch):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # the kernel is this interpreter (the venv's), whatever kernels the machine has installed:
    # a kernel spec of its own, first on JUPYTER_PATH
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "symsys tests", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # Agg, inline
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # silence debugpy's notice
    client = NotebookClient(nb, timeout=TIMEOUT, kernel_name=KERNEL,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError at the first failing cell
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "4.481 ms Memory" in text  # the solve cell printed the asserted latency
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the figure was drawn
