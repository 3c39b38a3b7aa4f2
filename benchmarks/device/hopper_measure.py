#!/usr/bin/env python3
"""Measure one NVIDIA GPU for symsys: bandwidth, GEMM kernels, non-GEMM kernels, decode and
prefill steps of a Llama-shaped model.

Runs on a machine with PyTorch and a CUDA GPU; imports nothing of symsys (its output is read
by ``tools/import_device_measurements.py``). Every section writes its CSV as soon as it ends
and a failing section is logged to ``errors.txt`` and skipped, so a run cut short still
returns what it measured.

    python benchmarks/device/hopper_measure.py --out OUT [--budget 330] [--quick]

Outputs in OUT:

- ``env.json``: GPU, driver, clocks, power limit, torch/CUDA versions, date;
- ``bandwidth.csv``: device-to-device copy and read-only reduction, bytes moved / time;
- ``gemm.csv``: linear-layer GEMMs of Llama-2-7B, Llama-2-70B, phi-2 and Llama-3-8B at
  Vidur's tensor-parallel splits and token counts, bf16 (``torch.matmul``) and fp8 e4m3
  (``torch._scaled_mm``, per-tensor scales, bf16 output). Two times per kernel: ``t_event``
  (CUDA events around each call, median: Vidur's method) and ``t_graph`` (a CUDA graph of
  back-to-back calls: the kernel alone);
- ``ops.csv``: attention (SDPA, decode and causal prefill), RMSNorm, SiLU-and-mul,
  residual add, rotary, greedy sampling, empty kernel, each with its FLOPs and bytes;
- ``e2e.csv``: a Llama-3-8B-shaped model with random weights (bf16, and fp8 linear layers),
  decode step per (batch, context) replayed in a CUDA graph, and prefill per prompt length;
- ``profile.csv``: per-kernel GPU time of one eager decode and prefill step (torch.profiler),
  for the split of a step into GEMM, attention and the rest.
"""

# Each closure here is timed at once, in the loop iteration that makes it:
# ruff: noqa: B023
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import statistics
import subprocess
import time
import traceback

import torch
import torch.nn.functional as F

# --- the model shapes Vidur profiled (n_head, n_kv_head, d, d_ff, gated) ------------------
GEMM_MODELS = {
    "Llama-2-7b-hf": (32, 32, 4096, 11008, True),
    "Llama-2-70b-hf": (64, 8, 8192, 28672, True),
    "phi-2": (32, 32, 2560, 10240, False),
    "Meta-Llama-3-8B": (32, 8, 4096, 14336, True),
}
TOKENS = (1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536,
          2048, 3072, 4096)
TP = (1, 2, 4, 8)

# --- Llama-3-8B (config.json of meta-llama/Meta-Llama-3-8B) --------------------------------
LLAMA3_8B = dict(layers=32, d=4096, heads=32, kv_heads=8, head_dim=128, d_ff=14336,
                 vocab=128256, rope_theta=500000.0, eps=1e-5)

# --- the grids of the non-GEMM and end-to-end sections -----------------------------------
OPS_DECODE = ((1, 512), (1, 2048), (1, 8192), (1, 32768), (8, 2048), (8, 8192), (32, 2048),
              (64, 2048), (128, 2048), (32, 8192))
OPS_PREFILL = (128, 512, 2048, 8192, 16384)
OPS_TOKENS = (1, 16, 64, 256, 2048, 8192)
E2E_DECODE = ((1, 512), (1, 2048), (1, 8192), (8, 2048), (16, 2048), (32, 2048), (64, 512),
              (64, 2048), (128, 2048), (256, 1024))
E2E_PREFILL = (128, 512, 1024, 2048, 4096, 8192)

# --- Llama-2-7B (config.json of meta-llama/Llama-2-7b-hf) ---------------------------------
LLAMA2_7B = dict(layers=32, d=4096, heads=32, kv_heads=32, head_dim=128, d_ff=11008,
                 vocab=32000, rope_theta=10000.0, eps=1e-5)

START = time.time()
#: "cuda" on the device machine; "cpu" only to check this script's logic (no timings kept)
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


