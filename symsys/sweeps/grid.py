"""The grid of a sweep: planning, blocked evaluation and the columns of any block of it.

A sweep is one :class:`Plan` per step law (decode, prefill, fixed workload), each a 10-D grid

    model x variant x peak x bandwidth x capacity x price x tensor_parallel x inputs
    x batch_size x seq_len

where a *variant* is a device (or a system: its device and fast domain) with its compute,
weight and K/V precisions, and the four hypothetical-hardware axes and the tensor-parallel
axis have length 1 unless swept (price only with cost columns). The *inputs* axis is the
cartesian product of the values given for any of the step law's inputs by symbol name
(``inputs={"a_acc": [0.6, 0.8], "t_o": Q_([0, 5], "us")}``; length 1 unless given). The
law is the one :func:`symsys.solvers.steps.choose` gives (``law=`` asks for one by name):
with a degree above 1 the tensor-parallel step law with n_g a broadcast input like the batch;
at n_g = 1 the single-device law. A degree the model's
K/V heads or the fast domain forbid (``Engine.solve`` raises for it) keeps its rows, with
``feasible`` False and the reason ``Engine.solve`` gives in the ``reason`` column. A plan
holds only the small per-axis input arrays (the batch axis may be a lazy ``range``), so any
rectangular block of the grid is evaluated on its own by :func:`evaluate` -- in this
process, in chunks, or on a Dask worker -- with the same compiled kernel, and
:class:`~symsys.sweeps.columns.BlockView` gives that block's columns. Plans are
picklable: a worker fetches the kernel from its own cache by (law, outputs, variant).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from symsys import kernels
from symsys.errors import InvalidParameter, UnsupportedPrecision, warn_beyond_max_context
from symsys.registry.hardware import resolve_precision
from symsys.registry.models import Transformer
from symsys.registry.systems import System
from symsys.solvers import PHASES, checks, steps
from symsys.solvers.cost import with_economics
from symsys.solvers.inputs import (
    calibrated_link,
    check_expert_split,
    law_input_value,
    resolve_model,
    resolve_placement,
    step_inputs,
    tensor_parallel_inputs,
)
from symsys.solvers.options import SET_BY
from symsys.solvers.sweep_result import OVER_CAPACITY  # noqa: F401 (re-exported)
from symsys.units import Q_, to_magnitude

#: cost and energy columns: outputs of the step laws' economics extension
#: (symsys.laws.economics), computed only when asked for (they need a price and a power)
ECONOMICS = {"cost_per_token": "c_tok", "energy_per_token": "E_tok",
             "tokens_per_joule": "eta_E"}
#: result column -> the law output it is (roles, the law's and its step role's, are read from
#: the law's card: :func:`resolve`)
QUANTITIES = {"latency": "latency", "latency_compute": "t_compute",
              "latency_memory": "t_memory", "arithmetic_intensity": "I",
              "memory_footprint": "footprint", "flops": "F", "bytes": "Q",
              "latency_communication": "communication", **ECONOMICS}
#: result column -> the law outputs (or roles) it needs
COLUMNS = {**{column: (output,) for column, output in QUANTITIES.items()},
           "communication_share": ("communication", "latency"),
           "throughput": ("rate",), "bottleneck": ("regimes",), "feasible": ("footprint",)}
#: the tensor-parallel law's communication time (two ring all-reduces per layer) and its
#: share of the step's latency: columns of sweeps with a ``tensor_parallel`` axis (0 at
#: degree 1), computed by default there
COMMUNICATION = ("latency_communication", "communication_share")
#: the columns a sweep computes unless told (plus COMMUNICATION with a tensor_parallel axis)
DEFAULT_COLUMNS = tuple(c for c in COLUMNS if c not in ECONOMICS and c not in COMMUNICATION)
AXES = ("model", "variant", "peak", "bandwidth", "capacity", "price", "tensor_parallel",
        "inputs", "batch_size", "seq_len")
BATCH_AXIS, SEQ_AXIS = AXES.index("batch_size"), AXES.index("seq_len")
TP_AXIS, INPUTS_AXIS = AXES.index("tensor_parallel"), AXES.index("inputs")

#: hypothetical hardware axis -> (the symbol it replaces, or the card role; unit)
HYPOTHETICAL = {"peak": ("Pi", "FLOP/s"), "bandwidth": ("beta", "B/s"),
                "capacity": ("capacity", "B"), "price": ("p_dev", "USD/s")}
#: the label columns of a variant, in the order of its tuple
VARIANT_LABELS = ("hardware", "precision", "weight_precision", "kv_precision")
#: configurations per kernel call: big enough to amortise the call, small enough for cache
BLOCK = 1 << 16


@dataclass
class Plan:
    """One law's grid: per-axis inputs as canonical magnitudes, broadcastable to ``shape``."""

    law: object
    names: tuple
    variant: str | None
    card: dict
    phase: str
    model_keys: list
    variants: list  # (hardware, precision, weight_precision, kv_precision)
    shape: tuple
    inputs: dict  # symbol -> 8-D array (1 on the axes it does not vary along)
    batches: object  # np.ndarray or range
    seqs: np.ndarray  # the seq_len column (0 where none)
    capacity: np.ndarray  # 8-D, what the footprint is checked against
    hypothetical: dict = field(default_factory=dict)  # axis -> 1-D magnitudes
    #: the tensor-parallel degrees (the axis; [1] unless swept), and whether the sweep has
    #: the axis (then rows carry ``tensor_parallel`` and ``reason``)
    degrees: np.ndarray = field(default_factory=lambda: np.ones(1, dtype=np.int64))
    parallel: bool = False
    #: 9-D codes, 0 where the degree is allowed, else 1 + the index of its reason in
    #: ``reasons`` (None: every degree is allowed)
    forbidden: np.ndarray | None = None
    reasons: list = field(default_factory=list)
    offset: int = 0  # row number of this plan's first configuration in the whole sweep
    #: the sweep mixes rates (tokens/s and samples/s): throughput is magnitudes, with a
    #: throughput_unit column beside it (as the assembled result has)
    mixed_rates: bool = False
    #: the law inputs swept by name: each a 1-D array along the inputs axis (the cartesian
    #: product of the values given, flattened), and its unit
    swept: dict = field(default_factory=dict)
    swept_units: dict = field(default_factory=dict)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def kernel(self):
        return kernels.kernel(self.law, self.names, self.variant)


