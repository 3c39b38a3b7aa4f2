"""The columnar result of :func:`symsys.sweep`.

Columns are built on first access: a million-configuration sweep computes its latencies in a
few blocked kernel calls, and the label columns (model, hardware, ...), throughput, bottleneck
and feasibility cost nothing until read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from symsys.errors import InvalidParameter
from symsys.units import text_table

#: the ``reason`` of a row whose per-device footprint exceeds the capacity (sweeps with a
#: tensor_parallel axis carry a reason column)
OVER_CAPACITY = "memory footprint per device exceeds the capacity"


@dataclass(repr=False)
class SweepResult:
    """Columnar result: ``result["latency"]`` / ``result.latency`` is an array (strings,
    numbers or Quantities); ``skipped`` lists device/precision pairs the device lacks."""

    columns: dict = field(default_factory=dict)
    skipped: list = field(default_factory=list)
    categories: dict = field(default_factory=dict)  # name -> (codes, labels)
    lazy: dict = field(default_factory=dict)  # name -> function building the column
    length: int = 0
    #: function giving the rows' numbers in the whole sweep, of every row or of the rows at
    #: given positions (None: rows are 0..length-1); a chunk's rows carry their place in the
    #: sweep, so reductions break ties the same way whether they see the sweep whole, in
    #: chunks or on a Dask cluster
    index: Callable[..., np.ndarray] | None = None

    @classmethod
    def from_rows(cls, columns: dict, units: dict | None = None,
                  skipped: list | None = None) -> SweepResult:
        """A result of given columns (name -> sequence), e.g. a reduction's rows; a name in
        ``units`` becomes a Quantity column in that unit."""
        from symsys.units import to_quantity

        units = units or {}
        built, length = {}, None
        for name, values in columns.items():
            array = np.asarray(values)
            length = len(array) if length is None else length
            if len(array) != length:
                raise InvalidParameter(f"column {name!r} has {len(array)} rows, not {length}")
            built[name] = to_quantity(array.astype(float), units[name]) if name in units \
                else array
        return cls(built, list(skipped or []), {}, {}, length or 0)

    def __getstate__(self) -> dict:
        """What pickles and deep-copies: every column built, the categories' codes as arrays
        and the row numbers as a :class:`RowNumbers` (lazy columns are functions over the
        evaluated blocks, local to the sweep that made them: they neither pickle nor need to,
        once built). Column order, values and row numbers are unchanged."""
        categories = {name: (self._codes(name), labels)
                      for name, (_, labels) in self.categories.items()}
        columns = {name: self._column(name) for name in self.names
                   if name not in self.categories}
        index = None if self.index is None else RowNumbers(self.row_index())
        return {"columns": columns, "skipped": list(self.skipped), "categories": categories,
                "lazy": {}, "length": self.length, "index": index}

    def _codes(self, name: str) -> np.ndarray:
        """The codes of category ``name`` for every row, built if they are a function."""
        codes = self.categories[name][0]
        return np.asarray(codes() if callable(codes) else codes)

    def row_index(self, positions=None) -> np.ndarray:
        """The rows' numbers in the whole sweep (see ``index``): every row's, or those of
        the rows at ``positions``."""
        if self.index is None:
            return np.arange(self.length) if positions is None else np.asarray(positions)
        return self.index() if positions is None else self.index(positions)

    def _column(self, name):
        if name not in self.columns:
            if name in self.categories:
                codes, labels = self.categories[name]
                codes = codes() if callable(codes) else codes
                self.columns[name] = np.asarray(labels)[codes]
            elif name in self.lazy:
                self.columns[name] = self.lazy[name]()
            else:
                raise KeyError(name)
        return self.columns[name]

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, name):
        return self._column(name)

    def __getattr__(self, name):
        if name.startswith("_") or name in ("columns", "categories", "skipped", "lazy",
                                            "length", "index"):
            raise AttributeError(name)
        try:
            return self._column(name)
        except KeyError:
            raise AttributeError(name) from None

    @property
    def names(self) -> list[str]:
        return list(dict.fromkeys([*self.categories, *self.lazy, *self.columns]))

    def to_dict(self) -> dict:
        """JSON-safe, the convention of every result: columns of canonical magnitudes by
        name, their units under ``"units"``, plus the rows and the skipped pairs."""
        columns, units = {}, {}
        for name in self.names:
            column = self._column(name)
            if hasattr(column, "units"):
                columns[name], units[name] = column.magnitude.tolist(), f"{column.units:~P}"
            else:
                columns[name] = column.tolist()
        return {"kind": "sweep", "rows": len(self), "skipped": list(self.skipped),
                "columns": columns, "units": units}

    def to_pandas(self):
        """A DataFrame with magnitudes; each unit in its column name (pandas is optional)."""
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - depends on the environment
            raise InvalidParameter("to_pandas() needs pandas: pip install pandas") from None
        return pd.DataFrame(self._frame())

    def _differs(self, name: str) -> bool:
        """Whether a storage-precision column says more than the compute precision."""
        if name not in self.names or "precision" not in self.names:
            return False
        if name in self.categories and "precision" in self.categories:
            return self.categories[name][1] != self.categories["precision"][1]
        return bool(np.any(np.asarray(self[name]) != np.asarray(self["precision"])))

    def _frame(self) -> dict:
        """name (with its unit in brackets) -> magnitudes or labels, for files and pandas."""
        data = {}
        for name in self.names:
            column = self._column(name)
            if hasattr(column, "units"):
                data[f"{name} [{column.units:~P}]"] = np.asarray(column.magnitude)
            else:
                data[name] = np.asarray(column)
        return data

    def write(self, path) -> None:
        """Write the rows to ``path``: ``.csv`` (units in the header, ``latency [s]``) or
        ``.parquet`` (needs pyarrow: ``pip install "symsys[dask]"``)."""
        from pathlib import Path

        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".parquet"):
            raise InvalidParameter(f"{str(path)!r}: write .csv or .parquet (by extension)")
        data = self._frame()
        if suffix == ".parquet":
            try:
                import pyarrow as pa
                import pyarrow.parquet as pq
            except ImportError:
                raise InvalidParameter(f"{str(path)!r}: Parquet needs pyarrow: pip install "
                                       '"symsys[dask]" (or pyarrow)') from None
            pq.write_table(pa.table({k: pa.array(v) for k, v in data.items()}), path)
            return
        import csv

        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(list(data))
            columns = [v.tolist() for v in data.values()]
            writer.writerows(zip(*columns))

    def __repr__(self) -> str:
        shown = ", ".join(self.names[:8]) + (", ..." if len(self.names) > 8 else "")
        return f"<SweepResult {len(self):,} rows: {shown}>"

    def __str__(self) -> str:
        return self.table(20)

    def _repr_html_(self) -> str:
        """Jupyter's view: the first rows as the aligned text table (``to_pandas()`` for a
        DataFrame)."""
        import html

        return f"<pre>{html.escape(self.table(20))}</pre>"

    def table(self, max_rows: int = 40) -> str:
        """The first ``max_rows`` rows as aligned text, with the skipped pairs under them."""
        shown_names = ["model", "hardware", "precision"]
        if self._differs("weight_precision"):
            shown_names.append("weight_precision")
        if self._differs("kv_precision"):
            shown_names.append("kv_precision")
        # a law input swept by name (inputs=) is shown beside the other axes
        swept = [n for n in self.names if n not in _STANDARD]
        shown_names += ["phase", "peak", "bandwidth", "capacity", "price", "tensor_parallel",
                        *swept, "batch_size", "seq_len",
                        "latency", "throughput", "latency_communication", "cost_per_token",
                        "energy_per_token", "memory_footprint", "bottleneck", "feasible"]
        if "tensor_parallel" not in self.names:  # per device only matters on many devices
            shown_names.remove("memory_footprint")
        names = [n for n in shown_names if n in self.names]
        if "latency" not in names:  # a user law's sweep, a count: its own columns
            names = self.names[:12]
        shown = min(len(self), max_rows)
        # cost reads as people quote it, per million tokens
        readable = {"cost_per_token": "USD/Mtoken", "price": "USD/hour"}
        columns = [self._column(n)[:shown].to(readable[n]) if n in readable else
                   self._column(n)[:shown] for n in names]
        rows = [[column[i] for column in columns] for i in range(shown)]
        text = text_table(names, rows)
        if len(self) > max_rows:
            text += f"\n... {len(self) - max_rows} more rows"
        for reason in self.skipped:
            text += f"\nskipped: {reason}"
        if "tensor_parallel" in self.names:
            text += "\nper device: latency_communication, memory_footprint; throughput: the group's"
        # the degrees Engine.solve refuses (the footprint's reason is the feasible column)
        for reason in self.categories.get("reason", (None, []))[1]:
            if reason not in ("", OVER_CAPACITY):
                text += f"\ninfeasible: {reason}"
        return text


#: every column a sweep has besides the law inputs it sweeps by name
_STANDARD = frozenset({
    "model", "hardware", "precision", "weight_precision", "kv_precision", "phase", "peak",
    "bandwidth", "capacity", "price", "tensor_parallel", "batch_size", "seq_len", "latency",
    "latency_compute", "latency_memory", "arithmetic_intensity", "memory_footprint", "flops",
    "bytes", "latency_communication", "communication_share", "throughput", "throughput_unit",
    "bottleneck", "feasible", "reason", "cost_per_token", "energy_per_token",
    "tokens_per_joule"})


@dataclass(frozen=True, eq=False)
class RowNumbers:
    """The rows' numbers in the whole sweep, as a picklable ``SweepResult.index``: every
    row's (``numbers``), or those of the rows at ``positions``."""

    numbers: np.ndarray

    def __call__(self, positions=None) -> np.ndarray:
        if positions is None:
            return self.numbers
        return self.numbers[np.asarray(positions, dtype=np.int64)]


def axis_codes(axis: int, shape: tuple) -> Callable[[], np.ndarray]:
    """A function giving each flattened configuration's index along ``axis`` of ``shape``."""

    def build():
        view = [1] * len(shape)
        view[axis] = shape[axis]
        small = np.arange(shape[axis], dtype=np.int32).reshape(view)
        return np.broadcast_to(small, shape).reshape(-1)

    return build
