"""Issue 24: symsys's caches can neither break symsys nor be used against it.

Each test first builds the situation that broke or fooled symsys before (two environments
sharing pint's cache, a planted or edited kernel, a corrupt file, a crowd of cold starts, a
read-only or full cache home), then checks the answer: the right number, no traceback, and a
cache that heals.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pint
import pytest
import sympy as sp

import symsys
from symsys import cache, kernels
from symsys.errors import CacheWarning
from symsys.laws import Law
from symsys.symbols import F, Pi, T, t_compute

ROOT = Path(symsys.__file__).resolve().parents[1]
# 2 B x (all weights - input table + one looked-up row) + one token's K/V, at 3.35 TB/s
LLAMA3_8B_H100 = 15_009_988_608 / 3.35e12
SOLVE = ("import sys, symsys; r = symsys.Engine.solve('Llama3_8B', 'H100'); "
         "print(repr(r.latency.m_as('s')))")


def clean_env(cache_dir=None, **extra) -> dict:
    """The environment of a fresh process: no inherited symsys or XDG cache settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SYMSYS_") and k != "XDG_CACHE_HOME"}
    if cache_dir is not None:
        env["SYMSYS_CACHE_DIR"] = str(cache_dir)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def python(code: str, env: dict, cwd: Path, timeout: int = 120) -> subprocess.CompletedProcess:
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=timeout)


def solved_latency(result: subprocess.CompletedProcess) -> float:
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    return float(result.stdout.split()[-1])


# --- pint's parsed definitions --------------------------------------------------------------------
def test_deleting_another_environment_does_not_break_this_one(tmp_path):
    """Environment A is a second installation of pint (a copy of this one's files, so pint's
    own content-keyed cache would share its entry); it runs symsys first, then is deleted.
    Before: every later run elsewhere failed with FileNotFoundError
    '.../pint/default_en.txt/constants_en.txt' (pint issues 1572, 2263)."""
    environment_a = tmp_path / "env_a"
    shutil.copytree(Path(pint.__file__).parent, environment_a / "pint",
                    ignore=shutil.ignore_patterns("__pycache__"))
    home = tmp_path / "cache-home"  # XDG_CACHE_HOME: where pint's ':auto:' cache lived
    env_a = clean_env(XDG_CACHE_HOME=home, PYTHONPATH=f"{environment_a}{os.pathsep}{ROOT}")
    probe = "import pint, symsys.units; print(pint.__file__)"
    first = python(probe, env_a, tmp_path / "run")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().startswith(str(environment_a))  # really the other install
    shutil.rmtree(environment_a)
    env_b = clean_env(XDG_CACHE_HOME=home, PYTHONPATH=ROOT)
    assert solved_latency(python(SOLVE, env_b, tmp_path / "run")) == pytest.approx(
        LLAMA3_8B_H100, rel=1e-12)
    assert not (home / "pint").exists()  # pint's shared ':auto:' cache is not used at all
    per_install = [p.name for p in (home / "symsys" / "pint").iterdir()]
    assert len(per_install) == 2  # one entry per installation, never shared


def test_a_truncated_unit_cache_heals(tmp_path):
    """A full disk once left a truncated pickle that failed every later run."""
    env = clean_env(tmp_path / "cache")
    assert solved_latency(python(SOLVE, env, tmp_path)) == pytest.approx(LLAMA3_8B_H100)
    pickles = sorted((tmp_path / "cache" / "pint").rglob("*.pickle"))
    assert pickles
    for path in pickles:
        path.write_bytes(path.read_bytes()[:100])
    assert solved_latency(python(SOLVE, env, tmp_path)) == pytest.approx(LLAMA3_8B_H100)
    for path in pickles:  # parsed again and written whole
        assert path.stat().st_size > 100


def test_a_unit_cache_writable_by_others_is_not_read(tmp_path):
    """pint's cache is a pickle (code): one that another user could write is not loaded."""
    shared = tmp_path / "cache"
    shared.mkdir()
    shared.chmod(0o777)
    result = python(SOLVE, clean_env(shared), tmp_path)
    assert solved_latency(result) == pytest.approx(LLAMA3_8B_H100)
    assert "writable by other users" in result.stderr  # said once, as a warning
    assert not (shared / "pint").exists()


