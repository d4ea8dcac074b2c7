"""Each facet's estimated log-mass: how much of the exact density its basin would hold.

Chains sample their own facet and pool with equal weight. The exact density would not weigh
them equally: at a temperature that keeps the activation, a difference of 0.1 in the optimized
activation is a factor of e^(0.1 / T) in mass. The Laplace estimate around each chain's start z0,

    log Z = log pi(z0) + g' H^-1 g / 2 + sum_i log(2 pi / H_ii) / 2,

with g the gradient of log pi and H = -diag of its Hessian over the coordinates that move, says
which facets the exact density would favour. The diagonal comes from finite differences of the
gradient along random sign vectors (Hutchinson's estimator), averaged within groups of
coordinates (colour channel and frequency band); for a Gaussian basin it is exact.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf

from samplevis.sampling.target.facet import FacetImage, WarpedFacet
from samplevis.sampling.target.log_density import LogDensity
from samplevis.sampling.target.momentum import group_mean, state_groups
from samplevis.seeds import SeedLike, as_seed, fold_in

LogProb = Callable[..., tf.Tensor]  # state parts, each [C, ...] -> log pi [C]
PROBES = 4  # random sign vectors behind the curvature
# a walk measures every basin it keeps: the curvature is averaged over groups of coefficients
# (colour channel and band), so few probes serve
BASIN_PROBES = 2
PROBE_STEP = 0.05  # finite-difference step, in prior standard deviations


def _gradient(log_prob: LogProb, state: Sequence[tf.Tensor]) -> tuple[tf.Tensor, list[tf.Tensor]]:
    with tf.GradientTape() as tape:
        tape.watch(state)
        value = log_prob(*state)
    return value, tape.gradient(value, list(state))


def laplace_log_mass(
    log_prob: LogProb,
    state: Sequence[tf.Tensor],
    groups: Sequence[np.ndarray],
    prior_weight: float,
    seed: SeedLike = None,
    probes: int = PROBES,
) -> np.ndarray:
    """log Z per chain, float64 [C], of the basin around each chain's `state` (parts [C, ...]).

    Args:
      log_prob: the target, one value per chain.
      groups: per state part, the group of every coordinate (shape of one chain's part).
      prior_weight: lam, the prior precision; the curvature is at least lam, and the
        finite-difference step is PROBE_STEP / sqrt(lam).
    """
    state = [tf.convert_to_tensor(s, tf.float32) for s in state]
    value, grad = _gradient(log_prob, state)
    curvature = hessian_diagonal(log_prob, state, prior_weight, seed, probes)
    total = value.numpy().astype(np.float64)
    for c, g, ids in zip(curvature, grad, groups):
        num_chains = c.shape[0]
        diag = group_mean(c.reshape(num_chains, -1), np.asarray(ids).reshape(-1)).numpy()
        diag = np.maximum(diag, max(prior_weight, 1e-12))
        g = g.numpy().reshape(num_chains, -1).astype(np.float64)
        total += 0.5 * np.sum(g * g / diag, axis=1) + 0.5 * np.sum(np.log(2 * np.pi / diag), axis=1)
    return total


def hessian_diagonal(
    log_prob: LogProb,
    state: Sequence[tf.Tensor],
    prior_weight: float,
    seed: SeedLike = None,
    probes: int = PROBES,
) -> list[np.ndarray]:
    """-diag of the Hessian of log pi at `state`, per state part (float64, the part's shape),
    from `probes` random sign vectors; the finite-difference step is PROBE_STEP / sqrt(lam)."""
    state = [tf.convert_to_tensor(s, tf.float32) for s in state]
    step = PROBE_STEP / math.sqrt(prior_weight) if prior_weight > 0 else PROBE_STEP
    seed = as_seed(seed)
    curvature = [np.zeros(s.shape, np.float64) for s in state]
    for k in range(probes):
        signs = [
            tf.sign(tf.random.stateless_uniform(s.shape, fold_in(seed, 2 * k + j), -1, 1))
            for j, s in enumerate(state)
        ]
        _, up = _gradient(log_prob, [s + step * v for s, v in zip(state, signs)])
        _, down = _gradient(log_prob, [s - step * v for s, v in zip(state, signs)])
        for c, v, u, d in zip(curvature, signs, up, down):
            # v * (H v) estimates diag(H) (Hutchinson); the gradient of log pi is -H z.
            c -= (v * (u - d)).numpy() / (2 * step) / probes
    return curvature


def relative(log_mass: np.ndarray) -> np.ndarray:
    """log-masses relative to the largest (0 for the heaviest facet, negative for the others)."""
    log_mass = np.asarray(log_mass, np.float64)
    if not np.isfinite(log_mass).any():
        return log_mass
    return log_mass - np.nanmax(log_mass)


def sentence(relative_log_mass: Sequence[float]) -> str:
    """What the facets' log-masses mean, in one plain sentence."""
    values = np.asarray(relative_log_mass, np.float64)
    if values.size == 0 or not np.isfinite(values).all():
        return "the facets' log-masses were not measured (the run stopped before them)."
    heaviest = int(np.argmax(values))
    others = np.delete(values, heaviest)
    listed = ", ".join(f"{v:.0f}" for v in values)
    if values.size == 1:
        return "one facet: the chain samples the basin of its own optimized start."
    near = int(np.sum(others > -math.log(10)))
    close = (
        f"{near} other facet{'s are' if near != 1 else ' is'} within a factor of 10 of it"
        if near
        else "the others are more than a factor of 10 lighter"
    )
    return (
        f"facet log-masses (nats, relative to the heaviest): {listed}. The exact density "
        f"would put most of its mass on facet {heaviest}; {close}. The samples weigh every "
        "facet equally: each chain shows its own facet."
    )


def mass_target(log_density: LogDensity, temperature: float) -> LogDensity:
    """`log_density` at one `temperature` for every chain, over its facet's coefficients at the
    unwarped start (the warp's volume counts alike for every facet)."""
    log_density = dataclasses.replace(log_density, temperature=temperature)
    if isinstance(log_density.image_param, WarpedFacet):
        log_density = dataclasses.replace(log_density, image_param=log_density.image_param.base)
    return log_density


def facet_log_masses(
    target: LogDensity,
    prior_weight: float,
    seed: SeedLike = None,
    probes: int = PROBES,
    log_prob: LogProb | None = None,
) -> np.ndarray:
    """The Laplace log-mass of `target`'s facets at their starts, float64 [C], the coefficients
    a facet keeps counted in the prior; `log_prob` is `target` itself (default) or its compiled
    form."""
    state = list(target.image_param.init(None))
    groups = state_groups(target.image_param)
    log_z = laplace_log_mass(log_prob or target, state, groups, prior_weight, seed, probes)
    if isinstance(target.image_param, FacetImage):
        log_z = log_z - 0.5 * prior_weight * target.image_param.fixed_squared_norm()
    return log_z


class BasinMasses:
    """Each chain's current basin's log-mass, float64 [C], for a walk between basins
    (`basins.BasinWalk`'s `log_mass`): the target at `temperature()` compiled once, at the first
    call, when burn-in has frozen T, then read again at every basin (the facet's start is a
    variable the walk assigns); BASIN_PROBES probe directions."""

    def __init__(
        self,
        log_density: LogDensity,
        temperature: Callable[[], float],
        prior_weight: float,
        seed: tf.Tensor,
    ) -> None:
        self._log_density, self._temperature = log_density, temperature
        self._prior_weight, self._seed = prior_weight, seed
        self._compiled: tuple[LogDensity, LogProb] | None = None

    def __call__(self) -> np.ndarray:
        if self._compiled is None:
            target = mass_target(self._log_density, self._temperature())
            self._compiled = (target, tf.function(target.__call__, autograph=False))
        target, log_prob = self._compiled
        return facet_log_masses(target, self._prior_weight, self._seed, BASIN_PROBES, log_prob)
