"""Each facet's estimated log-mass: how much of the exact density its basin would hold.

Chains sample their own facet and pool with equal weight. The exact density would not weigh
them equally: at a temperature that keeps the activation, a difference of 0.1 in the optimized
activation is a factor of e^(0.1 / T) in mass. The Laplace estimate at the mode z* of each
chain's basin,

    log Z = log pi(z*) + g' H^-1 g / 2 + sum_i log(2 pi / H_ii) / 2,

with g the gradient of log pi (near 0 at z*) and H = -diag of its Hessian over the coordinates
that move, says which facets the exact density would favour. A chain's start is an optimum of
the activation, not of log pi, so Newton's steps climb from it to z* first; where they do not
reach a mode the estimate is refused. The diagonal comes from finite differences of the gradient
along random sign vectors (Hutchinson's estimator), averaged within groups of coordinates
(colour channel and frequency band); for a Gaussian basin it is exact. Its error bar is the
jackknife's over those sign vectors (docs/sampling_designs.md, "The log-masses").
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from samplevis.runtime.seeds import SeedLike, as_seed, fold_in
from samplevis.sampling.density.chain_param import FacetImage, WarpedFacet, held_warp
from samplevis.sampling.density.log_density import LogDensity
from samplevis.sampling.density.momentum import group_mean, state_groups

LogProb = Callable[..., tf.Tensor]  # state parts, each [C, ...] -> log pi [C]
# random sign vectors behind the curvature; each is one of the jackknife's groups, so the
# error bar needs at least 2
PROBES = 6
PROBE_STEP = 0.05  # finite-difference step, in prior standard deviations
# steps of Newton's method (the diagonal Hessian, halved on a fall) from the start to the mode of
# the mass target: a climb's end is the activation's optimum, not the target's
NEWTON_STEPS = 32
# the diagonal is measured again every NEWTON_REFRESH steps, from NEWTON_PROBES sign vectors
NEWTON_REFRESH, NEWTON_PROBES = 8, 2
# the farthest a Newton step moves a coordinate, in prior standard deviations
NEWTON_REACH = 1.0
# the gradient term g' H^-1 g / 2 (nats) left at the end of the steps above which (and above the
# probes' error) the end is no mode: the estimate is refused (NaN) rather than carried by an
# extrapolation
GRADIENT_TOLERANCE = 1.0


class LogMassEstimate(NamedTuple):
    """The Laplace log-mass of each chain's basin, with its error bar.

    Attributes:
      log_mass: float64 [C], nats; NaN where refused (`refused`).
      error: float64 [C], its standard error (nats): the jackknife's over the probes and the
        gradient term left, in quadrature; the difference of two chains' log-masses has error
        sqrt(e_i^2 + e_j^2); inf where refused.
      gradient_term: float64 [C], g' H^-1 g / 2 (nats) at the point of the estimate: what the
        quadratic extrapolates to reach the mode (near 0 at a mode).
      climbed: float64 [C], log pi at that point minus log pi at the start (nats): how far
        below its basin's mode the start was.
      unchecked: float64 [C], the Laplace formula's value at that point, refused or not (what
        the estimate would say without the check), and `unchecked_error` its standard error.
    """

    log_mass: np.ndarray
    error: np.ndarray
    gradient_term: np.ndarray
    climbed: np.ndarray
    unchecked: np.ndarray
    unchecked_error: np.ndarray

    @property
    def refused(self) -> np.ndarray:
        """bool [C]: where the Newton steps did not reach a mode (the gradient term left is above
        GRADIENT_TOLERANCE, or the target is not finite there)."""
        return ~np.isfinite(self.log_mass)


class CompiledLogProb:
    """A log pi compiled for the estimate: a call gives log pi [C]; `value_and_gradient` gives it
    with its gradient from one compiled program (a compiled value under an eager tape, as
    `log_prob_and_gradient` takes a plain `log_prob`, runs its forward and backward passes as
    two programs, which costs more per gradient). A call runs that same program and drops the
    gradient: the estimate asks for a value alone once, and a program of its own would be
    traced and optimized for that one call, which costs more than the backward pass it saves."""

    def __init__(self, log_prob: LogProb):
        self.value_and_gradient = tf.function(
            lambda *state: _taped_gradient(log_prob, state), autograph=False
        )

    def __call__(self, *state: tf.Tensor) -> tf.Tensor:
        return self.value_and_gradient(*state)[0]


def _taped_gradient(
    log_prob: LogProb, state: Sequence[tf.Tensor]
) -> tuple[tf.Tensor, list[tf.Tensor]]:
    with tf.GradientTape() as tape:
        tape.watch(state)
        value = log_prob(*state)
    return value, tape.gradient(value, list(state))


def log_prob_and_gradient(
    log_prob: LogProb, state: Sequence[tf.Tensor]
) -> tuple[tf.Tensor, list[tf.Tensor]]:
    """log pi [C] at `state` and its gradient, a part per state part: one compiled program for
    a `CompiledLogProb`, an eager tape otherwise. Every gradient of the estimate is taken here,
    by this name, so a measurement can wrap it (benchmarks/phase_floors.py counts them)."""
    if isinstance(log_prob, CompiledLogProb):
        value, gradient = log_prob.value_and_gradient(*state)
        return value, list(gradient)
    return _taped_gradient(log_prob, state)


def _flat(parts: Sequence[tf.Tensor | np.ndarray]) -> np.ndarray:
    """State parts [C, ...] as one float64 [C, n]."""
    arrays = [np.asarray(p, np.float64) for p in parts]
    return np.concatenate([a.reshape(a.shape[0], -1) for a in arrays], axis=1)


def _unflat(flat: np.ndarray, like: Sequence[tf.Tensor]) -> list[tf.Tensor]:
    """float [C, n] back into float32 parts shaped as `like`."""
    sizes = [int(np.prod(p.shape[1:])) for p in like]
    pieces = np.split(flat, np.cumsum(sizes)[:-1], axis=1)
    return [tf.constant(x.reshape(p.shape), tf.float32) for x, p in zip(pieces, like)]


def _grouped(curvature: np.ndarray, groups: np.ndarray, prior_weight: float) -> np.ndarray:
    """float64 [C, n]: per-coordinate curvature [C, n] averaged within its group (int [n]),
    at least lam (the prior's curvature; 1e-12 without a prior)."""
    diag = group_mean(curvature, groups).numpy()
    return np.maximum(diag, max(prior_weight, 1e-12))


def probe_curvatures(
    log_prob: LogProb,
    state: Sequence[tf.Tensor],
    prior_weight: float,
    seed: SeedLike = None,
    probes: int = PROBES,
) -> np.ndarray:
    """float64 [probes, C, n]: per random sign vector v, v * (H v), -diag of the Hessian of
    log pi at `state` (parts [C, ...], flattened in order) as Hutchinson estimates it from one
    probe; the finite-difference step is PROBE_STEP / sqrt(lam)."""
    state = [tf.convert_to_tensor(s, tf.float32) for s in state]
    step = PROBE_STEP / math.sqrt(prior_weight) if prior_weight > 0 else PROBE_STEP
    seed = as_seed(seed)
    estimates = []
    for k in range(probes):
        signs = [
            tf.sign(tf.random.stateless_uniform(s.shape, fold_in(seed, 2 * k + j), -1, 1))
            for j, s in enumerate(state)
        ]
        _, up = log_prob_and_gradient(log_prob, [s + step * v for s, v in zip(state, signs)])
        _, down = log_prob_and_gradient(log_prob, [s - step * v for s, v in zip(state, signs)])
        # the gradient of log pi is -H z, so -(v * (g(z + hv) - g(z - hv))) / 2h is v * (H v)
        estimates.append(-_flat(signs) * (_flat(up) - _flat(down)) / (2 * step))
    return np.stack(estimates)


def _newton(
    log_prob: LogProb,
    state: list[tf.Tensor],
    diag: np.ndarray,
    steps: int,
    reach: float,
    stalled_at: float = np.inf,
) -> tuple[list[tf.Tensor], bool, float]:
    """Up to `steps` Newton steps z + s H^-1 g per chain (H the diagonal `diag` [C, n]), no
    coordinate moving more than `reach` a step (so a chain does not leap into another basin),
    each kept only where it raises log pi; s doubles (to 1) after a kept step and halves after
    a fall. Returns the state, whether the steps are done, and the largest gradient term at the
    start (nats). Done once every chain's gradient term is below a tenth of GRADIENT_TOLERANCE,
    or at once when the largest is still `stalled_at` (the last round's) or more: the steps no
    longer bring the chains nearer their modes, as on a ReLU network's kinks around a polished
    optimum."""
    at, grads = log_prob_and_gradient(log_prob, state)
    value, grad, z = at.numpy().astype(np.float64), _flat(grads), _flat(state)
    largest = float(np.max(0.5 * np.sum(grad * grad / diag, axis=1)))
    if largest >= stalled_at:
        return state, True, largest
    scale = np.ones(len(z))
    for _ in range(steps):
        if np.all(0.5 * np.sum(grad * grad / diag, axis=1) < GRADIENT_TOLERANCE / 10):
            return _unflat(z, state), True, largest
        trial = z + np.clip(scale[:, None] * grad / diag, -reach, reach)
        at, grads = log_prob_and_gradient(log_prob, _unflat(trial, state))
        new_value = at.numpy().astype(np.float64)
        rose = np.isfinite(new_value) & (new_value > value)
        z = np.where(rose[:, None], trial, z)
        grad = np.where(rose[:, None], _flat(grads), grad)
        value = np.where(rose, new_value, value)
        scale = np.where(rose, np.minimum(2 * scale, 1.0), scale / 2)
    return _unflat(z, state), False, largest


def laplace_estimate(
    log_prob: LogProb,
    state: Sequence[tf.Tensor],
    groups: Sequence[np.ndarray],
    prior_weight: float,
    seed: SeedLike = None,
    probes: int = PROBES,
    newton_steps: int = NEWTON_STEPS,
) -> LogMassEstimate:
    """log Z per chain of the basin around each chain's `state` (parts [C, ...]), with its error.

    First up to `newton_steps` Newton steps (the diagonal Hessian measured again every
    NEWTON_REFRESH steps, the steps ended once a round starts no nearer the modes than the last)
    move each chain to its basin's mode; there log Z = log pi +
    g' H^-1 g / 2 + sum log(2 pi / H_ii) / 2, the diagonal from `probes` fresh sign vectors.
    The error is the jackknife's over the probes (each left out in turn) and the gradient term
    left, in quadrature. Where that term exceeds both GRADIENT_TOLERANCE nats and the
    jackknife's error the end is no mode, and the log-mass is NaN (error inf).

    Args:
      log_prob: the target, one value per chain.
      groups: per state part, the group of every coordinate (shape of one chain's part).
      prior_weight: lam, the prior precision; the curvature is at least lam, and the
        finite-difference step is PROBE_STEP / sqrt(lam).
      probes: sign vectors at the mode, >= 2 for an error bar (1: error NaN).
    """
    state = [tf.convert_to_tensor(s, tf.float32) for s in state]
    seed = as_seed(seed)
    # one group id per coordinate of the flattened parts, no group shared between parts
    ids = np.concatenate(
        [np.asarray(g).reshape(-1) + _offset(groups, i) for i, g in enumerate(groups)]
    )
    start_value = log_prob(*state).numpy().astype(np.float64)
    reach = NEWTON_REACH / math.sqrt(prior_weight) if prior_weight > 0 else NEWTON_REACH
    largest = np.inf
    for done in range(0, newton_steps, NEWTON_REFRESH):
        # the curvature where the chain is now: the start's misleads once the steps have climbed
        here = probe_curvatures(
            log_prob, state, prior_weight, fold_in(seed, 1 + done), NEWTON_PROBES
        )
        diag = _grouped(here.mean(axis=0), ids, prior_weight)
        steps = min(NEWTON_REFRESH, newton_steps - done)
        state, converged, largest = _newton(log_prob, state, diag, steps, reach, largest)
        if converged:
            break
    at, grads = log_prob_and_gradient(log_prob, state)
    value, grad = at.numpy().astype(np.float64), _flat(grads)
    curvatures = probe_curvatures(log_prob, state, prior_weight, seed, probes)

    def laplace(kept: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        diag = _grouped(curvatures[kept].mean(axis=0), ids, prior_weight)
        term = 0.5 * np.sum(grad * grad / diag, axis=1)
        return value + term + 0.5 * np.sum(np.log(2 * np.pi / diag), axis=1), term

    every = np.arange(probes)
    log_z, term = laplace(every)
    if probes >= 2:
        left_out = np.stack([laplace(every[every != k])[0] for k in every])
        spread = np.sum((left_out - left_out.mean(axis=0)) ** 2, axis=0)
        probe_error = np.sqrt((probes - 1) / probes * spread)
    else:
        probe_error = np.full_like(log_z, np.nan)
    # the gradient term left extrapolates to a mode the steps did not reach: it counts as
    # error too, and where it exceeds the probes' own error (and the tolerance) the end is no mode
    error = np.hypot(probe_error, term)
    refused = ~np.isfinite(log_z) | ~(term <= np.fmax(GRADIENT_TOLERANCE, probe_error))
    return LogMassEstimate(
        log_mass=np.where(refused, np.nan, log_z),
        error=np.where(refused, np.inf, error),
        gradient_term=term,
        climbed=value - start_value,
        unchecked=log_z,
        unchecked_error=error,
    )


def _offset(groups: Sequence[np.ndarray], index: int) -> int:
    """The first group id of part `index` when the parts' groups are numbered in one sequence."""
    return int(sum(int(np.max(g)) + 1 if np.size(g) else 0 for g in groups[:index]))


def relative(log_mass: np.ndarray) -> np.ndarray:
    """log-masses relative to the largest (0 for the heaviest facet, negative for the others)."""
    log_mass = np.asarray(log_mass, np.float64)
    if not np.isfinite(log_mass).any():
        return log_mass
    return log_mass - np.nanmax(log_mass)


# log-masses closer than this many standard errors of their difference are not told apart
SEPARATION = 2.0


def sentence(
    relative_log_mass: Sequence[float] | np.ndarray,
    errors: Sequence[float] | np.ndarray | None = None,
) -> str:
    """What the log-masses of the chains' basins (each chain's start's, one per chain) mean, in
    one plain sentence; with `errors` (their standard errors, inf where an estimate was refused)
    it gives each its error bar, names the chains whose difference from the heaviest is within
    SEPARATION standard errors, and says why a refused one has no mass."""
    values = np.asarray(relative_log_mass, np.float64)
    errs = np.full(values.shape, np.nan) if errors is None else np.asarray(errors, np.float64)
    refused = np.isinf(errs) & ~np.isfinite(values)
    if values.size == 0 or not np.isfinite(values).any() and not refused.any():
        return "the basins' log-masses were not measured (the run stopped before them)."
    why = (
        f" The basin{'s' if refused.sum() > 1 else ''} of chain{'s' if refused.sum() > 1 else ''} "
        f"{_listed(np.flatnonzero(refused))} {'have' if refused.sum() > 1 else 'has'} no mass: "
        "Newton's method from the start did not reach a mode of the target, where the Laplace "
        "estimate holds."
        if refused.any()
        else ""
    )
    if not np.isfinite(values).any():
        return f"no basin's log-mass was measured.{why}"
    if not (np.isfinite(values) | refused).all():
        return "the basins' log-masses were not measured (the run stopped before them)."
    if values.size == 1:
        return "one chain: it samples the basin of its own optimized start."
    heaviest = int(np.nanargmax(values))
    listed = ", ".join(_with_error(v, e) for v, e in zip(values, errs))
    others = [k for k in range(values.size) if k != heaviest and np.isfinite(values[k])]
    near = sum(values[k] > -math.log(10) for k in others)
    close = (
        f"{near} other basin{'s are' if near != 1 else ' is'} within a factor of 10 of it"
        if near
        else "the others are more than a factor of 10 lighter"
    )
    tied = [
        k
        for k in others
        if abs(values[k] - values[heaviest])
        <= SEPARATION * math.hypot(errs[k], errs[heaviest])  # False when an error is NaN
    ]
    within = (
        f" Chain{'s' if len(tied) > 1 else ''} {_listed(tied)} and {heaviest}: within the "
        "error, the masses do not tell these basins apart."
        if tied
        else ""
    )
    return (
        f"log-masses of each chain's basin (nats, relative to the heaviest): {listed}. Chain "
        f"{heaviest}'s basin is the widest (images around its start keep the unit's value over "
        f"the most room); {close}."
        f"{within}{why} The samples weigh every chain equally: each shows its own basin."
    )


def _with_error(value: float, error: float) -> str:
    if not np.isfinite(value):
        return "none"
    if not np.isfinite(error):
        return f"{value:.0f}"
    return f"{value:.1f} ± {error:.2g}" if abs(value) < 10 else f"{value:.0f} ± {error:.2g}"


def _listed(indices: Sequence[int] | np.ndarray) -> str:
    names = [str(int(k)) for k in indices]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def mass_target(log_density: LogDensity, temperature: float) -> LogDensity:
    """`log_density` at one `temperature` for every chain, over its facet's coefficients with
    the warp held where the chains start (`chain_param.held_warp`; the warp's volume counts
    alike for every facet)."""
    log_density = dataclasses.replace(log_density, temperature=temperature)
    if isinstance(log_density.image_param, WarpedFacet):
        centre = log_density.prior_centre
        log_density = dataclasses.replace(
            log_density,
            image_param=held_warp(log_density.image_param),
            prior_centre=None if centre is None else centre[:1],
        )
    return log_density


def facet_log_mass_estimate(
    target: LogDensity,
    prior_weight: float,
    seed: SeedLike = None,
    probes: int = PROBES,
    log_prob: LogProb | None = None,
    newton_steps: int = NEWTON_STEPS,
) -> LogMassEstimate:
    """The Laplace log-mass of `target`'s facets from their starts, with its standard error
    (`LogMassEstimate`: log_mass and error float64 [C] each, nats; NaN and inf where Newton's
    method did not reach a mode), the coefficients a facet keeps counted in a prior centred at
    0 (a prior centred at the facet holds only what moves);
    `log_prob` is `target` itself (default) or its compiled form, `CompiledLogProb(target)`.
    See `laplace_estimate`."""
    state = list(target.image_param.init(None))
    groups = state_groups(target.image_param)
    estimate = laplace_estimate(
        log_prob or target, state, groups, prior_weight, seed, probes, newton_steps
    )
    if isinstance(target.image_param, FacetImage) and target.prior_centre is None:
        fixed = 0.5 * prior_weight * target.image_param.fixed_squared_norm()
        estimate = estimate._replace(
            log_mass=estimate.log_mass - fixed, unchecked=estimate.unchecked - fixed
        )
    return estimate