def _listify(value, name: str) -> list:
    if value is None or isinstance(value, str) or not hasattr(value, "__len__"):
        return [value]
    try:
        len(value)
    except TypeError:  # a scalar that defines __len__ (a pint Quantity, a 0-d array)
        return [value]
    if len(value) == 0:
        raise InvalidParameter(f"{name}: a sweep axis is empty")
    return list(value)


def _axis(value) -> np.ndarray:
    array = np.atleast_1d(np.asarray(value))
    if array.ndim != 1:
        raise InvalidParameter("sweep axes must be scalars or 1-D arrays")
    return array


def _batch_axis(batch_size):
    """The batch axis: a validated array, or a ``range`` kept lazy (1e9 batches are 8 GB)."""
    if isinstance(batch_size, range):
        if len(batch_size) == 0 or min(batch_size[0], batch_size[-1]) < 1:
            raise InvalidParameter(f"batch_size={batch_size!r}: expected a non-empty range "
                                   "of batch sizes >= 1")
        return batch_size
    return _axis(checks.positive_int("batch_size", batch_size, array=True))


def hypothetical_axis(name: str, value) -> np.ndarray | None:
    """``peak=``/``bandwidth=``/``capacity=`` as canonical magnitudes (units required)."""
    if value is None:
        return None
    unit = HYPOTHETICAL[name][1]
    if isinstance(value, str):
        from symsys.units import parse_quantity

        value = parse_quantity(value, unit, name, error=InvalidParameter)
    elif isinstance(value, list | tuple):
        value = [parse_quantity_item(name, v, unit) for v in value]
        magnitudes = np.asarray(value, dtype=float)
        return _checked_axis(name, magnitudes, unit)
    magnitudes = np.asarray(to_magnitude(value, unit, name), dtype=float)
    return _checked_axis(name, np.atleast_1d(magnitudes), unit)


def parse_quantity_item(name: str, value, unit: str) -> float:
    if isinstance(value, str):
        from symsys.units import parse_quantity

        value = parse_quantity(value, unit, name, error=InvalidParameter)
    return float(to_magnitude(value, unit, name))


