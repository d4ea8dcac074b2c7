"""`render`: sample many diverse high-activation images with HMC, one facet per chain.

    result = samplevis.render(model, objectives.channel("block6a_expand_activation", 301),
                              hmc_opts=dict(num_results=10, num_chains=4), seed=0)
    result.images        # [num_results, num_chains, H, W, 3] in [0, 1]
    result.save_gif("channel.gif")

`render` runs in phases, each a function with a frozen record out: the facets' starts
(`starts.find_starts`), the prior and the temperature (`_temperature`), the facets' log-masses
(`log_mass`), then burn-in and sampling (`chain.run_chains`). A Ctrl-C in any phase returns a
`SampleResult` of what the finished phases made.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
import types
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import tensorflow as tf

from samplevis.checks import OptionError, OptionWarning, check_bool
from samplevis.evaluation import objective_of
from samplevis.param.base import ImageParam
from samplevis.sampling import chain as chain_lib
from samplevis.sampling import kernels
from samplevis.sampling import log_mass as log_mass_lib
from samplevis.sampling import mass as mass_lib
from samplevis.sampling import temperature as temperature_lib
from samplevis.sampling.diagnostics import MAX_DIVERGENCE_RATE, diagnose
from samplevis.sampling.energy import Energy, make_energy, matched_prior_weight
from samplevis.sampling.facet import FacetImage, moving_mask
from samplevis.sampling.options import (DEFAULT_IMAGE_SIZE, DEFAULT_NUM_CHAINS, SamplingOptions,
                                        resolve_options)
from samplevis.sampling.result import SampleResult
from samplevis.sampling.starts import RESEEDS, Starts, find_starts
from samplevis.sampling.summaries import save_tensorboard
from samplevis.seeds import SeedLike, as_seed, fold_in
from samplevis.summaries import log_folder


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


def _image_param(param_f: object, opts: SamplingOptions) -> ImageParam:
    from samplevis import param as param_lib

    init = opts.init
    given_chains = opts.num_chains
    if isinstance(init, np.ndarray):
        if given_chains is not None and given_chains != init.shape[0]:
            raise OptionError(
                "hmc_opts.num_chains", "{hmc_opts.init} holds {images} images but "
                "{hmc_opts.num_chains} is {chains}; give one image per chain.",
                images=init.shape[0], chains=given_chains)
        given_chains = init.shape[0]
    if param_f is None:
        chains = given_chains or DEFAULT_NUM_CHAINS
        if isinstance(init, np.ndarray):
            return param_lib.image(init.shape[2], init.shape[1], batch=chains)
        return param_lib.image(DEFAULT_IMAGE_SIZE, batch=chains)
    image_param = param_lib.as_image_param(param_f)
    if given_chains is not None and image_param.batch != given_chains:
        raise OptionError(
            "hmc_opts.num_chains", "the parameterization has batch {batch} but {chains} chains "
            "were asked for; build it with batch={chains} (one image per chain).",
            batch=image_param.batch, chains=given_chains)
    return image_param


def _check_per_image(model, objective, image_param, seed: tf.Tensor) -> None:
    """Raise unless each image's objective depends on that image alone.

    A Metropolis step accepts or rejects each chain on its own value; a term that couples the
    images of a batch (`diversity`, `alignment`, a value summed over the batch) would change the
    other chains' targets with every move, and their samples would come from no distribution.
    Probed on random images of the parameterization's size, before anything is optimized: the
    objective of image 0 must keep its value when the other images change.
    """
    if image_param.batch < 2:
        return
    shape = [image_param.batch, image_param.height, image_param.width, 3]
    images = tf.random.stateless_uniform(shape, seed)
    changed = tf.concat([images[:1], tf.random.stateless_uniform(shape, fold_in(seed, 1))[1:]], 0)
    before = float(objective_of(model, objective, images, images)[0])
    after = float(objective_of(model, objective, changed, changed)[0])
    # NaN on both (an objective that blows up) is render_vis's error to raise, not a coupling
    if not np.isclose(before, after, rtol=1e-4, atol=1e-6, equal_nan=True):
        raise ValueError(
            f"render samples every chain's image on its own, but the value objective "
            f"{objective.name} gives image 0 changes when the other images do (a diversity or "
            "alignment term, or a value summed over the batch). Give render an objective with "
            "one value per image that reads only that image; optimize batch objectives with "
            "render_vis."
        )


def _chain_warnings(diagnostics, adapts_step_size: bool) -> list[OptionWarning]:
    """What a user must know before reading the samples: chains that never moved, steps that
    diverged, or chains whose activation was still drifting (their samples then come from no
    single distribution)."""
    if diagnostics is None:
        return []
    messages = []
    smaller_step = ("Give a smaller {hmc_opts.step_size}: with {hmc_opts.adapt_step_size=False} "
                    "every chain keeps it.")
    if diagnostics.stuck_chains:
        fix = ("More burn-in ({hmc_opts.num_burnin_steps}) gives their step size longer to adapt."
               if adapts_step_size else smaller_step)
        messages.append(OptionWarning(
            "hmc_opts.step_size", "chains {chains} accepted no step while sampling, so their "
            "samples are all the same image. " + fix, chains=list(diagnostics.stuck_chains)))
    if diagnostics.divergence_rate > MAX_DIVERGENCE_RATE:
        messages.append(OptionWarning(
            "hmc_opts.step_size", "{diverged} of {steps} sampling steps diverged (energy error > "
            "1000): the leapfrog step was too large for the target, and those trajectories were "
            "rejected." + ("" if adapts_step_size else f" {smaller_step}"),
            diverged=sum(diagnostics.divergences),
            steps=diagnostics.num_steps * len(diagnostics.divergences)))
    if diagnostics.unsettled_chains:
        # Doubling a default run does not settle a real network's chains (on block3a of the
        # built-in model the activation levelled off after 3,000-4,000 steps), so the advice
        # gives the scale rather than promising that more steps fix it.
        messages.append(OptionWarning(
            "hmc_opts.num_results", "chains {chains} were still drifting (split R-hat > {limit}): "
            "their activation changes over more steps than the run kept. Longer runs "
            "({hmc_opts.num_burnin_steps}, {hmc_opts.num_results}) drift less; on a real network "
            "that can take thousands of HMC steps.",
            chains=list(diagnostics.unsettled_chains), limit=f"{diagnostics.rhat_limit:.2f}"))
    return messages


def _lost_gain_warning(result: SampleResult) -> OptionWarning | None:
    """A run whose samples kept under half the share of the starts' gain that T was set for (by
    the rule and tuning, not given): the chains fell further than the temperature aimed at."""
    target = result.options.target_ratio
    kept = result.gain_ratio
    if result.options.temperature is not None or target is None or not kept < target / 2:  # NaN: nothing to say
        return None
    tuned = result.options.temperature_steps
    fix = f"Tune T{' for longer' if tuned else ''} ({{hmc_opts.temperature_steps}})"
    return OptionWarning(
        "hmc_opts.temperature_steps", "the samples keep {kept:.2f} of the starts' gain over prior "
        "images, against {hmc_opts.target_ratio=target}: the chains fell further than the "
        "temperature T = {temperature:.3g} aimed at. " + fix + ", or give a lower "
        "{hmc_opts.temperature}.", kept=kept, target=target, temperature=result.temperature)


def _images(image_param, samples: tuple[np.ndarray, ...]) -> np.ndarray:
    """[N, C, ...] state parts -> [N, C, H, W, 3] images."""
    if samples[0].shape[0] == 0:
        shape = (0, image_param.batch, image_param.height, image_param.width, 3)
        return np.zeros(shape, np.float32)
    return np.stack([
        image_param.to_image(tuple(tf.constant(s[i]) for s in samples)).numpy()
        for i in range(samples[0].shape[0])
    ])


def _log(result: SampleResult, folder: Path) -> None:
    """Write `result`'s TensorBoard log; a disk that refuses it costs the log, not the run."""
    try:
        save_tensorboard(result, folder)
    except (OSError, tf.errors.OpError) as err:
        warnings.warn(f"could not write the TensorBoard log to {str(folder)!r} ({err}); the "
                      "result is returned whole. Write the log elsewhere with "
                      "samplevis.sampling.summaries.save_tensorboard(result, DIR).",
                      stacklevel=4)


