"""The laws of symsys: pure sympy, one module per law."""

from symsys.laws.base import PARALLELISMS, Derived, Law, StepRole
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

__all__ = ["Derived", "Law", "StepRole", "PARALLELISMS", "register", "plugins",
           "roofline", "decode", "prefill", "attention_gqa", "attention_mla",
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


#: the entry-point group through which other packages add laws: in their pyproject.toml,
#: ``[project.entry-points."symsys.laws"]`` ``my_step = "my_package.laws:my_step"`` (a Law, or
#: a sequence of Laws)
ENTRY_POINTS = "symsys.laws"
#: laws of other packages and of this session, by name (see :func:`register`, :func:`plugins`)
_PLUGINS: dict[str, Law] = {}
_ENTRY_POINTS_LOADED = False


def register(*laws: Law) -> None:
    """Make ``laws`` known by name to every front end of this process: a law with a
    :class:`StepRole` can then be asked for as ``law="name"`` by ``Engine.solve``, the cost,
    sensitivity and synthesis solvers, ``symsys.sweep`` and (through the ``symsys.laws``
    entry points, which register on first use) the command line. Registering the same law
    again is allowed; another law under a name taken is an error."""
    for law in laws:
        if not isinstance(law, Law):
            raise TypeError(f"register: {law!r} is not a Law")
        taken = ALL.get(law.name) or _PLUGINS.get(law.name)
        if taken is not None and taken is not law:
            where = "the package's" if law.name in ALL else "a registered"
            raise ValueError(f"law name {law.name!r} is {where} law already; choose another "
                             "name")
        _PLUGINS[law.name] = law


def plugins() -> dict[str, Law]:
    """The laws registered in this process and those of installed packages' ``symsys.laws``
    entry points (loaded once; a broken entry point is an error that names it)."""
    global _ENTRY_POINTS_LOADED
    if not _ENTRY_POINTS_LOADED:
        _ENTRY_POINTS_LOADED = True
        from importlib.metadata import entry_points

        for point in entry_points(group=ENTRY_POINTS):
            try:
                loaded = point.load()
            except Exception as exc:  # an installed package's bug, named
                raise ImportError(f"the symsys.laws entry point {point.name!r} "
                                  f"({point.value}) failed to load: {exc}") from exc
            register(*(loaded if isinstance(loaded, list | tuple) else (loaded,)))
    return dict(_PLUGINS)


def get(name: str) -> Law:
    """The law called ``name``: the package's, else a registered one or an installed
    package's (:func:`plugins`); the error lists the laws that exist."""
    from symsys.errors import InvalidParameter, suggest

    found = ALL.get(name.lower()) or _PLUGINS.get(name) or plugins().get(name)
    if found is None:
        known = [*ALL, *_PLUGINS]
        raise InvalidParameter(
            f"no law {name!r}; laws: {', '.join(known)}." + suggest(name, known)
        )
    return found
