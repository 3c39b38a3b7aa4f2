"""Sweeps over tensor-parallel degrees: ``symsys.sweep(..., tensor_parallel=[1, 2, 4, 8])``
and ``symsys sweep ... --tp 1,2,4,8``. Rows equal ``Engine.solve(..., tensor_parallel=n)``;
degree 1 equals the single-device sweep; the degrees ``Engine.solve`` refuses are infeasible
rows with its reason; the Dask path and the reducers see the same rows."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import symsys
from symsys.cli import main
from symsys.errors import InvalidParameter
from symsys.sweeps import reduce

REL = 1e-12
#: result column -> the Engine.solve result attribute it equals
SAME = {"latency": "latency", "memory_footprint": "memory_footprint",
        "throughput": "throughput", "latency_compute": "latency_compute",
        "latency_memory": "latency_memory"}


def _m(column):
    return np.asarray(getattr(column, "magnitude", column), dtype=float)


def _close(a, b, rel=REL):
    a, b = float(a), float(b)
    assert abs(a - b) <= rel * max(abs(a), abs(b)), (a, b)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # contexts beyond a model's trained length
        yield


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


# --- rows equal Engine.solve -----------------------------------------------------------------
@pytest.mark.parametrize("model, hardware, phase, seqs", [
    ("Llama3_70B", "DGX_H100", "decode", [0, 4096]),
    ("Llama3_8B", "H100", "decode", [1000]),
    ("Mixtral_8x7B", "H200", "decode", [2048]),  # experts: not the dense kernel variant
    ("Llama3_70B", "DGX_H100", "prefill", [512]),
])
def test_rows_equal_engine_solve_with_tensor_parallel(model, hardware, phase, seqs):
    degrees, batches = [1, 2, 4, 8], [1, 8, 64]
    r = symsys.sweep(model, hardware, tensor_parallel=degrees, batch_size=batches,
                     seq_len=seqs, phase=phase)
    assert len(r) == len(degrees) * len(batches) * len(seqs)
    for i in range(len(r)):
        n, b, s = int(r.tensor_parallel[i]), int(r.batch_size[i]), int(r.seq_len[i])
        solved = symsys.Engine.solve(model, hardware, tensor_parallel=n, batch_size=b,
                                     seq_len=s, phase=phase)
        assert ("t_comm" in solved.raw) == (n > 1)
        for column, attribute in SAME.items():
            _close(_m(r[column])[i], _m(getattr(solved, attribute).to(r[column].units)))
        # the law's communication time (seconds); the single-device law at n = 1 has none
        _close(_m(r.latency_communication)[i], solved.raw.get("t_comm", 0.0))
        assert r.latency_communication.units == symsys.ureg.s
        assert r.feasible[i] == solved.feasible
        assert r.bottleneck[i] == solved.bottleneck
        assert r.reason[i] == ("" if solved.feasible else
                               "memory footprint per device exceeds the capacity")
        share = _m(r.latency_communication)[i] / _m(r.latency)[i]
        _close(r.communication_share[i], share)


def test_degree_one_rows_equal_the_single_device_sweep():
    grid = dict(model=["Llama3_8B", "Llama3_70B", "Mixtral_8x7B"], hardware=["H100", "B200"],
                batch_size=[1, 7, 64, 512], seq_len=[0, 100, 4096])
    parallel = symsys.sweep(**grid, tensor_parallel=[1, 2, 8])
    single = symsys.sweep(**grid)
    one = parallel.tensor_parallel == 1
    assert one.sum() == len(single)
    for column in ("latency", "throughput", "memory_footprint", "flops", "bytes",
                   "latency_compute", "latency_memory", "arithmetic_intensity"):
        np.testing.assert_allclose(_m(parallel[column])[one], _m(single[column]), rtol=REL,
                                   atol=0)
    for column in ("model", "hardware", "batch_size", "seq_len", "feasible", "bottleneck"):
        np.testing.assert_array_equal(np.asarray(parallel[column])[one],
                                      np.asarray(single[column]))
    assert not _m(parallel.latency_communication)[one].any()


def test_an_axis_of_degree_one_is_the_single_device_law_with_no_communication():
    # M2_Ultra has no device-to-device link: degree 1 needs none
    r = symsys.sweep("Llama3_8B", ["M2_Ultra", "H100"], tensor_parallel=1, batch_size=[1, 8])
    single = symsys.sweep("Llama3_8B", ["M2_Ultra", "H100"], batch_size=[1, 8])
    np.testing.assert_array_equal(_m(r.latency), _m(single.latency))
    assert (r.tensor_parallel == 1).all() and not _m(r.latency_communication).any()
    assert "tensor_parallel" not in single.names and "reason" not in single.names


# --- degrees Engine.solve refuses ------------------------------------------------------------
def test_degrees_the_kv_heads_or_the_fast_domain_forbid_are_infeasible_with_the_reason():
    r = symsys.sweep("Llama3_70B", ["H100", "DGX_H100"], tensor_parallel=[3, 8, 16],
                     batch_size=[1, 4])
    assert all(np.isfinite(_m(r[c])).all() for c in ("latency", "memory_footprint",
                                                     "latency_communication"))
    for i in range(len(r)):
        n, hw, b = int(r.tensor_parallel[i]), str(r.hardware[i]), int(r.batch_size[i])
        try:
            solved = symsys.Engine.solve("Llama3_70B", hw, tensor_parallel=n, batch_size=b)
        except InvalidParameter as exc:  # the sweep keeps the row, with Engine's reason
            assert not r.feasible[i]
            assert r.reason[i] == str(exc)
            continue
        assert r.feasible[i] == solved.feasible and r.reason[i] == ""
        _close(_m(r.latency)[i], solved.latency.m_as("s"))
    reasons = set(r.reason.tolist())
    assert any("8 K/V heads" in x and x.startswith("tensor_parallel=3") for x in reasons)
    assert any("DGX_H100" in x and "at most 8 devices" in x for x in reasons)
    # 16 on a device with no domain limit: each device keeps a copy of one K/V head
    sixteen = (r.tensor_parallel == 16) & (r.hardware == "H100")
    assert r.feasible[sixteen].all()
    text = r.table()
    assert "infeasible: tensor_parallel=3: Llama3_70B has 8 K/V heads" in text
    assert "infeasible: tensor_parallel=16: DGX_H100's" in text


def test_hardware_without_a_link_is_an_error_naming_it():
    with pytest.raises(InvalidParameter, match=r"M2_Ultra has no device-to-device link.*"
                                                r"tensor_parallel=1 only.*system"):
        symsys.sweep("Llama3_8B", ["H100", "M2_Ultra"], tensor_parallel=[1, 2])


def test_fixed_workloads_and_bad_degrees_are_errors():
    with pytest.raises(InvalidParameter, match="ResNet50 is a fixed workload"):
        symsys.sweep(["Llama3_8B", "ResNet50"], "H100", tensor_parallel=[1, 2])
    assert len(symsys.sweep(["Llama3_8B", "ResNet50"], "H100", tensor_parallel=1)) == 2
    for bad in (0, [1, -2], [1.5], "2"):
        with pytest.raises(InvalidParameter, match="tensor_parallel"):
            symsys.sweep("Llama3_8B", "H100", tensor_parallel=bad)
    with pytest.raises(InvalidParameter, match="tensor_parallel=.1, 2, 4, 8."):
        symsys.sweep("Llama3_8B", "H100", columns=["latency", "latency_communication"])


# --- cost, reducers, Dask ----------------------------------------------------------------------
def test_cost_counts_the_group_of_devices():
    r = symsys.sweep("Llama3_70B", "DGX_H100", tensor_parallel=[1, 2, 8], batch_size=[1, 64],
                     seq_len=4096, columns=["latency", "throughput", "cost_per_token",
                                            "energy_per_token", "feasible"])
    price = symsys.Hardware.get("H100").cloud_price.hourly.m_as("USD/s")
    for i in range(len(r)):
        n, b = int(r.tensor_parallel[i]), int(r.batch_size[i])
        cost = symsys.CostModel().solve("Llama3_70B", "DGX_H100", tensor_parallel=n,
                                        batch_size=b, seq_len=4096)
        _close(_m(r.cost_per_token)[i], cost.cost_per_token.m_as("USD/token"))
        _close(_m(r.energy_per_token)[i], cost.energy_per_token.m_as("J/token"))
        _close(_m(r.cost_per_token)[i], n * price / _m(r.throughput)[i])


def test_reducers_see_the_degree():
    r = symsys.sweep(["Llama3_8B", "Llama3_70B"], ["H100", "DGX_H100"],
                     tensor_parallel=[1, 2, 3, 4, 8, 16], batch_size=np.arange(1, 257),
                     seq_len=[0, 4096])
    best = reduce.best(r, by="throughput", per=("model", "hardware"))
    assert set(best.to_dict()["columns"]) >= {"tensor_parallel", "reason",
                                              "latency_communication"}
    # the fastest feasible configuration of DGX_H100 stays in its 8-GPU domain
    for i in range(len(best)):
        assert best.reason[i] == ""
        if best.hardware[i] == "DGX_H100":
            assert best.tensor_parallel[i] <= 8
    capped = reduce.best(r, by="throughput", per="model",
                         where=["feasible", "tensor_parallel <= 4", "latency <= 20 ms"])
    assert (np.asarray(capped.tensor_parallel) <= 4).all()
    front = reduce.pareto(r, {"latency": "min", "throughput": "max"})
    assert (np.asarray(front.feasible)).all()
    top = reduce.top_k(r, 5, by="communication_share", sense="max", where=None)
    assert len(top) == 5 and (np.asarray(top.tensor_parallel) > 1).all()
    counts = reduce.feasible_count(r, per=("model", "reason"), where=None).to_dict()
    assert any(x.startswith("tensor_parallel=3") for x in counts["columns"]["reason"])


GRID = dict(model=["Llama3_8B", "Llama3_70B"], hardware=["H100", "DGX_H100"],
            tensor_parallel=[1, 2, 3, 8, 16], batch_size=np.arange(1, 100, 7), seq_len=[0, 2048],
            bandwidth=symsys.Q_([3.35, 8], "TB/s"))


def test_dask_path_equals_the_local_sweep(client):
    whole = symsys.sweep(**GRID)
    lazy = symsys.sweep(**GRID, backend="dask", scheduler=client, chunk_size=300)
    assert len(lazy) == len(whole) == 2 * 2 * 5 * 15 * 2 * 2 and lazy.blocks > 2
    computed = lazy.compute()
    assert computed.names == whole.names
    for name in whole.names:
        np.testing.assert_array_equal(np.asarray(getattr(computed[name], "magnitude",
                                                         computed[name])),
                                      np.asarray(getattr(whole[name], "magnitude",
                                                         whole[name])))


@pytest.mark.parametrize("reduction", [
    lambda s: reduce.best(s, by="throughput", per=("model", "hardware")),
    lambda s: reduce.pareto(s, {"latency": "min", "throughput": "max",
                                "tensor_parallel": "min"}),
    lambda s: reduce.top_k(s, 9, by="latency", where=["feasible", "tensor_parallel >= 2"]),
    lambda s: reduce.feasible_count(s, per=("hardware", "reason"), where=None),
])
def test_reducers_agree_on_the_result_its_chunks_and_dask(client, reduction):
    whole = reduction(symsys.sweep(**GRID)).to_dict()
    chunks = reduction(symsys.sweep(**GRID, chunk_size=500)).to_dict()
    lazy = reduction(symsys.sweep(**GRID, backend="dask", scheduler=client,
                                  chunk_size=300)).to_dict()
    assert whole == chunks == lazy


# --- the command line --------------------------------------------------------------------------
def test_cli_tp_axis(capsys):
    assert main(["sweep", "Llama3_70B", "H100", "DGX_H100", "--tp", "1,2,4,8",
                 "--batch", "1,8,64"]) == 0
    text = capsys.readouterr().out
    assert "tensor_parallel" in text.splitlines()[0] and "latency_communication" in text
    assert main(["sweep", "Llama3_70B", "H100,DGX_H100", "--tp", "1,2,4,8", "--batch",
                 "1,8,64", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    columns = data["columns"]
    assert data["rows"] == 2 * 4 * 3
    assert columns["tensor_parallel"] == [n for _ in range(2) for n in (1, 2, 4, 8)
                                          for _ in range(3)]
    assert sorted(set(columns["hardware"])) == ["DGX_H100", "H100"]
    assert data["units"]["latency_communication"] == "s"
    solved = symsys.Engine.solve("Llama3_70B", "DGX_H100", tensor_parallel=8, batch_size=64)
    _close(columns["latency"][-1], solved.latency.m_as("s"))
    _close(columns["memory_footprint"][-1], solved.memory_footprint.m_as("B"))


def test_cli_tp_with_a_reduction_and_a_linkless_device(capsys):
    assert main(["sweep", "Llama3_70B", "DGX_H100", "--tp", "1:17", "-b", "1:65",
                 "--best", "throughput", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    (best,) = data["reductions"].values()
    assert best["columns"]["tensor_parallel"] == [8]
    assert main(["sweep", "Llama3_8B", "M2_Ultra", "--tp", "1,2"]) == 1
    assert "M2_Ultra has no device-to-device link" in capsys.readouterr().err
