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
    ``weight_precision`` is None for a profile of kernels whose weights are in ``precision``;
    a weight-only profile (see :data:`WEIGHT_ONLY_DEQUANT`) names the stored weight format.
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
    weight_precision: str | None = None

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
        for optional in ("p_smooth", "m_tile", "weight_precision"):
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
    if profile.weight_precision is not None:
        raise InvalidParameter("attach: a weight-only profile is derived from the 16-bit one "
                               "(profile_for(..., weight_precision=)); attach that one")
    _ATTACHED[(key, profile.precision, profile.law)] = profile
    return profile


def detach(device, precision: str = "fp16", law: str = "roofline") -> None:
    """Forget an attached profile (the shipped one, if any, applies again)."""
    from symsys.registry.hardware import Hardware

    _ATTACHED.pop((Hardware[device].key, precision, law), None)


#: bf16 and fp16 are the same tensor-core instructions at the same rate on every device that
#: has both at one peak: a profile fitted at one applies at the other (the transfer is stated
#: in the profile's provenance). fp8 and int8 compute run other kernels and do not transfer.
TENSOR_CORE_TWINS = {"bf16": "fp16", "fp16": "bf16"}

#: Boards of one chip: a PCIe card (or a variant with other memory) of a die that has a
#: profile on its SXM board shares that profile's *efficiencies* (eta_c, eta_m: achieved /
#: peak, and t_o per kernel), which are properties of the chip's kernels, and keeps its own
#: peaks, clocks and bandwidth, which the solvers read from the device's registry entry. So
#: A100_PCIe at fp16 takes the A100 (SXM4 80GB) profile applied to A100_PCIe's 312 TFLOP/s
#: and 1,935 GB/s. Caveat, stated in the provenance: a PCIe card's lower power limit (300 W vs
#: 400 W on A100) can lower sustained clocks on long compute-bound kernels below what the
#: datasheet peak and the SXM efficiency imply.
SAME_CHIP = {"A100_PCIe": "A100", "A100_40GB": "A100", "H100_PCIe": "H100", "H100_NVL": "H100"}


#: Boards of one die with different memory: the H100 SXM and the H200 SXM are one GH100 die
#: (132 SMs, the same clocks and tensor-core peaks, 700 W) with HBM3 at 3.35 TB/s and HBM3e at
#: 4.8 TB/s. Where a board has no profile at a precision and its die twin has one, the board
#: takes the twin's efficiencies (eta_c, eta_m, p) at that precision, applied to its own peaks
#: and bandwidth, and keeps the per-kernel overhead t_o of its own 16-bit profile: t_o is the
#: launch cost of the host and timing method a profile was measured with (Vidur's CUDA events
#: on the H100, CUDA graphs on the H200), not a property of the precision. Checked where both
#: boards were measured, at 16 bits: the H200's bf16 efficiencies with the H100's t_o predict
#: Vidur's H100 kernels (tests/test_h200_calibration.py). So the H100 at fp8 takes the fp8
#: GEMMs timed on the lent H200.
SAME_DIE = {"H100": "H200", "H200": "H100"}


@dataclass(frozen=True)
class WeightOnly:
    """Memory efficiency of weight-only quantised decode relative to 16-bit weights.

    A weight-only format stores weights in ``weight`` (int8, int4) and computes in 16 bits:
    decode reads the quantised weights, dequantises them in registers, and is memory-bound at
    small batch. ``factor`` multiplies the 16-bit profile's eta_m. It is fitted on one pair of
    published measurements (``source``): the factor for which symsys' calibrated decode of the
    quantised model, divided by its calibrated decode of the 16-bit model, equals the measured
    time ratio of the two (so the 16-bit profile's own error is not folded in). It therefore
    carries every cost a weight-only kernel adds per byte symsys counts (``PRECISION_BYTES``:
    int8 1, int4 0.5): scales and zero points (int4 in groups of 32 stores 0.625 B per
    weight), the dequantisation arithmetic and the lower bandwidth a dequantising GEMV
    achieves (gpt-fast reports 1397 GB/s for bf16, 1069 GB/s for int8, 863 GB/s for int4 on
    Llama-2-7B). ``tests/test_e2e_validation.py`` refits it from the shipped rows. It applies
    on the chips in ``chips`` (and their boards, ``SAME_CHIP``) only.
    """

    weight: str
    factor: float
    chips: tuple[str, ...]
    source: str


