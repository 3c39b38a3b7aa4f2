"""Sweeps: a step law over the cartesian product of models, devices, precisions, degrees,
hypothetical hardware, the law's own inputs, batches and contexts, in broadcast kernel calls
(:mod:`~symsys.sweeps.sweep`, planned by :mod:`~symsys.sweeps.grid`, assembled by
:mod:`~symsys.sweeps.columns`, chunked on Dask by :mod:`~symsys.sweeps.on_dask`), and the
reductions over their rows (:mod:`~symsys.sweeps.reduce`, :mod:`~symsys.sweeps.rows`).

A layer above the solvers: a sweep's scenarios are built by the solvers' front end
(:mod:`symsys.solvers.inputs`), its result type (:class:`~symsys.solvers.sweep_result.SweepResult`)
is the solvers' own. Importing this package is cheap; each module loads what it needs.
"""
