"""The hardware zoo: accelerators as frozen dataclasses read from ``data/hardware_*.toml``."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path

import pint

from symsys.errors import (
    InvalidParameter,
    RegistryError,
    UnknownHardware,
    UnsupportedPrecision,
    suggest,
)
from symsys.registry.common import (
    DATA,
    Fields,
    FileCache,
    Source,
    SourcedEntry,
    Zoo,
    entry_key,
    one_entry,
    read_entries,
    read_table_file,
    user_source,
)
from symsys.registry.links import HOST_KEYS, LINK_KEYS, Interconnect, read_interconnect
from symsys.units import check_range, parse_quantity, to_quantity

#: Every precision symsys knows, with the bytes one element of it occupies.
PRECISION_BYTES = {"fp64": 8, "fp32": 4, "tf32": 4, "bf16": 2, "fp16": 2, "fp8": 1, "int8": 1,
                   "fp6": 0.75, "fp4": 0.5, "int4": 0.5}
GROUPS = ("Cloud", "Workstation", "Edge")
#: the group of a user's device (Device.custom or a device file), apart from the registry's
CUSTOM_GROUP = "Custom"


#: The spellings people write (PyTorch dtypes, NumPy names, upper case) -> symsys's name.
PRECISION_SPELLINGS = {
    "float64": "fp64", "double": "fp64", "float32": "fp32", "float": "fp32", "single": "fp32",
    "tensorfloat32": "tf32", "bfloat16": "bf16", "float16": "fp16", "half": "fp16",
    "float8": "fp8", "fp8e4m3": "fp8", "fp8e5m2": "fp8", "float8e4m3fn": "fp8",
    "float8e5m2": "fp8", "e4m3": "fp8", "e5m2": "fp8", "float6": "fp6", "float4": "fp4",
    "nvfp4": "fp4", "mxfp4": "fp4", "mxfp6": "fp6",
}
#: precision="auto": the device's native 16-bit format. fp16 first where a device has both at
#: the same rate (every such part in the registry), so "auto" answers as the historical default
#: and the shipped fp16 calibration profiles apply; bf16-only parts (TPU, Gaudi) get bf16.
AUTO_ORDER = ("fp16", "bf16")


def _canonical_spelling(text: str) -> str:
    key = re.sub(r"[\s_\-.]", "", text.lower()).removeprefix("torch").removeprefix("np")
    return key if key in PRECISION_BYTES else PRECISION_SPELLINGS.get(key, text)


def check_precision(precision: str, what: str = "precision") -> str:
    """The canonical name of ``precision`` ("FP16", "bfloat16", "torch.float16" accepted).

    Raises UnsupportedPrecision naming the value and the precisions symsys knows.
    ``"auto"`` is resolved per device by :func:`resolve_precision`, not here.
    """
    name = _canonical_spelling(precision) if isinstance(precision, str) else precision
    if not isinstance(name, str) or name not in PRECISION_BYTES:
        raise UnsupportedPrecision(
            f"{what}={precision!r}: symsys knows {', '.join(PRECISION_BYTES)} "
            "(or 'auto', the device's native 16-bit format)."
            + suggest(str(precision), PRECISION_BYTES)
        )
    return name


def native_precision(device: Device) -> str:
    """The device's native 16-bit format (see ``AUTO_ORDER``); its first precision if none."""
    return device.compute.native


#: what a result says when precision="auto" chose its precision
AUTO_NOTE = "auto: the device's native 16-bit format"


def is_auto(precision) -> bool:
    """Whether ``precision`` asks for the device's native format (``"auto"``, any case)."""
    return isinstance(precision, str) and precision.strip().lower() == "auto"


def resolve_precision(device: Device, precision: str, what: str = "precision") -> str:
    """``precision`` for ``device``: ``"auto"`` -> :func:`native_precision`, else canonical."""
    if is_auto(precision):
        return native_precision(device)
    return check_precision(precision, what)


