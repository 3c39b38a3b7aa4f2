"""The step options, declared once: every step solver, its signature, its docstring and the
command line take them from :data:`STEP_OPTIONS`.

A step option is what says *which* step of a model on a device is asked about (batch,
precisions, phase, context, efficiency, parallel degrees, latencies, memory share, runtime).
Each is one :class:`Option` -- name, type, unit, default, validation, command-line flags and
help -- and :class:`StepRequest` is the frozen request built from them, each value checked
once by its declaration's validator. A solver takes them as ``**options``
(:func:`step_solver` gives it the full signature and the Parameters entries), so adding an
option is one line here, and no solver re-lists them by hand.

This module is cheap to import (no numpy, no pint): the command line builds its parser from it.
Validators are named, not imported: ``check`` is a function of :mod:`symsys.solvers.checks`
called as ``check(option, value)``, loaded on the first value checked.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import textwrap
from dataclasses import dataclass, field

from symsys.solvers import FORWARD, PHASES

#: a quantity's canonical unit as the docs say it, and an example of it as text
_UNIT_WORDS = {"s": ("time", "5, 'us'"), "B": ("bytes", "2, 'GiB'")}


@dataclass(frozen=True, eq=False)
class Option:
    """One step option: how it is called, checked, defaulted, documented and typed in.

    Parameters
    ----------
    name : str
        The keyword every step solver takes.
    kind : str
        Its type as the docstrings show it ("int", "str or None").
    default : object
        The default every solver has; a valid value (it is not checked again).
    help : str
        One line: the command line's help and the first sentence of the docstring entry.
    doc : str
        More for the docstring entry: how the option is modelled, what it interacts with.
    unit : str or None
        The canonical unit a quantity is stored in (None for counts, names and fractions).
    check : str or None
        The validator in :mod:`symsys.solvers.checks` (``check(option, value)`` returns
        the canonical value or raises an error naming the option, the value and what is
        valid); None where the value needs the model or device to check (precision,
        runtime): :func:`symsys.solvers.inputs.request_inputs` checks it there, once.
    choices : tuple
        The valid values of a choice.
    flags : tuple of str
        Its command-line spellings (empty: not on the command line).
    sets : tuple of str
        The law inputs (symbol names) it decides: a request's ``inputs`` may not set them
        (the error names this option instead).
    cli : dict
        Further ``argparse`` keywords (``type``, ``choices``, ``metavar``). Without a
        ``type`` the text goes to the solver, whose check reads it, except for a quantity
        (``unit``), which the command line reads with :func:`symsys.units.parse_quantity`.
    """

    name: str
    kind: str
    default: object
    help: str
    doc: str = ""
    unit: str | None = None
    check: str | None = None
    choices: tuple = ()
    flags: tuple[str, ...] = ()
    cli: dict = field(default_factory=dict)
    sets: tuple[str, ...] = ()

    def validated(self, value):
        """``value`` checked and made canonical (a count an int, a quantity a magnitude in
        ``unit``); unchanged when the option has no context-free check."""
        if self.check is None:
            return value
        from symsys.solvers import checks  # numpy and pint: only once a value is checked

        return getattr(checks, self.check)(self, value)

    def entry(self) -> str:
        """The option's numpy-style Parameters entry (name : type, then the text)."""
        shown = "None" if self.default is None else repr(self.default)
        text = f"{self.help[0].upper()}{self.help[1:]}; default {shown}."
        if self.unit is not None:
            words, example = _UNIT_WORDS[self.unit]
            text += f" A Quantity in {words}, e.g. Q_({example})."
        body = textwrap.fill(f"{text} {self.doc}".strip(), 88)
        return f"{self.name} : {self.kind}\n" + textwrap.indent(body, "    ")


def efficiency_text(text: str):
    """``--efficiency`` as typed: "calibrated", one number for both, or "compute,memory"
    (an argparse type: bad text is a usage error)."""
    if text == "calibrated":
        return text
    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError:  # argparse prints an ArgumentTypeError's own message (exit 2)
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number, 'c,m' or "
                                         "'calibrated'") from None
    return parts[0] if len(parts) == 1 else tuple(parts)


