"""Design-space exploration: sweep axes (precisions, hypothetical hardware), the reducers
(best, Pareto, top-k, counts, histograms) on results, chunks and Dask, and the CLI's files."""

from __future__ import annotations

import csv
import sys

import numpy as np
import pytest

import symsys
from symsys.errors import InvalidParameter, UnitError
from symsys.solvers.sweep_result import SweepResult
from symsys.sweeps import reduce

Q_ = symsys.Q_
GRID = dict(model=["Llama3_8B", "Llama3_70B", "ResNet50"], hardware=["H100", "TPUv5p"],
            batch_size=np.arange(1, 130, 4), seq_len=[0, 4096], weight_precision=["fp16", "int4"],
            bandwidth=Q_([2, 3.35, 8], "TB/s"), capacity=Q_([80, 192], "GiB"))


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def _magnitudes(column):
    return np.asarray(getattr(column, "magnitude", column))


# --- the Dask path equals the numpy path ------------------------------------------------------
def test_dask_sweep_equals_the_numpy_sweep_exactly(client):
    whole = symsys.sweep(**GRID)
    lazy = symsys.sweep(**GRID, backend="dask", scheduler=client, chunk_size=1000)
    # transformers: 2 models x 4 variants x 3 x 2 x 33 batches x 2 contexts; ResNet50 none
    assert len(lazy) == len(whole) == 2 * 4 * 3 * 2 * 33 * 2 + 1 * 4 * 3 * 2 * 33
    assert lazy.blocks > 2  # cut into several blocks
    computed = lazy.compute()
    assert computed.names == whole.names
    for name in whole.names:
        np.testing.assert_array_equal(_magnitudes(computed[name]), _magnitudes(whole[name]))


@pytest.mark.parametrize("reduction", [
    lambda s: reduce.best(s, by="throughput", per=("model", "hardware")),
    lambda s: reduce.best(s, by="latency", per="model", where=["feasible", "latency <= 20 ms"]),
    lambda s: reduce.pareto(s, {"latency": "min", "throughput": "max"}),
    lambda s: reduce.pareto(s, {"latency": "min", "throughput": "max", "bandwidth": "min"}),
    lambda s: reduce.top_k(s, 7, by="latency", where=None),
    lambda s: reduce.feasible_count(s, per=("model", "weight_precision")),
])
def test_reductions_agree_on_a_result_its_chunks_and_dask(client, reduction):
    whole = reduction(symsys.sweep(**GRID)).to_dict()
    assert whole["rows"] > 0
    assert reduction(symsys.sweep(**GRID, chunk_size=700)).to_dict() == whole
    lazy = symsys.sweep(**GRID, backend="dask", scheduler=client, chunk_size=500)
    assert reduction(lazy).to_dict() == whole


def test_reductions_over_a_mapping_of_dask_arrays():
    da = pytest.importorskip("dask.array")
    r = symsys.sweep(**GRID)
    columns = {"model": da.from_array(np.asarray(r.model), chunks=1000),
               "latency": da.from_array(r.latency.m_as("s"), chunks=1000),
               "throughput": da.from_array(_magnitudes(r.throughput), chunks=1000),
               "feasible": da.from_array(np.asarray(r.feasible), chunks=1000)}
    lazy = reduce.best(columns, by="latency", per="model")
    eager = reduce.best(r, by="latency", per="model")
    assert list(lazy["row"]) == list(eager["row"])
    np.testing.assert_array_equal(_magnitudes(lazy["latency"]), eager.latency.m_as("s"))


def test_histogram_counts_every_selected_row_once(client):
    edges = Q_([0, 2, 5, 10, 20, 50, 1000], "ms")
    h = reduce.histogram(symsys.sweep(**GRID), "latency", edges)
    lazy = reduce.histogram(symsys.sweep(**GRID, backend="dask", scheduler=client,
                                         chunk_size=600), "latency", edges)
    np.testing.assert_array_equal(h.counts, lazy.counts)
    r = symsys.sweep(**GRID)
    by_hand = np.histogram(r.latency.m_as("ms"), edges.m_as("ms"))[0]
    np.testing.assert_array_equal(h.counts, by_hand)
    assert h.edges.units == symsys.ureg.s


