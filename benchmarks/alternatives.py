"""The tools users would otherwise pick, on the same case: Llama-3-8B decode, batch 1, fp16, H100.

Both are optional (PyPI, not symsys dependencies); each tool returns ``{"status": "not
installed"}`` when the package is absent. The ``*_tool`` functions give each tool's calls on
the case, which ``measure_compare`` times round-robin with symsys's in one process, and what
it reports on the case (``describe``); ``agreement`` decomposes the latencies so that where
the physics agrees the numbers agree, and where they differ the difference is accounted for.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util


def installed(module: str, distribution: str) -> str | None:
    """The installed version of ``distribution`` if ``module`` is importable, else None."""
    try:
        if importlib.util.find_spec(module) is None:
            return None
    except (ImportError, ValueError):
        return None
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _ms(quantity) -> float:
    return float(quantity.to("ms").magnitude)


def mlsysim_tool() -> dict:
    """mlsysim on the case: ``{"status", "version", "calls": {figure: fn}, "describe": fn}``,
    or ``{"status": "not installed"}``. ``describe()`` gives its result and sensitivities
    (no timing: ``measure_compare`` times ``calls`` round-robin beside symsys's)."""
    version = installed("mlsysim", "mlsysim")
    if version is None:
        return {"status": "not installed"}
    import mlsysim

    models = mlsysim.Models
    # 0.3.0 files language models under Models.Language; older tutorials used Models.Llama3_8B
    model = getattr(models, "Llama3_8B", None) or models.Language.Llama3_8B
    model_path = ("mlsysim.Models.Llama3_8B" if hasattr(models, "Llama3_8B")
                  else "mlsysim.Models.Language.Llama3_8B")
    hardware = mlsysim.Hardware.Cloud.H100
    try:
        from mlsysim.solvers import SensitivitySolver
    except ImportError:  # pragma: no cover - layout of other versions
        from mlsysim.engine.solvers import SensitivitySolver

    def solve():
        return mlsysim.Engine.solve(model=model, hardware=hardware, batch_size=1,
                                    precision="fp16")

    def sensitivities():
        return SensitivitySolver().solve(model, hardware, precision="fp16")

    def describe() -> dict:
        r, s = solve(), sensitivities()
        return {"model_path": model_path, "result": {
            "latency_ms": _ms(r.latency), "latency_memory_ms": _ms(r.latency_memory),
            "latency_compute_ms": _ms(r.latency_compute),
            "latency_overhead_ms": _ms(r.latency_overhead),
            "memory_footprint_bytes": float(r.memory_footprint.to("byte").magnitude),
            # mlsysim has its own pint registry ('flop', not 'FLOP'; base unit bit, not byte)
            "bandwidth_bytes_per_s": float(r.peak_bw_actual.to("byte/second").magnitude),
            "peak_flops_actual": str(r.peak_flops_actual),
            "bottleneck": r.bottleneck,
            "arithmetic_intensity": float(r.arithmetic_intensity.magnitude),
            "layers": int(getattr(model, "layers", 0) or 0),
        }, "sensitivity_result": {
            "levers": sorted(s.sensitivities), "sensitivities": dict(s.sensitivities),
            "binding": s.binding_constraint,
            "method": f"finite difference, {s.perturbation_pct:g}% step"}}

    return {"status": "ok", "version": version,
            "calls": {"solve": solve, "sensitivities": sensitivities}, "describe": describe}


def mlsysim_case() -> dict:
    """mlsysim's status, version, result and sensitivities on the case (no timing)."""
    return case(mlsysim_tool())


def case(tool: dict) -> dict:
    """What a tool reports on the case, without its callables (JSON-ready)."""
    out = {k: v for k, v in tool.items() if k not in ("calls", "describe")}
    if tool.get("status") == "ok":
        out.update(tool["describe"]())
    return out


#: Llama-3-8B as llm-analysis models it. Its MLP has two matrices (h x ffn, ffn x h); the
#: SwiGLU MLP has three of h x 14336, i.e. two of h x 21504, so ffn_embed_dim = 21504 gives
#: the exact weight count. expansion_ratio must be given: 21504 / 4096 is not an integer.
LLAMA3_8B = dict(name="Llama-3-8B", num_layers=32, n_head=32, hidden_dim=4096,
                 vocab_size=128256, max_seq_len=8192, num_key_value_heads=8,
                 ffn_embed_dim=21504, expansion_ratio=5.25, model_type="llama")


def llm_analysis_tool() -> dict:
    """llm-analysis on the case, as :func:`mlsysim_tool` (it has no sensitivity API)."""
    version = installed("llm_analysis", "llm-analysis")
    if version is None:
        return {"status": "not installed"}
    import logging

    from llm_analysis.analysis import LLMAnalysis
    from llm_analysis.config import (
        ModelConfig,
        get_dtype_config_by_name,
        get_gpu_config_by_name,
    )
    from llm_analysis.logger import logger

    logger.setLevel(logging.ERROR)  # it logs its whole config at INFO on every call
    model = ModelConfig(**LLAMA3_8B)
    gpu = get_gpu_config_by_name("h100-sxm-80gb")
    dtype = get_dtype_config_by_name("w16a16e16")

    def solve():
        # speed-of-light efficiencies, one token, no KV cache: the weights-only decode step
        analysis = LLMAnalysis(model, gpu, dtype, flops_efficiency=1.0,
                               hbm_memory_efficiency=1.0)
        return analysis.inference(batch_size_per_gpu=1, seq_len=1, num_tokens_to_generate=1,
                                  use_kv_cache=False)

    def describe() -> dict:
        s = solve()
        return {"result": {
            "latency_ms": s["decode_latency"] * 1e3,
            "weight_bytes": float(s["weight_memory_per_gpu"]),
            "embedding_bytes": float(s["weight_memory_embedding_per_gpu"]),
            "bandwidth_bytes_per_s": gpu.hbm_bandwidth_in_GB_per_sec * 1e9,
            "input_embedding_ms": s["decode_latency_fwd_input_embedding"] * 1e3,
            "output_embedding_compute_ms": s["decode_latency_fwd_output_embedding_loss"] * 1e3,
            "layernorm_ms": s["decode_latency_fwd_layernorm"] * 1e3,
            "decode_flops": float(s["decode_num_flops_fwd_total"]),
        }, "sensitivities": "no sensitivity API"}

    return {"status": "ok", "version": version, "calls": {"solve": solve},
            "describe": describe}


def llm_analysis_case() -> dict:
    """llm-analysis's status, version and result on the case (no timing)."""
    return case(llm_analysis_tool())


def symsys_tool() -> dict:
    """symsys on the case, as :func:`mlsysim_tool`: the scalar solve returning a Quantity
    (``Engine.solve(...).latency``) and all sensitivities of the configuration."""
    import symsys

    model, hardware = symsys.Models.Llama3_8B, symsys.Hardware.Cloud.H100
    solver = symsys.SensitivitySolver()

    def solve():
        return symsys.Engine.solve(model=model, hardware=hardware, batch_size=1,
                                   precision="fp16").latency

    def sensitivities():
        return solver.solve(model=model, hardware=hardware, precision="fp16", batch_size=1)

    def describe() -> dict:
        s = sensitivities()
        return {"sensitivity_result": {
            "levers": sorted(s.sensitivities), "binding": s.binding_constraint,
            "method": "exact sympy derivatives (one-sided at kinks)"}}

    return {"status": "ok", "version": symsys.__version__,
            "calls": {"solve": solve, "sensitivities": sensitivities}, "describe": describe}


#: the tools of the side-by-side comparison, symsys first (the denominator of every ratio)
TOOLS = {"symsys": symsys_tool, "mlsysim": mlsysim_tool, "llm-analysis": llm_analysis_tool}
#: each tool's import in a fresh interpreter (``python -c CODE``)
IMPORTS = {"symsys": "import symsys", "mlsysim": "import mlsysim",
           "llm-analysis": "import llm_analysis.analysis"}
#: the modules and distributions whose presence says a tool is installed
DISTRIBUTIONS = {"mlsysim": ("mlsysim", "mlsysim"),
                 "llm-analysis": ("llm_analysis", "llm-analysis")}


def symsys_case() -> dict:
    """symsys's numbers for the same case, with the inputs the agreement analysis needs."""
    import symsys

    r = symsys.Engine.solve(model=symsys.Models.Llama3_8B, hardware=symsys.Hardware.Cloud.H100,
                            batch_size=1, precision="fp16")
    v = r.inputs.values
    return {"latency_ms": r.latency.m_as("ms"), "weight_read_bytes": float(r.raw["W_read"]),
            "bytes": float(r.raw["Q"]), "N_total": float(v["N_total"]),
            "N_embed": float(v["N_embed"]), "d": float(v["d"]), "bytes_w": float(v["bytes_w"]),
            "bandwidth_bytes_per_s": float(v["beta"]), "peak_flops": float(v["Pi"]),
            "flops": float(r.raw["F"]), "bottleneck": r.bottleneck}


def _rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


def agreement(sym: dict, mls: dict, lla: dict, tolerance: float = 1e-3) -> dict:
    """Where the physics agrees, do the numbers? Each check reconstructs the other tool's
    figure from symsys's terms plus that tool's stated modelling choices."""
    beta = sym["bandwidth_bytes_per_s"]
    table_bytes = sym["N_embed"] * sym["bytes_w"]
    row_bytes = sym["d"] * sym["bytes_w"]
    all_weights = sym["N_total"] * sym["bytes_w"]
    out: dict = {
        "symsys_latency_ms": sym["latency_ms"],
        "symsys_weight_read_GB": sym["weight_read_bytes"] / 1e9,
        "embedding_table_GB": table_bytes / 1e9,
        "symsys_all_weights_ms": all_weights / beta * 1e3,
        "checks": [],
    }
    # symsys itself: weights read = all weights - input embedding table + one looked-up row
    out["checks"].append({
        "name": "symsys weights read = all weights - embedding table + 1 row",
        "expected": (all_weights - table_bytes + row_bytes) / 1e9,
        "got": sym["weight_read_bytes"] / 1e9, "unit": "GB",
    })
    if mls.get("status") == "ok":
        m = mls["result"]
        activation_factor = m["latency_memory_ms"] / (m["memory_footprint_bytes"]
                                                      / m["bandwidth_bytes_per_s"] * 1e3)
        mls_weights_ms = m["memory_footprint_bytes"] / m["bandwidth_bytes_per_s"] * 1e3
        rebuilt = (sym["latency_ms"] * all_weights / sym["weight_read_bytes"]
                   * activation_factor + m["latency_overhead_ms"])
        out["mlsysim"] = {
            "latency_ms": m["latency_ms"], "ratio_to_symsys": m["latency_ms"] / sym["latency_ms"],
            "weights_only_ms": mls_weights_ms,
            "embedding_table_factor": all_weights / sym["weight_read_bytes"],
            "activation_traffic_factor": activation_factor,
            "overhead_ms": m["latency_overhead_ms"],
            "parameters_used": m["memory_footprint_bytes"] / sym["bytes_w"],
            "rebuilt_from_symsys_ms": rebuilt,
        }
        out["checks"].append({
            "name": "mlsysim weights-only time (all weights read) = symsys all-weights time",
            "expected": out["symsys_all_weights_ms"], "got": mls_weights_ms, "unit": "ms"})
        out["checks"].append({
            "name": "mlsysim latency = symsys x (all weights / weights read) x activation "
                    "heuristic + overhead",
            "expected": rebuilt, "got": m["latency_ms"], "unit": "ms"})
    if lla.get("status") == "ok":
        a = lla["result"]
        weights_ms = a["weight_bytes"] / a["bandwidth_bytes_per_s"] * 1e3
        out["llm-analysis"] = {
            "latency_ms": a["latency_ms"], "ratio_to_symsys": a["latency_ms"] / sym["latency_ms"],
            "weight_bytes": a["weight_bytes"],
            "weight_bytes_minus_symsys": a["weight_bytes"] - sym["weight_read_bytes"],
            "weights_only_ms": weights_ms,
            "other_terms_ms": a["latency_ms"] - weights_ms,
        }
        out["checks"].append({
            "name": "llm-analysis weights (embedding table read, LM head not read) = symsys "
                    "weights read (LM head read, 1 embedding row) - 1 row",
            "expected": (sym["weight_read_bytes"] - row_bytes) / 1e9,
            "got": a["weight_bytes"] / 1e9, "unit": "GB"})
        out["checks"].append({
            "name": "llm-analysis decode latency = symsys latency (activations/norms extra)",
            "expected": sym["latency_ms"], "got": a["latency_ms"], "unit": "ms"})
    for check in out["checks"]:
        check["relative_difference"] = _rel(check["got"], check["expected"])
        check["agree"] = check["relative_difference"] <= tolerance
    return out
