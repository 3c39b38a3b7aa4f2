"""Vectorised sweeps: the same keywords as ``Engine.solve``, each a value or a list/array.

The cartesian product of every list-valued keyword is evaluated by broadcast calls of the
step law's compiled function, never a Python loop per configuration. The calls run over
blocks of about 64k configurations (arrays that stay in cache are ~2x faster than one huge
call), and compute only the outputs the result reports. ``chunk_size=`` turns the sweep into
an iterator of results of at most that many configurations, so 1e8 configurations run in
bounded memory (a ``range`` batch axis is never materialised whole). Device/precision pairs
the device lacks are not silently dropped: they are listed in ``result.skipped`` with the
reason, and printed under the table.
"""

from __future__ import annotations

import itertools

import numpy as np

from symsys import kernels
from symsys.errors import InvalidParameter, UnsupportedPrecision, warn_beyond_max_context
from symsys.registry.hardware import check_precision
from symsys.registry.models import Transformer
from symsys.solvers import PHASES, STEP_LAWS, validate
from symsys.solvers.inputs import resolve_hardware, resolve_model, step_inputs
from symsys.solvers.result import regime_codes
from symsys.solvers.sweep_result import SweepResult, axis_codes
from symsys.units import to_quantity


def _listify(value) -> list:
    if isinstance(value, str) or not hasattr(value, "__len__"):
        return [value]
    try:
        len(value)
    except TypeError:  # a scalar that defines __len__ (a pint Quantity, a 0-d array)
        return [value]
    if len(value) == 0:
        raise InvalidParameter("a sweep axis is empty")
    return list(value)


def _axis(value) -> np.ndarray:
    array = np.atleast_1d(np.asarray(value))
    if array.ndim != 1:
        raise InvalidParameter("sweep axes must be scalars or 1-D arrays")
    return array


def _law_of(model, phase):
    from symsys.registry.models import Transformer

    if isinstance(model, Transformer):
        return kernels.LawRef(STEP_LAWS[phase])
    if phase != "decode":
        raise InvalidParameter(f"{model.key}: phase={phase!r} applies to transformers only")
    return kernels.LawRef("fixed_workload")


#: result column -> the law output it is (roles are read from the law's card)
QUANTITIES = {"latency": "latency", "latency_compute": "t_compute",
              "latency_memory": "t_memory", "arithmetic_intensity": "I",
              "memory_footprint": "footprint", "flops": "F", "bytes": "Q"}
#: result column -> the law outputs (or roles) it needs
COLUMNS = {**{column: (output,) for column, output in QUANTITIES.items()},
           "throughput": ("rate",), "bottleneck": ("regimes",), "feasible": ("footprint",)}


def sweep(model, hardware, batch_size=1, seq_len=None, precision="fp16", phase="decode",
          weight_precision=None, kv_precision=None, efficiency=None, columns=None,
          chunk_size=None):
    """Evaluate every combination of the list-valued arguments; see the module docstring.

    ``columns``: the result columns to compute (default all of ``COLUMNS``; fewer is faster:
    ``columns=["latency"]`` evaluates the latency alone). ``chunk_size``: return an iterator
    of results covering at most that many configurations each, split along the batch axis.
    """
    wanted = _wanted(columns)
    if chunk_size is not None:
        return _chunks(dict(model=model, hardware=hardware, seq_len=seq_len,
                            precision=precision, phase=phase, weight_precision=weight_precision,
                            kv_precision=kv_precision, efficiency=efficiency, columns=columns),
                       batch_size, chunk_size)
    models = [resolve_model(m) for m in _listify(model)]
    devices = [resolve_hardware(h) for h in _listify(hardware)]
    precisions = [check_precision(p) for p in _listify(precision)]
    phases = [validate.choice("phase", p, PHASES) for p in _listify(phase)]
    batches = _axis(validate.positive_int("batch_size", batch_size, array=True))
    seqs = (None if seq_len is None else
            _axis(validate.positive_int("seq_len", seq_len, allow_zero=True, array=True)))

    pieces, skipped = [], []
    for phase_value, law_models in ((p, _group(models, p)) for p in phases):
        for law, group in law_models.items():
            pairs = []
            for hw, prec in itertools.product(devices, precisions):
                if prec in hw.compute.peak_dense:
                    pairs.append((hw, prec))
                elif (hw.key, prec) not in {(s[0], s[1]) for s in skipped}:
                    skipped.append((hw.key, prec, f"{hw.key} has no {prec} (it has "
                                    f"{', '.join(hw.compute.precisions)})"))
            if not pairs:
                continue
            pieces.append(_evaluate(law, group, pairs, batches, seqs, phase_value,
                                    weight_precision, kv_precision, efficiency, wanted))
    if not pieces:
        raise UnsupportedPrecision("no device in the sweep has the requested precision: "
                                   + "; ".join(s[2] for s in skipped))
    return _concatenate(pieces, [s[2] for s in skipped], wanted)