# --- the reducers, checked by hand --------------------------------------------------------------
def _five():
    # latency (min) and throughput (max): B beats A on both; C and D tie exactly (D later);
    # E is slowest and has the most throughput
    return SweepResult.from_rows(
        {"model": ["A", "B", "C", "D", "E"], "latency": [3.0, 2.0, 4.0, 4.0, 9.0],
         "throughput": [10.0, 20.0, 30.0, 30.0, 50.0], "cost": [5.0, 9.0, 1.0, 1.0, 1.0],
         "feasible": [True, True, True, True, True]},
        {"latency": "ms", "throughput": "token/s"})


def test_pareto_front_of_five_points_by_hand():
    front = reduce.pareto(_five())
    assert list(front["model"]) == ["B", "C", "E"]  # A dominated by B, D a later tie of C
    np.testing.assert_array_equal(front.latency.m_as("ms"), [2, 4, 9])
    assert list(front["row"]) == [1, 2, 4]
    # three objectives: cost makes A... still dominated by B? no: A costs less than B
    three = reduce.pareto(_five(), {"latency": "min", "throughput": "max", "cost": "min"})
    assert list(three["model"]) == ["B", "A", "C", "E"]
    assert list(reduce.boundary(_five(), ("latency", "cost"))["model"]) == ["B", "A", "C"]


def test_best_top_k_and_counts_by_hand():
    five = _five()
    assert list(reduce.best(five, by="throughput", per=())["model"]) == ["E"]
    assert list(reduce.best(five, by="latency", per="model")["model"]) == list("ABCDE")
    # ties go to the lowest row: C before D
    assert list(reduce.best(five, by="cost", per=())["model"]) == ["C"]
    assert list(reduce.top_k(five, 3, by="latency")["model"]) == ["B", "A", "C"]
    assert list(reduce.top_k(five, 2, by="throughput")["model"]) == ["E", "C"]
    counted = reduce.feasible_count(five, where="latency <= 4 ms")
    assert (int(counted["configurations"][0]), int(counted["count"][0])) == (5, 4)


def test_front_thins_large_inputs_exactly():
    rng = np.random.default_rng(7)
    points = rng.random((50_000, 2)).round(3)  # many exact ties
    index = np.arange(len(points))
    fast = reduce.front(points, index)
    slow = reduce._exact_front(points, index)
    np.testing.assert_array_equal(np.sort(fast), slow)
    points3 = rng.random((30_000, 3)).round(2)
    np.testing.assert_array_equal(np.sort(reduce.front(points3, index[:30_000])),
                                  reduce._exact_front(points3, index[:30_000]))


def test_best_per_model_is_the_best_row_of_each_model():
    r = symsys.sweep(["Llama3_8B", "Mixtral_8x7B"], ["H200", "B200"], batch_size=range(1, 600))
    found = reduce.best(r, by="throughput", per="model")
    assert list(found.model) == ["Llama3_8B", "Mixtral_8x7B"]
    for model, throughput in zip(found.model, _magnitudes(found.throughput)):
        mine = (np.asarray(r.model) == model) & np.asarray(r.feasible)
        assert throughput == _magnitudes(r.throughput)[mine].max()


def test_where_conditions_name_bad_columns_and_values():
    r = symsys.sweep("Llama3_8B", "H100", batch_size=[1, 2])
    with pytest.raises(InvalidParameter, match="no column 'speed'"):
        reduce.best(r, where="speed <= 3 ms")
    with pytest.raises(InvalidParameter, match="COLUMN OP VALUE"):
        reduce.best(r, where="latency about 3 ms")
    with pytest.raises(InvalidParameter, match="label column"):
        reduce.best(r, where="model <= Llama")
    with pytest.raises(InvalidParameter, match="per='batch_size'"):
        reduce.best(r, per="batch_size")
    with pytest.raises(InvalidParameter, match="2 or 3"):
        reduce.pareto(r, ["latency"])


# --- precisions as axes, labelled per row ---------------------------------------------------------
def test_rows_carry_compute_weight_and_kv_precision():
    r = symsys.sweep("Llama3_8B", "H100", batch_size=[1, 64], weight_precision="int4",
                     kv_precision="fp8", seq_len=2048)
    assert set(r.precision) == {"fp16"}
    assert set(r.weight_precision) == {"int4"} and set(r.kv_precision) == {"fp8"}
    e = symsys.Engine.solve("Llama3_8B", "H100", batch_size=64, seq_len=2048,
                            precision="fp16", weight_precision="int4", kv_precision="fp8")
    assert r.latency[1].m_as("s") == e.latency.m_as("s")
    assert "weight_precision" in r.table() and "int4" in r.table()


