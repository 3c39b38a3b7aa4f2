"""What the reducers of :mod:`symsys.sweeps.reduce` read: frames (one interface over a
:class:`SweepResult`, an evaluated block and plain columns), row conditions (``where=``) and
the rows a reducer keeps."""

from __future__ import annotations

import re

import numpy as np

from symsys.errors import InvalidParameter
from symsys.solvers.sweep_result import RowNumbers, SweepResult

#: the order of a reduction's columns, whatever form of sweep it came from (others follow)
ORDER = ("model", "hardware", "precision", "weight_precision", "kv_precision", "phase", "peak",
         "bandwidth", "capacity", "tensor_parallel", "batch_size", "seq_len", "latency",
         "throughput", "throughput_unit", "bottleneck", "feasible", "reason", "latency_compute",
         "latency_memory", "latency_communication", "communication_share",
         "arithmetic_intensity", "memory_footprint", "flops", "bytes")
#: columns where larger is better, for ``best``/``top_k`` without ``sense=``
MAXIMIZE = ("throughput",)
_CONDITION = re.compile(r"^\s*([A-Za-z_]\w*)\s*(<=|>=|==|!=|<|>)\s*(.+?)\s*$")
_OPS = {"<=": np.less_equal, ">=": np.greater_equal, "==": np.equal, "!=": np.not_equal,
        "<": np.less, ">": np.greater}


# --- frames: one interface over results, evaluated blocks and plain columns -----------------
class ResultFrame:
    """A :class:`SweepResult` seen by the reducers (the interface of ``BlockView``)."""

    def __init__(self, result: SweepResult):
        self.result, self.length = result, len(result)
        # lazy columns are numbers (reading them would build them); given columns may be text
        self.category_names = [n for n in result.names if n in result.categories
                                or (n in result.columns and _is_labels(result.columns[n]))]
        self.numeric_names = [n for n in result.names if n not in self.category_names]
        self._codes: dict = {}

    def category(self, name, positions=None):
        if positions is None or name in self._codes:  # built once per frame
            if name not in self._codes:
                self._codes[name] = self._category(name)
            codes, labels = self._codes[name]
            return (codes if positions is None else codes[positions]), labels
        lazy = self.result.categories.get(name, (None,))[0]
        if getattr(lazy, "takes_positions", False):  # a sweep's codes: only these rows
            return lazy(positions), list(self.result.categories[name][1])
        codes, labels = self.category(name)
        return codes[positions], labels

    def _category(self, name):
        if name in self.result.categories:
            codes, labels = self.result.categories[name]
            codes = codes() if callable(codes) else codes
        else:
            labels, codes = np.unique(np.asarray(self.result[name]), return_inverse=True)
            labels = labels.tolist()
        return codes, list(labels)

    def numeric(self, name, positions=None):
        column = self.result[name]
        values = np.asarray(getattr(column, "magnitude", column))
        return values if positions is None else values[positions]

    def unit(self, name):
        column = self.result[name]
        return f"{column.units}" if hasattr(column, "units") else None

    def index(self, positions=None):
        return self.result.row_index(positions)


class ColumnsFrame(ResultFrame):
    """Plain columns (name -> numpy array: labels or numbers) starting at row ``offset``."""

    def __init__(self, columns: dict, offset: int = 0, units: dict | None = None):
        lengths = {len(v) for v in columns.values()}
        if len(lengths) != 1:
            raise InvalidParameter(f"columns of different lengths: {sorted(lengths)}")
        result = SweepResult.from_rows(columns, units)
        result.index = RowNumbers(offset + np.arange(result.length, dtype=np.int64))
        super().__init__(result)


def _is_labels(column) -> bool:
    return not hasattr(column, "units") and np.asarray(column).dtype.kind in "USO"


def _frame(piece):
    return ResultFrame(piece) if isinstance(piece, SweepResult) else piece


