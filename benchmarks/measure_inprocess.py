"""In-process figures after warm-up: the scalar solve, all sensitivities of one configuration,
the compiled roofline, ``symsys.evaluate`` and the decode-latency sweep."""

from __future__ import annotations

from _common import HARDWARE_KEY, MODEL_KEY, time_call


def measure_scalar(repeat: int) -> dict:
    import symsys

    engine, model, hw = symsys.Engine, symsys.Models.Llama3_8B, symsys.Hardware.Cloud.H100
    solver = symsys.SensitivitySolver()

    def solve():
        return engine.solve(model=model, hardware=hw, batch_size=1, precision="fp16")

    def solve_quantity():
        return solve().latency

    def sensitivities():
        return solver.solve(model=model, hardware=hw, precision="fp16", batch_size=1)

    out = {"solve_s": time_call(solve, repeat), "solve_quantity_s": time_call(solve_quantity,
                                                                              repeat),
           "sensitivities_s": time_call(sensitivities, repeat)}
    s = sensitivities()
    out["sensitivity_result"] = {"levers": sorted(s.sensitivities),
                                 "binding": s.binding_constraint,
                                 "method": "exact sympy derivatives (one-sided at kinks)"}
    return out


def measure_roofline(repeat: int, n: int) -> dict:
    import numpy as np

    import symsys
    from symsys.compile import compile_exprs
    from symsys.laws import roofline

    fn = compile_exprs([roofline.expr("T")])
    flops = np.logspace(6, 15, n)
    traffic = np.full(n, 1e9)
    values = {"Pi": 989.4e12, "beta": 3.35e12, "F": flops, "Q": traffic, "eta_c": 1.0,
              "eta_m": 1.0, "t_o": 0.0}
    args = [values[s.name] for s in fn.args]
    compiled = time_call(lambda: fn(*args), repeat)
    q_ = symsys.Q_
    pi, beta, f_q, one_gb = (q_(989.4, "TFLOP/s"), q_(3.35, "TB/s"), q_(flops, "FLOP"),
                             q_(1, "GB"))
    evaluated = time_call(lambda: symsys.evaluate("roofline", Pi=pi, beta=beta, F=f_q,
                                                  Q=one_gb), repeat)
    batch = np.arange(1, n + 1)
    swept = time_call(lambda: symsys.sweep(model=MODEL_KEY, hardware=HARDWARE_KEY,
                                           batch_size=batch, columns=["latency"]), repeat)
    return {"points": n, "compiled_T_s": compiled,
            "roofline_points_per_s": n / compiled["median"],
            "sweep_latency_s": swept, "sweep_latency_configs_per_s": n / swept["median"],
            "evaluate_s": evaluated, "evaluate_points_per_s": n / evaluated["median"],
            "compiled_source": fn.source.strip()}
