"""The system zoo: nodes, racks and clusters read from ``data/systems.toml``.

A system is a device from the hardware registry times a count per node, times a number of
nodes, joined by two fabrics: the *fast domain* (NVLink/NVSwitch, TPU ICI, Infinity Fabric:
per device, with the number of devices it spans) and the *scale-out* network (InfiniBand,
RoCE, Ethernet: per node, its NICs). Both are :class:`~symsys.registry.links.Link` objects,
normalised to per-direction bandwidth at load like a device's interconnect, so a collective
law reads the same three numbers everywhere: link bandwidth per direction, links, alpha.

A fabric table may say ``from_device = true``: the numbers are then the device's own
interconnect (and its sources), so a DGX H100 does not type the H100's NVLink a second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields

from symsys.errors import InvalidParameter, RegistryError, UnknownName, UnknownSystem
from symsys.registry.common import DATA, Fields, Source, SourcedEntry, Zoo, read_entries
from symsys.registry.hardware import Device, Hardware
from symsys.registry.links import LINK_KEYS, Link, check_keys, read_link

GROUPS = ("Node", "Rack", "Cluster")
#: The fabric tables of a system entry and the scope of their numbers.
FABRICS = {"fast_domain": "per device", "scale_out": "per node"}
_FROM_DEVICE_KEYS = ("name", "domain_size", "from_device", "in_network_reduction")
#: fabric fields that are not numbers but still need a source of their own when set
_CLAIMS = ("in_network_reduction",)
_NUMBERS = ("bandwidth", "link_bandwidth", "links", "alpha", "domain_size")


@dataclass(frozen=True, eq=False)
class System(SourcedEntry):
    """A node, rack or cluster: ``devices_per_node`` x ``nodes`` devices and their fabrics.

    ``device`` is a hardware registry key (``Hardware[system.device]`` is the Device).
    ``fast_domain`` is per device (the links one device has into the domain) with the domain
    size; ``scale_out`` is per node (its NICs); either is None where the system has none or
    no public source describes it. ``source_of("scale_out.link_bandwidth")`` names the source
    of one number.
    """

    key: str
    name: str
    group: str
    vendor: str
    year: int
    device: str
    devices_per_node: int
    source: Source
    nodes: int = 1
    aliases: tuple[str, ...] = ()
    fast_domain: Link | None = None
    scale_out: Link | None = None
    field_sources: dict[str, Source] = field(default_factory=dict)
    notes: str = ""

    def __post_init__(self):
        if self.group not in GROUPS:
            raise InvalidParameter(f"{self.key}: group={self.group!r}; expected one of "
                                   f"{', '.join(GROUPS)}")
        for label in ("devices_per_node", "nodes", "year"):
            value = getattr(self, label)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidParameter(f"{self.key}: {label}={value!r}: expected a positive "
                                       "integer")
        domain = self.fast_domain
        if domain is not None:
            if domain.domain_size is None:
                raise InvalidParameter(f"{self.key}: the fast domain needs a domain_size")
            if domain.domain_size > self.devices:  # a domain cannot outgrow its system
                raise InvalidParameter(f"{self.key}: fast-domain size {domain.domain_size} "
                                       f"exceeds the system's {self.devices} devices")

    @property
    def devices(self) -> int:
        """Devices in the whole system: ``devices_per_node * nodes``."""
        return self.devices_per_node * self.nodes

    @property
    def hardware(self) -> Device:
        """The Device this system is built from."""
        return Hardware[self.device]

    def __repr__(self) -> str:
        return f"<System {self.key}: {self.devices} x {self.device}>"

    def __reduce__(self):  # pickles by name: the registry is the one source of truth
        return (_lookup, (self.key,))


def _lookup(key: str) -> System:
    return Systems[key]


def _device_key(fields: Fields) -> Device:
    name = fields.get("device", str)
    try:
        return Hardware[name]
    except UnknownName as exc:  # name the file and field, keep the suggestion
        raise RegistryError(f"{fields.where}.device: {exc}") from None


def _fabric(fields: Fields | None, role: str, device: Device, sources: dict) -> Link | None:
    """A fabric table: its own numbers, or the device's interconnect (``from_device``)."""
    if fields is None:
        return None
    if fields.get("in_network_reduction", bool, False):
        if role != "fast_domain":
            raise RegistryError(f"{fields.where}.in_network_reduction: only a fast domain's "
                                "switches reduce in the network")
        if f"{role}.in_network_reduction" not in sources:
            raise RegistryError(f"{fields.where}.in_network_reduction: needs its own source "
                                f"(field_sources.'{role}.in_network_reduction')")
    if not fields.get("from_device", bool, False):
        link = read_link(fields, LINK_KEYS + ("from_device",))
        if link.alpha is not None and f"{role}.alpha" not in sources:
            raise RegistryError(f"{fields.where}.alpha: a latency needs its own source "
                                f"(field_sources.'{role}.alpha')")
        return link
    check_keys(fields, _FROM_DEVICE_KEYS)
    base = device.interconnect
    if base is None:
        raise RegistryError(f"{fields.where}.from_device: {device.key} has no interconnect")
    for number in _NUMBERS[:-1]:  # the device's numbers keep the device's sources; the
        # domain size is the system's own (an H100 alone does not say it sits in 8 or 256)
        sources.setdefault(f"{role}.{number}", device.source_of(f"interconnect.{number}"))
    values = {f.name: getattr(base, f.name) for f in dataclass_fields(Link)}
    values.update(name=fields.get("name", str),
                  domain_size=fields.positive("domain_size", int, None),
                  in_network_reduction=fields.get("in_network_reduction", bool, False))
    return Link(**values)


def _system(fields: Fields) -> System:
    check_keys(fields, ("key", "name", "aliases", "group", "vendor", "year", "device",
                        "devices_per_node", "nodes", "source", "notes", *FABRICS,
                        "field_sources"))
    table = fields.sub("field_sources")
    sources = {name: table.source(name) for name in table.table} if table else {}
    for name in sources:
        role, _, number = name.partition(".")
        if role not in FABRICS or number not in _NUMBERS + _CLAIMS + ("name",):
            raise RegistryError(f"{table.where}.{name}: not a fabric field (expected e.g. "
                                "'fast_domain.links' or 'scale_out.link_bandwidth')")
    device = _device_key(fields)
    fabrics = {role: _fabric(fields.sub(role), role, device, sources) for role in FABRICS}
    try:
        return System(
            key=fields.get("key", str), name=fields.get("name", str),
            group=fields.get("group", str), vendor=fields.get("vendor", str),
            year=fields.positive("year"), device=device.key,
            devices_per_node=fields.positive("devices_per_node"),
            nodes=fields.positive("nodes", int, 1), source=fields.source(),
            aliases=tuple(fields.get("aliases", list, [])), field_sources=sources,
            notes=fields.get("notes", str, ""), **fabrics)
    except InvalidParameter as exc:
        raise RegistryError(f"{fields.where}: {exc}") from None


def load(paths=None) -> list[System]:
    """Read ``systems.toml`` (or ``paths``) into validated systems."""
    return read_entries(paths or [DATA / "systems.toml"], "system", _system)


#: The system zoo: ``Systems.DGX_H100``, ``Systems.Rack.GB200_NVL72``, ``Systems["dgx-h100"]``.
Systems = Zoo("Systems", load, UnknownSystem)
