"""Worked examples of the derivation documents, computed by the solvers on registry data.

Each example returns an introductory sentence and ``(latex label, latex value)`` rows. Every
number comes from the registry and the compiled laws, so the documents cannot drift.
"""

from __future__ import annotations

from collections.abc import Callable

#: law name -> function returning (intro sentence, [(label, latex value)]) for the example;
#: :mod:`symsys.render` reads it, so this module imports nothing of the renderer.
EXAMPLES: dict[str, Callable[[], tuple[str, list[tuple[str, str]]]]] = {}


def example(name: str):
    """Register the worked example of law ``name`` (presentation code, built on solvers)."""

    def register(fn):
        EXAMPLES[name] = fn
        return fn

    return register


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


def _attention_rows(model) -> list[tuple[str, str]]:
    s = model.summary
    return [(_latex("P_attn"), f"{s['P_attn']:.0f}"),
            (_latex("e_kv_layer"), f"{s['e_kv_layer']:.0f}"),
            (r"\text{KV bytes per token (fp16, all layers)}",
             _q(model.kv_bytes_per_token("fp16"), "KiB"))]


@example("attention_gqa")
def _gqa():
    from symsys.registry import Models

    model = Models.Llama3_8B
    intro = (f"{model.name}: {model.shape.heads} query heads, {model.shape.kv_heads} KV heads of "
             f"dimension {model.shape.head_dim}, d = {model.shape.d_model}:")
    return intro, _attention_rows(model)


@example("attention_mla")
def _mla():
    from symsys.registry import Models

    model = Models.DeepSeek_V3
    intro = (f"{model.name}: only the rank-{model.shape.kv_lora_rank} latent and the "
             f"{model.shape.qk_rope_head_dim}-dimensional RoPE key are cached per token:")
    return intro, _attention_rows(model)


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


@example("decode_sums")
def _decode_sums():
    from symsys.solvers.inference import Engine
    from symsys.solvers.serving import ServingModel

    model, hw, prompt, output, batch = "Llama3_8B", "H100", 512, 256, 8
    r = ServingModel().solve(model, hw, prompt_len=prompt, output_len=output, batch_size=batch)
    loop = sum(Engine.solve(model, hw, batch_size=batch, seq_len=prompt + j).latency.m_as("s")
               for j in range(1, output))
    intro = (f"Llama-3-8B on the H100, {batch} requests of {prompt} prompt tokens generating "
             f"{output} tokens each (fp16): the closed-form sums against a loop over the "
             f"{output - 1} decode steps:")
    rows = [(r"\text{TTFT}", _q(r.ttft, "ms")),
            (r"S_{\mathrm{memory}} + S_{\mathrm{compute}}",
             _q(r.decode_seconds * _unit("s"), "s", 10)),
            (r"\textstyle\sum_j T_{\mathrm{decode}}(s_p + j)\ \text{(loop)}",
             _q(loop * _unit("s"), "s", 10)),
            (r"\text{memory-bound steps}", f"{r.memory_bound_steps}"),
            (r"\text{end to end}", _q(r.e2e_latency, "s")),
            (r"\text{tokens/s (all requests)}", f"{r.tokens_per_sec.m_as('token/s'):.4g}")]
    return intro, rows


def _unit(text: str):
    from symsys.units import Q_

    return Q_(1, text)


def _streaming_rows(r) -> list[tuple[str, str]]:
    return [(r"W_{layer}", _q(r.layer_weight_bytes, "GB")),
            (r"t_{\mathrm{inj}}", _q(r.layer_injection_time, "ms")),
            (r"t_{\mathrm{cmp}}\,(b = 1)", _q(r.layer_compute_time, "us")),
            (r"B^{*}", f"{r.optimal_batch_exact:.6g}" + rf"\quad\text{{(first integer "
                       rf"{r.optimal_batch_size})}}"),
            (r"b_{max}", str(r.max_feasible_batch)),
            (r"\text{operating batch}",
             f"{r.operating_batch}\\quad\\text{{({r.operating_wall} binds)}}"),
            (r"\text{tokens/s at } b = 1", f"{r.throughput_tokens_per_sec:.4g}")]


