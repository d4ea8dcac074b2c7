"""What an atlas renders with, and what it gives back."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

ATLAS_JSON = "atlas.json"
INDEX_HTML = "index.html"


@dataclasses.dataclass(frozen=True)
class Settings:
    """What every channel of an atlas is rendered with (sent to Ray workers); `param` and
    `alpha` choose the parameterization, transforms and optimizer (`recipes.recipe`)."""

    steps: int
    size: int
    batch: int
    seed: int
    samples: int = 0
    hmc_opts: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    param: str = "image"
    alpha: bool = False


@dataclasses.dataclass
class ChannelResult:
    """One rendered channel: its image float32 [H, W, 3] (RGBA [H, W, 4] with alpha) in [0, 1],
    the objective value it reached after `steps` steps, and with samples their frames
    [N, H, W, 3] and a strip (start, samples)."""

    layer: str
    channel: int
    image: np.ndarray
    objective: float
    steps: int
    seconds: float
    channel_seed: tuple[int, int]
    frames: np.ndarray | None = None
    strip: np.ndarray | None = None
    notes: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class AtlasResult:
    """What `atlas` returns: the folder, one entry per channel in atlas.json (layer, then channel
    order), how many channels this call rendered and skipped (done before it started), and
    whether Ctrl-C stopped it. With other runs writing into the folder at the same time: how
    many of this call's channels they rendered (`others`), and how many are not in atlas.json
    as this call ends (`missing`: another run is still rendering them, or Ctrl-C came first)."""

    out: Path
    entries: tuple[dict, ...]
    rendered: int
    skipped: int
    interrupted: bool
    others: int = 0
    missing: int = 0

    @property
    def index(self) -> Path:
        return self.out / INDEX_HTML
