"""Predicted kernel times: a calibration law evaluated on measured kernels, and error stats.

This is the forward model both the fit (:mod:`symsys.calibration.fit`) and a saved profile
(:mod:`symsys.calibration.profile`) evaluate; it knows nothing of either, so neither imports
the other to predict.
"""

from __future__ import annotations

import numpy as np

from symsys import kernels
from symsys.errors import InvalidParameter

#: Fit law names -> the law (a lazy reference: its kernels load without sympy) and the
#: parameters a fit of it determines.
LAWS = {
    "roofline": (kernels.LawRef("roofline"), ("eta_c", "eta_m", "t_o")),
    "smooth": (kernels.LawRef("smooth_roofline"), ("eta_c", "eta_m", "t_o", "p_smooth")),
    "gemm": (kernels.LawRef("gemm_tiled"), ("eta_c", "eta_m", "t_o", "p_smooth")),
}
#: Rows of a GEMM output tile: the measured times step every 128 tokens on A100 and H100.
M_TILE = 128
#: The roofline's defaults: no kernel can beat it with these parameters.
SPEED_OF_LIGHT = {"eta_c": 1.0, "eta_m": 1.0, "t_o": 0.0}


def law_named(name: str):
    """``(law, fitted parameters)`` for a fit law name; the error lists the names."""
    try:
        return LAWS[name]
    except KeyError:
        raise InvalidParameter(f"law={name!r}: calibration laws are {', '.join(LAWS)}") from None


def speed_of_light(measurements, peak: float, bandwidth: float) -> np.ndarray:
    """The roofline's T of each kernel at speed of light (seconds), from the law."""
    fn = kernels.kernel("roofline", ("T",))
    values = {"Pi": peak, "beta": bandwidth, "F": measurements.flops,
              "Q": measurements.bytes, **SPEED_OF_LIGHT}
    return fn.named(values)["T"]


def law_inputs(law, measurements, hardware, params: dict) -> tuple[dict, np.ndarray]:
    """Arrays of the law's inputs by name, in per-kernel time units, and those units (s).

    ``params`` are SI (``t_o`` in s). The law evaluated on the arrays gives ``T / scale``.
    """
    from symsys.registry.hardware import PRECISION_BYTES

    peak = hardware.compute.peak(measurements.precision).m_as("FLOP/s")
    bandwidth = hardware.memory.bandwidth.m_as("B/s")
    scale = speed_of_light(measurements, peak, bandwidth)
    known = {"Pi": peak * scale, "beta": bandwidth * scale, "F": measurements.flops,
             "Q": measurements.bytes, "M_g": measurements.m, "N_g": measurements.n,
             "K_g": measurements.k, "bytes_e": PRECISION_BYTES[measurements.precision],
             "m_tile": M_TILE}
    known.update({k: (v / scale if k == "t_o" else v) for k, v in params.items()})
    missing = [name for name in kernels.kernel(law, ("T",)).args if name not in known]
    if missing:
        raise InvalidParameter(f"law {law.name} needs {', '.join(missing)}; the measurements "
                               "lack it")
    return known, scale


def predict(law_name: str, measurements, hardware, params: dict) -> np.ndarray:
    """Predicted kernel times in seconds; ``params`` in SI (``t_o`` in s)."""
    law, _ = law_named(law_name)
    values, scale = law_inputs(law, measurements, hardware, params)
    fn = kernels.kernel(law, ("T",))
    (times,) = fn(*(values[a] for a in fn.args))
    return times * scale


def relative_errors(predicted, measured) -> np.ndarray:
    """``predicted / measured - 1`` per kernel: positive means predicted too slow."""
    return np.asarray(predicted) / np.asarray(measured) - 1


def error_stats(errors) -> dict:
    """n and the median, mean, 90th percentile and largest of the absolute relative errors."""
    magnitude = np.abs(np.asarray(errors, dtype=float))
    return {"n": int(magnitude.size), "median": float(np.median(magnitude)),
            "mean": float(np.mean(magnitude)), "p90": float(np.percentile(magnitude, 90)),
            "max": float(np.max(magnitude))}
