"""Worked examples of the derivation documents, computed by the solvers on registry data.

Each example returns an introductory sentence and ``(latex label, latex value)`` rows. Every
number comes from the registry and the compiled laws, so the documents cannot drift.
"""

from __future__ import annotations

from symsys.render import example


def _q(quantity, unit: str | None = None, digits: int = 4) -> str:
    if unit:
        quantity = quantity.to(unit)
    return f"{quantity:.{digits}g~L}".replace("µ", r"\mu ")


def _plain(quantity, unit: str, digits: int = 4) -> str:
    return f"{quantity.to(unit):.{digits}g~P}"


def _latex(name: str) -> str:
    from symsys import symbols as S

    return S.info(name).latex


@example("roofline")
def _roofline():
    from symsys.registry import Hardware, Models
    from symsys.solvers.evaluate import evaluate
    from symsys.units import to_quantity

    hw, model = Hardware.H100, Models.Llama3_8B
    weights = to_quantity(2 * model.summary["N_total"], "B")  # fp16: 2 bytes per weight
    work = to_quantity(2 * model.summary["N_total"], "FLOP")  # 2 FLOPs per weight per token
    r = evaluate("roofline", Pi=hw.compute.peak("fp16"), beta=hw.memory.bandwidth, F=work,
                 Q=weights)
    intro = (f"Reading all of {model.name}'s fp16 weights once ({_plain(weights, 'GB')}) while "
             f"doing 2 FLOPs per weight, on the {hw.name} (dense fp16 peak and HBM bandwidth "
             "from the registry):")
    rows = [(_latex("Pi"), _q(hw.compute.peak("fp16"), "TFLOP/s")),
            (_latex("beta"), _q(hw.memory.bandwidth, "TB/s")),
            ("F", _q(work, "GFLOP")), ("Q", _q(weights, "GB")),
            (_latex("t_compute"), _q(r["t_compute"], "us")),
            (_latex("t_memory"), _q(r["t_memory"], "ms")),
            ("T", _q(r["T"], "ms") + rf"\quad\text{{({r['regime']}-bound)}}"),
            ("I", _q(r["I"])), (_latex("I_ridge"), _q(r["I_ridge"]))]
    return intro, rows


@example("attention_gqa")
def _gqa():
    from symsys.registry import Models

    model = Models.Llama3_8B
    s = model.summary
    intro = (f"{model.name}: {model.shape.heads} query heads, {model.shape.kv_heads} KV heads of "
             f"dimension {model.shape.head_dim}, d = {model.shape.d_model}:")
    rows = [(_latex("P_attn"), f"{s['P_attn']:.0f}"),
            (_latex("e_kv_layer"), f"{s['e_kv_layer']:.0f}"),
            (r"\text{KV bytes per token (fp16, all layers)}",
             _q(model.kv_bytes_per_token("fp16"), "KiB"))]
    return intro, rows


@example("attention_mla")
def _mla():
    from symsys.registry import Models

    model = Models.DeepSeek_V3
    s = model.summary
    intro = (f"{model.name}: only the rank-{model.shape.kv_lora_rank} latent and the "
             f"{model.shape.qk_rope_head_dim}-dimensional RoPE key are cached per token:")
    rows = [(_latex("P_attn"), f"{s['P_attn']:.0f}"),
            (_latex("e_kv_layer"), f"{s['e_kv_layer']:.0f}"),
            (r"\text{KV bytes per token (fp16, all layers)}",
             _q(model.kv_bytes_per_token("fp16"), "KiB"))]
    return intro, rows


@example("transformer_parameters")
def _parameters():
    from symsys.registry import Models

    rows = []
    for model in (Models.Llama3_8B, Models.Mixtral_8x7B, Models.DeepSeek_V3, Models.GPT3):
        rows.append((rf"N_{{\text{{{model.name}}}}}",
                     f"{model.summary['N_total']:.4g}"
                     rf"\quad\text{{(official {model.official_parameters:.4g}; active per token "
                     rf"{model.summary['N_active']:.4g})}}"))
    return "Parameter counts derived from the registry's shapes, against the official ones:", rows


@example("decode")
def _decode():
    from symsys.registry import Hardware, Models
    from symsys.solvers.inference import Engine
    from symsys.units import to_quantity

    model = Models.Llama3_8B
    first = Engine.solve(model, Hardware.A100, batch_size=1, precision="fp16")
    table = to_quantity(2 * model.summary["N_embed"], "B")
    rows = [(r"W_{read}\,(b = 1)", _q(first.weight_bytes, "GB")
             + rf"\quad\text{{(all weights {_plain(first.memory_footprint, 'GB')} less the "
             rf"{_plain(table, 'GB')} input embedding table, read by row)}}")]
    for hw in (Hardware.A100, Hardware.H100):
        r = Engine.solve(model, hw, batch_size=1, precision="fp16")
        rows.append((rf"T_{{\text{{{hw.key}}}}}(b = 1, s = 0)",
                     _q(r.latency, "ms") + rf"\quad\text{{({r.bottleneck}-bound)}}"))
        rows.append((rf"{_latex('b_cross')}\,(\text{{{hw.key}}}, s = 0)",
                     str(r.crossover_batch)))
        long = Engine.solve(model, hw, batch_size=1, precision="fp16", seq_len=2048)
        rows.append((rf"{_latex('b_cross')}\,(\text{{{hw.key}}}, s = 2048)",
                     str(long.crossover_batch) if long.crossover_batch else
                     r"\text{none: with a 2k context decode never turns compute-bound}"))
    intro = (f"{model.name} fp16 decode. With no cached context the traffic is the weights read "
             "once per step (the input embedding only by looked-up rows), so batch 1 sits at "
             "1 FLOP/byte. The crossover batch grows with the ridge point; with a 2048-token "
             "context each sequence adds its K/V reads and the step stays memory-bound:")
    return intro, rows


@example("prefill")
def _prefill():
    from symsys.registry import Hardware, Models
    from symsys.solvers.inference import Engine

    model, hw = Models.Llama3_8B, Hardware.H100
    r = Engine.solve(model, hw, batch_size=1, precision="fp16", phase="prefill", seq_len=2048)
    intro = f"{model.name} fp16 prefill of a 2048-token prompt on the {hw.name}:"
    rows = [("F", _q(r.flops, "TFLOP")), ("Q", _q(r.bytes_moved, "GB")),
            ("I", _q(r.arithmetic_intensity)),
            ("T", _q(r.latency, "ms") + rf"\quad\text{{({r.bottleneck}-bound)}}"),
            (r"\text{MFU}", f"{r.mfu:.1%}".replace("%", r"\%"))]
    return intro, rows


@example("fixed_workload")
def _fixed():
    from symsys.registry import Hardware, Models
    from symsys.solvers.inference import Engine

    model, hw = Models.ResNet50, Hardware.H100
    rows = []
    for batch in (1, 256):
        r = Engine.solve(model, hw, batch_size=batch, precision="fp16")
        rows.append((rf"T(b = {batch})", _q(r.latency, "ms")
                     + rf"\quad\text{{({r.bottleneck}-bound, {r.throughput.m_as('sample/s'):.0f} "
                     r"images/s)}"))
    intro = (f"{model.name} at {model.resolution} x {model.resolution} "
             f"({model.flops_per_inference:.3g} FLOPs per image) on the {hw.name}, fp16:")
    return intro, rows
