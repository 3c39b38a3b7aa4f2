"""symsys show: everything the registry knows about one device, system or model, with sources."""

from __future__ import annotations

import io

HELP = ("describe one device, system (node, rack, cluster) or model from the registry, with the "
        "source of every number")
EXAMPLES = """  symsys show H100
  symsys show DGX_H100
  symsys show Llama3_8B
  symsys show meta-llama/Meta-Llama-3-8B --json"""


def add_arguments(parser):
    parser.add_argument("name", help="device, system or model name, alias or Hugging Face id")


def run(args):
    from symsys.errors import UnknownName
    from symsys.registry import Hardware, Models, Systems

    if not args.name.strip():
        raise UnknownName("give a device, system or model name (symsys zoo hardware|"
                          "systems|models lists them)")
    from symsys.registry.common import is_file_name

    if is_file_name(args.name):
        return _file_entry(args.name)
    # systems first: a few device aliases name racks ("GB200 NVL72"), and the rack is meant
    if args.name in Systems:
        from symsys.commands._fabric import show_system

        return show_system(Systems[args.name])
    if args.name in Hardware:
        return _device(Hardware[args.name])
    if args.name in Models:
        return _model(Models[args.name])
    raise UnknownName(f"no device, system or model {args.name!r}." + _suggestion(args.name))


def _file_entry(name: str):
    """A user's device or model file: a model if it holds a model (a config.json's
    model_type, a [[model]] table or a [shape]), else a device."""
    from pathlib import Path

    from symsys.registry import Hardware, Models
    from symsys.registry.common import read_table_file

    data = read_table_file(Path(name), "device or model")
    if {"model_type", "model", "shape"} & set(data):
        return _model(Models.get(name))
    return _device(Hardware.get(name))


def _suggestion(name: str) -> str:
    """' Did you mean ...?' over the three registries (each zoo matches its own aliases and
    look-alike spellings), or where to find the lists."""
    from symsys.errors import did_you_mean
    from symsys.registry import Hardware, Models, Systems

    zoos = (Systems, Hardware, Models)
    # a look-alike of one entry ('H1OO') in any registry outranks near spellings in the others
    keys = ([k for zoo in zoos for k in zoo.close_keys(name, exact=True)]
            or [k for zoo in zoos for k in zoo.close_keys(name)])
    return (did_you_mean(list(dict.fromkeys(keys)))
            or " See symsys zoo hardware|systems|models for the lists.")


def _device(d):
    from symsys.show import info

    fields = dict(Name=d.name, Vendor=d.vendor, Group=d.group, Year=d.year, TDP=d.tdp)
    for p, q in d.compute.peak_dense.items():
        fields[f"{p} dense"] = q.to("TFLOP/s")
    for p, q in d.compute.peak_sparse.items():
        fields[f"{p} sparse (2:4)"] = q.to("TFLOP/s")
    stated = (f" (the vendor states {d.memory.capacity_stated}: DRAM is binary)"
              if d.memory.capacity_stated else "")
    fields.update(Memory=f"{d.memory.capacity:~P} {d.memory.type}{stated}",
                  Bandwidth=d.memory.bandwidth.to("TB/s"))
    if d.onchip.sram is not None:
        fields["On-chip SRAM"] = d.onchip.sram
    if d.interconnect:  # normalised per direction, beside the vendor's own figure
        from symsys.commands._fabric import link_text

        fields["Interconnect"] = link_text(d.interconnect)
        if d.interconnect.host:
            fields["Host link"] = link_text(d.interconnect.host)
    if d.streaming:
        fields["Weight streaming"] = (f"{d.streaming.name}: "
                                      f"{d.streaming.injection_bandwidth:~P}")
    if d.price:
        fields["List price"] = f"{d.price.list:~P} ({d.price.source})"
    if d.cloud_price:
        rent = d.cloud_price
        fields["Cloud price"] = (f"{rent.hourly.m_as('USD/hour'):.4g} USD per device-hour "
                                 f"on demand ({rent.provider} {rent.instance}, "
                                 f"{rent.devices_per_instance} per instance at "
                                 f"{rent.instance_hourly.m_as('USD/hour'):.4g} USD/hour, "
                                 f"{rent.region}, {rent.date}; {rent.source})")
    fields["Source"] = str(d.source)
    for name, source in d.field_sources.items():
        fields[f"Source of {name}"] = str(source)
    if d.notes:
        fields["Notes"] = d.notes
    text = info(f"{d.key}", file=io.StringIO(), **fields)
    data = {k: str(v) for k, v in fields.items()}
    return text, data


def _model(m):
    from symsys.show import info

    fields = dict(Name=m.name, Group=m.group, Architecture=m.architecture,
                  Parameters=m.parameters.to("Gparam"))
    if hasattr(m, "shape"):
        shape = m.shape
        fields.update(Official=f"{m.official_parameters:.4g} ({m.official_source})",
                      Active=m.active_parameters.to("Gparam"),
                      Shape=(f"L={shape.layers} d={shape.d_model} h={shape.heads} "
                             f"h_kv={shape.kv_heads} d_h={shape.head_dim} d_ff={shape.d_ff} "
                             f"V={shape.vocab}"),
                      KV_per_token_fp16=m.kv_bytes_per_token("fp16").to("KiB"),
                      HF_id=m.hf_id)
    else:
        fields.update(FLOPs_per_inference=f"{m.flops_per_inference:.4g} at {m.resolution}px")
    fields["Source"] = str(m.source)
    if m.notes:
        fields["Notes"] = m.notes
    return info(m.key, file=io.StringIO(), **fields), {k: str(v) for k, v in fields.items()}