@example("weight_streaming")
def _streaming():
    from symsys.registry import Hardware
    from symsys.solvers.streaming import WeightStreamingModel

    hw = Hardware.Cerebras_CS3
    r = WeightStreamingModel().solve("GPT3", hw, seq_len=2048, batch_size=1)
    claimed = _unit("TB/s") * 1.2  # the mlsysim tutorial's reading of "1.2 Tb/s"
    intro = (f"GPT-3 (175B) fp16 decode at seq_len 2048 on the {hw.name}, streaming from "
             f"{hw.streaming.name} at {_plain(hw.streaming.injection_bandwidth, 'GB/s')} (the "
             f"vendor's {hw.streaming.injection_bandwidth:~P}: bits, not bytes) with the "
             f"{_plain(hw.compute.peak('fp16'), 'PFLOP/s')} dense fp16 estimate (the 125 "
             "PFLOP/s headline counts sparsity). Read as 1.2 TB/s, the link would inject a "
             f"layer in {_plain(r.layer_weight_bytes / claimed, 'ms')}, 8x too fast:")
    return intro, _streaming_rows(r)


@example("weight_streaming_prefill")
def _streaming_prefill():
    from symsys.solvers.streaming import WeightStreamingModel

    r = WeightStreamingModel().solve("GPT3", "Cerebras_CS3", seq_len=2048, batch_size=1,
                                     phase="prefill")
    intro = ("GPT-3 fp16 prefill of one 2048-token prompt on the Cerebras CS-3: every layer's "
             "weights are reused by 2048 tokens, so compute and injection come much closer:")
    return intro, _streaming_rows(r)


@example("smooth_roofline")
def _smooth():
    from symsys.calibration import profile_for
    from symsys.registry import Hardware
    from symsys.solvers.evaluate import evaluate
    from symsys.units import Q_

    hw = Hardware.H100
    profile = profile_for(hw, "fp16", law="smooth")
    # a Llama-3-8B FFN up-projection GEMM at 512 tokens: 512 x 4096 by 4096 x 28672; its
    # work and traffic come from the tiled-GEMM law
    gemm = evaluate("gemm_tiled", ["F", "Q"], M_g=512, N_g=28672, K_g=4096, bytes_e=Q_(2, "B"))
    work, traffic = gemm["F"], gemm["Q"]
    rows = []
    for p in (1, 2, 8, 64):
        r = evaluate("smooth_roofline", ["T"], Pi=hw.compute.peak("fp16"),
                     beta=hw.memory.bandwidth, F=work, Q=traffic, p_smooth=p)
        rows.append((rf"T\,(p = {p})", _q(r["T"], "us")))
    hard = evaluate("roofline", ["T"], Pi=hw.compute.peak("fp16"), beta=hw.memory.bandwidth,
                    F=work, Q=traffic)
    rows.append((r"T\,(\max)", _q(hard["T"], "us")))
    fitted = evaluate("smooth_roofline", ["T"], Pi=hw.compute.peak("fp16"),
                      beta=hw.memory.bandwidth, F=work, Q=traffic, p_smooth=profile.p_smooth,
                      eta_c=profile.eta_c, eta_m=profile.eta_m, t_o=Q_(profile.t_o, "s"))
    rows.append((rf"T\,(\text{{H100 profile: }} p = {profile.p_smooth:.3g})",
                 _q(fitted["T"], "us")))
    intro = ("A Llama-3-8B FFN up-projection at 512 tokens (512 x 4096 by 4096 x 28672, fp16) "
             "on the H100, near the ridge where the smooth law differs most from max(); p -> oo "
             "recovers max, and the calibrated profile's p, efficiencies and overhead give the "
             "realistic time:")
    return intro, rows


@example("gemm_tiled")
def _gemm():
    from symsys.calibration import profile_for
    from symsys.registry import Hardware
    from symsys.solvers.evaluate import evaluate
    from symsys.units import Q_

    hw = Hardware.A100
    profile = profile_for(hw, "fp16", law="gemm")
    rows = []
    for tokens in (128, 129, 256):
        r = evaluate("gemm_tiled", ["F_x", "T"], Pi=hw.compute.peak("fp16"),
                     beta=hw.memory.bandwidth, M_g=tokens, N_g=14336, K_g=4096,
                     bytes_e=Q_(2, "B"), m_tile=profile.m_tile, eta_c=profile.eta_c,
                     eta_m=profile.eta_m, t_o=Q_(profile.t_o, "s"), p_smooth=profile.p_smooth)
        rows.append((rf"T\,(M = {tokens})", _q(r["T"], "us")
                     + rf"\quad F_{{x}} = {r['F_x'].m_as('GFLOP'):.4g}\ \mathrm{{GFLOP}}"))
    intro = (f"A 4096 x 14336 fp16 projection on the A100 with the calibrated tiled-GEMM "
             f"profile (m_tile = {profile.m_tile}): 129 tokens execute as many FLOPs as 256:")
    return intro, rows