def _frozen(array) -> np.ndarray:
    array = np.array(array, copy=True)
    array.setflags(write=False)
    return array



def _frozen(array: Any) -> np.ndarray:
    array = np.array(array, copy=True)
    array.setflags(write=False)
    return array


def _chain_state(image_param: ImageParam, starts: Starts, cutoff: float | None) -> ImageParam:
    """What the chains move: the coefficients below `cutoff` of each start (its facet), or the
    whole state (cutoff None)."""
    if cutoff is None:
        return image_param
    start = starts.state[0].numpy()
    return FacetImage(image_param, start, moving_mask(image_param, cutoff))


def _temperature(energy: Energy, image_param: ImageParam, starts: Starts, opts: SamplingOptions,
                 build_kernel: Callable[[Energy, int], Any], seed: tf.Tensor,
                 progress: bool) -> Temperature:
    """lam matched to the starts, the prior's floor a0 (images of the whole `image_param`
    drawn from the prior), T from the equipartition rule over the coefficients `energy` moves,
    checked for `opts.temperature_steps` steps (see sampling.temperature)."""
    prior_weight = opts.prior_weight
    if prior_weight is None:
        from_prior = isinstance(opts.init, str) and opts.init == "prior"
        prior_weight = 1.0 if from_prior else matched_prior_weight(starts.state)
    full = dataclasses.replace(energy, image_param=image_param, prior_weight=prior_weight)
    floor = temperature_lib.prior_floor(full, starts.state, fold_in(seed, 1)) \
        if prior_weight > 0 else 0.0
    a_star = float(np.mean(starts.activations))
    # target_ratio is a share of a* - a0; measured from 0 when prior images do as well.
    ratio_floor = floor if floor < a_star else 0.0
    if opts.temperature is not None:
        return Temperature(prior_weight, floor, opts.temperature, opts.temperature,
                           np.zeros([0]), np.zeros([0]), None)
    if 0 < a_star <= floor:  # at a* <= 0, temperature_for raises what to do
        fix = ("Optimize longer ({hmc_opts.optimize_steps})" if opts.optimized
               else "Start from images the unit responds to more")
        warnings.warn(OptionWarning(
            "hmc_opts.temperature", "images drawn from the prior reach objective {floor:.4g}, at "
            "least as much as the starts (their mean, a* = {a_star:.4g}); "
            "{hmc_opts.target_ratio} is taken as a share of a* itself. " + fix + ", or give "
            "{hmc_opts.temperature}.", floor=floor, a_star=a_star), stacklevel=3)
    rule = temperature_lib.temperature_for(a_star, opts.target_ratio,
                                           energy.image_param.state_size, ratio_floor)
    if not opts.temperature_steps:
        return Temperature(prior_weight, floor, rule, rule, np.zeros([0]), np.zeros([0]), None)
    moving = dataclasses.replace(energy, prior_weight=prior_weight, temperature=rule)
    check = temperature_lib.check_temperature(
        moving, lambda e: build_kernel(e, opts.temperature_steps),
        list(energy.image_param.init(None)), a_star, opts.target_ratio, opts.temperature_steps,
        seed=fold_in(seed, 2), floor=ratio_floor, progress=progress,
        block_steps=opts.block_steps)
    return Temperature(prior_weight, floor, rule, check.temperature, check.temperatures,
                       check.ratios, check.run)


