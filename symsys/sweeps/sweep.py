"""Vectorised sweeps: the same keywords as ``Engine.solve``, each a value or a list/array.

The cartesian product of every list-valued keyword is evaluated by broadcast calls of the
step law's compiled function, never a Python loop per configuration. A sweep is planned as
one grid per step law (see :mod:`symsys.sweeps.grid`): models x device variants
(device, compute, weight and KV precision) x hypothetical peak x bandwidth x capacity x
price x tensor-parallel degree x the law inputs swept by name x batch x context. The
calls run over blocks of about 64k configurations (arrays that stay in cache are ~2x faster
than one huge call), and compute only the outputs the result reports.

``chunk_size=`` turns the sweep into an iterator of results of at most that many
configurations, so 1e8 configurations run in bounded memory (a ``range`` batch axis is never
materialised whole); ``backend="dask"`` evaluates the grid lazily in chunks on a Dask cluster
(:mod:`symsys.sweeps.on_dask`), reduced by :mod:`symsys.sweeps.reduce` without the grid
ever existing whole. Device/precision pairs the device lacks are not silently dropped: they
are listed in ``result.skipped`` with the reason, and printed under the table.
"""

from __future__ import annotations

import warnings

import numpy as np

from symsys.errors import InvalidParameter
from symsys.solvers import checks
from symsys.sweeps.columns import assemble
from symsys.sweeps.grid import COLUMNS, QUANTITIES, evaluate, plan_sweep

__all__ = ["sweep", "COLUMNS", "QUANTITIES", "BACKENDS"]

#: where a sweep runs: in this process (blocked numpy) or on a Dask cluster (chunked, lazy)
BACKENDS = ("numpy", "dask")


def _declared_options(function):
    """Reject a keyword the sweep does not take with a clear error: a step option it does not
    sweep yet names the solvers that take it, any other names the closest of its own (as
    every ``solve`` does), never Python's TypeError."""
    import functools
    import inspect

    from symsys.solvers.options import STEP_OPTIONS

    checked = checks.keywords(function)
    own = set(inspect.signature(function).parameters)
    unswept = [o.name for o in STEP_OPTIONS if o.name not in own]

    @functools.wraps(function)
    def sweep_checked(*args, **kwargs):
        for name in kwargs:
            if name in unswept:
                raise InvalidParameter(
                    f"symsys.sweep does not take {name!r} yet (it sweeps "
                    f"{', '.join(o.name for o in STEP_OPTIONS if o.name in own)}); "
                    f"Engine.solve and the other step solvers take {name}=")
        return checked(*args, **kwargs)

    return sweep_checked


