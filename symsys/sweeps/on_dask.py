"""The Dask back end of :func:`symsys.sweep`: the grid in blocks, never whole.

``symsys.sweep(..., backend="dask")`` plans the grid as the numpy path does (one
:class:`~symsys.sweeps.grid.Plan` per step law) and cuts each plan into rectangular
blocks of about ``chunk_size`` configurations. Each block is evaluated on a worker by the same
compiled kernel (:func:`~symsys.sweeps.grid.evaluate`), so values equal the numpy
path's bit for bit. :func:`symsys.sweeps.reduce.apply` (``best``, ``pareto``, ...) sends one
task per block that evaluates it and returns only the reducers' partial results, combined
here as they arrive: memory is a few blocks per worker whatever the grid's size.
``DaskSweep.arrays()`` gives the grid's outputs as lazy dask arrays (``map_blocks`` over the
same blocks) and ``compute()`` a whole :class:`SweepResult`, for grids that fit in memory.

Scheduler: ``None`` -> a ``distributed.LocalCluster`` on this machine's cores (one per
process, shared by every sweep, closed at exit); an address (``"tcp://host:8786"``) -> that
cluster; a ``distributed.Client`` -> itself. Needs ``pip install "symsys[dask]"``.

A cluster that cannot be reached, or is lost during a sweep, is one
:class:`~symsys.errors.ClusterError` naming the scheduler's address and what happened (see
:class:`Watch`), never a raw ``CancelledError``. Two waits are Dask settings: how long to try
to connect to an address (``symsys.connect-timeout``, 10 s) and how long a cluster may have no
worker at all before its sweep is given up (``symsys.no-workers-timeout``, 60 s: an adaptive
cluster starting its first worker has that long). Set them as any Dask setting, e.g.
``dask.config.set({"symsys.connect-timeout": "2s"})`` or
``DASK_SYMSYS__CONNECT_TIMEOUT=2s``. A worker that dies is replaced by its nanny and the sweep
goes on: each plan reaches the workers as a task the scheduler can run again, not as
scattered data that dies with the worker holding it.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import math
import os
import time

import numpy as np

from symsys.errors import ClusterError, InvalidParameter
from symsys.solvers import checks
from symsys.sweeps.columns import BlockView, assemble
from symsys.sweeps.grid import AXES, evaluate

#: configurations per block by default: ~2M keeps a block's ~10 float columns near 150 MB
DEFAULT_CHUNK = 1 << 21
_CLIENTS: dict = {}
#: the Dask settings of the two waits (see the module docstring), with their defaults
CONNECT_TIMEOUT = ("symsys.connect-timeout", "10s")
NO_WORKERS_TIMEOUT = ("symsys.no-workers-timeout", "60s")
#: seconds between two looks at the cluster while no block finishes
POLL = 0.05
CHECK_EVERY = 1.0


def require_dask():
    """Import dask.array and distributed, or say how to install them."""
    try:
        import dask.array  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:
        raise InvalidParameter(f'backend="dask" needs the dask extra ({exc.name} is not '
                               'installed): pip install "symsys[dask]"') from None


def client_for(scheduler):
    """The ``distributed.Client`` of ``scheduler`` (see the module docstring)."""
    require_dask()
    import distributed

    if isinstance(scheduler, distributed.Client):
        return scheduler
    if scheduler is not None and not isinstance(scheduler, str):
        raise InvalidParameter(f"scheduler={scheduler!r}: expected None, an address such as "
                               "'tcp://host:8786', or a distributed.Client")
    found = _CLIENTS.get(scheduler)
    if found is not None and found.status == "running":
        return found
    if scheduler is None:
        # threads in one process: the kernels are numpy loops that release the GIL, blocks
        # need no pickling, and the memory measured is the whole cluster's
        cluster = distributed.LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1,
                                           processes=False, dashboard_address=None)
        client = distributed.Client(cluster)
    else:
        client = _connect(scheduler)
    _CLIENTS[scheduler] = client
    return client


def seconds(setting: tuple) -> float:
    """A wait of the module's (see the module docstring) in seconds, as Dask is set."""
    import dask
    from dask.utils import parse_timedelta

    name, default = setting
    return parse_timedelta(dask.config.get(name, default), default="s")