def _checked_axis(name: str, magnitudes: np.ndarray, unit: str) -> np.ndarray:
    if magnitudes.ndim != 1 or magnitudes.size == 0:
        raise InvalidParameter(f"{name}: expected a scalar or a non-empty 1-D array")
    bad = magnitudes[~(np.isfinite(magnitudes) & (magnitudes > 0))]
    if bad.size:
        raise InvalidParameter(f"{name}: every value must be finite and > 0 {unit}; got "
                               f"{bad[0]!r} {unit}")
    return magnitudes


def _wanted(columns, parallel: bool = False) -> tuple[str, ...]:
    if columns is None:
        return DEFAULT_COLUMNS + (COMMUNICATION if parallel else ())
    if isinstance(columns, str):
        columns = [columns]
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown or not columns:
        raise InvalidParameter(f"columns={columns!r}: choose from {', '.join(COLUMNS)}")
    needs_axis = [c for c in columns if c in COMMUNICATION]
    if needs_axis and not parallel:
        raise InvalidParameter(f"columns {', '.join(needs_axis)}: communication comes with a "
                               "tensor-parallel axis: tensor_parallel=[1, 2, 4, 8]")
    return tuple(columns)


def degrees_axis(tensor_parallel) -> np.ndarray | None:
    """``tensor_parallel=`` as a 1-D array of degrees >= 1 (None: no axis)."""
    if tensor_parallel is None:
        return None
    if isinstance(tensor_parallel, range):
        tensor_parallel = list(tensor_parallel)
    degrees = _axis(checks.positive_int("tensor_parallel", tensor_parallel, array=True))
    return degrees.astype(np.int64)


def _device(entry):
    """The device of a variant's hardware entry (a device, or a system's device)."""
    return entry.hardware if isinstance(entry, System) else entry


def _variants(devices, precisions, weights, kvs, skipped) -> list:
    """(device or system, compute, weight, K/V precision) with each name resolved for the
    device; devices without the compute precision go to ``skipped`` with the reason."""
    out = []
    for entry, asked in itertools.product(devices, precisions):
        hw = _device(entry)
        prec = resolve_precision(hw, asked)
        if prec not in hw.compute.peak_dense:
            reason = (f"{hw.key} has no {prec} (it has {', '.join(hw.compute.precisions)})")
            if reason not in skipped:
                skipped.append(reason)
            continue
        for w, kv in itertools.product(weights, kvs):
            variant = (entry, prec,
                       prec if w is None else resolve_precision(hw, w, "weight_precision"),
                       prec if kv is None else resolve_precision(hw, kv, "kv_precision"))
            if variant not in out:
                out.append(variant)
    return out


