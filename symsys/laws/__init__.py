"""The laws of symsys: pure sympy, one module per law."""

from symsys.laws.base import Derived, Law
from symsys.laws.collectives import collectives
from symsys.laws.economics import (
    decode_cost,
    decode_ep_cost,
    decode_ep_pp_cost,
    decode_pp_cost,
    decode_tp_cost,
    prefill_cost,
    prefill_ep_cost,
    prefill_ep_pp_cost,
    prefill_pp_cost,
    prefill_tp_cost,
)
from symsys.laws.gemm import gemm_tiled
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
from symsys.laws.roofline import roofline
from symsys.laws.serving import decode_sums
from symsys.laws.smooth import smooth_roofline
from symsys.laws.streaming import weight_streaming, weight_streaming_prefill
from symsys.laws.training import training
from symsys.laws.transformer import attention_gqa, attention_mla, transformer_parameters
from symsys.laws.workload import fixed_workload

__all__ = ["Derived", "Law", "roofline", "decode", "prefill", "attention_gqa", "attention_mla",
           "transformer_parameters", "fixed_workload", "weight_streaming",
           "weight_streaming_prefill", "decode_sums", "smooth_roofline", "gemm_tiled",
           "collectives", "decode_tp", "prefill_tp", "decode_pp", "prefill_pp", "decode_ep",
           "prefill_ep", "decode_ep_pp", "prefill_ep_pp", "decode_cost",
           "prefill_cost",
           "decode_tp_cost", "prefill_tp_cost", "decode_pp_cost", "prefill_pp_cost",
           "decode_ep_cost", "prefill_ep_cost", "decode_ep_pp_cost", "prefill_ep_pp_cost",
           "training", "get", "ALL"]

#: Every law, by name, in the order derivation documents list them.
ALL: dict[str, Law] = {
    law.name: law
    for law in (roofline, attention_gqa, attention_mla, transformer_parameters, decode, prefill,
                fixed_workload, decode_sums, weight_streaming, weight_streaming_prefill,
                smooth_roofline, gemm_tiled, collectives, decode_tp, prefill_tp, decode_pp,
                prefill_pp, decode_ep, prefill_ep, decode_ep_pp, prefill_ep_pp, decode_cost,
                prefill_cost, decode_tp_cost, prefill_tp_cost, decode_pp_cost, prefill_pp_cost,
                decode_ep_cost, prefill_ep_cost, decode_ep_pp_cost, prefill_ep_pp_cost,
                training)
}


def get(name: str) -> Law:
    """The law called ``name``; the error lists the laws that exist."""
    from symsys.errors import InvalidParameter, suggest

    try:
        return ALL[name.lower()]
    except KeyError:
        raise InvalidParameter(
            f"no law {name!r}; laws: {', '.join(ALL)}." + suggest(name, ALL)
        ) from None
