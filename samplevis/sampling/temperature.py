"""The temperature: the equipartition rule over the coefficients that move, checked by a short
run that rescales it.

Shares are measured from the prior's floor a0, the mean objective of images drawn from the
prior alone (`prior_floor`): r = (A - a0) / (a* - a0), so rho = 0 is the prior (T = infinity)
and rho = 1 the optimized starts (T = 0). Many units respond to 1/f noise (on EfficientNet-Lite0
prior images reach 0.60 and 0.42 of a* on block3a_expand_activation:20 and
block5a_expand_activation:100), so a share of a* itself would let the chains drift almost to
noise before it bites.

Near an optimum each of the D moving directions the objective holds gives up about T / 2 of it
(equipartition), so keeping a share rho of the gain needs T = 2 (1 - rho) (a* - a0) / D
(`temperature_for`). Not every direction is held by the objective, and ReLU kinks make the
basin no quadratic, so `check_temperature` runs the chains in stages of STAGE_STEPS and rescales
T after each by a secant step through the origin,

    T <- T * clip((1 - rho) / (1 - r), 1 / MAX_FACTOR, MAX_FACTOR),

with r the share kept over the second half of the stage (the chains answer a new T over tens
of steps, so shorter stages overshoot).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from samplevis.checks import OptionWarning, is_int, user_stacklevel
from samplevis.param.base import ImageParam, normal_state
from samplevis.sampling import chain as chain_lib
from samplevis.sampling.energy import Energy, matched_prior_weight
from samplevis.sampling.options import SamplingOptions
from samplevis.sampling.starts import Starts
from samplevis.seeds import SeedLike, as_seed, fold_in

STAGE_STEPS = 30  # MCMC steps at one T
FLOOR_BATCHES = 4  # batches of C prior images behind the floor a0
MAX_FACTOR = 4.0  # largest change of T per stage
MIN_DROP = 1e-3  # a stage that kept all of a* - a0 (or more) counts as giving up this share


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


@dataclasses.dataclass(frozen=True)
class Tuning:
    """What tuning the temperature did.

    Attributes:
      temperature: the T chosen (the update after the last stage), objective units.
      temperatures: float [S], T during each stage.
      ratios: float [S], each stage's share of a* - a0 (second half of the stage).
      run: the tuning steps (their trace is burn-in), with the chains' final
        state and kernel results.
    """

    temperature: float
    temperatures: np.ndarray
    ratios: np.ndarray
    run: chain_lib.ChainRun


def next_temperature(temperature: float, ratio: float, target_ratio: float) -> float:
    """One secant update of T from a stage that kept `ratio` of a* - a0."""
    factor = (1.0 - target_ratio) / max(1.0 - ratio, MIN_DROP)
    return temperature * float(np.clip(factor, 1.0 / MAX_FACTOR, MAX_FACTOR))


def prior_floor(energy: Energy, state: Sequence[tf.Tensor], seed: SeedLike = None) -> float:
    """a0: the mean objective of FLOOR_BATCHES * C images drawn from the prior
    N(0, I / lam) on the state (parts shaped like `state`, [C, ...])."""
    if not energy.prior_weight > 0:
        raise ValueError(f"a prior floor needs prior_weight > 0; got {energy.prior_weight!r}.")
    seed = as_seed(seed)
    shapes = [tuple(s.shape) for s in state]
    sd = 1.0 / float(np.sqrt(energy.prior_weight))
    values = [
        energy.activation(*normal_state(shapes, fold_in(seed, b), sd)) for b in range(FLOOR_BATCHES)
    ]
    return float(tf.reduce_mean(tf.stack(values)))


def check_temperature(
    energy: Energy,
    make_kernel: Callable[[Energy], tfp.mcmc.TransitionKernel],
    state: Sequence[tf.Tensor],
    init_activation: float,
    target_ratio: float,
    num_steps: int,
    seed: SeedLike = None,
    *,
    floor: float = 0.0,
    progress: bool = True,
    on_block: Callable[[int], None] | None = None,
    block_steps: int = 10,
) -> Tuning:
    """Run `num_steps` MCMC steps, rescaling T after every stage of `STAGE_STEPS`.

    Args:
      energy: the target; its temperature is the first T.
      make_kernel: energy -> kernel (its step-size adaptation, if any, must
        end within num_steps).
      state: the chains' starts, each part [C, ...].
      init_activation: a*, the starts' mean objective (> floor).
      target_ratio: rho in (0, 1), the share of a* - floor to keep.
      num_steps: steps to run, in stages of STAGE_STEPS (the last may be shorter).
      floor: a0, the objective of prior images (`prior_floor`); 0 measures
        shares of a* itself.
      on_block: called with the block index before every block.
      block_steps: at most this many steps per compiled call, rounded down to
        a divisor of STAGE_STEPS: a stage runs in several calls, so progress
        shows and Ctrl-C takes effect within it.

    Ctrl-C stops early; `run.interrupted` is then set and T is the update
    after the last finished stage.
    """
    if not init_activation > floor:
        raise ValueError(
            "checking T against a target ratio needs the starts' objective a* above the prior's "
            f"floor a0; got a* = {init_activation:.4g}, a0 = {floor:.4g}."
        )
    if not 0.0 < target_ratio < 1.0:
        raise ValueError(f"target_ratio must lie in (0, 1); got {target_ratio!r}.")
    if not is_int(block_steps) or block_steps < 1:
        raise ValueError(f"block_steps must be an int >= 1; got {block_steps!r}.")
    block = max(d for d in range(1, min(block_steps, STAGE_STEPS) + 1) if STAGE_STEPS % d == 0)
    variable = tf.Variable(float(energy.temperature), trainable=False, dtype=tf.float32)
    tuned = dataclasses.replace(energy, temperature=variable)
    temperatures: list[float] = []
    ratios: list[float] = []
    stage: list[np.ndarray] = []  # the current stage's activations, a block at a time

    def retarget(index: int, trace: Mapping[str, np.ndarray]) -> bool:
        stage.append(trace["activation"])
        steps_done = min((index + 1) * block, num_steps)
        if steps_done % STAGE_STEPS and steps_done < num_steps:
            return False  # the stage goes on at the same T
        activation = np.concatenate(stage)
        stage.clear()
        # The second half of a stage has had time to answer the stage's T.
        half = activation[activation.shape[0] // 2 :]
        ratio = float((np.mean(half) - floor) / (init_activation - floor))
        temperatures.append(float(variable.numpy()))
        ratios.append(ratio)
        variable.assign(next_temperature(temperatures[-1], ratio, target_ratio))
        return True

    run = chain_lib.run_chains(
        make_kernel(tuned),
        list(state),
        chain_lib.ChainPlan(num_results=0, num_burnin_steps=num_steps, block_steps=block),
        seed=seed,
        trace_fns={"activation": tuned.activation_from_log_prob},
        progress=progress,
        on_block=on_block,
        retarget=retarget,
        desc="checking T",
    )
    return Tuning(
        temperature=float(variable.numpy()),
        temperatures=np.asarray(temperatures, np.float64),
        ratios=np.asarray(ratios, np.float64),
        run=run,
    )


@dataclasses.dataclass(frozen=True)
class Temperature:
    """The prior and the temperature of a run.

    Attributes:
      prior_weight: lam, the prior's precision on the spectral state.
      floor: a0, the mean objective of images drawn from the prior.
      rule: T of the equipartition rule over the moving coefficients (objective units).
      temperature: T after the check (the rule's when nothing was checked).
      stages: float [S], T during each stage of the check.
      shares: float [S], the share of a* - a0 each stage kept.
      run: the check's steps (counted as burn-in), or None.
    """

    prior_weight: float
    floor: float
    rule: float
    temperature: float
    stages: np.ndarray
    shares: np.ndarray
    run: chain_lib.ChainRun | None

    @property
    def interrupted(self) -> bool:
        return self.run is not None and self.run.interrupted


def choose_temperature(
    energy: Energy,
    image_param: ImageParam,
    starts: Starts,
    opts: SamplingOptions,
    build_kernel: Callable[[Energy, int], Any],
    seed: tf.Tensor,
    progress: bool,
) -> Temperature:
    """lam matched to the starts, the prior's floor a0 (images of the whole `image_param`
    drawn from the prior), T from the equipartition rule over the coefficients `energy` moves,
    checked for `opts.temperature_steps` steps (see sampling.temperature)."""
    prior_weight = opts.prior_weight
    if prior_weight is None:
        from_prior = isinstance(opts.init, str) and opts.init == "prior"
        prior_weight = 1.0 if from_prior else matched_prior_weight(starts.state)
    full = dataclasses.replace(energy, image_param=image_param, prior_weight=prior_weight)
    floor = prior_floor(full, starts.state, fold_in(seed, 1)) if prior_weight > 0 else 0.0
    a_star = float(np.mean(starts.activations))
    # target_ratio is a share of a* - a0; measured from 0 when prior images do as well.
    ratio_floor = floor if floor < a_star else 0.0
    if opts.temperature is not None:
        return Temperature(
            prior_weight,
            floor,
            opts.temperature,
            opts.temperature,
            np.zeros([0]),
            np.zeros([0]),
            None,
        )
    if 0 < a_star <= floor:  # at a* <= 0, temperature_for raises what to do
        fix = (
            "Optimize longer ({hmc_opts.optimize_steps})"
            if opts.optimized
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
    ratio = opts.target_ratio
    assert ratio is not None  # resolve_options sets it whenever no temperature is given
    rule = temperature_for(a_star, ratio, energy.image_param.state_size, ratio_floor)
    if not opts.temperature_steps:
        return Temperature(prior_weight, floor, rule, rule, np.zeros([0]), np.zeros([0]), None)
    moving = dataclasses.replace(energy, prior_weight=prior_weight, temperature=rule)
    check = check_temperature(
        moving,
        lambda e: build_kernel(e, opts.temperature_steps),
        list(energy.image_param.init(None)),
        a_star,
        ratio,
        opts.temperature_steps,
        seed=fold_in(seed, 2),
        floor=ratio_floor,
        progress=progress,
        block_steps=opts.block_steps,
    )
    return Temperature(
        prior_weight, floor, rule, check.temperature, check.temperatures, check.ratios, check.run
    )