def plan_sweep(*, model, hardware, batch_size, seq_len, precision, phase, weight_precision,
               kv_precision, efficiency, columns, peak, bandwidth, capacity, price=None,
               power=None, power_fraction=1.0, tensor_parallel=None, memory_fraction=1.0,
               expert_parallel=1, law=None, inputs=None):
    """The plans of a sweep (one per step law), the skipped pairs' reasons, the columns."""
    from symsys.solvers.options import OPTIONS

    law = OPTIONS["law"].validated(law)
    by_name = swept_inputs(inputs)
    degrees = degrees_axis(tensor_parallel)
    if np.ndim(expert_parallel) or isinstance(expert_parallel, list | tuple | range):
        raise InvalidParameter(f"expert_parallel={expert_parallel!r}: one degree for the "
                               "whole sweep, not an axis")
    experts = checks.positive_int("expert_parallel", expert_parallel)
    if experts > 1 and degrees is None:  # the expert-parallel law has a tensor-parallel group
        degrees = np.ones(1, dtype=np.int64)
    if np.ndim(memory_fraction) or isinstance(memory_fraction, list | tuple | range):
        raise InvalidParameter(f"memory_fraction={memory_fraction!r}: one value for the whole "
                               "sweep, not an axis")
    fraction = checks.memory_fraction(memory_fraction)
    wanted = _wanted(columns, degrees is not None)
    models = [resolve_model(m) for m in _listify(model, "model")]
    if experts > 1:
        for m in models:  # a dense model, or experts that do not split: Engine.solve's error
            if not isinstance(m, Transformer):
                raise InvalidParameter(f"{m.key} is a fixed workload: expert_parallel applies "
                                       "to MoE transformers only")
            check_expert_split(m, experts, 1)
    devices = [_placement(h) for h in _listify(hardware, "hardware")]
    precisions = _listify(precision, "precision")
    weights = _listify(weight_precision, "weight_precision")
    kvs = _listify(kv_precision, "kv_precision")
    phases = [checks.choice("phase", p, PHASES) for p in _listify(phase, "phase")]
    batches = _batch_axis(batch_size)
    seqs = (None if seq_len is None else
            _axis(checks.positive_int("seq_len", seq_len, allow_zero=True, array=True)))
    hypothetical = {name: axis for name, value in
                    (("peak", peak), ("bandwidth", bandwidth), ("capacity", capacity),
                     ("price", price))
                    if (axis := hypothetical_axis(name, value)) is not None}
    skipped: list = []
    variants = _variants(devices, precisions, weights, kvs, skipped)
    if not variants:
        raise UnsupportedPrecision("no device in the sweep has the requested precision: "
                                   + "; ".join(skipped))
    economics = None
    if any(c in ECONOMICS for c in wanted):
        # a given price is an axis (replacing p_dev); the scenarios need one to be built
        given = None if price is None else Q_(hypothetical["price"][0], "USD/s")
        economics = dict(price=given, power=power, power_fraction=power_fraction)
    elif price is not None or power is not None:
        raise InvalidParameter("price=/power= need a cost or energy column: columns="
                               f"[..., {', '.join(repr(c) for c in ECONOMICS)}]")
    plans, offset = [], 0
    for phase_value in phases:
        groups: dict = {}
        for m in models:
            groups.setdefault(_law_of(m, phase_value, economics, degrees, experts, law,
                                      by_name), []).append(m)
        for step, group in groups.items():
            plan = _plan(step, group, variants, batches, seqs, phase_value, efficiency, wanted,
                         hypothetical, economics, degrees, fraction, experts, law, by_name)
            plan.offset, offset = offset, offset + plan.size
            plans.append(plan)
    wanted = _answered(wanted, plans, columns is None)
    mixed = len({p.card["units"][p.card["rate"]] for p in plans}) > 1
    for plan in plans:
        plan.mixed_rates = mixed and "throughput" in wanted
    return plans, skipped, wanted


def _placement(hardware):
    """A device, or a system (its device with the system's fast domain for the collectives;
    its rows are labelled with the system's key)."""
    device, system = resolve_placement(hardware)
    return device if system is None else system


def _parallel(degrees) -> bool:
    """Whether a sweep's degrees need the tensor-parallel law (at 1 only: the single-device
    law, which the tensor-parallel law equals there)."""
    return degrees is not None and bool((degrees > 1).any())


def swept_inputs(inputs) -> dict[str, list]:
    """``inputs=`` of a sweep: symbol name -> its values (a scalar is one value)."""
    if inputs is None:
        return {}
    from collections.abc import Mapping

    if not isinstance(inputs, Mapping):
        raise InvalidParameter(f"inputs={inputs!r}: expected a dict of symbol name to a value "
                               "or a list of values, e.g. {'a_acc': [0.6, 0.8]}")
    for name in inputs:
        if not (isinstance(name, str) and name.isidentifier()):
            raise InvalidParameter(f"inputs: {name!r} is not a symbol name")
    return {name: _listify(value, f"inputs: {name}") for name, value in inputs.items()}


def _law_of(model, phase, economics=None, degrees=None, experts=1, law=None, given=None):
    if isinstance(model, Transformer):
        asked = {name for name, on in (("tensor", _parallel(degrees)), ("expert", experts > 1))
                 if on}
        step, _ = steps.choose(phase, asked, law)
        return steps.cost_law(step) if economics else step
    if law is not None or given:
        raise InvalidParameter(f"{model.key} is a fixed workload: law= and inputs= choose and "
                               "feed a transformer's step law")
    if experts > 1:
        raise InvalidParameter(f"{model.key} is a fixed workload: expert_parallel applies to "
                               "MoE transformers only")
    if _parallel(degrees):
        raise InvalidParameter(f"{model.key} is a fixed workload: tensor_parallel applies to "
                               "transformers only (sweep it with tensor_parallel=1)")
    if economics:
        raise InvalidParameter(f"{model.key}: cost and energy per token apply to transformer "
                               "steps (a fixed workload yields samples, not tokens)")
    if phase != "decode":
        raise InvalidParameter(f"{model.key}: phase={phase!r} applies to transformers only")
    return kernels.LawRef("fixed_workload")


