"""Where symsys keeps files between processes, and the rules that make that place safe.

Two things are cached on disk: compiled kernels (Python source that is executed) and pint's
parsed unit definitions (a pickle, which is code too). A cache is therefore trusted only as
pip and ssh trust theirs: the directory must belong to the user running symsys and must not
be writable by anyone else. Anything else, and any failure to read or write it, costs only
time: symsys compiles or parses again, never fails, and says why once
(:class:`~symsys.errors.CacheWarning`).

The cache directory is ``$SYMSYS_CACHE_DIR``, else ``$XDG_CACHE_HOME/symsys``, else
``~/.cache/symsys``.
"""

from __future__ import annotations

import os
import stat
import tempfile
import warnings
from pathlib import Path

from symsys.errors import CacheWarning

#: a directory or file that other users may write to is not trusted (as pip and ssh decide)
_OTHERS_WRITE = stat.S_IWGRP | stat.S_IWOTH
_WARNED: set[str] = set()


def cache_dir() -> Path:
    """The root of symsys's on-disk cache (it may not exist yet)."""
    if os.environ.get("SYMSYS_CACHE_DIR"):
        return Path(os.environ["SYMSYS_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "symsys"


def warn_once(message: str) -> None:
    """One :class:`CacheWarning` per message and process (a CLI run shows it once)."""
    if message not in _WARNED:
        _WARNED.add(message)
        warnings.warn(message, CacheWarning, stacklevel=3)


def untrusted_reason(path: Path) -> str | None:
    """Why ``path`` (an existing directory or file) must not be used, or None if it may.

    It must belong to the user running symsys and not be writable by group or others; a
    symbolic link is judged by what it points to.
    """
    try:
        info = path.stat()
    except OSError as exc:
        return f"cannot be inspected ({exc.strerror})"
    owner = os.geteuid() if hasattr(os, "geteuid") else info.st_uid
    if info.st_uid != owner:
        return f"belongs to user id {info.st_uid}, not to the user running symsys ({owner})"
    if info.st_mode & _OTHERS_WRITE:
        return (f"is writable by other users (mode {stat.S_IMODE(info.st_mode):o}); "
                f"`chmod go-w {path}` makes it usable")
    return None


def trusted_dir(*parts: str, create: bool = True) -> Path | None:
    """The cache subdirectory ``parts``, created private (0700) if missing, or None when it
    cannot be created or any directory from the cache root down is untrusted (with a
    warning naming it; nothing is created below an untrusted one)."""
    directory = cache_dir()
    for part in ("", *parts):
        directory = directory / part if part else directory
        try:
            if create:
                directory.mkdir(mode=0o700, parents=not part, exist_ok=True)
            elif not directory.is_dir():
                return None
        except OSError:
            return None  # an unwritable or missing home: compile in memory, silently
        reason = untrusted_reason(directory)
        if reason:
            warn_once(f"symsys: not using the cache directory {directory}: it {reason}; "
                      "answers are computed without it (slower, never different)")
            return None
    return directory


def write_atomic(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` so that a reader sees the old file or the whole new one,
    never a part; a failure (full disk, read-only) leaves no temporary file. True if written.
    """
    descriptor, temporary = None, None
    try:
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                                 suffix=".tmp")
        with os.fdopen(descriptor, "wb") as stream:
            descriptor = None  # the file object owns it now
            stream.write(data)
        os.replace(temporary, path)
        return True
    except OSError:
        if descriptor is not None:
            os.close(descriptor)
        if temporary is not None:
            try:
                os.unlink(temporary)
            except OSError:
                pass
        return False
