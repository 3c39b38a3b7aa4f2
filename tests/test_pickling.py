"""Every public result type pickles and deep-copies, and answers the same afterwards.

Dask workers and multiprocessing pools move results between processes by pickle; notebooks
deep-copy them. Each case below builds one result through the public API; each is sent
through ``pickle`` (the default protocol and the highest) and ``copy.deepcopy``, and the copy
must give the same answers as the original: latency, regime, feasibility, ``to_dict()``,
its text, and figures that need its law's kernels again (obtained afresh by name). A test
checks that the cases cover every result class symsys defines, so a new result type without a
case fails here; another sends results through a real spawn process pool, as users do.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import importlib
import inspect
import multiprocessing
import pickle
import pkgutil
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import symsys
from symsys import Q_
from symsys.calibration import CalibrationProfile, profile_for
from symsys.laws import Law, get
from symsys.laws.base import Derived
from symsys.solvers.evaluate import LawResult
from symsys.solvers.result import Result
from symsys.solvers.sweep_result import SweepResult
from symsys.sweeps import reduce
from symsys.symbols import F, Pi, Q, T, beta, eta_c, eta_m, t_compute, t_memory

# a user's law, with a derived result made by Derived.balance (a closure inside symsys)
F_even = symsys.declare("F_even", r"F_{\mathrm{even}}", "FLOP",
                        "work at which a step's compute and memory times are equal")
TWO_WALLS = Law(
    name="two_walls_pickle_test", title="Compute or memory",
    summary="A step bounded by its compute and its memory traffic.",
    inputs=(Pi, beta, eta_c, eta_m, F, Q),
    definitions=((t_compute, F / (eta_c * Pi)), (t_memory, Q / (eta_m * beta)),
                 (T, sp.Max(t_compute, t_memory))),
    derived=(Derived.balance(F_even, t_compute, t_memory, F),),
    regimes=(("Compute", t_compute), ("Memory", t_memory)),
    latency=T, levers=(Pi, beta), defaults={eta_c: 1, eta_m: 1},
)
ROUND_TRIPS = {
    "pickle": lambda result: pickle.loads(pickle.dumps(result)),
    "pickle-highest": lambda result: pickle.loads(pickle.dumps(result, pickle.HIGHEST_PROTOCOL)),
    "deepcopy": copy.deepcopy,
}


# --- the cases: one builder per result (and per way of making one) --------------------------
CASES = {}


def case(build):
    """Register ``build`` as a case, built once per test session (see :func:`built`)."""
    CASES[build.__name__] = build
    return build


@functools.cache
def built(name: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # BeyondMaxContext and friends: not the subject here
        return CASES[name]()


def two_walls(**override):
    given = dict(F=Q_(1, "TFLOP"), Q=Q_(10, "GB"))
    return symsys.bind(TWO_WALLS, "H100", **{**given, **override})


def a_sweep():
    return symsys.sweep("Llama3_8B", ["H100", "A100"], batch_size=[1, 8, 64, 512],
                        seq_len=[0, 4096], precision=["fp16", "fp8"])


@case
def engine_decode():
    return symsys.Engine.solve("Llama3_8B", "H100", batch_size=8, seq_len=1024)


@case
def engine_infeasible():
    return symsys.Engine.solve("Llama3_70B", "H100", batch_size=64, seq_len=8192)


@case
def engine_tensor_parallel_calibrated():
    return symsys.Engine.solve("Llama3_70B", "DGX_H100", batch_size=8, seq_len=1024,
                               tensor_parallel=8, efficiency="calibrated")


@case
def cost():
    return symsys.CostModel().solve("Llama3_8B", "H100", batch_size=64, seq_len=1024)


@case
def serving():
    return symsys.ServingModel().solve("Llama3_8B", "H100", prompt_len=1024, output_len=128,
                                       batch_size=4)


@case
def sensitivity():
    return symsys.SensitivitySolver().solve("Llama3_8B", "H100", batch_size=8)


@case
def synthesis():
    return symsys.SynthesisSolver().solve("Llama3_8B", "H100", target=Q_(3, "ms"))


@case
def weight_streaming():
    return symsys.WeightStreamingModel().solve(model="GPT3", hardware="Cerebras_CS3",
                                               seq_len=2048, batch_size=1)


def _training():
    return symsys.TrainingModel().solve("Megatron_GPT_175B", "DGX_A100", global_batch_size=64,
                                        seq_len=2048, tensor_parallel=8, pipeline_parallel=8)


@case
def training():
    return _training()


@case
def training_design():
    return _training().microbatches_for_bubble(0.05)


@case
def training_configurations():
    return symsys.TrainingModel().configurations("Megatron_GPT_175B", "DGX_A100", devices=64,
                                                 global_batch_size=64, seq_len=2048)


@case
def user_law_solve():
    return two_walls().solve()


@case
def user_law_sensitivities():
    return two_walls().sensitivities()


@case
def user_law_synthesis():
    return two_walls().synthesize(Q_(2, "ms"), "memory_bandwidth")


@case
def user_law_sweep():
    return two_walls().sweep(Q=Q_([1, 10, 100], "GB"), F=Q_([1, 100], "TFLOP"))


@case
def package_law_bound():
    return symsys.bind(get("roofline"), "H100", F=Q_(16, "GFLOP"), Q=Q_(16, "GB")).solve()


@case
def evaluate_scalar():
    return symsys.evaluate("roofline", Pi=Q_(989.4, "TFLOP/s"), beta=Q_(3.35, "TB/s"),
                           F=Q_(16.06, "GFLOP"), Q=Q_(16.06, "GB"))


@case
def evaluate_arrays():
    return symsys.evaluate("weight_streaming", **_streaming_inputs())


def _streaming_inputs() -> dict:
    inputs = weight_streaming_scenario_inputs()
    inputs["b"] = np.array([1.0, 4.0, 64.0])
    return inputs


def weight_streaming_scenario_inputs() -> dict:
    """The inputs of the weight-streaming law of a real scenario, as Quantities."""
    scenario = built("weight_streaming").scenario
    units = scenario.card["units"]
    return {name: Q_(value, units[name]) for name, value in scenario.values.items()}


@case
def sweep():
    return a_sweep()


@case
def sweep_tensor_parallel():
    return symsys.sweep("Llama3_70B", ["DGX_H100"], batch_size=[1, 8, 64],
                        tensor_parallel=[1, 2, 4, 8])


@case
def sweep_chunk():
    *_, last = symsys.sweep("Llama3_8B", ["H100", "A100"], batch_size=[1, 8, 64, 512],
                            chunk_size=4)
    return last  # its rows carry their numbers in the whole sweep


@case
def best():
    return reduce.best(a_sweep(), "throughput", per=("hardware",))


@case
def pareto():
    return reduce.pareto(a_sweep(), {"latency": "min", "throughput": "max"})


@case
def top_k():
    return reduce.top_k(a_sweep(), 3)


@case
def feasible_count():
    return reduce.feasible_count(a_sweep(), per=("hardware",))


@case
def histogram():
    return reduce.histogram(a_sweep(), "latency", Q_([0, 2, 5, 10, 100], "ms"))


@case
def dask_sweep():
    pytest.importorskip("distributed")
    return symsys.sweep("Llama3_8B", ["H100"], batch_size=range(1, 1001), backend="dask",
                        chunk_size=100)


@case
def calibration_profile():
    return profile_for("H100", "fp16")


@case
def calibration_fit():
    from symsys.calibration import calibrate, load_vidur

    return calibrate(load_vidur()["H100"], law="roofline")


@case
def validation_reports():
    from symsys.accuracy import multi_gpu
    from symsys.accuracy import training as training_accuracy
    from symsys.calibration import validation

    return {"multi_gpu": multi_gpu.report(),
            "training": training_accuracy.report(), "calibration": validation.report()}


# --- what a result answers -------------------------------------------------------------------
def plain(value):
    """Quantities as (magnitude, unit); containers element by element; the rest as is."""
    if hasattr(value, "units"):
        return (np.asarray(value.magnitude).tolist(), f"{value.units:~P}")
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value))
    return value


def answers(result) -> dict:
    """What a user reads from ``result``, as plain data (see the module docstring)."""
    for kind, read in ANSWERS.items():
        if isinstance(result, kind):
            return {"type": type(result).__name__, **read(result)}
    return {"type": type(result).__name__, "value": plain(result)}


def result_answers(r: Result, derivation: bool = True) -> dict:
    out = {"to_dict": r.to_dict(), "latency": plain(r.latency), "regime": r.regime,
           "feasible": r.feasible, "reason": r.reason, "text": str(r), "repr": repr(r)}
    if derivation:  # the law's LaTeX with this case's numbers (needs sympy: the slow part)
        out["derivation"] = r.derivation()
    for name in ("max_batch_size_exact", "crossover_batch_exact", "optimal_batch_size",
                 "operating_batch", "value", "binding_constraint", "mfu"):
        if hasattr(type(r), name):  # figures that call the law's kernels again
            out[name] = plain(getattr(r, name))
    return out


def sweep_answers(r: SweepResult) -> dict:
    return {"to_dict": r.to_dict(), "names": r.names, "rows": len(r),
            "row_index": r.row_index().tolist(), "table": r.table(),
            "latency": plain(r["latency"]) if "latency" in r.names else None,
            "feasible": r["feasible"].tolist() if "feasible" in r.names else None}


def law_result_answers(r: LawResult) -> dict:
    return {name: plain(value) if name != "regime" else np.asarray(value).tolist()
            for name, value in r.items()}


def dask_answers(r) -> dict:
    return {"repr": repr(r), "rows": len(r), "blocks": r.blocks, "skipped": r.skipped,
            "shapes": [plan.shape for plan in r.plans], "scheduler": r.scheduler}


def design_answers(r) -> dict:
    return {"question": r.question, "exact": r.exact, "whole": r.whole, "reason": r.reason,
            "feasible": r.feasible, "repr": repr(r), "result": r.result.to_dict()}


def _answers_table() -> dict:
    from symsys.solvers.training_design import Design
    from symsys.sweeps.on_dask import DaskSweep
    from symsys.sweeps.reduce import HistogramResult

    return {Result: result_answers, SweepResult: sweep_answers, LawResult: law_result_answers,
            DaskSweep: dask_answers, Design: design_answers,
            HistogramResult: lambda r: {"counts": r.counts.tolist(), "edges": plain(r.edges),
                                        "column": r.column},
            CalibrationProfile: lambda r: {"fields": plain(r), "repr": repr(r)}}


ANSWERS = _answers_table()


# --- the tests -------------------------------------------------------------------------------
@pytest.mark.parametrize("how", list(ROUND_TRIPS))
@pytest.mark.parametrize("name", list(CASES))
def test_round_trip_gives_the_same_answers(name, how):
    original = built(name)
    expected = answers(original)
    clone = ROUND_TRIPS[how](original)
    assert clone is not original and type(clone) is type(original)
    np.testing.assert_equal(answers(clone), expected)
    np.testing.assert_equal(answers(original), expected)  # and the original is unchanged


def result_types() -> set:
    """Every result class symsys defines: Result and its subclasses, every class of a solver,
    sweep or accuracy module named ``*Result``, and the other types the public solvers
    return."""
    import symsys.accuracy
    import symsys.sweeps
    from symsys.solvers.training_design import Design
    from symsys.sweeps.on_dask import DaskSweep

    modules = [importlib.import_module(f"{package.__name__}.{info.name}")
               for package in (symsys.solvers, symsys.sweeps, symsys.accuracy)
               for info in pkgutil.iter_modules(package.__path__)]
    found = {Result, SweepResult, LawResult, DaskSweep, Design, CalibrationProfile}
    pending = [Result]
    while pending:
        for sub in pending.pop().__subclasses__():
            if sub.__module__.startswith("symsys."):
                found.add(sub)
                pending.append(sub)
    for module in modules:
        found |= {cls for name, cls in inspect.getmembers(module, inspect.isclass)
                  if cls.__module__ == module.__name__ and name.endswith("Result")}
    return found


def test_the_cases_cover_every_result_type():
    covered = {type(built(name)) for name in CASES}
    missing = sorted(cls.__qualname__ for cls in result_types() - covered)
    assert not missing, f"result types without a pickling case: {missing}"
    assert len(result_types()) >= 14  # Result and its 7 subclasses, sweeps, laws, designs...


def test_a_known_answer_survives():
    """The answers compared are real numbers: the CLI's golden H100 decode step (16.06 GB of
    weights over 3.35 TB/s), after a trip."""
    clone = pickle.loads(pickle.dumps(symsys.Engine.solve("Llama3_8B", "H100")))
    assert clone.regime == "Memory" and clone.feasible
    assert clone.latency.m_as("s") == pytest.approx(4.48059e-3, rel=1e-5)
    assert clone.to_dict()["memory_footprint"] == pytest.approx(16.0607e9, rel=1e-4)
    swept = pickle.loads(pickle.dumps(built("sweep")))
    # 2 devices x 4 batches x 2 contexts x 2 precisions, less A100's 8 (it has no fp8)
    assert len(swept) == 32 - 8 and any("A100" in s and "fp8" in s for s in swept.skipped)
    assert set(swept["bottleneck"]) == {"Memory", "Compute"}


def test_a_package_law_comes_back_as_the_registered_law():
    clone = pickle.loads(pickle.dumps(built("package_law_bound")))
    assert clone.scenario.law is get("roofline")
    assert pickle.loads(pickle.dumps(built("evaluate_scalar"))).law is get("roofline")
    user = pickle.loads(pickle.dumps(built("user_law_solve"))).scenario.law
    assert user is not TWO_WALLS and user.name == TWO_WALLS.name  # a user's law, by value
    assert user.derived[0].build(user) == TWO_WALLS.derived[0].build(TWO_WALLS)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(["Llama3_8B", "Llama3_70B", "Mixtral_8x7B"]),
       st.sampled_from(["H100", "A100", "B200", "MI300X"]), st.integers(1, 1024),
       st.integers(1, 16384), st.sampled_from(["decode", "prefill"]))
def test_any_solve_round_trips(model, hardware, batch, context, phase):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = symsys.Engine.solve(model, hardware, batch_size=batch, seq_len=context,
                                     phase=phase)
        expected = result_answers(result, derivation=False)
        for trip in ROUND_TRIPS.values():
            np.testing.assert_equal(result_answers(trip(result), derivation=False), expected)
    assert expected["latency"][1] == "s" and expected["to_dict"]["batch_size"] == batch


def test_a_dask_sweep_given_a_client_pickles_as_its_scheduler_address():
    """A client belongs to its process: the copy connects to the same scheduler again."""
    distributed = pytest.importorskip("distributed")
    from symsys.sweeps import on_dask

    with (distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                   dashboard_address=None) as cluster,
          distributed.Client(cluster) as client):
        lazy = symsys.sweep("Llama3_8B", ["H100", "A100"], batch_size=range(1, 257),
                            backend="dask", scheduler=client, chunk_size=64)
        expected = sweep_answers(reduce.best(lazy, per=("hardware",)))
        for trip in ROUND_TRIPS.values():
            clone = trip(lazy)
            assert clone.scheduler == cluster.scheduler_address and lazy.scheduler is client
            np.testing.assert_equal(sweep_answers(reduce.best(clone, per=("hardware",))),
                                    expected)
        on_dask._CLIENTS.pop(cluster.scheduler_address).close()
    assert expected["rows"] == 2 and set(expected["to_dict"]["columns"]["hardware"]) == {
        "H100", "A100"}


@pytest.mark.slow  # two spawned interpreters
def test_results_cross_a_spawn_process_pool():
    """Results made in worker processes come back whole, and results sent to them answer
    there (a fresh process: kernels found again by name) as they do here."""
    local = [built(name) for name in ("engine_decode", "sweep", "user_law_solve",
                                      "evaluate_scalar", "training")]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        solved = pool.submit(symsys.Engine.solve, "Llama3_8B", "H100", batch_size=8,
                             seq_len=1024)
        swept = pool.submit(symsys.sweep, "Llama3_8B", ["H100", "A100"],
                            batch_size=[1, 8, 64, 512], seq_len=[0, 4096],
                            precision=["fp16", "fp8"])
        there = list(pool.map(answers, local))
        echoed = list(pool.map(copy.deepcopy, local))
    np.testing.assert_equal(answers(solved.result()), answers(built("engine_decode")))
    np.testing.assert_equal(answers(swept.result()), answers(built("sweep")))
    np.testing.assert_equal(there, [answers(r) for r in local])
    np.testing.assert_equal([answers(r) for r in echoed], there)