@dataclass(frozen=True, eq=False)
class Compute:
    peak_dense: dict[str, pint.Quantity]
    peak_sparse: dict[str, pint.Quantity]
    device: str = ""

    @property
    def native(self) -> str:
        """The native 16-bit format ``precision="auto"`` picks (see ``AUTO_ORDER``); a device
        with no 16-bit format answers its first listed precision."""
        for precision in AUTO_ORDER:
            if precision in self.peak_dense:
                return precision
        return next(iter(self.peak_dense))

    @property
    def peak_flops(self) -> pint.Quantity:
        """Dense 16-bit peak (fp16, or bf16 on devices without fp16 such as TPUs)."""
        for precision in AUTO_ORDER:
            if precision in self.peak_dense:
                return self.peak_dense[precision]
        raise UnsupportedPrecision(
            f"{self.device} has no 16-bit peak; it has {', '.join(self.peak_dense)}"
        )

    def peak(self, precision: str = "auto") -> pint.Quantity:
        """Dense peak at ``precision`` ("auto": :attr:`native`); a precision the device lacks
        is an error, no fallback."""
        precision = self.native if is_auto(precision) else check_precision(precision)
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
class CloudPrice:
    """An on-demand cloud list price for ONE device-hour: the instance's price as printed,
    divided by the devices it holds (checked at load to agree with ``hourly`` within 1 %)."""

    hourly: pint.Quantity  # USD/hour, per device
    provider: str
    instance: str
    devices_per_instance: int
    instance_hourly: pint.Quantity  # USD/hour, the whole instance, as printed
    region: str
    date: str
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
    cloud_price: CloudPrice | None = None
    field_sources: dict[str, Source] = field(default_factory=dict)
    notes: str = ""

    def ridge_point(self, precision: str = "auto") -> pint.Quantity:
        """I* of the roofline law at ``precision`` (speed of light), in FLOP/B."""
        from symsys import kernels  # the compiled law: the registry sits below the solvers

        ridge = kernels.kernel("roofline", ("I_ridge",), scalar=True)
        units = ridge.meta["units"]
        values = {"Pi": self.compute.peak(precision).m_as(units["Pi"]),
                  "beta": self.memory.bandwidth.m_as(units["beta"]),
                  "eta_c": 1.0, "eta_m": 1.0}  # speed of light: the law's default efficiencies
        return to_quantity(ridge.named(values)["I_ridge"], units["I_ridge"])

    @property
    def user_supplied(self) -> bool:
        """True for a device a user defined (``Device.custom``, a device file) with no source
        of its own: its numbers are the user's, not a datasheet's."""
        return self.source.document.startswith("user-supplied")

    @classmethod
    def custom(cls, key: str, *, peak, bandwidth, capacity, precision: str = "fp16",
               peaks: dict | None = None, name: str | None = None, tdp=None, sram=None,
               link_bandwidth=None, domain_size: int | None = None, source=None,
               notes: str = "") -> Device:
        """A device from the few numbers a roofline needs; units are required.

        Example::

            chip = Device.custom("MyChip", peak="500 TFLOP/s", bandwidth="4 TB/s",
                                 capacity="96 GiB")
            Engine.solve("Llama3_8B", chip)

        Parameters
        ----------
        key : the name results print.
        peak, bandwidth, capacity : dense peak at ``precision`` (FLOP/s), memory bandwidth
            (B/s) and memory capacity (B); Quantities or strings with units ("4 TB/s").
        precision : the precision ``peak`` is quoted at (default fp16).
        peaks : further dense peaks by precision, e.g. ``{"fp8": "1 PFLOP/s"}``.
        name : a longer display name (default ``key``).
        tdp : board power (W), for energy; sram : on-chip memory (B).
        link_bandwidth : device-to-device link bandwidth per direction (B/s), for tensor
            parallelism; domain_size : how many devices that link connects.
        source : a :class:`~symsys.registry.common.Source`; without one the device is flagged
            user-supplied (:attr:`user_supplied`).
        notes : free text shown by ``symsys show``.
        """
        if not isinstance(key, str) or not key.strip():
            raise InvalidParameter(f"key={key!r}: a device needs a name (a non-empty string)")
        dense = {check_precision(precision): _user_quantity("peak", peak, "FLOP/s")}
        for label, value in (peaks or {}).items():
            dense[check_precision(label, "peaks")] = _user_quantity(f"peaks[{label!r}]", value,
                                                                    "FLOP/s")
        link = None
        if link_bandwidth is not None:
            link = Interconnect(name="user-supplied link", domain_size=domain_size,
                                bandwidth=_user_quantity("link_bandwidth", link_bandwidth,
                                                         "B/s"))
        elif domain_size is not None:
            raise InvalidParameter(f"domain_size={domain_size!r} needs link_bandwidth (the "
                                   "link it counts devices over)")
        if source is not None and not isinstance(source, Source):
            raise InvalidParameter(f"source={source!r}: expected a symsys Source(document, "
                                   "url, date) or None (user-supplied)")
        return cls(
            key=key, name=name or key, group=CUSTOM_GROUP, vendor="user",
            year=datetime.date.today().year, source=source or user_source(None), notes=notes,
            compute=Compute(dense, {}, device=key),
            memory=Memory(_user_quantity("capacity", capacity, "B"),
                          _user_quantity("bandwidth", bandwidth, "B/s")),
            tdp=None if tdp is None else _user_quantity("tdp", tdp, "W"),
            onchip=OnChip(None if sram is None else _user_quantity("sram", sram, "B"), None),
            interconnect=link,
        )

    def __repr__(self) -> str:
        return f"<Device {self.key}: {self.name}>"

    def __reduce__(self):  # a registry device pickles by name: the registry is the truth
        if self.group != CUSTOM_GROUP and self.key in Hardware and Hardware[self.key] is self:
            return (_lookup, (self.key,))
        return super().__reduce__()