def _log_masses(energy: Energy, prior_weight: float, seed: tf.Tensor) -> np.ndarray:
    """Each facet's Laplace log-mass relative to the heaviest, [C] (see sampling.log_mass)."""
    state = list(energy.image_param.init(None))
    groups = mass_lib.state_groups(energy.image_param)
    log_z = log_mass_lib.laplace_log_mass(energy, state, groups, prior_weight, seed)
    if isinstance(energy.image_param, FacetImage):
        # the coefficients a facet keeps still weigh in the prior
        log_z = log_z - 0.5 * prior_weight * energy.image_param.fixed_squared_norm()
    return log_mass_lib.relative(log_z)


def render(
    model: object,
    objective: object,
    hmc_opts: Mapping[str, Any] | None = None,
    param_f: object = None,
    seed: SeedLike = None,
    progress: bool = True,
    *,
    on_block: Callable[[int], None] | None = None,
    log_dir: str | os.PathLike | None = None,
) -> SampleResult:
    """Sample images whose objective stays high, with Hamiltonian Monte Carlo, one facet a chain.

    Each chain starts from its own optimized image and samples the density
    exp(A(image) / T) * prior restricted to that start's basin (its facet): by default only the
    spectral coefficients below `cutoff` cycles per pixel move, the finer ones keep the start's
    values. The exact density would give one facet nearly all the mass; the chains are pooled
    with equal weight instead, and `result.log_masses` says how the exact density would weigh
    them. T follows the equipartition rule over the coefficients that move, checked by a short
    run so the samples keep about `target_ratio` of the starts' gain over prior images.

    Args:
      model: a `samplevis.Model`, or a plain `keras.Model` (then images in [0, 1]
        are fed as they are: value range (0, 1), no preprocessing).
      objective: a `samplevis.objectives.Objective` (one value per image) or a
        "layer:channel" string.
      hmc_opts: options; keys, defaults and what each does in
        `samplevis.sampling.options.OPTIONS`: num_results, step_size, num_leapfrog_steps,
        num_burnin_steps, num_steps_between_results (as the original project), num_chains,
        cutoff (cycles per pixel, default 1/16; None moves the whole state), temperature or
        target_ratio (default 0.8), temperature_steps (steps checking T, default 60),
        prior_weight, num_transforms, init ("optimize", "prior", or images [C, H, W, 3]),
        optimize_steps, start_diversity, kernel ("hmc", "mala", "nuts"), mass ("identity",
        "fisher"), adapt_step_size, target_accept_prob, max_tree_depth, block_steps. Unknown
        keys are an error.
      param_f: the parameterization (or a function returning it); its batch is
        the number of chains. Default `param.image(128, batch=num_chains)`;
        the Gaussian prior is on its state, so use a spectral one.
      seed: int or stateless seed [2]; same seed and options give identical
        samples on one machine. None draws one (stored in `result.seed`).
      progress: show progress bars (optimization, checking T, then sampling per block).
      on_block: called with the block index before every block of burn-in and
        sampling steps (the steps checking T are not counted).
      log_dir: a folder (created if missing) for TensorBoard event files. As the
        run ends, also at Ctrl-C, it gets the run (`sampling.summaries.save_tensorboard`);
        while the starts are optimized, `log_dir/starts` gets `render_vis`'s log
        (`log_dir/starts_reseed1`, ... for starts optimized again).

    Returns:
      a SampleResult. Ctrl-C returns what was drawn so far, `interrupted` set.
    """
    from samplevis import objectives as objectives_lib
    from samplevis import transform as transform_lib
    from samplevis.models import as_model

    opts = resolve_options(hmc_opts)
    progress = check_bool("progress", progress)
    if on_block is not None and not callable(on_block):
        raise TypeError(f"on_block must be a function of the block index; got "
                        f"{type(on_block).__name__}.")
    folder = log_folder(log_dir)
    model = as_model(model)
    objective = objectives_lib.image_objective(objective)
    model.check_layers(objective.layers)
    image_param = _image_param(param_f, opts)
    if opts.cutoff is not None:
        moving_mask(image_param, opts.cutoff)  # a parameterization without a spectrum fails here
    resized = model.resize_warning(image_param.height, image_param.width)
    if resized is not None:
        warnings.warn(resized, stacklevel=2)
    base = as_seed(seed)
    _check_per_image(model, objective, image_param, fold_in(base, 5))

    transforms = transform_lib.default_transforms() if opts.num_transforms else ()
    # T and lam are set once the starts are known.
    energy = make_energy(model, objective, image_param, temperature=1.0, prior_weight=1.0,
                         transforms=transforms, num_transforms=max(1, opts.num_transforms),
                         seed=fold_in(base, 1))
    starts: Starts | None = None
    temperature: Temperature | None = None
    log_masses = np.full([image_param.batch], np.nan)
    run: chain_lib.ChainRun | None = None
    chain_param: ImageParam = image_param
    clock = _Clock()

    def build_kernel(target: Energy, num_burnin_steps: int) -> Any:
        adaptation = (kernels.default_adaptation_steps(num_burnin_steps)
                      if opts.adapt_step_size else None)
        state = list(target.image_param.init(None))
        momentum = None
        if opts.mass == "fisher":
            groups = mass_lib.state_groups(target.image_param)
            momentum = mass_lib.momentum_distribution(mass_lib.fisher_mass(target, state, groups))
        step_size = opts.step_size
        if temperature is not None and temperature.run is not None:
            step_size = temperature.run.burnin_trace["step_size"][-1]  # the check adapted it
        return kernels.make_kernel(
            target, opts.kernel, kernels.per_chain_step_size(step_size, state),
            num_leapfrog_steps=opts.num_leapfrog_steps, num_adaptation_steps=adaptation,
            target_accept_prob=opts.target_accept_prob, max_tree_depth=opts.max_tree_depth,
            momentum_distribution=momentum)

    def result(stopped: bool) -> SampleResult:
        return _result(image_param, chain_param, opts, base, starts, temperature, log_masses, run,
                       stopped, folder, clock.seconds())

    # The starts take minutes to optimize: a Ctrl-C from here on, also between the loops that
    # handle it themselves (measuring the prior, the mass, compiling), still returns them.
    try:
        clock.start("starts")
        starts = find_starts(model, objective, image_param, opts, energy, fold_in(base, 0),
                             progress, folder)
        if starts.interrupted:
            return result(True)
        _warn_dead(starts, objective)
        chain_param = _chain_state(image_param, starts, opts.cutoff)
        energy = dataclasses.replace(energy, image_param=chain_param)
        clock.start("temperature")
        temperature = _temperature(energy, image_param, starts, opts, build_kernel,
                                   fold_in(base, 3), progress)
        if temperature.interrupted:
            return result(True)
        energy = dataclasses.replace(energy, prior_weight=temperature.prior_weight,
                                     temperature=temperature.temperature)
        clock.start("log-masses")
        log_masses = _log_masses(energy, temperature.prior_weight, fold_in(base, 6))
        if temperature.run is not None:  # burn-in goes on from where the check left the chains
            energy = dataclasses.replace(energy, image_param=_moved(chain_param, temperature.run))
            chain_param = energy.image_param
        plan = chain_lib.ChainPlan(opts.num_results, opts.num_burnin_steps,
                                   opts.num_steps_between_results, opts.block_steps)
        phases = [block.phase for block in plan.blocks()]

        def each_block(index: int) -> None:
            clock.start("burn-in" if phases[index] == "burnin" else "sampling")
            if on_block is not None:
                on_block(index)

        run = chain_lib.run_chains(
            build_kernel(energy, opts.num_burnin_steps), list(chain_param.init(None)), plan,
            seed=fold_in(base, 2), trace_fns={"activation": energy.activation_from_log_prob},
            progress=progress, on_block=each_block)
    except KeyboardInterrupt:
        return result(True)
    return result(run.interrupted)


