"""The Dask back end of :func:`symsys.sweep`: the grid in blocks, never whole.

``symsys.sweep(..., backend="dask")`` plans the grid as the numpy path does (one
:class:`~symsys.solvers.sweep_grid.Plan` per step law) and cuts each plan into rectangular
blocks of about ``chunk_size`` configurations. Each block is evaluated on a worker by the same
compiled kernel (:func:`~symsys.solvers.sweep_grid.evaluate`), so values equal the numpy
path's bit for bit. :func:`symsys.solvers.reduce.apply` (``best``, ``pareto``, ...) sends one
task per block that evaluates it and returns only the reducers' partial results, combined
here as they arrive: memory is a few blocks per worker whatever the grid's size.
``DaskSweep.arrays()`` gives the grid's outputs as lazy dask arrays (``map_blocks`` over the
same blocks) and ``compute()`` a whole :class:`SweepResult`, for grids that fit in memory.

Scheduler: ``None`` -> a ``distributed.LocalCluster`` on this machine's cores (one per
process, shared by every sweep, closed at exit); an address (``"tcp://host:8786"``) -> that
cluster; a ``distributed.Client`` -> itself. Needs ``pip install "symsys[dask]"``.
"""

from __future__ import annotations

import atexit
import itertools
import math
import os

import numpy as np

from symsys.errors import InvalidParameter
from symsys.solvers import validate
from symsys.solvers.sweep_columns import BlockView, assemble
from symsys.solvers.sweep_grid import AXES, evaluate

#: configurations per block by default: ~2M keeps a block's ~10 float columns near 150 MB
DEFAULT_CHUNK = 1 << 21
_CLIENTS: dict = {}


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
        try:
            client = distributed.Client(scheduler, timeout="10s")
        except OSError as exc:
            raise InvalidParameter(f"scheduler={scheduler!r}: cannot connect ({exc})") from None
    _CLIENTS[scheduler] = client
    return client


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
    """A sweep evaluated lazily on a Dask cluster; reduce it with :mod:`symsys.solvers.reduce`.

    ``len()`` is the number of configurations; ``blocks`` the number of blocks.
    """

    def __init__(self, plans, skipped, wanted, chunk_size=None, scheduler=None,
                 progress=None):
        require_dask()
        self.plans, self.skipped, self.wanted = plans, list(skipped), wanted
        self.chunk_size = (DEFAULT_CHUNK if chunk_size is None else
                           validate.positive_int("chunk_size", chunk_size))
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

    def reduce_with(self, reducers, progress=None) -> list:
        """Partial results of ``reducers`` over every block, combined (one pass)."""
        import distributed

        from symsys.solvers.progress import bar

        client = self.client
        # hash=False: a unique key per reduction, so one reduction releasing its copy never
        # pulls the plans from under another that scattered equal ones
        plans = client.scatter(self.plans, broadcast=True, hash=False)
        futures = [client.submit(_block_partials, plans[i], slices, self.wanted, reducers,
                                 pure=False)
                   for i, plan in enumerate(self.plans)
                   for slices in blocks_of(plan.shape, self.chunk_size)]
        partials = None
        shown = self.progress if progress is None else progress
        with bar(len(futures), "blocks", shown) as tick:
            completed = distributed.as_completed(futures, with_results=True)
            del futures  # each result is released once combined
            for future, parts in completed:
                if future.status != "finished":
                    future.result()  # raises the worker's exception here
                partials = parts if partials is None else [
                    r.combine(a, b) for r, a, b in zip(reducers, partials, parts)]
                future.release()
                tick()
        return partials

    def arrays(self, plan: int = 0) -> dict:
        """The law outputs of plan ``plan`` as lazy 9-D dask arrays over its grid (axes
        ``sweep_grid.AXES``), one ``map_blocks`` task per block."""
        import dask.array as da

        p = self.plans[plan]
        template = da.zeros(p.shape, chunks=chunks_of(p.shape, self.chunk_size),
                            dtype=np.int8)
        stacked = template.map_blocks(_stacked_outputs, p, dtype=float, new_axis=0,
                                      chunks=((len(p.names),), *template.chunks))
        return {name: stacked[i] for i, name in enumerate(p.names)}

    def compute(self):
        """The whole sweep as a :class:`SweepResult` (equal to the numpy path's)."""
        client = self.client
        values = []
        for i in range(len(self.plans)):
            arrays = self.arrays(i)
            computed = client.compute(list(arrays.values()), sync=True)
            values.append({n: np.asarray(v).reshape(-1) for n, v in zip(arrays, computed)})
        full = [tuple(slice(0, n) for n in plan.shape) for plan in self.plans]
        return assemble(self.plans, values, full, self.skipped, self.wanted)


def _block_partials(plan, slices, wanted, reducers) -> list:
    view = BlockView(plan, slices, evaluate(plan, slices), wanted)
    return [r.partial(view) for r in reducers]


def _stacked_outputs(template, plan, block_info=None):
    location = block_info[0]["array-location"]
    slices = tuple(slice(a, b) for a, b in location)
    values = evaluate(plan, slices)
    shape = tuple(b - a for a, b in location)
    return np.stack([values[n].reshape(shape) for n in plan.names])


assert len(AXES) == 9  # blocks_of and the plans agree on the grid's axes
