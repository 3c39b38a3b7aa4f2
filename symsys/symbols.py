"""The one symbol table of symsys.

Every symbol is declared once, here, with its sympy assumptions, LaTeX name, canonical unit
(the unit its magnitude has inside compiled functions) and one line of meaning. Laws import
symbols from here; solvers find their argument order here; derivation documents print the
table of symbols from here. Nothing else creates a physical symbol.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp


@dataclass(frozen=True)
class SymbolInfo:
    """What symsys knows about one symbol."""

    symbol: sp.Symbol
    latex: str
    unit: str  # canonical unit; "1" for dimensionless
    meaning: str
    lever: str = ""  # the readable name of the input when a user can invest in it

    @property
    def name(self) -> str:
        return self.symbol.name


#: name -> SymbolInfo, in declaration order (which is also the compile argument order).
TABLE: dict[str, SymbolInfo] = {}


def declare(name: str, latex: str, unit: str, meaning: str, lever: str = "",
            **assumptions) -> sp.Symbol:
    """Add a symbol to the table and return it (positive unless ``assumptions`` say otherwise).

    Laws outside the package (a user's own law) declare their new symbols here too, so the
    solvers know their units, LaTeX and, for a ``lever``, the readable name users pass.
    """
    assumptions.setdefault("positive", True)
    symbol = sp.Symbol(name, **assumptions)
    if name in TABLE:
        if TABLE[name] == SymbolInfo(symbol, latex, unit, meaning, lever):
            return TABLE[name].symbol  # the same declaration again (a re-run notebook cell)
        raise ValueError(f"symbol {name!r} declared twice, differently")
    if lever and lever in {entry.lever for entry in TABLE.values()}:
        raise ValueError(f"lever name {lever!r} declared twice")
    TABLE[name] = SymbolInfo(symbol, latex, unit, meaning, lever)
    return symbol


_declare = declare


def lever_symbol(lever: str) -> sp.Symbol | None:
    """The symbol whose readable lever name is ``lever`` (None if no symbol has it)."""
    for entry in TABLE.values():
        if entry.lever == lever:
            return entry.symbol
    return None


def info(symbol: sp.Symbol | str) -> SymbolInfo:
    """The table entry of a symbol (or of its name)."""
    return TABLE[symbol if isinstance(symbol, str) else symbol.name]


def latex_names() -> dict[sp.Symbol, str]:
    """Mapping for ``sympy.latex(..., symbol_names=...)``."""
    return {entry.symbol: entry.latex for entry in TABLE.values()}


def order(symbols) -> tuple[sp.Symbol, ...]:
    """``symbols`` sorted by declaration order: the one argument order of compiled functions."""
    position = {name: i for i, name in enumerate(TABLE)}
    return tuple(sorted(symbols, key=lambda s: position[s.name]))


# --- roofline -------------------------------------------------------------------------------
Pi = _declare("Pi", r"\Pi", "FLOP/s", "peak compute throughput of the device",
              lever="peak_flops")
beta = _declare("beta", r"\beta", "B/s", "memory bandwidth of the device",
                lever="memory_bandwidth")
F = _declare("F", "F", "FLOP", "work: floating-point operations of the step")
Q = _declare("Q", "Q", "B", "traffic: bytes moved between memory and the device")
eta_c = _declare("eta_c", r"\eta_{c}", "1", "compute efficiency: achieved / peak FLOP/s",
                 lever="compute_efficiency")
eta_m = _declare("eta_m", r"\eta_{m}", "1", "memory efficiency: achieved / peak bandwidth",
                 lever="memory_efficiency")
t_o = _declare("t_o", "t_{o}", "s", "fixed overhead per step (launch, sync)", nonnegative=True,
               positive=None, lever="overhead")
t_compute = _declare("t_compute", r"t_{\mathrm{compute}}", "s", "time if only compute bound")
t_memory = _declare("t_memory", r"t_{\mathrm{memory}}", "s", "time if only memory bound")
T = _declare("T", "T", "s", "latency of the step")
I = _declare("I", "I", "FLOP/B", "arithmetic intensity: FLOP per byte moved")
P_att = _declare("P_att", r"P_{\mathrm{att}}", "FLOP/s", "attainable compute throughput")
U_c = _declare("U_c", r"U_{c}", "1", "compute utilisation: achieved / peak FLOP/s (MFU)")
U_m = _declare("U_m", r"U_{m}", "1", "bandwidth utilisation: achieved / peak bytes/s (MBU)")
I_ridge = _declare("I_ridge", "I^{*}", "FLOP/B", "ridge point: intensity where both bounds meet")
p_smooth = _declare("p_smooth", "p", "1", "sharpness of the smooth roofline (p -> oo is max)")

# --- transformer shape ------------------------------------------------------------------------
_count = {"integer": True, "positive": True}
_flag = {"integer": True, "nonnegative": True, "positive": None}
L = _declare("L", "L", "1", "transformer layers (blocks)", **_count)
d = _declare("d", "d", "1", "model (hidden) dimension", **_count)
h = _declare("h", "h", "1", "attention (query) heads", **_count)
h_kv = _declare("h_kv", r"h_{kv}", "1", "key/value heads (GQA/MQA when fewer than h)", **_count)
d_h = _declare("d_h", r"d_{h}", "1", "dimension of one attention head", **_count)
d_ff = _declare("d_ff", r"d_{ff}", "1", "FFN inner dimension of a dense layer", **_count)
n_ff = _declare("n_ff", r"n_{ff}", "1", "weight matrices per FFN: 3 gated (SwiGLU/GeGLU), 2 plain",
                **_count)
V = _declare("V", "V", "1", "vocabulary size", **_count)
u_head = _declare("u_head", "u", "1", "1 if the LM head is a separate matrix, 0 if tied", **_flag)
n_pos = _declare("n_pos", r"n_{pos}", "1", "rows of a learned position table (0 for RoPE)", **_flag)
n_tt = _declare("n_tt", r"n_{tt}", "1", "rows of a token-type table (BERT)", **_flag)
z_qkv = _declare("z_qkv", r"z_{qkv}", "1", "1 if Q, K, V projections carry biases", **_flag)
z_lin = _declare("z_lin", r"z_{lin}", "1", "1 if output and FFN projections carry biases", **_flag)
n_vec = _declare("n_vec", r"n_{vec}", "1", "d-sized norm vectors per layer (LayerNorm has 2 each)",
                 **_flag)
n_vec_f = _declare("n_vec_f", r"n_{vec,f}", "1", "d-sized norm vectors outside the layers", **_flag)
z_pool = _declare("z_pool", r"z_{pool}", "1", "1 if a d x d pooler (BERT) follows the encoder",
                  **_flag)
E = _declare("E", "E", "1", "routed experts per MoE layer (1 for a dense model)", **_count)
k = _declare("k", "k", "1", "routed experts each token activates", **_count)
E_s = _declare("E_s", "E_{s}", "1", "shared experts every token uses", **_flag)
d_e = _declare("d_e", r"d_{e}", "1", "FFN inner dimension of one expert", **_count)
L_d = _declare("L_d", r"L_{d}", "1", "dense (non-MoE) layers; L for a dense model", **_flag)
r_q = _declare("r_q", r"r_{q}", "1", "MLA query low-rank dimension", **_count)
r_kv = _declare("r_kv", r"r_{kv}", "1", "MLA key/value latent dimension (what is cached)", **_count)
d_rope = _declare("d_rope", r"d_{rope}", "1", "MLA decoupled RoPE key dimension per head", **_count)
d_nope = _declare("d_nope", r"d_{nope}", "1", "MLA non-RoPE query/key dimension per head", **_count)
d_v = _declare("d_v", r"d_{v}", "1", "value dimension per head", **_count)
L_w = _declare("L_w", r"L_{w}", "1",
              "layers with sliding-window attention (0: no window, every layer global)", **_flag)
w_sw = _declare("w_sw", "w", "1",
                "sliding window: most cached positions a windowed layer's query attends to",
                **_count)

# per-layer attention summary (from an attention law) and model totals (parameter law)
P_attn = _declare("P_attn", r"P_{attn}", "param", "attention parameters per layer")
e_kv_layer = _declare("e_kv_layer", r"e_{kv}", "1", "cached K/V elements per token per layer")
d_qk = _declare("d_qk", r"d_{qk}", "1", "query/key dimension per head used in scores")
P_ffn = _declare("P_ffn", r"P_{ffn}", "param", "parameters of one dense FFN")
P_exp = _declare("P_exp", r"P_{exp}", "param", "parameters of one expert in one layer")
N_total = _declare("N_total", r"N", "param", "total parameters")
N_active = _declare("N_active", r"N_{act}", "param", "parameters used per token (MoE: k of E)")
N_dense = _declare("N_dense", r"N_{mm}", "param",
                   "matmul parameters every token uses (attention, dense FFN, shared, router, "
                   "head)")
N_expert = _declare("N_expert", r"N_{e}", "param", "parameters of one routed expert, all layers")
N_embed = _declare("N_embed", r"N_{emb}", "param", "embedding tables read by lookup, not in full")
e_kv = _declare("e_kv", r"e_{KV}", "1", "cached K/V elements per token, all layers")
a_attn = _declare("a_attn", r"a_{attn}", "FLOP",
                  "attention FLOPs per new token per context token, all layers")
d_qk_dec = _declare("d_qk_dec", r"d_{qk}^{dec}", "1",
                    "score dimension per head per cached token in decode (MLA: absorbed)")
d_v_dec = _declare("d_v_dec", r"d_{v}^{dec}", "1",
                   "value dimension per head per cached token in decode (MLA: the latent)")
a_dec = _declare("a_dec", r"a_{dec}", "FLOP",
                 "decode attention FLOPs per new token per cached token, all layers")

# --- inference step -----------------------------------------------------------------------------
b = _declare("b", "b", "1", "batch: sequences processed together", lever="batch_size")
s = _declare("s", "s", "1", "context: tokens already cached (decode) or prompt tokens (prefill)",
             nonnegative=True, positive=None, lever="seq_len")
bytes_w = _declare("bytes_w", r"\mathit{bw}_{w}", "B", "bytes per weight element",
                   lever="bytes_per_weight")
bytes_kv = _declare("bytes_kv", r"\mathit{bw}_{kv}", "B", "bytes per cached K/V element",
                    lever="bytes_per_kv")
s_kv = _declare("s_kv", r"s_{kv}", "1",
               "cached positions a decode step attends to, averaged over the layers (a "
               "windowed layer attends to at most w)", nonnegative=True, positive=None)
n_qk = _declare("n_qk", r"n_{qk}", "1",
                "query-key pairs of a causal prefill of s tokens, averaged over the layers (s^2/2 "
                "with no window)", nonnegative=True, positive=None)
z_logit = _declare("z_logit", r"z_{logit}", "1",
                  "1 if a prefill computes logits at every prompt position, 0 at the last only",
                  **_flag)
W_ws = _declare("W_ws", r"W_{ws}", "B", "workspace bytes (activations, buffers)",
                nonnegative=True, positive=None)
n_kern = _declare("n_kern", r"n_{kern}", "1", "kernels (GEMM launches) per step")
t_kern = _declare("t_kern", r"t_{kern}", "s", "overhead per kernel launch (fitted per GEMM)",
                  nonnegative=True, positive=None, lever="kernel_overhead")
n_aux = _declare("n_aux", r"n_{aux}", "1",
                 "non-GEMM kernels per layer (attention, norms, rotary, residual adds, "
                 "activation, casts) of a serving runtime", nonnegative=True, positive=None)
t_aux = _declare("t_aux", r"t_{aux}", "s", "time floor of one non-GEMM kernel",
                 nonnegative=True, positive=None, lever="aux_kernel_time")
q_act = _declare("q_act", r"q_{act}", "B",
                 "bytes the non-GEMM kernels move per token, layer and model dimension",
                 nonnegative=True, positive=None, lever="activation_traffic")
Q_act = _declare("Q_act", r"Q_{act}", "B", "activation bytes the non-GEMM kernels move")
t_aux_step = _declare("t_aux_step", r"t_{aux,step}", "s",
                      "time of the step's non-GEMM kernels beyond the roofline's traffic")
n_tok = _declare("n_tok", r"n_{tok}", "1", "tokens processed in the step")
E_hit = _declare("E_hit", r"E_{hit}", "1", "expected distinct experts a step touches per layer")
W_read = _declare("W_read", r"W_{read}", "B", "weight bytes read in the step")
KV_read = _declare("KV_read", r"KV_{read}", "B", "K/V cache bytes read in the step")
KV_write = _declare("KV_write", r"KV_{write}", "B", "K/V cache bytes written in the step")
M = _declare("M", "M", "B", "memory footprint: weights + K/V cache + workspace")
C_mem = _declare("C_mem", r"C_{mem}", "B", "memory capacity of the device", lever="memory_capacity")
U_mem = _declare("U_mem", r"U_{mem}", "1", "memory utilisation: footprint / capacity")
b_cross = _declare("b_cross", r"b_{\times}", "1", "crossover batch: first compute-bound batch")

# --- fixed workloads (CNNs, user-given FLOPs/bytes) ---------------------------------------------
F_1 = _declare("F_1", "F_{1}", "FLOP", "FLOPs of one inference (one sample)")
Q_1 = _declare("Q_1", "Q_{1}", "B", "bytes moved per sample besides the weights (inputs, outputs)",
               nonnegative=True, positive=None)

# --- weight streaming ---------------------------------------------------------------------------
beta_inj = _declare("beta_inj", r"\beta_{inj}", "B/s",
                    "injection bandwidth: external weight store to the device (bytes, not bits)",
                    lever="injection_bandwidth")
C_chip = _declare("C_chip", r"C_{chip}", "B",
                  "device-local memory holding K/V, activations and weight buffers (SRAM, HBM)",
                  lever="onchip_capacity")
bytes_a = _declare("bytes_a", r"\mathit{bw}_{a}", "B", "bytes per activation element")
z_ovl = _declare("z_ovl", r"z_{ovl}", "1",
                 "1 if the next layer streams in while this one computes (double buffer), 0 serial",
                 **_flag)
W_layer = _declare("W_layer", r"W_{layer}", "B", "weight bytes streamed per layer")
W_step = _declare("W_step", r"W_{step}", "B", "weight bytes streamed per step (all layers)")
F_layer = _declare("F_layer", r"F_{layer}", "FLOP", "FLOPs of one layer for the step's tokens")
t_inj = _declare("t_inj", r"t_{\mathrm{inj}}", "s", "time to inject one layer's weights")
t_cmp = _declare("t_cmp", r"t_{\mathrm{cmp}}", "s", "time to compute one layer")
t_layer = _declare("t_layer", r"t_{\mathrm{layer}}", "s", "time per layer (overlapped or serial)")
R_tok = _declare("R_tok", r"R_{tok}", "token/s", "tokens processed per second")
e_act = _declare("e_act", r"e_{act}", "1", "activation elements held on chip per token in flight")
M_kv = _declare("M_kv", r"M_{kv}", "B", "K/V cache bytes held (on chip when streaming weights)")
M_act = _declare("M_act", r"M_{act}", "B", "activation bytes held on chip")
M_wbuf = _declare("M_wbuf", r"M_{wbuf}", "B", "layer-weight buffer bytes held on chip")
M_chip = _declare("M_chip", r"M_{chip}", "B", "on-chip footprint: K/V + activations + buffers")
U_chip = _declare("U_chip", r"U_{chip}", "1", "on-chip memory utilisation: M_chip / C_chip")
B_star = _declare("B_star", r"B^{*}", "1", "optimal batch: sequences at which compute = injection")
n_star = _declare("n_star", r"n_{tok}^{*}", "1", "tokens per step at which compute = injection")
b_max = _declare("b_max", r"b_{max}", "1", "batch whose on-chip footprint equals the capacity")

# --- calibration ---------------------------------------------------------------------------------
M_g = _declare("M_g", r"M_{g}", "1", "GEMM rows: tokens of the activation matrix", **_count)
N_g = _declare("N_g", r"N_{g}", "1", "GEMM columns: output features (per tensor-parallel rank)",
               **_count)
K_g = _declare("K_g", r"K_{g}", "1", "GEMM depth: input features (per tensor-parallel rank)",
               **_count)
bytes_e = _declare("bytes_e", r"\mathit{bw}_{e}", "B", "bytes per matrix element of a GEMM")
m_tile = _declare("m_tile", r"m_{tile}", "1", "rows of one GEMM output tile (rows pad to it)",
                  **_count)
M_x = _declare("M_x", r"M_{x}", "1", "executed GEMM rows: M, padded to whole tiles above one")
F_x = _declare("F_x", r"F_{x}", "FLOP", "executed work: FLOPs including tile padding")

# --- serving ----------------------------------------------------------------------------------
j = _declare("j", "j", "1", "index of a generated token after the first", **_count)
j_0 = _declare("j_0", "j_{0}", "1", "first token index of a run of decode steps", **_count)
j_1 = _declare("j_1", "j_{1}", "1", "last token index of a run of decode steps", **_count)
s_p = _declare("s_p", "s_{p}", "1", "prompt length", **_count)
S_c = _declare("S_c", r"S_{\mathrm{compute}}", "s",
               "sum of compute-bound decode latencies over tokens j_0..j_1")
S_m = _declare("S_m", r"S_{\mathrm{memory}}", "s",
               "sum of memory-bound decode latencies over tokens j_0..j_1")
s_cross = _declare("s_cross", r"s_{\times}", "1",
                   "context at which a decode step's compute and memory times are equal",
                   positive=None, real=True)

# --- collectives (alpha-beta) -------------------------------------------------------------------
n_g = _declare("n_g", r"n", "1", "devices in the collective's group", lever="group_size",
               **_count)
m_c = _declare("m_c", r"m", "B", "bytes of the buffer a collective reduces, gathers or moves")
beta_x = _declare("beta_x", r"\beta_{x}", "B/s",
                  "bandwidth per direction of a device's links into its fast domain",
                  lever="link_bandwidth")
alpha_x = _declare("alpha_x", r"\alpha_{x}", "s", "latency of one message step in the fast domain",
                   nonnegative=True, positive=None, lever="link_latency")
alpha_c = _declare("alpha_c", r"\alpha_{c}", "s",
                   "latency of one collective call (launch and synchronisation), whatever the "
                   "group size", nonnegative=True, positive=None, lever="collective_latency")
n_node = _declare("n_node", r"N", "1", "nodes (fast domains) a hierarchical collective spans",
                  **_count)
beta_n = _declare("beta_n", r"\beta_{n}", "B/s",
                  "scale-out bandwidth per direction per device (its share of the node's NICs)",
                  lever="network_bandwidth")
alpha_n = _declare("alpha_n", r"\alpha_{n}", "s", "latency of one message step between nodes",
                   nonnegative=True, positive=None, lever="network_latency")
t_ar = _declare("t_ar", r"t_{\mathrm{AR}}", "s", "ring all-reduce time")
t_ar_tree = _declare("t_ar_tree", r"t_{\mathrm{AR}}^{\mathrm{tree}}", "s",
                     "all-reduce by recursive halving and doubling (log-depth)")
t_rs = _declare("t_rs", r"t_{\mathrm{RS}}", "s", "ring reduce-scatter time")
t_ag = _declare("t_ag", r"t_{\mathrm{AG}}", "s", "ring all-gather time")
t_a2a = _declare("t_a2a", r"t_{\mathrm{A2A}}", "s", "all-to-all time (pairwise exchange)")
t_p2p = _declare("t_p2p", r"t_{\mathrm{P2P}}", "s", "point-to-point send time")
z_nvls = _declare("z_nvls", r"z_{\mathrm{NVLS}}", "1",
                  "1 if the fast domain's switches reduce in the network (NVLink SHARP), 0 if "
                  "the devices reduce (ring)", **_flag)
t_ar_nvls = _declare("t_ar_nvls", r"t_{\mathrm{AR}}^{\mathrm{NVLS}}", "s",
                     "all-reduce reduced in the switch (NVLink SHARP): two steps, and "
                     "(n - 1)/n of the buffer each way (a bound)")
t_ar_fab = _declare("t_ar_fab", r"t_{\mathrm{AR}}^{\mathrm{fab}}", "s",
                    "the fast domain's all-reduce: in the switch where the fabric reduces, "
                    "else the ring")
t_ar_hier = _declare("t_ar_hier", r"t_{\mathrm{AR}}^{\mathrm{hier}}", "s",
                     "hierarchical all-reduce: in the domain, across nodes, in the domain")

t_comm = _declare("t_comm", r"t_{\mathrm{comm}}", "s", "communication time of the step")
z_comm = _declare("z_comm", r"z_{comm}", "1",
                  "1 if communication overlaps compute and memory traffic, 0 if it waits for it",
                  **_flag)
bytes_act = _declare("bytes_act", r"\mathit{bw}_{act}", "B", "bytes per activation element sent")

# --- parallelism (pipeline stages, tensor-parallel degrees solved from the laws) ---------------
n_pp = _declare("n_pp", r"p", "1", "pipeline stages the model's layers are split over",
                lever="pipeline_stages", **_count)
t_stage = _declare("t_stage", r"t_{\mathrm{stage}}", "s",
                   "time of one pipeline stage: its share of the step, its collectives, its send")
t_send = _declare("t_send", r"t_{\mathrm{send}}", "s",
                  "time to send a microbatch's activations to the next stage (point to point)")
p_net = _declare("p_net", r"p_{\mathrm{net}}", "1",
                 "pipeline sends (of the p - 1) that cross between fast domains, over the "
                 "scale-out network", **_flag)
t_send_net = _declare("t_send_net", r"t_{\mathrm{send}}^{\mathrm{net}}", "s",
                      "time to send a microbatch's activations to a stage in another fast "
                      "domain (point to point over the scale-out network)")
n_fit = _declare("n_fit", r"n_{\mathrm{fit}}", "1",
                 "tensor-parallel degree at which the per-device footprint equals the capacity")
n_fast = _declare("n_fast", r"n^{*}", "1",
                  "tensor-parallel degree beyond which adding devices slows a memory-bound step")
n_ep = _declare("n_ep", r"e", "1",
                "devices the routed experts are split over (expert parallel): each holds E/e",
                lever="expert_parallel", **_count)
t_disp = _declare("t_disp", r"t_{\mathrm{disp}}", "s",
                  "one all-to-all of an MoE layer's routed tokens over the e devices (the "
                  "dispatch; the combine returns the same bytes)")

# --- cost and energy ----------------------------------------------------------------------------
n_dev = _declare("n_dev", r"n_{dev}", "1", "devices the step occupies")
P_dev = _declare("P_dev", r"P_{dev}", "W", "power of one device (its TDP, board power)",
                 lever="device_power")
f_P = _declare("f_P", r"f_{P}", "1",
               "fraction of that power drawn during the step (1: at TDP, an upper bound)",
               lever="power_fraction")
p_dev = _declare("p_dev", r"p_{dev}", "USD/s",
                 "price of one device per unit time (on-demand cloud price)",
                 lever="device_price")
P_step = _declare("P_step", r"P_{step}", "W", "power drawn by the devices of the step")
E_tok = _declare("E_tok", r"E_{tok}", "J/token", "energy per token")
eta_E = _declare("eta_E", r"\eta_{E}", "token/J", "tokens per joule")
c_tok = _declare("c_tok", r"c_{tok}", "USD/token", "cost per token")

# --- training ------------------------------------------------------------------------------------
n_t = _declare("n_t", r"n_{t}", "1", "tensor-parallel degree", lever="tensor_parallel", **_count)
n_p = _declare("n_p", r"n_{p}", "1", "pipeline-parallel stages", lever="pipeline_parallel",
               **_count)
n_dp = _declare("n_dp", r"n_{d}", "1", "data-parallel replicas", lever="data_parallel",
                **_count)
Pi_a = _declare("Pi_a", r"\Pi_{a}", "FLOP/s",
                "peak FLOP/s of attention's matmuls (the 16-bit peak in low-precision training)")
g_dp = _declare("g_dp", r"g_{d}", "1",
                "data-parallel replicas of one group inside one fast domain", **_count)
v_il = _declare("v_il", r"v", "1", "model chunks per pipeline stage (interleaved schedule)",
                lever="interleave", **_count)
B_g = _declare("B_g", r"B", "1", "global batch: sequences per iteration",
               lever="global_batch_size", **_count)
z_fa = _declare("z_fa", r"z_{fa}", "1",
                "1 with fused (flash) attention: the causal half of the s x s scores computed, "
                "none stored; 0: the full masked square computed and stored", **_flag)
A_fwd = _declare("A_fwd", r"A_{fwd}", "B",
                 "activation bytes one layer's forward writes per microbatch (per device)")
r_sel = _declare("r_sel", r"r_{sel}", "1", "1 with selective activation recomputation", **_flag)
r_full = _declare("r_full", r"r_{full}", "1", "1 with full activation recomputation", **_flag)
z_sp = _declare("z_sp", r"z_{sp}", "1", "1 with sequence parallelism", **_flag)
z_il = _declare("z_il", r"z_{il}", "1", "1 with an interleaved schedule (v > 1)", **_flag)
f_w = _declare("f_w", r"f_{w}", "1", "1 if weights are sharded over data parallel (ZeRO-3)",
               **_flag)
f_gr = _declare("f_gr", r"f_{g}", "1",
                "1 if gradients are sharded over data parallel (ZeRO-2 and 3)", **_flag)
f_opt = _declare("f_opt", r"f_{o}", "1",
                 "1 if optimizer states are sharded over data parallel (ZeRO-1, 2 and 3)",
                 **_flag)
bytes_g = _declare("bytes_g", r"\mathit{bw}_{g}", "B", "bytes per gradient element")
bytes_o = _declare("bytes_o", r"\mathit{bw}_{o}", "B",
                   "optimizer state bytes per parameter (Adam: fp32 master, m and v, 12)")
bytes_u = _declare("bytes_u", r"\mathit{bw}_{u}", "B",
                   "bytes one optimizer step reads and writes per parameter")
z_dp = _declare("z_dp", r"z_{dp}", "1",
                "1 if the data-parallel gradient reduction overlaps the backward pass", **_flag)
D_tok = _declare("D_tok", r"D", "token", "tokens to train on")
F_fwd = _declare("F_fwd", r"F_{fwd}", "FLOP", "forward FLOPs of one iteration (whole model)")
F_attn = _declare("F_attn", r"F_{attn}", "FLOP",
                  "attention-score FLOPs of one iteration's forward (QK^T and AV)")
F_mod = _declare("F_mod", r"F_{model}", "FLOP",
                 "model FLOPs of one iteration: forward and backward, no recomputation")
F_hw = _declare("F_hw", r"F_{hw}", "FLOP",
                "hardware FLOPs of one iteration: model FLOPs plus recomputation")
m_mb = _declare("m_mb", r"m", "1", "microbatches per pipeline per iteration")
N_dev = _declare("N_dev", r"N_{dev}", "param",
                 "parameters one device holds (its stage, its TP share)")
t_mb = _declare("t_mb", r"t_{mb}", "s", "one microbatch through one stage, forward and backward")
t_tp = _declare("t_tp", r"t_{tp}", "s",
                "tensor-parallel all-reduces of one microbatch on one stage")
t_pp = _declare("t_pp", r"t_{pp}", "s", "pipeline sends of one microbatch on one stage")
t_dp = _declare("t_dp", r"t_{dp}", "s", "data-parallel gradient all-reduce not hidden")
t_opt = _declare("t_opt", r"t_{opt}", "s", "optimizer step")
t_bub = _declare("t_bub", r"t_{bubble}", "s", "pipeline bubble: stages idle at fill and drain")
t_work = _declare("t_work", r"t_{work}", "s",
                  "microbatch compute and memory time of an iteration")
t_comms = _declare("t_comms", r"t_{comm}", "s", "communication time of an iteration, not hidden")
U_mfu = _declare("U_mfu", r"\mathrm{MFU}", "1", "model FLOPs utilisation (no recomputation)")
U_hfu = _declare("U_hfu", r"\mathrm{HFU}", "1",
                 "hardware FLOPs utilisation (with recomputation)")
M_state = _declare("M_state", r"M_{state}", "B",
                   "weights, gradients and optimizer states per device")
M_acts = _declare("M_acts", r"M_{acts}", "B",
                  "activations held per device for the backward pass (first pipeline stage)")
A_layer = _declare("A_layer", r"A_{layer}", "B", "activations one layer keeps per microbatch")
T_train = _declare("T_train", r"T_{train}", "s", "time to train on D tokens")
H_dev = _declare("H_dev", r"H_{dev}", "s", "device-time to train on D tokens (devices x time)")
phi_bub = _declare("phi_bub", r"\phi_{bubble}", "1", "share of the iteration the pipeline idles")
phi_comm = _declare("phi_comm", r"\phi_{comm}", "1",
                    "share of the iteration spent in communication not hidden")
F_dev = _declare("F_dev", r"\dot{F}_{dev}", "FLOP/s", "model FLOPs per second per device")
x_bub = _declare("x_bub", r"x_{bubble}", "1", "the bubble share asked for (inverse design)")
T_goal = _declare("T_goal", r"T_{goal}", "s",
                  "the time to train on D tokens asked for (inverse design)")
m_bub = _declare("m_bub", r"m_{bubble}", "1",
                 "microbatches per pipeline at which the bubble share is x_bubble")
b_fit = _declare("b_fit", r"b_{\mathrm{fit}}", "1",
                 "microbatch size at which the memory per device equals the capacity")
n_need = _declare("n_need", r"n_{d,goal}", "1",
                  "data-parallel replicas that train D tokens in T_goal")

# --- rates and drifts derived for the solvers ---------------------------------------------------
R_s = _declare("R_s", r"R_{s}", "sample/s", "samples processed per second")
g_s = _declare("g_s", r"\partial_{s}(t_{c} - t_{m})", "s",
               "change of a decode step's compute-minus-memory time per cached token")
W_res = _declare("W_res", r"W_{res}", "B", "weight bytes resident in memory (every weight)")
