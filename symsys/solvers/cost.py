"""Cost and energy per token: ``symsys.CostModel().solve(model, hardware, ...)``.

The step is the one :meth:`Engine.solve` answers (decode or prefill, one device, or a tensor-,
pipeline- or expert-parallel group), bound to the cost-and-energy extension of its law
(:mod:`symsys.laws.economics`): the devices' on-demand price and power over the step's rate.
Data-parallel replicas of the group cost r times the devices for r times the rate: the cost
and energy per token are one replica's, the hourly bill and the power are all r replicas'.
Price and power come from the registry (``cloud_price``, ``tdp``) unless given; a device with
neither source is an error that says what to pass, never a silent zero.
"""

from __future__ import annotations

import dataclasses

from symsys.errors import InvalidParameter
from symsys.solvers import checks, steps
from symsys.solvers.inference import InferenceResult, evaluate_step
from symsys.solvers.inputs import request_inputs
from symsys.solvers.options import StepRequest, step_solver
from symsys.solvers.result import Output
from symsys.solvers.sensitivity import sensitivities

#: readable output names of the cost law, for sensitivities
OUTPUTS = {"cost": "c_tok", "cost_per_token": "c_tok", "cost_per_million_tokens": "c_tok",
           "energy": "E_tok", "energy_per_token": "E_tok", "tokens_per_joule": "eta_E"}


class CostResult(InferenceResult):
    """A step with what each token costs in money and energy (plus every step output)."""

    kind = "cost"

    cost_per_token = Output("c_tok", "Rental cost per token (the devices' price / the rate).")
    energy_per_token = Output("E_tok", "Energy per token (the devices' power / the rate).")
    tokens_per_joule = Output("eta_E", "Tokens per joule.")
    power_per_replica = Output("P_step", "Power the devices of one replica of the parallel "
                                         "group draw.")

    @property
    def power(self):
        """Power every device draws: ``data_parallel`` replicas of the group's (W)."""
        return self.power_per_replica * self.data_parallel

    @property
    def cost_per_hour(self):
        """The hourly bill of every device the step occupies (``devices`` x ``price``):
        ``data_parallel`` replicas of the group, USD/hour."""
        return self.price * self.devices

    @property
    def cost_per_million_tokens(self):
        """Rental cost per million tokens, USD/Mtoken."""
        return self.cost_per_token.to("USD/Mtoken")

    @property
    def price(self):
        """The price of one device, USD/hour (registry or given)."""
        return self.quantity("p_dev").to("USD/hour")

    def summary(self) -> dict:
        return {**super().summary(), "cost_per_million_tokens": self.cost_per_million_tokens,
                "energy_per_token": self.energy_per_token,
                "tokens_per_joule": self.tokens_per_joule,
                "price": self.price, "cost_per_hour": self.cost_per_hour,
                "power": self.power}

    def sensitivities(self, output: str = "cost", uncertainty=None):
        """Exact elasticities of ``output`` ("cost", "energy", "tokens_per_joule", "latency",
        or any output of the law) to every lever, price and power included."""
        return sensitivities(self, OUTPUTS.get(output, output), uncertainty)

    def _repr_tail(self) -> str:
        return (f" {self.phase} b={self.batch_size}: "
                f"{self.cost_per_million_tokens:.4g~P}, {self.energy_per_token:.4g~P}"
                f"{'' if self.feasible else ', INFEASIBLE'}")


def _price(hw, price) -> float:
    if price is None:
        if hw.cloud_price is None:
            raise InvalidParameter(
                f"{hw.key} has no cloud price in the registry; give one device's price per "
                "hour: price='2.50 USD/hour' (--price on the command line)")
        price = hw.cloud_price.hourly
    return checks.positive_quantity("price", price, "USD/s")


def _power(hw, power) -> float:
    if power is None:
        if hw.tdp is None:
            raise InvalidParameter(f"{hw.key} has no TDP in the registry; give one device's "
                                   "power: power='700 W' (--power on the command line)")
        power = hw.tdp
    return checks.positive_quantity("power", power, "W")


def with_economics(inputs, price=None, power=None, power_fraction=1.0):
    """A step's scenario (from ``step_inputs``) bound to its law's cost-and-energy extension:
    the device's price and power (registry, or given), the fraction of power drawn."""
    if inputs.model is not None and not hasattr(inputs.model, "shape"):
        raise InvalidParameter(f"{inputs.model.key}: cost per token applies to transformer "
                               "steps (a fixed workload yields samples, not tokens)")
    fraction = checks.fraction("power_fraction", power_fraction)
    values = {**inputs.values, "p_dev": _price(inputs.hardware, price),
              "P_dev": _power(inputs.hardware, power), "f_P": fraction, "n_dev": 1}
    options = {**inputs.options, "price": "given" if price is not None else "registry",
               "power": "given" if power is not None else "registry (TDP)",
               "power_fraction": fraction}
    return dataclasses.replace(inputs, law=steps.cost_law(inputs.law),
                               values=values, options=options)


def solve(model, hardware, request: StepRequest, price=None, power=None,
          power_fraction=1.0) -> CostResult:
    """See :meth:`CostModel.solve` (``request``: the step's checked options)."""
    scenario = with_economics(request_inputs(model, hardware, request), price, power,
                              power_fraction)
    return CostResult(scenario, evaluate_step(scenario))


class CostModel:
    """Cost and energy per token of a serving step (``symsys.CostModel().solve``)."""

    @step_solver
    def solve(self, model, hardware, *, price=None, power=None, power_fraction=1.0,
              **options) -> CostResult:
        """Dollars and joules per token of one step, with the step itself.

        The step is the one :meth:`Engine.solve` answers for the step options, priced on
        every device of its group (tensor_parallel x pipeline_parallel, or expert_parallel x
        pipeline_parallel with expert parallelism) over the group's rate. data_parallel
        replicas cost r times the devices for r times the rate, so the cost and energy per
        token are one replica's; ``cost_per_hour``, ``power`` and ``throughput`` are all r
        replicas'.

        Parameters
        ----------
        model, hardware : registry entries or their names.
        price : Quantity or string (currency per time), one device's price; default the
            registry's on-demand cloud price (``symsys show DEVICE`` names the cloud and
            date).
        power : Quantity or string (W), one device's power; default its TDP.
        power_fraction : the fraction of ``power`` drawn during the step, in (0, 1];
            default 1, which makes the energy an upper bound.
        <step options>

        Returns
        -------
        CostResult
            ``cost_per_million_tokens``, ``energy_per_token``, ``tokens_per_joule``,
            ``cost_per_hour`` and every output of the step; ``.sensitivities("cost")`` gives
            exact elasticities of cost to every lever, price and power included.
        """
        return solve(model, hardware, StepRequest.from_options(**options), price, power,
                     power_fraction)
