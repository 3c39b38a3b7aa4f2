"""Sweep, serving, sensitivities and inverse design against hand calculations, explicit loops
and finite differences."""

import numpy as np
import pytest

import symsys
from symsys import Engine, SensitivitySolver, ServingModel, SynthesisSolver
from symsys.errors import InvalidParameter
from symsys.solvers.sensitivity import OneSided

Q_ = symsys.Q_


# --- sweep -------------------------------------------------------------------------------------
def test_sweep_equals_scalar_solves():
    batches = [1, 7, 64, 333]
    r = symsys.sweep(model=["Llama3_8B", "Mixtral_8x7B"], hardware=["A100", "H100"],
                     batch_size=batches, seq_len=[0, 1024])
    assert len(r) == 2 * 2 * 4 * 2
    for i in range(len(r)):
        e = Engine.solve(str(r.model[i]), str(r.hardware[i]), batch_size=int(r.batch_size[i]),
                         seq_len=int(r.seq_len[i]))
        assert r.latency[i].m_as("s") == pytest.approx(e.latency.m_as("s"), rel=1e-12)
        assert r.bottleneck[i] == e.bottleneck
        assert bool(r.feasible[i]) == e.feasible


def test_sweep_lists_devices_without_the_precision_instead_of_dropping_them_silently():
    r = symsys.sweep("Llama3_8B", ["H100", "TPUv5e"], batch_size=1, precision="fp16")
    assert set(r.hardware) == {"H100"}
    assert any("TPUv5e has no fp16" in s for s in r.skipped)
    assert "skipped: TPUv5e has no fp16" in r.table()
    # the default precision "auto" is each device's native 16-bit format, per row
    auto = symsys.sweep("Llama3_8B", ["H100", "TPUv5e"], batch_size=1)
    assert dict(zip(auto.hardware, auto.precision)) == {"H100": "fp16", "TPUv5e": "bf16"}
    assert not auto.skipped


def test_sweep_a_million_batches_finds_the_crossover():
    r = symsys.sweep("Llama3_8B", "A100", batch_size=np.arange(1, 1_000_001))
    first = int(r.batch_size[np.argmax(r.bottleneck == "Compute")])
    assert first == Engine.solve("Llama3_8B", "A100").crossover_batch


def test_sweep_to_pandas_keeps_units_in_column_names():
    pytest.importorskip("pandas")
    frame = symsys.sweep("Llama3_8B", "H100", batch_size=[1, 2]).to_pandas()
    assert "latency [s]" in frame.columns and list(frame["model"]) == ["Llama3_8B"] * 2


# --- serving -----------------------------------------------------------------------------------
@pytest.mark.parametrize("case", [
    ("Llama3_8B", "H100", 512, 256, 8),     # memory-bound throughout
    ("Llama3_8B", "A100", 1, 400, 300),     # compute-bound first, memory-bound later
    ("Mixtral_8x7B", "H200", 128, 64, 4),   # MoE
    # calibrated: every step also pays its kernels' launch overhead (4 L + 1 of them)
    ("Llama3_8B", "A100", 5, 200, 1, "calibrated"),
])
def test_closed_form_decode_sum_equals_an_explicit_loop(case):
    model, hw, prompt, output, batch, *efficiency = case
    options = dict(batch_size=batch, efficiency=efficiency[0] if efficiency else None)
    r = ServingModel().solve(model, hw, prompt_len=prompt, output_len=output, **options)
    loop = sum(Engine.solve(model, hw, seq_len=prompt + j, **options).latency.m_as("s")
               for j in range(1, output))
    assert r.decode_seconds == pytest.approx(loop, rel=1e-12)
    ttft = Engine.solve(model, hw, phase="prefill", seq_len=prompt, **options).latency
    assert r.ttft == ttft
    assert r.e2e_latency.m_as("s") == pytest.approx(ttft.m_as("s") + loop, rel=1e-12)
    assert r.tokens_per_sec.m_as("token/s") == pytest.approx(
        batch * output / r.e2e_latency.m_as("s"))