def _connect(address: str):
    """A client of the scheduler at ``address``; a ClusterError if nothing answers there."""
    import distributed

    wait = seconds(CONNECT_TIMEOUT)
    try:
        return distributed.Client(address, timeout=wait)
    except ValueError as exc:  # not an address at all
        raise InvalidParameter(f"scheduler={address!r}: {exc}; expected an address such as "
                               "'tcp://host:8786', None or a distributed.Client") from None
    except OSError as exc:  # refused, unreachable, or timed out (TimeoutError is an OSError)
        raise ClusterError(
            f"scheduler={address!r}: cannot connect: no Dask scheduler answered within "
            f"{wait:g} s ({_one_line(exc)}); start one there (dask scheduler), give the "
            "address of a running one, or scheduler=None for a local cluster",
            value=address, valid="the address of a running Dask scheduler, e.g. "
            "'tcp://host:8786', or None") from None


def _one_line(exc: BaseException) -> str:
    """An exception as one line: its type and its message, whitespace collapsed."""
    text = " ".join(str(exc).split()).rstrip(".")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@atexit.register
def _close_clients():
    for client in _CLIENTS.values():
        cluster = client.cluster
        client.close()
        if cluster is not None:
            cluster.close()
    _CLIENTS.clear()


def block_sizes(shape: tuple, chunk: int) -> tuple:
    """Block lengths per axis: trailing axes whole while the product fits in ``chunk``, the
    next axis cut, the leading ones one index at a time (so blocks are ~``chunk``)."""
    sizes, room = [1] * len(shape), chunk
    for axis in reversed(range(len(shape))):
        sizes[axis] = min(shape[axis], max(1, room))
        room = room // shape[axis] if sizes[axis] == shape[axis] else 0
    return tuple(sizes)


