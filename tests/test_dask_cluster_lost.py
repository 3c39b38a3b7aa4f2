"""A Dask cluster that is lost during a sweep, or cannot be reached, is one clear error.

Each test starts its own ``distributed.LocalCluster`` (one worker process, loopback only),
starts a sweep of about 1,800 blocks on it (longer than the test waits), and when the worker
has returned a few blocks closes the cluster, or takes its worker away for good, or kills the
worker process (which its nanny replaces: the sweep must then finish, equal to the numpy
path). The errors must be :class:`~symsys.errors.ClusterError` naming the scheduler's address
and what happened, in Python and as one line from the command line (exit code 1).
"""

from __future__ import annotations

import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import dask
import numpy as np
import pytest

import symsys
from symsys.cli import main
from symsys.errors import ClusterError, SymsysError
from symsys.solvers import progress
from symsys.sweeps import on_dask, reduce

pytestmark = pytest.mark.slow  # starts and kills Dask clusters

distributed = pytest.importorskip("distributed")

#: ~36M configurations in 1,803 blocks of 20,000: over 10 s on one worker
BIG = dict(model="Llama3_8B", hardware=["H100", "A100"], batch_size=range(1, 2_000_001),
           seq_len=[0, 256, 512, 1024, 2048, 4096], precision=["fp16", "fp8"], chunk_size=20_000)
#: a tenth of it, for the sweep that must finish
SMALL = {**BIG, "batch_size": range(1, 200_001)}
#: blocks the worker returns before the test acts
BEFORE = 20


@pytest.fixture
def cluster():
    """One worker process, threads 1, on loopback; its clients closed afterwards."""
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                       dashboard_address=None, host="127.0.0.1")
    yield cluster
    client = on_dask._CLIENTS.pop(cluster.scheduler_address, None)
    if client is not None:
        client.close(timeout=2)
    cluster.close(timeout=5)


@contextmanager
def after_blocks(monkeypatch, action):
    """Within: ``action()`` runs in a thread once a sweep's reduction has combined
    ``BEFORE`` blocks (counted by its progress bar). Yields the event set when it ran."""
    combined, acted = threading.Event(), threading.Event()

    @contextmanager
    def counting_bar(total, unit, shown=None):
        count = [0]

        def tick(n=1):
            count[0] += n
            if count[0] >= BEFORE:
                combined.set()

        yield tick

    def act():
        if combined.wait(timeout=60):
            action()
            acted.set()

    monkeypatch.setattr(progress, "bar", counting_bar)
    thread = threading.Thread(target=act, daemon=True)
    thread.start()
    yield acted
    combined.set()  # a sweep that ended early still lets the thread finish
    thread.join(timeout=10)


