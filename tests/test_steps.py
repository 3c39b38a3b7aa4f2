"""Step laws are chosen by what they declare (StepRole), and any of their inputs can be given
or swept by symbol name.

The choice of the package's law for each phase and set of degrees is the one the name tables
used to hard-code (decode_tp for tensor parallelism, decode_pp for pipeline stages of
tensor-parallel groups, ...); here it follows from the fewest declared degrees covering the
request. A law registered in-process (``symsys.laws.register``) is asked for by name.
"""

import json

import numpy as np
import pytest
import sympy as sp

import symsys
from symsys import Q_
from symsys.errors import InvalidParameter
from symsys.laws import ALL, Law, StepRole, register
from symsys.solvers import steps
from symsys.solvers.options import SET_BY, STEP_OPTIONS
from symsys.solvers.sweep_result import _STANDARD
from symsys.sweeps.grid import COLUMNS
from symsys.symbols import C_mem, M, N_total, Q, R_tok, T, b, beta, bytes_w, eta_m, t_memory

#: a law of this test alone: the weights read once per step, nothing else (t = 2N / beta)
WEIGHTS_ONLY = Law(
    name="weights_only_test", title="Weights only", summary="The weights, read once per step.",
    inputs=(beta, eta_m, C_mem, N_total, bytes_w, b),
    definitions=((Q, bytes_w * N_total), (t_memory, Q / (eta_m * beta)), (T, sp.Max(t_memory)),
                 (R_tok, b / T), (M, bytes_w * N_total)),
    regimes=(("Memory", t_memory),), latency=T, rate=R_tok, footprint=M, capacity=C_mem,
    levers=(beta, b), integers=(b,), defaults={eta_m: 1}, step=StepRole("decode"))
register(WEIGHTS_ONLY)


def test_the_shipped_index_is_what_the_laws_declare():
    assert steps.package_roles() == json.loads(json.dumps(steps.roles_of_laws(ALL)))


@pytest.mark.parametrize("phase,asked,law", [
    ("decode", set(), "decode"), ("prefill", set(), "prefill"),
    ("decode", {"tensor"}, "decode_tp"), ("prefill", {"tensor"}, "prefill_tp"),
    ("decode", {"pipeline"}, "decode_pp"), ("decode", {"tensor", "pipeline"}, "decode_pp"),
    ("decode", {"expert"}, "decode_ep"), ("prefill", {"expert", "tensor"}, "prefill_ep"),
    ("decode", {"expert", "pipeline"}, "decode_ep_pp"),
])
def test_the_fewest_declared_degrees_covering_the_request(phase, asked, law):
    chosen, role = steps.choose(phase, asked)
    assert chosen.name == law and role["phase"] == phase
    assert steps.cost_law(chosen).name == f"{law}_cost"


def test_engine_solve_routes_by_the_declarations():
    r = symsys.Engine.solve("Llama3_70B", "DGX_H100", batch_size=8, seq_len=1024,
                            tensor_parallel=4, pipeline_parallel=2)
    assert r.card["law"] == "decode_pp" and r.step_output("stage") == "t_stage"
    assert r.communication_share == pytest.approx(r.raw["t_comm"] / r.raw["t_stage"])
    single = symsys.Engine.solve("Llama3_8B", "H100")
    assert single.step_output("communication") is None and single.communication_share is None


def test_a_law_asked_for_must_cover_the_degrees_and_phase():
    with pytest.raises(InvalidParameter, match="tensor_parallel > 1 needs a law that models"):
        symsys.Engine.solve("Llama3_8B", "DGX_H100", law="decode", tensor_parallel=2)
    with pytest.raises(InvalidParameter, match="is a decode step; phase='prefill'"):
        symsys.Engine.solve("Llama3_8B", "H100", law="decode_tp", phase="prefill", seq_len=8)
    with pytest.raises(InvalidParameter, match="cost-and-energy extension of 'decode'"):
        symsys.Engine.solve("Llama3_8B", "H100", law="decode_cost")
    with pytest.raises(InvalidParameter, match="no such step law.*Did you mean 'decode_tp'"):
        symsys.Engine.solve("Llama3_8B", "H100", law="decode_pt")
    with pytest.raises(InvalidParameter, match="a law of the package but not a step"):
        symsys.Engine.solve("Llama3_8B", "H100", law="roofline")


def test_the_package_law_by_name_is_the_law_it_would_choose():
    chosen = symsys.Engine.solve("Llama3_8B", "H100", seq_len=512, batch_size=4)
    named = symsys.Engine.solve("Llama3_8B", "H100", seq_len=512, batch_size=4, law="decode")
    assert named.raw == chosen.raw
    # decode_tp at one device equals the single-device law exactly (its n = 1 case)
    tp = symsys.Engine.solve("Llama3_8B", "H100", seq_len=512, batch_size=4, law="decode_tp")
    assert tp.latency.m_as("s") == pytest.approx(chosen.latency.m_as("s"), rel=1e-12)


