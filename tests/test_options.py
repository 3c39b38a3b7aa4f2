"""The step options are declared once (symsys.solvers.options) and every step solver, its
signature, its docstring and the command line take them from there: proved by introspection,
plus the option that had drifted (network_latency) checked by hand on a multi-node system."""

import dataclasses
import importlib
import inspect
import json
import pkgutil

import pytest

import symsys
import symsys.solvers
from symsys import Q_
from symsys.cli import build_parser, main
from symsys.commands._common import step_options
from symsys.errors import InvalidParameter, UnitError
from symsys.solvers.inference import Engine
from symsys.solvers.options import OPTIONS, STEP_OPTIONS, STEP_SOLVERS, StepRequest

#: the step commands and the options they leave out (serve: the phase and context of each
#: step follow from its prompt and output lengths)
STEP_COMMANDS = {"solve": (), "sensitivity": (), "synthesize": (), "cost": (),
                 "serve": ("phase", "seq_len")}
#: solve() methods in symsys.solvers that are not step solvers: their own laws and options
NOT_STEP_SOLVERS = {"WeightStreamingModel.solve"}

# Llama-3.1-405B in fp8 on a DGX H100 SuperPOD scalable unit, tensor parallel over 2 nodes
MODEL, SU, FP8 = "Llama3_1_405B", "DGX_H100_SU", "fp8"
LAYERS = 126  # Llama-3.1-405B's config.json
#: with TP16 over two 8-GPU nodes each all-reduce (2 per layer) crosses the network in a ring
#: of 2: 2 (N - 1) = 2 message steps, each paying the network latency once
NETWORK_STEPS = LAYERS * 2 * 2


def _solver(path: str):
    module, _, qualname = path.partition(":")
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _call(path: str, **options):
    """Call a step solver on the scalable unit with its own required options filled in."""
    own = {"SynthesisSolver.solve": {"target": "10 ms"},
           "ServingModel.solve": {"prompt_len": 128, "output_len": 4}}
    qualname = path.partition(":")[2]
    # Engine.solve is a static method; the others are methods of a solver object
    call = (_solver(path) if qualname.startswith("Engine.")
            else _solver(path.rsplit(".", 1)[0])().solve)
    return call(MODEL, SU, precision=FP8, **own.get(qualname, {}), **options)


@pytest.mark.parametrize("path", STEP_SOLVERS)
def test_every_step_solver_takes_every_option_with_its_declared_default(path):
    parameters = inspect.signature(_solver(path)).parameters
    for option in STEP_OPTIONS:
        assert option.name in parameters, f"{path} lacks {option.name}"
        parameter = parameters[option.name]
        assert parameter.kind is parameter.KEYWORD_ONLY, (path, option.name)
        assert parameter.default == option.default, (path, option.name)
        assert type(parameter.default) is type(option.default), (path, option.name)
    assert not any(p.kind is p.VAR_KEYWORD for p in parameters.values())  # nothing hidden


@pytest.mark.parametrize("path", STEP_SOLVERS)
def test_every_step_solver_documents_every_option(path):
    doc = inspect.getdoc(_solver(path))
    for option in STEP_OPTIONS:
        assert f"\n{option.name} : {option.kind}\n" in doc, (path, option.name)
    assert "<step options>" not in doc


def test_the_step_solvers_are_listed_in_one_place():
    """Every solve() of symsys.solvers that takes a batch size is a step solver, listed in
    STEP_SOLVERS (or named here as one with its own law and options)."""
    found = set()
    for info in pkgutil.iter_modules(symsys.solvers.__path__):
        module = importlib.import_module(f"symsys.solvers.{info.name}")
        for name, cls in vars(module).items():
            if (inspect.isclass(cls) and cls.__module__ == module.__name__
                    and callable(getattr(cls, "solve", None))
                    and "batch_size" in inspect.signature(cls.solve).parameters):
                found.add(f"{module.__name__}:{name}.solve")
    listed = set(STEP_SOLVERS)
    others = {path for path in found if path.partition(":")[2] in NOT_STEP_SOLVERS}
    assert found - others == listed


@pytest.mark.parametrize("path", STEP_SOLVERS)
def test_a_misspelled_option_names_the_closest_in_every_solver(path):
    with pytest.raises(InvalidParameter, match="no option 'network_latncy'.*"
                                               "Did you mean 'network_latency'"):
        _call(path, network_latncy=Q_(5, "us"))


