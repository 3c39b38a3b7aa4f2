"""Inverse designs of a training iteration, from the training law's derived results.

Each question has a closed form, solved by sympy from the law (``m_bub``, ``b_fit``,
``n_need`` in :mod:`symsys.laws.training`, printed in ``derivations/training.md``) and
evaluated by its compiled kernel; and a whole answer, the integer configuration that satisfies
the request, checked on the compiled law itself (a closed form that holds only under some
conditions, such as no network latency, is reported as None where they do not hold; the whole
answer does not depend on it):

- the microbatches per pipeline that bring the bubble's share of the iteration below x;
- the largest microbatch whose activations fit beside the sharded states;
- the data-parallel replicas (so the devices) that train D tokens in a given time, at the
  same global batch.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from symsys.errors import InvalidParameter
from symsys.solvers import checks
from symsys.solvers.parallel import closed_form


@dataclasses.dataclass(frozen=True)
class Design:
    """The answer to an inverse-design question about a training iteration.

    ``exact`` is the closed-form real answer (None where its conditions do not hold or it is
    not a positive number), ``whole`` the integer answer checked on the compiled law (None
    when no configuration satisfies the request: ``reason`` says why), ``result`` the
    iteration at the whole answer.
    """

    question: str
    exact: float | None
    whole: int | None
    result: object = None
    reason: str = ""

    @property
    def feasible(self) -> bool:
        return self.whole is not None

    def __repr__(self) -> str:
        exact = "n/a" if self.exact is None else f"{self.exact:.4g}"
        answer = self.whole if self.feasible else f"none ({self.reason})"
        return f"<Design {self.question}: {answer} (closed form {exact})>"


def microbatches_for_bubble(result, share) -> Design:
    """The fewest microbatches per pipeline (so the global batch) at which the pipeline
    bubble is at most ``share`` of the iteration."""
    share = float(share)
    if not 0 < share < 1:
        raise InvalidParameter(f"share={share!r}: the bubble's share of the iteration, "
                               "between 0 and 1 (e.g. 0.05)")
    scenario = result.scenario
    exact = closed_form(scenario, "m_bub", x_bub=share)
    values = scenario.values
    per_microbatch = int(values["b"] * values["n_dp"])
    whole = max(1, math.ceil(exact)) if exact is not None else 1
    # the closed form is exact; rounding may still leave the share a hair above at the boundary
    while scenario.call(("phi_bub",), B_g=whole * per_microbatch)["phi_bub"] > share * (
            1 + 1e-12):
        whole += 1
    question = f"microbatches for a bubble of at most {share:.1%}"
    return Design(question, exact, whole,
                  result.resolve(global_batch_size=whole * per_microbatch))


def largest_microbatch(result) -> Design:
    """The largest microbatch whose memory per device fits the capacity, among those that
    split each replica's share of the global batch into whole microbatches."""
    scenario = result.scenario
    exact = closed_form(scenario, "b_fit")
    values = scenario.values
    per_replica = int(values["B_g"] // values["n_dp"])
    candidates = np.array([b for b in range(1, per_replica + 1) if per_replica % b == 0],
                          dtype=float)
    fn = scenario.kernel(("M",), scalar=False)
    memory = np.broadcast_to(
        fn(*({**values, "b": candidates}[a] for a in fn.args))[0], candidates.shape)
    fits = candidates[memory <= values["C_mem"]]
    question = "largest microbatch that fits"
    if not fits.size:
        why = (f"even a microbatch of 1 needs {memory[0] / 1e9:.4g} GB per device, more than "
               f"the {values['C_mem'] / 1e9:.4g} GB it has")
        return Design(question, exact, None, None, why)
    whole = int(fits.max())
    return Design(question, exact, whole, result.resolve(microbatch_size=whole))


def devices_to_train(result, tokens, time) -> Design:
    """The fewest data-parallel replicas (devices = tensor x pipeline x data) that train on
    ``tokens`` within ``time`` at this global batch, microbatch and per-replica layout."""
    tokens = checks.token_count(tokens)
    goal = checks.positive_quantity("time", time, "s")
    scenario = result.scenario
    values = scenario.values
    exact = None
    if values["alpha_n"] == 0 and values["f_opt"] == 0:  # the closed form's conditions
        exact = closed_form(scenario, "n_need", D_tok=tokens, T_goal=goal)
    per_replica = int(values["B_g"] // values["b"])  # microbatches the whole batch holds
    replicas = np.array([n for n in range(1, per_replica + 1) if per_replica % n == 0],
                        dtype=float)
    fn = scenario.kernel(("T_train", "M"), scalar=False)
    times, memory = (np.broadcast_to(x, replicas.shape) for x in fn(
        *({**values, "n_dp": replicas, "D_tok": tokens}[a] for a in fn.args)))
    ok = (times <= goal * (1 + 1e-12)) & (memory <= values["C_mem"])
    devices = int(values["n_t"] * values["n_p"])
    question = (f"devices to train on {tokens:.4g} tokens in {goal / 86400:.4g} days "
                f"(tp {int(values['n_t'])} x pp {int(values['n_p'])} x dp)")
    if not ok.any():
        best = int(np.argmin(times))
        why = (f"the fastest layout, dp {int(replicas[best])} ({devices * int(replicas[best])} "
               f"devices), takes {times[best] / 86400:.4g} days: the global batch of "
               f"{int(values['B_g'])} sequences in microbatches of {int(values['b'])} allows "
               "no more replicas; raise the global batch or the time")
        return Design(question, exact, None, None, why)
    dp = int(replicas[ok].min())
    return Design(question, exact, dp * devices, result.resolve(data_parallel=dp))