class Out:
    def __init__(self, folder: str, budget: float):
        self.folder = folder
        self.budget = budget
        os.makedirs(folder, exist_ok=True)

    def left(self) -> float:
        return self.budget - (time.time() - START)

    def write(self, name: str, rows: list[dict]):
        if not rows:
            return
        keys = list(dict.fromkeys(k for row in rows for k in row))
        with open(os.path.join(self.folder, name), "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=keys)
            writer.writeheader()
            writer.writerows(rows)
        print(f"[{time.time() - START:6.1f} s] wrote {name}: {len(rows)} rows", flush=True)

    def error(self, where: str):
        with open(os.path.join(self.folder, "errors.txt"), "a") as f:
            f.write(f"--- {where}\n{traceback.format_exc()}\n")
        print(f"ERROR in {where}: {traceback.format_exc().splitlines()[-1]}", flush=True)


# --- timing --------------------------------------------------------------------------------
def event_times(fn, reps: int, warmup: int = 3) -> list[float]:
    """Seconds of each call, CUDA events around it (the launch gap included, as Vidur)."""
    for _ in range(warmup):
        fn()
    if DEVICE == "cpu":  # logic check only
        return [_cpu_time(fn) for _ in range(min(reps, 2))]
    pairs = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
             for _ in range(reps)]
    for start, end in pairs:
        start.record()
        fn()
        end.record()
    torch.cuda.synchronize()
    return [start.elapsed_time(end) * 1e-3 for start, end in pairs]


def graph_time(fn, calls: int, replays: int = 3) -> float:
    """Seconds per call of ``calls`` back-to-back calls captured in one CUDA graph (the
    kernel without CPU launch cost): the median replay over ``calls``."""
    if DEVICE == "cpu":  # logic check only
        return _cpu_time(fn)
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(2):
            fn()
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for _ in range(calls):
            fn()
    graph.replay()
    torch.cuda.synchronize()
    times = []
    for _ in range(replays):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        graph.replay()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) * 1e-3 / calls)
    del graph
    return statistics.median(times)


def _cpu_time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def calls_for(estimate_s: float, target_s: float = 2e-3, most: int = 50) -> int:
    return max(1, min(most, int(target_s / max(estimate_s, 1e-6))))


# --- environment ---------------------------------------------------------------------------
def environment(out: Out):
    if DEVICE == "cpu":
        return
    props = torch.cuda.get_device_properties(0)
    env = {
        "date_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        "gpu": props.name, "sm_count": props.multi_processor_count,
        "memory_bytes": props.total_memory, "capability": f"{props.major}.{props.minor}",
        "l2_bytes": getattr(props, "L2_cache_size", None),
        "torch": torch.__version__, "cuda": torch.version.cuda,
        "cublas_workspace": os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
    }
    query = ("name,driver_version,power.limit,power.max_limit,clocks.max.sm,clocks.max.mem,"
             "clocks.sm,clocks.mem,memory.total,pstate,temperature.gpu")
    try:
        text = subprocess.run(["nvidia-smi", f"--query-gpu={query}", "--format=csv"],
                              capture_output=True, text=True, timeout=30).stdout
        env["nvidia_smi"] = text.strip()
    except Exception as error:  # noqa: BLE001 - recorded, not fatal
        env["nvidia_smi"] = f"failed: {error}"
    with open(os.path.join(out.folder, "env.json"), "w") as f:
        json.dump(env, f, indent=1)
    print(json.dumps(env, indent=1), flush=True)


