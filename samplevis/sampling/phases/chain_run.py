"""The chains' run: their temperature (`tempered`), their kernel (`build_kernel`), burn-in and
the samples (`burn_in_and_sample`), then each facet's log-mass at one T (`log_masses`)."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from samplevis.runtime.seeds import fold_in
from samplevis.sampling.density import facet_mass, low_rank, momentum
from samplevis.sampling.density import temperature as temperature_lib
from samplevis.sampling.density.chain_param import FacetImage, WarpedFacet
from samplevis.sampling.density.log_density import LogDensity
from samplevis.sampling.mcmc import chain as chain_lib
from samplevis.sampling.mcmc import curvature, kernels
from samplevis.sampling.options import SamplingOptions
from samplevis.sampling.phases.carried import Clock, Inputs


def tempered(
    log_density: LogDensity,
    temperature: temperature_lib.Temperature,
    adapting: temperature_lib.TemperatureAdaptation | None,
) -> LogDensity:
    """`log_density` at the chosen prior weight and T: each chain's own T, adapted during burn-in,
    when `adapting` is given, else the rule's (or the given) T."""
    log_density = dataclasses.replace(
        log_density, prior_weight=temperature.prior_weight, temperature=temperature.rule
    )
    return adapting.log_density(log_density) if adapting is not None else log_density


def build_kernel(
    target: LogDensity,
    *,
    kind: str,
    step_size: float,
    num_leapfrog_steps: int,
    num_burnin_steps: int,
    adapt_step_size: bool,
    target_accept_prob: float,
    max_tree_depth: int,
    mass: str,
    seed: tf.Tensor,
    warp_mass: str = "mean",
) -> Any:
    """The chains' `tfp.mcmc` kernel over `target`'s state (see `mcmc.kernels.make_kernel` and
    `hmc_opts` in sampling.options for the arguments), with the momentum's mass measured at the
    chains' starts: "curvature" (a facet's: `target.low_rank.facet_momentum`, over a warp as
    `warp_mass` says; the identity for a state that is no facet), "fisher" or "identity" (each
    part then stepping by its own mean curvature); `seed` (int32 [2]) draws the curvature's
    probe directions."""
    adaptation = kernels.default_adaptation_steps(num_burnin_steps) if adapt_step_size else None
    state = list(target.image_param.init(None))
    momenta = None
    steps = kernels.per_chain_step_size(step_size, state)
    if mass == "curvature" and isinstance(target.image_param, FacetImage | WarpedFacet):
        momenta = low_rank.facet_momentum(target, state, seed, warp_mass)
    elif mass == "fisher":
        groups = momentum.state_groups(target.image_param)
        momenta = momentum.momentum_distribution(momentum.fisher_mass(target, state, groups))
    elif isinstance(target.image_param, WarpedFacet):
        # The warp is far stiffer than the coefficients: one step for both would make the
        # adaptation shorten it until the coefficients crawl (docs/sampling_designs.md, "The
        # mass"), so each part steps by its own curvature.
        curvatures = curvature.part_curvatures(target, state, seed, floor=target.prior_weight)
        steps = curvature.part_step_sizes(steps[0][:, 0], curvatures, state)
    return kernels.make_kernel(
        target,
        kind,
        steps,
        num_leapfrog_steps=num_leapfrog_steps,
        num_adaptation_steps=adaptation,
        target_accept_prob=target_accept_prob,
        max_tree_depth=max_tree_depth,
        momentum_distribution=momenta,
    )


def plan(opts: SamplingOptions) -> chain_lib.ChainPlan:
    """The chains' steps: burn-in, then the samples."""
    return chain_lib.ChainPlan(
        opts.num_results,
        opts.num_burnin_steps,
        opts.num_steps_between_results,
        opts.block_steps,
    )


def enter_block(
    clock: Clock,
    blocks: Sequence[chain_lib.Block],
    on_block: Callable[[int], None] | None,
    index: int,
) -> None:
    """Before block `index` of `blocks`: time it as burn-in or sampling, then call the user's
    `on_block`."""
    clock.start("burn-in" if blocks[index].phase == "burnin" else "sampling")
    if on_block is not None:
        on_block(index)


def burn_in_and_sample(
    inputs: Inputs,
    log_density: LogDensity,
    steps: chain_lib.ChainPlan,
    clock: Clock,
    adapting: temperature_lib.TemperatureAdaptation | None,
) -> chain_lib.ChainRun:
    """Burn-in and the samples: the kernel built over `log_density`, the chains run by `steps`
    from their facets' starts, T adapted by `adapting`."""
    opts, base = inputs.opts, inputs.seed
    kernel = build_kernel(
        log_density,
        kind=opts.kernel,
        step_size=opts.step_size,
        num_leapfrog_steps=opts.num_leapfrog_steps,
        num_burnin_steps=opts.num_burnin_steps,
        adapt_step_size=opts.adapt_step_size,
        target_accept_prob=opts.target_accept_prob,
        max_tree_depth=opts.max_tree_depth,
        mass=opts.mass,
        seed=fold_in(base, 7),
        warp_mass=opts.warp_mass,
    )
    return chain_lib.run_chains(
        kernel,
        list(log_density.image_param.init(None)),
        steps,
        seed=fold_in(base, 2),
        trace_fns={"activation": log_density.activation_from_log_prob},
        progress=inputs.progress,
        on_block=functools.partial(enter_block, clock, steps.blocks(), inputs.on_block),
        retarget=adapting,
        rescale=(
            None
            if adapting is None
            else lambda state, log_prob, grads: log_density.retempered(
                state, log_prob, grads, adapting.previous_temperature
            )
        ),
    )


def chain_temperatures(
    temperature: temperature_lib.Temperature,
    adapting: temperature_lib.TemperatureAdaptation | None,
) -> np.ndarray:
    """float [C] or [1]: each chain's T now (frozen once burn-in adapted it), or the one T."""
    return adapting.temperature if adapting is not None else np.array([temperature.rule])


def common_temperature(temperatures: np.ndarray) -> float:
    """One T for all chains: their geometric mean (the one T itself when all are equal)."""
    if np.all(temperatures == temperatures[0]):
        return float(temperatures[0])
    return float(np.exp(np.mean(np.log(temperatures))))


def log_masses(
    log_density: LogDensity,
    temperature: temperature_lib.Temperature,
    adapting: temperature_lib.TemperatureAdaptation | None,
    seed: tf.Tensor,
) -> facet_mass.LogMassEstimate:
    """Each chain's facet's Laplace log-mass and its error, float64 [C] each (see
    sampling.density.facet_mass), at one T for all facets, so their masses compare: the chains'
    T's geometric mean. The target is compiled with its gradient: Newton's steps and the probes
    read both often."""
    target = facet_mass.mass_target(
        log_density, common_temperature(chain_temperatures(temperature, adapting))
    )
    compiled = facet_mass.CompiledLogProb(target)
    return facet_mass.facet_log_mass_estimate(
        target, temperature.prior_weight, seed, log_prob=compiled
    )
