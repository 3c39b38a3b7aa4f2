"""Exact derivatives read as a person writes them: one clean expression per regime.

derive.diff and derive.elasticity return a PiecewiseDerivative. Each branch is checked here
against a central finite difference of the law evaluated inside its regime (Llama-3-8B and a
Mixtral-like MoE decoding on an H100-like device), against the one-expression form the
compiled kernels use (also exactly at the kink, on both sides), and for its printing: no
floats, no step functions, the symbol table's LaTeX, the law's regime names.
"""

import re
from pathlib import Path

import pytest
import sympy as sp

from symsys import derive, render
from symsys import symbols as S
from symsys.errors import InvalidParameter
from symsys.laws import decode, roofline

b, beta, t_o = S.b, S.beta, S.t_o
R = sp.Rational

#: an H100-like device (989.4 TFLOP/s dense fp16, 3.35 TB/s) at speed of light, fp16 weights
#: and K/V, 80 GiB of memory; no cached context (a long one keeps decode memory bound)
_DEVICE = {"Pi": R(9894, 10) * 10**12, "beta": R(335, 100) * 10**12, "eta_c": 1, "eta_m": 1,
           "t_o": 0, "t_kern": 0, "bytes_w": 2, "bytes_kv": 2, "s": 0, "W_ws": 0,
           "C_mem": 80 * 2**30, "L_w": 0, "w_sw": 2**53,  # no sliding window
           "n_aux": 0, "t_aux": 0, "q_act": 0}  # no runtime's non-GEMM kernels
#: Llama-3-8B (dense: E = k = 1, no expert weights) and a Mixtral-8x7B-like MoE (E = 8, k = 2)
LLAMA3_8B = {**_DEVICE, "L": 32, "d": 4096, "E": 1, "k": 1, "N_total": 8030261248,
             "N_dense": 7504658432, "N_expert": 0, "N_embed": 525336576, "e_kv": 65536,
             "a_dec": 524288}
MIXTRAL = {**_DEVICE, "L": 32, "d": 4096, "E": 8, "k": 2, "N_total": 46702792704,
           "N_dense": 1474297856, "N_expert": 5637144576, "N_embed": 131072000,
           "e_kv": 65536, "a_dec": 524288}
#: (variant, values, a point in the memory regime, a point in the compute regime)
CASES = [("dense", LLAMA3_8B, {"b": 1, "s": 1024}, {"b": 4096}),
         (None, MIXTRAL, {"b": 3, "s": 1024}, {"b": 8192})]
FLOAT = re.compile(r"\d\.\d|\de-?\d")


def _point(values: dict, **more) -> dict:
    return {decode.symbol(name): sp.sympify(v) for name, v in {**values, **more}.items()}


def _central(expr, point: dict, x):
    """Central difference at 50 digits: only its O(h^2) error, ~1e-16 relative, remains."""
    h = point[x] * R(1, 10**8)
    up = expr.xreplace({**point, x: point[x] + h}).evalf(50)
    down = expr.xreplace({**point, x: point[x] - h}).evalf(50)
    return float((up - down) / (2 * h))


def _regime(point: dict) -> str:
    t_c, t_m = (float(decode.expr(n).xreplace(point)) for n in ("t_compute", "t_memory"))
    return "Compute" if t_c > t_m else "Memory"


def test_decode_dT_db_prints_one_clean_expression_per_regime():
    result = derive.diff(decode.expr("T"), b)  # a bare expression: its law is found
    text = str(result)
    assert "OneSidedStep" not in text and "Heaviside" not in text and "Piecewise" not in text
    assert not FLOAT.search(text), text
    assert [br.regime for br in result.branches] == ["Compute", "Memory"]
    window = sp.Max(0, S.s - S.w_sw)  # the sliding window's kink does not move with b
    for branch in result.branches:
        assert not branch.expr.atoms(sp.Float)
        assert branch.expr.atoms(sp.Max, sp.Min) <= {window}
    assert "Memory (t_memory >= t_compute):" in text
    assert "Compute (t_compute >= t_memory):" in text


@pytest.mark.parametrize("variant,values,memory,compute", CASES,
                         ids=["Llama3_8B", "Mixtral-like"])
def test_each_branch_is_the_derivative_of_the_law_inside_its_regime(variant, values, memory,
                                                                    compute):
    T = decode.expr("T")
    T = decode.variants[variant](T) if variant else T
    result = derive.diff(decode, "b", of="T", variant=variant)
    for where, regime in ((memory, "Memory"), (compute, "Compute")):
        point = _point(values, **where)
        assert _regime(point) == regime  # the numbers do sit in that regime
        numeric = _central(T, point, b)
        exact = float(result[regime].xreplace(point))
        assert exact == pytest.approx(numeric, rel=1e-12)
        assert float(result.at(point)) == pytest.approx(numeric, rel=1e-12)
        assert result.branch_at(point).regime == regime
        # the compiled kernels' one-expression form agrees with the branch
        assert float(result.expr().xreplace(point).evalf(30)) == pytest.approx(exact, rel=1e-14)