def _wanted(columns) -> tuple[str, ...]:
    if columns is None:
        return tuple(COLUMNS)
    if isinstance(columns, str):
        columns = [columns]
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown or not columns:
        raise InvalidParameter(f"columns={columns!r}: choose from {', '.join(COLUMNS)}")
    return tuple(columns)


def _chunks(arguments: dict, batch_size, chunk_size):
    """Results of at most ``chunk_size`` configurations, along the batch axis."""
    chunk_size = validate.positive_int("chunk_size", chunk_size)
    if not isinstance(batch_size, range):  # a range stays lazy: 1e8 batches are 800 MB
        batch_size = _axis(validate.positive_int("batch_size", batch_size, array=True))
    probe = sweep(batch_size=batch_size[:1], **arguments)  # configurations per batch value
    per_batch = max(1, chunk_size // len(probe))
    for start in range(0, len(batch_size), per_batch):
        part = batch_size[start:start + per_batch]
        yield sweep(batch_size=np.arange(part.start, part.stop, part.step)
                    if isinstance(part, range) else part, **arguments)


def _group(models, phase) -> dict:
    groups: dict = {}
    for m in models:
        groups.setdefault(_law_of(m, phase), []).append(m)
    return groups


#: configurations per kernel call: big enough to amortise the call, small enough for cache
BLOCK = 1 << 16
_HARDWARE = ("Pi", "beta", "C_mem", "eta_c", "eta_m", "t_kern", "bytes_w", "bytes_kv")


def _evaluate(law, models, pairs, batches, seqs, phase, weight_precision, kv_precision,
              efficiency, wanted) -> dict:
    """Blocked broadcast calls over (model, device/precision, batch, seq_len)."""
    transformer = isinstance(models[0], Transformer)
    if phase == "prefill" and transformer:  # the checks step_inputs makes for one prefill
        if seqs is None:
            raise InvalidParameter("phase='prefill' needs seq_len (the prompt length)")
        if np.any(seqs < 1):
            raise InvalidParameter(f"seq_len={seqs.tolist()}: a prefill needs prompts of at "
                                   "least 1 token (0 is allowed for decode only)")
    seq_axis = seqs if (seqs is not None and transformer) else np.array([None], dtype=object)
    if seqs is not None and transformer:
        for m in models:
            warn_beyond_max_context(m, int(seqs.max()) + (phase == "decode"))
    # inputs come from step_inputs (one per model x device/precision), so validation and the
    # mapping from registry to symbols are the single ones in inputs.py
    ref_seq = None if seq_axis[0] is None else int(seq_axis[0])
    scenarios = [[step_inputs(m, hw, precision=prec, phase=phase, seq_len=ref_seq,
                              weight_precision=weight_precision, kv_precision=kv_precision,
                              efficiency=efficiency) for hw, prec in pairs] for m in models]
    cases = [[scenario.values for scenario in row] for row in scenarios]
    shape = (len(models), len(pairs), len(batches), len(seq_axis))
    card = scenarios[0][0].card
    names = _outputs(card, wanted)
    dense = all(row[0].variant == "dense" for row in scenarios)
    fn = kernels.kernel(law, names, "dense" if dense else None)
    fixed = {}
    for name in fn.args:
        if name in ("b", "s"):
            continue
        if name in _HARDWARE:
            fixed[name] = np.array([v[name] for v in cases[0]]).reshape(1, -1, 1, 1)
        else:
            fixed[name] = np.array([row[0][name] for row in cases]).reshape(-1, 1, 1, 1)
    fixed["s"] = np.asarray([0 if x is None else x for x in seq_axis],
                            dtype=float).reshape(1, 1, 1, -1)
    out = {n: np.empty(shape) for n in names}
    step = max(1, BLOCK // (shape[0] * shape[1] * shape[3]))
    with np.errstate(all="ignore"):  # non-finite results are reported just below
        for start in range(0, len(batches), step):
            block = slice(start, start + step)
            fixed["b"] = batches[block].astype(float).reshape(1, 1, -1, 1)
            for name, value in zip(names, fn.raw(*(fixed[a] for a in fn.args))):
                out[name][:, :, block, :] = value
    if not all(np.isfinite(out[n]).all() for n in names):
        raise InvalidParameter("sweep: latency or footprint would be inf or NaN at some points "
                               "(an input far outside any physical range)")
    return {"law": law, "shape": shape, "phase": phase, "models": models, "pairs": pairs,
            "batches": batches, "seq_axis": seq_axis, "card": card,
            "capacity": np.array([v[card["capacity"]] for v in cases[0]]),  # per pair, as bound
            "values": {n: v.reshape(-1) for n, v in out.items()}}


def _outputs(card: dict, wanted) -> tuple[str, ...]:
    """The law outputs the wanted columns need, in the law's order (roles resolved)."""
    needed = set()
    for column in wanted:
        for output in COLUMNS[column]:
            if output == "regimes":
                needed |= {term for _, term in card["regimes"]}
            else:
                needed.add(card.get(output) or output)
    return tuple(n for n in card["outputs"] if n in needed)


def _piece_columns(piece, wanted) -> tuple[dict, dict, int]:
    """(categories, lazy numeric columns, length) of one evaluated piece."""
    shape, values, card = piece["shape"], piece["values"], piece["card"]
    pairs = piece["pairs"]
    categories = {
        "model": (axis_codes(0, shape), [m.key for m in piece["models"]]),
        "hardware": (axis_codes(1, shape), [hw.key for hw, _ in pairs]),
        "precision": (axis_codes(1, shape), [p for _, p in pairs]),
        "phase": (lambda: np.zeros(int(np.prod(shape)), dtype=np.int8), [piece["phase"]]),
    }
    if "bottleneck" in wanted:
        categories["bottleneck"] = (lambda: regime_codes(card["regimes"], values),
                                    [label for label, _ in card["regimes"]])
    batches = piece["batches"]
    # decode without seq_len has no cached context: s = 0; fixed workloads have none
    seqs = np.asarray([0 if x is None else x for x in piece["seq_axis"]])
    capacity = piece["capacity"]
    lazy = {
        "batch_size": lambda: batches[axis_codes(2, shape)()],
        "seq_len": lambda: seqs[axis_codes(3, shape)()],
        "throughput_value": lambda: values.get(card["rate"]),
        "feasible": lambda: values[card["footprint"]] <= capacity[axis_codes(1, shape)()],
    }
    return categories, lazy, int(np.prod(shape))


def _concatenate(pieces, skipped, wanted) -> SweepResult:
    cards = [p["card"] for p in pieces]
    units = [card["units"][card["rate"]] for card in cards]
    built = [_piece_columns(p, wanted) for p in pieces]

    def joined(get):
        parts = [get(i) for i in range(len(pieces))]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def output(card, column):
        name = QUANTITIES[column]
        return card.get(name) or name

    columns = {column: to_quantity(joined(lambda i, c=column: pieces[i]["values"][
                   output(cards[i], c)]), cards[0]["units"][output(cards[0], column)])
               for column in QUANTITIES if column in wanted}
    categories = {}
    for name in built[0][0]:
        labels = sorted({label for b in built for label in b[0][name][1]})
        if len(built) == 1:
            codes, own = built[0][0][name]
            remap = np.array([labels.index(x) for x in own])
            categories[name] = ((lambda c=codes, r=remap: r[c()]), labels)
        else:
            codes = [np.array([labels.index(x) for x in b[0][name][1]])[b[0][name][0]()]
                     for b in built]
            categories[name] = (np.concatenate(codes), labels)
    lazy = {name: (lambda n=name: joined(lambda i: built[i][1][n]()))
            for name in ("batch_size", "seq_len", "feasible")
            if name in wanted or name in ("batch_size", "seq_len")}
    def throughput():
        return joined(lambda i: built[i][1]["throughput_value"]())

    if "throughput" in wanted and len(set(units)) == 1:
        lazy["throughput"] = lambda: to_quantity(throughput(), units[0])
    elif "throughput" in wanted:  # tokens/s and samples/s together: magnitudes, with the unit
        # of each row beside them
        labels = sorted(set(units))
        lazy["throughput"] = throughput
        categories["throughput_unit"] = (
            (lambda: np.concatenate([np.full(b[2], labels.index(u)) for b, u in
                                     zip(built, units)])), labels)
    return SweepResult(columns, skipped, categories, lazy, sum(b[2] for b in built))
