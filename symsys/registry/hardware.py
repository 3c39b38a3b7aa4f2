"""The hardware zoo: accelerators as frozen dataclasses read from ``data/hardware_*.toml``."""

from __future__ import annotations

from dataclasses import dataclass, field

import pint

from symsys.errors import RegistryError, UnknownHardware, UnsupportedPrecision, suggest
from symsys.registry.common import DATA, Fields, Source, SourcedEntry, Zoo, read_entries
from symsys.registry.links import HOST_KEYS, LINK_KEYS, Interconnect, read_interconnect
from symsys.units import parse_quantity, to_quantity

#: Every precision symsys knows, with the bytes one element of it occupies.
PRECISION_BYTES = {"fp64": 8, "fp32": 4, "tf32": 4, "bf16": 2, "fp16": 2, "fp8": 1, "int8": 1,
                   "fp6": 0.75, "fp4": 0.5, "int4": 0.5}
GROUPS = ("Cloud", "Workstation", "Edge")


def check_precision(precision: str, what: str = "precision") -> str:
    if not isinstance(precision, str) or precision not in PRECISION_BYTES:
        raise UnsupportedPrecision(
            f"{what}={precision!r}: symsys knows {', '.join(PRECISION_BYTES)}."
            + suggest(str(precision), PRECISION_BYTES)
        )
    return precision


@dataclass(frozen=True, eq=False)
class Compute:
    peak_dense: dict[str, pint.Quantity]
    peak_sparse: dict[str, pint.Quantity]
    device: str = ""

    @property
    def peak_flops(self) -> pint.Quantity:
        """Dense 16-bit peak (fp16, or bf16 on devices without fp16 such as TPUs)."""
        for precision in ("fp16", "bf16"):
            if precision in self.peak_dense:
                return self.peak_dense[precision]
        raise UnsupportedPrecision(
            f"{self.device} has no 16-bit peak; it has {', '.join(self.peak_dense)}"
        )

    def peak(self, precision: str) -> pint.Quantity:
        """Dense peak at ``precision``; a precision the device lacks is an error, no fallback."""
        check_precision(precision)
        try:
            return self.peak_dense[precision]
        except KeyError:
            raise UnsupportedPrecision(
                f"{self.device} has no dense {precision} peak; it has "
                f"{', '.join(self.peak_dense)}"
            ) from None

    @property
    def precisions(self) -> tuple[str, ...]:
        return tuple(self.peak_dense)


@dataclass(frozen=True, eq=False)
class Memory:
    """Device memory. ``capacity`` is physical: DRAM (HBM, GDDR, LPDDR) comes in binary sizes,
    so a vendor's "80 GB" part holds 80 GiB (nvidia-smi: 81,920 MiB on an A100-80GB);
    ``capacity_stated`` keeps the vendor's own words where they differ."""

    capacity: pint.Quantity
    bandwidth: pint.Quantity
    type: str = ""
    capacity_stated: str = ""


@dataclass(frozen=True, eq=False)
class OnChip:
    sram: pint.Quantity | None = None
    sram_bandwidth: pint.Quantity | None = None


@dataclass(frozen=True, eq=False)
class Streaming:
    """External memory that weights stream from (MemoryX, host memory over a link)."""

    name: str
    injection_bandwidth: pint.Quantity
    external_capacity: pint.Quantity | None = None
    notes: str = ""


@dataclass(frozen=True, eq=False)
class Price:
    list: pint.Quantity
    source: Source


@dataclass(frozen=True, eq=False)
class Device(SourcedEntry):
    """One accelerator, with the provenance of every number."""

    key: str
    name: str
    group: str
    vendor: str
    year: int
    compute: Compute
    memory: Memory
    source: Source
    aliases: tuple[str, ...] = ()
    tdp: pint.Quantity | None = None
    onchip: OnChip = field(default_factory=OnChip)
    interconnect: Interconnect | None = None
    streaming: Streaming | None = None
    price: Price | None = None
    field_sources: dict[str, Source] = field(default_factory=dict)
    notes: str = ""

    def ridge_point(self, precision: str = "fp16") -> pint.Quantity:
        """I* of the roofline law at ``precision`` (speed of light), in FLOP/B."""
        from symsys import kernels  # the compiled law: the registry sits below the solvers

        ridge = kernels.kernel("roofline", ("I_ridge",), scalar=True)
        units = ridge.meta["units"]
        values = {"Pi": self.compute.peak(precision).m_as(units["Pi"]),
                  "beta": self.memory.bandwidth.m_as(units["beta"]),
                  "eta_c": 1.0, "eta_m": 1.0}  # speed of light: the law's default efficiencies
        return to_quantity(ridge.named(values)["I_ridge"], units["I_ridge"])

    def __repr__(self) -> str:
        return f"<Device {self.key}: {self.name}>"

    def __reduce__(self):  # pickles by name: the registry is the one source of truth
        return (_lookup, (self.key,))


