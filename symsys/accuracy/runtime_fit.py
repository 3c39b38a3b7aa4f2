"""Fit a serving runtime's step terms to its engine's published whole requests.

A :class:`symsys.calibration.runtimes.FittedRuntime` is known only from end-to-end rows
(``registry/data/measured/e2e/single_gpu.csv``, ``use = fit``, ``runtime = its key``). Each
fit row is solved as :mod:`symsys.accuracy.e2e` solves it, with its calibrated
kernel profile, three times: with no runtime term, with t_aux = 1 s per layer and step, and
with q_act = 1 B; the law adds ``n_aux L t_aux + q_act d L n_tok / (eta_m beta)`` to every
step, so the request time is exactly linear in both. The least squares in relative error,
with both terms kept non-negative, gives them (n_aux = 1: only the product n_aux t_aux enters
the law, and the engine's kernel count is not known). ``tools/build_calibration_data.py``
writes the result to ``registry/data/runtime_fits.json``; a test refits it.
"""

from __future__ import annotations

import warnings

import numpy as np

from symsys.calibration.runtimes import RUNTIMES, FittedRuntime
from symsys.errors import BeyondMaxContext, InvalidParameter


def fit_nonnegative(base, per_t, per_q, measured) -> tuple[float, float]:
    """(t, q) >= 0 minimising sum ((base + t per_t + q per_q) / measured - 1)^2 (arrays)."""
    design = np.column_stack([per_t, per_q]) / measured[:, None]
    target = 1 - base / measured
    best = None
    # the unconstrained solution, else each term alone (the other at its bound 0)
    for columns in ((0, 1), (0,), (1,)):
        solution = np.zeros(2)
        solution[list(columns)] = np.linalg.lstsq(design[:, columns], target, rcond=None)[0]
        if (solution < 0).any():
            continue
        residual = float(np.sum((design @ solution - target) ** 2))
        if best is None or residual < best[0]:
            best = (residual, solution)
    if best is None:
        return 0.0, 0.0
    return float(best[1][0]), float(best[1][1])


def fit_rows(key: str, precision: str | None = None) -> list[dict]:
    """The end-to-end rows runtime ``key`` is fitted to (at ``precision``, or all)."""
    from symsys.accuracy.e2e import rows

    return [r for r in rows() if r["runtime"] == key and r["use"] == "fit"
            and precision in (None, r["precision"])]


def _linear_parts(row: dict, key: str) -> tuple[float, float, float, float]:
    """A fit row's request time with no runtime term, its change per unit t_aux and per unit
    q_act, and its measured time."""
    from symsys.accuracy.e2e import (
        calibrated_profile,
        measured_seconds,
        predicted_seconds,
    )

    profile, why_not = calibrated_profile(row)
    if profile is None:
        raise InvalidParameter(f"runtime {key}: fit row {row['id']} has no calibrated "
                               f"profile ({why_not})")
    zero = predicted_seconds(row, profile, {"n_aux": 1.0})[0]
    per_t = predicted_seconds(row, profile, {"n_aux": 1.0, "t_aux": 1.0})[0] - zero
    per_q = predicted_seconds(row, profile, {"n_aux": 1.0, "q_act": 1.0})[0] - zero
    return zero, per_t, per_q, measured_seconds(row)


def fit(key: str) -> dict:
    """``{precision: {"n_aux", "t_aux", "q_act", "device", "model", "rows"}}`` for the fitted
    runtime ``key`` (see the module notes)."""
    if not isinstance(RUNTIMES.get(key), FittedRuntime):
        fitted = [k for k, r in RUNTIMES.items() if isinstance(r, FittedRuntime)]
        raise InvalidParameter(f"runtime {key!r} is not a fitted runtime; those are "
                               f"{', '.join(fitted)}")
    out = {}
    for precision in dict.fromkeys(r["precision"] for r in fit_rows(key)):
        rows = fit_rows(key, precision)
        with warnings.catch_warnings():
            # a fit row past its model's trained context (GPT-J 6B's 2048 + 2048 tokens) is
            # the published request as it ran: no warning for it
            warnings.simplefilter("ignore", BeyondMaxContext)
            parts = np.array([_linear_parts(row, key) for row in rows])
        t_aux, q_act = fit_nonnegative(*parts.T)
        devices = {r["registry_device"] for r in rows}
        models = {r["registry_model"] for r in rows}
        if len(devices) != 1 or len(models) != 1:
            raise InvalidParameter(f"runtime {key} at {precision}: fit rows span devices "
                                   f"{sorted(devices)} and models {sorted(models)}; expected one "
                                   "of each")
        out[precision] = {"n_aux": 1.0, "t_aux": t_aux, "q_act": q_act,
                          "device": devices.pop(), "model": models.pop(),
                          "rows": [r["id"] for r in rows]}
    return out


def fit_all() -> dict:
    """Every fitted runtime of :data:`RUNTIMES`, by key."""
    return {key: fit(key) for key, runtime in RUNTIMES.items()
            if isinstance(runtime, FittedRuntime)}
