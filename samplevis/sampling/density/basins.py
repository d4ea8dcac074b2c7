"""The walk between basins: each chain moves from one optimized image to another.

At a temperature that keeps the activation, the exact density holds one optimized basin, and
inside a basin the patterns only bend (docs/sampling_designs.md). So a chain's state is also a
basin: its optimum z*. Between blocks of samples, a move proposes a new start from z*
(sampling.density.moves), a short run of the compiled optimizer climbs from it, and the basin
rule keeps the new optimum or the old one; HMC then draws the next samples inside the basin
kept, from its optimum. What the walk samples is a Markov chain over the optimizer's basins,
not the exact density (docs/sampling.md, "The walk"):

- "floor": a new optimum is kept when its activation reaches `level` times the chain's first
  start's; with a symmetric move that is uniform over the basins above the floor;
- "metropolis": kept with probability min(1, exp((a_new - a_now) / T_b)),
  T_b = (1 - level) * the first start's activation: basins weighed by exp(a* / T_b).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import tensorflow as tf

from samplevis.param.base import ImageParam
from samplevis.sampling.density import moves
from samplevis.sampling.density.facet import FacetImage, sample_images
from samplevis.seeds import fold_in

RULES = ("floor", "metropolis")

# (full states [C, ...], steps, seed int32 [2]) -> the states the optimizer reached
Climb = Callable[[np.ndarray, int, tf.Tensor], np.ndarray]
# full states [C, ...] -> float [C], the objective under the log density's views
Activation = Callable[[np.ndarray], np.ndarray]


@dataclasses.dataclass(frozen=True)
class WalkSettings:
    """How the chains walk (`hmc_opts` keys of the same names).

    Attributes:
      move: one of `moves.KINDS`.
      move_size: b, the share of new material in a move, in (0, 1].
      move_steps: K, optimizer steps from the proposal.
      rule: one of RULES.
      level: the floor, or 1 - the basin temperature, as a share of the first start's
        activation.
    """

    move: str
    move_size: float
    move_steps: int
    rule: str
    level: float


def accepted(
    rule: str,
    level: float,
    proposed: np.ndarray,
    current: np.ndarray,
    reference: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """bool [C]: which chains keep their proposed optimum (activations `proposed`) over their
    `current` one, by `rule` at `level` of each chain's `reference` activation."""
    if rule == "floor":
        return proposed >= level * reference
    if rule == "metropolis":
        basin_temperature = np.maximum((1.0 - level) * np.abs(reference), 1e-12)
        log_ratio = (proposed - current) / basin_temperature
        return np.log(rng.uniform(size=proposed.shape)) < np.minimum(log_ratio, 0.0)
    raise ValueError(f"basin rule must be one of {RULES}; got {rule!r}.")


@dataclasses.dataclass(frozen=True)
class WalkRecord:
    """What the walk drew, per kept sample (N) and chain (C).

    Attributes:
      images: float32 [N, C, H, W, 3], each sample as drawn (its basin's fine detail).
      basins: int [N, C], the sample's basin: 0 the chain's start, k after k kept moves.
      basin_activations: float [N, C], the activation of the sample's basin optimum.
      basin_log_masses: float64 [N, C], its Laplace log-mass (nats, not yet relative).
      proposed: int [C], moves proposed per chain.
      accepted: int [C], moves kept.
    """

    images: np.ndarray
    basins: np.ndarray
    basin_activations: np.ndarray
    basin_log_masses: np.ndarray
    proposed: np.ndarray
    accepted: np.ndarray


