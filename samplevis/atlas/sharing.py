"""Several runs into one atlas folder (two terminals, a scheduler's array of jobs): each reads,
merges and writes the folder's atlas.json within the folder's lock, so they end with the union of
their work, and claims each batch before rendering it, so runs of the same channels share them.

A run's record in CLAIMS_JSON (`samplevis.runtime.claims`) holds its settings and the channels it has
claimed but not yet saved in atlas.json; a run with other settings (steps, size, seed, samples,
param, alpha) than a live one is an error, since both would write the same files.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path

from samplevis import io
from samplevis.atlas.files import (
    check_same_choice,
    entries_by_channel,
    is_done,
    layer_counts,
    read_atlas,
    save,
)
from samplevis.atlas.results import ATLAS_JSON, INDEX_HTML, Settings
from samplevis.runtime import claims
from samplevis.runtime.checks import OptionError, user_stacklevel
from samplevis.runtime.folder_lock import folder_lock

CLAIMS_JSON = ".atlas.claims.json"
# What two runs writing one folder at the same time must agree on: a channel's files depend on
# them (not on `batch`).
SHARED = ("steps", "size", "seed", "samples", "param", "alpha")


class SharedAtlas:
    """One run's side of an atlas folder that other runs may be writing too."""

    def __init__(self, out: Path, model_name: str, settings: Settings):
        self.out, self.model_name, self.settings = out, model_name, settings
        self.run = claims.Run.this({name: getattr(settings, name) for name in SHARED})
        self.at_start: dict = {}  # atlas.json's entries when this run joined
        self.told: set[str] = set()  # the stopped runs said so

    def join(self) -> dict:
        """The folder's atlas.json (empty if none), checked against this run's model and
        settings, and this run's record added to the folder's."""
        with folder_lock(self.out):
            found, runs = self._read()
            runs[self.run.id] = self.run
            claims.write_runs(self.out / CLAIMS_JSON, runs)
        self.at_start = entries_by_channel(found)
        return found

    def claim(self, layer: str, channels: list[int], batch: int) -> tuple[list[int], list[int]]:
        """(The next `batch` channels of `channels` to render, now claimed by this run; those of
        `channels` that other runs have finished)."""
        with folder_lock(self.out):
            found, runs = self._read()
            entries = entries_by_channel(found)
            done = [
                c
                for c in channels
                if (layer, c) in entries and is_done(entries[(layer, c)], self.settings, self.out)
            ]
            held = claims.claimed(runs, but=self.run.id)
            free = [c for c in channels if c not in done and (layer, c) not in held]
            self.run = self.run.holding(self.run.units | {(layer, c) for c in free[:batch]})
            runs[self.run.id] = self.run
            claims.write_runs(self.out / CLAIMS_JSON, runs)
        return free[:batch], done

    def save(self, layers: Mapping[str, int | None], mine: Mapping) -> list[dict]:
        """Write atlas.json and index.html: the folder's entries with this run's (`mine`, by
        (layer, channel)) merged in; the merged entries in page order. This run's claims on
        `mine` end."""
        with folder_lock(self.out):
            found, runs = self._read()
            entries = {**self.at_start, **entries_by_channel(found), **mine}
            ordered = save(
                self.out,
                self.model_name,
                {**layer_counts(found), **layers},
                entries,
                self.settings,
            )
            self.run = self.run.holding(self.run.units - set(mine))
            runs[self.run.id] = self.run
            claims.write_runs(self.out / CLAIMS_JSON, runs)
            # every writer of these holds the lock: a temporary file now is a killed writer's
            for name in (ATLAS_JSON, INDEX_HTML, CLAIMS_JSON):
                for part in io.partial_writes(self.out / name):
                    part.unlink(missing_ok=True)
        return ordered

    def leave(self) -> None:
        """Remove this run's record (and with it its claims) from the folder's."""
        with folder_lock(self.out):
            runs = claims.live(claims.read_runs(self.out / CLAIMS_JSON))
            runs.pop(self.run.id, None)
            claims.write_runs(self.out / CLAIMS_JSON, runs)

    def _read(self) -> tuple[dict, dict[str, claims.Run]]:
        """(atlas.json, the live runs' records) as they are on disk, checked against this run."""
        found = read_atlas(self.out, self.model_name)
        check_same_choice(found, self.settings, self.out)
        runs = claims.read_runs(self.out / CLAIMS_JSON)
        alive = claims.live(runs)
        for run in runs.values():
            if run.id not in alive and run.units and run.id not in self.told:
                self.told.add(run.id)
                warnings.warn(
                    f"a run into {self.out}, {run.process}, has stopped without finishing "
                    f"{len(run.units)} channel(s) it had claimed (killed?); they are free to "
                    "render again.",
                    stacklevel=user_stacklevel(),
                )
            elif run.id in alive and run.id != self.run.id:
                check_same_settings(run, self.run, self.out)
        return found, alive


def check_same_settings(other: claims.Run, this: claims.Run, out: Path) -> None:
    """Raise unless a live run `other` writing into `out` renders with this run's settings."""
    differ = [n for n in SHARED if other.settings.get(n) != this.settings.get(n)]
    if not differ:
        return
    theirs = ", ".join(f"{{{n}=their_{n}}}" for n in differ)
    yours = ", ".join(f"{{{n}=your_{n}}}" for n in differ)
    raise OptionError(
        differ[0],
        "{folder} is being written by another atlas run, {who}, with "
        + theirs
        + "; this call asks for "
        + yours
        + ". Give the same settings to share its work, wait until it ends, or give another "
        "{out} folder.",
        folder=str(out),
        who=str(other.process),
        **{f"their_{n}": other.settings.get(n) for n in differ},
        **{f"your_{n}": this.settings.get(n) for n in differ},
    )
