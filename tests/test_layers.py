"""Imports point downward only, with no cycles (DESIGN.md, "Layers").

The scan reads every module of ``symsys/`` with ``ast``: top-level imports, imports nested in
functions and methods (they run later, but they are dependencies all the same), and
``importlib.import_module("symsys...")`` string literals. A lazy import cannot hide an upward
dependency or a cycle from this test.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "symsys"

#: Layer of each module, bottom (0) to top, by the longest matching module-path prefix.
#: A module may import its own layer or any layer below it.
LAYERS = {
    "symsys.units": 0, "symsys.errors": 0, "symsys.symbols": 0, "symsys._version": 0,
    "symsys.cache": 0,  # where files are kept between processes, and when to trust them
    "symsys.laws": 1,
    "symsys.derive": 2,  # calculus over laws
    "symsys.compile": 3, "symsys.kernel_source": 3, "symsys.kernels": 3,
    "symsys.registry": 4,
    "symsys.calibration": 5,
    "symsys.solvers": 6,  # the generic core and the registry front ends
    "symsys.sweeps": 7,  # sweeps and their reductions, over the front ends
    "symsys.accuracy": 7,  # the solvers' answers against measurements
    "symsys.show": 8, "symsys.render": 8, "symsys.viz": 8, "symsys.worked_examples": 8,
    "symsys.commands": 9, "symsys.cli": 9, "symsys.__main__": 9,
    "symsys.shipping": 9,  # builds the shipped kernels by running the CLI's examples
    "symsys.warm_up": 9,  # the solves whose kernels ship, beside the CLI's examples
    # The package itself is the public facade: it re-exports every layer, so importing it
    # from inside the package is an upward import. Matched exactly, never as a prefix.
    "symsys": 10,
}

#: Modules that must stay pure sympy: no numbers library, no units, no data.
PURE = ("symsys.laws", "symsys.derive")
IMPURE = ("numpy", "pint", "symsys.registry")

#: Violations allowed for now, each with its reason; the test fails when one disappears, so
#: the list cannot go stale. Empty: there are none.
KNOWN_VIOLATIONS: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Edge:
    importer: str
    imported: str
    line: int

    def __str__(self) -> str:
        return f"{self.importer} -> {self.imported} (line {self.line})"


def modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _target(name: str, known: dict[str, Path]) -> str:
    """The longest prefix of ``name`` that is a module (``a.b.func`` -> ``a.b``)."""
    parts = name.split(".")
    while parts and ".".join(parts) not in known:
        parts.pop()
    return ".".join(parts) or name


def _literal_import(node: ast.Call) -> str | None:
    """The module named by ``importlib.import_module("...")``; an f-string gives its prefix."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in ("import_module", "__import__") or not node.args:
        return None
    arg = node.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
        return str(arg.values[0].value).rstrip(".")  # f"symsys.commands.{name}"
    return None


