"""Accuracy against measurements: the solvers' answers beside published measured runs
(end-to-end serving :mod:`~symsys.accuracy.e2e`, multi-GPU steps and all-reduces
:mod:`~symsys.accuracy.multi_gpu`, training iterations :mod:`~symsys.accuracy.training`),
and the fit of serving runtimes' non-GEMM terms to the end-to-end rows
(:mod:`~symsys.accuracy.runtime_fit`). ``symsys validate`` prints these reports.

A layer above the solvers (it runs them); "validate" here means accuracy, never argument
checks (those are :mod:`symsys.solvers.checks`).
"""