def _seq_axis(models, seqs, phase) -> np.ndarray | None:
    """The context axis of a group (None: no context), after the checks of one prefill."""
    transformer = isinstance(models[0], Transformer)
    if phase == "prefill" and transformer:
        if seqs is None:
            raise InvalidParameter("phase='prefill' needs seq_len (the prompt length)")
        if np.any(seqs < 1):
            raise InvalidParameter(f"seq_len={seqs.tolist()}: a prefill needs prompts of at "
                                   "least 1 token (0 is allowed for decode only)")
    if seqs is None or not transformer:
        return None
    for m in models:
        warn_beyond_max_context(m, int(seqs.max()) + (phase == "decode"))
    return seqs


def _grid(array: np.ndarray, axis: int) -> np.ndarray:
    view = [1] * len(AXES)
    view[axis] = -1
    return np.asarray(array, dtype=float).reshape(view)


def _plan(law, models, variants, batches, seqs, phase, efficiency, wanted, hypothetical,
          economics=None, degrees=None, fraction=1.0, experts=1, named=None, given=None):
    seq_axis = _seq_axis(models, seqs, phase)
    ref_seq = None if seq_axis is None else int(seq_axis[0])
    given = given or {}
    # an input a step option decides that the sweep does not take (t_o: overhead) is swept
    # here directly; the rest are bound (and checked) by step_inputs at their first value
    direct = {n for n in given if SET_BY.get(n) in _unswept_options()}
    if not isinstance(models[0], Transformer):
        named, first = None, None
    else:
        first = {n: values[0] for n, values in given.items() if n not in direct} or None
    # inputs come from step_inputs (one per model x variant), so validation and the mapping
    # from registry to symbols are the single ones in inputs.py
    scenarios = [[step_inputs(m, hw, precision=p, phase=phase, seq_len=ref_seq,
                              weight_precision=w, kv_precision=kv, efficiency=efficiency,
                              memory_fraction=fraction, law=named, inputs=first)
                  for hw, p, w, kv in variants] for m in models]
    forbidden, reasons = None, []
    if _parallel(degrees) or experts > 1:
        scenarios = [[_tensor_parallel(s, v[0], degrees, experts) for s, v in zip(row, variants)]
                     for row in scenarios]
        forbidden, reasons = _forbidden(models, variants, degrees, experts)
    if economics:  # the same scenarios, bound to the cost-and-energy extension of the law
        scenarios = [[with_economics(s, **economics) for s in row] for row in scenarios]
    card = scenarios[0][0].card
    names = _outputs(card, wanted)
    dense = all(row[0].variant == "dense" for row in scenarios)
    variant = "dense" if dense else None
    fn = kernels.kernel(law, names, variant)
    replaced = {HYPOTHETICAL[a][0] if a != "capacity" else card["capacity"]: a
                for a in hypothetical}
    unknown = [n for n in direct if n not in card["inputs"]]
    if unknown:
        raise InvalidParameter(f"inputs: the {card['law']} law has no input "
                               f"{', '.join(map(repr, unknown))}")
    swept = _swept(given, card, replaced)
    inputs = {name: _grid(values, INPUTS_AXIS) for name, values in swept.items()}
    for name in fn.args:
        if name in ("b", "s") or name in swept:
            continue
        if name in replaced:
            axis = hypothetical[replaced[name]]
            if replaced[name] == "capacity":  # the usable share of the swept capacity
                axis = axis * fraction
            inputs[name] = _grid(axis, AXES.index(replaced[name]))
            continue
        # one value per model x variant; most vary along one of the two only
        table = np.array([[s.values[name] for s in row] for row in scenarios], dtype=float)
        if (table == table[:, :1]).all():
            table = table[:, :1]
        elif (table == table[:1]).all():
            table = table[:1]
        inputs[name] = table.reshape(table.shape + (1,) * (len(AXES) - 2))
    capacity = (_grid(hypothetical["capacity"] * fraction, AXES.index("capacity"))
                if "capacity" in hypothetical else inputs[card["capacity"]]
                if card["capacity"] in swept else
                _grid([s.values[card["capacity"]] for s in scenarios[0]], 1))
    seq_values = np.zeros(1) if seq_axis is None else seq_axis.astype(float)
    inputs["s"] = _grid(seq_values, AXES.index("seq_len"))
    tp = np.ones(1, dtype=np.int64) if degrees is None else degrees
    if "n_g" in inputs:
        inputs["n_g"] = _grid(tp, TP_AXIS)
    combinations = len(next(iter(swept.values()))) if swept else 1
    shape = (len(models), len(variants), *(len(hypothetical.get(a, [0]))
                                           for a in ("peak", "bandwidth", "capacity", "price")),
             len(tp), combinations, len(batches), len(seq_values))
    return Plan(law=law, names=names, variant=variant, card=card, phase=phase,
                model_keys=[m.key for m in models],
                variants=[(hw.key, p, w, kv) for hw, p, w, kv in variants], shape=shape,
                inputs=inputs, batches=batches, seqs=seq_values.astype(np.int64),
                capacity=capacity, hypothetical=hypothetical, degrees=tp,
                parallel=degrees is not None, forbidden=forbidden, reasons=reasons,
                swept=swept, swept_units={n: card["units"][n] for n in swept})


