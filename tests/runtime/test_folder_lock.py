"""samplevis.runtime.folder_lock and samplevis.runtime.claims: runs writing one output folder take turns, a waiting
run says who it waits for, and neither a lock nor the claims of a killed process block anyone."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from samplevis.runtime import claims
from samplevis.runtime.folder_lock import HOLDER_FILE, Process, folder_lock

ROOT = Path(__file__).resolve().parents[2]
POSIX = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is a POSIX signal")

# A process that takes the lock on a folder, says so, and holds it until it is killed.
HOLD = """
import sys, time
from samplevis.runtime.folder_lock import folder_lock
with folder_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(600)
"""


def python(script: str, *args: str, **popen) -> subprocess.Popen:
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    return subprocess.Popen([sys.executable, "-c", script, *args], env=env, **popen)


@pytest.fixture
def killed_holder(tmp_path):
    """(the folder, the process holding its lock, a thread waiting for the lock and the messages
    it said); the process is SIGKILLed at the end if the test has not done it."""
    holder = python(HOLD, str(tmp_path), stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        yield tmp_path, holder
    finally:
        holder.kill()
        holder.wait(timeout=60)


@POSIX
def test_a_waiting_run_says_who_holds_the_lock_and_a_sigkill_frees_it(killed_holder):
    folder, holder = killed_holder
    said: list[str] = []
    acquired = threading.Event()

    def wait_for_the_lock():
        with folder_lock(folder, say_after=0.2, say=said.append):
            acquired.set()

    waiter = threading.Thread(target=wait_for_the_lock)
    waiter.start()
    try:
        deadline = time.monotonic() + 60
        while not said and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not acquired.is_set()
        recorded = Process.from_dict(json.loads((folder / HOLDER_FILE).read_text()))
        assert recorded.pid == holder.pid and recorded.host == socket.gethostname()
        assert said == [f"waiting for the lock on {folder}, held by {recorded}."]
        assert f"pid {holder.pid} on host {socket.gethostname()!r} (started " in said[0]
        os.kill(holder.pid, signal.SIGKILL)  # the holder never releases it itself
        holder.wait(timeout=60)
        assert acquired.wait(timeout=30)
    finally:
        waiter.join(timeout=60)
    assert not (folder / HOLDER_FILE).exists()  # the waiter's own record went with its lock


def test_the_lock_lets_one_holder_in_at_a_time(tmp_path):
    inside, most = [0], [0]

    def take_turns():
        for _ in range(20):
            with folder_lock(tmp_path):
                inside[0] += 1
                most[0] = max(most[0], inside[0])
                time.sleep(0.001)
                inside[0] -= 1

    threads = [threading.Thread(target=take_turns) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == [1]


@POSIX
def test_a_process_runs_until_killed_and_a_later_one_with_its_pid_is_not_it(tmp_path):
    me = Process.this()
    assert me.pid == os.getpid() and me.running() is True
    child = python("import time; time.sleep(600)")
    import psutil

    record = Process(child.pid, socket.gethostname(), psutil.Process(child.pid).create_time())
    assert record.running() is True
    child.kill()
    deadline = time.monotonic() + 30
    while record.running() and time.monotonic() < deadline:  # the signal takes a moment
        time.sleep(0.05)
    assert record.running() is False  # killed, before this process has reaped it
    child.wait(timeout=60)
    assert record.running() is False
    assert Process(os.getpid(), me.host, me.started - 3600).running() is False  # pid reused
    assert Process(os.getpid(), me.host + "-elsewhere", me.started).running() is None


def test_claims_of_a_dead_process_or_of_a_silent_other_host_do_not_count(tmp_path):
    path = tmp_path / "claims.json"
    me = claims.Run.this({"steps": 8}).holding([("layer", 0), ("layer", 1)])
    dead = claims.Run(
        "dead", Process(me.process.pid, me.process.host, me.process.started - 3600), time.time(), {}
    ).holding([("layer", 2)])
    far = claims.Run("far", Process(1, me.process.host + "-elsewhere", 0.0), 0.0, {})
    silent = far.holding([("layer", 3)])
    silent = claims.Run(
        silent.id, silent.process, time.time() - claims.CLAIM_TIMEOUT - 1, {}, silent.units
    )
    heard = claims.Run("heard", far.process, time.time(), {}).holding([("layer", 4)])
    claims.write_runs(path, {r.id: r for r in (me, dead, silent, heard)})
    assert set(claims.read_runs(path)) == {me.id, "heard"}  # only live runs are written
    claims.write_runs(path, {"dead": dead})
    assert not path.exists()
    claims.write_runs(path, {r.id: r for r in (me, dead, silent, heard)})
    runs = claims.read_runs(path)
    assert claims.claimed(runs, but=me.id) == {("layer", 4): runs["heard"]}
    assert runs[me.id].units == {("layer", 0), ("layer", 1)}
    claims.write_runs(path, {})
    assert not path.exists()