def test_serving_kv_cache_hand_calculation():
    r = ServingModel().solve("Llama3_8B", "H100", prompt_len=1000, output_len=24, batch_size=2)
    assert r.kv_cache.m_as("B") == 2 * 1024 * 131072  # 128 KiB per token


# --- sensitivities -----------------------------------------------------------------------------
def test_llama3_8b_batch1_h100_elasticities():
    r = SensitivitySolver().solve(model="Llama3_8B", hardware="H100", precision="fp16")
    assert r.sensitivities["memory_bandwidth"] == pytest.approx(-1)
    assert r.sensitivities["peak_flops"] == 0
    assert r.binding_constraint == "memory_bandwidth"
    assert r.baseline_latency == Engine.solve("Llama3_8B", "H100").latency
    assert f"{r.sensitivities['memory_bandwidth']:+.4f}" == "-1.0000"


@pytest.mark.parametrize("case", [
    dict(model="Llama3_8B", hardware="A100", batch_size=37, seq_len=900),
    dict(model="Llama3_8B", hardware="H100", batch_size=600),
    dict(model="Mixtral_8x7B", hardware="H200", batch_size=5, seq_len=100),
    dict(model="Llama3_8B", hardware="H100", batch_size=4, phase="prefill", seq_len=512),
])
def test_every_elasticity_matches_a_central_finite_difference(case):
    from symsys.solvers.inference import evaluate_step
    from symsys.solvers.inputs import step_inputs
    from symsys.symbols import lever_symbol

    r = SensitivitySolver().solve(**case)
    inputs = step_inputs(case["model"], case["hardware"], batch_size=case["batch_size"],
                         phase=case.get("phase", "decode"), seq_len=case.get("seq_len"))
    for lever, elasticity in r.sensitivities.items():
        name = lever_symbol(lever).name
        x = inputs.values[name]
        if x == 0:
            continue
        h = x * 1e-6
        values = dict(inputs.values)
        up = evaluate_step(type(inputs)(**{**inputs.__dict__, "values": {**values, name: x + h}}))
        down = evaluate_step(type(inputs)(**{**inputs.__dict__, "values": {**values, name: x - h}}))
        numeric = (up["T"] - down["T"]) / (2 * h) * x / r.value
        assert elasticity == pytest.approx(numeric, rel=1e-5, abs=1e-9), lever


def test_at_the_ridge_both_one_sided_values_are_reported():
    # crossover batch where t_compute == t_memory is not an integer; build the kink exactly by
    # choosing the memory efficiency that puts batch 200 on the ridge of an A100
    from symsys.solvers.inference import evaluate_step
    from symsys.solvers.inputs import step_inputs

    raw = evaluate_step(step_inputs("Llama3_8B", "A100", batch_size=200))
    eta_m = raw["t_memory"] / raw["t_compute"]
    r = SensitivitySolver().solve(model="Llama3_8B", hardware="A100", batch_size=200,
                                  efficiency=(1.0, eta_m))
    bw = r.sensitivities["memory_bandwidth"]
    assert isinstance(bw, OneSided)
    assert bw.left == pytest.approx(-1, rel=1e-6) and bw.right == 0
    assert r.at_kink


def test_infeasible_baseline_names_capacity_and_still_reports_roofline():
    r = SensitivitySolver().solve(model="GPT3", hardware="H100", precision="fp16",
                                  uncertainty={"memory_bandwidth": 0.05,
                                               "memory_efficiency": 0.10})
    assert not r.feasible and r.conditional
    assert r.binding_constraint == "memory_capacity"
    assert r.capacity_needed.m_as("GB") == pytest.approx(349.2, rel=1e-3)
    assert r.sensitivities["memory_bandwidth"] == pytest.approx(-1)
    # first order: sqrt((1 * 5%)^2 + (1 * 10%)^2)
    assert r.relative_uncertainty == pytest.approx(np.hypot(0.05, 0.10))


