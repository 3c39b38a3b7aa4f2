"""Compiled kernels by name, cached on disk, so a cold process answers without sympy.

``kernel(name, build)`` returns the compiled numpy (or plain-float) function of a set of law
outputs. In a process it is built once; across processes its generated source is kept in the
user's cache directory under a fingerprint of every file that can change it (the laws, the
symbol table, the calculus, the compiler, and the sympy version). A cold ``symsys solve``
therefore imports neither sympy nor the laws: it execs the cached source. A changed law
changes the fingerprint, so a stale kernel can never be used.

The cache directory is ``$SYMSYS_CACHE_DIR``, else ``$XDG_CACHE_HOME/symsys``, else
``~/.cache/symsys``; if it cannot be written, kernels are compiled in memory only.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy

_PACKAGE = Path(__file__).resolve().parent
# every source a compiled kernel depends on
_SOURCES = ("symbols.py", "derive.py", "compile.py", "kernels.py", "laws")


@dataclass(frozen=True)
class Kernel:
    """A compiled function: positional ``args`` (symbol names) in, ``outputs`` (names) out."""

    name: str
    args: tuple[str, ...]
    outputs: tuple[str, ...]
    raw: Callable
    source: str

    def __call__(self, *values):
        """Array call: every output broadcast to the common shape of the inputs."""
        arrays = [numpy.asarray(v, dtype=float) for v in values]
        shape = numpy.broadcast_shapes(*(a.shape for a in arrays)) if arrays else ()
        return tuple(numpy.broadcast_to(numpy.asarray(r, dtype=float), shape).copy()
                     if numpy.shape(r) != shape else numpy.asarray(r, dtype=float)
                     for r in self.raw(*arrays))

    def named(self, values: dict) -> dict:
        """Call with ``values`` keyed by argument name; outputs keyed by name."""
        return dict(zip(self.outputs, self.raw(*(values[a] for a in self.args))))


@functools.cache
def fingerprint() -> str:
    digest = hashlib.sha256()
    for entry in _SOURCES:
        path = _PACKAGE / entry
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            digest.update(file.name.encode())
            digest.update(file.read_bytes())
    for package in ("sympy", "numpy"):
        digest.update(metadata.version(package).encode())
    return digest.hexdigest()[:16]


def cache_dir() -> Path:
    if "SYMSYS_CACHE_DIR" in os.environ:
        return Path(os.environ["SYMSYS_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "symsys"


def _path(name: str) -> Path:
    return cache_dir() / fingerprint() / f"{name}.py"


def _load(name: str) -> Kernel | None:
    try:
        text = _path(name).read_text()
    except OSError:
        return None
    namespace = {"numpy": numpy, "math": math}
    exec(compile(text, str(_path(name)), "exec"), namespace)  # our own generated code
    return Kernel(name, tuple(namespace["ARGS"]), tuple(namespace["OUTPUTS"]),
                  namespace["_lambdifygenerated"], text)


def _save(kernel: Kernel) -> None:
    path = _path(kernel.name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(kernel.source)
        os.replace(temporary, path)  # atomic: a concurrent reader sees all or nothing
    except OSError:
        pass  # an unwritable cache only costs the next process a compile


_MEMORY: dict[str, Kernel] = {}


def kernel(name: str, build: Callable, scalar: bool = False) -> Kernel:
    """The kernel ``name``; ``build()`` returns ``(exprs, args, output_names)`` on a miss.

    ``scalar=True`` compiles for Python floats (single solves); else numpy arrays.
    """
    key = f"{name}.{'scalar' if scalar else 'array'}"
    found = _MEMORY.get(key)
    if found is None:
        found = _load(key)
        if found is None:
            found = _build(key, build, scalar)
            _save(found)
        _MEMORY[key] = found
    return found


def _build(key: str, build: Callable, scalar: bool) -> Kernel:
    from symsys.compile import compile_exprs

    exprs, args, outputs = build()
    compiled = compile_exprs(exprs, args, scalar=scalar)
    arg_names = tuple(a.name for a in args)
    source = (f"# symsys kernel {key}: generated from the laws, do not edit\n"
              f"ARGS = {arg_names!r}\nOUTPUTS = {tuple(outputs)!r}\n\n{compiled.source}")
    namespace = {"numpy": numpy, "math": math}
    exec(compile(source, key, "exec"), namespace)
    return Kernel(key, arg_names, tuple(outputs), namespace["_lambdifygenerated"], source)