@_declared_options
def sweep(model, hardware, batch_size=1, seq_len=None, precision="auto", phase="decode",
          weight_precision=None, kv_precision=None, efficiency=None, columns=None,
          chunk_size=None, peak=None, bandwidth=None, capacity=None, backend="numpy",
          scheduler=None, progress=None, price=None, power=None, power_fraction=1.0,
          tensor_parallel=None, memory_fraction=1.0, expert_parallel=1, law=None, inputs=None):
    """Evaluate every combination of the list-valued arguments.

    Parameters
    ----------
    model, hardware : name, registry entry, or a list of them
        Models and devices (``Hardware.list()`` for the whole registry). A hardware entry
        may be a system (``"DGX_H100"``): its device, with the system's fast domain for the
        tensor-parallel all-reduces; its rows carry the system's key as ``hardware``.
    batch_size, seq_len : int, list, array or ``range``
        Batch sizes and contexts (``seq_len=None``: decode with no cached context).
    precision : str or list, default ``"auto"``
        Compute precisions; ``"auto"`` is each device's native 16-bit format (fp16, or bf16
        on TPUs and Gaudi), resolved per device. Spellings such as ``"FP16"`` or
        ``"bfloat16"`` are accepted; every row carries the resolved name.
    weight_precision, kv_precision : str or list, optional
        Storage formats of the weights and of the K/V cache (default: the compute
        precision), each a sweep axis when a list; rows carry ``weight_precision`` and
        ``kv_precision`` separately from ``precision``.
    phase : "decode", "prefill" or a list
    efficiency : as ``Engine.solve``
        A number in (0, 1], ``(compute, memory)``, a mapping, or ``"calibrated"``.
    tensor_parallel : int, list, array or ``range``, optional
        Tensor-parallel degrees, a sweep axis (``[1, 2, 4, 8]``): each transformer step is
        the tensor-parallel law (``decode_tp``/``prefill_tp``, as ``Engine.solve(...,
        tensor_parallel=n)``) with n a broadcast input, evaluated in the same kernel calls.
        Rows carry ``tensor_parallel``; the figures are per device (``memory_footprint`` is
        one device's, checked against one device's capacity), ``throughput`` is the
        group's, cost and energy count the n devices, and ``latency_communication`` (two
        ring all-reduces per layer over the fast-domain link) and ``communication_share``
        (of the latency) are default columns. At n = 1 the law is the single-device one
        (no communication). Where ``Engine.solve`` raises for a degree (the model's K/V
        heads do not split evenly over n, or n exceeds the fast domain of the system or
        device) the rows stay in the grid with ``feasible`` False and that error in the
        ``reason`` column (``""`` for a feasible row); beyond the K/V heads, a multiple of
        them replicates them, as ``Engine.solve`` does. A degree above 1 needs a
        device-to-device link in the registry: hardware without one is an error naming it.
        Default None: no axis (the single-device step).
    expert_parallel : int, default 1
        One expert-parallel degree e for the whole sweep (not an axis), for MoE models: each
        transformer step is the expert-parallel law (``decode_ep``/``prefill_ep``, as
        ``Engine.solve(..., expert_parallel=e)``), the tensor-parallel degrees (the axis, or 1)
        its attention replicas' groups; a degree that does not divide e keeps its rows with
        ``feasible`` False and the reason. A dense model, or E not divisible by e, is an
        error; cost and energy columns are not modelled with it.
    peak, bandwidth, capacity : Quantity or str, scalar or 1-D, optional
        Hypothetical hardware: these replace every device's dense peak (``Pi``), memory
        bandwidth (``beta``) and memory capacity (``C_mem``) and become sweep axes; rows carry
        them, and ``feasible`` is checked against the swept capacity. Units are required
        (``Q_([1, 2, 4], "TB/s")`` or ``"3.35 TB/s"``).
    columns : list of str, optional
        The result columns to compute (default: every column of ``COLUMNS`` except the cost
        and energy ones, and except ``latency_communication`` and ``communication_share``
        without a ``tensor_parallel`` axis; fewer is faster). ``"cost_per_token"``,
        ``"energy_per_token"`` and ``"tokens_per_joule"`` evaluate the step law's
        cost-and-energy extension (``symsys.laws.economics``), with each device's price and
        power (for a tensor-parallel row, the n devices').
    price : Quantity or str, scalar or 1-D, optional
        With cost columns: one device's price per time replacing every device's, a sweep
        axis like ``peak`` (``Q_([1, 2, 4], "USD/hour")``; rows carry it). Default: each
        device's on-demand cloud price from the registry (a device without one is an error
        naming it).
    power : Quantity or str, optional
        With cost or energy columns: one device's power for every device (default: its TDP).
    power_fraction : float, default 1
        The fraction of that power drawn during the step (1: energy is an upper bound).
    law : str, optional
        The step law by name (as ``Engine.solve(..., law=)``: the package's, a registered
        one, or an installed package's ``symsys.laws`` entry point); it must declare a
        StepRole of each swept phase covering the tensor- and expert-parallel degrees. None:
        the law its declared role makes the package's.
    inputs : dict, optional
        Any input of the step law by symbol name, each a value or a list of values: a list
        is a sweep axis (the *inputs* axis is the cartesian product of them), and rows carry
        a column named for each input given (a Quantity column, or numbers for a
        dimensionless input). ``inputs={"a_acc": [0.6, 0.7, 0.8]}`` sweeps a law's own
        input, ``inputs={"t_o": Q_([0, 5, 10], "us")}`` the fixed overhead per step. An
        input a step option decides (``b``: ``batch_size``, ``n_g``: ``tensor_parallel``...)
        is an error naming the option; one ``peak``/``bandwidth``/``capacity``/``price``
        sweeps is an error too (give one).
    memory_fraction : float or str, default 1.0
        The share of each device's physical memory the engine may use, in (0, 1] (as
        ``Engine.solve``; vLLM's ``gpu_memory_utilization`` defaults to 0.9). One value for
        the whole sweep, not an axis: ``feasible`` checks every row's footprint against
        memory_fraction x its capacity (a swept ``capacity`` too, whose column keeps the
        physical value).
    chunk_size : int, optional
        Return an iterator of results of at most that many configurations each, split along
        the batch axis (at least one batch value per chunk); with ``backend="dask"``, the
        configurations per Dask block.
    backend : "numpy" or "dask"
        ``"dask"`` returns a lazy :class:`~symsys.sweeps.on_dask.DaskSweep`: reduce it
        with :mod:`symsys.sweeps.reduce` (``best``, ``pareto``, ...) on a cluster, or
        ``.compute()`` it into a :class:`SweepResult` when it is small. Needs the ``dask``
        extra (``pip install "symsys[dask]"``).
    scheduler : None, address or ``distributed.Client`` (dask only)
        ``None``: a local cluster on this machine's cores; ``"tcp://host:8786"``: an
        existing cluster. One that cannot be reached, or is lost during the sweep (its
        scheduler gone, or no worker left), is a :class:`~symsys.errors.ClusterError` naming
        its address and what happened (see :mod:`symsys.sweeps.on_dask` for the waits).
    progress : bool, optional
        Progress bar for chunked and Dask reductions (default: only on a terminal).

    Returns
    -------
    SweepResult, an iterator of SweepResult (``chunk_size``), or a DaskSweep.
    """
    checks.choice("backend", backend, BACKENDS)
    if scheduler is not None and backend != "dask":
        raise InvalidParameter(f"scheduler={scheduler!r} applies to backend='dask' only")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plans, skipped, wanted = plan_sweep(
            model=model, hardware=hardware, batch_size=batch_size, seq_len=seq_len,
            precision=precision, phase=phase, weight_precision=weight_precision,
            kv_precision=kv_precision, efficiency=efficiency, columns=columns, peak=peak,
            bandwidth=bandwidth, capacity=capacity, price=price, power=power,
            power_fraction=power_fraction, tensor_parallel=tensor_parallel,
            memory_fraction=memory_fraction, expert_parallel=expert_parallel, law=law,
            inputs=inputs)
    for message in dict.fromkeys(str(w.message) for w in caught):  # once each, at the
        category = next(w.category for w in caught if str(w.message) == message)
        warnings.warn(message, category, stacklevel=2)  # caller's line, not the planner's
    if backend == "dask":
        from symsys.sweeps.on_dask import DaskSweep

        return DaskSweep(plans, skipped, wanted, chunk_size=chunk_size, scheduler=scheduler,
                         progress=progress)
    if chunk_size is not None:
        return Chunks(plans, skipped, wanted, checks.positive_int("chunk_size", chunk_size),
                      progress)
    full = [tuple(slice(0, n) for n in plan.shape) for plan in plans]
    return assemble(plans, [evaluate(plan, s) for plan, s in zip(plans, full)], full,
                    skipped, wanted)


