"""MCMC transition kernels for chains that run along the batch axis.

Every state part has the chain axis first ([C, ...]); the target log-density
returns one value per chain, shape [C]. Step sizes are per chain, shaped
[C, 1, ..., 1] so they broadcast against each state part and so step-size
adaptation tunes every chain on its own acceptance.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

KINDS = ("hmc", "mala", "nuts")

# Stan's and TFP NUTS's threshold: an energy error above this is a divergence.
MAX_ENERGY_ERROR = 1000.0

# Sampler family -> (identity-mass kernel, kernel taking a momentum distribution).
_SAMPLERS = {
    "hmc": (
        tfp.mcmc.HamiltonianMonteCarlo,
        tfp.experimental.mcmc.PreconditionedHamiltonianMonteCarlo,
    ),
    "nuts": (tfp.mcmc.NoUTurnSampler, tfp.experimental.mcmc.PreconditionedNoUTurnSampler),
}


class StepStats(NamedTuple):
    """Per-chain scalars of one transition, each of shape [C]."""

    is_accepted: tf.Tensor  # bool
    log_accept_ratio: tf.Tensor  # float; -energy error for HMC
    target_log_prob: tf.Tensor  # float; log pi of the current state
    step_size: tf.Tensor  # float; leapfrog step size used
    divergent: tf.Tensor  # bool
    energy: tf.Tensor | None  # float; Hamiltonian -log pi(z) + K(p) where the step ended


def accept_prob(log_accept_ratio: tf.Tensor | np.ndarray) -> tf.Tensor:
    """min(1, exp(log accept ratio)), the Metropolis acceptance probability in [0, 1], 0 where
    the ratio is NaN (Stan's accept_stat__); float, `log_accept_ratio`'s shape."""
    prob = tf.exp(tf.minimum(log_accept_ratio, 0.0))
    return tf.where(tf.math.is_nan(prob), tf.zeros_like(prob), prob)


def per_chain_step_size(
    step_size: float | Sequence[float] | tf.Tensor,
    state: Sequence[tf.Tensor],
) -> list[tf.Tensor]:
    """One step size per chain and state part.

    Args:
      step_size: a scalar (same start for every chain) or a vector of shape [C].
      state: state parts, each [C, ...].

    Returns:
      a list with, for each state part of rank r, a float tensor [C, 1, ..., 1]
      of rank r.
    """
    state = [tf.convert_to_tensor(s) for s in state]
    num_chains = state[0].shape[0]
    step = tf.convert_to_tensor(step_size, dtype=state[0].dtype)
    if step.shape.rank not in (0, 1) or (step.shape.rank == 1 and step.shape[0] != num_chains):
        raise ValueError(
            f"step_size must be a scalar or have one value per chain (shape [{num_chains}]); "
            f"got shape {step.shape.as_list()}. Pass a float or a vector of length {num_chains}."
        )
    if not bool(tf.reduce_all(step > 0.0)):
        raise ValueError(f"step_size must be positive; got {step.numpy()}.")
    step = tf.broadcast_to(step, [num_chains])
    return [
        tf.reshape(tf.cast(step, s.dtype), [num_chains] + [1] * (s.shape.rank - 1)) for s in state
    ]


def default_adaptation_steps(num_burnin_steps: int) -> int | None:
    """Steps of step-size adaptation for a burn-in: 80 % of it (TFP's advice).

    None (no adaptation) when the burn-in is too short to adapt.
    """
    steps = int(0.8 * num_burnin_steps)
    return steps if steps >= 1 else None


def make_kernel(
    target_log_prob_fn: Callable[..., tf.Tensor],
    kind: str = "hmc",
    step_size: Any = 0.01,
    num_leapfrog_steps: int = 10,
    num_adaptation_steps: int | None = None,
    target_accept_prob: float = 0.75,
    max_tree_depth: int = 6,
    momentum_distribution: tfp.distributions.Distribution | None = None,
) -> tfp.mcmc.TransitionKernel:
    """A `tfp.mcmc` kernel for chains along the batch axis.

    Args:
      target_log_prob_fn: state parts (each [C, ...]) -> log density [C].
      kind: "hmc" (HamiltonianMonteCarlo), "mala" (HMC with one leapfrog step,
        so its step size can be adapted) or "nuts" (NoUTurnSampler).
      step_size: what TFP accepts; use `per_chain_step_size` for per-chain
        sizes [C, 1, ...].
      num_leapfrog_steps: leapfrog steps per HMC proposal (ignored by mala/nuts).
      num_adaptation_steps: if given, wrap in DualAveragingStepSizeAdaptation
        for that many steps; keep it below the number of burn-in steps.
      target_accept_prob: acceptance rate the adaptation aims for, in (0, 1).
      max_tree_depth: NUTS tree depth; chains run in lockstep, so the deepest
        tree of any chain sets the cost of a step (5-6 is plenty).
      momentum_distribution: momenta per state part with one log-density per
        chain (`sampling.density.momentum.momentum_distribution` builds one); None is the identity mass.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}.")
    if int(num_leapfrog_steps) < 1:
        raise ValueError(f"num_leapfrog_steps must be >= 1; got {num_leapfrog_steps}.")
    if not 0.0 < float(target_accept_prob) < 1.0:
        raise ValueError(f"target_accept_prob must lie in (0, 1); got {target_accept_prob}.")
    # The preconditioned kernels take a momentum distribution; with None they
    # would draw unit momenta, so the plain kernels serve the identity mass.
    mass = (
        {} if momentum_distribution is None else dict(momentum_distribution=momentum_distribution)
    )
    plain, preconditioned = _SAMPLERS["nuts" if kind == "nuts" else "hmc"]
    sampler = preconditioned if mass else plain
    if kind == "nuts":
        if int(max_tree_depth) < 1:
            raise ValueError(f"max_tree_depth must be >= 1; got {max_tree_depth}.")
        settings = dict(max_tree_depth=int(max_tree_depth), max_energy_diff=MAX_ENERGY_ERROR)
    else:
        settings = dict(
            num_leapfrog_steps=1 if kind == "mala" else int(num_leapfrog_steps),
            # Keep the step size in the results so it can be traced without adaptation.
            store_parameters_in_results=True,
        )
    kernel = sampler(target_log_prob_fn, step_size=step_size, **settings, **mass)
    if num_adaptation_steps is None:
        return kernel
    if kind == "nuts" and mass:
        # Measured with TFP 0.25 on a Gaussian with mass = precision: under
        # DualAveragingStepSizeAdaptation preconditioned NUTS gets log accept
        # ratios of -inf at a step (0.5) it accepts 87 % of the time unadapted,
        # and the adapted step settles where an identity mass would put it.
        raise ValueError(
            "NUTS with a momentum distribution cannot adapt its step size; use kind='hmc' "
            "with the mass, give a fixed step size (no adaptation), or drop the mass."
        )
    if int(num_adaptation_steps) < 1:
        raise ValueError(
            "num_adaptation_steps must be >= 1 or None (no adaptation); got "
            f"{num_adaptation_steps}."
        )
    return tfp.mcmc.DualAveragingStepSizeAdaptation(
        kernel,
        num_adaptation_steps=int(num_adaptation_steps),
        target_accept_prob=float(target_accept_prob),
    )


def num_adaptation_steps_of(kernel: tfp.mcmc.TransitionKernel) -> int | None:
    """The adaptation length of a kernel made by `make_kernel`, or None."""
    while kernel is not None:
        if isinstance(kernel, tfp.mcmc.DualAveragingStepSizeAdaptation):
            return int(kernel.num_adaptation_steps)
        kernel = getattr(kernel, "inner_kernel", None)
    return None


def refreshed_results(
    kernel: tfp.mcmc.TransitionKernel, state: Sequence[tf.Tensor], kernel_results: Any
) -> Any:
    """`kernel_results` with the sampler's cached target values recomputed at `state`.

    For a target that changed between steps (a new temperature): the sampler's
    results are bootstrapped afresh, while step-size adaptation keeps its
    state (it sets the step size before every step). A kernel with a `refreshed_results` method
    of its own refreshes itself.
    """
    if hasattr(kernel, "refreshed_results"):
        return kernel.refreshed_results(state, kernel_results)
    if isinstance(kernel, tfp.mcmc.DualAveragingStepSizeAdaptation):
        return kernel_results._replace(
            inner_results=kernel.inner_kernel.bootstrap_results(list(state))
        )
    return kernel.bootstrap_results(list(state))


def with_current_values(
    kernel_results: Any,
    values: Callable[[tf.Tensor, list[tf.Tensor]], tuple[tf.Tensor, list[tf.Tensor]]],
) -> Any:
    """`kernel_results` of a `make_kernel` kernel with the log-density [C] and gradient (parts
    [C, ...]) it holds for the current state replaced by `values(log_prob, grads)`; the rest
    (tallies, step-size adaptation, the last proposal's values) kept."""
    if hasattr(kernel_results, "inner_results"):
        return kernel_results._replace(
            inner_results=with_current_values(kernel_results.inner_results, values)
        )
    if hasattr(kernel_results, "accepted_results"):  # Metropolis-Hastings: the current state's
        return kernel_results._replace(
            accepted_results=with_current_values(kernel_results.accepted_results, values)
        )
    log_prob, grads = values(
        kernel_results.target_log_prob, list(kernel_results.grads_target_log_prob)
    )
    return kernel_results._replace(target_log_prob=log_prob, grads_target_log_prob=grads)


def _innermost(kernel_results: Any) -> Any:
    """Unwrap step-size adaptation (and similar) results to the sampler's own."""
    while hasattr(kernel_results, "inner_results"):
        kernel_results = kernel_results.inner_results
    return kernel_results


def _kinetic_energy(kernel_results: Any, momentum: Sequence[tf.Tensor]) -> tf.Tensor:
    """K(p) per chain, [C]: p' M^-1 p / 2 for momenta p ~ N(0, M), the kernel's momentum
    distribution q (log q(0) - log q(p), which drops q's normalizing constant), or |p|^2 / 2
    for the identity mass."""
    distribution = getattr(kernel_results, "momentum_distribution", None)
    if distribution is not None:
        zero = [tf.zeros_like(p) for p in momentum]
        return distribution.log_prob(zero) - distribution.log_prob(list(momentum))
    return 0.5 * tf.add_n(
        [tf.reduce_sum(tf.reshape(tf.square(p), [tf.shape(p)[0], -1]), axis=1) for p in momentum]
    )


def _per_chain(flags: tf.Tensor, part: tf.Tensor) -> tf.Tensor:
    """`flags` [C] shaped to broadcast against a state part [C, ...]."""
    return tf.reshape(flags, [-1] + [1] * (part.shape.rank - 1))


def step_stats(kernel_results: Any, with_energy: bool = True) -> StepStats:
    """Per-chain scalars from the results of a `make_kernel` kernel; `with_energy` False leaves
    the Hamiltonian out (None): with a momentum distribution it costs that distribution's
    log-densities, which a tally of acceptances or a step size do not need."""
    kr = _innermost(kernel_results)
    energy = None
    if hasattr(kr, "has_divergence"):  # NUTS
        target_log_prob = kr.target_log_prob
        step = tf.nest.flatten(kr.step_size)[0]
        divergent = kr.has_divergence | ~tf.math.is_finite(kr.log_accept_ratio)
        # TFP's NUTS keeps log pi - K of the sample it chose, minus the Hamiltonian, and with a
        # momentum distribution q its K is -log q(p): add log q(0) for the K used below.
        if with_energy:
            energy = -kr.energy
            distribution = getattr(kr, "momentum_distribution", None)
            if distribution is not None:
                zero = [tf.zeros_like(g) for g in kr.grads_target_log_prob]
                energy += distribution.log_prob(zero)
    else:  # Metropolis-Hastings around uncalibrated HMC
        target_log_prob = kr.accepted_results.target_log_prob
        step = tf.nest.flatten(kr.accepted_results.step_size)[0]
        # For HMC the log accept ratio is minus the energy error of the proposal.
        divergent = ~tf.math.is_finite(kr.log_accept_ratio) | (
            kr.log_accept_ratio < -MAX_ENERGY_ERROR
        )
        # Stan's energy__: H where the transition ended, at the proposal's end with its final
        # momentum if accepted, else back at the start with the momentum drawn for this step.
        # (accepted_results of a rejected step hold an older proposal's momenta, so the
        # proposal's own are used.) Each chain's momentum is chosen first, so that K is
        # computed once.
        if with_energy:
            proposed = kr.proposed_results
            ended = [
                tf.where(_per_chain(kr.is_accepted, final), final, initial)
                for final, initial in zip(proposed.final_momentum, proposed.initial_momentum)
            ]
            energy = _kinetic_energy(proposed, ended) - target_log_prob
    step = tf.reshape(tf.cast(step, target_log_prob.dtype), [-1]) * tf.ones_like(target_log_prob)
    return StepStats(
        is_accepted=kr.is_accepted,
        log_accept_ratio=kr.log_accept_ratio,
        target_log_prob=target_log_prob,
        step_size=step,
        divergent=divergent,
        energy=energy,
    )