@pytest.mark.slow  # solves a 405B model across two nodes in every solver (compiles their kernels)
def test_network_latency_by_hand_in_every_solver():
    fast = Engine.solve(MODEL, SU, precision=FP8, tensor_parallel=16)
    slow = Engine.solve(MODEL, SU, precision=FP8, tensor_parallel=16,
                        network_latency=Q_(5, "us"))
    added = NETWORK_STEPS * 5e-6  # 504 network steps x 5 us = 2.52 ms
    assert added == pytest.approx(2.52e-3)
    assert slow.latency.m_as("s") - fast.latency.m_as("s") == pytest.approx(added, rel=1e-9)
    for path in STEP_SOLVERS:
        r = _call(path, tensor_parallel=16, network_latency=Q_(5, "us"))
        qualname = path.partition(":")[2]
        if qualname == "ServingModel.solve":  # the prefill and 3 decode steps pay it each
            base = _call(path, tensor_parallel=16)
            assert r.e2e_latency.m_as("s") - base.e2e_latency.m_as("s") == pytest.approx(
                4 * added, rel=1e-6)
            assert r.itl.m_as("s") - base.itl.m_as("s") == pytest.approx(added, rel=1e-6)
            continue
        baseline = getattr(r, "baseline", r)
        assert baseline.latency.m_as("s") == pytest.approx(slow.latency.m_as("s"),
                                                           rel=1e-12), path
        if qualname == "SensitivitySolver.solve":  # d T / d alpha_n x alpha_n / T
            assert r.sensitivities["network_latency"] == pytest.approx(
                added / slow.latency.m_as("s"), rel=1e-9)


def test_the_network_latency_a_latency_target_needs():
    # 2.52 ms more latency is 5 us more per network step: 10 us in all
    target = Engine.solve(MODEL, SU, precision=FP8, tensor_parallel=16,
                          network_latency=Q_(10, "us")).latency
    r = symsys.SynthesisSolver().solve(MODEL, SU, precision=FP8, tensor_parallel=16,
                                       network_latency=Q_(5, "us"), target=target,
                                       lever="network_latency")
    assert r.required.m_as("us") == pytest.approx(10, rel=1e-9)


def test_the_request_is_built_from_the_declarations():
    fields = dataclasses.fields(StepRequest)
    assert [f.name for f in fields] == [o.name for o in STEP_OPTIONS]
    assert all(f.default == OPTIONS[f.name].default for f in fields)
    request = StepRequest.from_options(batch_size=8, overhead=Q_(5, "us"),
                                       memory_fraction="90%",
                                       efficiency=0.5, weight_precision="INT8")
    assert (request.batch_size, request.memory_fraction) == (8, 0.9)
    assert request.overhead == pytest.approx(5e-6)  # canonical: seconds
    assert (request.efficiency, request.weight_precision) == ((0.5, 0.5), "int8")
    assert request.changed() == {"batch_size": 8, "efficiency": (0.5, 0.5),
                                 "weight_precision": "int8", "overhead": request.overhead,
                                 "memory_fraction": 0.9}
    assert StepRequest.from_options(memory_fraction="100%").changed() == {}
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.batch_size = 1
    assert request.replace(phase="prefill").phase == "prefill"


@pytest.mark.parametrize("options,match", [
    ({"batch_size": 0}, r"batch_size=0: must be >= 1"),
    ({"phase": "train"}, r"phase='train': expected one of 'decode', 'prefill', 'forward'"),
    ({"logits": "first"}, r"logits='first': expected one of 'last', 'all'"),
    ({"seq_len": -1}, r"seq_len=-1: must be >= 0"),
    ({"network_latency": Q_(-1, "us")}, r"network_latency=.*must be >= 0"),
    ({"memory_fraction": 1.5}, r"memory_fraction=1.5: must be in \(0, 1\]"),
    ({"efficiency": "fast"}, r"efficiency='fast': expected a number in \(0, 1\]"),
    ({"tensor_parallel": 2.5}, r"tensor_parallel=2.5: must be a whole number"),
    ({"kv_precison": "fp8"}, r"no option 'kv_precison'.*Did you mean 'kv_precision'"),
])
def test_each_value_is_checked_once_with_an_error_that_names_it(options, match):
    with pytest.raises(InvalidParameter, match=match):
        StepRequest.from_options(**options)


def test_a_quantity_option_names_its_dimension():
    with pytest.raises(UnitError, match="link_latency"):
        StepRequest.from_options(link_latency=Q_(5, "GB"))
    with pytest.raises(UnitError, match=r"workspace: got the string '2 GiB'.*Q_\('2 GiB'\)"):
        StepRequest.from_options(workspace="2 GiB")


