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
(`TemperatureAdaptation`): after every burn-in block a Robbins-Monro step moves log T toward
the share that block kept on that chain, and T is frozen, at the mean of the later iterates,
before the samples are drawn, so that they come from one fixed density.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from samplevis.optvis.param.base import ImageParam, normal_state
from samplevis.runtime.checks import OptionWarning, user_stacklevel
from samplevis.runtime.seeds import SeedLike, as_seed, fold_in
from samplevis.sampling.density.log_density import LogDensity, matched_prior_weight
from samplevis.sampling.starts.chains import Starts

FLOOR_BATCHES = 4  # batches of C prior images behind the floor a0
# Largest change of T per update. On a network a chain's share follows a rise of T only over
# several blocks (it must drift away from its start), so a faster rise overshoots
# (`git show b24ce1b:docs/sampling_designs.md`, "Patterns that move"); a fall takes effect at
# once.
MAX_RISE = 2.5
MAX_FALL = 4.0
MIN_DROP = 1e-3  # a block that kept all of a* - a0 (or more) counts as giving up this share
# Robbins-Monro gains (k + 1) ** -GAIN_DECAY for update k = 0, 1, ...: their sum diverges and
# the sum of their squares converges for any decay in (0.5, 1].
GAIN_DECAY = 0.6
SLOPE_RANGE = (0.1, 1.0)  # the pooled slope of log drop in log T, clipped (design C)


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
        groups: np.ndarray | None = None,
        pooled_slope: bool = False,
        variance_slope: bool = False,
        until_flat: tuple[int, int] | None = None,
    ):
        """
        Args:
          temperature: the first T, a scalar or one per chain [C] (objective units, > 0).
          init_activations: a*_c, float [C], each chain's start; all above `floor`.
          target_ratio: rho in (0, 1), the share of a*_c - floor each chain should keep.
          num_steps: burn-in steps over which T adapts (whole blocks within them count).
          floor: a0, the objective of prior images (0: shares of a* itself).
          burnin_steps: all burn-in steps; when blocks at the frozen T come before the last
            burn-in block, T is corrected once before that last block (None: never).
          closing_steps: steps at the corrected T before the draws: the correction comes after
            the first frozen block from which at most this many burn-in steps remain.
          groups: int [C], each chain's facet (pooled_slope pools the slope over a facet).
          pooled_slope: correct by a Newton step on log drop in log T, its slope fitted over
            the adapting blocks of the chains of one facet.
          variance_slope: correct by a Newton step on log drop in log T whose slope is
            Var[A] / (T * (a* - E[A])) over the frozen blocks (exact at stationarity: for
            exp(A / T) * prior, dE[A]/d log T = Var[A] / T), pooled over a facet's chains.
          until_flat: (fewest, most) steps at the corrected T: burn-in ends at the first block
            after the fewest whose activations since the correction show no trend.
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
        self.closing_steps = int(closing_steps)
        self.groups = None if groups is None else np.asarray(groups)
        self.pooled_slope = pooled_slope
        self.variance_slope = variance_slope
        self._frozen_variances: list[np.ndarray] = []  # Var[A] over each frozen block
        self.until_flat = until_flat
        self._closing: list[np.ndarray] = []  # activations since the correction
        self._ended = False

    def log_density(self, log_density: Any) -> Any:
        """`log_density` (a frozen dataclass with a `temperature`) reading this T, [C]."""
        return dataclasses.replace(log_density, temperature=self.variable)

    @property
    def temperature(self) -> np.ndarray:
        """float [C], T now (the frozen T once adaptation is over)."""
        return np.exp(self._log_t)

    @property
    def frozen(self) -> bool:
        """True once T no longer changes."""
        return self._steps_done >= self.num_steps and (
            self._seen_steps >= self.burnin_steps or self._ended
        )

    @property
    def correction(self) -> np.ndarray | None:
        """float [C], the change of log T made once after the frozen blocks (None: none yet)."""
        return self._correction

    @property
    def adapted_steps(self) -> int:
        """Steps of the blocks that adapted T (num_steps rounded down to whole blocks)."""
        return self._adapted_steps

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
        if self.until_flat is not None and self._seen_steps < self.burnin_steps:
            self.record_closing(activation)
        share = (activation.mean(axis=0) - self.floor) / (self.init_activations - self.floor)
        self._seen_steps += activation.shape[0]
        before = self._steps_done
        self._steps_done += activation.shape[0]
        if self._steps_done > self.num_steps or before >= self.num_steps:
            self._steps_done = max(self._steps_done, self.num_steps)
            self._frozen_variances.append(activation.var(axis=0, ddof=1))
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
        self.variable.assign(np.exp(self._log_t).astype(np.float32))
        return True

    def _newton_step(self, share: np.ndarray) -> np.ndarray:
        """The change of log T that takes `share` [C] to the target along log drop = b log T
        + c_chain, b fitted over the adapting blocks of each facet's chains (within chains)."""
        log_t = np.log(self.temperatures)
        log_drop = np.log(np.maximum(1.0 - self.shares, MIN_DROP))
        x = log_t - log_t.mean(axis=0)
        y = log_drop - log_drop.mean(axis=0)
        groups = self.groups if self.groups is not None else np.arange(x.shape[1])
        slope = np.ones(x.shape[1])
        for g in set(groups.tolist()):
            cols = groups == g
            xx = float(np.sum(x[:, cols] ** 2))
            if xx > 0:
                slope[cols] = float(np.sum(x[:, cols] * y[:, cols])) / xx
        slope = np.clip(np.nan_to_num(slope, nan=1.0), SLOPE_RANGE[0], SLOPE_RANGE[1])
        drop = np.maximum(1.0 - share, MIN_DROP)
        step = np.log((1.0 - self.target_ratio) / drop) / slope
        step = np.clip(step, -math.log(MAX_FALL), math.log(MAX_RISE))
        return np.nan_to_num(step, nan=0.0)

    def _variance_step(self, share: np.ndarray) -> np.ndarray:
        """The change of log T that takes `share` [C] to the target along log drop, its slope
        Var[A] / (T (a* - E[A])) over the frozen blocks, pooled over each facet's chains."""
        variance = np.mean(self._frozen_variances, axis=0)
        drop = np.maximum(1.0 - share, MIN_DROP)
        gain = self.init_activations - self.floor
        slope = variance / (np.exp(self._log_t) * drop * gain)
        groups = self.groups if self.groups is not None else np.arange(len(slope))
        pooled = np.array([np.nanmean(slope[groups == g]) for g in groups])
        pooled = np.clip(np.nan_to_num(pooled, nan=1.0), SLOPE_RANGE[0], SLOPE_RANGE[1])
        step = np.log((1.0 - self.target_ratio) / drop) / pooled
        step = np.clip(step, -math.log(MAX_FALL), math.log(MAX_RISE))
        return np.nan_to_num(step, nan=0.0)

    def record_closing(self, activation: np.ndarray) -> None:
        if self._correction is not None:
            self._closing.append(activation)

    def burnin_over(self) -> bool:
        """With `until_flat`: True once the closing window has run its fewest steps and the
        activations since the correction show no trend on any chain, or its most steps."""
        if self.until_flat is None or self._correction is None:
            return False
        from samplevis.sampling.mcmc.diagnostics import TREND_LIMIT, trend_per_chain

        fewest, most = self.until_flat
        if not self._closing:
            return False
        window = np.concatenate(self._closing, axis=0)
        if window.shape[0] < fewest:
            return False
        flat = np.all(np.abs(np.nan_to_num(trend_per_chain(window))) <= TREND_LIMIT)
        self._ended = bool(window.shape[0] >= most or flat)
        return self._ended

    def _corrected(self, share: np.ndarray, block: int) -> bool:
        """The one correction of the frozen T, after a block of `block` steps that kept `share`
        [C]: when only one more block of burn-in follows, log T moves by the full `log_step`
        of the mean share the blocks at the frozen T kept (so at least one block measured the
        frozen T and one runs at the corrected T before the samples). True if T changed."""
        self._frozen_shares.append(share)
        remaining = self.burnin_steps - self._seen_steps
        if self._correction is not None or not 0 < remaining <= max(self.closing_steps, block):
            return False
        # the later half of the frozen blocks: the first ones still follow T's last change
        mean_share = np.mean(self._frozen_shares[len(self._frozen_shares) // 2 :], axis=0)
        if self.variance_slope:
            self._correction = self._variance_step(mean_share)
        elif self.pooled_slope:
            self._correction = self._newton_step(mean_share)
        else:
            self._correction = log_step(mean_share, self.target_ratio)
        self._log_t = self._log_t + self._correction
        self.variable.assign(np.exp(self._log_t).astype(np.float32))
        return True


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
    starts: Starts,
    seed: tf.Tensor,
    *,
    init: object,
    prior_weight: float | None,
    temperature: float | None,
    target_ratio: float | None,
) -> Temperature:
    """lam matched to the starts, the prior's floor a0 (images of the whole `image_param`
    drawn from the prior) and T from the equipartition rule over the coefficients `log_density`
    moves, or the T given (see sampling.density.temperature).

    Args:
      seed: int32 [2], the prior images' draws derive from it.
      init: how the starts were made, as hmc_opts' init: "optimize", "prior" or images.
      prior_weight: lam, or None to match it to the starts (1 for starts from the prior).
      temperature: the T given (objective units), or None for the rule's.
      target_ratio: rho in (0, 1), the rule's share of a* - a0; needed when no T is given.
    """
    from_prior = isinstance(init, str) and init == "prior"
    if prior_weight is None:
        prior_weight = 1.0 if from_prior else matched_prior_weight(starts.state)
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
        optimized = isinstance(init, str) and init == "optimize"
        fix = (
            "Optimize longer ({hmc_opts.optimize_steps})"
            if optimized
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
    starts: Starts,
    target_ratio: float | None,
    temperature_steps: int,
    burnin_steps: int | None = None,
    groups: np.ndarray | None = None,
) -> TemperatureAdaptation | None:
    """The adaptation of each chain's T from the rule's over `temperature_steps` of burn-in
    toward `target_ratio`; None when T is fixed (given, so no ratio, or no steps adapt it).

    Each chain's share is of its own start's gain; a start at or below the floor (a dead
    unit) is measured against the starts' mean instead."""
    if target_ratio is None or not temperature_steps:
        return None
    own = np.asarray(starts.activations, np.float64)
    a_star = np.where(own > temperature.ratio_floor, own, np.mean(own))
    import os

    design = os.environ.get("SAMPLEVIS_WARMUP", "base")
    extra: dict[str, Any] = {}
    if design in ("A", "C", "B"):
        temperature_steps = 16
        extra = dict(closing_steps=20)
    if design == "C":
        extra.update(groups=groups, pooled_slope=True)
    if design == "D":
        temperature_steps = 16
        extra = dict(closing_steps=20, groups=groups, variance_slope=True)
    if design == "B":
        extra = dict(closing_steps=35, until_flat=(15, 35))
    return TemperatureAdaptation(
        temperature.rule,
        a_star,
        target_ratio,
        temperature_steps,
        floor=temperature.ratio_floor,
        burnin_steps=burnin_steps,
        **extra,
    )