def test_a_registered_law_solves_by_hand():
    # Llama-3-8B's 8,030,261,248 parameters in fp16 over 3.35 TB/s
    n = symsys.Models.Llama3_8B.summary["N_total"]
    r = symsys.Engine.solve("Llama3_8B", "H100", law="weights_only_test", batch_size=4)
    assert r.latency.m_as("s") == pytest.approx(2 * n / 3.35e12, rel=1e-12)
    assert r.throughput.m_as("token/s") == pytest.approx(4 / (2 * n / 3.35e12), rel=1e-12)
    assert r.mfu is None and r.flops is None  # outputs it does not define
    # its ridge point is the device's, from the roofline law
    assert r.ridge_point.m_as("FLOP/B") == pytest.approx(989.4e12 / 3.35e12, rel=1e-12)
    with pytest.raises(ValueError, match="already"):
        register(Law(name="weights_only_test", title="", summary="", inputs=(b,),
                     definitions=((T, b),)))


def test_inputs_replace_what_the_device_gives():
    base = symsys.Engine.solve("Llama3_8B", "H100", seq_len=1024, batch_size=8)
    fast = symsys.Engine.solve("Llama3_8B", "H100", seq_len=1024, batch_size=8,
                               inputs={"beta": Q_(6.7, "TB/s")})
    assert fast.latency_memory.m_as("s") == pytest.approx(base.latency_memory.m_as("s") / 2)
    assert fast.to_dict()["inputs"] == {"beta": 6.7e12}


@pytest.mark.parametrize("given,message", [
    ({"b": 3}, "b is decided by the option batch_size="),
    ({"eta_c": 0.5}, "eta_c is decided by the option efficiency="),
    ({"beta_wire": 1}, "has no input 'beta_wire'"),
    ({"beta": 3.35e12}, "beta"),  # a bandwidth needs its unit
    ({"beta": [Q_(1, "TB/s")]}, "expected one value"),
])
def test_bad_inputs_are_named(given, message):
    with pytest.raises((InvalidParameter, symsys.errors.UnitError), match=message):
        symsys.Engine.solve("Llama3_8B", "H100", inputs=given)


def test_every_option_sets_inputs_of_the_package_laws():
    inputs = {s.name for law in ALL.values() for s in law.inputs}
    assert set(SET_BY) <= inputs
    assert {o.name for o in STEP_OPTIONS} >= {"law", "inputs"}


def test_a_sweep_over_any_input_equals_the_single_solves():
    overheads = Q_([0, 5, 20], "us")
    r = symsys.sweep("Llama3_8B", "H100", batch_size=[1, 16], seq_len=2048,
                     inputs={"beta": Q_([2, 4], "TB/s"), "t_kern": overheads})
    frame = r.to_pandas()
    assert len(frame) == 12 and set(frame["beta [B/s]"]) == {2e12, 4e12}
    for _, row in frame.iterrows():
        one = symsys.Engine.solve("Llama3_8B", "H100", batch_size=int(row.batch_size),
                                  seq_len=2048, inputs={"beta": Q_(row["beta [B/s]"], "B/s")})
        assert one.latency_memory.m_as("s") == pytest.approx(row["latency_memory [s]"])


def test_a_sweep_leaves_out_default_columns_a_law_lacks_and_names_asked_ones():
    r = symsys.sweep("Llama3_8B", "H100", law="weights_only_test", batch_size=[1, 2])
    assert "arithmetic_intensity" not in r.names and "latency" in r.names
    assert np.allclose(r.columns["latency"].m_as("s"), r.columns["latency"].m_as("s")[0])
    with pytest.raises(InvalidParameter, match="weights_only_test law has no output for 'flops'"):
        symsys.sweep("Llama3_8B", "H100", law="weights_only_test", columns=["flops"])


def test_swept_inputs_cannot_shadow_a_column_or_an_axis():
    with pytest.raises(InvalidParameter, match="swept by peak= already"):
        symsys.sweep("Llama3_8B", "H100", peak=Q_([1, 2], "PFLOP/s"),
                     inputs={"Pi": Q_([1, 2], "PFLOP/s")})


def test_the_table_knows_every_standard_column():
    assert set(COLUMNS) <= _STANDARD


def test_a_sweep_takes_the_inputs_of_options_it_does_not_sweep():
    # overhead is no sweep option: its input t_o is swept by name, and adds to the latency
    r = symsys.sweep("Llama3_8B", "H100", seq_len=1024, inputs={"t_o": Q_([0, 5], "us")})
    latency = r.columns["latency"].m_as("s")
    assert latency[1] - latency[0] == pytest.approx(5e-6, rel=1e-9)
    one = symsys.Engine.solve("Llama3_8B", "H100", seq_len=1024, overhead=Q_(5, "us"))
    assert latency[1] == pytest.approx(one.latency.m_as("s"), rel=1e-12)
    with pytest.raises(InvalidParameter, match="decided by the option batch_size="):
        symsys.sweep("Llama3_8B", "H100", inputs={"b": [1, 2]})