# --- row selection ---------------------------------------------------------------------------
class Where:
    """Row conditions: ``"feasible"``, ``"not feasible"`` or ``"COLUMN OP VALUE"`` (OP one of
    <=, <, >=, >, ==, !=; VALUE a quantity with units for a column with units, a number,
    or a label), all of which must hold. ``None`` selects every row."""

    def __init__(self, spec=None):
        specs = [] if spec is None else [spec] if isinstance(spec, str) else list(spec)
        self.conditions = []
        for text in specs:
            if not isinstance(text, str):
                raise InvalidParameter(f"where={text!r}: expected a condition as text, e.g. "
                                       "'latency <= 20 ms'")
            word = text.strip()
            if word in ("feasible", "not feasible"):
                self.conditions.append(("feasible", "==", word == "feasible"))
                continue
            match = _CONDITION.match(text)
            if not match:
                raise InvalidParameter(f"where={text!r}: expected 'feasible' or COLUMN OP "
                                       "VALUE, e.g. 'latency <= 20 ms' (OP: <=, <, >=, >, "
                                       "==, !=)")
            self.conditions.append(match.groups())
        self.columns = {c for c, _, _ in self.conditions}
        self._values: dict = {}

    def __repr__(self) -> str:
        return " and ".join(f"{c} {op} {v}" for c, op, v in self.conditions) or "all rows"

    def mask(self, frame) -> np.ndarray | None:
        """Boolean mask of the rows meeting every condition (None: no condition)."""
        mask = None
        for column, op, value in self.conditions:
            if column in frame.category_names:
                codes, labels = frame.category(column)
                wanted = labels.index(value) if value in labels else -1
                hit = _OPS[op](codes, wanted) if op in ("==", "!=") else _bad_op(column, op)
            elif column in frame.numeric_names:
                hit = _OPS[op](frame.numeric(column), self._value(frame, column, value))
            else:
                raise InvalidParameter(f"where: no column {column!r}; the sweep has "
                                       f"{', '.join(frame.category_names + frame.numeric_names)}")
            mask = hit if mask is None else mask & hit
        return mask

    def _value(self, frame, column, value):
        if isinstance(value, bool):
            return value
        unit = frame.unit(column)
        key = (column, value, unit)
        if key not in self._values:
            if unit is None or unit in ("", "dimensionless"):
                try:
                    self._values[key] = float(value)
                except ValueError:
                    raise InvalidParameter(f"where: {column} {value!r}: expected a number"
                                           ) from None
            else:
                from symsys.units import parse_quantity

                quantity = parse_quantity(value, unit, f"where {column}",
                                          error=InvalidParameter, positive=False)
                self._values[key] = quantity.m_as(unit)
        return self._values[key]


def _bad_op(column, op):
    raise InvalidParameter(f"where: {column} is a label column: compare it with == or !=, "
                           f"not {op}")


def _positions(frame, where: Where) -> np.ndarray | None:
    """Positions of the selected rows; None when every row is (columns need no gather)."""
    mask = where.mask(frame)
    return None if mask is None or mask.all() else np.flatnonzero(mask)


def _rows(frame, positions) -> tuple[dict, dict]:
    """Every column at ``positions`` (labels as text, numbers as magnitudes), the row
    number in the whole sweep as ``row``, and the units of the columns that have one."""
    columns, units = {}, {}
    for name in frame.category_names:
        codes, labels = frame.category(name, positions)
        columns[name] = np.asarray(labels, dtype=object)[codes].astype(str) if len(labels) \
            else np.zeros(0, dtype=str)
    for name in frame.numeric_names:
        columns[name] = np.asarray(frame.numeric(name, positions))
        unit = frame.unit(name)
        if unit not in (None, "", "dimensionless"):
            units[name] = unit
    columns["row"] = np.asarray(frame.index(positions), dtype=np.int64)
    order = sorted(columns, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER)))
    return {n: columns[n] for n in order}, units


def _concat(a: tuple[dict, dict], b: tuple[dict, dict]) -> tuple[dict, dict]:
    if not a[0]:
        return b
    if not b[0]:
        return a
    return {k: np.concatenate([a[0][k], b[0][k]]) for k in a[0]}, {**a[1], **b[1]}


def _take(rows: tuple[dict, dict], order) -> tuple[dict, dict]:
    return {k: v[order] for k, v in rows[0].items()}, rows[1]


def _result(rows: tuple[dict, dict]) -> SweepResult:
    return SweepResult.from_rows(rows[0], rows[1])


def _check_numeric(frame, name: str, what: str) -> None:
    if name not in frame.numeric_names:
        raise InvalidParameter(f"{what}={name!r}: not a numeric column of this sweep; it has "
                               f"{', '.join(frame.numeric_names)}")


def _signed(frame, name, sense, positions):
    values = np.asarray(frame.numeric(name, positions), dtype=float)
    return -values if sense == "max" else values


def _sense(name: str, sense) -> str:
    sense = sense or ("max" if name in MAXIMIZE else "min")
    if sense not in ("min", "max"):
        raise InvalidParameter(f"sense={sense!r}: expected 'min' or 'max'")
    return sense
