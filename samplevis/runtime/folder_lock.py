"""A lock on an output folder, so that runs writing one index into it take turns.

Each run reads the index, merges its own work in and writes it back within the lock:

    with folder_lock(out):
        current = read(out / "index.json")
        files.write_json(out / "index.json", merge(current, mine))  # whole or not at all

The lock is the operating system's (fcntl on Linux and macOS, msvcrt on Windows, through the
`filelock` package): it goes with the process that holds it, so a run killed with SIGKILL or by
a power loss never blocks the next. The holder writes who it is (`Process`: pid, host, start
time) beside the lock, so that a run that waits says who it waits for.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import os
import socket
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from samplevis.runtime import files

LOCK_FILE = ".samplevis.lock"
HOLDER_FILE = ".samplevis.lock.json"  # who holds the lock: a Process as JSON
SAY_AFTER = 5.0  # seconds of waiting for the lock before saying who holds it


@dataclasses.dataclass(frozen=True)
class Process:
    """A process on some host: its pid, the host's name, and when it started (seconds since the
    epoch), which tells it from a later process given the same pid."""

    pid: int
    host: str
    started: float

    @classmethod
    def this(cls) -> Process:
        import psutil

        return cls(os.getpid(), socket.gethostname(), round(psutil.Process().create_time(), 3))

    @classmethod
    def from_dict(cls, record: object) -> Process | None:
        """The process a record written by `as_dict` names; None if it is not one."""
        try:
            assert isinstance(record, Mapping)
            return cls(int(record["pid"]), str(record["host"]), float(record["started"]))
        except (AssertionError, KeyError, TypeError, ValueError):
            return None

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def running(self) -> bool | None:
        """Whether the process still runs: True or False on this host, None on another one
        (where its pid cannot be looked up)."""
        if self.host != socket.gethostname():
            return None
        import psutil

        try:
            process = psutil.Process(self.pid)
            # a pid the system gave to a later process is not this one; a zombie has ended
            return (
                abs(process.create_time() - self.started) < 1.0
                and process.status() != psutil.STATUS_ZOMBIE
            )
        except psutil.NoSuchProcess:
            return False
        except psutil.AccessDenied:  # another user's process: it exists
            return True

    def __str__(self) -> str:
        since = datetime.datetime.fromtimestamp(self.started).strftime("%Y-%m-%d %H:%M:%S")
        return f"pid {self.pid} on host {self.host!r} (started {since})"


def holder(folder: str | os.PathLike) -> Process | None:
    """The process that holds (or last held, if it was killed) the lock on `folder`, if known."""
    try:
        return Process.from_dict(json.loads((Path(folder) / HOLDER_FILE).read_text()))
    except (OSError, ValueError):
        return None


def _say_to_stderr(message: str) -> None:
    print(f"samplevis: {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def folder_lock(
    folder: str | os.PathLike,
    say_after: float = SAY_AFTER,
    say: Callable[[str], None] = _say_to_stderr,
) -> Iterator[None]:
    """Hold the lock on `folder` (created if missing) within the block, waiting as long as another
    process holds it; after `say_after` seconds of waiting, `say` who holds it."""
    from filelock import FileLock, Timeout

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(folder / LOCK_FILE)
    try:
        lock.acquire(timeout=say_after)
    except Timeout:
        say(_waiting(folder, holder(folder)))
        lock.acquire()
    try:
        for part in files.partial_writes(folder / HOLDER_FILE):  # a killed holder's
            part.unlink(missing_ok=True)
        files.write_json(folder / HOLDER_FILE, Process.this().as_dict())
        yield
    finally:
        with contextlib.suppress(OSError):
            (folder / HOLDER_FILE).unlink()
        lock.release()


def _waiting(folder: Path, process: Process | None) -> str:
    if process is None or process.running() is False:  # the holder has not said who it is yet
        return f"waiting for the lock on {folder}, which another process holds."
    return f"waiting for the lock on {folder}, held by {process}."
