"""The temperature: the equipartition rule over the coefficients that move, as the start of a
per-chain adaptation during burn-in.

Shares are measured from the prior's floor a0, the mean objective of images drawn from the
prior alone (`prior_floor`): r = (A - a0) / (a* - a0), so rho = 0 is the prior (T = infinity)
and rho = 1 the optimized start (T = 0). Many units respond to 1/f noise (on EfficientNet-Lite0
prior images reach 0.60 and 0.42 of a* on block3a_expand_activation:20 and
block5a_expand_activation:100), so a share of a* itself would let the chains drift almost to
noise before it bites.

Near an optimum each of the D moving directions the objective holds gives up about T / 2 of it
(equipartition), so keeping a share rho of the gain needs T = 2 (1 - rho) (a* - a0) / D
(`temperature_for`). Not every direction is held by the objective, and ReLU kinks make the
basin no quadratic, so each chain's T is then adapted during burn-in
(`TemperatureAdaptation`): after every block of the early windows a Robbins-Monro step moves
log T toward the share that block kept on that chain; T is frozen at the mean of the later
iterates, corrected once from the share the blocks at the frozen T kept, and then left alone
for a closing window of burn-in (only the step size adapts there) in which the chains settle at
the T they will be sampled at, before the draws begin (Stan's fast/slow/fast windows;
docs/sampling_designs.md, "The warmup").
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import tensorflow as tf

from samplevis.optvis.param.base import ImageParam, normal_state
from samplevis.runtime.checks import OptionWarning, user_stacklevel
from samplevis.runtime.seeds import SeedLike, as_seed, fold_in
from samplevis.sampling.density.log_density import LogDensity, matched_prior_weight

FLOOR_BATCHES = 4  # batches of C prior images behind the floor a0
# Largest change of T per update. On a network a chain's share follows a rise of T only over
# several blocks (it must drift away from its start), so a faster rise overshoots
# (`git show b24ce1b:docs/sampling_designs.md`, "Patterns that move"); a fall takes effect at
# once.
MAX_RISE = 2.5
MAX_FALL = 4.0
MIN_DROP = 1e-3  # a block that kept all of a* - a0 (or more) counts as giving up this share
# A photo facet's prior: spread around the facet this share of the starts' root mean square
# (lam 16 times the matched one). A photo's state holds the photo itself, so a prior matched to
# it lets the directions the unit ignores fill with noise as strong as the photo, and the chains
# drift for over a hundred steps at a fixed T (docs/sampling_designs.md, "The prior around a
# photo's facet").
PHOTO_PRIOR_SPREAD = 0.25
# Robbins-Monro gains (k + 1) ** -GAIN_DECAY for update k = 0, 1, ...: their sum diverges and
# the sum of their squares converges for any decay in (0.5, 1].
GAIN_DECAY = 0.6


def temperature_for(
    init_activation: float, target_ratio: float, state_size: int, floor: float = 0.0
) -> float:
    """The equipartition rule T = 2 (1 - rho) (a* - a0) / D.

    Args:
      init_activation: a*, the optimized objective (> floor).
      target_ratio: rho in (0, 1), the share of a* - a0 the samples should keep.
      state_size: D, real numbers of state that move per chain.
      floor: a0, the objective of prior images (0: shares of a* itself).
    """
    if not init_activation > floor:
        raise ValueError(
            f"target_ratio sets the temperature from the starts' objective, which must be above "
            f"{'0' if floor == 0 else f'that of prior images ({floor:.4g})'}; got a* = "
            f"{init_activation:.4g}. Optimize longer, choose another unit, or give "
            "hmc_opts['temperature']."
        )
    drop = (1.0 - target_ratio) * (init_activation - floor)
    return 2.0 * drop / state_size


def log_step(ratio: np.ndarray, target_ratio: float) -> np.ndarray:
    """The change of log T that would take a share `ratio` [C] to `target_ratio` if 1 - r grew
    in proportion to T (equipartition), clipped to a rise of MAX_RISE or a fall of MAX_FALL; 0
    where r is NaN."""
    drop = np.maximum(1.0 - np.asarray(ratio, np.float64), MIN_DROP)
    step = np.clip(np.log((1.0 - target_ratio) / drop), -math.log(MAX_FALL), math.log(MAX_RISE))
    return np.nan_to_num(step, nan=0.0)


class TemperatureAdaptation:
    """Each chain's T, adapted between burn-in blocks by a Robbins-Monro update of log T.

    Use `log_density(e)` as the target and the object itself as `mcmc.chain.run_chains`'s `retarget`.
    After block k, if the block ended within `num_steps`, chain c's share r_c = (mean A over
    the block - floor) / (a*_c - floor) moves

        log T_c <- log T_c + (k + 1) ** -GAIN_DECAY * log_step(r_c, target_ratio),

    and after the last such block T is frozen at the mean of the later half of the iterates
    (Polyak-Ruppert averaging: the gains decay slowly, so the last iterate alone is noisy).
    Blocks after it leave T alone, so kept samples come from one fixed density.

    The one mutable piece of a run: the variable the target reads, and what it went through.
    """

    def __init__(
        self,
        temperature: float | np.ndarray,
        init_activations: np.ndarray,
        target_ratio: float,
        num_steps: int,
        floor: float = 0.0,
        burnin_steps: int | None = None,
        closing_steps: int = 0,
    ):
        """
        Args:
          temperature: the first T, a scalar or one per chain [C] (objective units, > 0).
          init_activations: a*_c, float [C], each chain's start; all above `floor`.
          target_ratio: rho in (0, 1), the share of a*_c - floor each chain should keep.
          num_steps: burn-in steps over which T adapts (whole blocks within them count).
          floor: a0, the objective of prior images (0: shares of a* itself).
          burnin_steps: all burn-in steps; when blocks at the frozen T come before the last
            burn-in block, T is corrected once, after the first of them from which at most
            `closing_steps` (at least one block) remain (None: never).
          closing_steps: the closing window: burn-in steps at the corrected T before the
            draws, so that the chains settle at it (a chain takes 15-25 steps to follow a
            change of T on the README's unit).
        """
        a_star = np.asarray(init_activations, np.float64)
        if a_star.ndim != 1 or not np.all(a_star > floor):
            raise ValueError(
                "adapting T to a target ratio needs every start's objective a* above the prior's "
                f"floor a0 = {floor:.4g}; got a* = {np.round(a_star, 4).tolist()}."
            )
        if not 0.0 < target_ratio < 1.0:
            raise ValueError(f"target_ratio must lie in (0, 1); got {target_ratio!r}.")
        first = np.broadcast_to(np.asarray(temperature, np.float64), a_star.shape)
        if not np.all(first > 0):
            raise ValueError(f"the first temperature must be > 0; got {temperature!r}.")
        self.init_activations = a_star
        self.target_ratio = float(target_ratio)
        self.num_steps = int(num_steps)
        self.floor = float(floor)
        self.burnin_steps = num_steps if burnin_steps is None else int(burnin_steps)
        self.closing_steps = int(closing_steps)
        self.variable = tf.Variable(first.astype(np.float32), trainable=False)
        self._log_t = np.log(first)
        self._iterates: list[np.ndarray] = []  # log T after each update
        self._temperatures: list[np.ndarray] = []  # T during each adapted block
        self._shares: list[np.ndarray] = []  # share each adapted block kept
        self._steps_done = 0
        self._seen_steps = 0  # burn-in and sampling steps run so far
        self._correction: np.ndarray | None = None
        self._frozen_shares: list[np.ndarray] = []  # share each block at the frozen T kept
        self._adapted_steps = 0
        self._changed_at = 0  # steps seen when T last changed
        self._before_change = first.copy()  # T before its last change

    def log_density(self, log_density: Any) -> Any:
        """`log_density` (a frozen dataclass with a `temperature`) reading this T, [C]."""
        return dataclasses.replace(log_density, temperature=self.variable)

    @property
    def temperature(self) -> np.ndarray:
        """float [C], T now (the frozen T once adaptation is over)."""
        return np.exp(self._log_t)

    @property
    def previous_temperature(self) -> np.ndarray:
        """float [C], T before its last change (the first T while it has not changed)."""
        return self._before_change

    @property
    def frozen(self) -> bool:
        """True once T no longer changes."""
        return self._steps_done >= self.num_steps and self._seen_steps >= self.burnin_steps

    @property
    def adapted_steps(self) -> int:
        """Steps of the blocks that adapted T (num_steps rounded down to whole blocks)."""
        return self._adapted_steps

    @property
    def steps_at_frozen_t(self) -> int:
        """Burn-in steps run since T last changed: at the density the draws sample."""
        return max(min(self._seen_steps, self.burnin_steps) - self._changed_at, 0)

    @property
    def temperatures(self) -> np.ndarray:
        """float [B, C], T during each block that adapted it."""
        return np.reshape(np.asarray(self._temperatures), [-1, self.init_activations.size])

    @property
    def shares(self) -> np.ndarray:
        """float [B, C], the share of a*_c - a0 each block that adapted T kept."""
        return np.reshape(np.asarray(self._shares), [-1, self.init_activations.size])

    def __call__(self, index: int, trace: Mapping[str, np.ndarray]) -> bool:
        """Update T after burn-in block `index` (its trace: "activation" [n, C]); True if T
        changed. Sampling blocks come after burn-in, so they find T frozen."""
        activation = np.asarray(trace["activation"], np.float64)
        share = (activation.mean(axis=0) - self.floor) / (self.init_activations - self.floor)
        self._seen_steps += activation.shape[0]
        before = self._steps_done
        self._steps_done += activation.shape[0]
        if self._steps_done > self.num_steps or before >= self.num_steps:
            self._steps_done = max(self._steps_done, self.num_steps)
            return self._corrected(share, activation.shape[0])
        gain = (len(self._iterates) + 1) ** -GAIN_DECAY
        self._adapted_steps += activation.shape[0]
        self._temperatures.append(np.exp(self._log_t))
        self._shares.append(share)
        self._log_t = self._log_t + gain * log_step(share, self.target_ratio)
        self._iterates.append(self._log_t)
        if self._steps_done + activation.shape[0] > self.num_steps:
            # the next block would end past num_steps: freeze at the later iterates' mean
            self._log_t = np.mean(self._iterates[len(self._iterates) // 2 :], axis=0)
            self._steps_done = self.num_steps
        self._assign()
        return True

    def _corrected(self, share: np.ndarray, block: int) -> bool:
        """The one correction of the frozen T, after a block of `block` steps that kept `share`
        [C]: once at most `closing_steps` of burn-in (and at least one block) follow, log T
        moves by the full `log_step` of the mean share the blocks at the frozen T kept, but for
        the first where there are more (it still follows T's last change); the rest of burn-in
        is the closing window at the corrected T. True if T changed."""
        self._frozen_shares.append(share)
        remaining = self.burnin_steps - self._seen_steps
        if self._correction is not None or not 0 < remaining <= max(self.closing_steps, block):
            return False
        later = self._frozen_shares[1:] or self._frozen_shares
        self._correction = log_step(np.mean(later, axis=0), self.target_ratio)
        self._log_t = self._log_t + self._correction
        self._assign()
        return True

    def _assign(self) -> None:
        """Make T now the target's, remembering the T it replaces."""
        self._before_change = self.variable.numpy().astype(np.float64)
        self.variable.assign(np.exp(self._log_t).astype(np.float32))
        self._changed_at = self._seen_steps


def prior_floor(
    log_density: LogDensity, state: Sequence[tf.Tensor], seed: SeedLike = None
) -> float:
    """a0: the mean objective of FLOOR_BATCHES * C images drawn from the prior
    N(0, I / lam) on the state (parts shaped like `state`, [C, ...])."""
    if not log_density.prior_weight > 0:
        raise ValueError(f"a prior floor needs prior_weight > 0; got {log_density.prior_weight!r}.")
    seed = as_seed(seed)
    shapes = [tuple(s.shape) for s in state]
    sd = 1.0 / float(np.sqrt(log_density.prior_weight))
    values = [
        log_density.activation(*normal_state(shapes, fold_in(seed, b), sd))
        for b in range(FLOOR_BATCHES)
    ]
    return float(tf.reduce_mean(tf.stack(values)))


class StartValues(Protocol):
    """What T is chosen from: the chains' starts (`sampling.starts.chains.Starts` is one; the
    starts sit above the density)."""

    @property
    def state(self) -> tuple[tf.Tensor, ...]:
        """state parts of the full parameterization, each [C, ...]."""

    @property
    def activations(self) -> np.ndarray:
        """float32 [C], the objective of each start (a*)."""


@dataclasses.dataclass(frozen=True)
class Temperature:
    """The prior and the first temperature of a run.

    Attributes:
      prior_weight: lam, the prior's precision on the spectral state.
      floor: a0, the mean objective of images drawn from the prior.
      rule: T of the equipartition rule over the moving coefficients (objective units), or the
        T given.
      ratio_floor: what shares of the gain are measured from: a0, or 0 when prior images do
        as well as the starts.
    """

    prior_weight: float
    floor: float
    rule: float
    ratio_floor: float


def choose_temperature(
    log_density: LogDensity,
    image_param: ImageParam,
    starts: StartValues,
    seed: tf.Tensor,
    *,
    start: str,
    prior_weight: float | None,
    temperature: float | None,
    target_ratio: float | None,
) -> Temperature:
    """lam matched to the starts (a quarter of their spread around a photo's facet:
    PHOTO_PRIOR_SPREAD), the prior's floor a0 (images of the whole `image_param` drawn from the
    prior) and T from the equipartition rule over the coefficients `log_density` moves, or the T
    given (see sampling.density.temperature).

    Args:
      seed: int32 [2], the prior images' draws derive from it.
      start: how the starts were made (`SamplingOptions.start`): "optimize", "prior",
        "photos" (a folder's photos' facets) or "images".
      prior_weight: lam, or None to match it to the starts (1 for starts from the prior).
      temperature: the T given (objective units), or None for the rule's.
      target_ratio: rho in (0, 1), the rule's share of a* - a0; needed when no T is given.
    """
    if prior_weight is None:
        prior_weight = 1.0 if start == "prior" else matched_prior_weight(starts.state)
        if start == "photos":
            prior_weight /= PHOTO_PRIOR_SPREAD**2
    full = dataclasses.replace(
        log_density, image_param=image_param, prior_weight=prior_weight, prior_centre=None
    )
    floor = prior_floor(full, starts.state, fold_in(seed, 1)) if prior_weight > 0 else 0.0
    a_star = float(np.mean(starts.activations))
    # target_ratio is a share of a* - a0; measured from 0 when prior images do as well.
    ratio_floor = floor if floor < a_star else 0.0
    if temperature is not None:
        return Temperature(prior_weight, floor, temperature, ratio_floor)
    if 0 < a_star <= floor:  # at a* <= 0, temperature_for raises what to do
        fix = (
            "Optimize longer ({hmc_opts.optimize_steps})"
            if start == "optimize"
            else "Start from images the unit responds to more"
        )
        warnings.warn(
            OptionWarning(
                "hmc_opts.temperature",
                "images drawn from the prior reach objective {floor:.4g}, at "
                "least as much as the starts (their mean, a* = {a_star:.4g}); "
                "{hmc_opts.target_ratio} is taken as a share of a* itself. " + fix + ", or give "
                "{hmc_opts.temperature}.",
                floor=floor,
                a_star=a_star,
            ),
            stacklevel=user_stacklevel(),
        )
    assert target_ratio is not None  # resolve_options sets it whenever no temperature is given
    rule = temperature_for(a_star, target_ratio, log_density.image_param.state_size, ratio_floor)
    return Temperature(prior_weight, floor, rule, ratio_floor)


def adaptation(
    temperature: Temperature,
    starts: StartValues,
    target_ratio: float | None,
    temperature_steps: int,
    burnin_steps: int | None = None,
    closing_steps: int = 0,
) -> TemperatureAdaptation | None:
    """The adaptation of each chain's T from the rule's over `temperature_steps` of burn-in
    toward `target_ratio`, corrected once and then held for the last `closing_steps` of
    `burnin_steps`; None when T is fixed (given, so no ratio, or no steps adapt it).

    Each chain's share is of its own start's gain; a start at or below the floor (a dead
    unit) is measured against the starts' mean instead."""
    if target_ratio is None or not temperature_steps:
        return None
    own = np.asarray(starts.activations, np.float64)
    a_star = np.where(own > temperature.ratio_floor, own, np.mean(own))
    return TemperatureAdaptation(
        temperature.rule,
        a_star,
        target_ratio,
        temperature_steps,
        floor=temperature.ratio_floor,
        burnin_steps=burnin_steps,
        closing_steps=closing_steps,
    )