def test_kv_precision_is_a_sweep_axis():
    r = symsys.sweep("Llama3_8B", ["H100", "TPUv5p"], batch_size=8, seq_len=8192,
                     kv_precision=["fp8", "auto"], weight_precision=["int8", "auto"])
    rows = set(zip(r.hardware, r.precision, r.weight_precision, r.kv_precision))
    assert rows == {(h, p, w, k) for h, p in (("H100", "fp16"), ("TPUv5p", "bf16"))
                    for w in ("int8", p) for k in ("fp8", p)}
    for i in range(len(r)):
        e = symsys.Engine.solve("Llama3_8B", str(r.hardware[i]), batch_size=8, seq_len=8192,
                                precision=str(r.precision[i]),
                                weight_precision=str(r.weight_precision[i]),
                                kv_precision=str(r.kv_precision[i]))
        assert r.latency[i].m_as("s") == pytest.approx(e.latency.m_as("s"), rel=1e-12)
        assert r.memory_footprint[i].m_as("B") == pytest.approx(e.memory_footprint.m_as("B"),
                                                                rel=1e-12)


def test_precision_spellings_and_efficiency():
    r = symsys.sweep("Llama3_8B", "H100", precision="FP16", efficiency=(0.5, 0.8))
    assert list(r.precision) == ["fp16"]
    e = symsys.Engine.solve("Llama3_8B", "H100", precision="fp16", efficiency=(0.5, 0.8))
    assert r.latency[0].m_as("s") == pytest.approx(e.latency.m_as("s"), rel=1e-12)


# --- hypothetical hardware ------------------------------------------------------------------------
def test_smallest_bandwidth_for_20_ms_matches_the_synthesis_solver():
    target = Q_(20, "ms")
    # speed of light, fp16, batch 1: latency = bytes read / bandwidth, so B = Q / 20 ms
    solved = symsys.SynthesisSolver().solve("Llama3_70B", "H100", target=target,
                                            lever="memory_bandwidth")
    q = symsys.Engine.solve("Llama3_70B", "H100").quantity("Q")  # bytes read per step
    closed = (q / target).m_as("B/s")
    assert solved.required.m_as("B/s") == pytest.approx(closed, rel=1e-12)
    step = 1e9  # 1 GB/s
    bandwidths = Q_(np.arange(5e12, 9e12, step), "B/s")
    r = symsys.sweep("Llama3_70B", "H100", precision="fp16", bandwidth=bandwidths,
                     capacity=Q_([80, 192], "GiB"))
    edge = reduce.boundary(r, ("bandwidth", "capacity"),
                           where=["feasible", "latency <= 20 ms"])
    assert len(edge) == 1 and edge.capacity.m_as("GiB")[0] == 192  # 80 GiB cannot hold it
    found = edge.bandwidth.m_as("B/s")[0]
    assert closed <= found < closed + step
    assert reduce.best(r, by="bandwidth", per=(), where=["feasible", "latency <= 20 ms"]
                       ).bandwidth.m_as("B/s")[0] == found


def test_hypothetical_capacity_decides_feasibility():
    r = symsys.sweep("Llama3_70B", "H100", capacity=Q_([80, 141, 192], "GiB"))
    assert list(r.feasible) == [False, True, True]  # 141.1 GB of weights in 141 GiB: fits
    assert list(r.capacity.m_as("GiB")) == [80, 141, 192]
    peak = symsys.sweep("Llama3_8B", "H100", batch_size=4096, peak=["1 PFLOP/s", "2 PFLOP/s"])
    assert peak.latency[0] > peak.latency[1] and list(peak.peak.m_as("PFLOP/s")) == [1, 2]


def test_hypothetical_axes_need_units_and_positive_values():
    with pytest.raises(UnitError, match="bandwidth"):
        symsys.sweep("Llama3_8B", "H100", bandwidth=[3.35e12])
    with pytest.raises(InvalidParameter, match="bandwidth"):
        symsys.sweep("Llama3_8B", "H100", bandwidth=Q_([1, -2], "TB/s"))
    with pytest.raises(UnitError, match="capacity"):
        symsys.sweep("Llama3_8B", "H100", capacity=Q_(3, "TB/s"))


