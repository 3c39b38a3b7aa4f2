"""Shared pieces of the registries: provenance, field readers that name file and field in
their errors, and the zoo (attribute, group, string and alias lookup)."""

from __future__ import annotations

import datetime
import json
import math
import re
import tomllib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from symsys.errors import (
    RegistryError,
    UnknownName,
    close_matches,
    did_you_mean,
    fold,
    suggest,
)
from symsys.units import shown

DATA = Path(__file__).with_name("data")


@dataclass(frozen=True)
class Source:
    """Where a number came from: a document, its URL and its date (or the retrieval date)."""

    document: str
    url: str
    date: str = ""
    retrieved: str = ""

    def __str__(self) -> str:
        when = self.date or f"retrieved {self.retrieved}"
        return f"{self.document}, {self.url} ({when})"


class SourcedEntry:
    """A registry entry with a ``source`` and per-field ``field_sources``."""

    def source_of(self, dotted_field: str) -> Source:
        """The source of one field: its own where given, else the entry's."""
        return self.field_sources.get(dotted_field, self.source)


class Fields:
    """Typed access to one TOML table; every error names the file, entry and field."""

    def __init__(self, table: dict, where: str):
        if not isinstance(table, dict):
            raise RegistryError(f"{where}: expected a table, got {table!r}")
        self.table = table
        self.where = where

    def _name(self, key: str) -> str:
        return f"{self.where}.{key}"

    def has(self, key: str) -> bool:
        return key in self.table

    def get(self, key: str, kind: type | tuple, default=...):
        if key not in self.table:
            if default is ...:
                raise RegistryError(f"{self._name(key)}: required field is missing")
            return default
        value = self.table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value) if abs(value) <= MAX_INT else math.inf
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise RegistryError(f"{self._name(key)}: expected {_kind_name(kind)}, got "
                                f"{shown(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise RegistryError(f"{self._name(key)}: expected a finite number (below 2**53 "
                                f"for an integer), got {shown(self.table[key])}")
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
            raise RegistryError(f"{self._name(key)}: {shown(value)} is too large; expected an "
                                "integer of at most 2**53 (exact as a float)")
        return value

    def positive(self, key: str, kind: type = int, default=...):
        value = self.get(key, kind, default)
        if value is not None and value is not default and not value > 0:
            raise RegistryError(f"{self._name(key)}: must be positive, got {shown(value)}")
        return value

    def sub(self, key: str, required: bool = False) -> Fields | None:
        if key not in self.table:
            if required:
                raise RegistryError(f"{self._name(key)}: required table is missing")
            return None
        return Fields(self.table[key], self._name(key))

    def source(self, key: str = "source") -> Source:
        return read_source(self.get(key, dict), self._name(key))


def _kind_name(kind) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join({"str": "a string", "int": "an integer", "float": "a number",
                        "bool": "true/false", "dict": "a table", "list": "a list"}
                       .get(k.__name__, k.__name__) for k in kinds)


def read_source(table: dict, where: str) -> Source:
    fields = Fields(table, where)
    date, retrieved = fields.get("date", str, ""), fields.get("retrieved", str, "")
    if not (date or retrieved):
        raise RegistryError(f"{where}: a source needs a 'date' or a 'retrieved' date")
    for label, value in (("date", date), ("retrieved", retrieved)):
        if value and not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", value):
            raise RegistryError(f"{where}.{label}: expected YYYY-MM-DD, got {value!r}")
    return Source(fields.get("document", str), fields.get("url", str), date, retrieved)


def normalize(name: str) -> str:
    """Lookup key: case-insensitive, '-', '_', '.', '/' and spaces ignored."""
    return re.sub(r"[\s_\-./]", "", name).lower()


class Group:
    """One group of a zoo (``Hardware.Cloud``): attribute access to its entries."""

    def __init__(self, name: str, entries: dict):
        self._name = name
        self._entries = entries

    def __getattr__(self, key: str):
        try:
            return self._entries[key]
        except KeyError:
            raise AttributeError(
                f"{self._name} has no entry {key!r}." + suggest(key, list(self._entries))
            ) from None

    def __dir__(self) -> Iterable[str]:
        return list(self._entries)

    def __iter__(self) -> Iterator:
        return iter(self._entries.values())

    def list(self) -> list[str]:
        return list(self._entries)


class Zoo:
    """A lazily loaded registry: ``Zoo.KEY``, ``Zoo.Group.KEY``, ``Zoo["alias"]``, ``.list()``."""

    def __init__(self, kind: str, loader: Callable[[], list], error: type[UnknownName],
                 file_loader: Callable[[Path], object] | None = None):
        self._kind = kind
        self._loader = loader
        self._error = error
        self._file_loader = file_loader  # a name ending in .toml/.json is a user's file
        self._entries: dict | None = None

    def _load(self) -> dict:
        if self._entries is None:
            entries = {}
            for entry in self._loader():
                if entry.key in entries:
                    raise RegistryError(f"{self._kind}: key {entry.key!r} defined twice")
                entries[entry.key] = entry
            lookup: dict[str, object] = {}
            for entry in entries.values():
                for name in (entry.key, entry.name, *entry.aliases, *_extra_names(entry)):
                    other = lookup.setdefault(normalize(name), entry)
                    if other is not entry:
                        raise RegistryError(
                            f"{self._kind}: name {name!r} refers to both {other.key} and "
                            f"{entry.key}"
                        )
            self._lookup = lookup
            self._groups = {}
            for entry in entries.values():
                self._groups.setdefault(entry.group, {})[entry.key] = entry
            self._entries = entries
        return self._entries

    def __getattr__(self, key: str):
        if key.startswith("_"):
            raise AttributeError(key)
        entries = self._load()
        if key in entries:
            return entries[key]
        if key in self._groups:
            return Group(f"{self._kind}.{key}", self._groups[key])
        raise AttributeError(f"{self._kind} has no entry {key!r}." + suggest(key, entries))

    def __getitem__(self, name: str):
        return self.get(name)

    def get(self, name):
        """The entry called ``name`` (key, name, alias or HF id; case-insensitive)."""
        if not isinstance(name, str):
            return name  # already an entry
        if self._file_loader is not None and is_file_name(name):
            return self._file_loader(Path(name))
        self._load()
        try:
            return self._lookup[normalize(name)]
        except KeyError:
            raise self._error(
                f"unknown {self._kind.lower().removesuffix('s')} {name!r}."
                + (did_you_mean(self.close_keys(name))
                   or f" See symsys zoo {self._kind.lower()} for the list.")
            ) from None

    def find(self, name):
        """The entry called ``name`` as :meth:`get` finds it, or None: no suggestions are
        computed, so asking two registries in turn stays cheap."""
        if not isinstance(name, str):
            return name
        if self._file_loader is not None and is_file_name(name):
            return self._file_loader(Path(name))
        self._load()
        return self._lookup.get(normalize(name))

    def close_keys(self, name: str, exact: bool = False) -> list[str]:
        """Keys of the entries ``name`` most likely meant, best first: matched against every
        key, name, alias and Hugging Face id with case, separators and the look-alikes
        O/0 and l/I/1 ignored (:func:`symsys.errors.close_matches`), then given as keys.

        Parameters
        ----------
        name : str
            The name that matched no entry.
        exact : bool
            Only entries with a spelling equal to ``name`` once both are folded ('H1OO' and
            'H100'), none of the prefix or close matches.
        """
        self._load()
        spellings: dict[str, str] = {}
        for entry in self._entries.values():
            for spelling in (entry.key, entry.name, *entry.aliases, *_extra_names(entry)):
                spellings.setdefault(spelling, entry.key)
        matches = close_matches(name, spellings)
        if exact:
            matches = [m for m in matches if fold(m) == fold(name)]
        return list(dict.fromkeys(spellings[m] for m in matches))

    def __contains__(self, name) -> bool:
        self._load()
        return normalize(name) in self._lookup

    def __iter__(self) -> Iterator:
        return iter(self._load().values())

    def __len__(self) -> int:
        return len(self._load())

    def __dir__(self):
        return [*self._load(), *self._groups]

    def list(self, group: str | None = None) -> list[str]:
        """Keys of every entry (of one group), in registry order."""
        entries = self._load()
        if group is None:
            return list(entries)
        return list(self._groups[self.group_name(group)])

    def group_name(self, group: str) -> str:
        """The group called ``group``, as the registry spells it: case and separators are
        ignored ('cloud' is 'Cloud'); an unknown group is an error listing the groups.

        Parameters
        ----------
        group : str
            A group name such as 'Cloud', 'edge' or 'Language'.
        """
        self._load()
        by_key = {normalize(g): g for g in self._groups}
        if isinstance(group, str) and normalize(group) in by_key:
            return by_key[normalize(group)]
        raise self._error(f"no {self._kind.lower()} group {group!r}; groups: "
                          f"{', '.join(self._groups)}." + suggest(str(group), self._groups))

    def groups(self) -> list[str]:
        self._load()
        return list(self._groups)


#: suffixes that make a name a file: a device or model in the registry's schema, a config.json
FILE_SUFFIXES = (".toml", ".json")


def is_file_name(name: str) -> bool:
    """Whether ``name`` is a path to a user's entry file rather than a registry name."""
    return name.strip().lower().endswith(FILE_SUFFIXES)


def read_table_file(path: Path, what: str) -> dict:
    """A user's TOML or JSON file as a dict. Whatever is wrong with it (missing, a directory,
    unreadable, too large, not UTF-8, not TOML or JSON, not a table at the top, nested too
    deeply, a number that is not finite) is a RegistryError naming the file."""
    kind = "JSON" if path.suffix.lower() == ".json" else "TOML"
    return parse_table(read_text(path, what), str(path), kind, what)


#: the largest user's file read: a device, a model or a Hugging Face config is a few kB
MAX_FILE_BYTES = 4 * 2**20
#: the largest integer a file may hold: above 2**53 integers are not exact as floats
MAX_INT = 2**53


def read_text(path: Path, what: str) -> str:
    """The UTF-8 text of the ``what`` file ``path``; a missing, unreadable, oversized or
    non-UTF-8 file is a RegistryError naming it."""
    try:
        if path.is_dir():
            raise RegistryError(f"{path}: is a directory; expected a {what} file (.toml or "
                                ".json)")
        if not path.is_file():
            raise RegistryError(f"{path}: cannot read it: no such {what} file (a name ending in "
                                f"{' or '.join(FILE_SUFFIXES)} is read as a file)")
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except (OSError, ValueError) as exc:  # permissions, a name with a NUL byte
        reason = getattr(exc, "strerror", None) or str(exc)
        raise RegistryError(f"{path}: cannot read the {what} file ({reason})") from None
    if len(data) > MAX_FILE_BYTES:
        raise RegistryError(f"{path}: more than {MAX_FILE_BYTES // 2**20} MiB; a {what} file "
                            "is a small TOML or JSON table")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RegistryError(f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
                            f"{exc.start}); a {what} file is UTF-8 TOML or JSON") from None


def parse_table(text: str, where: str, kind: str, what: str) -> dict:
    """``text`` parsed as ``kind`` ("JSON" or "TOML"), which must be a table at the top with
    finite numbers; every failure is a RegistryError naming ``where``."""
    try:
        if kind == "JSON":
            data = json.loads(text, parse_constant=_not_finite, parse_float=_finite_float)
        else:
            data = tomllib.loads(text, parse_float=_finite_float)
    except RecursionError:
        raise RegistryError(f"{where}: nested too deeply to read; a {what} file is a table "
                            "of fields, a few levels deep") from None
    except ValueError as exc:  # a syntax error, a non-finite number, a 4300-digit integer
        reason = str(exc)
        if "integer string conversion" in reason:
            reason = "an integer of more than 4300 digits; integers are at most 2**53"
        raise RegistryError(f"{where}: not valid {kind} ({reason})") from None
    if not isinstance(data, dict):
        raise RegistryError(f"{where}: expected a {kind} object (a table of fields) at the top, "
                            f"got {_json_kind(data)}")
    return data


def _finite_float(text: str) -> float:
    """A float literal of a file, which must be finite ('1e400' is beyond any float)."""
    value = float(text)
    if not math.isfinite(value):
        _not_finite(text)
    return value


def _not_finite(text: str):
    raise ValueError(f"the number {text[:20]!r} is not finite; numbers are finite, below "
                     "1.8e308")


def _json_kind(value) -> str:
    """What a JSON value is, in words: 'a list', 'the number 1', 'null'."""
    if value is None:
        return "null"
    if isinstance(value, list):
        return f"a list of {len(value)} items"
    return f"{type(value).__name__} {shown(value)}"


def entry_key(table) -> str:
    """An entry's key as its errors name it: the string as written, anything else shortened."""
    key = table.get("key", "?") if isinstance(table, dict) else "?"
    return key if isinstance(key, str) and len(key) <= 60 else shown(key)


def one_entry(data: dict, section: str, path: Path, hint: str) -> dict:
    """The one ``section`` table a user's file holds: ``[[section]]`` once, ``[section]``, or
    the table at the top level. ``hint`` says what a valid file is."""
    tables = data.get(section, data)
    tables = [tables] if isinstance(tables, dict) else tables
    if not isinstance(tables, list):
        raise RegistryError(f"{path}: {section} = {shown(tables)}; expected one {section} "
                            f"({hint})")
    if len(tables) != 1:
        raise RegistryError(f"{path}: expected one {section}, found {len(tables)} ({hint})")
    if not isinstance(tables[0], dict):
        raise RegistryError(f"{path}: {section}[0] = {shown(tables[0])}; expected a table of "
                            f"fields ({hint})")
    return dict(tables[0])


def user_source(path: Path | None) -> Source:
    """The source of a user's entry that names none: flagged user-supplied, dated today."""
    where = f" ({path})" if path is not None else ""
    url = path.resolve().as_uri() if path is not None else ""
    return Source(f"user-supplied{where}", url, retrieved=datetime.date.today().isoformat())


class FileCache:
    """Entries read from users' files, one per (path, modification time): the same file
    gives the same object (solvers cache per entry), an edited file is read again."""

    def __init__(self, read: Callable[[Path], object], what: str = "entry"):
        self._read = read
        self._what = what
        self._entries: dict = {}

    def __call__(self, path: Path):
        try:
            resolved = path.expanduser().resolve()
            stamp = (str(resolved), resolved.stat().st_mtime_ns if resolved.is_file() else None)
        except (OSError, RuntimeError, ValueError) as exc:  # '~nobody/', a NUL byte, too long
            reason = getattr(exc, "strerror", None) or str(exc)
            raise RegistryError(f"{shown(str(path))}: cannot read the {self._what} file "
                                f"({reason})") from None
        if stamp not in self._entries:
            self._entries[stamp] = self._read(path.expanduser())
        return self._entries[stamp]


def _extra_names(entry) -> tuple[str, ...]:
    hf_id = getattr(entry, "hf_id", None)
    return (hf_id,) if hf_id else ()


def read_entries(paths: Iterable[Path], section: str, build: Callable) -> list:
    """Every ``[[section]]`` table of the TOML files ``paths``, each built by
    ``build(Fields)``; a file that is not TOML is an error that names it, and each entry's
    errors name the file, the index and the key."""
    entries = []
    for path in paths:
        path = Path(path)
        data = parse_table(read_text(path, "registry"), path.name, "TOML", "registry")
        tables = data.get(section, [])
        if not isinstance(tables, list):
            raise RegistryError(f"{path.name}: {section} = {shown(tables)}; expected a list "
                                f"of [[{section}]] tables")
        for i, table in enumerate(tables):
            where = f"{path.name}: {section}[{i}] ({entry_key(table)})"
            entries.append(build(Fields(table, where)))
    return entries