def test_options_a_solver_cannot_apply_are_errors_that_name_them():
    with pytest.raises(InvalidParameter, match=r"seq_len=64: ServingModel solves"):
        symsys.ServingModel().solve("Llama3_8B", "H100", prompt_len=8, output_len=8,
                                    seq_len=64)
    with pytest.raises(InvalidParameter, match="^phase='prefill': ServingModel"):
        symsys.ServingModel().solve("Llama3_8B", "H100", prompt_len=8, output_len=8,
                                    phase="prefill")
    with pytest.raises(InvalidParameter, match="network_latency: not an option of weight "
                                               "streaming"):
        symsys.SensitivitySolver().solve("GPT3", "CS3", seq_len=2048, output="optimal_batch",
                                         network_latency=Q_(1, "us"))
    with pytest.raises(InvalidParameter, match="ResNet50 is a fixed workload on one device: "
                                               "link_latency"):
        Engine.solve("ResNet50", "H100", link_latency=Q_(1, "us"))


def test_a_served_pipeline_holds_one_batch_per_stage():
    r = symsys.ServingModel().solve("Llama3_70B", "DGX_H100", prompt_len=512, output_len=64,
                                    batch_size=4, tensor_parallel=4, pipeline_parallel=2)
    prefill = Engine.solve("Llama3_70B", "DGX_H100", phase="prefill", seq_len=512,
                           batch_size=4, tensor_parallel=4, pipeline_parallel=2)
    assert r.ttft.m_as("s") == pytest.approx(prefill.latency.m_as("s"), rel=1e-12)
    assert r.identity()["pipeline_parallel"] == 2 and r.devices == 8
    assert r.tokens_per_sec.m_as("token/s") == pytest.approx(
        2 * 4 * 64 / r.e2e_latency.m_as("s"), rel=1e-12)


@pytest.mark.parametrize("command,left_out", STEP_COMMANDS.items())
def test_the_command_line_has_a_flag_for_every_declared_option(command, left_out):
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices[command]
    flags = {action.dest: tuple(action.option_strings) for action in sub._actions}
    for option in STEP_OPTIONS:
        if option.flags and option.name not in left_out:
            assert flags.get(option.name) == option.flags, (command, option.name)
            assert sub.get_default(option.name) == option.default, (command, option.name)
    required = {"serve": ["--prompt-len", "8", "--output-len", "8"],
                "synthesize": ["--target", "3 ms"]}
    given = sub.parse_args(["Llama3_8B", "H100", "--tp", "2", "--network-latency", "5 us",
                            "--memory-fraction", "90%", *required.get(command, [])])
    # the quantity's text is read on the command line; the fraction's by the solver's check
    assert step_options(given) == {"tensor_parallel": 2, "network_latency": Q_(5, "us"),
                                   "memory_fraction": "90%"}


def test_a_bad_quantity_on_the_command_line_names_its_flag(capsys):
    assert main(["solve", "Llama3_8B", "DGX_H100", "--tp", "2", "--link-latency", "5"]) == 1
    assert "--link-latency" in capsys.readouterr().err


def test_the_command_line_passes_network_latency(capsys):
    assert main(["solve", MODEL, SU, "-p", FP8, "--tp", "16", "--network-latency", "5 us",
                 "--json"]) == 0
    out = capsys.readouterr().out
    expected = Engine.solve(MODEL, SU, precision=FP8, tensor_parallel=16,
                            network_latency=Q_(5, "us")).latency.m_as("s")
    assert json.loads(out)["latency"] == pytest.approx(expected, rel=1e-12)


def test_the_training_solver_binds_the_training_law_defaults():
    from symsys.laws import training
    from symsys.solvers.training import law_defaults

    # 12 B held and 28 B moved per parameter: mixed-precision Adam, from the law's card
    defaults = {symbol.name: float(value) for symbol, value in training.defaults.items()}
    assert law_defaults() == {"bytes_o": 12.0, "bytes_u": 28.0}
    assert law_defaults() == {name: defaults[name] for name in law_defaults()}


def test_the_sweep_names_the_step_options_it_does_not_sweep_yet():
    """symsys.sweep lists its own axes; a step option it lacks is a clear error naming it,
    not Python's TypeError (its inputs are swept by name through ``inputs=``)."""
    import inspect

    own = set(inspect.signature(symsys.sweep).parameters)
    missing = [o.name for o in STEP_OPTIONS if o.name not in own]
    assert "pipeline_parallel" in missing and "batch_size" not in missing
    for name in missing:
        with pytest.raises(InvalidParameter, match=rf"does not take '{name}' yet"):
            symsys.sweep("Llama3_8B", "H100", **{name: 2})
    with pytest.raises(InvalidParameter, match="Did you mean 'batch_size'"):
        symsys.sweep("Llama3_8B", "H100", batch_sise=2)