class _Clock:
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


def _moved(chain_param: ImageParam, run: chain_lib.ChainRun) -> ImageParam:
    """`chain_param` whose `init` is where `run` left the chains."""
    final = tuple(s.numpy() for s in run.final_state)
    if isinstance(chain_param, FacetImage):
        moved = chain_param.spectrum((tf.constant(final[0]),)).numpy()
        return dataclasses.replace(chain_param, start=moved)
    return _Started(chain_param, final)


@dataclasses.dataclass(frozen=True, eq=False)
class _Started(ImageParam):
    """A whole-state parameterization whose `init` is a given state (cutoff None)."""

    base: ImageParam
    state: tuple[np.ndarray, ...]

    @property
    def batch(self) -> int:
        return self.base.batch

    @property
    def height(self) -> int:
        return self.base.height

    @property
    def width(self) -> int:
        return self.base.width

    @property
    def state_shapes(self) -> tuple:
        return self.base.state_shapes

    def init(self, seed: object = None) -> tuple[tf.Tensor, ...]:
        return tuple(tf.constant(s) for s in self.state)

    def to_image(self, state: Any) -> tf.Tensor:
        return self.base.to_image(state)


def _warn_dead(starts: Starts, objective: Any) -> None:
    if not np.any(starts.dead):
        return
    # batch=i gives only image i an objective, and in render every chain is an image
    cause = ("the objective picks images with batch=, which leaves these chains without one: "
             "drop batch= or give every chain a term" if "batch=" in objective.name
             else "a dead unit?")
    warnings.warn(OptionWarning(
        "seed", "chains {chains} start with objective <= 0 and no gradient after optimization "
        "and {reseeds} re-seeded tries ({cause}); they sample near the prior. Try another seed "
        "({seed=1}, say), or start from images the unit responds to ({hmc_opts.init}).",
        chains=np.flatnonzero(starts.dead).tolist(), reseeds=RESEEDS, cause=cause), stacklevel=4)


