"""Training calibration: a device's achieved compute efficiency in training, fitted to
measured training runs.

The inference kernel profiles (:mod:`symsys.calibration.profile`) are fitted on single GEMMs
and attention kernels; a training step adds what no kernel benchmark sees (the backward
pass's weight-gradient GEMMs, optimizer and framework overhead, FSDP's prefetch contention
with compute), and on H100 every published run came out 9-58 % slower than the kernel profile
predicted (issue 26). A training profile is one number per device and precision: ``eta_c``,
achieved / peak FLOP/s of the training law's work, fitted by least squares on
``log T_pred - log T_measured`` through the training law itself (never a retyped formula:
:mod:`symsys.accuracy.training_fit`, which also names the measurements), with ``eta_m`` kept
at the kernel profile's (memory traffic is a small part of a training step). This module only
holds and looks up the profiles, below the solvers that apply them.
Profiles ship as ``registry/data/training_calibration_<device>_<precision>.json`` and apply
with ``efficiency="calibrated"`` in :class:`symsys.solvers.training.TrainingModel`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from symsys.errors import InvalidParameter, RegistryError
from symsys.registry.common import DATA

_PREFIX = "training_calibration_"


@dataclass(frozen=True)
class TrainingProfile:
    """Fitted training efficiency of one device at one precision.

    ``eta_c`` is achieved / peak FLOP/s of a training step's work; ``eta_m`` the kernel
    profile's memory efficiency it keeps. ``fit`` and ``holdout`` are error statistics
    (fractions) of |predicted / measured - 1| on the fitted and held-out step times.
    """

    device: str
    precision: str
    eta_c: float
    eta_m: float
    n_fit: int = 0
    fit: dict = field(default_factory=dict)
    holdout: dict = field(default_factory=dict)
    provenance: str = ""
    #: the precision whose fit this profile stands for (the tensor-core twin), or ""
    transferred_from: str = ""

    def __post_init__(self):
        for name in ("eta_c", "eta_m"):
            if not 0 < getattr(self, name) <= 1:
                raise InvalidParameter(f"training profile {name}={getattr(self, name)!r}: "
                                       "must be in (0, 1]")

    def describe(self) -> str:
        held = (f"; {self.holdout['n']} held out (used in development), median error "
                f"{self.holdout['median']:.1%}" if self.holdout else "")
        moved = (f", transferred from {self.transferred_from} to {self.precision}"
                 if self.transferred_from else "")
        return (f"training profile {self.device} {self.precision}: eta_c {self.eta_c:.3f}, "
                f"eta_m {self.eta_m:.3f} (fitted on {self.n_fit} published training runs"
                f"{held}{moved})")

    def save(self, path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        return path

    @staticmethod
    def load(path) -> TrainingProfile:
        path = Path(path)
        try:
            return TrainingProfile(**json.loads(path.read_text()))
        except (json.JSONDecodeError, TypeError) as exc:
            raise RegistryError(f"{path.name}: not a training profile ({exc})") from None


# --- shipped profiles -----------------------------------------------------------------------
def shipped_path(device: str, precision: str) -> Path:
    return DATA / f"{_PREFIX}{device.lower()}_{precision}.json"


def training_profile_for(device, precision: str) -> TrainingProfile | None:
    """The shipped training profile of ``device`` (a Device or key) at ``precision``, or at its
    tensor-core twin (bf16 for fp16 and back, where the device runs both at one peak, the
    kernel profiles' rule ``TENSOR_CORE_TWINS``); None where none was fitted (the solvers then
    take the kernel profile, and say so)."""
    from symsys.calibration.profile import TENSOR_CORE_TWINS, _same_rate
    from symsys.registry.hardware import Hardware

    key = getattr(device, "key", device)
    path = shipped_path(key, precision)
    if path.exists():
        return TrainingProfile.load(path)
    twin = TENSOR_CORE_TWINS.get(precision)
    if twin is None or not shipped_path(key, twin).exists():
        return None
    if not _same_rate(Hardware[key], precision, twin):
        return None
    profile = TrainingProfile.load(shipped_path(key, twin))
    return dataclasses.replace(profile, precision=precision, transferred_from=twin,
                               provenance=f"{profile.provenance}; transferred from {twin} to "
                                          f"{precision}: the same tensor cores at one peak")

