"""Cost and energy of a step: its rate, priced and powered, by extension of the step law.

A step that occupies n devices for T seconds and yields R tokens per second costs the devices'
price per second over that rate, and uses the power they draw over that rate. Power is each
device's TDP scaled by the fraction of it drawn (f_P, 1 by default): at TDP for the whole step
the energy is an upper bound, since a memory-bound decode step draws well under TDP (give a
measured fraction when you have one). Price is the on-demand cloud price per device-hour, so
the cost is what renting the devices costs, not what owning them does (no amortisation,
utilisation or facility terms). The step law is not retyped: its definitions are kept and the
economics are appended, so every derivative of cost and energy runs through the roofline.

The parallel step laws occupy more than one device: a tensor-parallel group n_g, a pipeline
of n_pp such groups (n_g n_pp; its rate is the pipeline's, p microbatches in flight), an
expert-parallel group of n_ep devices (its e/n attention replicas included; the rate is the
group's) and n_ep n_pp for expert parallelism in pipeline stages. Data-parallel replicas of a
group are not in the laws: r replicas cost r times the devices for r times the rate, so the
cost and energy per token are one group's (the solvers scale the bill and the power by r).
"""

from __future__ import annotations

import dataclasses

from symsys.laws.base import Law
from symsys.laws.inference import decode, prefill
from symsys.laws.parallel import (
    decode_ep,
    decode_ep_pp,
    decode_pp,
    decode_tp,
    prefill_ep,
    prefill_ep_pp,
    prefill_pp,
    prefill_tp,
)
from symsys.symbols import (
    E_tok,
    P_dev,
    P_step,
    R_tok,
    c_tok,
    eta_E,
    f_P,
    n_dev,
    p_dev,
)

#: what a step's devices draw, and what a token costs in energy and in money
_ECONOMICS = (
    (P_step, n_dev * f_P * P_dev),
    (E_tok, P_step / R_tok),
    (eta_E, 1 / E_tok),
    (c_tok, n_dev * p_dev / R_tok),
)


def with_economics(step: Law, name: str | None = None) -> Law:
    """``step`` with its cost and energy per token, named ``<step>_cost`` unless ``name``
    says. It prices the devices its step role declares (``StepRole.devices``: n_g for a
    tensor-parallel group, n_g n_pp for its pipeline, n_ep for an expert-parallel group), else
    an input n_dev (one device by default). Any step law gets it this way, a user's too."""
    name = name or f"{step.name}_cost"
    devices = None if step.step is None else step.step.devices
    rename = {} if devices is None else {n_dev: devices}
    extra_inputs = (P_dev, f_P, p_dev) + (() if devices is not None else (n_dev,))
    return Law(
        name=name, title=step.title + ", cost and energy",
        summary=(step.summary + " Its devices are priced per second and powered: cost and "
                 "energy per token are the price and the power over the rate."),
        inputs=(*step.inputs, *extra_inputs),
        definitions=(*step.definitions,
                     *((out, rhs.xreplace(rename)) for out, rhs in _ECONOMICS)),
        derived=step.derived, regimes=step.regimes,
        defaults={**step.defaults, f_P: 1, **({} if devices is not None else {n_dev: 1})},
        notes=(*step.notes,
               "Energy assumes every device draws f_P of its power (TDP) for the whole step: "
               "with f_P = 1 an upper bound. Cost is the on-demand rental price; ownership, "
               "idle time and facility power are not in it."),
        latency=step.latency, rate=R_tok, footprint=step.footprint, capacity=step.capacity,
        levers=(*step.levers, p_dev, P_dev, f_P), integers=step.integers,
        variants=step.variants,
        step=None if step.step is None else dataclasses.replace(step.step, prices=step.name),
    )


decode_cost = with_economics(decode)
prefill_cost = with_economics(prefill)
decode_tp_cost = with_economics(decode_tp)
prefill_tp_cost = with_economics(prefill_tp)
decode_pp_cost = with_economics(decode_pp)
prefill_pp_cost = with_economics(prefill_pp)
decode_ep_cost = with_economics(decode_ep)
prefill_ep_cost = with_economics(prefill_ep)
decode_ep_pp_cost = with_economics(decode_ep_pp)
prefill_ep_pp_cost = with_economics(prefill_ep_pp)
