"""A serving runtime's non-GEMM kernels as law terms: hand checks through every solver."""

import json
import subprocess
import sys

import pytest

from symsys import Engine, ServingModel
from symsys.calibration.profile import profile_for
from symsys.calibration.runtimes import runtime_inputs
from symsys.errors import InvalidParameter
from symsys.registry.hardware import Hardware
from symsys.solvers.sensitivity import SensitivitySolver

TERMS = {"n_aux": 24, "t_aux": 2e-6, "q_act": 190.0}


def _ms(result):
    return result.latency.m_as("ms")


@pytest.mark.parametrize("phase,batch,seq,tokens", [("decode", 1, 2048, 1),
                                                    ("decode", 64, 2048, 64),
                                                    ("prefill", 1, 2048, 2048)])
def test_runtime_adds_its_kernels_and_traffic_by_hand(phase, batch, seq, tokens):
    """Llama-3-8B (32 layers, d = 4096) on H100 at speed of light: the runtime adds
    n_aux L t_aux + q_act d L n_tok / beta, serially."""
    base = Engine.solve("Llama3_8B", "H100", phase=phase, batch_size=batch, seq_len=seq)
    with_runtime = Engine.solve("Llama3_8B", "H100", phase=phase, batch_size=batch,
                                seq_len=seq, runtime=TERMS)
    beta = Hardware["H100"].memory.bandwidth.m_as("B/s")
    added = 24 * 32 * 2e-6 + 190.0 * 4096 * 32 * tokens / beta
    assert _ms(with_runtime) - _ms(base) == pytest.approx(added * 1e3, rel=1e-9)
    # 24 x 32 x 2 us = 1.536 ms of kernel floors at batch 1
    if tokens == 1:
        assert added == pytest.approx(1.536e-3 + 190 * 4096 * 32 / beta, rel=1e-12)


def test_runtime_traffic_runs_at_the_calibrated_bandwidth():
    profile = profile_for("H200", "bf16")
    base = Engine.solve("Llama3_8B", "H200", precision="bf16", efficiency="calibrated",
                        batch_size=8, seq_len=512)
    r = Engine.solve("Llama3_8B", "H200", precision="bf16", efficiency="calibrated",
                     batch_size=8, seq_len=512, runtime={"q_act": 100.0})
    beta = Hardware["H200"].memory.bandwidth.m_as("B/s") * profile.eta_m
    assert _ms(r) - _ms(base) == pytest.approx(100 * 4096 * 32 * 8 / beta * 1e3, rel=1e-9)


def test_no_runtime_is_the_speed_of_light_and_named_runtime_is_recorded():
    plain = Engine.solve("Llama3_8B", "H200", precision="bf16")
    zero = Engine.solve("Llama3_8B", "H200", precision="bf16",
                        runtime={"n_aux": 0, "t_aux": 0, "q_act": 0})
    assert _ms(plain) == _ms(zero)
    eager = Engine.solve("Llama3_8B", "H200", precision="bf16", runtime="torch_eager")
    assert eager.scenario.options["runtime"] == "torch_eager"
    terms = runtime_inputs("torch_eager", "bf16")
    assert _ms(eager) - _ms(plain) == pytest.approx(
        (terms["n_aux"] * 32 * terms["t_aux"]
         + terms["q_act"] * 4096 * 32 / Hardware["H200"].memory.bandwidth.m_as("B/s")) * 1e3,
        rel=1e-9)


def test_runtime_on_the_measured_steps():
    """The calibrated H200 profile with the torch_eager runtime against the steps timed on
    the H200 (held out of the runtime's derivation: decode at batch 64, context 2048)."""
    r = Engine.solve("Llama3_8B", "H200", precision="bf16", efficiency="calibrated",
                     runtime="torch_eager", batch_size=64, seq_len=2048)
    assert r.latency.m_as("ms") == pytest.approx(10.83, rel=0.15)
    # without the runtime the same step is predicted more than 25 % fast
    bare = Engine.solve("Llama3_8B", "H200", precision="bf16", efficiency="calibrated",
                        batch_size=64, seq_len=2048)
    assert bare.latency.m_as("ms") < 0.75 * 10.83


def test_serving_sums_the_runtime_in_every_decode_step():
    options = dict(prompt_len=512, output_len=64, batch_size=4, runtime=TERMS)
    served = ServingModel().solve("Llama3_8B", "H100", **options)
    bare = ServingModel().solve("Llama3_8B", "H100", prompt_len=512, output_len=64,
                                batch_size=4)
    beta = Hardware["H100"].memory.bandwidth.m_as("B/s")
    per_step = 24 * 32 * 2e-6 + 190.0 * 4096 * 32 * 4 / beta
    prefill = 24 * 32 * 2e-6 + 190.0 * 4096 * 32 * 4 * 512 / beta
    assert (served.e2e_latency - bare.e2e_latency).m_as("s") == pytest.approx(
        prefill + 63 * per_step, rel=1e-9)


def test_runtime_levers_have_exact_elasticities():
    result = SensitivitySolver().solve("Llama3_8B", "H100", batch_size=16, seq_len=1024,
                                       runtime=TERMS)
    latency = result.baseline.latency.m_as("s")
    beta = Hardware["H100"].memory.bandwidth.m_as("B/s")
    floors = 24 * 32 * 2e-6
    traffic = 190.0 * 4096 * 32 * 16 / beta
    # T is linear in t_aux and q_act: elasticity = term / T
    assert result.sensitivities["aux_kernel_time"] == pytest.approx(floors / latency,
                                                                     rel=1e-9)
    assert result.sensitivities["activation_traffic"] == pytest.approx(traffic / latency,
                                                                        rel=1e-9)


def test_runtime_errors():
    with pytest.raises(InvalidParameter, match="known runtimes"):
        Engine.solve("Llama3_8B", "H100", runtime="vllm")
    with pytest.raises(InvalidParameter, match="q_act=-5"):
        Engine.solve("Llama3_8B", "H100", runtime={"q_act": -5})
    with pytest.raises(InvalidParameter, match="transformers only"):
        Engine.solve("ResNet50", "H100", runtime="torch_eager")


def test_cli_runtime():
    out = subprocess.run([sys.executable, "-m", "symsys", "solve", "Llama3_8B", "H200",
                          "--precision", "bf16", "--runtime", "torch_eager", "--json"],
                         capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    plain = Engine.solve("Llama3_8B", "H200", precision="bf16", runtime="torch_eager")
    assert data["latency"] == pytest.approx(plain.latency.m_as("s"), rel=1e-9)
    assert data["runtime"] == "torch_eager"
    assert "runtime torch_eager: 24 non-GEMM kernels per layer" in data["efficiency"]
    bad = subprocess.run([sys.executable, "-m", "symsys", "solve", "Llama3_8B", "H200",
                          "--runtime", "nope"], capture_output=True, text=True)
    assert bad.returncode != 0 and "known runtimes" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_zoo_lists_the_runtimes():
    out = subprocess.run([sys.executable, "-m", "symsys", "zoo", "runtimes", "--json"],
                         capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    assert {(r["key"], r["precision"]) for r in data} == {
        ("torch_eager", "bf16"), ("torch_eager", "fp8"),
        *((key, p) for key in ("tensorrt_llm_v0.5", "tensorrt_llm_v0.6.1")
          for p in ("fp16", "fp8"))}
    bf16 = next(r for r in data if r["precision"] == "bf16")
    assert bf16["n_aux"] == runtime_inputs("torch_eager", "bf16")["n_aux"] == 24
    assert bf16["device"] == "H200"