#: every step option, in the order signatures and the command line show them
STEP_OPTIONS = (
    Option("batch_size", "int", 1, "sequences (samples) processed together", check="count",
           flags=("--batch-size", "-b"), cli={"type": int}, sets=("b",)),
    Option("precision", "str", "auto",
           "compute precision (fp16, bf16, fp8, int8...; 'FP16', 'bfloat16' and other common "
           "spellings accepted)",
           "'auto' is the device's native 16-bit format (fp16 where the device has it, else "
           "bf16), reported in the result.", flags=("--precision", "-p")),
    Option("phase", "str", "decode",
           "'decode' (one new token per sequence after seq_len cached tokens) or 'prefill' "
           "(seq_len prompt tokens)",
           "A decode with no seq_len has no cached context: the weights-only roofline. "
           "'forward' (how results label a fixed workload's step) is accepted back for one.",
           check="one_of", choices=(*PHASES, FORWARD), flags=("--phase",),
           cli={"choices": PHASES, "type": str.lower}),
    Option("seq_len", "int or None", None, "cached context (decode) or prompt length (prefill)",
           check="context", flags=("--seq-len", "-s"), cli={"type": int}, sets=("s",)),
    Option("weight_precision", "str or None", None, "weight-only precision, e.g. int8, int4",
           "None: the compute precision.", check="precision_name",
           flags=("--weight-precision",), sets=("bytes_w",)),
    Option("kv_precision", "str or None", None, "K/V cache precision, e.g. fp8",
           "None: the compute precision.", check="precision_name", flags=("--kv-precision",),
           sets=("bytes_kv",)),
    Option("efficiency", "float, tuple, dict, str or None", None,
           "achieved fraction of peak compute and memory bandwidth, in (0, 1]: one number for "
           "both, a (compute, memory) pair or 'calibrated' (none given: 1, the speed-of-light "
           "bound)",
           "In Python also {'compute': .., 'memory': ..} or a CalibrationProfile. "
           "'calibrated' takes the fitted profile of the device and "
           "precision, with its per-kernel overhead (and on a parallel step, its link "
           "profile).",
           check="efficiency", flags=("--efficiency",), cli={"type": efficiency_text},
           sets=("eta_c", "eta_m")),
    Option("overhead", "Quantity or None", None, "fixed time added to every step",
           "None: 0. A calibration profile carries its own per-kernel overhead: give one or "
           "the other.", unit="s", check="quantity", flags=("--overhead",),
           cli={"metavar": "TIME"}, sets=("t_o",)),
    Option("workspace", "Quantity or None", None,
           "memory held besides weights and K/V (activations, buffers)", "None: 0.",
           unit="B", check="quantity", flags=("--workspace",), cli={"metavar": "BYTES"},
           sets=("W_ws",)),
    Option("logits", "str", "last",
           "'last' (a prefill computes logits at the last prompt position, as serving engines "
           "do) or 'all' (every position: scoring, training)",
           check="one_of", choices=("last", "all"), flags=("--logits",),
           cli={"choices": ("last", "all"), "type": str.lower}, sets=("z_logit",)),
    Option("tensor_parallel", "int", 1, "devices the model is split over (Megatron-style)",
           "The figures are per device; each layer pays two ring all-reduces over the fast "
           "domain's link (the system's, else the device's; per direction). On a system with "
           "a scale-out network (e.g. 'DGX_H100_SU') a group may span fast domains, holding "
           "whole ones, and its all-reduces are hierarchical (a ring in each domain, a ring "
           "of the shards across domains over the network).",
           check="count", flags=("--tp", "--tensor-parallel"), cli={"type": int},
           sets=("n_g", "n_node")),
    Option("link_latency", "Quantity or None", None,
           "time per message step of the all-reduces and sends over the fast domain",
           "None: 0 (the registry has no sourced latency); a calibrated link profile carries "
           "its fitted latency: give one or the other. Given, it asks for the parallel law "
           "even at tensor_parallel=1.",
           unit="s", check="quantity", flags=("--link-latency",), cli={"metavar": "TIME"},
           sets=("alpha_x",)),
    Option("pipeline_parallel", "int", 1,
           "pipeline stages the layers are split over, each a tensor-parallel group",
           "The latency is a token's p stages in sequence with p - 1 sends of its "
           "activations; the throughput and footprint are with p microbatches of batch_size "
           "in flight. Stages fill fast domains one after the other; sends that cross from "
           "one domain to the next go over the scale-out network.",
           check="count", flags=("--pp", "--pipeline-parallel"), cli={"type": int},
           sets=("n_pp", "p_net")),
    Option("expert_parallel", "int", 1,
           "devices the routed experts of an MoE model are split over (E/e whole experts each)",
           "The expert-parallel group is e/tensor_parallel replicas of the tensor-parallel "
           "group (tensor_parallel must divide e): tensor_parallel=e is expert parallelism "
           "over the tensor-parallel group (vLLM's --enable-expert-parallel), "
           "tensor_parallel=1 attention data parallel. batch_size is per replica; each MoE "
           "layer pays two all-to-alls. A dense model has no experts to split (an error).",
           check="count", flags=("--ep", "--expert-parallel"), cli={"type": int},
           sets=("n_ep",)),
    Option("data_parallel", "int", 1,
           "independent replicas of the whole parallel group, each serving its own requests",
           "Latency and per-device figures are one replica's, the throughput is "
           "data_parallel times it, and devices counts every replica; more replicas than "
           "the system has devices is infeasible, with the reason.",
           check="count", flags=("--dp", "--data-parallel"), cli={"type": int}),
    Option("memory_fraction", "float or str", 1.0,
           "share of each device's memory the engine may use, in (0, 1] or text such as "
           "'90%' (vLLM's --gpu-memory-utilization)",
           "vLLM's default is 0.9, the rest held back for the CUDA context, activations and "
           "fragmentation. The footprint, feasible, max_batch_size and min_tensor_parallel use "
           "memory_fraction x the physical capacity; the result's options carry it and an "
           "infeasible result's reason names it.",
           check="share", flags=("--memory-fraction",), cli={"metavar": "FRACTION"}),
    Option("runtime", "str, dict or None", None,
           "serving runtime whose measured non-GEMM kernels (attention launches, norms, "
           "rotary, residual adds, activation, casts) the step adds",
           "A name of symsys.calibration.runtimes.RUNTIMES ('torch_eager', "
           "'tensorrt_llm_v0.5', 'tensorrt_llm_v0.6.1'; symsys zoo runtimes) or a dict of "
           "n_aux (kernels per layer), t_aux (s each) and q_act (B per token, layer and model "
           "dimension). None: none (everything fused, the speed of light).",
           flags=("--runtime",), cli={"metavar": "NAME"}, sets=("n_aux", "t_aux", "q_act")),
    Option("network_latency", "Quantity or None", None,
           "time per message step over the scale-out network (the sends and all-reduce steps "
           "between fast domains)",
           "None: 0. With efficiency='calibrated' the network has no fitted profile: it stays "
           "at the NICs' line rate (plus this latency), and the result's caveat says so.",
           unit="s", check="quantity", flags=("--network-latency",), cli={"metavar": "TIME"},
           sets=("alpha_n",)),
    Option("law", "str or None", None,
           "the step law by name: the package's, a registered one (symsys.laws.register) "
           "or an installed package's (entry point group 'symsys.laws')",
           "None: the law its declared role makes the package's for the phase and the "
           "parallel degrees (decode, decode_tp, decode_pp, decode_ep...). A named law must "
           "declare a StepRole of that phase covering the degrees asked for; its inputs "
           "that no model, device or option gives come from its defaults or ``inputs``.",
           check="law_name", flags=("--law",), cli={"metavar": "NAME"}),
    Option("inputs", "dict or None", None,
           "values of the step law's inputs by symbol name, beside or instead of what the "
           "model and device give (Quantities; plain numbers for dimensionless inputs)",
           "E.g. {'a_acc': 0.7} for a law's own input, or {'beta': Q_(4, 'TB/s')} for a "
           "hypothetical device. An input a step option decides (b: batch_size, eta_c: "
           "efficiency...) is an error naming the option. On the command line "
           "``--set NAME=VALUE``, repeated ('--set a_acc=0.7 --set t_d=\"30 us\"').",
           check="law_inputs", flags=("--set",),
           cli={"action": "append", "metavar": "NAME=VALUE"}),
)
#: the declarations by name
OPTIONS = {option.name: option for option in STEP_OPTIONS}
#: law input (symbol name) -> the option that decides it
SET_BY = {symbol: option.name for option in STEP_OPTIONS for symbol in option.sets}

