"""A griffe extension for the API reference: symsys's docstrings, read as the code means them.

Two conventions of the docstrings that Markdown and the numpy-style parser do not know:

- Sphinx roles (``:func:`calibrate```, ``:mod:`symsys.solvers.inputs```) become optional
  mkdocs-autorefs cross-references to the object's full path, resolved in the scope of the
  docstring's owner (``:func:`calibrate``` in ``symsys.calibration`` is
  ``symsys.calibration.fit.calibrate``). An optional reference links when its target is
  documented and stays plain code otherwise, so a role never breaks ``--strict``.
- In a numpy ``Parameters`` section, ``name : description`` on one line (the solvers' short
  form) becomes ``name`` with the description under it; a real type (``name : str`` over an
  indented description) is kept as the type, and a list of names that wraps onto a second
  line is joined.

The step solvers (``symsys.solvers.options.STEP_SOLVERS``) take their step options as
``**options`` in the source and get their full signature and Parameters entries from the
options' declarations at import time; static analysis cannot see those, so the extension
imports each of them and documents it as Python's ``help()`` shows it.

Loaded by mkdocs.yml (``extensions: - docs/griffe_docstrings.py:SymsysDocstrings``); not part
of the package, and it changes only what the docs show, never the docstrings in the code.
"""

from __future__ import annotations

import html
import re

import griffe

ROLE = re.compile(r":(?:py:)?(?:func|meth|class|mod|attr|data|obj|exc|const):`(?P<target>[^`]+)`")
TYPE = re.compile(r"[\w\[\]., |]{1,40}")  # "str", "iterable of str", "int | None"


def _resolve(obj: griffe.Object, name: str) -> str | None:
    """The full path ``name`` stands for where ``obj`` is documented, or None."""
    head, _, rest = name.lstrip(".").partition(".")
    scope = obj
    while scope is not None:
        try:
            full = scope.resolve(head)
        except (griffe.NameResolutionError, AttributeError, KeyError):
            scope = scope.parent
            continue
        return f"{full}.{rest}" if rest else full
    return None


def _role(obj: griffe.Object, match: re.Match, by_suffix: dict[str, list[str]]) -> str:
    target = match["target"].strip()
    if "<" in target:  # :func:`title <target>`
        title, target = target.split("<", 1)
        title, target = title.strip(), target.rstrip(">").strip()
    else:
        short = target.startswith("~")
        target = target.lstrip("~")
        title = target.rsplit(".", 1)[-1] if short else target
    full = target if target.startswith("symsys") else _resolve(obj, target)
    if full is None:  # :meth:`Engine.solve` where Engine is not imported: unique by suffix
        found = by_suffix.get(target, [])
        full = found[0] if len(found) == 1 else target
    return (f'<autoref identifier="{html.escape(full)}" optional>'
            f"<code>{html.escape(title)}</code></autoref>")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _parameters(lines: list[str], base: int) -> list[str]:
    """One Parameters section (its entries at indent ``base``) in numpy's own layout."""
    out: list[str] = []
    names_open = False  # the last entry line was a list of names ending in ","
    for i, line in enumerate(lines):
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if not line.strip() or _indent(line) > base:
            out.append(line)
            names_open = False
            continue
        body = line.strip()
        if names_open:  # "a, b,\n c : text": the names go on
            out[-1] += " " + body.partition(" : ")[0]
            body = body.partition(" : ")[2] if " : " in body else ""
            if body:
                out.append(" " * (base + 4) + body)
            names_open = " : " not in line and line.rstrip().endswith(",")
            continue
        if " : " not in body:
            if body.endswith(",") and re.fullmatch(r"[\w, ]+", body):
                out.append(line.rstrip().rstrip(","))
                out[-1] += ","
                names_open = True
            elif out:  # a description that wrapped back to the names' indent
                out.append(" " * (base + 4) + body)
            else:
                out.append(line)
            continue
        names, _, text = body.partition(" : ")
        deeper = following.strip() and _indent(following) > base
        if TYPE.fullmatch(text) and deeper:
            out.append(line)  # a real "name : type" over its description
        else:
            out.append(" " * base + names)
            out.append(" " * (base + 4) + text)
    # a names line left open ends with ","; the parser wants the plain list
    return [re.sub(r",$", "", x) if x.strip() and _indent(x) == base else x for x in out]


def numpy_parameters(text: str) -> str:
    """``text`` with every Parameters section rewritten by :func:`_parameters`."""
    lines = text.split("\n")
    i = 0
    while i < len(lines) - 1:
        if lines[i].strip() == "Parameters" and set(lines[i + 1].strip()) == {"-"}:
            base = _indent(lines[i])
            start = end = i + 2
            while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) >= base):
                if not lines[end].strip() and end + 1 < len(lines) and \
                        _indent(lines[end + 1]) <= base and lines[end + 1].strip() and \
                        end + 2 < len(lines) and set(lines[end + 2].strip()) == {"-"}:
                    break  # the next section
                end += 1
            lines[start:end] = _parameters(lines[start:end], base)
            i = end
        i += 1
    return "\n".join(lines)


def _objects(root: griffe.Object):
    """``root`` and every object defined under it (imports, which are aliases, skipped)."""
    stack = [root]
    while stack:
        obj = stack.pop()
        yield obj
        stack.extend(m for m in obj.members.values() if not m.is_alias)


#: inspect's parameter kinds as griffe names them
KINDS = {"POSITIONAL_ONLY": "positional_only", "POSITIONAL_OR_KEYWORD": "positional_or_keyword",
         "VAR_POSITIONAL": "var_positional", "KEYWORD_ONLY": "keyword_only",
         "VAR_KEYWORD": "var_keyword"}


def _step_solvers(pkg: griffe.Module) -> None:
    """Each step solver's signature and docstring as they are at run time (every step option
    with its declared default and entry), in place of the ``**options`` of its source."""
    import importlib
    import inspect

    from symsys.solvers.options import STEP_SOLVERS

    for path in STEP_SOLVERS:
        module, _, qualname = path.partition(":")
        runtime = importlib.import_module(module)
        for part in qualname.split("."):
            runtime = getattr(runtime, part)
        obj = pkg[f"{module.removeprefix(pkg.name + '.')}.{qualname}"]
        obj.parameters = griffe.Parameters(*(
            griffe.Parameter(p.name, kind=griffe.ParameterKind[KINDS[p.kind.name]],
                             default=None if p.default is p.empty else repr(p.default))
            for p in inspect.signature(runtime).parameters.values()))
        obj.docstring.value = inspect.getdoc(runtime)


class SymsysDocstrings(griffe.Extension):
    """Rewrite roles and one-line parameter entries in every docstring (docs only)."""

    def on_package(self, *, pkg: griffe.Module, **kwargs) -> None:
        if pkg.name == "symsys":
            _step_solvers(pkg)
        objects = list(_objects(pkg))
        by_suffix: dict[str, list[str]] = {}
        for obj in objects:
            parts = obj.path.split(".")
            for i in range(1, len(parts)):
                by_suffix.setdefault(".".join(parts[i:]), []).append(obj.path)
        for obj in objects:
            if obj.docstring is None:
                continue
            text = obj.docstring.value
            if ":" in text:
                text = ROLE.sub(lambda m, obj=obj: _role(obj, m, by_suffix), text)
            if "Parameters" in text:
                text = numpy_parameters(text)
            obj.docstring.value = text