_GPT_FAST = ("gpt-fast (pytorch-labs/gpt-fast, README 'Benchmarks', commit 32971d3, "
             "A100-80GB power-limited to 330 W, batch 1, prompt 5, 200 new tokens): "
             "Llama-2-7B 104.9 tok/s bf16")
#: The weight-only rules (:class:`WeightOnly`), keyed by weight format; both fitted on the
#: gpt-fast Llama-2-7B rows marked ``fit`` in registry/data/measured/e2e/single_gpu.csv.
WEIGHT_ONLY_DEQUANT = {
    "int8": WeightOnly("int8", 0.790, ("A100",),
                       _GPT_FAST + " vs 155.58 tok/s int8 weight-only per channel"),
    "int4": WeightOnly("int4", 0.531, ("A100",),
                       _GPT_FAST + " vs 196.80 tok/s int4 weight-only, groups of 32"),
}


def _same_rate(hw, precision: str, twin: str) -> bool:
    peaks = hw.compute.peak_dense
    return precision in peaks and twin in peaks and peaks[precision] == peaks[twin]


def _no_profile(key: str, precision: str, law: str, needed: str = "") -> InvalidParameter:
    available = sorted({(p.device, p.precision) for p in shipped()}
                       | {(d, p) for d, p, _ in _ATTACHED})
    return InvalidParameter(
        f"no calibration profile for {key} at {precision} (law {law!r}); profiles exist for "
        + ", ".join(f"{d} {p}" for d, p in available) + ". "
        + (needed or "Fit one with symsys.calibrate().")
    )


def _profile_or_none(device, precision: str, law: str, transfer: bool):
    """The profile a transfer rule starts from, or None where there is none to transfer."""
    try:
        return profile_for(device, precision, law, transfer=transfer)
    except InvalidParameter:
        return None


def profile_for(device, precision: str = "fp16", law: str = "roofline",
                transfer: bool = True, weight_precision: str | None = None
                ) -> CalibrationProfile:
    """The attached or shipped profile of ``device`` (a Device or name) at ``precision``.

    With ``transfer`` (default) three stated rules stand in where no profile was fitted, each
    named in the returned profile's provenance:

    1. ``TENSOR_CORE_TWINS``: a bf16 profile stands for fp16 and back where the device has
       both at one peak;
    2. ``SAME_CHIP``: a board of a chip (A100_PCIe, A100_40GB; H100_PCIe, H100_NVL) takes the
       efficiencies of its SXM board's profile and keeps its own peaks and bandwidth;
       ``SAME_DIE``: a board with other memory on the same die (H100 and H200) takes the
       twin's efficiencies at a precision it has no profile at (the H100 at fp8), keeping its
       own peaks, bandwidth and per-kernel overhead;
    3. ``weight_precision`` narrower than ``precision`` (weight-only int8/int4 decode): the
       16-bit profile with eta_m times the measured factor of ``WEIGHT_ONLY_DEQUANT``, on the
       chips that factor was measured on.

    Anything else (fp8 or int8 compute with no measured GEMMs on the die, a device of another
    chip, weight-only on a chip with
    no measured factor) raises InvalidParameter saying what would be needed; nothing falls
    back silently. ``law="roofline"`` (default) gives the parameters of the max() roofline
    the solvers evaluate; ``"smooth"`` and ``"gemm"`` the profiles of those laws.
    """
    from symsys.registry.hardware import Hardware

    hw = Hardware[device]
    key = hw.key
    if weight_precision is not None and weight_precision != precision:
        return _weight_only(hw, precision, law, transfer, weight_precision)
    if (key, precision, law) in _ATTACHED:
        return _ATTACHED[(key, precision, law)]
    path = shipped_path(key, precision, law)
    if path.exists():
        return CalibrationProfile.load(path)
    if transfer:
        twin = TENSOR_CORE_TWINS.get(precision)
        if twin is not None and _same_rate(hw, precision, twin):
            source = _profile_or_none(hw, twin, law, transfer=False)
            if source is not None:
                return dataclasses.replace(
                    source, precision=precision,
                    provenance=f"{source.provenance}; transferred from {twin} to {precision}: "
                               f"{key} runs both on the same tensor-core kernels at the same "
                               "peak")
        chip = SAME_CHIP.get(key)
        if chip is not None:
            source = _profile_or_none(chip, precision, law, transfer=True)
            if source is not None:
                return dataclasses.replace(
                    source, device=key,
                    provenance=f"{source.provenance}; transferred from {chip} to {key} (same "
                               f"chip, other board): {chip}'s efficiencies applied to {key}'s "
                               "own peak and bandwidth (a lower power limit may lower "
                               "sustained clocks further)")
        twin_board = SAME_DIE.get(key)
        if twin_board is not None:
            source = _profile_or_none(twin_board, precision, law, transfer=False)
            if source is not None:
                return _from_die_twin(hw, source, law)
    needed = ""
    if precision in ("fp8", "int8", "fp6", "fp4", "int4"):
        needed = (f"{precision} compute runs other kernels than 16-bit: fit a profile on "
                  f"timed {precision} GEMMs of {key} (symsys.calibrate()); no public "
                  "measurement is shipped.")
    raise _no_profile(key, precision, law, needed)