#: every step solver ("module:qualified name"): each takes every option of STEP_OPTIONS
STEP_SOLVERS = (
    "symsys.solvers.inference:Engine.solve",
    "symsys.solvers.inference:SingleNodeModel.solve",
    "symsys.solvers.sensitivity:SensitivitySolver.solve",
    "symsys.solvers.synthesis:SynthesisSolver.solve",
    "symsys.solvers.cost:CostModel.solve",
    "symsys.solvers.serving:ServingModel.solve",
)


def _unknown(names, where: str) -> None:
    """Raise for a keyword that is no step option, with the closest spellings."""
    from symsys.errors import InvalidParameter, suggest

    for name in names:
        if name not in OPTIONS:
            raise InvalidParameter(f"{where} has no option {name!r}; its options are "
                                   f"{', '.join(OPTIONS)}." + suggest(name, OPTIONS))


def _from_options(cls, **options):
    """The request for ``options`` (names of :data:`STEP_OPTIONS`; the rest take their
    defaults), each given value checked once by its declaration."""
    _unknown(options, "a step request")
    return cls(**{name: OPTIONS[name].validated(value) for name, value in options.items()})


def _replace(self, **changes):
    """This request with some options changed (each new value checked)."""
    _unknown(changes, "a step request")
    return dataclasses.replace(self, **{name: OPTIONS[name].validated(value)
                                        for name, value in changes.items()})


