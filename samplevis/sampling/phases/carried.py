"""What one `render` call carries between its phases: its checked inputs (`Inputs`), what the
finished phases made (`Made`) and the seconds each phase took (`Clock`)."""

from __future__ import annotations

import dataclasses
import time
import types
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import tensorflow as tf

from samplevis.models import Model
from samplevis.optvis.objectives import Objective
from samplevis.optvis.param.base import ImageParam
from samplevis.sampling.density import temperature as temperature_lib
from samplevis.sampling.density.log_density import LogDensity
from samplevis.sampling.mcmc import chain as chain_lib
from samplevis.sampling.options import SamplingOptions
from samplevis.sampling.starts.chains import Starts
from samplevis.sampling.starts.polish import Polished
from samplevis.sampling.starts.search import FacetSearch


@dataclasses.dataclass(frozen=True, eq=False)
class Inputs:
    """One render call's inputs, checked: what every phase reads."""

    model: Model
    objective: Objective
    image_param: ImageParam  # the chains' images, one per chain (its batch C)
    opts: SamplingOptions
    seed: tf.Tensor  # int32 [2], the run's stateless seed
    folder: Path | None  # the TensorBoard log's folder
    progress: bool  # show progress bars
    on_block: Callable[[int], None] | None  # the user's, before every block of steps


@dataclasses.dataclass(frozen=True, eq=False)
class Made:
    """What one render call has made so far: each finished phase's output, None (log_masses:
    NaN) for a phase not reached. A Ctrl-C in any phase returns the `SampleResult` of it."""

    chain_param: ImageParam  # what the chains move (the whole image until the starts are known)
    starts: Starts | None = None
    temperature: temperature_lib.Temperature | None = None
    adapting: temperature_lib.TemperatureAdaptation | None = None
    run: chain_lib.ChainRun | None = None
    search: FacetSearch | None = None  # the facets, when the search ran
    polished: Polished | None = None  # the starts' climb along what the chains move
    log_masses: np.ndarray | None = None  # float [C], absolute: the result makes them relative
    log_mass_errors: np.ndarray | None = None  # float [C], their standard errors
    log_density: LogDensity | None = None  # what the chains sample: at T, adapting or not
    stopped: bool = False  # a phase ended the run: a Ctrl-C it handled, or nothing to sample


class Clock:
    """Wall-clock seconds per phase of one run (the one mutable piece, local to a run)."""

    def __init__(self) -> None:
        self._spent: dict[str, float] = {}
        self._phase: str | None = None
        self._since = 0.0

    def start(self, phase: str) -> None:
        """End the current phase and start `phase` (the same phase goes on)."""
        now = time.perf_counter()
        if self._phase is not None:
            self._spent[self._phase] = self._spent.get(self._phase, 0.0) + now - self._since
        self._phase, self._since = phase, now

    def seconds(self) -> Mapping[str, float]:
        self.start(self._phase or "")
        return types.MappingProxyType({k: v for k, v in self._spent.items() if k})