def smi_clocks() -> str:
    try:
        return subprocess.run(["nvidia-smi", "--query-gpu=clocks.sm,clocks.mem,power.draw,"
                               "temperature.gpu", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception:  # noqa: BLE001
        return ""


# --- bandwidth -----------------------------------------------------------------------------
def bandwidth(out: Out):
    rows = []
    for gib in (1, 4):
        n = gib * 2**30 // 2
        a = torch.empty(n, dtype=torch.bfloat16, device=DEVICE).normal_()
        b = torch.empty_like(a)
        t = statistics.median(event_times(lambda: b.copy_(a), 20))
        rows.append(dict(benchmark="copy", size_bytes=2 * n, bytes_moved=4 * n, time_s=t,
                         bandwidth_TBps=4 * n / t / 1e12))
        t = statistics.median(event_times(lambda: torch.sum(a, dtype=torch.float32), 20))
        rows.append(dict(benchmark="read_sum", size_bytes=2 * n, bytes_moved=2 * n, time_s=t,
                         bandwidth_TBps=2 * n / t / 1e12))
        t = statistics.median(event_times(lambda: b.fill_(1.0), 20))
        rows.append(dict(benchmark="write_fill", size_bytes=2 * n, bytes_moved=2 * n,
                         time_s=t, bandwidth_TBps=2 * n / t / 1e12))
        a = b = None
    torch.cuda.empty_cache()
    out.write("bandwidth.csv", rows)


# --- GEMMs ---------------------------------------------------------------------------------
def layer_gemms(heads, kv_heads, d, d_ff, gated, tp):
    """(op, n, k) of Vidur's four linear ops under Megatron's split: QKV and up split their
    output columns, O and down their input rows."""
    head_dim = d // heads
    return {
        "attn_pre_proj": ((heads + 2 * kv_heads) * head_dim // tp, d),
        "attn_post_proj": (d, heads * head_dim // tp),
        "mlp_up_proj": ((2 if gated else 1) * d_ff // tp, d),
        "mlp_down_proj": (d, d_ff // tp),
    }


def fp8_operands(m, n, k):
    a = torch.randn(m, k, device=DEVICE).to(torch.float8_e4m3fn)
    # _scaled_mm wants the second operand column-major
    b = torch.randn(n, k, device=DEVICE).to(torch.float8_e4m3fn).t()
    one = torch.ones((), device=DEVICE)
    return a, b, one


def gemms(out: Out, quick: bool):
    rows = []
    if DEVICE == "cuda":  # bring the clocks up before anything is timed
        a = torch.randn(8192, 8192, device=DEVICE, dtype=torch.bfloat16)
        event_times(lambda: a @ a, 100, warmup=0)
        print(f"after warm-up: {smi_clocks()}", flush=True)
        del a
    models = GEMM_MODELS if not quick else {"Meta-Llama-3-8B": GEMM_MODELS["Meta-Llama-3-8B"]}
    tokens = TOKENS if not quick else (1, 16, 256, 2048)
    for model, (heads, kv_heads, d, d_ff, gated) in models.items():
        for tp in ((1,) if model == "phi-2" else TP):
            for op, (n, k) in layer_gemms(heads, kv_heads, d, d_ff, gated, tp).items():
                w = torch.randn(k, n, device=DEVICE, dtype=torch.bfloat16)
                w8 = None
                for m in tokens:
                    if out.left() < 0:
                        out.write("gemm.csv", rows)
                        return
                    x = torch.randn(m, k, device=DEVICE, dtype=torch.bfloat16)
                    y = torch.empty(m, n, device=DEVICE, dtype=torch.bfloat16)
                    flops = 2.0 * m * n * k
                    base = dict(model=model, op=op, tp=tp, m=m, n=n, k=k, flops=flops)
                    try:
                        ev = event_times(lambda: torch.matmul(x, w, out=y), 10)
                        t_event = statistics.median(ev)
                        t_graph = graph_time(lambda: torch.matmul(x, w, out=y),
                                             calls_for(t_event))
                        rows.append(dict(base, precision="bf16",
                                         bytes=2.0 * (m * k + k * n + m * n),
                                         t_event=t_event, t_graph=t_graph, m_run=m))
                    except Exception:  # noqa: BLE001
                        out.error(f"gemm bf16 {model} {op} tp{tp} m{m}")
                    try:
                        if w8 is None:
                            _, w8, one = fp8_operands(1, n, k)
                        # where fp8 GEMMs need rows in multiples of 16, time the padded one
                        m_run = m if fp8_any_rows() else 16 * math.ceil(m / 16)
                        x8 = torch.randn(m_run, k, device=DEVICE).to(torch.float8_e4m3fn)

                        def mm8():
                            return torch._scaled_mm(x8, w8, scale_a=one, scale_b=one,
                                                    out_dtype=torch.bfloat16)

                        ev = event_times(mm8, 10)
                        t_event = statistics.median(ev)
                        t_graph = graph_time(mm8, calls_for(t_event))
                        rows.append(dict(base, precision="fp8",
                                         bytes=1.0 * (m * k + k * n) + 2.0 * m * n,
                                         t_event=t_event, t_graph=t_graph, m_run=m_run))
                    except Exception:  # noqa: BLE001
                        out.error(f"gemm fp8 {model} {op} tp{tp} m{m}")
                w = w8 = None
                torch.cuda.empty_cache()
            out.write("gemm.csv", rows)
    out.write("gemm.csv", rows)


def gemms_rotated(out: Out, quick: bool, l2_bytes: int = 60 * 2**20):
    """The GEMMs of :func:`gemms` with the weights read from HBM: each timed call takes the
    next of R copies of the weight, R x the weight's bytes >= 4 x the L2, so no call finds
    its weight in L2 (as in a model's step, where every GEMM has other weights). CUDA graph
    time only."""
    rows = []
    models = GEMM_MODELS if not quick else {"Meta-Llama-3-8B": GEMM_MODELS["Meta-Llama-3-8B"]}
    tokens = TOKENS if not quick else (1, 16, 256, 2048)
    if DEVICE == "cuda":
        l2_bytes = torch.cuda.get_device_properties(0).L2_cache_size
    for model, (heads, kv_heads, d, d_ff, gated) in models.items():
        for tp in ((1,) if model == "phi-2" else TP):
            for op, (n, k) in layer_gemms(heads, kv_heads, d, d_ff, gated, tp).items():
                for precision in ("bf16", "fp8"):
                    width = 2 if precision == "bf16" else 1
                    copies = min(64, max(1, math.ceil(4 * l2_bytes / (width * n * k))))
                    if precision == "bf16":
                        ws = [torch.empty(k, n, device=DEVICE, dtype=torch.bfloat16).normal_()
                              for _ in range(copies)]
                    else:
                        ws = [fp8_operands(1, n, k)[1] for _ in range(copies)]
                    one = torch.ones((), device=DEVICE)
                    for m in tokens:
                        if out.left() < 0:
                            out.write("gemm_rotated.csv", rows)
                            return
                        try:
                            if precision == "bf16":
                                x = torch.randn(m, k, device=DEVICE, dtype=torch.bfloat16)
                                y = torch.empty(m, n, device=DEVICE, dtype=torch.bfloat16)
                            else:
                                x = torch.randn(m, k, device=DEVICE).to(torch.float8_e4m3fn)
                            turn = [0]

                            def call():
                                w = ws[turn[0] % copies]
                                turn[0] += 1
                                if precision == "bf16":
                                    return torch.matmul(x, w, out=y)
                                return torch._scaled_mm(x, w, scale_a=one, scale_b=one,
                                                        out_dtype=torch.bfloat16)

                            estimate = max(2.0 * m * n * k / 7e14, width * n * k / 4e12)
                            calls = max(copies, min(64, math.ceil(2e-3 / estimate)))
                            t = graph_time(call, calls)
                            rows.append(dict(model=model, op=op, tp=tp, m=m, n=n, k=k,
                                             precision=precision, copies=copies, t_graph=t))
                        except Exception:  # noqa: BLE001
                            out.error(f"gemm rotated {precision} {model} {op} tp{tp} m{m}")
                    ws = None
                    torch.cuda.empty_cache()
        out.write("gemm_rotated.csv", rows)
    out.write("gemm_rotated.csv", rows)


def e2e_llama2(out: Out, quick: bool):
    e2e(out, quick, cfg=LLAMA2_7B, name="Llama-2-7B",
        decode_grid=((1, 512), (1, 2048), (16, 2048), (64, 2048)),
        prefill_grid=(128, 512, 2048), fp8_decode=((1, 512), (1, 2048), (64, 2048)),
        fp8_prefill=(128, 512, 2048), profiled=(), rows=RUN_ROWS, profiles=RUN_PROFILES)


def e2e_compiled(out: Out, quick: bool):
    e2e(out, quick, decode_grid=((1, 2048), (64, 2048), (1, 512), (16, 2048)),
        prefill_grid=(2048, 128), precisions=(False,), compiled=True,
        profiled=((1, 2048), (64, 2048), 2048), rows=RUN_ROWS, profiles=RUN_PROFILES)


#: the rows of every e2e section of one run, written together
RUN_ROWS: list = []
RUN_PROFILES: list = []


# --- a Llama-shaped model with a static K/V cache ------------------------------------------
def rms_norm(x, weight, eps):
    return F.rms_norm(x, (x.shape[-1],), weight, eps)


_FP8_ANY_ROWS = []


def fp8_any_rows() -> bool:
    """Whether this torch's fp8 GEMM takes a row count that is not a multiple of 16."""
    if not _FP8_ANY_ROWS:
        a, b, one = fp8_operands(1, 32, 32)
        try:
            torch._scaled_mm(a, b, scale_a=one, scale_b=one, out_dtype=torch.bfloat16)
            _FP8_ANY_ROWS.append(True)
        except RuntimeError:
            _FP8_ANY_ROWS.append(False)
        print(f"fp8 GEMM with 1 row: {'runs' if _FP8_ANY_ROWS[0] else 'padded to 16'}",
              flush=True)
    return _FP8_ANY_ROWS[0]


class Linear:
    """y = x W, in bf16 or as an fp8 e4m3 GEMM with per-tensor scales (the activation is
    cast with a static scale of 1, as an engine with calibrated static scales does)."""

    def __init__(self, k, n, fp8: bool):
        self.fp8 = fp8
        w = torch.randn(k, n, device=DEVICE, dtype=torch.bfloat16) * (1.0 / math.sqrt(k))
        if fp8:
            self.w = w.t().contiguous().to(torch.float8_e4m3fn).t()
            self.one = torch.ones((), device=DEVICE)
        else:
            self.w = w

    def __call__(self, x):
        if not self.fp8:
            return x @ self.w
        shape = x.shape
        x2 = x.reshape(-1, shape[-1]).to(torch.float8_e4m3fn)
        rows = x2.shape[0]
        if not fp8_any_rows() and rows % 16:
            x2 = F.pad(x2.view(torch.uint8), (0, 0, 0, 16 - rows % 16)).view(x2.dtype)
        y = torch._scaled_mm(x2, self.w, scale_a=self.one, scale_b=self.one,
                             out_dtype=torch.bfloat16)[:rows]
        return y.reshape(*shape[:-1], y.shape[-1])


def layer_math(x, n1, n2, wqkv, wo, wup, wdown, cache_k, cache_v, cos, sin, start: int,
               heads: int, kv_heads: int, head_dim: int, eps: float):
    """One bf16 decoder layer on plain tensors (what torch.compile is given: tensors only,
    so one compiled graph serves every layer of a shape)."""
    b, s, _ = x.shape
    y = rms_norm(x, n1, eps)
    q, k, v = (y @ wqkv).split((heads * head_dim, kv_heads * head_dim, kv_heads * head_dim),
                               dim=-1)
    q = Llama.rope(q.view(b, s, heads, head_dim).transpose(1, 2), cos, sin)
    k = Llama.rope(k.view(b, s, kv_heads, head_dim).transpose(1, 2), cos, sin)
    v = v.view(b, s, kv_heads, head_dim).transpose(1, 2)
    cache_k[:b, :, start:start + s] = k
    cache_v[:b, :, start:start + s] = v
    a = F.scaled_dot_product_attention(q, cache_k[:b, :, :start + s], cache_v[:b, :, :start + s],
                                       is_causal=s > 1 and start == 0, enable_gqa=True)
    x = x + a.transpose(1, 2).reshape(b, s, heads * head_dim) @ wo
    gate, up = (rms_norm(x, n2, eps) @ wup).chunk(2, dim=-1)
    return x + (F.silu(gate) * up) @ wdown


class Llama:
    def __init__(self, cfg: dict, fp8: bool = False, compiled: bool = False):
        self.cfg = cfg
        # torch.compile'd layers (inductor fuses the elementwise kernels; GEMMs stay cuBLAS)
        self.layer_fn = None
        if compiled:
            torch._dynamo.config.cache_size_limit = 64
            self.layer_fn = torch.compile(layer_math, dynamic=False)
        d, h, kv, hd, f = cfg["d"], cfg["heads"], cfg["kv_heads"], cfg["head_dim"], cfg["d_ff"]
        self.embed = torch.randn(cfg["vocab"], d, device=DEVICE, dtype=torch.bfloat16)
        self.layers = []
        for _ in range(cfg["layers"]):
            self.layers.append(dict(
                n1=torch.ones(d, device=DEVICE, dtype=torch.bfloat16),
                n2=torch.ones(d, device=DEVICE, dtype=torch.bfloat16),
                qkv=Linear(d, (h + 2 * kv) * hd, fp8), o=Linear(h * hd, d, fp8),
                up=Linear(d, 2 * f, fp8), down=Linear(f, d, fp8)))
        self.norm = torch.ones(d, device=DEVICE, dtype=torch.bfloat16)
        # the LM head stays bf16 (as TensorRT-LLM's fp8 checkpoints keep it)
        self.head = Linear(d, cfg["vocab"], False)
        self.cache = None

    def weight_bytes(self) -> int:
        total = self.embed.numel() * 2 + self.head.w.numel() * 2
        for layer in self.layers:
            for name in ("qkv", "o", "up", "down"):
                w = layer[name].w
                total += w.numel() * w.element_size()
            total += 4 * self.cfg["d"]
        return total

    def allocate(self, batch: int, context: int):
        c = self.cfg
        self.cache = None
        torch.cuda.empty_cache()
        shape = (c["layers"], 2, batch, c["kv_heads"], context, c["head_dim"])
        self.cache = torch.empty(shape, device=DEVICE, dtype=torch.bfloat16).normal_()

    def rotary(self, positions):
        c = self.cfg
        half = c["head_dim"] // 2
        freq = c["rope_theta"] ** (-torch.arange(half, device=DEVICE, dtype=torch.float32)
                                   / half)
        angles = positions.float()[:, None] * freq[None]
        return angles.cos().to(torch.bfloat16), angles.sin().to(torch.bfloat16)

    @staticmethod
    def rope(x, cos, sin):
        # x: (b, heads, s, hd); cos/sin: (s, hd/2), rotate-half convention (Llama in HF)
        x1, x2 = x.chunk(2, dim=-1)
        cos = torch.cat((cos, cos), -1)
        sin = torch.cat((sin, sin), -1)
        return x * cos + torch.cat((-x2, x1), -1) * sin

    def forward(self, tokens, start: int, cos, sin):
        """tokens: (b, s) at positions start..start+s-1; the cache holds start positions
        before them. Returns the greedy next token of each sequence (logits at the last
        position only)."""
        c = self.cfg
        b, s = tokens.shape
        h, kv, hd = c["heads"], c["kv_heads"], c["head_dim"]
        x = self.embed[tokens]
        for i, layer in enumerate(self.layers):
            if self.layer_fn is not None:
                x = self.layer_fn(x, layer["n1"], layer["n2"], layer["qkv"].w, layer["o"].w,
                                  layer["up"].w, layer["down"].w, self.cache[i, 0],
                                  self.cache[i, 1], cos, sin, start, h, kv, hd, c["eps"])
                continue
            y = rms_norm(x, layer["n1"], c["eps"])
            qkv = layer["qkv"](y)
            q, k, v = qkv.split((h * hd, kv * hd, kv * hd), dim=-1)
            q = self.rope(q.view(b, s, h, hd).transpose(1, 2), cos, sin)
            k = self.rope(k.view(b, s, kv, hd).transpose(1, 2), cos, sin)
            v = v.view(b, s, kv, hd).transpose(1, 2)
            self.cache[i, 0, :b, :, start:start + s] = k
            self.cache[i, 1, :b, :, start:start + s] = v
            keys = self.cache[i, 0, :b, :, :start + s]
            values = self.cache[i, 1, :b, :, :start + s]
            a = F.scaled_dot_product_attention(q, keys, values, is_causal=s > 1 and start == 0,
                                               enable_gqa=True)
            x = x + layer["o"](a.transpose(1, 2).reshape(b, s, h * hd))
            y = rms_norm(x, layer["n2"], c["eps"])
            gate, up = layer["up"](y).chunk(2, dim=-1)
            x = x + layer["down"](F.silu(gate) * up)
        last = rms_norm(x[:, -1], self.norm, c["eps"])
        return torch.argmax(self.head(last), dim=-1)


def e2e(out: Out, quick: bool, cfg=None, name="Llama-3-8B", decode_grid=None,
        prefill_grid=None, fp8_decode=((1, 2048), (16, 2048), (64, 2048), (128, 2048)),
        fp8_prefill=(128, 2048), precisions=(False, True), compiled=False,
        profiled=((1, 2048), (64, 2048), 2048), rows=None, profiles=None):
    rows = [] if rows is None else rows
    profiles = [] if profiles is None else profiles
    c = dict(LLAMA3_8B if cfg is None else cfg)
    if quick:
        c["layers"] = 4
    decode_grid = E2E_DECODE if decode_grid is None else decode_grid
    prefill_grid = E2E_PREFILL if prefill_grid is None else prefill_grid
    runtime = "torch_compile" if compiled else "torch_eager"
    for fp8 in precisions:
        if out.left() < 30:
            break
        precision = "fp8" if fp8 else "bf16"
        torch.manual_seed(0)
        model = Llama(c, fp8=fp8, compiled=compiled)
        weight_bytes = model.weight_bytes()
        grid = decode_grid if not fp8 else fp8_decode
        for batch, context in grid:
            if out.left() < 20:
                break
            try:
                model.allocate(batch, context + 1)
                torch.cuda.empty_cache()
                tokens = torch.randint(0, c["vocab"], (batch, 1), device=DEVICE)
                cos, sin = model.rotary(torch.tensor([context], device=DEVICE))

                def step():
                    return model.forward(tokens, context, cos, sin)

                eager = statistics.median(event_times(step, 5, warmup=2))
                t = graph_time(step, 1, replays=20)
                rows.append(dict(model=name, runtime=runtime, precision=precision,
                                 phase="decode", batch=batch, context=context, time_s=t,
                                 time_eager_s=eager, weight_bytes=weight_bytes,
                                 kv_bytes=2 * c["layers"] * batch * c["kv_heads"] * context
                                 * c["head_dim"] * 2, clocks=smi_clocks()))
                print(rows[-1], flush=True)
                if (batch, context) in profiled:
                    profiles += profile_rows(
                        step, f"{name} {runtime} {precision} decode b{batch} s{context}")
            except Exception:  # noqa: BLE001
                out.error(f"e2e decode {precision} b{batch} s{context}")
        out.write("e2e.csv", rows)
        for prompt in (prefill_grid if not fp8 else fp8_prefill):
            if out.left() < 20:
                break
            try:
                model.allocate(1, prompt)
                tokens = torch.randint(0, c["vocab"], (1, prompt), device=DEVICE)
                cos, sin = model.rotary(torch.arange(prompt, device=DEVICE))

                def step():
                    return model.forward(tokens, 0, cos, sin)

                t = statistics.median(event_times(step, 5, warmup=2))
                t_graph = graph_time(step, 1, replays=5)
                rows.append(dict(model=name, runtime=runtime, precision=precision,
                                 phase="prefill", batch=1, context=prompt, time_s=t_graph,
                                 time_eager_s=t, weight_bytes=weight_bytes, kv_bytes=0,
                                 clocks=smi_clocks()))
                print(rows[-1], flush=True)
                if prompt in profiled:
                    profiles += profile_rows(step, f"{name} {runtime} {precision} prefill "
                                                   f"s{prompt}")
            except Exception:  # noqa: BLE001
                out.error(f"e2e prefill {precision} s{prompt}")
        out.write("e2e.csv", rows)
        out.write("profile.csv", profiles)
        model = None
        torch.cuda.empty_cache()


def profile_rows(step, label: str) -> list[dict]:
    """GPU time per kernel name over one eager step (kernel time alone, launch gaps not)."""
    from torch.profiler import ProfilerActivity, profile

    step()
    if DEVICE == "cpu":
        return []
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        step()
        torch.cuda.synchronize()
    averages = prof.key_averages()
    print(f"=== profile {label}\n" + averages.table(sort_by="self_cuda_time_total",
                                                     row_limit=40), flush=True)
    rows = []
    for avg in averages:
        us = getattr(avg, "self_device_time_total", None)
        if us is None:
            us = getattr(avg, "self_cuda_time_total", 0.0)
        if us:
            rows.append(dict(step=label, kernel=avg.key[:200], time_s=us * 1e-6,
                             count=avg.count))
    return sorted(rows, key=lambda row: -row["time_s"])


# --- non-GEMM kernels ----------------------------------------------------------------------
def ops(out: Out, quick: bool):
    rows = []
    c = LLAMA3_8B
    h, kv, hd, d, f = c["heads"], c["kv_heads"], c["head_dim"], c["d"], c["d_ff"]

    def record(op, shape, flops, nbytes, fn, graph=True):
        try:
            t_event = statistics.median(event_times(fn, 10))
            t = graph_time(fn, calls_for(t_event)) if graph else float("nan")
            rows.append(dict(op=op, shape=shape, flops=flops, bytes=nbytes, t_graph=t,
                             t_event=t_event))
        except Exception:  # noqa: BLE001
            out.error(f"op {op} {shape}")

    # an empty kernel: the floor of every launch
    tiny = torch.zeros(1, device=DEVICE)
    record("empty", "1", 0, 8, lambda: tiny.add_(1))
    # decode attention: one query per sequence over `context` cached positions
    for batch, context in OPS_DECODE:
        if out.left() < 10:
            break
        q = torch.randn(batch, h, 1, hd, device=DEVICE, dtype=torch.bfloat16)
        k = torch.randn(batch, kv, context, hd, device=DEVICE, dtype=torch.bfloat16)
        v = torch.randn_like(k)
        record("attention_decode", f"b{batch} s{context}", 4.0 * batch * h * context * hd,
               2.0 * 2 * batch * kv * context * hd,
               lambda: F.scaled_dot_product_attention(q, k, v, enable_gqa=True))
        q = k = v = None
    # causal prefill attention (FlashAttention through SDPA): s^2/2 query-key pairs
    for s in OPS_PREFILL:
        if out.left() < 10:
            break
        q = torch.randn(1, h, s, hd, device=DEVICE, dtype=torch.bfloat16)
        k = torch.randn(1, kv, s, hd, device=DEVICE, dtype=torch.bfloat16)
        v = torch.randn_like(k)
        record("attention_prefill", f"b1 s{s}", 4.0 * h * hd * s * (s + 1) / 2,
               2.0 * (2 * h + 2 * kv) * s * hd,
               lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                                      enable_gqa=True))
        q = k = v = None
    for tokens in OPS_TOKENS:
        x = torch.randn(tokens, d, device=DEVICE, dtype=torch.bfloat16)
        w = torch.ones(d, device=DEVICE, dtype=torch.bfloat16)
        record("rms_norm", f"t{tokens}", 4.0 * tokens * d, 2.0 * 2 * tokens * d,
               lambda: rms_norm(x, w, 1e-5))
        record("residual_add", f"t{tokens}", 1.0 * tokens * d, 2.0 * 3 * tokens * d,
               lambda: x + x)
        g = torch.randn(tokens, 2 * f, device=DEVICE, dtype=torch.bfloat16)
        gate, up = g.chunk(2, dim=-1)
        record("silu_mul", f"t{tokens}", 5.0 * tokens * f, 2.0 * 3 * tokens * f,
               lambda: F.silu(gate) * up)
        qh = torch.randn(1, h, tokens, hd, device=DEVICE, dtype=torch.bfloat16)
        cos = torch.randn(tokens, hd // 2, device=DEVICE, dtype=torch.bfloat16)
        sin = torch.randn_like(cos)
        record("rotary_q", f"t{tokens}", 3.0 * tokens * h * hd, 2.0 * 2 * tokens * h * hd,
               lambda: Llama.rope(qh, cos, sin))
    for batch in (1, 16, 64, 256):
        logits = torch.randn(batch, c["vocab"], device=DEVICE, dtype=torch.bfloat16)
        record("sample_greedy", f"b{batch}", 1.0 * batch * c["vocab"],
               2.0 * batch * c["vocab"], lambda: torch.argmax(logits, dim=-1))
        # sampling draws random numbers: timed with events only (no graph capture, which a
        # generator can refuse and so poison the context for what follows)
        record("sample_softmax_multinomial", f"b{batch}", 0.0, 2.0 * batch * c["vocab"],
               lambda: torch.multinomial(torch.softmax(logits.float(), -1), 1), graph=False)
    out.write("ops.csv", rows)


def _shrink_for_cpu():
    global OPS_DECODE, OPS_PREFILL, OPS_TOKENS, E2E_DECODE, E2E_PREFILL, TOKENS
    LLAMA3_8B.update(layers=2, d=256, heads=4, kv_heads=2, head_dim=64, d_ff=512, vocab=1000)
    LLAMA2_7B.update(layers=2, d=256, heads=4, kv_heads=4, head_dim=64, d_ff=512, vocab=1000)
    for key in GEMM_MODELS:
        heads, kv, d, f, gated = GEMM_MODELS[key]
        GEMM_MODELS[key] = (heads, kv, d // 16, f // 16, gated)
    OPS_DECODE, OPS_PREFILL, OPS_TOKENS = ((1, 64), (4, 128)), (16, 64), (1, 16)
    E2E_DECODE, E2E_PREFILL, TOKENS = ((1, 64), (2, 32)), (16, 64), (1, 3, 16)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--budget", type=float, default=330.0,
                        help="seconds; sections stop starting once it is spent")
    parser.add_argument("--quick", action="store_true", help="a few shapes, a 4-layer model")
    parser.add_argument("--only", default="env,bandwidth,gemm,e2e,ops",
                        help="sections (also gemm_rotated, e2e_compiled, e2e_llama2: "
                             "written for a second run that no machine was lent for)")
    args = parser.parse_args()
    if DEVICE == "cpu":  # shrink everything: this checks the script's logic, times nothing
        _shrink_for_cpu()
    out = Out(args.out, args.budget)
    torch.backends.cuda.matmul.allow_tf32 = False
    sections = {"env": lambda: environment(out), "bandwidth": lambda: bandwidth(out),
                "gemm": lambda: gemms(out, args.quick), "e2e": lambda: e2e(out, args.quick),
                "ops": lambda: ops(out, args.quick),
                "gemm_rotated": lambda: gemms_rotated(out, args.quick),
                "e2e_llama2": lambda: e2e_llama2(out, args.quick),
                "e2e_compiled": lambda: e2e_compiled(out, args.quick)}
    for name in args.only.split(","):
        if out.left() < 5:
            print(f"budget spent before {name}", flush=True)
            break
        try:
            sections[name]()
        except Exception:  # noqa: BLE001
            out.error(name)
        print(f"[{time.time() - START:6.1f} s] {name} done", flush=True)


if __name__ == "__main__":
    main()
