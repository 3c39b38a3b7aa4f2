"""Calibration and validation against measured kernel times.

``calibrate(measurements, hardware=, law=)`` fits a law's efficiencies (eta_c, eta_m), its
fixed overhead t_o (and the smooth laws' p) by least squares on log error, with the exact
sympy Jacobian; ``profile_for(device, precision)`` returns the shipped (or attached) profile;
``validation.report()`` and ``leave_one_model_out()`` measure how far predictions are from
measurements. Layer: above the registry, below the solvers (which read profiles).
"""

from symsys.calibration.fit import calibrate
from symsys.calibration.measurements import Measurements, load_vidur
from symsys.calibration.prediction import LAWS, error_stats, predict
from symsys.calibration.profile import CalibrationProfile, attach, detach, profile_for, shipped
from symsys.calibration.validation import cross_validation, leave_one_model_out, report

__all__ = ["LAWS", "calibrate", "error_stats", "predict", "Measurements", "load_vidur",
           "CalibrationProfile", "attach", "detach", "profile_for", "shipped",
           "cross_validation", "leave_one_model_out", "report"]