def _lookup(key: str) -> Device:
    return Hardware[key]


def _user_quantity(label: str, value, unit: str) -> pint.Quantity:
    """A user's number for ``label``: a Quantity or a string with units, one positive number
    that stays finite in ``unit`` ('1e308 GiB' overflows bytes)."""
    if isinstance(value, str):
        try:
            value = parse_quantity(value, unit, label)
        except RegistryError as exc:
            raise InvalidParameter(str(exc)) from None
    if not isinstance(value, pint.Quantity):
        raise InvalidParameter(f"{label}={value!r}: give units, e.g. a string like "
                               f"'{_EXAMPLES[unit]}' or a Quantity in {unit}")
    if not value.check(unit):
        raise InvalidParameter(f"{label}={value:~P}: expected a quantity in {unit}")
    check_range(value, unit, label, error=InvalidParameter)
    return value


_EXAMPLES = {"FLOP/s": "500 TFLOP/s", "B/s": "4 TB/s", "B": "96 GiB", "W": "700 W"}


def read_device_file(path: Path) -> Device:
    """The one device a user's TOML or JSON file describes, in the registry's schema
    (``[[device]]`` tables as in ``data/hardware_*.toml``, or the device table at the top
    level). ``key``, ``name``, ``group``, ``vendor``, ``year`` and ``source`` may be left out:
    the key is the file's stem, and the device is flagged user-supplied."""
    table = one_entry(read_table_file(path, "device"), "device", path,
                      "one per file; symsys.registry.hardware.load(paths=[...]) reads many")
    table.setdefault("key", path.stem)
    table.setdefault("name", table["key"])
    table.setdefault("group", CUSTOM_GROUP)
    table.setdefault("vendor", "user")
    table.setdefault("year", datetime.date.today().year)
    if "source" not in table:
        source = user_source(path)
        table["source"] = {"document": source.document, "url": source.url,
                           "retrieved": source.retrieved}
    return _device(Fields(table, f"{path.name}: device ({entry_key(table)})"))


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
    if group not in (*GROUPS, CUSTOM_GROUP):
        raise RegistryError(f"{fields.where}.group: {group!r} is not one of "
                            f"{', '.join((*GROUPS, CUSTOM_GROUP))}")
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
        cloud_price=_cloud_price(fields.sub("cloud_price")),
        field_sources=_field_sources(sources, link),
    )


def _cloud_price(fields: Fields | None) -> CloudPrice | None:
    """``[device.cloud_price]``: per-device = instance price / devices, within 1 %."""
    import re

    if fields is None:
        return None
    hourly = _quantity(fields, "hourly", "USD/hour")
    instance_hourly = _quantity(fields, "instance_hourly", "USD/hour")
    devices = fields.positive("devices_per_instance")
    implied = (instance_hourly / devices).m_as("USD/hour")
    if abs(hourly.m_as("USD/hour") - implied) > 0.01 * implied:
        raise RegistryError(
            f"{fields.where}: hourly {fields.get('hourly', str)!r} is not instance_hourly "
            f"{fields.get('instance_hourly', str)!r} / devices_per_instance {devices} "
            f"(= {implied:.4g} USD/hour) within 1 %"
        )
    date = fields.get("date", str)
    if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", date):
        raise RegistryError(f"{fields.where}.date: expected YYYY-MM-DD, got {date!r}")
    return CloudPrice(hourly=hourly, provider=fields.get("provider", str),
                      instance=fields.get("instance", str), devices_per_instance=devices,
                      instance_hourly=instance_hourly, region=fields.get("region", str),
                      date=date, source=fields.source())


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
Hardware = Zoo("Hardware", load, UnknownHardware, file_loader=FileCache(read_device_file, "device"))