def _changed(self) -> dict:
    """The options whose value is not their default, by name."""
    return {o.name: getattr(self, o.name) for o in STEP_OPTIONS
            if not _same(getattr(self, o.name), o.default)}


def _same(value, default) -> bool:
    return value is default or (type(value) is type(default) and value == default)


#: the frozen request of one step: a field per option of STEP_OPTIONS, with its default
StepRequest = dataclasses.make_dataclass(
    "StepRequest", [(o.name, object, field(default=o.default)) for o in STEP_OPTIONS],
    frozen=True, namespace={"from_options": classmethod(_from_options), "replace": _replace,
                            "changed": _changed,
                            "__doc__": "The step options of one solve, checked and canonical "
                                       "(counts as ints, quantities as magnitudes in their "
                                       "declared unit): ``StepRequest.from_options(**options)``."})
StepRequest.__module__ = __name__


def parameters_text(indent: str = "") -> str:
    """The Parameters entries of every step option, indented by ``indent``."""
    return textwrap.indent("\n".join(o.entry() for o in STEP_OPTIONS), indent)


#: the line of a solver's docstring the step options' entries replace
MARKER = "<step options>"


def step_solver(function):
    """Give ``solve(model, hardware, *, <own options>, **options)`` every step option.

    Its signature (``inspect.signature``, ``help()``, IDEs, the API reference) becomes its own
    parameters followed by each of :data:`STEP_OPTIONS` with its declared default; the line
    ``<step options>`` of its docstring becomes their Parameters entries; and a keyword that
    is neither its own nor a step option is an error that names the closest spelling
    (:func:`symsys.solvers.checks.keywords`). ``**options`` holds only the options given.
    """
    from symsys.solvers import checks

    own = inspect.signature(function)
    kept = [p for p in own.parameters.values() if p.kind is not p.VAR_KEYWORD]
    twice = {p.name for p in kept} & set(OPTIONS)
    if twice:  # the point of declaring them once
        raise TypeError(f"{function.__qualname__} re-lists step options {sorted(twice)}")
    step = [inspect.Parameter(o.name, inspect.Parameter.KEYWORD_ONLY, default=o.default)
            for o in STEP_OPTIONS]
    function.__signature__ = own.replace(parameters=[*kept, *step])
    function.__doc__ = _documented(function.__doc__, function.__qualname__)
    return checks.keywords(function)


def _documented(doc: str | None, where: str) -> str:
    """``doc`` with its ``<step options>`` line replaced by the options' entries."""
    lines = (doc or "").split("\n")
    for i, line in enumerate(lines):
        if line.strip() == MARKER:
            indent = line[:len(line) - len(line.lstrip())]
            lines[i] = parameters_text(indent)
            return "\n".join(lines)
    raise TypeError(f"{where}: its docstring has no '{MARKER}' line in its Parameters")
