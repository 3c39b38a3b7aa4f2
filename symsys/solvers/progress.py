"""A progress bar for long sweeps and reductions: shown on a terminal, silent otherwise.

tqdm draws it (part of the ``dask`` and ``dev`` extras). ``progress=None`` shows it only when
stderr is a terminal and tqdm is installed; ``True`` requires tqdm; ``False`` never shows it
(the command line passes False with --json).
"""

from __future__ import annotations

import contextlib
import sys

from symsys.errors import InvalidParameter


@contextlib.contextmanager
def bar(total: int | None, unit: str, progress=None):
    """Yield a function to call once per finished piece of ``total``."""
    shown = progress if progress is not None else sys.stderr.isatty()
    tqdm = None
    if shown:
        try:
            from tqdm import tqdm
        except ImportError:
            if progress:
                raise InvalidParameter('progress=True needs tqdm: pip install "symsys[dask]" '
                                       "(or tqdm)") from None
    if tqdm is None:
        yield lambda n=1: None
        return
    with tqdm(total=total, unit=unit, file=sys.stderr, leave=False,
              dynamic_ncols=True) as line:
        yield line.update
