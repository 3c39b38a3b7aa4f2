"""symsys zoo: list the hardware, system or model registry."""

from __future__ import annotations

HELP = ("list the hardware, system, model or runtime registry (with key specs and "
        "sources)")
EXAMPLES = """  symsys zoo hardware
  symsys zoo systems
  symsys zoo models --json
  symsys zoo runtimes
  symsys zoo hardware --group Edge"""


def add_arguments(parser):
    parser.add_argument("kind", type=_kind, metavar="{hardware,systems,models,runtimes}",
                        help="which registry to list")
    parser.add_argument("--group", default=None,
                        help="only one group, any case (Cloud, Edge, Node, Rack, Language...)")


KINDS = ("hardware", "systems", "models", "runtimes")


def _kind(text: str) -> str:
    """The registry ``text`` names, in any case and singular or plural ('Model', 'devices')."""
    import argparse

    from symsys.errors import suggest

    word = text.strip().lower()
    word = {"device": "hardware", "devices": "hardware", "system": "systems",
            "model": "models", "runtime": "runtimes"}.get(word, word)
    if word not in KINDS:  # argparse prints this message with the usage (exit 2)
        raise argparse.ArgumentTypeError(f"{text!r}: expected one of {', '.join(KINDS)}."
                                         + suggest(text, KINDS))
    return word


def _fmt(quantity, unit: str) -> str:
    return "" if quantity is None else f"{quantity.m_as(unit):.4g}"


def run(args):
    import io

    from symsys.registry import Hardware, Models
    from symsys.show import table

    if args.kind == "runtimes":
        return _runtimes(table, io)
    if args.kind == "systems":
        from symsys.commands._fabric import zoo_systems
        from symsys.registry import Systems

        return zoo_systems([Systems[k] for k in Systems.list(args.group)])
    if args.kind == "hardware":
        from symsys.commands._fabric import link_dict

        devices = [Hardware[k] for k in Hardware.list(args.group)]
        rows = [[d.key, d.vendor, d.group, d.year, _fmt(d.compute.peak_flops, "TFLOP/s"),
                 _fmt(d.memory.bandwidth, "TB/s"), _fmt(d.memory.capacity, "GB"),
                 f"{d.ridge_point(_sixteen(d)).m_as('FLOP/B'):.0f}",
                 _fmt(d.interconnect and d.interconnect.bandwidth, "GB/s"),
                 _fmt(d.tdp, "W"),
                 _fmt(d.cloud_price and d.cloud_price.hourly, "USD/hour")] for d in devices]
        # TDP and the on-demand cloud price are what cost and energy answers use (blank: none
        # in the registry, and those answers need --power / --price)
        text = table(["key", "vendor", "group", "year", "16-bit TFLOP/s", "TB/s", "GB",
                      "ridge FLOP/B", "link GB/s per direction", "TDP W", "USD/h"], rows,
                     file=io.StringIO())
        data = [{"key": d.key, "name": d.name, "vendor": d.vendor, "group": d.group,
                 "year": d.year, "aliases": list(d.aliases),
                 "peak_dense_tflops": {p: q.m_as("TFLOP/s") for p, q in
                                       d.compute.peak_dense.items()},
                 "peak_sparse_tflops": {p: q.m_as("TFLOP/s") for p, q in
                                        d.compute.peak_sparse.items()},
                 "memory_capacity_gb": d.memory.capacity.m_as("GB"),
                 "memory_bandwidth_tbs": d.memory.bandwidth.m_as("TB/s"),
                 "interconnect": link_dict(d.interconnect),
                 "tdp_w": None if d.tdp is None else d.tdp.m_as("W"),
                 "price_usd_per_hour": (None if d.cloud_price is None
                                        else d.cloud_price.hourly.m_as("USD/hour")),
                 "source": str(d.source)} for d in devices]
        return text, data
    models = [Models[k] for k in Models.list(args.group)]
    rows = [[m.key, m.group, m.architecture, f"{m.parameters.m_as('Gparam'):.4g}",
             f"{m.active_parameters.m_as('Gparam'):.4g}" if hasattr(m, "shape") else "",
             getattr(m, "hf_id", "")] for m in models]
    text = table(["key", "group", "architecture", "params (G)", "active (G)", "HF id"], rows,
                 file=io.StringIO())
    data = [{"key": m.key, "name": m.name, "group": m.group, "architecture": m.architecture,
             "parameters": m.parameters.m_as("param"), "hf_id": getattr(m, "hf_id", ""),
             "source": str(m.source)} for m in models]
    return text, data


def _sixteen(device) -> str:
    return "fp16" if "fp16" in device.compute.peak_dense else "bf16"


def _runtimes(table, io):
    """Each measured serving runtime with its step-law terms at each profiled precision."""
    from symsys.calibration.runtimes import RUNTIMES

    rows, data = [], []
    for runtime in RUNTIMES.values():
        for precision in runtime.steps:
            terms = runtime.inputs(precision)
            device = runtime.measured_on(precision)
            rows.append([runtime.key, precision, device, f"{terms['n_aux']:g}",
                         f"{terms['t_aux'] * 1e6:.2f}", f"{terms['q_act']:.0f}"])
            data.append({"key": runtime.key, "precision": precision, "device": device,
                         "model": runtime.model, **terms,
                         "description": runtime.description, "source": runtime.source})
    text = table(["key", "precision", "measured on", "n_aux per layer", "t_aux (us)",
                  "q_act (B)"], rows, file=io.StringIO())
    return text, data

