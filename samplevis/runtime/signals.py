"""Termination signals taken as Ctrl-C, for runs that a scheduler stops.

`kill`, `timeout`, `docker stop`, Slurm's time limit and Ray send SIGTERM (a closed terminal,
SIGHUP) before they kill a process. Within `stop_on_termination()` these raise `Terminated`, a
KeyboardInterrupt, so `render_vis`, `render` and `atlas` stop at the next block and return what
they computed, as they do at Ctrl-C:

    from samplevis.runtime import signals

    with signals.stop_on_termination() as stop:
        result = samplevis.render(model, obj, seed=0)
    result.save_pngs("out/")  # the samples drawn before a SIGTERM, if one came
    if stop.signum is not None:
        sys.exit(stop.status)  # 143 after SIGTERM, as the shell reports a process it ended

Outside the block the process's own handling stands: the library installs no handler itself.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

# SIGHUP does not exist on Windows.
TERMINATION: tuple[int, ...] = tuple(
    s for s in (signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None
)


class Terminated(KeyboardInterrupt):
    """A termination signal, raised where Ctrl-C's KeyboardInterrupt would be; `signum` says
    which."""

    def __init__(self, signum: int):
        super().__init__(name(signum))
        self.signum = signum


@dataclass
class Stop:
    """What `stop_on_termination` yields: the first signal that came (None until one does)."""

    signum: int | None = None
    holding: int = 0  # nested `held` blocks open
    pending: bool = False  # the signal came within `held` and is raised as the block ends

    @property
    def status(self) -> int:
        """The exit status the shell gives a process the signal ended: 128 + its number (143
        for SIGTERM, 129 for SIGHUP); 130, Ctrl-C's, before any came."""
        return 128 + (signal.SIGINT if self.signum is None else self.signum)


_active: list[Stop] = []  # the blocks open, innermost last


def name(signum: int) -> str:
    """'SIGTERM' for signal.SIGTERM; 'signal N' for a number the platform does not name."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


@contextlib.contextmanager
def stop_on_termination(signums: Sequence[int] = TERMINATION) -> Iterator[Stop]:
    """Within the block, the first of `signums` (default SIGTERM, and SIGHUP where it exists)
    raises `Terminated` in the main thread, which the library handles as Ctrl-C; later ones are
    ignored, so that the run writes what it computed rather than dying mid-way. As the block
    ends, the handlers it replaced are back.

    Python lets only the main thread set handlers: elsewhere the block changes nothing (the
    process's own handling stands) and its `Stop` stays empty."""
    stop = Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handle(signum: int, frame: object) -> None:
        if stop.signum is not None:
            return  # the run is stopping already, writing what it computed
        stop.signum = signum
        if stop.holding:
            stop.pending = True
        else:
            raise Terminated(signum)

    previous = {s: signal.signal(s, handle) for s in signums}
    _active.append(stop)
    try:
        yield stop
    finally:
        _active.remove(stop)
        for s, handler in previous.items():
            # None: a handler set outside Python, which Python cannot put back; the default is
            # what such a process had
            signal.signal(s, signal.SIG_DFL if handler is None else handler)


def received() -> int | None:
    """The signal that stopped the innermost `stop_on_termination` block, or None (none came,
    or no block is open)."""
    return _active[-1].signum if _active else None


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Within the block, a termination signal waits: it raises `Terminated` as the outermost
    `held` block ends, so that the files being written are finished (as blocking a signal
    defers it). Outside any `stop_on_termination` block, nothing changes."""
    stop = _active[-1] if _active else None
    if stop is None:
        yield
        return
    stop.holding += 1
    try:
        yield
    finally:
        stop.holding -= 1
    if stop.pending and not stop.holding and stop.signum is not None:
        stop.pending = False
        raise Terminated(stop.signum)


@contextlib.contextmanager
def interrupt_held() -> Iterator[None]:
    """Within the block, Ctrl-C (SIGINT) waits: it raises KeyboardInterrupt as the block ends, so
    that the files being written are finished. Only the main thread can hold it: elsewhere, and
    where SIGINT is not Python's to handle, the block changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is not signal.default_int_handler and not callable(previous):
        yield  # ignored, or handled outside Python: nothing to hold
        return
    came: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, frame: came.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if came:
        raise KeyboardInterrupt