@pytest.mark.parametrize("home", ["under-a-file", "full"])
def test_an_unwritable_or_full_cache_home_costs_only_time(tmp_path, home):
    """Before: an unwritable cache home crashed pint's cache; a full disk left a truncated
    entry. A file where the cache directory should be cannot be written even by root; a
    file-size limit of 2 kB makes every cache write fail as a full disk does."""
    if home == "under-a-file":
        blocker = tmp_path / "not-a-directory"
        blocker.write_text("")
        env = clean_env(blocker / "symsys", XDG_CACHE_HOME=blocker)
        code = SOLVE
    else:
        env = clean_env(tmp_path / "cache", SYMSYS_NO_SHIPPED=1)  # kernels are written too
        code = ("import resource, signal; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
                "resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048)); " + SOLVE)
    result = python(code, env, tmp_path, timeout=300)
    assert solved_latency(result) == pytest.approx(LLAMA3_8B_H100, rel=1e-12)
    if home == "full":
        written = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
        assert not [p for p in written if p.name.endswith(".tmp")]  # no temporary left
        kernel_files = [p for p in written if p.suffix == ".py"]
        assert all(kernels._checked_source(p.stem, p.read_bytes()) for p in kernel_files)


@pytest.mark.slow
def test_thirty_two_concurrent_cold_starts_on_an_empty_cache(tmp_path):
    """Before: 4 of 48 concurrent cold starts crashed with EOFError reading pint's cache
    while another process was writing it."""
    env = clean_env(tmp_path / "cache")
    command = [sys.executable, "-m", "symsys", "solve", "Llama3_8B", "H100", "--json"]

    def cold_start(_):
        return subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path,
                              timeout=300)

    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(cold_start, range(32)))
    failures = [r.stderr[-500:] for r in results if r.returncode or r.stderr]
    assert failures == []
    latencies = [json.loads(r.stdout)["latency"] for r in results]
    assert latencies == [pytest.approx(LLAMA3_8B_H100, rel=1e-12)] * 32