def _from_die_twin(hw, source: CalibrationProfile, law: str) -> CalibrationProfile:
    """Rule 2 of :func:`profile_for` (``SAME_DIE``): ``source``'s efficiencies on ``hw``,
    with ``hw``'s own per-kernel overhead where it has a 16-bit profile."""
    key = hw.key
    own = next((p for p in (_profile_or_none(hw, bits, law, transfer=True)
                            for bits in ("fp16", "bf16")) if p is not None), None)
    t_o = source.t_o if own is None else own.t_o
    overhead = (f"t_o {source.device}'s" if own is None
                else f"t_o {key}'s own ({own.precision} profile)")
    return dataclasses.replace(
        source, device=key, t_o=t_o,
        provenance=f"{source.provenance}; transferred from {source.device} to {key} (one die, "
                   f"other memory): {source.device}'s {source.precision} efficiencies applied "
                   f"to {key}'s own peak and bandwidth, {overhead}")


def _weight_only(hw, precision: str, law: str, transfer: bool,
                 weight_precision: str) -> CalibrationProfile:
    """Rule 3 of :func:`profile_for`: weight-only quantised decode (see WeightOnly)."""
    from symsys.registry.hardware import PRECISION_BYTES

    key = hw.key
    rule = WEIGHT_ONLY_DEQUANT.get(weight_precision)
    narrower = PRECISION_BYTES.get(weight_precision, 0) < PRECISION_BYTES.get(precision, 0)
    chip = SAME_CHIP.get(key, key)
    if not transfer or rule is None or not narrower or chip not in rule.chips:
        measured = (", ".join(f"{w} on {'/'.join(r.chips)}"
                              for w, r in WEIGHT_ONLY_DEQUANT.items()))
        raise _no_profile(
            key, f"{precision} with {weight_precision} weights", law,
            f"Weight-only decode needs a measured dequantisation factor for {weight_precision}"
            f" weights on {chip} (tokens/s of a {weight_precision}-weight and a {precision} "
            f"decode of one model at batch 1, e.g. gpt-fast's benchmark); measured: "
            f"{measured}" + ("" if transfer else "; transfer=False allows no rule") + ".")
    base = profile_for(hw, precision, law, transfer=True)
    return dataclasses.replace(
        base, eta_m=base.eta_m * rule.factor, weight_precision=weight_precision,
        provenance=f"{base.provenance}; weight-only {weight_precision}: eta_m x "
                   f"{rule.factor} (measured dequantisation factor: {rule.source})")
