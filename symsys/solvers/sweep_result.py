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


@dataclass
class SweepResult:
    """Columnar result: ``result["latency"]`` / ``result.latency`` is an array (strings,
    numbers or Quantities); ``skipped`` lists device/precision pairs the device lacks."""

    columns: dict = field(default_factory=dict)
    skipped: list = field(default_factory=list)
    categories: dict = field(default_factory=dict)  # name -> (codes, labels)
    lazy: dict = field(default_factory=dict)  # name -> function building the column
    length: int = 0

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
                                            "length"):
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
        data = {}
        for name in self.names:
            column = self._column(name)
            if hasattr(column, "units"):
                data[f"{name} [{column.units:~P}]"] = column.magnitude
            else:
                data[name] = column
        return pd.DataFrame(data)

    def table(self, max_rows: int = 40) -> str:
        names = [n for n in ("model", "hardware", "precision", "phase", "batch_size", "seq_len",
                             "latency", "throughput", "bottleneck", "feasible")
                 if n in self.names] or self.names[:10]  # a user law's sweep: its own columns
        shown = min(len(self), max_rows)
        columns = [self._column(n)[:shown] for n in names]
        rows = [[column[i] for column in columns] for i in range(shown)]
        text = text_table(names, rows)
        if len(self) > max_rows:
            text += f"\n... {len(self) - max_rows} more rows"
        for reason in self.skipped:
            text += f"\nskipped: {reason}"
        return text


def axis_codes(axis: int, shape: tuple) -> Callable[[], np.ndarray]:
    """A function giving each flattened configuration's index along ``axis`` of ``shape``."""

    def build():
        view = [1] * len(shape)
        view[axis] = shape[axis]
        small = np.arange(shape[axis], dtype=np.int32).reshape(view)
        return np.broadcast_to(small, shape).reshape(-1)

    return build
