"""Roofline law: golden LaTeX, ridge closed form, derivatives vs finite differences,
compiled output vs evalf, regime and units."""

import numpy as np
import pytest
import sympy as sp

import symsys
from symsys import derive
from symsys.compile import compile_exprs
from symsys.laws import roofline
from symsys.symbols import F, Pi, Q, T, beta, eta_c, eta_m, t_o

GOLDEN = r"""\begin{aligned}
t_{\mathrm{compute}} &= \frac{F}{\Pi \eta_{c}} \\
t_{\mathrm{memory}} &= \frac{Q}{\beta \eta_{m}} \\
T &= t_{o} + \max\left(t_{\mathrm{compute}}, t_{\mathrm{memory}}\right) \\
I &= \frac{F}{Q} \\
P_{\mathrm{att}} &= \min\left(\Pi \eta_{c}, I \beta \eta_{m}\right) \\
U_{c} &= \frac{F}{\Pi T} \\
U_{m} &= \frac{Q}{T \beta} \\
I^{*} &= \frac{\Pi \eta_{c}}{\beta \eta_{m}} && \text{solves } t_{\mathrm{compute}} = t_{\mathrm{memory}} \text{ for } I
\end{aligned}"""


def test_golden_latex():
    assert roofline.latex() == GOLDEN
    assert roofline._repr_latex_() == "$$" + GOLDEN + "$$"


def test_ridge_is_derived_in_closed_form():
    assert sp.simplify(roofline.expr("I_ridge") - eta_c * Pi / (eta_m * beta)) == 0


# A point well away from the kink (memory-bound) and one compute-bound.
POINTS = [
    {Pi: 989.4e12, beta: 3.35e12, F: 16.06e9, Q: 16.06e9, eta_c: 0.8, eta_m: 0.9, t_o: 1e-5},
    {Pi: 312e12, beta: 2.039e12, F: 5e14, Q: 1e9, eta_c: 0.7, eta_m: 0.6, t_o: 2e-6},
]


def central_difference(expr, point, wrt, rel_step=1e-7):
    """Central difference evaluated at 50 digits, so only the O(h^2) error remains."""
    h = sp.Float(abs(point[wrt]) * rel_step, 50)
    up = {**point, wrt: sp.Float(point[wrt], 50) + h}
    down = {**point, wrt: sp.Float(point[wrt], 50) - h}
    return (expr.evalf(50, subs=up) - expr.evalf(50, subs=down)) / (2 * h)


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("wrt", roofline.inputs, ids=lambda s: s.name)
def test_partial_derivatives_match_central_differences(point, wrt):
    T_expr = roofline.expr(T)
    exact = derive.diff_expr(T_expr, wrt)  # the one expression kernels compile
    f = compile_exprs(exact, roofline.inputs)
    compiled = float(f(*[point[s] for s in roofline.inputs])[0])
    numeric = float(central_difference(T_expr, point, wrt))
    assert compiled == pytest.approx(numeric, rel=1e-6, abs=1e-30)


def test_one_sided_derivatives_at_the_ridge():
    at_kink = {Pi: 1e15, beta: 1e12, F: 1e15, Q: 1e12, eta_c: 1, eta_m: 1, t_o: 0}
    left, right = derive.one_sided(roofline.expr(T), beta)
    # raising bandwidth from the ridge: compute binds, latency stops improving
    assert float(right.at(at_kink)) == 0
    assert float(right.expr().evalf(subs=at_kink)) == 0  # the compiled form agrees
    # lowering it: memory binds, dT/dbeta = -Q / beta^2
    assert float(left.at(at_kink)) == pytest.approx(-1e12 / 1e24)
    assert float(left.expr().evalf(subs=at_kink)) == pytest.approx(-1e12 / 1e24)
    assert not derive.diff(roofline.expr(T), beta).expr().has(sp.Heaviside)


def test_compiled_matches_evalf_and_broadcasts_zero_derivative():
    exprs = [roofline.expr(n) for n in ("T", "t_compute", "I_ridge")] + [
        derive.diff_expr(roofline.expr("I_ridge"), F)]
    f = compile_exprs(exprs, roofline.inputs)
    rng = np.random.default_rng(0)
    F_values = rng.uniform(1e9, 1e15, 50)
    out = f(989.4e12, 3.35e12, F_values, 16.06e9, 1.0, 1.0, 0.0)
    assert all(o.shape == (50,) for o in out)
    np.testing.assert_array_equal(out[3], np.zeros(50))
    for i in (0, 17, 49):
        subs = {Pi: 989.4e12, beta: 3.35e12, F: F_values[i], Q: 16.06e9, eta_c: 1, eta_m: 1, t_o: 0}
        assert out[0][i] == pytest.approx(float(exprs[0].evalf(subs=subs)), rel=1e-12)
    assert "numpy.maximum" in f.source


def test_evaluate_with_quantities_hand_calculation():
    Q_ = symsys.Q_
    r = symsys.evaluate("roofline", Pi=Q_(989.4, "TFLOP/s"), beta=Q_(3.35, "TB/s"),
                        F=Q_(16.06, "GFLOP"), Q=Q_(16.06, "GB"))
    # 16.06 GB / 3.35 TB/s = 4.794 ms
    assert r["T"].m_as("ms") == pytest.approx(16.06 / 3.35, rel=1e-12)
    assert r["regime"] == "Memory"
    assert r["I_ridge"].m_as("FLOP/B") == pytest.approx(989.4 / 3.35)


def test_evaluate_a_million_points_returns_latency_and_regime_arrays():
    Q_ = symsys.Q_
    F_values = np.logspace(6, 15, 1_000_000)
    r = symsys.evaluate("roofline", Pi=Q_(989.4, "TFLOP/s"), beta=Q_(3.35, "TB/s"),
                        F=Q_(F_values, "FLOP"), Q=Q_(1, "GB"))
    assert r["T"].shape == (1_000_000,)
    ridge_F = 989.4e12 / 3.35e12 * 1e9
    assert (r["regime"][F_values < ridge_F] == "Memory").all()
    assert (r["regime"][F_values > ridge_F] == "Compute").all()


def test_regime_flips_exactly_at_the_ridge():
    Q_ = symsys.Q_
    ridge = 989.4e12 / 3.35e12
    F_values = np.array([ridge * (1 - 1e-12), ridge, ridge * (1 + 1e-12)]) * 1e9
    r = symsys.evaluate("roofline", Pi=Q_(989.4, "TFLOP/s"), beta=Q_(3.35, "TB/s"),
                        F=Q_(F_values, "FLOP"), Q=Q_(1, "GB"))
    assert list(r["regime"]) == ["Memory", "Compute", "Compute"]


def test_solve_for_bandwidth_round_trips():
    tau = sp.Symbol("tau", positive=True)
    (solution, conditions), = derive.solve_for(roofline.expr(T), tau, beta)
    subs = {Pi: 989.4e12, F: 16.06e9, Q: 16.06e9, eta_c: 1, eta_m: 1, t_o: 0, tau: 2e-3}
    needed = float(solution.evalf(subs=subs))
    assert needed == pytest.approx(16.06e9 / 2e-3)
    subs[beta] = needed
    assert float(roofline.expr(T).evalf(subs=subs)) == pytest.approx(2e-3, rel=1e-12)
