"""Cost and energy of a step: its rate, priced and powered, by extension of the step law.

A step that occupies n devices for T seconds and yields R tokens per second costs the devices'
price per second over that rate, and uses the power they draw over that rate. Power is each
device's TDP scaled by the fraction of it drawn (f_P, 1 by default): at TDP for the whole step
the energy is an upper bound, since a memory-bound decode step draws well under TDP (give a
measured fraction when you have one). Price is the on-demand cloud price per device-hour, so
the cost is what renting the devices costs, not what owning them does (no amortisation,
utilisation or facility terms). The step law is not retyped: its definitions are kept and the
economics are appended, so every derivative of cost and energy runs through the roofline.
"""

from __future__ import annotations

from symsys.laws.base import Law
from symsys.laws.inference import decode, prefill
from symsys.laws.parallel import decode_tp, prefill_tp
from symsys.symbols import E_tok, P_dev, P_step, R_tok, c_tok, eta_E, f_P, n_dev, n_g, p_dev

#: what a step's devices draw, and what a token costs in energy and in money
_ECONOMICS = (
    (P_step, n_dev * f_P * P_dev),
    (E_tok, P_step / R_tok),
    (eta_E, 1 / E_tok),
    (c_tok, n_dev * p_dev / R_tok),
)


def with_economics(step: Law, name: str, devices=None) -> Law:
    """``step`` with its cost and energy per token; ``devices``: the expression counting the
    devices the step occupies (an input n_dev by default; n_g for a tensor-parallel group)."""
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
    )


decode_cost = with_economics(decode, "decode_cost")
prefill_cost = with_economics(prefill, "prefill_cost")
decode_tp_cost = with_economics(decode_tp, "decode_tp_cost", devices=n_g)
prefill_tp_cost = with_economics(prefill_tp, "prefill_tp_cost", devices=n_g)
