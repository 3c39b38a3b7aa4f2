"""symsys: a symbolic-math modeling toolkit for ML systems performance.

Every law (roofline, transformer decode/prefill, weight streaming, ...) is one sympy system;
derivations, exact derivatives and fast numpy solvers all come from it. The public names
below are imported lazily, so ``import symsys`` costs milliseconds and ``sympy``/``pint``
load only when first used.
"""

from __future__ import annotations

import importlib

from symsys._version import __version__

# public name -> module that defines it
_EXPORTS = {
    "ureg": "symsys.units",
    "Q_": "symsys.units",
    "Quantity": "symsys.units",
    "Hardware": "symsys.registry.hardware",
    "Device": "symsys.registry.hardware",
    "Source": "symsys.registry.common",
    "Models": "symsys.registry.models",
    "Systems": "symsys.registry.systems",
    "evaluate": "symsys.solvers.evaluate",
    "Engine": "symsys.solvers.inference",
    "SingleNodeModel": "symsys.solvers.inference",
    "Workload": "symsys.solvers.inputs",
    "ServingModel": "symsys.solvers.serving",
    "CostModel": "symsys.solvers.cost",
    "TrainingModel": "symsys.solvers.training",
    "sweep": "symsys.sweeps.sweep",
    "best": "symsys.sweeps.reduce",
    "pareto": "symsys.sweeps.reduce",
    "boundary": "symsys.sweeps.reduce",
    "top_k": "symsys.sweeps.reduce",
    "feasible_count": "symsys.sweeps.reduce",
    "histogram": "symsys.sweeps.reduce",
    "WeightStreamingModel": "symsys.solvers.streaming",
    "SensitivitySolver": "symsys.solvers.sensitivity",
    "SynthesisSolver": "symsys.solvers.synthesis",
    "calibrate": "symsys.calibration",
    "bind": "symsys.solvers.generic",
    "Scenario": "symsys.solvers.scenario",
    "Result": "symsys.solvers.result",
    "Law": "symsys.laws.base",
    "declare": "symsys.symbols",
    "SymsysError": "symsys.errors",
    "InvalidParameter": "symsys.errors",
    "UnitError": "symsys.errors",
    "UnknownHardware": "symsys.errors",
    "UnknownModel": "symsys.errors",
    "UnknownSystem": "symsys.errors",
    "UnsupportedPrecision": "symsys.errors",
    "InfeasibleConfiguration": "symsys.errors",
    "RegistryError": "symsys.errors",
    "ClusterError": "symsys.errors",
}

__all__ = ["__version__", *_EXPORTS]


#: submodules reachable as attributes before anything imported them (``symsys.derive.diff``)
_SUBMODULES = ("derive", "laws", "symbols", "kernels", "render", "registry", "solvers", "sweeps",
               "accuracy", "units", "calibration", "viz", "errors")


def __getattr__(name: str):
    if name in _SUBMODULES:
        module = importlib.import_module(f"symsys.{name}")
        globals()[name] = module
        return module
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'symsys' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # cache: the next access is a plain attribute
    return value


def __dir__():
    return sorted(__all__)
