"""The one exception hierarchy of symsys.

Every error a user can cause derives from :class:`SymsysError` and carries a message that
names the bad value, the parameter and what would be valid. The CLI prints that one line
(exit code 1, or 2 for usage errors) instead of a traceback.
"""

from __future__ import annotations

import difflib
import re
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


class ClusterError(SymsysError, RuntimeError):
    """A Dask cluster that cannot be reached, or that was lost during a computation (its
    scheduler gone, or no worker left). The message names the scheduler's address and what
    happened; ``.parameter``, ``.value`` and ``.valid`` say which argument to change, its
    value and what would be valid."""

    def __init__(self, message: str, parameter: str = "scheduler", value=None,
                 valid: str = ""):
        super().__init__(message, parameter, value, valid)
        self.parameter, self.value, self.valid = parameter, value, valid

    def __str__(self) -> str:
        return self.args[0]


class CacheWarning(UserWarning):
    """A cache entry or directory symsys did not use (corrupt, edited, or writable by others):
    the answer is computed without it, so only time is lost."""


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


#: separators a name may be written with or without ("Llama3_8B", "llama-3-8b", "llama3 8b")
_SEPARATORS = re.compile(r"[\s_\-./]")
#: characters people confuse when they type a name they read: O/0, l/1, I/1
_LOOKALIKES = str.maketrans("oli", "011")
#: at most this many names listed for a prefix ("llama3" matches every Llama 3 model)
MAX_LISTED = 10


def fold(name: str) -> str:
    """A name as compared for suggestions: lowercase, without separators, with the
    look-alike characters O/0 and l/I/1 made equal, so 'H1OO' and 'h100' compare equal."""
    return _SEPARATORS.sub("", str(name)).lower().translate(_LOOKALIKES)


def close_matches(name: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """The choices ``name`` most likely meant, best first.

    Both sides are compared by :func:`fold`. A choice equal to ``name`` once folded is the
    answer on its own; otherwise every choice that starts with it (shortest first: 'llama3'
    lists the Llama 3 models); otherwise up to
    ``n`` close spellings by :mod:`difflib`.

    Parameters
    ----------
    name : str
        What the user typed.
    choices : iterable of str
        The valid names; spellings that fold alike are listed once, by the first of them.
    n : int
        How many close spellings to list when nothing matches exactly or by prefix.
    """
    folded: dict[str, str] = {}
    for choice in choices:
        folded.setdefault(fold(choice), choice)
    key = fold(name)
    if not key:
        return []
    if key in folded:
        return [folded[key]]
    # a prefix of one or two characters ("h", "a1") says too little to list what it starts
    prefixed = [c for f, c in sorted(folded.items(), key=lambda fc: len(fc[0]))
                if len(key) >= 3 and f.startswith(key)]
    if prefixed:
        return prefixed
    return [folded[m] for m in difflib.get_close_matches(key, list(folded), n=n, cutoff=0.6)]


def suggest(name: str, choices: Iterable[str], n: int = 3) -> str:
    """A ' Did you mean ...?' clause naming the close matches of ``name``, or ''.

    Parameters
    ----------
    name : str
        What the user typed.
    choices : iterable of str
        The valid names (see :func:`close_matches` for how they are compared).
    n : int
        How many close spellings to list at most.
    """
    return did_you_mean(close_matches(name, list(choices), n))


def did_you_mean(matches: list[str]) -> str:
    """' Did you mean 'A', 'B'?' for names already matched (at most :data:`MAX_LISTED`, then
    how many there are), or '' for none.

    Parameters
    ----------
    matches : list of str
        The names to offer, best first.
    """
    if not matches:
        return ""
    listed = ", ".join(repr(m) for m in matches[:MAX_LISTED])
    if len(matches) > MAX_LISTED:
        listed += f" ... ({len(matches)} in all)"
    return f" Did you mean {listed}?"
