"""Which run works on which units of a shared output folder, so that runs into one folder share
the work instead of repeating it.

Every run keeps a record in one JSON file of the folder: its process (`folder_lock.Process`),
when it last wrote, its settings, and the units (JSON lists such as ["layer", 3]) it has claimed
and not yet saved. Records are read, changed and written within `folder_lock`:

    with folder_lock(out):
        runs = read_runs(out / CLAIMS)
        held = claimed(runs, but=me.id)              # units other live runs are working on
        runs[me.id] = me.holding(next_units)
        write_runs(out / CLAIMS, runs)

A record stops counting when its process no longer runs (SIGKILL, a crash: looked up by pid on
the same host) or, for a process on another host, CLAIM_TIMEOUT after it last wrote.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path

from samplevis.runtime import files
from samplevis.runtime.folder_lock import Process

# A run on another host that has not written for this long (s) is taken for dead: its pid cannot
# be looked up from here. Longer than a batch takes, so that a slow run keeps its claims.
CLAIM_TIMEOUT = 3600.0


@dataclasses.dataclass(frozen=True)
class Run:
    """One run's record: who it is, when it last wrote (seconds since the epoch), its settings
    (a JSON dict that other runs compare with theirs) and the units it has claimed."""

    id: str
    process: Process
    seen: float
    settings: Mapping
    units: frozenset = frozenset()

    @classmethod
    def this(cls, settings: Mapping) -> Run:
        """A new run of this process."""
        return cls(uuid.uuid4().hex, Process.this(), time.time(), dict(settings))

    def holding(self, units: Iterable) -> Run:
        """This run, seen now, holding `units` (tuples)."""
        return dataclasses.replace(self, seen=time.time(), units=frozenset(map(tuple, units)))

    def live(self, now: float | None = None) -> bool:
        running = self.process.running()
        if running is None:
            return (time.time() if now is None else now) - self.seen < CLAIM_TIMEOUT
        return running

    def as_dict(self) -> dict:
        return dict(
            id=self.id,
            process=self.process.as_dict(),
            seen=self.seen,
            settings=dict(self.settings),
            units=sorted((list(u) for u in self.units), key=str),
        )

    @classmethod
    def from_dict(cls, record: object) -> Run | None:
        """The run a record written by `as_dict` describes; None if it is not one."""
        if not isinstance(record, Mapping):
            return None
        process = Process.from_dict(record.get("process"))
        try:
            units = frozenset(tuple(u) for u in record.get("units", ()))
            settings = dict(record.get("settings") or {})
            run = cls(str(record["id"]), process, float(record["seen"]), settings, units)  # type: ignore[arg-type]
        except (KeyError, TypeError, ValueError):
            return None
        return run if process is not None else None


def read_runs(path: str | os.PathLike) -> dict[str, Run]:
    """{run id: Run} of every run in the claims file `path`, live or not (none if it is
    missing)."""
    try:
        records = json.loads(Path(path).read_text()).get("runs")
    except (OSError, ValueError, AttributeError):
        return {}
    runs = (Run.from_dict(r) for r in (records if isinstance(records, list) else ()))
    return {run.id: run for run in runs if run is not None}


def live(runs: Mapping[str, Run]) -> dict[str, Run]:
    """The runs of `runs` that still count: their process runs (or was heard from lately)."""
    now = time.time()
    return {key: run for key, run in runs.items() if run.live(now)}


def write_runs(path: str | os.PathLike, runs: Mapping[str, Run]) -> None:
    """Write the live runs of `runs` to the claims file `path` whole, or remove it when there
    are none."""
    path = Path(path)
    runs = live(runs)
    if runs:
        files.write_json(path, dict(runs=[run.as_dict() for run in runs.values()]))
    elif path.exists():
        path.unlink()


def claimed(runs: Mapping[str, Run], but: str) -> dict[tuple, Run]:
    """{unit: the run holding it} over every live run but the one with id `but`."""
    return {unit: run for run in live(runs).values() if run.id != but for unit in run.units}