def _lookup(key: str) -> Device:
    return Hardware[key]


def _quantity(fields: Fields, key: str, unit: str, default=...):
    text = fields.get(key, str, None if default is not ... else ...)
    if text is None:
        return None
    return parse_quantity(text, unit, f"{fields.where}.{key}")


def _peaks(fields: Fields | None) -> dict[str, pint.Quantity]:
    if fields is None:
        return {}
    peaks = {}
    for precision in fields.table:
        if precision not in PRECISION_BYTES:
            raise RegistryError(f"{fields.where}.{precision}: unknown precision; "
                                f"expected one of {', '.join(PRECISION_BYTES)}")
        peaks[precision] = _quantity(fields, precision, "FLOP/s")
    return peaks


def _device(fields: Fields) -> Device:
    key = fields.get("key", str)
    group = fields.get("group", str)
    if group not in GROUPS:
        raise RegistryError(f"{fields.where}.group: {group!r} is not one of {', '.join(GROUPS)}")
    dense = _peaks(fields.sub("peak_dense", required=True))
    if not dense:
        raise RegistryError(f"{fields.where}.peak_dense: no precision listed")
    memory = fields.sub("memory", required=True)
    onchip = fields.sub("onchip")
    link = fields.sub("interconnect")
    stream = fields.sub("streaming")
    price = fields.sub("price")
    sources = fields.sub("field_sources")
    return Device(
        key=key,
        name=fields.get("name", str),
        group=group,
        vendor=fields.get("vendor", str),
        year=fields.positive("year"),
        aliases=tuple(fields.get("aliases", list, [])),
        tdp=_quantity(fields, "tdp", "W", None),
        source=fields.source(),
        notes=fields.get("notes", str, ""),
        compute=Compute(dense, _peaks(fields.sub("peak_sparse")), device=key),
        memory=Memory(_quantity(memory, "capacity", "B"), _quantity(memory, "bandwidth", "B/s"),
                      memory.get("type", str, ""), memory.get("capacity_stated", str, "")),
        onchip=OnChip(_quantity(onchip, "sram", "B", None),
                      _quantity(onchip, "sram_bandwidth", "B/s", None)) if onchip else OnChip(),
        interconnect=read_interconnect(link) if link else None,
        streaming=Streaming(
            stream.get("name", str), _quantity(stream, "injection_bandwidth", "B/s"),
            _quantity(stream, "external_capacity", "B", None), stream.get("notes", str, ""),
        ) if stream else None,
        price=Price(_quantity(price, "list", "USD"), price.source()) if price else None,
        field_sources=_field_sources(sources, link),
    )


def _field_sources(sources: Fields | None, link: Fields | None) -> dict[str, Source]:
    """Per-field sources; an interconnect alpha must have its own (no borrowed latency)."""
    found = {name: sources.source(name) for name in sources.table} if sources else {}
    for name in found:
        head, _, tail = name.partition(".")
        if head == "interconnect" and tail not in LINK_KEYS + HOST_KEYS:
            raise RegistryError(f"{sources.where}.{name}: no interconnect field {tail!r}")
    if link is not None and link.has("alpha") and "interconnect.alpha" not in found:
        raise RegistryError(f"{link.where}.alpha: a latency needs its own source "
                            "(field_sources.'interconnect.alpha')")
    return found


def load(paths=None) -> list[Device]:
    """Read every ``hardware_*.toml`` (or ``paths``) into validated devices."""
    return read_entries(paths or sorted(DATA.glob("hardware_*.toml")), "device", _device)


#: The hardware zoo: ``Hardware.H100``, ``Hardware.Cloud.H100``, ``Hardware["h100-sxm"]``.
Hardware = Zoo("Hardware", load, UnknownHardware)