class BasinWalk:
    """The chains' walk between basins, called by the chain driver after each block of
    samples (the one mutable piece of a run's walk, as TemperatureAdaptation is of T).

    It holds each chain's current optimum in `facet.start` (a tf.Variable the HMC target reads,
    so a move compiles nothing), records each block's samples with their basin, then, while
    blocks remain, moves: proposes, climbs `move_steps`, applies the rule, and restarts the
    HMC of each chain that moved at its new optimum (coefficients, and a zero warp).
    """

    def __init__(
        self,
        facet: FacetImage,
        chain_param: ImageParam,
        climb: Climb,
        activation: Activation,
        log_mass: Callable[[], np.ndarray],
        activations: np.ndarray,
        settings: WalkSettings,
        moves_planned: int,
        seed: tf.Tensor,
        *,
        width: int,
        coarse: np.ndarray,
    ) -> None:
        """Args:
        facet: the chains' facet, its `start` a tf.Variable [C, ...] holding the starts.
        chain_param: what the chains move (the facet, or its warped images), whose images
          the samples are.
        climb: the optimizer's short run (see `Climb`).
        activation: the objective of full states (see `Activation`).
        log_mass: each chain's current basin's Laplace log-mass, float [C], at the frozen T.
        activations: float [C], the starts' activations (the rule's reference).
        moves_planned: the moves to make, one after each block of samples but the last.
        seed: int32 [2], the walk's seed.
        width: the images' width in px; coarse: bool [2, channels, H, Wf], the coefficients a
          "coarse" move redraws.
        """
        if not isinstance(facet.start, tf.Variable):
            raise TypeError(
                "the walk assigns each chain's new optimum to the facet's start: build the "
                "facet with facet.chain_parameterization(..., walking=True)."
            )
        self.facet = facet
        self._optima: tf.Variable = facet.start
        self._chain_param = chain_param
        self._climb = climb
        self._activation = activation
        self._log_mass = log_mass
        self.settings = settings
        self._moves_left = moves_planned
        self._seed = seed
        self._rng = np.random.default_rng((np.asarray(seed, np.int64) % 2**32).tolist())
        self._width, self._coarse = width, coarse
        self._reference = np.asarray(activations, np.float64)
        self._current = self._reference.copy()
        num_chains = len(self._reference)
        self._basin = np.zeros([num_chains], np.int64)
        self._masses: np.ndarray | None = None  # measured at the first block: T is frozen then
        self._proposed = np.zeros([num_chains], np.int64)
        self._accepted = np.zeros([num_chains], np.int64)
        self._images: list[np.ndarray] = []  # per block of samples, [n, C, H, W, 3]
        self._rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # per sample
        self._moves = 0
        # every optimum kept, the starts first: what an "archive" move draws from
        self._archive = [np.asarray(self._optima.numpy())]

    def __call__(
        self,
        index: int,
        kept: Sequence[np.ndarray],
        trace: Mapping[str, np.ndarray],
        state: list[tf.Tensor],
    ) -> list[tf.Tensor] | None:
        """After sample block `index` (its `kept` state parts [n, C, ...]; the chains now at
        `state`): record its samples, then move. Returns the chains' new state, or None when
        no move was made."""
        count = int(kept[0].shape[0])
        self._images.append(self._images_of(kept))
        self._rows += [self._row()] * count
        if self._moves_left <= 0:
            return None
        self._moves_left -= 1
        return self._move(state)

    @property
    def log_masses(self) -> np.ndarray | None:
        """float [C], the Laplace log-mass of each chain's basin now (None before the first
        block of samples ended)."""
        return None if self._masses is None else self._masses.copy()

    def _row(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The chains' basins now: their numbers, optima's activations and log-masses."""
        if self._masses is None:  # measured at the first block's end: T is frozen by then
            self._masses = np.asarray(self._log_mass(), np.float64)
        return self._basin.copy(), self._current.copy(), self._masses.copy()

    def _move(self, state: list[tf.Tensor]) -> list[tf.Tensor] | None:
        settings = self.settings
        self._moves += 1
        seed = fold_in(self._seed, self._moves)  # each move's climb its own stateless seed
        optima = np.asarray(self._optima.numpy())
        proposal = moves.propose(
            settings.move,
            optima,
            settings.move_size,
            self._rng,
            coarse=self._coarse,
            width=self._width,
            archive=np.concatenate(self._archive),
        )
        climbed = self._climb(proposal, settings.move_steps, seed)
        activations = np.asarray(self._activation(climbed), np.float64)
        keep = accepted(
            settings.rule,
            settings.level,
            activations,
            self._current,
            self._reference,
            self._rng,
        ) & np.isfinite(activations)
        self._proposed += 1
        if not keep.any():
            return None
        self._accepted += keep
        where = keep.reshape([-1] + [1] * (optima.ndim - 1))
        self._optima.assign(np.where(where, climbed, optima))
        self._archive.append(climbed[keep])
        self._current = np.where(keep, activations, self._current)
        self._basin = self._basin + keep
        assert self._masses is not None  # measured as the block's samples were recorded
        self._masses = np.where(keep, np.asarray(self._log_mass(), np.float64), self._masses)
        fresh = self.facet.init(None)[0]
        mask = tf.constant(keep)
        moved = [tf.where(mask[:, None], fresh, state[0])]
        for part in state[1:]:  # the warp starts again from none in a new basin
            shape = [-1] + [1] * (len(part.shape) - 1)
            moved.append(tf.where(tf.reshape(mask, shape), tf.zeros_like(part), part))
        return moved

    def _images_of(self, kept: Sequence[np.ndarray]) -> np.ndarray:
        """Images [n, C, H, W, 3] of kept state parts [n, C, ...] in the current basins."""
        return sample_images(self._chain_param, kept)

    def record(self, samples: Sequence[np.ndarray]) -> WalkRecord:
        """What the walk drew, for the run's kept `samples` (state parts [N, C, ...]). A block
        that a Ctrl-C kept before the walk saw it is in the basins the chains are in now."""
        num = int(samples[0].shape[0])
        seen = len(self._rows)
        images = list(self._images) + (
            [self._images_of([p[seen:] for p in samples])] if num > seen else []
        )
        rows = self._rows[:num] + [self._row()] * max(0, num - seen)
        if not rows:
            num_chains = len(self._reference)
            return WalkRecord(
                images=np.zeros([0, num_chains, 0, 0, 3], np.float32),
                basins=np.zeros([0, num_chains], np.int64),
                basin_activations=np.zeros([0, num_chains], np.float32),
                basin_log_masses=np.zeros([0, num_chains], np.float64),
                proposed=self._proposed.copy(),
                accepted=self._accepted.copy(),
            )
        return WalkRecord(
            images=np.concatenate(images)[:num],
            basins=np.stack([r[0] for r in rows]).astype(np.int64),
            basin_activations=np.stack([r[1] for r in rows]).astype(np.float32),
            basin_log_masses=np.stack([r[2] for r in rows]).astype(np.float64),
            proposed=self._proposed.copy(),
            accepted=self._accepted.copy(),
        )