@functools.cache
def _unswept_options() -> frozenset:
    """The step options the sweep does not take (their inputs are swept by name)."""
    import inspect

    from symsys.solvers.options import OPTIONS

    return frozenset(OPTIONS) - set(inspect.signature(plan_sweep).parameters)


def _swept(given: dict, card: dict, replaced: dict) -> dict[str, np.ndarray]:
    """The inputs axis: each swept input's magnitudes over the cartesian product of the
    values given (their names were checked against the law by ``step_inputs``)."""
    twice = [n for n in given if n in replaced]
    if twice:
        raise InvalidParameter(f"inputs: {', '.join(twice)} is swept by "
                               f"{', '.join(replaced[n] for n in twice)}= already; give one")
    clash = [n for n in given if n in COLUMNS or n in AXES]
    if clash:
        raise InvalidParameter(f"inputs: {', '.join(clash)} would name a column of its own")
    combos = list(itertools.product(*given.values()))
    return {name: np.array([law_input_value(name, combo[i], card["units"][name])
                            for combo in combos])
            for i, name in enumerate(given)}


def _tensor_parallel(scenario, entry, degrees, experts=1):
    """A single-device scenario bound to the tensor-parallel law, its group size an axis: the
    link inputs of ``tensor_parallel_inputs`` (at degree 1, which every model and domain
    allow; the degrees are checked per row by :func:`_forbidden`) and, with a calibration
    profile, the calibrated link, as ``Engine.solve`` binds them. With ``experts`` > 1, the
    expert-parallel law over that many devices (the tensor-parallel degree still the axis)."""
    hw, system = resolve_placement(entry)
    values = dict(scenario.values)
    try:
        values.update(tensor_parallel_inputs(scenario.model, hw, 1, None,
                                             scenario.options["precision"], system))
    except InvalidParameter as exc:
        raise InvalidParameter(
            f"tensor_parallel={degrees.tolist()}: {(system or hw).key} has no device-to-device "
            "link with a sourced bandwidth in the registry, and a tensor-parallel group "
            "all-reduces over one. Sweep it with tensor_parallel=1 only, or give a system "
            "whose fast domain is sourced (symsys zoo systems, e.g. DGX_H100)") from exc
    calibrated_link(values, hw, system, scenario.profile, None)
    law, _ = steps.choose(scenario.options["phase"],
                          {"tensor", *(("expert",) if experts > 1 else ())},
                          scenario.options.get("step_law"))
    if experts > 1:
        values.update(n_ep=experts, L_d=scenario.model.shape.dense_layers or 0)
    return dataclasses.replace(scenario, law=law, values=values)