def test_dask_backend_without_the_extra_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(InvalidParameter, match=r'pip install "symsys\[dask\]"'):
        symsys.sweep("Llama3_8B", "H100", backend="dask")
    with pytest.raises(InvalidParameter, match="backend='spark'"):
        symsys.sweep("Llama3_8B", "H100", backend="spark")


# --- command line ---------------------------------------------------------------------------------
def test_cli_out_csv_round_trips(tmp_path, capsys):
    from symsys.cli import main

    out = tmp_path / "rows.csv"
    assert main(["sweep", "Llama3_8B", "H100,TPUv5p", "-b", "1,64", "--weight-precision",
                 "int4,fp16", "--kv-precision", "fp8", "--efficiency", "0.9",
                 "--bandwidth", "2,4 TB/s", "--out", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    r = symsys.sweep("Llama3_8B", ["H100", "TPUv5p"], batch_size=[1, 64],
                     weight_precision=["int4", "fp16"], kv_precision="fp8", efficiency=0.9,
                     bandwidth=Q_([2, 4], "TB/s"))
    assert len(rows) == len(r) == 16
    assert [row["precision"] for row in rows] == list(r.precision)
    assert [row["weight_precision"] for row in rows] == list(r.weight_precision)
    assert {row["kv_precision"] for row in rows} == {"fp8"}
    assert [float(row["latency [s]"]) for row in rows] == list(r.latency.m_as("s"))
    assert [float(row["bandwidth [B/s]"]) for row in rows] == list(r.bandwidth.m_as("B/s"))


def test_cli_parquet_and_reductions(tmp_path, capsys):
    pa = pytest.importorskip("pyarrow.parquet")
    from symsys.cli import main

    out = tmp_path / "front.parquet"
    assert main(["sweep", "Llama3_70B", "H100", "--bandwidth", "1:10:0.5TB/s", "--capacity",
                 "80,192GiB", "--where", "latency <= 20 ms", "--pareto",
                 "bandwidth:min,capacity:min", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    # 1, 1.5, ... TB/s: 7 TB/s is the first step at or above Q / 20 ms = 6.95 TB/s
    assert "Pareto front" in text and "7 TB/s" in text
    table = pa.read_table(out).to_pydict()
    assert table["bandwidth [B/s]"] == [7e12] and table["model"] == ["Llama3_70B"]
    assert main(["sweep", "Llama3_8B", "H100", "-b", "1:600", "--best", "throughput",
                 "--chunk-size", "100", "--json"]) == 0
    import json

    data = json.loads(capsys.readouterr().out)
    best = data["reductions"]["best throughput per model"]["columns"]
    assert best["batch_size"] == [297] and data["configurations"] == 599


@pytest.mark.parametrize("text,expected", [
    ("1:2:0.5TB/s", [1, 1.5, 2]), ("2,3.35,8 TB/s", [2, 3.35, 8]),
    ("2TB/s,3000GB/s", [2, 3]), ("0.1:0.3:0.1 TB/s", [0.1, 0.2, 0.3])])
def test_cli_quantity_ranges(text, expected):
    from symsys.commands.sweep import quantities

    np.testing.assert_allclose(quantities(text, "--bandwidth").m_as("TB/s"), expected)


@pytest.mark.parametrize("text", ["1:2:0TB/s", "3:1:1 TB/s", "1,2", "fast"])
def test_cli_quantity_ranges_reject_bad_text(text):
    from symsys.commands.sweep import quantities

    with pytest.raises((InvalidParameter, UnitError)):
        quantities(text, "--bandwidth")


def test_progress_bar_only_when_asked_or_on_a_terminal(capsys):
    pytest.importorskip("tqdm")
    chunks = symsys.sweep("Llama3_8B", "H100", batch_size=range(1, 5001), chunk_size=1000)
    reduce.best(chunks, progress=True)
    assert "/5 [" in capsys.readouterr().err  # the bar: n/5 chunks
    reduce.best(chunks)  # default: a bar only when stderr is a terminal (not under pytest)
    assert capsys.readouterr().err == ""
    with pytest.raises(InvalidParameter, match="backend='dask' only"):
        symsys.sweep("Llama3_8B", "H100", scheduler="tcp://127.0.0.1:8786")
