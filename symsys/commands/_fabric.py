"""Text and JSON for links and systems, shared by ``symsys show`` and ``symsys zoo``.

Every bandwidth is printed per direction (the normalised number a collective law uses), next
to the figure the vendor printed, so a reader can check the conversion at a glance.
"""

from __future__ import annotations

import io

#: The numbers of a fabric, in the order they are shown.
NUMBERS = ("links", "link_bandwidth", "bandwidth", "domain_size", "alpha")


def _gbs(quantity) -> float | None:
    return None if quantity is None else float(quantity.m_as("GB/s"))


def link_text(link) -> str:
    """'18 x 25 GB/s = 450 GB/s per direction (vendor: 900 GB/s bidirectional over 18 links)'."""
    from symsys.units import format_value

    if link.link_bandwidth is not None and link.links is not None:
        text = (f"{link.links} x {format_value(link.link_bandwidth)} = "
                f"{format_value(link.bandwidth)} per direction")
    elif link.bandwidth is not None:
        text = f"{format_value(link.bandwidth)} per direction (link count not published)"
    else:
        text = "bandwidth not published" + (f" ({link.links} links)" if link.links else "")
    if link.quoted:
        text += f" (vendor: {link.quoted})"
    if link.domain_size is not None:
        text += f"; domain of {link.domain_size} devices"
    alpha = "not published" if link.alpha is None else format_value(link.alpha)
    text = f"{link.name}: {text}; alpha {alpha}"
    if link.in_network_reduction:
        text += "; the switches reduce in the network (NVLink SHARP)"
    return text


def link_dict(link) -> dict | None:
    """JSON form of a link: per-direction GB/s, counts, alpha in microseconds."""
    if link is None:
        return None
    return {"name": link.name, "links": link.links,
            "link_bandwidth_per_direction_gbs": _gbs(link.link_bandwidth),
            "bandwidth_per_direction_gbs": _gbs(link.bandwidth),
            "domain_size": link.domain_size,
            "alpha_us": None if link.alpha is None else float(link.alpha.m_as("us")),
            "in_network_reduction": link.in_network_reduction,
            "quoted": link.quoted}


def system_dict(s) -> dict:
    return {"key": s.key, "name": s.name, "group": s.group, "vendor": s.vendor, "year": s.year,
            "aliases": list(s.aliases), "device": s.device,
            "devices_per_node": s.devices_per_node, "nodes": s.nodes, "devices": s.devices,
            "fast_domain": link_dict(s.fast_domain), "scale_out": link_dict(s.scale_out),
            "source": str(s.source)}


def _sources(s) -> dict[str, str]:
    """Source of every number of the system, keyed 'fabric.field'."""
    found = {"devices_per_node": str(s.source), "nodes": str(s.source)}
    for role in ("fast_domain", "scale_out"):
        link = getattr(s, role)
        for number in NUMBERS if link is not None else ():
            if getattr(link, number) is not None:
                found[f"{role}.{number}"] = str(s.source_of(f"{role}.{number}"))
        if link is not None and link.in_network_reduction:
            name = f"{role}.in_network_reduction"
            found[name] = str(s.source_of(name))
    return found


def show_system(s):
    """(text, data) of ``symsys show SYSTEM``: every number, then where each came from."""
    from symsys.show import info

    device = s.hardware
    nodes = f", {s.nodes} nodes = {s.devices} devices" if s.nodes > 1 else ""
    fields = dict(Name=s.name, Vendor=s.vendor, Group=s.group, Year=s.year,
                  Devices=f"{s.devices_per_node} x {s.device} ({device.name}) per node{nodes}")
    fields["Fast domain (per device)"] = (link_text(s.fast_domain) if s.fast_domain
                                          else "none recorded")
    fields["Scale-out (per node)"] = (link_text(s.scale_out) if s.scale_out
                                      else "none recorded")
    sources = _sources(s)
    by_source: dict[str, list[str]] = {}
    for name, source in sources.items():
        by_source.setdefault(source, []).append(name)
    for i, (source, names) in enumerate(by_source.items(), 1):
        fields[f"Source {i}"] = f"{', '.join(names)}: {source}"
    if s.notes:
        fields["Notes"] = s.notes
    text = info(s.key, file=io.StringIO(), **fields)
    return text, {**system_dict(s), "sources": sources, "notes": s.notes}


def _count(s) -> str:
    return f"{s.devices} x {s.device}" + (f" ({s.nodes} x {s.devices_per_node})"
                                          if s.nodes > 1 else "")


def _per_direction(link) -> str:
    if link is None:
        return "-"
    if link.link_bandwidth is not None and link.links is not None:
        return f"{link.links} x {_gbs(link.link_bandwidth):g} = {_gbs(link.bandwidth):g}"
    return f"{_gbs(link.bandwidth):g}" if link.bandwidth is not None else "?"


def _all_reduce(link) -> str:
    """The fast domain's all-reduce: in the switch where it reduces, else the ring."""
    if link is None:
        return "-"
    return "in-network" if link.in_network_reduction else "ring"


def _scale_out(link) -> str:
    if link is None:
        return "-"
    gbit = (f"{link.links} x {link.link_bandwidth.m_as('Gbit/s'):g} Gb/s"
            if link.link_bandwidth is not None and link.links is not None
            else f"{link.bandwidth.m_as('Gbit/s'):g} Gb/s")
    return f"{gbit} = {_gbs(link.bandwidth):g} GB/s"


def zoo_systems(systems):
    """(text, data) of ``symsys zoo systems``."""
    from symsys.show import table

    rows = [[s.key, _count(s),
             f"{s.fast_domain.name} ({s.fast_domain.domain_size})" if s.fast_domain else "-",
             _per_direction(s.fast_domain), _all_reduce(s.fast_domain),
             _scale_out(s.scale_out)] for s in systems]
    text = table(["key", "device x count", "fast domain (size)", "link GB/s per direction",
                  "all-reduce", "scale-out per node (per direction)"], rows,
                 file=io.StringIO())
    return text, [system_dict(s) for s in systems]