class Chunks:
    """The chunks of a sweep, along the batch axis: each a :class:`SweepResult` of at most
    ``chunk_size`` configurations (or one batch value's, if that is more). ``len()`` is the
    number of chunks; each row's ``index`` is its row number in the whole sweep."""

    def __init__(self, plans, skipped, wanted, chunk_size: int, progress=None):
        self.plans, self.skipped, self.wanted, self.progress = plans, skipped, wanted, progress
        per_batch = sum(int(np.prod(p.shape)) // p.shape[-2] for p in plans)
        batches = plans[0].shape[-2]  # every plan shares the batch axis
        self.per_chunk = max(1, chunk_size // per_batch)
        self.starts = range(0, batches, self.per_chunk)
        self.configurations = sum(int(np.prod(p.shape)) for p in plans)

    def __len__(self) -> int:
        return len(self.starts)

    def __iter__(self):
        for start in self.starts:
            blocks = []
            for plan in self.plans:
                stop = min(start + self.per_chunk, plan.shape[-2])
                blocks.append(tuple(slice(0, n) for n in plan.shape[:-2])
                              + (slice(start, stop), slice(0, plan.shape[-1])))
            yield assemble(self.plans, [evaluate(p, b) for p, b in zip(self.plans, blocks)],
                           blocks, self.skipped, self.wanted)