def test_crossover_batch_sensitivity_closed_form():
    r = SensitivitySolver().solve(model="Llama3_8B", hardware="A100", output="crossover_batch")
    assert r.value == pytest.approx(153.239, rel=1e-4)
    # b_x ~ Pi bw / (2 beta): elasticity ~ +1 in peak, -1 in bandwidth
    assert r.sensitivities["peak_flops"] == pytest.approx(1, abs=0.01)
    assert r.sensitivities["memory_bandwidth"] == pytest.approx(-1, abs=0.01)


# --- inverse design ----------------------------------------------------------------------------
@pytest.mark.parametrize("lever,target,case", [
    ("memory_bandwidth", Q_(3, "ms"), {}),
    ("bytes_per_weight", Q_(3, "ms"), {}),
    ("peak_flops", Q_(10, "ms"), dict(hardware="A100", batch_size=512)),
    ("batch_size", Q_(20000, "token/s"), {}),
    ("compute_efficiency", Q_(30, "ms"), dict(batch_size=1024)),
])
def test_synthesis_round_trips_through_the_forward_law(lever, target, case):
    args = dict(model="Llama3_8B", hardware="H100") | case
    r = SynthesisSolver().solve(target=target, lever=lever, **args)
    assert r.feasible
    assert r.round_trip_error < 1e-9


def test_required_bandwidth_hand_calculation_and_feedback_through_engine():
    import dataclasses

    r = SynthesisSolver().solve("Llama3_8B", "H100", target=Q_(3, "ms"))
    bytes_moved = Engine.solve("Llama3_8B", "H100").bytes_moved.m_as("B")
    assert r.required.m_as("B/s") == pytest.approx(bytes_moved / 3e-3, rel=1e-12)
    h100 = symsys.Hardware.H100
    faster = dataclasses.replace(h100, memory=dataclasses.replace(h100.memory,
                                                                  bandwidth=r.required))
    assert Engine.solve("Llama3_8B", faster).latency.m_as("ms") == pytest.approx(3, rel=1e-9)


def test_unreachable_target_is_explained():
    r = SynthesisSolver().solve("Llama3_8B", "H100", target=Q_(10, "us"))
    assert not r.achievable
    assert "compute floor 15.17 µs: no memory_bandwidth gets below it" in r.explanation


def test_efficiency_above_one_is_not_feasible():
    r = SynthesisSolver().solve("Llama3_8B", "H100", target=Q_(3, "ms"),
                                lever="memory_efficiency")
    assert not r.achievable and "beyond the speed of light" in r.explanation


def test_bad_targets_and_levers():
    with pytest.raises(InvalidParameter, match="lever='voltage'"):
        SynthesisSolver().solve("Llama3_8B", "H100", target=Q_(3, "ms"), lever="voltage")
    with pytest.raises(InvalidParameter, match="expected a latency"):
        SynthesisSolver().solve("Llama3_8B", "H100", target=Q_(3, "GB"))


def test_streaming_outputs_b_star_and_b_max():
    ss = SensitivitySolver()
    star = ss.solve(model="GPT3", hardware="Cerebras_CS3", seq_len=2048, output="optimal_batch")
    # B* = bytes_w eta_c Pi L W_layer / (beta_inj F per token): proportional to Pi / beta_inj
    assert star.sensitivities["peak_flops"] == pytest.approx(1)
    assert star.sensitivities["injection_bandwidth"] == pytest.approx(-1)
    from symsys import WeightStreamingModel

    r = WeightStreamingModel().solve("GPT3", "Cerebras_CS3", seq_len=2048)
    assert star.value == pytest.approx(r.optimal_batch_exact)
    cap = ss.solve(model="GPT3", hardware="Cerebras_CS3", seq_len=2048, output="max_batch")
    # b_max = (C - 2 W_layer) / (K/V + activations per sequence): elasticity C / (C - 2 W_layer)
    weights = 2 * r.layer_weight_bytes.m_as("B")
    capacity = 44e9
    assert cap.sensitivities["onchip_capacity"] == pytest.approx(capacity / (capacity - weights))
    assert cap.sensitivities["bytes_per_kv"] == pytest.approx(-1, abs=1e-3)


