"""Link calibration: a fast domain's achieved bandwidth and message latency, fitted to
measured all-reduce times.

The collectives law's fast-domain all-reduce ``t_AR^fab(n, m, beta_x, alpha_x, alpha_c, z)``
(the ring, or where the registry says the switches reduce, z = 1, the in-network all-reduce
NCCL runs there by default) is evaluated by its own compiled kernel (never retyped here) with
``beta_x = eta_x * beta`` (beta: the registry's nominal per-direction link bandwidth),
``alpha_x`` the latency of one message step (as many as the law's all-reduce counts)
and ``alpha_c`` the latency of the call. A profile is fitted on whole 8-GPU nodes, across
8 KiB to 8 GiB, and belongs to the fabric it was measured on. One group size's
measurements cannot tell a per-call latency from a per-step one, so ``alpha_x`` is not fitted:
it is NCCL's own per-step latency over NVLink (``NVLINK_STEP``, its tuning model), and
``fit_link`` finds ``eta_x`` (0 < eta_x <= 1) and ``alpha_c`` (> 0) by least squares on
``log t_pred - log t_measured`` (a 10 us all-reduce counts as much as a 100 ms one), with the
law's exact derivatives d t_AR / d alpha_c and d t_AR / d beta_x as the Jacobian
(Levenberg-Marquardt, numpy only; bounds by parameterisation, as in
:mod:`symsys.calibration.fit`). Rows marked ``holdout`` in the measurements are not fitted;
their error is reported beside the fit's. Rows marked ``excluded`` are runs in a configuration
no engine uses by default (one forced channel): they are neither fitted nor held out.

The measurements are ``registry/data/measured/collectives/all_reduce.csv`` (sources in its
README); the fitted profiles ship as ``registry/data/link_calibration_<system>.json``.
Solvers apply them with ``efficiency="calibrated"`` on a tensor- or pipeline-parallel step.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from symsys.calibration.prediction import error_stats
from symsys.errors import InvalidParameter, RegistryError
from symsys.registry.common import DATA

MEASURED = DATA / "measured" / "collectives" / "all_reduce.csv"
_PREFIX = "link_calibration_"
#: the kernel of the law's fast-domain all-reduce and its exact derivatives in alpha_c and
#: beta_x
SPECS = ("t_ar_fab", "d:right:alpha_c:t_ar_fab", "d:right:beta_x:t_ar_fab")
#: NCCL's per-step latency of the LL protocol over NVLink (ring and tree alike), microseconds,
#: in its tuning model: hwLat[NCCL_HW_NVLINK] in src/graph/tuning.cc
NVLINK_STEP = 0.6e-6
NVLINK_STEP_SOURCE = ("NVIDIA/nccl src/graph/tuning.cc, hwLat NVLink Ring/Tree LL = 0.6 us "
                      "(commit b6475625fbcaa2c3c0e50eed2fa1255d7514d4a2; baseLat Ring LL "
                      "6.6 us is the per-call part its model adds)")


@dataclass(frozen=True)
class LinkProfile:
    """Fitted link parameters of one system's fast domain.

    ``eta_x`` is achieved / nominal per-direction bandwidth (``beta_nominal``, B/s, from the
    registry), ``alpha_c`` the fitted seconds per collective call, ``alpha_x`` the seconds
    per message step (as many as the law's all-reduce counts; NCCL's value, not fitted).
    ``in_network`` says which all-reduce the fabric runs
    and the profile was fitted on (the switch's where it reduces, else the ring). ``fit``
    and ``holdout`` are error statistics (fractions) of
    |predicted / measured - 1| on the fitted and the held-out rows.
    """

    system: str
    device: str
    link: str
    beta_nominal: float
    eta_x: float
    alpha_x: float
    alpha_c: float = 0.0
    n_fit: int = 0
    fit: dict = field(default_factory=dict)
    holdout: dict = field(default_factory=dict)
    rms_log: float = float("nan")
    holdout_rows: tuple[str, ...] = ()
    provenance: str = ""
    in_network: bool = False

    def __post_init__(self):
        if not 0 < self.eta_x <= 1:
            raise InvalidParameter(f"link profile eta_x={self.eta_x!r}: must be in (0, 1]")
        for name in ("alpha_x", "alpha_c"):
            if not getattr(self, name) >= 0:
                raise InvalidParameter(f"link profile {name}={getattr(self, name)!r}: must be "
                                       ">= 0 s")
        object.__setattr__(self, "holdout_rows", tuple(self.holdout_rows))

    @property
    def bandwidth(self) -> float:
        """The calibrated per-direction bandwidth, B/s: eta_x x nominal."""
        return self.eta_x * self.beta_nominal

    def describe(self) -> str:
        algorithm = "in-network (NVLink SHARP)" if self.in_network else "ring"
        return (f"link profile {self.system} ({self.link}, {algorithm} all-reduce): eta_x "
                f"{self.eta_x:.3f} ({self.bandwidth / 1e9:.0f} of "
                f"{self.beta_nominal / 1e9:.0f} GB/s per direction), alpha_c "
                f"{self.alpha_c * 1e6:.2f} us per call, alpha_x {self.alpha_x * 1e6:.2f} us "
                "per message step")

    def to_dict(self) -> dict:
        data = asdict(self)
        data["holdout_rows"] = list(self.holdout_rows)
        return data

    def save(self, path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    @staticmethod
    def load(path) -> LinkProfile:
        path = Path(path)
        try:
            return LinkProfile(**json.loads(path.read_text()))
        except (json.JSONDecodeError, TypeError) as exc:
            raise RegistryError(f"{path.name}: not a link profile ({exc})") from None


# --- measurements ---------------------------------------------------------------------------
def rows(path=MEASURED) -> list[dict]:
    """The measured all-reduce rows (sizes in bytes, times in seconds)."""
    with Path(path).open() as handle:
        out = list(csv.DictReader(handle))
    for row in out:
        row["gpus"], row["size_bytes"] = int(row["gpus"]), float(row["size_bytes"])
        row["time_s"] = float(row["time_us"]) * 1e-6
    return out


def _label(row: dict) -> str:
    return f"{row['gpus']} GPUs {int(row['size_bytes'])} B ({row['url'].rsplit('/', 2)[-2:][-1]})"


def _call(n, m, bandwidth, alpha_c, alpha_x=NVLINK_STEP, in_network=False):
    """(time, d time / d alpha_c, d time / d beta_x) of the law's fast-domain all-reduce
    (in the switch when ``in_network``, else the ring), compiled."""
    from symsys import kernels

    fn = kernels.kernel("collectives", SPECS)
    values = {"n_g": n, "m_c": m, "beta_x": bandwidth, "alpha_x": alpha_x + 0 * n,
              "alpha_c": alpha_c + 0 * n, "z_nvls": int(in_network) + 0 * n}
    return fn(*(values[a] for a in fn.args))


def predict(n, m, bandwidth, alpha_c, alpha_x=NVLINK_STEP, in_network=False) -> np.ndarray:
    """The law's fast-domain all-reduce time (s) of ``n`` devices on ``m`` bytes: in the
    switch when ``in_network``, else the ring."""
    return _call(n, m, bandwidth, alpha_c, alpha_x, in_network)[0]


def _evaluate(n, m, beta, eta, alpha_c, in_network):
    """(time, d time / d eta, d time / d alpha_c) at bandwidth eta x beta."""
    t, dt_alpha, dt_beta = _call(n, m, eta * beta, alpha_c, in_network=in_network)
    return t, dt_beta * beta, dt_alpha


def _solve(n, m, beta, t, in_network=False, eta0=0.8, alpha0=5e-6, iterations=200):
    """Levenberg-Marquardt on u = logit(eta), v = log(alpha_c)."""
    u, v = math.log(eta0 / (1 - eta0)), math.log(alpha0)
    lam = 1e-3

    def residual(u, v):
        eta, alpha = 1 / (1 + math.exp(-u)), math.exp(v)
        pred, d_eta, d_alpha = _evaluate(n, m, beta, eta, alpha, in_network)
        r = np.log(pred) - np.log(t)
        jac = np.column_stack([d_eta * eta * (1 - eta) / pred, d_alpha * alpha / pred])
        return r, jac

    r, jac = residual(u, v)
    cost = float(r @ r)
    for _ in range(iterations):
        a = jac.T @ jac
        step = np.linalg.solve(a + lam * np.diag(np.diag(a) + 1e-12), -jac.T @ r)
        r_new, jac_new = residual(u + step[0], v + step[1])
        cost_new = float(r_new @ r_new)
        if cost_new < cost:
            u, v, r, jac = u + step[0], v + step[1], r_new, jac_new
            converged = cost - cost_new < 1e-14 * max(cost, 1e-30)
            cost, lam = cost_new, lam / 3
            if converged:
                break
        else:
            lam *= 10
    return 1 / (1 + math.exp(-u)), math.exp(v), math.sqrt(cost / len(t))


def nominal_link(system: str) -> tuple[float, str, str, bool]:
    """(per-direction bandwidth B/s, link description, device key, whether the switches
    reduce) of ``system``'s domain."""
    from symsys.registry.systems import Systems

    entry = Systems.get(system)
    link = entry.fast_domain
    return (link.bandwidth.m_as("B/s"), link.name, entry.hardware.key,
            link.in_network_reduction)


def fit_link(system: str, path=MEASURED, use_holdout: bool = False) -> LinkProfile:
    """Fit eta_x and alpha_c of ``system``'s fast domain to its measured all-reduce rows."""
    selected = [r for r in rows(path) if r["system"] == system and r["split"] != "excluded"]
    if not selected:
        raise InvalidParameter(f"no measured all-reduce rows for {system} in {Path(path).name}")
    fitted = [r for r in selected if use_holdout or r["split"] != "holdout"]
    held = [r for r in selected if r["split"] == "holdout" and not use_holdout]
    beta, link, device, in_network = nominal_link(system)

    def arrays(subset):
        return (np.array([r["gpus"] for r in subset], float),
                np.array([r["size_bytes"] for r in subset]),
                np.array([r["time_s"] for r in subset]))

    n, m, t = arrays(fitted)
    eta, alpha, rms = _solve(n, m, beta, t, in_network)
    errors = predict(n, m, eta * beta, alpha, in_network=in_network) / t - 1
    if held:
        hn, hm, ht = arrays(held)
        held_stats = error_stats(predict(hn, hm, eta * beta, alpha, in_network=in_network)
                                 / ht - 1)
    else:
        held_stats = {}
    sources = sorted({r["url"] for r in selected})
    return LinkProfile(
        system=system, device=device, link=link, beta_nominal=beta, eta_x=eta,
        alpha_x=NVLINK_STEP, alpha_c=alpha,
        n_fit=len(fitted), fit=_plain(error_stats(errors)), holdout=_plain(held_stats),
        rms_log=rms, holdout_rows=tuple(_label(r) for r in held),
        provenance=(f"fitted by symsys.calibration.links.fit_link on {len(fitted)} rows of "
                    f"measured/collectives/all_reduce.csv ({len(held)} held out): "
                    + "; ".join(sources) + f"; alpha_x from {NVLINK_STEP_SOURCE}"
                    + ("" if "NVLink" in link else " (NCCL's NVLink value, used for want of "
                       "a sourced per-step latency of this fabric)")),
        in_network=in_network)


def _plain(stats: dict) -> dict:
    return {k: (int(v) if k == "n" else float(v)) for k, v in stats.items()}


# --- shipped profiles -----------------------------------------------------------------------
def shipped_path(system: str) -> Path:
    return DATA / f"{_PREFIX}{system.lower()}.json"


def shipped() -> list[LinkProfile]:
    """Every link profile shipped in the registry."""
    return [LinkProfile.load(p) for p in sorted(DATA.glob(f"{_PREFIX}*.json"))]


def _same_fast_domain(key: str, other: str) -> bool:
    """Whether systems ``key`` and ``other`` have the very same fast domain: the same
    bandwidth and size, and the same device or fabric (by name). A link profile describes the
    fabric, not the GPU's memory: a cluster of DGX H100 nodes has a DGX H100's NVLink domain
    in each node, and a DGX H200 the same NVLink 4 / third-generation NVSwitch fabric, so a
    profile fitted on one DGX H100 is transferred to both (and says so:
    :func:`describe_for`)."""
    from symsys.registry.systems import Systems

    mine, theirs = Systems[key], Systems[other]
    a, b = mine.fast_domain, theirs.fast_domain
    if a is None or b is None or (a.bandwidth, a.domain_size) != (b.bandwidth, b.domain_size):
        return False
    # the same fabric: the same device in the same domain, or a domain of the same name
    return mine.device == theirs.device or a.name == b.name


def describe_for(profile: LinkProfile, system) -> str:
    """The profile's description, saying where it was fitted when ``system`` (its key) is
    another system with the same fast domain."""
    key = getattr(system, "key", system)
    text = profile.describe()
    if key is not None and key != profile.system:
        text += (f"; fitted on {profile.system}, transferred to {key}'s identical fast "
                 "domain (no measurement of it was fitted)")
    return text


def link_profile_for(device, system=None) -> LinkProfile:
    """The shipped link profile of ``system``'s fast domain, else one fitted on a system with
    the same fast domain; for a bare device, the profile fitted on a system whose fast domain
    is that device's own interconnect. An error names the systems that have one."""
    key = getattr(system, "key", system)
    profiles = shipped()
    if key is not None:
        found = ([p for p in profiles if p.system == key]
                 or [p for p in profiles if _same_fast_domain(key, p.system)])
    else:
        device_key = getattr(device, "key", device)
        found = [p for p in profiles if p.device == device_key]
    if found:
        return found[0]
    where = f"system {key}" if key is not None else f"device {getattr(device, 'key', device)}"
    raise InvalidParameter(
        f"efficiency='calibrated' with tensor or pipeline parallelism: no link calibration "
        f"for {where}; link profiles exist for "
        + ", ".join(f"{p.system} ({p.device})" for p in profiles)
        + ". Give efficiency as numbers and link_latency= instead, or fit one with "
        "symsys.calibration.links.fit_link().")


def write_shipped(systems=("DGX_A100", "DGX_H100", "MI300X_Platform")) -> list[Path]:
    """Refit and write the shipped link profiles (a maintainer's step)."""
    return [fit_link(s).save(shipped_path(s)) for s in systems]