def _result(image_param: ImageParam, chain_param: ImageParam, opts: SamplingOptions,
            seed: tf.Tensor, starts: Starts | None, temperature: Temperature | None,
            log_masses: np.ndarray, run: chain_lib.ChainRun | None, stopped: bool,
            folder: Path | None, seconds: Mapping[str, float]) -> SampleResult:
    """The SampleResult of the phases that finished (None: not reached), with its warnings and
    TensorBoard log."""
    c = image_param.batch
    nan = math.nan
    check = temperature.run if temperature is not None else None
    empty = {k: np.zeros([0, c], np.float32) for k in (*chain_lib.STEP_KEYS, "activation")}
    burnin_runs = [r for r in (check, run) if r is not None]
    burnin_trace = {k: np.concatenate([r.burnin_trace[k] for r in burnin_runs]) if burnin_runs
                    else empty[k] for k in empty}
    samples = run.samples if run is not None else None
    if stopped:
        drawn = len(samples[0]) if samples is not None else 0
        kept = (f"and the {drawn} samples per chain drawn so far" if drawn
                else "(no samples had been drawn)")
        what = "the chains' starts" if starts is not None else "nothing: the starts were not done"
        warnings.warn(f"render interrupted; returning {what} {kept}.", stacklevel=4)
    init_images = (image_param.to_image(starts.state).numpy() if starts is not None
                   else np.zeros([c, image_param.height, image_param.width, 3], np.float32))
    diagnostics = diagnose(run, "activation") if run is not None else None
    sampled = SampleResult(
        images=_frozen(_images(chain_param, samples) if samples is not None
                       else np.zeros([0, c, image_param.height, image_param.width, 3],
                                     np.float32)),
        activations=_frozen(run.trace["activation"] if run is not None else empty["activation"]),
        init_images=_frozen(init_images),
        init_activations=_frozen(starts.activations if starts is not None
                                 else np.full([c], np.nan, np.float32)),
        prior_activation=float(temperature.floor) if temperature is not None else nan,
        burnin_activations=_frozen(burnin_trace["activation"]),
        tuning_steps=len(check.burnin_trace["activation"]) if check is not None else 0,
        trace=types.MappingProxyType({k: _frozen(v) for k, v in
                                      (run.trace if run is not None else empty).items()}),
        diagnostics=diagnostics,
        temperature=float(temperature.temperature) if temperature is not None else nan,
        temperatures=_frozen(temperature.stages if temperature is not None else np.zeros([0])),
        prior_weight=float(temperature.prior_weight) if temperature is not None else nan,
        interrupted=stopped,
        seed=_frozen(seed.numpy()),
        options=opts,
        burnin_trace=types.MappingProxyType({k: _frozen(v) for k, v in burnin_trace.items()}),
        log_masses=_frozen(log_masses),
        cutoff=opts.cutoff,
        num_moving=chain_param.state_size,
        rule_temperature=float(temperature.rule) if temperature is not None else nan,
        temperature_shares=_frozen(temperature.shares if temperature is not None
                                   else np.zeros([0])),
        seconds=seconds,
    )
    if folder is not None:
        _log(sampled, folder)
    messages = _chain_warnings(diagnostics, opts.adapt_step_size)
    messages += [m for m in [_lost_gain_warning(sampled)] if m]
    for message in messages:
        warnings.warn(message, stacklevel=4)
    return sampled


__all__ = ["render", "SampleResult"]