def chunks_of(shape: tuple, chunk: int) -> tuple:
    """Dask-style chunks: per axis, the block lengths."""
    return tuple((s,) * (n // s) + ((n % s,) if n % s else ())
                 for n, s in zip(shape, block_sizes(shape, chunk)))


def blocks_of(shape: tuple, chunk: int):
    """Every block of the grid, as one slice per axis, in grid order."""
    starts = [np.cumsum((0, *c[:-1])) for c in chunks_of(shape, chunk)]
    lengths = chunks_of(shape, chunk)
    for index in itertools.product(*(range(len(c)) for c in lengths)):
        yield tuple(slice(int(starts[a][i]), int(starts[a][i] + lengths[a][i]))
                    for a, i in enumerate(index))


class DaskSweep:
    """A sweep evaluated lazily on a Dask cluster; reduce it with :mod:`symsys.sweeps.reduce`.

    ``len()`` is the number of configurations; ``blocks`` the number of blocks.
    """

    def __init__(self, plans, skipped, wanted, chunk_size=None, scheduler=None,
                 progress=None):
        require_dask()
        self.plans, self.skipped, self.wanted = plans, list(skipped), wanted
        self.chunk_size = (DEFAULT_CHUNK if chunk_size is None else
                           checks.positive_int("chunk_size", chunk_size))
        self.scheduler, self.progress = scheduler, progress

    def __len__(self) -> int:
        return self.configurations

    @property
    def configurations(self) -> int:
        return sum(plan.size for plan in self.plans)

    def __repr__(self) -> str:
        return (f"<DaskSweep {len(self):,} configurations in {self.blocks:,} blocks of <= "
                f"{self.chunk_size:,}>")

    @property
    def blocks(self) -> int:
        return sum(math.prod(len(c) for c in chunks_of(p.shape, self.chunk_size))
                   for p in self.plans)

    @property
    def client(self):
        return client_for(self.scheduler)

    def __getstate__(self) -> dict:
        """What pickles and deep-copies: a ``distributed.Client`` given as the scheduler is
        kept as its scheduler's address (a client belongs to its process)."""
        state = dict(self.__dict__)
        if not (self.scheduler is None or isinstance(self.scheduler, str)):
            state["scheduler"] = self.scheduler.scheduler.address
        return state

    def reduce_with(self, reducers, progress=None) -> list:
        """Partial results of ``reducers`` over every block, combined (one pass); a cluster
        lost on the way is a :class:`~symsys.errors.ClusterError` (see :class:`Watch`)."""
        from symsys.solvers.progress import bar

        watch = Watch(self.client, self.blocks, self.chunk_size)
        with watch.submitting():
            # a plan is a task (pure=False: a key of this reduction's own), not scattered
            # data: the scheduler runs it again if the worker holding its copy dies
            plans = [watch.client.submit(_same, plan, pure=False) for plan in self.plans]
            futures = [watch.client.submit(_block_partials, plans[i], slices, self.wanted,
                                           reducers, pure=False)
                       for i, plan in enumerate(self.plans)
                       for slices in blocks_of(plan.shape, self.chunk_size)]
        partials = None
        shown = self.progress if progress is None else progress
        with bar(len(futures), "blocks", shown) as tick:
            for _, parts in watch.results(futures):  # each released once combined
                partials = parts if partials is None else [
                    r.combine(a, b) for r, a, b in zip(reducers, partials, parts)]
                tick()
        return partials

    def arrays(self, plan: int = 0) -> dict:
        """The law outputs of plan ``plan`` as lazy 9-D dask arrays over its grid (axes
        ``symsys.sweeps.grid.AXES``), one ``map_blocks`` task per block."""
        import dask.array as da

        p = self.plans[plan]
        template = da.zeros(p.shape, chunks=chunks_of(p.shape, self.chunk_size),
                            dtype=np.int8)
        stacked = template.map_blocks(_stacked_outputs, p, dtype=float, new_axis=0,
                                      chunks=((len(p.names),), *template.chunks))
        return {name: stacked[i] for i, name in enumerate(p.names)}

    def compute(self):
        """The whole sweep as a :class:`SweepResult` (equal to the numpy path's); a cluster
        lost on the way is a :class:`~symsys.errors.ClusterError`."""
        watch = Watch(self.client, sum(len(plan.names) for plan in self.plans),
                      self.chunk_size, "output columns")
        values = []
        for i in range(len(self.plans)):
            arrays = self.arrays(i)
            with watch.submitting():
                futures = watch.client.compute(list(arrays.values()))
            keys = [future.key for future in futures]
            got = {future.key: value for future, value in watch.results(futures)}
            values.append({n: np.asarray(got[k]).reshape(-1) for n, k in zip(arrays, keys)})
        full = [tuple(slice(0, n) for n in plan.shape) for plan in self.plans]
        return assemble(self.plans, values, full, self.skipped, self.wanted)


class Watch:
    """The results of a sweep's futures as they finish, and the cluster they run on.

    A cluster lost on the way ends the wait with one :class:`~symsys.errors.ClusterError`
    naming the scheduler's address, how far the sweep got and what happened: the connection
    to the scheduler closed or its futures were cancelled (``CancelledError``,
    ``CommClosedError``, ``OSError``), a block's workers kept dying (``KilledWorker``), or no
    worker at all for ``symsys.no-workers-timeout``. An error a block raises itself (a
    symsys error) is raised as it is.
    """

    def __init__(self, client, total: int, chunk_size: int, unit: str = "blocks"):
        self.client, self.total, self.chunk_size, self.unit = client, total, chunk_size, unit
        self.address = client.scheduler.address if client.scheduler else "?"
        self.done, self.no_workers_since, self.next_check = 0, None, 0.0

    @contextlib.contextmanager
    def submitting(self):
        """Calls to the scheduler (submit, compute) inside: a lost cluster is an error."""
        try:
            yield
        except _LOST as exc:
            raise self.lost(exc) from None

    def results(self, futures: list):
        """``(future, result)`` of each of ``futures`` as it finishes. The list is emptied:
        each result is released once the caller has it."""
        import distributed

        with self.submitting():
            completed = distributed.as_completed(futures, with_results=True,
                                                 raise_errors=False)
        futures.clear()
        while True:
            with self.submitting():
                batch = completed.next_batch(block=False)
                if not batch and completed.is_empty():
                    return
                if not batch:
                    self._look()
                    time.sleep(POLL)
            for future, result in batch:
                value = self._value(future, result)
                future.release()
                self.done += 1
                yield future, value

    def _value(self, future, result):
        """The result of a finished future; the error of one that is not. Read from what
        as_completed gave (a cancellation, or the ``(type, error, traceback)`` of an error),
        not from ``future.status``: a result already received may be lost with its worker
        afterwards, and is then computed again for no one."""
        import distributed

        if isinstance(result, BaseException):  # cancelled
            raise self.lost(result)
        if future.status == "error" and isinstance(result, tuple) and len(result) == 3:
            _, exc, traceback = result
            if isinstance(exc, distributed.KilledWorker):
                raise self.killed(exc) from None
            raise exc.with_traceback(traceback)  # the block's own error
        return result

    def _look(self) -> None:
        """At most every CHECK_EVERY seconds: the client still connected, and a worker."""
        now = time.monotonic()
        if now < self.next_check:
            return
        self.next_check = now + CHECK_EVERY
        if self.client.status in ("closing", "closed", "failed"):
            raise self.lost(_Cancelled(f"the client is {self.client.status}"))
        info = self.client.scheduler_info(n_workers=0)
        if info.get("n_workers", len(info.get("workers", ()))):
            self.no_workers_since = None
            return
        self.no_workers_since = self.no_workers_since or now
        if now - self.no_workers_since > seconds(NO_WORKERS_TIMEOUT):
            raise self.no_workers(now - self.no_workers_since)

    def _progress(self) -> str:
        return f"after {self.done:,} of {self.total:,} {self.unit}"

    def lost(self, exc: BaseException) -> ClusterError:
        """The scheduler gone, or the sweep's work cancelled under it."""
        return ClusterError(
            f"scheduler={self.address!r}: the Dask cluster was lost {self._progress()}: "
            f"{_one_line(exc)}; check that its scheduler and workers are running and "
            "reachable, and run the sweep again",
            value=self.address, valid="a running Dask cluster's scheduler address, or None")

    def killed(self, exc: BaseException) -> ClusterError:
        """A block whose workers kept dying (distributed.scheduler.allowed-failures)."""
        return ClusterError(
            f"scheduler={self.address!r}: the Dask workers running a block of the sweep died "
            f"{self._progress()} ({_one_line(exc)}); a worker out of memory dies: give "
            f"chunk_size fewer than {self.chunk_size:,} configurations per block, or the "
            "workers more memory", parameter="chunk_size", value=self.chunk_size,
            valid=f"fewer than {self.chunk_size:,} configurations per block")

    def no_workers(self, waited: float) -> ClusterError:
        """Every worker lost, and none back within symsys.no-workers-timeout."""
        return ClusterError(
            f"scheduler={self.address!r}: every worker of the Dask cluster was lost "
            f"{self._progress()}: none for {waited:.3g} s (symsys.no-workers-timeout: "
            f"{seconds(NO_WORKERS_TIMEOUT):g} s); start workers for it (dask worker "
            f"{self.address}) and run the sweep again",
            value=self.address, valid="a Dask cluster with at least one worker")


class _Cancelled(Exception):
    """What a wait saw of a cluster that went away without an exception of its own."""


def _lost_errors() -> tuple:
    """The exceptions by which distributed reports a lost cluster: cancelled futures
    (FutureCancelledError is a concurrent CancelledError), a closed or timed-out connection
    (CommClosedError and TimeoutError are OSErrors), an asyncio cancellation."""
    import asyncio
    from concurrent.futures import CancelledError

    return (CancelledError, asyncio.CancelledError, OSError)


_LOST = _lost_errors()


def _same(plan):
    """A plan, as the result of a task (see :meth:`DaskSweep.reduce_with`)."""
    return plan


def _block_partials(plan, slices, wanted, reducers) -> list:
    view = BlockView(plan, slices, evaluate(plan, slices), wanted)
    return [r.partial(view) for r in reducers]


def _stacked_outputs(template, plan, block_info=None):
    location = block_info[0]["array-location"]
    slices = tuple(slice(a, b) for a, b in location)
    values = evaluate(plan, slices)
    shape = tuple(b - a for a, b in location)
    return np.stack([values[n].reshape(shape) for n in plan.names])


assert len(AXES) == 10  # blocks_of and the plans agree on the grid's axes