def test_dense_memory_branch_by_hand():
    """Llama-3-8B, memory bound: each extra sequence reads its K/V (s + 1 tokens of e_kv
    elements, 2 bytes each) and one embedding row (d fp16 weights) more: 134.4 MB / 3.35 TB/s.
    Compute bound: 2 FLOPs per matmul weight and a_dec per cached token, over 989.4 TFLOP/s."""
    result = derive.diff(decode, "b", of="T", variant="dense")
    by_hand = (2 * 65536 * (1024 + 1) + 2 * 4096) / 3.35e12
    at = result.at(_point(LLAMA3_8B, b=1, s=1024))
    assert float(at) == pytest.approx(by_hand, rel=1e-15)
    compute = (2 * 7504658432 + 2 * 0 + 524288 * 0) / 989.4e12
    assert float(result.at(_point(LLAMA3_8B, b=4096))) == pytest.approx(compute, rel=1e-15)


@pytest.mark.parametrize("side,regime", [("right", "Compute"), ("left", "Memory")])
def test_at_the_kink_each_side_takes_the_regime_it_moves_into(side, regime):
    """At the crossover batch t_compute = t_memory; t_compute grows faster in b, so the
    right derivative is the compute branch and the left the memory one, as the kernels say."""
    values = _point(LLAMA3_8B)
    crossing = decode.expr("b_cross").xreplace(values)
    point = {**values, b: crossing}
    assert decode.expr("t_compute").xreplace(point) == decode.expr("t_memory").xreplace(point)
    result = derive.diff(decode, "b", side, of="T", variant="dense")
    assert result.branch_at(point).regime == regime
    assert result.at(point) == result[regime].xreplace(point).evalf(15)
    kernel = float(result.expr().xreplace(point).evalf(30))
    assert float(result.at(point)) == pytest.approx(kernel, rel=1e-14)


def test_latex_uses_the_symbol_tables_notation():
    tex = derive.diff(decode, "b", of="T").latex()
    assert tex.startswith(r"\frac{\partial T}{\partial b} = \begin{cases}")
    for name in ("bytes_kv", "bytes_w", "t_memory", "t_compute", "N_dense", "eta_m"):
        assert S.info(name).latex in tex, name
    assert "bytes_{kv}" not in tex and "theta" not in tex and "OneSidedStep" not in tex
    assert r"\text{Memory: }" in tex and r"\text{Compute: }" in tex
    assert not FLOAT.search(tex), tex
    assert derive.diff(decode, "b", of="T")._repr_latex_() == f"$${tex}$$"


def test_elasticity_of_the_roofline_latency_in_bandwidth():
    result = derive.elasticity(roofline, "beta", of="T")
    assert str(result["Compute"]) == "0"
    # with no overhead t_o, latency is inversely proportional to bandwidth when memory binds
    at_speed_of_light = result.subs(t_o=0)
    assert at_speed_of_light["Memory"] == -1 and at_speed_of_light["Compute"] == 0
    # with one it is -t_memory / T, printed so, and worth that at a point
    assert "Memory (t_memory >= t_compute):  -t_memory/T" in str(result)
    point = {S.Pi: 10**15, beta: 10**12, S.F: 10**9, S.Q: 10**9, S.eta_c: 1, S.eta_m: 1,
             t_o: R(1, 10**3)}
    assert result.at(point) == pytest.approx(-1e-3 / (1e-3 + 1e-3), rel=1e-15)


def test_a_derivative_that_moves_no_kink_is_one_expression():
    assert str(derive.diff(roofline, "t_o", of="T")) == "dT/dt_o = 1"


def test_an_expression_from_no_law_prints_its_conditions():
    x, y = sp.symbols("x y", positive=True)
    result = derive.diff(sp.Max(x**2, 3 * y) + y, x)
    assert [br.regime for br in result.branches] == [None, None]
    assert {str(br.expr) for br in result.branches} == {"2*x", "0"}
    assert "x**2 >= 3*y:  2*x" in str(result)
    assert float(result.at(x=1, y=1)) == 0 and float(result.at(x=2, y=1)) == 4


def test_errors_name_the_bad_value():
    result = derive.diff(decode, "b", of="T")
    with pytest.raises(InvalidParameter, match="'Idle'.*Compute, Memory"):
        result["Idle"]
    with pytest.raises(InvalidParameter, match="no value for .*beta"):
        result.at({k: v for k, v in _point(MIXTRAL, b=1).items() if k != beta})
    with pytest.raises(InvalidParameter, match="variant='sparse'.*dense"):
        derive.diff(decode, "b", of="T", variant="sparse")
    with pytest.raises(InvalidParameter, match="pass the Law"):
        derive.diff(decode.expr("T"), b, of="T")
    with pytest.raises(InvalidParameter, match="side='up'"):
        derive.elasticity(roofline, "beta", side="up")


def test_readme_and_the_decode_document_show_the_computed_results():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert str(derive.elasticity(roofline, "beta", of="T")) in readme
    assert str(derive.diff(decode, "b", of="T", variant="dense")) in readme
    document = render.markdown(decode)
    section = document.split("## Exact derivatives")[1].split("\n## ")[0]
    for result in (derive.diff(decode, "b", of="T"),
                   derive.diff(decode, "b", of="T", variant="dense"),
                   derive.elasticity(decode, "beta", of="T")):
        assert f"$$\n{result.latex()}\n$$" in section
    # in the roofline law the bandwidth elasticity reads -t_memory/T; a decode step's also
    # counts a runtime's activation traffic, which moves at the same bandwidth
    assert derive.elasticity(roofline, "beta", of="T").latex().count(
        r"- \frac{t_{\mathrm{memory}}}{T}") == 1
    assert "q_{act}" in section
