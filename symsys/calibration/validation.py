"""Predicted against measured: error tables, the speed-of-light bound check and
leave-one-model-out cross-validation.

Speed of light is the roofline with its defaults (efficiencies 1, no overhead): no kernel can
beat it, so a measurement faster than it means a wrong spec or a wrong formula, and every
such kernel is listed. Calibrated predictions use the profile of each law for the device.
"""

from __future__ import annotations

import numpy as np

from symsys.calibration.fit import calibrate
from symsys.calibration.measurements import OPS, load_vidur
from symsys.calibration.prediction import (
    LAWS,
    SPEED_OF_LIGHT,
    error_stats,
    predict,
    relative_errors,
)
from symsys.calibration.profile import profile_for
from symsys.errors import InvalidParameter


def grouped_stats(errors, measurements) -> dict:
    """Error statistics of all kernels and per operation (in :data:`OPS` order first)."""
    ops = measurements.labels("op")
    names = [op for op in OPS if op in set(ops)] + sorted(set(ops) - set(OPS) - {""})
    return {"all": error_stats(errors),
            "by_op": {op: error_stats(errors[ops == op]) for op in names}}


def violations(measurements, speed_of_light) -> list[dict]:
    """Kernels measured faster than the speed-of-light prediction (should be none)."""
    faster = np.flatnonzero(measurements.time < speed_of_light)
    rows = []
    for i in faster:
        row = {"measured_s": float(measurements.time[i]),
               "speed_of_light_s": float(speed_of_light[i])}
        for label in ("model", "op", "tp", "m", "n", "k"):
            values = getattr(measurements, label)
            if values is not None:
                value = values[i]
                row[label] = value.item() if hasattr(value, "item") else value
        rows.append(row)
    return rows


def device_report(measurements, laws=tuple(LAWS)) -> dict:
    """Speed-of-light and calibrated errors of one device's kernels, and the bound check."""
    from symsys.registry.hardware import Hardware

    hardware = Hardware[measurements.device]
    sol = predict("roofline", measurements, hardware, SPEED_OF_LIGHT)
    calibrated = {}
    for law in laws:
        try:
            profile = profile_for(hardware, measurements.precision, law)
        except InvalidParameter:
            continue  # no profile of this law for this device: nothing to compare
        errors = relative_errors(profile.predict(measurements), measurements.time)
        calibrated[law] = {"profile": profile.describe(), **grouped_stats(errors, measurements)}
    return {
        "device": hardware.key,
        "precision": measurements.precision,
        "models": list(measurements.models),
        "slowdown_median": float(np.median(measurements.time / sol)),
        "speed_of_light": grouped_stats(relative_errors(sol, measurements.time), measurements),
        "calibrated": calibrated,
        "violations": violations(measurements, sol),
    }


def report(datasets=None, laws=tuple(LAWS)) -> dict:
    """:func:`device_report` for every device of ``datasets`` (default: the shipped data)."""
    datasets = load_vidur() if datasets is None else datasets
    source = next(iter(datasets.values())).source if datasets else ""
    return {"source": source,
            "devices": {key: device_report(data, laws) for key, data in datasets.items()}}


def leave_one_model_out(measurements, law: str = "roofline") -> dict:
    """Fit on every model but one, predict the held-out one; per model and pooled errors.

    Pooled statistics are over all kernels, each predicted by the fit that did not see it.
    """
    models = measurements.models
    if len(models) < 2:
        raise InvalidParameter(f"{measurements.device}: cross-validation needs two or more "
                               f"models, the data has {len(models)}")
    labels = measurements.labels("model")
    pooled, per_model = [], {}
    for model in models:
        held_out = labels == model
        profile = calibrate(measurements.select(~held_out), law=law)
        test = measurements.select(held_out)
        errors = relative_errors(profile.predict(test), test.time)
        per_model[model] = {**error_stats(errors), "params": profile.params}
        pooled.append(errors)
    return {"device": measurements.device, "law": law, "models": per_model,
            "pooled": error_stats(np.concatenate(pooled))}


def cross_validation(datasets=None, laws=tuple(LAWS)) -> dict:
    """:func:`leave_one_model_out` for every device of ``datasets`` and every law."""
    datasets = load_vidur() if datasets is None else datasets
    return {key: {law: leave_one_model_out(data, law) for law in laws}
            for key, data in datasets.items() if len(data.models) > 1}