def _forbidden(models, variants, degrees, experts=1) -> tuple[np.ndarray, list]:
    """Per model x variant x degree: 0 where ``Engine.solve(tensor_parallel=n)`` accepts the
    degree, else 1 + the index of its error (the K/V heads do not split over n, or n exceeds
    the fast domain) in the returned reasons."""
    codes = np.zeros((len(models), len(variants), len(degrees)), dtype=np.int16)
    reasons: list = []
    for (i, m), (j, (entry, precision, _, _)) in itertools.product(enumerate(models),
                                                                   enumerate(variants)):
        hw, system = resolve_placement(entry)
        for k, n in enumerate(degrees.tolist()):
            try:
                check_expert_split(m, experts, n)
                tensor_parallel_inputs(m, hw, n, None, precision, system, experts=experts)
            except InvalidParameter as exc:
                reason = str(exc)
                if reason not in reasons:
                    reasons.append(reason)
                codes[i, j, k] = 1 + reasons.index(reason)
    if not codes.any():
        return None, []
    view = [1] * len(AXES)
    view[0], view[1], view[TP_AXIS] = codes.shape
    return codes.reshape(view), reasons


#: the roles of a step law's card that name outputs
_STEP_ROLES = ("communication", "dispatch", "stage")


def resolve(card: dict, name: str) -> str | None:
    """The output a column's entry names: a role of the law (``latency``, ``rate``,
    ``footprint``) or of its step role (``communication``...; None where the law declares
    none: a single-device step communicates for 0 s), else the output of that name."""
    if name in _STEP_ROLES:
        return (card.get("step") or {}).get(name)
    return card.get(name) or name


def _answered(wanted, plans, defaulted: bool) -> tuple[str, ...]:
    """The wanted columns every plan's law has outputs for: a default column a law does not
    define (a law of another package need not define the intensity ``I``) is left out, one
    asked for is an error naming the law."""
    def has(card, column):
        if column in COMMUNICATION:  # 0 on a single-device law, whose degree is 1
            return True
        return all(output == "regimes" or resolve(card, output) in card["outputs"]
                   for output in COLUMNS[column])

    missing = {c: p.card["law"] for c in wanted for p in plans if not has(p.card, c)}
    if missing and not defaulted:
        raise InvalidParameter("columns: " + "; ".join(
            f"the {law} law has no output for {column!r}" for column, law in missing.items()))
    return tuple(c for c in wanted if c not in missing)


def _outputs(card: dict, wanted) -> tuple[str, ...]:
    """The law outputs the wanted columns need, in the law's order (roles resolved)."""
    needed = set()
    for column in wanted:
        for output in COLUMNS[column]:
            if output == "regimes":
                needed |= {term for _, term in card["regimes"]}
            else:
                needed.add(resolve(card, output))
    return tuple(n for n in card["outputs"] if n in needed)


def batch_values(batches, part: slice) -> np.ndarray:
    sub = batches[part]
    return np.arange(sub.start, sub.stop, sub.step) if isinstance(sub, range) else sub


def _sliced(array: np.ndarray, slices) -> np.ndarray:
    return array[tuple(s if n > 1 else slice(None) for s, n in zip(slices, array.shape))]


def evaluate(plan: Plan, slices: tuple) -> dict:
    """The law outputs over one rectangular block of the plan's grid (one slice per axis),
    in calls of about ``BLOCK`` configurations along the batch axis."""
    fn = plan.kernel()
    shape = tuple(s.stop - s.start for s in slices)
    fixed = {name: _sliced(array, slices) for name, array in plan.inputs.items()}
    batches = batch_values(plan.batches, slices[BATCH_AXIS]).astype(float)
    out = {n: np.empty(shape) for n in plan.names}
    others = math.prod(shape) // shape[BATCH_AXIS]
    step = max(1, BLOCK // max(others, 1))
    with np.errstate(all="ignore"):  # non-finite results are reported just below
        for start in range(0, shape[BATCH_AXIS], step):
            part = slice(start, start + step)
            fixed["b"] = _grid(batches[part], BATCH_AXIS)
            where = (slice(None),) * BATCH_AXIS + (part, slice(None))
            for name, value in zip(plan.names, fn.raw(*(fixed[a] for a in fn.args))):
                out[name][where] = value
    if not all(np.isfinite(out[n]).all() for n in plan.names):
        raise InvalidParameter("sweep: latency or footprint would be inf or NaN at some points "
                               "(an input far outside any physical range)")
    return {n: v.reshape(-1) for n, v in out.items()}