# --- kernels ------------------------------------------------------------------------------------
def _square_law(scale=1):
    return Law("square_test", "t", "s", inputs=(F, Pi),
               definitions=((t_compute, scale * F / Pi), (T, sp.Max(t_compute, 3))))


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    """An empty private kernel cache for this process, and no kernel remembered in memory."""
    monkeypatch.setenv("SYMSYS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(kernels, "_MEMORY", {})
    monkeypatch.setattr(kernels, "_REQUESTS", {})
    monkeypatch.setattr(cache, "_WARNED", set())
    return tmp_path / "cache" / "kernels" / "user-laws"  # where a user law's kernels go


def test_every_shipped_kernel_file_carries_the_hash_of_its_source():
    files = sorted(kernels.SHIPPED.glob("*/*.kernel"))
    assert len(files) > 100
    for path in files:
        assert kernels._checked_source(path.stem, path.read_bytes()) is not None, path.name


def test_a_kernel_file_is_written_atomically_with_its_hash(private_cache):
    built = kernels.kernel(_square_law(), ("T",), scalar=True)
    path = private_cache / f"{built.name}.py"
    data = path.read_bytes()
    header, _, body = data.partition(b"\n")
    assert header == b"# symsys-kernel sha256=" + hashlib.sha256(body).hexdigest().encode()
    assert body.decode() == built.source
    assert [p.name for p in private_cache.iterdir()] == [path.name]  # no temporary files
    assert oct(private_cache.stat().st_mode & 0o777) == oct(0o700)


@pytest.mark.parametrize("damage", ["edited", "empty", "truncated", "nul-bytes", "other-key"])
def test_a_damaged_cache_entry_is_never_run_and_heals(private_cache, damage):
    """Before: an edited kernel silently gave another answer; an empty, truncated or NUL-filled
    one raised on every run and never healed."""
    built = kernels.kernel(_square_law(), ("T",), scalar=True)
    path = private_cache / f"{built.name}.py"
    good = path.read_bytes()
    damaged = {
        "edited": good.replace(b"F/Pi", b"0.5*F/Pi"),  # hash not updated: an edit by hand
        "empty": b"",
        "truncated": good[: len(good) // 2],
        "nul-bytes": b"\0" * 64,
        "other-key": good.replace(built.name.encode(), b"square_test.general." + b"0" * 16
                                  + b".scalar"),
    }[damage]
    assert damaged != good
    path.write_bytes(damaged)
    kernels._MEMORY.clear()
    kernels._REQUESTS.clear()
    with pytest.warns(CacheWarning, match="corrupt or was edited"):
        again = kernels.kernel(_square_law(), ("T",), scalar=True)
    assert again.named({"F": 8.0, "Pi": 2.0}) == {"T": 4.0}
    assert path.read_bytes() == good  # compiled again and replaced


def test_a_kernel_that_differs_from_the_shipped_one_is_never_used(private_cache, tmp_path):
    """A planted file with a valid hash header at the key of a shipped kernel: before, the
    user cache was read first and an edit halved the answer (4.481 ms -> 2.24 ms) or ran any
    code. The shipped kernel wins."""
    shipped = next((kernels.SHIPPED / "decode").glob("decode.*.scalar.kernel"))
    body = shipped.read_bytes().partition(b"\n")[2]
    marker = tmp_path / "planted-code-ran"
    planted = body + f"\nopen({str(marker)!r}, 'w').close()\n".encode()
    for path in kernels.SHIPPED.glob("*/*.kernel"):
        law = path.parent.name
        folder = private_cache.parent / f"{law}-{kernels.law_hash(law)}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{path.stem}.py").write_bytes(
            b"# symsys-kernel sha256=" + hashlib.sha256(planted).hexdigest().encode() + b"\n"
            + planted.replace(shipped.stem.encode(), path.stem.encode()))
    env = clean_env(tmp_path / "cache")
    assert solved_latency(python(SOLVE, env, tmp_path)) == pytest.approx(LLAMA3_8B_H100,
                                                                         rel=1e-12)
    assert not marker.exists()


def test_a_cache_writable_by_other_users_is_neither_read_nor_written(private_cache):
    root = private_cache.parent.parent
    root.mkdir(parents=True)
    root.chmod(0o777)
    with pytest.warns(CacheWarning, match=r"writable by other users \(mode 777\)"):
        built = kernels.kernel(_square_law(3), ("T",), scalar=True)
    assert built.named({"F": 8.0, "Pi": 2.0}) == {"T": 12.0}
    assert not private_cache.exists()
    # a directory of another user: simulated, since tests may run as root
    root.chmod(0o700)
    assert cache.untrusted_reason(root) is None
    fake_owner = os.geteuid() + 1

    class Stat:
        st_uid, st_mode = fake_owner, 0o40700

    assert "belongs to user id" in cache.untrusted_reason(
        type("P", (), {"stat": lambda self: Stat()})())


@pytest.mark.parametrize("name", ["../../x", "a/b", "", "1law", "law name", "läw", "x.y"])
def test_a_law_name_is_an_identifier_never_a_path(name):
    with pytest.raises(ValueError, match="must be a Python identifier"):
        Law(name, "t", "s", inputs=(F, Pi), definitions=((t_compute, F / Pi),))


def test_a_variant_name_is_checked_before_it_names_a_file(private_cache):
    law = Law("variant_test", "t", "s", inputs=(F, Pi), definitions=((t_compute, F / Pi),),
              variants={"../up": lambda e: e})
    with pytest.raises(ValueError, match="must be identifiers"):
        kernels.kernel(law, ("t_compute",), "../up", scalar=True)
    assert not private_cache.parent.joinpath("up").exists()


def test_warnings_reach_a_cli_user_as_one_line(tmp_path):
    shared = tmp_path / "cache"
    shared.mkdir()
    shared.chmod(0o777)
    result = subprocess.run([sys.executable, "-m", "symsys", "solve", "Llama3_8B", "H100"],
                            capture_output=True, text=True, env=clean_env(shared), cwd=tmp_path,
                            timeout=120)
    assert result.returncode == 0
    lines = result.stderr.strip().splitlines()
    # the unit cache is checked at import (a Python warning there, before the CLI starts)
    # and the kernel cache in the command: the latter is one 'symsys: warning:' line
    assert all("writable by other users" in line for line in lines), lines
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cache.untrusted_reason(tmp_path) is None
