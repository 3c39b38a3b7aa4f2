"""Calibration profiles: fitted efficiencies of one device at one precision, with provenance.

A profile is data: it saves to and loads from JSON or TOML, the shipped ones live in
``registry/data/calibration_<device>_<precision>_<law>.json``, and a user's own profile is
attached to its device with :func:`attach`, after which :func:`profile_for` returns it in
place of the shipped one. Solvers read ``eta_c``, ``eta_m`` and ``t_o`` (seconds).
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from symsys.calibration.prediction import LAWS, predict
from symsys.errors import InvalidParameter, RegistryError
from symsys.registry.common import DATA

_SHIPPED_GLOB = "calibration_*.json"
_ATTACHED: dict[tuple[str, str, str], CalibrationProfile] = {}


@dataclass(frozen=True)
class CalibrationProfile:
    """Fitted parameters of one law for one device and precision.

    ``eta_c`` and ``eta_m`` are achieved / peak, ``t_o`` is seconds per kernel,
    ``p_smooth`` the smooth law's sharpness (None for the max roofline), ``m_tile`` the tile
    rows of the gemm law (else None). ``stderr`` maps each fitted name to its standard error
    (None where the parameter sits at a bound, see ``bounds_hit``). ``median``, ``mean`` and
    ``p90`` are absolute relative errors (fractions) of the fit on its ``n`` kernels.
    """

    device: str
    precision: str
    law: str
    eta_c: float
    eta_m: float
    t_o: float
    p_smooth: float | None = None
    m_tile: int | None = None
    stderr: dict = field(default_factory=dict)
    n: int = 0
    median: float = float("nan")
    mean: float = float("nan")
    p90: float = float("nan")
    rms_log: float = float("nan")
    bounds_hit: tuple[str, ...] = ()
    provenance: str = ""

    def __post_init__(self):
        if self.law not in LAWS:
            raise InvalidParameter(f"profile law {self.law!r}: expected one of {', '.join(LAWS)}")
        for name in ("eta_c", "eta_m"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                raise InvalidParameter(f"profile {name}={value!r}: must be in (0, 1]")
        if not self.t_o >= 0:
            raise InvalidParameter(f"profile t_o={self.t_o!r}: must be >= 0 seconds")
        if (self.p_smooth is None) != (self.law == "roofline"):
            raise InvalidParameter(f"profile law {self.law!r}: p_smooth={self.p_smooth!r} "
                                   "(the smooth laws need it, the roofline has none)")
        object.__setattr__(self, "bounds_hit", tuple(self.bounds_hit))

    # --- use ------------------------------------------------------------------------------
    @property
    def params(self) -> dict[str, float]:
        """The fitted values by symbol name (SI: ``t_o`` in seconds)."""
        out = {"eta_c": self.eta_c, "eta_m": self.eta_m, "t_o": self.t_o}
        if self.p_smooth is not None:
            out["p_smooth"] = self.p_smooth
        return out

    @property
    def overhead(self):
        """``t_o`` as a pint Quantity."""
        from symsys.units import to_quantity

        return to_quantity(self.t_o, "s")

    @property
    def hardware(self):
        from symsys.registry.hardware import Hardware

        return Hardware[self.device]

    def predict(self, measurements):
        """Predicted times (s) of ``measurements``' kernels under this profile's law."""
        return predict(self.law, measurements, self.hardware, self.params)

    def describe(self) -> str:
        """One line: law, values with standard errors, fit error."""
        parts = []
        for name, value in self.params.items():
            se = self.stderr.get(name)
            scale, unit = (1e6, " us") if name == "t_o" else (1, "")
            text = f"{name} = {value * scale:.4g}" + (f" ± {se * scale:.2g}" if se else "")
            parts.append(text + unit)
        return (f"{self.device} {self.precision} {self.law}: " + ", ".join(parts)
                + f" (median error {self.median:.1%}, n = {self.n})")

    # --- files ----------------------------------------------------------------------------
    def to_dict(self) -> dict:
        data = asdict(self)
        data["bounds_hit"] = list(self.bounds_hit)
        return data

    @staticmethod
    def from_dict(data: dict, where: str = "profile") -> CalibrationProfile:
        data = dict(data)
        data["stderr"] = {k: (None if v in ("", None) else v)
                          for k, v in data.get("stderr", {}).items()}
        for optional in ("p_smooth", "m_tile"):
            if data.get(optional) in ("", None):
                data[optional] = None  # TOML has no null: absent or "" means None
        try:
            return CalibrationProfile(**data)
        except TypeError as exc:
            raise RegistryError(f"{where}: not a calibration profile ({exc})") from None

    def save(self, path) -> Path:
        """Write the profile as JSON or TOML (by the file's suffix)."""
        path = Path(path)
        if path.suffix == ".json":
            path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        elif path.suffix == ".toml":
            path.write_text(_toml(self.to_dict()))
        else:
            raise InvalidParameter(f"{path.name}: save a profile as .json or .toml")
        return path

    @staticmethod
    def load(path) -> CalibrationProfile:
        path = Path(path)
        try:
            if path.suffix == ".json":
                data = json.loads(path.read_text())
            elif path.suffix == ".toml":
                data = tomllib.loads(path.read_text())
            else:
                raise InvalidParameter(f"{path.name}: a profile is a .json or .toml file")
        except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
            raise RegistryError(f"{path.name}: cannot read the profile ({exc})") from None
        return CalibrationProfile.from_dict(data, path.name)


def _toml(data: dict) -> str:
    """The flat profile as TOML; None becomes an absent key (TOML has no null)."""
    lines, tables = [], []
    for key, value in data.items():
        if value is None:
            continue
        if isinstance(value, dict):
            body = [f"{k} = {json.dumps(v)}" for k, v in value.items() if v is not None]
            tables.append("\n".join([f"[{key}]", *body]))
        else:
            lines.append(f"{key} = {json.dumps(value)}")  # JSON scalars/lists are TOML too
    return "\n".join(lines) + "\n\n" + "\n\n".join(tables) + "\n"


# --- lookup -------------------------------------------------------------------------------
def shipped_path(device: str, precision: str, law: str) -> Path:
    return DATA / f"calibration_{device.lower()}_{precision}_{law}.json"


def shipped() -> list[CalibrationProfile]:
    """Every profile shipped in the registry."""
    return [CalibrationProfile.load(p) for p in sorted(DATA.glob(_SHIPPED_GLOB))]


def attach(profile: CalibrationProfile) -> CalibrationProfile:
    """Make ``profile`` the one :func:`profile_for` returns for its device, precision, law."""
    from symsys.registry.hardware import Hardware

    key = Hardware[profile.device].key  # an unknown device fails here, naming it
    _ATTACHED[(key, profile.precision, profile.law)] = profile
    return profile


def detach(device, precision: str = "fp16", law: str = "roofline") -> None:
    """Forget an attached profile (the shipped one, if any, applies again)."""
    from symsys.registry.hardware import Hardware

    _ATTACHED.pop((Hardware[device].key, precision, law), None)


#: bf16 and fp16 are the same tensor-core instructions at the same rate on every device that
#: has both at one peak: a profile fitted at one applies at the other (the transfer is stated
#: in the profile's provenance). Nothing else transfers: fp8, int8 and weight-only formats run
#: other kernels, and a PCIe part has other clocks and bandwidth than its SXM twin.
TENSOR_CORE_TWINS = {"bf16": "fp16", "fp16": "bf16"}


def _same_rate(hw, precision: str, twin: str) -> bool:
    peaks = hw.compute.peak_dense
    return precision in peaks and twin in peaks and peaks[precision] == peaks[twin]


def profile_for(device, precision: str = "fp16", law: str = "roofline",
                transfer: bool = True) -> CalibrationProfile:
    """The attached or shipped profile of ``device`` (a Device or name) at ``precision``;
    with ``transfer``, a bf16 or fp16 profile stands for the other (``TENSOR_CORE_TWINS``).

    ``law="roofline"`` (default) gives the parameters of the max() roofline the solvers
    evaluate; ``"smooth"`` and ``"gemm"`` the profiles of those laws. The error names every
    device and precision that has a profile.
    """
    from symsys.registry.hardware import Hardware

    hw = Hardware[device]
    key = hw.key
    if (key, precision, law) in _ATTACHED:
        return _ATTACHED[(key, precision, law)]
    path = shipped_path(key, precision, law)
    if path.exists():
        return CalibrationProfile.load(path)
    twin = TENSOR_CORE_TWINS.get(precision)
    if transfer and twin is not None and _same_rate(hw, precision, twin):
        try:
            source = profile_for(hw, twin, law, transfer=False)
        except InvalidParameter:
            source = None
        if source is not None:
            return dataclasses.replace(
                source, precision=precision,
                provenance=f"{source.provenance}; transferred from {twin} to {precision}: "
                           f"{key} runs both on the same tensor-core kernels at the same peak")
    available = sorted({(p.device, p.precision) for p in shipped()}
                       | {(d, p) for d, p, _ in _ATTACHED})
    raise InvalidParameter(
        f"no calibration profile for {key} at {precision} (law {law!r}); profiles exist for "
        + ", ".join(f"{d} {p}" for d, p in available) + ". Fit one with symsys.calibrate()."
    )
