"""Speculative decoding as a step law of its own: the whole of what symsys needs to solve,
price, differentiate, invert and sweep it for any registry model and device.

A round: a draft model c times the target's size proposes g tokens one by one, then the
target verifies the g + 1 positions in one pass. Each proposed token is accepted with
probability a, independently, so a round yields (1 - a^(g+1)) / (1 - a) tokens per sequence
on average (Leviathan, Kalman and Matias, "Fast Inference from Transformers via Speculative
Decoding", ICML 2023, eq. 1). Draft and verify share one roofline: their FLOPs and bytes add
and the round takes the larger of the two times. Attention FLOPs are left out; the draft's
K/V cache is c times the target's.
"""

import sympy as sp

import symsys
from symsys.laws import Law, StepRole
from symsys.symbols import (
    C_mem,
    F,
    M,
    N_total,
    Pi,
    Q,
    R_tok,
    T,
    W_ws,
    b,
    beta,
    bytes_kv,
    bytes_w,
    e_kv,
    eta_c,
    eta_m,
    s,
    t_compute,
    t_memory,
)

g = symsys.declare("g_spec", r"\gamma", "1", "tokens the draft proposes per round")
a = symsys.declare("a_acc", r"\alpha", "1", "probability that a proposed token is accepted",
                   lever="acceptance_rate")
c = symsys.declare("c_draft", r"c", "1", "draft model size over the target's")
n_acc = symsys.declare("n_acc", r"\bar{n}", "1", "tokens a round yields per sequence")

spec_decode = Law(
    name="spec_decode",
    title="Speculative decoding round",
    summary=("b sequences; a draft of c N parameters proposes g tokens each, the target "
             "verifies the g + 1 positions in one pass, and a round yields "
             "(1 - a^(g+1)) / (1 - a) tokens per sequence."),
    inputs=(Pi, beta, eta_c, eta_m, C_mem, N_total, bytes_w, bytes_kv, e_kv, b, s, W_ws,
            g, a, c),
    definitions=(
        (F, 2 * N_total * b * (g + 1 + c * g)),
        (Q, (bytes_w * N_total + bytes_kv * e_kv * s * b) * (1 + c * g)),
        (t_compute, F / (eta_c * Pi)),
        (t_memory, Q / (eta_m * beta)),
        (T, sp.Max(t_compute, t_memory)),
        (n_acc, (1 - a ** (g + 1)) / (1 - a)),
        (R_tok, b * n_acc / T),
        (M, (bytes_w * N_total + bytes_kv * e_kv * b * (s + g + 1)) * (1 + c) + W_ws),
    ),
    regimes=(("Compute", t_compute), ("Memory", t_memory)),
    latency=T, rate=R_tok, footprint=M, capacity=C_mem,
    levers=(beta, Pi, a, b, C_mem), integers=(b, s, g),
    defaults={g: 4, c: sp.Rational(1, 10), eta_c: 1, eta_m: 1, W_ws: 0},
    step=StepRole("decode"),
)