def test_sweep_columns_subset_matches_the_full_sweep():
    full = symsys.sweep("Llama3_8B", ["A100", "H100"], batch_size=[1, 300, 5000])
    only = symsys.sweep("Llama3_8B", ["A100", "H100"], batch_size=[1, 300, 5000],
                        columns=["latency"])
    np.testing.assert_array_equal(only.latency.magnitude, full.latency.magnitude)
    assert "bottleneck" not in only.names and "throughput" not in only.names
    with pytest.raises(InvalidParameter, match="columns=\\['speed'\\]"):
        symsys.sweep("Llama3_8B", "H100", columns=["speed"])


def test_chunked_sweep_covers_a_lazy_range_in_bounded_pieces():
    chunks = list(symsys.sweep("Llama3_8B", ["A100", "H100"], batch_size=range(1, 1001),
                               chunk_size=300, columns=["latency", "bottleneck"]))
    assert all(len(c) <= 300 for c in chunks)
    assert sum(len(c) for c in chunks) == 2000
    whole = symsys.sweep("Llama3_8B", ["A100", "H100"], batch_size=np.arange(1, 1001))
    joined = np.concatenate([c.latency.magnitude for c in chunks])
    assert sorted(joined) == sorted(whole.latency.magnitude)


# --- capacity: synthesis respects it, max_batch_size is its closed form --------------------------
def test_a_batch_that_meets_throughput_but_overflows_memory_is_not_achievable():
    r = SynthesisSolver().solve("Llama3_8B", "H100", target=Q_(3000, "token/s"),
                                lever="batch_size", seq_len=8192)
    assert r.required_value == pytest.approx(350.8, rel=1e-3)  # the roofline's answer
    assert not r.achievable and not r.feasible
    # one line that names the capacity: 16.06 GB of weights + 351 x 8193 x 128 KiB of K/V
    assert "\n" not in r.reason and "H100 has 80 GiB" in r.reason and "392.8 GB" in r.reason
    assert "the largest batch_size that fits is 65" in r.reason


def test_a_bandwidth_for_weights_that_do_not_fit_is_not_achievable():
    r = SynthesisSolver().solve("Llama3_70B", "H100", target=Q_(3, "ms"),
                                lever="memory_bandwidth")
    assert r.required.m_as("TB/s") == pytest.approx(46.34, rel=1e-3)
    assert not r.achievable and "\n" not in r.reason
    assert "141.1 GB" in r.reason and "H100 has 80 GiB" in r.reason


def test_max_batch_size_is_the_closed_form_and_equals_the_sweep():
    r = Engine.solve("Llama3_8B", "H100", seq_len=8192)
    # (80 GiB - 16.06 GB of weights) / (8193 tokens x 131072 B of K/V per token) = 65.04
    per_sequence = 8193 * 131_072
    assert r.max_batch_size_exact == pytest.approx((80 * 2**30 - 16_060_522_496) / per_sequence,
                                                   rel=1e-12)
    swept = symsys.sweep("Llama3_8B", "H100", batch_size=range(1, 200), seq_len=8192,
                         columns=["feasible"])
    fits = np.asarray(swept["batch_size"])[np.asarray(swept["feasible"])]
    assert r.max_batch_size == int(fits.max()) == 65
    # the decode step at context s holds s + 1 tokens: the sweep's seq_len is that s
    assert Engine.solve("Llama3_8B", "H100", seq_len=8192, batch_size=65).feasible
    assert not Engine.solve("Llama3_8B", "H100", seq_len=8192, batch_size=66).feasible
