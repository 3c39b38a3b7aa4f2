"""Measured kernel times: the data a calibration is fitted on and validated against.

A :class:`Measurements` holds one device's kernels as parallel numpy arrays in canonical
units (FLOP, B, s), with the GEMM shape where the kernel is a matrix multiply, and labels
(model, operation, tensor-parallel degree) that validation groups by and cross-validation
holds out by.

The Vidur linear-layer profiles (``<gpu>__<model>.csv``) are read here. Each row times four
GEMMs of one decoder layer for ``num_tokens`` rows of activations; their shapes follow from
the model columns, divided by the tensor-parallel degree the way Megatron splits them:
column-parallel ops (QKV, up) split their output dimension, row-parallel ops (O, down)
their input dimension.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from symsys import kernels
from symsys.errors import InvalidParameter, RegistryError
from symsys.registry.common import DATA

#: The shipped compact copy of the Vidur profiles (see its README.md for provenance).
SHIPPED = DATA / "measured" / "vidur-linear"
#: Microbenchmarks (BabelStream, cuBLASLt) of the same GPUs, with the source of every row.
MICROBENCHMARKS = DATA / "measured" / "microbenchmarks.csv"

#: GEMMs timed on an H200 lent to this project (benchmarks/device/hopper_measure.py; the
#: folder's README.md gives the machine, software and method)
H200_GEMMS = DATA / "measured" / "h200" / "gemm.csv"

#: The linear-layer operations of a Vidur profile, in the order tables list them.
OPS = ("attn_pre_proj", "attn_post_proj", "mlp_up_proj", "mlp_down_proj")

#: Columns a Vidur profile must have (besides ``time_stats.<op>.median``).
SHAPE_COLUMNS = ("n_head", "n_kv_head", "n_embd", "n_expanded_embd", "use_gated_mlp",
                 "num_tokens", "num_tensor_parallel_workers")


@dataclass(frozen=True, eq=False)
class Measurements:
    """Kernels measured on one device: arrays of equal length, canonical units."""

    device: str  # a Hardware key or name, e.g. "A100"
    precision: str
    flops: np.ndarray  # FLOP
    bytes: np.ndarray  # B
    time: np.ndarray  # s, measured
    m: np.ndarray | None = None  # GEMM rows (tokens), when the kernels are GEMMs
    n: np.ndarray | None = None  # GEMM output columns
    k: np.ndarray | None = None  # GEMM depth
    model: np.ndarray | None = None  # labels, for grouping and cross-validation
    op: np.ndarray | None = None
    tp: np.ndarray | None = None
    source: str = ""

    def __post_init__(self):
        size = len(self.time)
        for name in ("flops", "bytes", "time", "m", "n", "k", "model", "op", "tp"):
            value = getattr(self, name)
            if value is None:
                continue
            if len(value) != size:
                raise InvalidParameter(f"measurements.{name}: {len(value)} values, expected {size}")
            if name in ("flops", "bytes", "time", "m", "n", "k"):
                array = np.asarray(value, dtype=float)
                if not np.all(np.isfinite(array) & (array > 0)):
                    raise InvalidParameter(f"measurements.{name}: every value must be positive")

    def __len__(self) -> int:
        return len(self.time)

    @property
    def has_shapes(self) -> bool:
        return self.m is not None and self.n is not None and self.k is not None

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.model))) if self.model is not None else ()

    def labels(self, name: str) -> np.ndarray:
        """The ``model``/``op`` labels, or ``""`` for each kernel when there are none."""
        value = getattr(self, name)
        return value if value is not None else np.full(len(self), "", dtype=object)

    def select(self, mask) -> Measurements:
        """The kernels where ``mask`` is true (a boolean array)."""
        mask = np.asarray(mask, dtype=bool)
        fields = {name: (None if getattr(self, name) is None else getattr(self, name)[mask])
                  for name in ("flops", "bytes", "time", "m", "n", "k", "model", "op", "tp")}
        return Measurements(self.device, self.precision, source=self.source, **fields)

    @staticmethod
    def of(kernels: Iterable, device: str, precision: str = "fp16",
           source: str = "") -> Measurements:
        """Measurements from ``(flops, bytes, time)`` triples of pint Quantities."""
        from symsys.units import to_magnitude

        rows = [(to_magnitude(f, "FLOP", "flops"), to_magnitude(q, "B", "bytes"),
                 to_magnitude(t, "s", "time")) for f, q, t in kernels]
        if not rows:
            raise InvalidParameter("measurements: no kernels given")
        flops, traffic, time = (np.array(column, dtype=float) for column in zip(*rows))
        return Measurements(device, precision, flops, traffic, time, source=source)


def _positive(row: dict, column: str, where: str, kind=int):
    """``row[column]`` as a positive finite ``kind``; a RegistryError naming the cell if not
    (a short row leaves None, a user's file may hold anything)."""
    text = row.get(column)
    try:
        value = kind(text)
    except (TypeError, ValueError):
        shown = text if text is None or len(text) < 40 else f"{text[:40]}..."
        raise RegistryError(f"{where}: column {column} is {shown!r}; expected a positive "
                            f"{'whole number' if kind is int else 'number'}") from None
    if not (value > 0 and math.isfinite(value)):
        raise RegistryError(f"{where}: column {column} is {text!r}; expected a positive, "
                            "finite value")
    return value


def gemm_shapes(row: dict, where: str) -> dict[str, tuple[int, int]]:
    """``op -> (in features K, out features N)`` per tensor-parallel rank for one CSV row."""
    heads, kv_heads, d, d_ff, tp = (_positive(row, c, where) for c in (
        "n_head", "n_kv_head", "n_embd", "n_expanded_embd", "num_tensor_parallel_workers"))
    gated = {"true": True, "false": False}.get(str(row.get("use_gated_mlp")).strip().lower())
    if gated is None:
        raise RegistryError(f"{where}: column use_gated_mlp is {row.get('use_gated_mlp')!r}; "
                            "expected true or false")
    d_h = d // heads
    full = {"attn_pre_proj": (d, (heads + 2 * kv_heads) * d_h, "out"),
            "attn_post_proj": (heads * d_h, d, "in"),
            "mlp_up_proj": (d, (2 if gated else 1) * d_ff, "out"),
            "mlp_down_proj": (d_ff, d, "in")}
    shapes = {}
    for op, (k_in, n_out, split) in full.items():
        divided = n_out if split == "out" else k_in
        if divided % tp:
            raise RegistryError(f"{where}: {op} dimension {divided} does not split {tp} ways")
        shapes[op] = (k_in // tp, n_out) if split == "in" else (k_in, n_out // tp)
    return shapes


def read_vidur(path: Path, precision: str = "fp16") -> tuple[str, str, list[tuple]]:
    """One Vidur CSV: ``(gpu, model, [(op, tokens, tp, K, N, median seconds), ...])``."""
    path = Path(path)
    if "__" not in path.stem:
        raise InvalidParameter(f"{path.name}: expected a file named <gpu>__<model>.csv")
    gpu, model = path.stem.split("__", 1)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RegistryError(f"{path.name}: not UTF-8 text (byte {exc.start}); expected a "
                            "CSV file in Vidur's format") from None
    except OSError as exc:
        raise RegistryError(f"{path.name}: cannot read it ({exc.strerror})") from None
    try:
        return gpu, model, _timed_rows(csv.DictReader(io.StringIO(text, newline="")),
                                       path.name)
    except csv.Error as exc:
        raise RegistryError(f"{path.name}: not a readable CSV file ({exc})") from None


def _timed_rows(reader, name: str) -> list[tuple]:
    wanted = [*SHAPE_COLUMNS, *(f"time_stats.{op}.median" for op in OPS)]
    missing = [c for c in wanted if c not in (reader.fieldnames or ())]
    if missing:
        raise RegistryError(f"{name}: missing column(s) {', '.join(missing)}")
    timed = []
    for line, row in enumerate(reader, start=2):
        where = f"{name}:{line}"
        shapes = gemm_shapes(row, where)
        tokens = _positive(row, "num_tokens", where)
        tp = _positive(row, "num_tensor_parallel_workers", where)
        for op in OPS:
            median_ms = _positive(row, f"time_stats.{op}.median", where, float)
            timed.append((op, tokens, tp, *shapes[op], median_ms * 1e-3))
    return timed


def load_vidur(folder: Path | None = None, precision: str = "fp16") -> dict[str, Measurements]:
    """Every ``<gpu>__<model>.csv`` in ``folder`` (default: the shipped copy), per device key.

    FLOPs and bytes are the tiled-GEMM law's useful work F and traffic Q (each matrix streamed
    once at the precision's element size: the least traffic the kernel can have).
    """
    from symsys.registry.hardware import Hardware

    folder = SHIPPED if folder is None else Path(folder)
    paths = sorted(folder.glob("*__*.csv")) if folder.is_dir() else [folder]
    if not paths:
        raise InvalidParameter(f"{folder}: no <gpu>__<model>.csv files found")
    source = _source_text(folder)
    grouped: dict[str, list] = {}
    for path in paths:
        gpu, model, timed = read_vidur(path, precision)
        key = Hardware[gpu].key  # UnknownHardware names the file's prefix
        grouped.setdefault(key, []).extend((model, *kernel) for kernel in timed)
    out = {}
    for key, rows in grouped.items():
        model, op, tokens, tp, k_in, n_out, seconds = (np.array(c) for c in zip(*rows))
        out[key] = _gemms(key, precision, tokens, n_out, k_in, seconds, model, op, tp, source)
    return out


def _gemms(device, precision, m, n, k, seconds, model, op, tp, source) -> Measurements:
    """Timed GEMMs of one device as Measurements: F and Q from the tiled-GEMM law at the
    precision's element size (each matrix streamed once: the least traffic it can have)."""
    from symsys.registry.hardware import PRECISION_BYTES

    m, n, k = (np.asarray(a, dtype=float) for a in (m, n, k))
    gemm = kernels.kernel("gemm_tiled", ("F", "Q")).named(
        {"M_g": m, "N_g": n, "K_g": k, "bytes_e": PRECISION_BYTES[precision]})
    return Measurements(
        device=device, precision=precision, flops=gemm["F"], bytes=gemm["Q"],
        time=np.asarray(seconds, dtype=float), m=m, n=n, k=k,
        model=np.asarray(model, dtype=object), op=np.asarray(op, dtype=object),
        tp=np.asarray(tp, dtype=int), source=source)


def _source_text(folder: Path) -> str:
    """The provenance line of a data folder: its README's first paragraph, else its path."""
    readme = folder / "README.md" if folder.is_dir() else None
    if readme is not None and readme.exists():
        for block in readme.read_text().split("\n\n"):
            if block.strip() and not block.lstrip().startswith("#"):
                return " ".join(block.split())
    return str(folder)


def load_gemm_table(path: Path = H200_GEMMS, device: str = "H200",
                    precision: str = "bf16") -> Measurements:
    """The GEMMs of one precision in a table of timed kernels (columns model, op, tp, m, n,
    k, precision, t_graph_s: seconds per kernel replayed back to back in a CUDA graph, the
    kernel without the CPU's launch), as :func:`load_vidur` gives Vidur's."""
    path = Path(path)
    with path.open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["precision"] == precision]
    if not rows:
        raise InvalidParameter(f"{path.name}: no {precision} GEMMs (precision column)")
    columns = {c: [row[c] for row in rows] for c in ("m", "n", "k", "t_graph_s", "model",
                                                      "op", "tp")}
    return _gemms(device, precision, *(np.array(columns[c], dtype=float)
                                       for c in ("m", "n", "k", "t_graph_s")),
                  columns["model"], columns["op"], [int(t) for t in columns["tp"]],
                  _source_text(path.parent))