def _imported_names(node: ast.AST, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            package = module.split(".")
            package = package[: len(package) - node.level + (1 if is_package else 0)]
            base = ".".join([*package, *([base] if base else [])])
        # ``from pkg import sub`` imports the submodule; ``from mod import name`` the module
        return [f"{base}.{alias.name}" for alias in node.names]
    if isinstance(node, ast.Call):
        name = _literal_import(node)
        return [name] if name else []
    return []


def scan_source(module: str, source: str, known, is_package: bool = False) -> list[Edge]:
    """Every import of one module's ``source``, internal and external, with its line."""
    edges = set()
    for node in ast.walk(ast.parse(source)):
        for name in _imported_names(node, module, is_package):
            if name == "symsys" or name.startswith("symsys."):
                name = _target(name, known)
                if name != module:
                    edges.add(Edge(module, name, node.lineno))
            else:
                edges.add(Edge(module, name.split(".")[0], node.lineno))
    return sorted(edges, key=lambda e: (e.line, e.imported))


def scan() -> list[Edge]:
    """Every import edge of the package."""
    known = modules()
    return [edge for module, path in known.items()
            for edge in scan_source(module, path.read_text(), known, path.name == "__init__.py")]


def layer(module: str) -> int:
    parts = module.split(".")
    while len(parts) > 1:  # bare "symsys" matches only the package itself
        prefix = ".".join(parts)
        if prefix in LAYERS:
            return LAYERS[prefix]
        parts.pop()
    return LAYERS[module]


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm: the components of more than one node (the cycles)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def cycle_edges(edges: list[Edge]) -> list[Edge]:
    """The edges that lie on an import cycle."""
    graph: dict[str, set[str]] = {}
    for e in edges:
        graph.setdefault(e.importer, set()).add(e.imported)
    members = {m: i for i, c in enumerate(strongly_connected(graph)) for m in c}
    return [e for e in edges if e.importer in members
            and members[e.importer] == members.get(e.imported)]


def internal(edges: list[Edge]) -> list[Edge]:
    return [e for e in edges if e.imported == "symsys" or e.imported.startswith("symsys.")]


def upward(edges: list[Edge]) -> list[Edge]:
    return [e for e in internal(edges) if layer(e.imported) > layer(e.importer)]


def impure(edges: list[Edge]) -> list[Edge]:
    def under(module, prefixes):
        return any(module == p or module.startswith(p + ".") for p in prefixes)

    return [e for e in edges if under(e.importer, PURE) and under(e.imported, IMPURE)]


def violations(edges: list[Edge]) -> list[Edge]:
    """Upward, impure, and cycle edges (a cycle among downward imports is within one layer)."""
    downward = [e for e in internal(edges) if e not in upward(edges)]
    return upward(edges) + impure(edges) + cycle_edges(downward)


def _report(title: str, edges) -> str:
    return title + ":\n  " + "\n  ".join(sorted({str(e) for e in edges}))


EDGES = scan()


def test_every_module_has_a_layer():
    unplaced = [m for m in modules() if not any(
        m == p or (p != "symsys" and m.startswith(p + ".")) for p in LAYERS)]
    assert not unplaced, f"add to LAYERS in tests/test_layers.py: {unplaced}"


def test_scan_sees_nested_relative_and_literal_imports():
    known = dict.fromkeys(["symsys", "symsys.a", "symsys.b", "symsys.c", "symsys.pkg",
                           "symsys.pkg.d", "symsys.pkg.e", "symsys.pkg.f"])
    source = """
import numpy as np
from symsys import a
def later():
    from symsys.b import thing
    class Inner:
        def method(self):
            import importlib
            importlib.import_module("symsys.c")
            return importlib.import_module(f"symsys.pkg.{self}")
from . import d
from .e import name
from symsys import __version__
"""
    found = {str(e) for e in scan_source("symsys.pkg.f", source, known)}
    assert found == {
        "symsys.pkg.f -> numpy (line 2)", "symsys.pkg.f -> symsys.a (line 3)",
        "symsys.pkg.f -> symsys.b (line 5)", "symsys.pkg.f -> importlib (line 8)",
        "symsys.pkg.f -> symsys.c (line 9)", "symsys.pkg.f -> symsys.pkg (line 10)",
        "symsys.pkg.f -> symsys.pkg.d (line 11)", "symsys.pkg.f -> symsys.pkg.e (line 12)",
        "symsys.pkg.f -> symsys (line 13)"}
    assert layer("symsys") == LAYERS["symsys"]
    assert layer("symsys.laws.base") == LAYERS["symsys.laws"]


def test_cycle_finder_finds_a_cycle():
    fake = [Edge("a", "b", 1), Edge("b", "c", 2), Edge("c", "a", 3), Edge("c", "d", 4)]
    assert {str(e) for e in cycle_edges(fake)} == {"a -> b (line 1)", "b -> c (line 2)",
                                                   "c -> a (line 3)"}
    assert cycle_edges([Edge("a", "b", 1), Edge("b", "c", 2)]) == []


def test_upward_and_impure_finders_find_violations():
    fake = [Edge("symsys.laws.x", "numpy", 1), Edge("symsys.derive", "symsys.registry.y", 2),
            Edge("symsys.solvers.z", "numpy", 3), Edge("symsys.registry.y", "symsys", 4),
            Edge("symsys.registry.y", "symsys.laws", 5)]
    assert [e.line for e in impure(fake)] == [1, 2]
    assert [e.line for e in upward(fake)] == [2, 4]


def test_no_import_cycles():
    edges = [e for e in internal(EDGES) if (e.importer, e.imported) not in KNOWN_VIOLATIONS]
    cycles = cycle_edges(edges)
    assert not cycles, _report("import cycles", cycles)


def test_imports_point_downward():
    bad = [e for e in upward(EDGES) if (e.importer, e.imported) not in KNOWN_VIOLATIONS]
    assert not bad, _report("upward imports (see LAYERS in tests/test_layers.py)", bad)


def test_laws_and_derive_stay_pure():
    bad = [e for e in impure(EDGES) if (e.importer, e.imported) not in KNOWN_VIOLATIONS]
    assert not bad, _report("laws/ and derive.py import numpy, pint or the registry", bad)


def test_known_violations_are_current():
    found = {(e.importer, e.imported) for e in violations(EDGES)}
    stale = KNOWN_VIOLATIONS - found
    assert not stale, f"fixed, remove from KNOWN_VIOLATIONS: {sorted(stale)}"
    new = [e for e in violations(EDGES) if (e.importer, e.imported) not in KNOWN_VIOLATIONS]
    assert not new, _report("new layer violations", new)
