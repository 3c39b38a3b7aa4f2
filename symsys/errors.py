"""The one exception hierarchy of symsys.

Every error a user can cause derives from :class:`SymsysError` and carries a message that
names the bad value, the parameter and what would be valid. The CLI prints that one line
(exit code 1, or 2 for usage errors) instead of a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class SymsysError(Exception):
    """Base class of every error symsys raises on purpose."""


class InvalidParameter(SymsysError, ValueError):
    """A number or option outside the values the model accepts."""


class UnitError(SymsysError, ValueError):
    """A quantity with the wrong dimension, or a bare number where a unit is required."""


class UnknownName(SymsysError, KeyError):
    """A registry lookup with no match. ``str()`` gives the message, not its repr."""

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0] if self.args else ""


class UnknownHardware(UnknownName):
    """No hardware entry of that name or alias."""


class UnknownSystem(UnknownHardware):
    """No system (node, rack, cluster) of that name; a system is hardware to the solvers."""


class UnknownModel(UnknownName):
    """No model entry of that name, alias or Hugging Face id."""


class UnsupportedPrecision(InvalidParameter):
    """A precision the device (or symsys) does not support."""


class RegistryError(SymsysError):
    """A malformed registry data file or Hugging Face config: names the file and field."""


class InfeasibleConfiguration(SymsysError):
    """Raised only when a caller asks for it (``raise_if_infeasible=True``)."""


class BeyondMaxContext(UserWarning):
    """A context longer than the model was trained for: the answer extrapolates the model."""


def warn_beyond_max_context(model, tokens: int) -> None:
    """Warn when a step holds more tokens than the model's ``max_positions`` (0: unknown)."""
    limit = getattr(getattr(model, "shape", None), "max_positions", 0)
    if limit and tokens > limit:
        import warnings

        warnings.warn(
            f"{model.key}: {tokens} tokens of context exceed its max_position_embeddings "
            f"({limit}); the answer is the cost of a context the model was not trained for "
            "(load a config.json with rope scaling for a longer-context variant)",
            BeyondMaxContext, stacklevel=4)


def suggest(name: str, choices: Iterable[str], n: int = 3) -> str:
    """Return a ' Did you mean ...?' clause with close matches of ``name``, or ''."""
    lowered = {c.lower(): c for c in choices}
    matches = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.6)
    if not matches:
        return ""
    return " Did you mean " + ", ".join(repr(lowered[m]) for m in matches) + "?"