def best_of(grid: dict, **options):
    lazy = symsys.sweep(**grid, backend="dask", **options)
    return reduce.apply(lazy, reduce.Best("throughput", per=("hardware",)), progress=False)[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_cluster_closed_mid_sweep_is_one_clear_error(cluster, monkeypatch):
    address = cluster.scheduler_address
    start = time.monotonic()
    with after_blocks(monkeypatch, cluster.close) as acted:
        with pytest.raises(ClusterError) as raised:
            best_of(BIG, scheduler=address)
    assert acted.is_set() and time.monotonic() - start < 20
    message = str(raised.value)
    assert message.startswith(f"scheduler={address!r}: the Dask cluster was lost after ")
    assert " of 1,803 blocks: " in message and "\n" not in message
    assert raised.value.parameter == "scheduler" and raised.value.value == address


def test_every_worker_lost_is_one_clear_error(cluster, monkeypatch):
    address = cluster.scheduler_address
    start = time.monotonic()
    with dask.config.set({"symsys.no-workers-timeout": "1s"}):
        with after_blocks(monkeypatch, lambda: cluster.scale(0)) as acted:
            with pytest.raises(ClusterError) as raised:
                best_of(BIG, scheduler=address)
    assert acted.is_set() and time.monotonic() - start < 20
    message = str(raised.value)
    assert message.startswith(f"scheduler={address!r}: every worker of the Dask cluster was "
                              "lost after ")
    assert "(symsys.no-workers-timeout: 1 s)" in message and f"dask worker {address}" in message
    done = int(message.split(" lost after ")[1].split(" of ")[0].replace(",", ""))
    assert BEFORE <= done < 1803


def test_a_killed_worker_is_replaced_and_the_sweep_finishes_exactly(cluster, monkeypatch):
    client = distributed.Client(cluster)
    (first,) = client.run(os.getpid).values()
    with after_blocks(monkeypatch, lambda: os.kill(first, signal.SIGKILL)) as acted:
        found = best_of(SMALL, scheduler=client)
    assert acted.is_set()
    client.wait_for_workers(1, timeout=10)
    assert list(client.run(os.getpid).values()) != [first]  # its nanny started another
    monkeypatch.undo()
    expected = reduce.best(symsys.sweep(**{k: v for k, v in SMALL.items() if k != "chunk_size"}),
                           "throughput", per=("hardware",))
    for name in ("hardware", "precision", "batch_size", "seq_len"):
        np.testing.assert_array_equal(found[name], expected[name])
    np.testing.assert_array_equal(found["throughput"].magnitude, expected["throughput"].magnitude)
    client.close()


class Crash(reduce.Count):
    """A reducer whose every block ends the worker process running it (as running out of
    memory would)."""

    def partial(self, frame):
        os._exit(1)


def test_a_block_that_kills_its_workers_names_the_chunk_size():
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                           dashboard_address=None, host="127.0.0.1")
    lazy = symsys.sweep(**{**SMALL, "batch_size": range(1, 2001)}, backend="dask",
                        scheduler=cluster.scheduler_address)
    with cluster, pytest.raises(ClusterError) as raised:
        reduce.apply(lazy, Crash(), progress=False)
    on_dask._CLIENTS.pop(cluster.scheduler_address).close(timeout=2)
    message = str(raised.value)
    assert message.startswith(f"scheduler={cluster.scheduler_address!r}: the Dask workers "
                              "running a block of the sweep died after 0 of ")
    assert "KilledWorker" in message and "give chunk_size fewer than 20,000" in message
    assert raised.value.parameter == "chunk_size" and raised.value.value == 20_000


def test_an_address_where_nothing_listens_is_one_clear_error():
    address = f"tcp://127.0.0.1:{free_port()}"
    start = time.monotonic()
    with dask.config.set({"symsys.connect-timeout": "1s"}):
        with pytest.raises(ClusterError) as raised:
            best_of({**SMALL, "batch_size": [1, 8]}, scheduler=address)
    assert time.monotonic() - start < 10
    assert str(raised.value).startswith(f"scheduler={address!r}: cannot connect: no Dask "
                                        "scheduler answered within 1 s")
    assert raised.value.value == address and "tcp://host:8786" in raised.value.valid
    clone = pickle.loads(pickle.dumps(raised.value))  # errors cross processes too
    assert (str(clone), clone.parameter, clone.value) == (str(raised.value), "scheduler", address)


def test_an_address_that_is_not_one_is_an_invalid_parameter():
    with pytest.raises(SymsysError, match=r"scheduler='nowhere': missing port number.*"
                                          r"expected an address such as 'tcp://host:8786'"):
        best_of({**SMALL, "batch_size": [1, 8]}, scheduler="nowhere")


def test_the_command_line_says_it_in_one_line():
    address = f"tcp://127.0.0.1:{free_port()}"
    env = {**os.environ, "DASK_SYMSYS__CONNECT_TIMEOUT": "1s"}
    proc = subprocess.run([sys.executable, "-m", "symsys", "sweep", "Llama3_8B", "H100",
                           "-b", "1:100", "--backend", "dask", "--scheduler", address,
                           "--best", "throughput"], capture_output=True, text=True,
                          timeout=60, env=env)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.splitlines() == [proc.stderr.strip()]  # one line, no traceback
    assert proc.stderr.startswith(f"symsys sweep: scheduler={address!r}: cannot connect")


def test_the_command_line_reports_a_cluster_lost_mid_sweep(cluster, monkeypatch, capsys):
    address = cluster.scheduler_address
    with after_blocks(monkeypatch, cluster.close) as acted:
        code = main(["sweep", "Llama3_8B", "H100,A100", "-b", "1:2000001",
                     "-s", "0,256,512,1024,2048,4096", "-p", "fp16,fp8", "--chunk-size", "20000",
                     "--backend", "dask", "--scheduler", address, "--best", "throughput"])
    err = capsys.readouterr().err.strip()
    assert acted.is_set() and code == 1
    last = err.splitlines()[-1]  # distributed may log the closing cluster above it
    assert last.startswith(f"symsys sweep: scheduler={address!r}: the Dask cluster was lost")
