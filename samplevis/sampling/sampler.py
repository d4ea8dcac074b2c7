"""`render`: sample many diverse high-activation images: a facet search finds the patterns a unit
answers to, HMC draws the samples inside each.

    result = samplevis.render(model, objectives.channel("block6a_expand_activation", 301),
                              hmc_opts=dict(num_results=10, num_chains=4), seed=0)
    result.images        # [num_results, num_chains, H, W, 3] in [0, 1]
    result.save_gif("channel.gif")

`render` checks its arguments (`_checked_inputs`, a frozen `_Inputs` out), then runs in phases,
each a function of explicit inputs: the optimized starts (`starts.find_starts`) or, from photos,
a facet per photo cluster (`photo_facets.photo_facets`), the facet search from them
(`facet_search.search_facets`, which sets the chains' starts), what of them the
chains move (`facet.chain_parameterization`), the prior and the first temperature
(`temperature.choose_temperature`), the kernel (`build_kernel`), burn-in, which adapts each
chain's temperature (`temperature.TemperatureAdaptation`), and sampling
(`mcmc.chain.run_chains`), then the facets' log-masses. What the finished phases made is a
frozen `_Made`; `_result` turns it into the `SampleResult`, also at a Ctrl-C in any
phase or when TensorFlow runs out of memory.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import time
import types
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from samplevis.io.event_files import log_folder
from samplevis.models import Model
from samplevis.optvis.evaluation import objective_of
from samplevis.optvis.objectives import Objective
from samplevis.optvis.param.base import ImageParam
from samplevis.runtime import memory
from samplevis.runtime.checks import OptionError, check_bool, user_stacklevel
from samplevis.runtime.seeds import SeedLike, as_seed, fold_in
from samplevis.sampling.mcmc import chain as chain_lib
from samplevis.sampling.mcmc import curvature, kernels
from samplevis.sampling.mcmc.chain import frozen
from samplevis.sampling.mcmc.diagnostics import diagnose
from samplevis.sampling.options import (
    DEFAULT_IMAGE_SIZE,
    DEFAULT_NUM_CHAINS,
    SamplingOptions,
    resolve_options,
)
from samplevis.sampling.report import advice
from samplevis.sampling.report.result import Facet, SampleResult
from samplevis.sampling.report.tensorboard_log import save_tensorboard
from samplevis.sampling.starts import photos as photo_facets
from samplevis.sampling.starts import search as facet_search
from samplevis.sampling.starts.chains import (
    Starts,
    dead,
    find_starts,
    saturated,
    start_optimizer,
)
from samplevis.sampling.target import chain_param as facet
from samplevis.sampling.target import facet_mass, momentum
from samplevis.sampling.target import temperature as temperature_lib
from samplevis.sampling.target.chain_param import WarpedFacet, moving_mask, sample_images
from samplevis.sampling.target.log_density import LogDensity, make_log_density


def _image_param(param_f: object, opts: SamplingOptions) -> ImageParam:
    from samplevis.optvis import param as param_lib

    init = opts.init
    given_chains = opts.num_chains
    if isinstance(init, np.ndarray):
        if given_chains is not None and given_chains != init.shape[0]:
            raise OptionError(
                "hmc_opts.num_chains",
                "{hmc_opts.init} holds {images} images but "
                "{hmc_opts.num_chains} is {chains}; give one image per chain.",
                images=init.shape[0],
                chains=given_chains,
            )
        given_chains = init.shape[0]
    if param_f is None:
        chains = given_chains or DEFAULT_NUM_CHAINS
        if isinstance(init, np.ndarray):
            return param_lib.image(init.shape[2], init.shape[1], batch=chains)
        return param_lib.image(DEFAULT_IMAGE_SIZE, batch=chains)
    image_param = param_lib.as_image_param(param_f)
    if image_param.channels != 3:
        raise ValueError(
            f"sampling draws RGB images, but {image_param!r} gives {image_param.channels} "
            "channels (an alpha channel); build the parameterization without alpha=True, or "
            "optimize RGBA images with render_vis."
        )
    if given_chains is not None and image_param.batch != given_chains:
        raise OptionError(
            "hmc_opts.num_chains",
            "the parameterization has batch {batch} but {chains} chains "
            "were asked for; build it with batch={chains} (one image per chain).",
            batch=image_param.batch,
            chains=given_chains,
        )
    return image_param


def _check_per_image(model, objective, image_param, seed: tf.Tensor) -> None:
    """Raise unless each image's objective depends on that image alone.

    A Metropolis step accepts or rejects each chain on its own value; a term that couples the
    images of a batch (`diversity`, `alignment`, a value summed over the batch) would change the
    other chains' targets with every move, and their samples would come from no distribution.
    Probed on random images of the parameterization's size, before anything is optimized: the
    gradient of image 0's objective with respect to every other image must be exactly zero (the
    network's layers act on each image of a batch alone, so for a per-image objective it is zero
    by construction, however small a coupling is otherwise), and image 0's objective must keep
    its value when the other images change (a coupling without a gradient).
    """
    if image_param.batch < 2:
        return
    shape = [image_param.batch, image_param.height, image_param.width, 3]
    images = tf.random.stateless_uniform(shape, seed)
    changed = tf.concat([images[:1], tf.random.stateless_uniform(shape, fold_in(seed, 1))[1:]], 0)
    with tf.GradientTape() as tape:
        tape.watch(images)
        before = objective_of(model, objective, images, images)[0]
    gradient = tape.gradient(before, images)
    others_move = gradient is not None and bool(tf.reduce_any(gradient[1:] != 0))
    after = float(objective_of(model, objective, changed, changed)[0])
    # NaN on both (an objective that blows up) is render_vis's error to raise, not a coupling
    if others_move or not np.isclose(float(before), after, rtol=1e-4, atol=1e-6, equal_nan=True):
        raise ValueError(
            f"render samples every chain's image on its own, but the value objective "
            f"{objective.name} gives image 0 changes when the other images do (a diversity or "
            "alignment term, or a value summed over the batch). Give render an objective with "
            "one value per image that reads only that image; optimize batch objectives with "
            "render_vis."
        )


def _cluster_layer(model: Model, objective: Objective) -> str | None:
    """The layer whose pooled features cluster the unit's photos: the unit's own, or for an
    objective of no single unit the facet search's default layer (None: it reads none)."""
    from samplevis.examples.units import as_unit

    layers = sorted(objective.layers)
    own = as_unit(objective).layer
    return own or (facet_search.upstream_layer(model, layers[0]) if layers else None)


def _check_photos(
    index: Path, model: Model, objective: Objective, image_param: ImageParam, clusters: int
) -> None:
    """Raise unless the examples.json `index` holds the unit's top photos, all still on disk,
    the parameterization can start at an image, and `clusters` such images fit in memory."""
    from samplevis.examples.facets import ranked_files

    if not hasattr(image_param, "state_for") or image_param.channels != 3:
        raise OptionError(
            "hmc_opts.init",
            "{hmc_opts.init} an examples.json starts each facet at its photos, but {param} "
            "cannot start at an image; use param.image(...) (the default).",
            param=repr(image_param),
        )
    try:
        ranked_files(index, objective, _cluster_layer(model, objective))
    except ValueError as err:
        raise OptionError("hmc_opts.init", "{hmc_opts.init}: {why}", why=str(err)) from None
    memory.check_fits(  # the clusters climb in one batch
        model,
        sorted(objective.layers),
        image_param.height,
        image_param.width,
        clusters,
        batch_option="hmc_opts.photo_clusters",
    )


def _log(result: SampleResult, folder: Path) -> None:
    """Write `result`'s TensorBoard log; a disk that refuses it costs the log, not the run."""
    try:
        save_tensorboard(result, folder)
    except (OSError, tf.errors.OpError) as err:
        warnings.warn(
            f"could not write the TensorBoard log to {str(folder)!r} ({err}); the "
            "result is returned whole. Write the log elsewhere with "
            "samplevis.sampling.report.tensorboard_log.save_tensorboard(result, DIR).",
            stacklevel=user_stacklevel(),
        )


@dataclasses.dataclass(frozen=True, eq=False)
class _Inputs:
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
class _Made:
    """What one render call has made so far: each finished phase's output, None (log_masses:
    NaN) for a phase not reached. A Ctrl-C in any phase returns the `SampleResult` of it."""

    chain_param: ImageParam  # what the chains move (the whole image until the starts are known)
    starts: Starts | None = None
    temperature: temperature_lib.Temperature | None = None
    adapting: temperature_lib.TemperatureAdaptation | None = None
    run: chain_lib.ChainRun | None = None
    search: facet_search.FacetSearch | None = None  # the facets, when the search ran
    log_masses: np.ndarray | None = None  # float [C], absolute: `_result` makes them relative
    log_mass_errors: np.ndarray | None = None  # float [C], their standard errors


def _checked_inputs(
    model: object,
    objective: object,
    hmc_opts: Mapping[str, Any] | None,
    param_f: object,
    seed: SeedLike,
    progress: object,
    on_block: Callable[[int], None] | None,
    log_dir: str | os.PathLike | None,
) -> _Inputs:
    """render's arguments checked before any work, each with an error that names the fix."""
    from samplevis.models import as_model
    from samplevis.optvis import objectives as objectives_lib

    opts = resolve_options(hmc_opts)
    progress = check_bool("progress", progress)
    if on_block is not None and not callable(on_block):
        raise TypeError(
            f"on_block must be a function of the block index; got {type(on_block).__name__}."
        )
    folder = log_folder(log_dir)
    model = as_model(model)
    objective = objectives_lib.image_objective(objective)
    model.check_layers(objective.layers)
    image_param = _image_param(param_f, opts)
    memory.check_fits(
        model,
        sorted(objective.layers),
        image_param.height,
        image_param.width,
        image_param.batch,
        batch_option="hmc_opts.num_chains",
    )
    if opts.cutoff is not None:
        moving_mask(image_param, opts.cutoff)  # a parameterization without a spectrum fails here
    resized = model.resize_warning(image_param.height, image_param.width)
    if resized is not None:
        warnings.warn(resized, stacklevel=user_stacklevel())
    if opts.search_layer is not None:
        model.check_layers([opts.search_layer])
    if isinstance(opts.init, Path):
        _check_photos(opts.init, model, objective, image_param, opts.photo_clusters)
    base = as_seed(seed)
    _check_per_image(model, objective, image_param, fold_in(base, 5))
    return _Inputs(model, objective, image_param, opts, base, folder, progress, on_block)


def _first_log_density(
    model: Model,
    objective: Objective,
    image_param: ImageParam,
    num_transforms: int,
    seed: tf.Tensor,
) -> LogDensity:
    """The target over the whole of `image_param` at T = 1 and lam = 1 (both set once the starts
    are known), measured through `num_transforms` of the default transforms (0: none), their
    seeds drawn from `seed` (int32 [2])."""
    from samplevis.optvis import transform as transform_lib

    return make_log_density(
        model,
        objective,
        image_param,
        temperature=1.0,
        prior_weight=1.0,
        transforms=transform_lib.default_transforms() if num_transforms else (),
        num_transforms=max(1, num_transforms),
        seed=seed,
    )


def _warn_about_starts(starts: Starts, objective: Objective, model: Model) -> None:
    """Warn about starts at a dead unit or at a capped unit's ceiling (see sampling.report.advice)."""
    for message in (
        advice.dead_starts_warning(starts, objective),
        advice.capped_starts_warning(starts, objective, model),
    ):
        if message is not None:
            warnings.warn(message, stacklevel=user_stacklevel())


def _tempered(
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
) -> Any:
    """The chains' `tfp.mcmc` kernel over `target`'s state (see `mcmc.kernels.make_kernel` and
    `hmc_opts` in sampling.options for the arguments), with the momentum's mass ("identity" or
    "fisher", measured at the chains' starts) and, on a warped facet, per-part step sizes;
    `seed` (int32 [2]) draws the curvature's probe directions."""
    adaptation = kernels.default_adaptation_steps(num_burnin_steps) if adapt_step_size else None
    state = list(target.image_param.init(None))
    momenta = None
    if mass == "fisher":
        groups = momentum.state_groups(target.image_param)
        momenta = momentum.momentum_distribution(momentum.fisher_mass(target, state, groups))
    steps = kernels.per_chain_step_size(step_size, state)
    if isinstance(target.image_param, WarpedFacet):
        # The coefficients step by their stiffness; the warp as if only its prior held it:
        # the network holds a few of its directions hard, and a step set by their mean
        # curvature would leave the many soft ones (where motifs slide) nearly still. Only
        # the step-size adaptation can shorten such a step where it is too long, so without
        # it the warp steps by its curvature and the coefficients by the step given.
        curvatures = curvature.part_curvatures(target, state, seed, floor=target.prior_weight)
        scales = [curvatures[0], target.prior_weight] if adapt_step_size else None
        steps = curvature.part_step_sizes(steps[0][:, 0], curvatures, state, scales=scales)
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


def _enter_block(
    clock: _Clock,
    blocks: Sequence[chain_lib.Block],
    on_block: Callable[[int], None] | None,
    index: int,
) -> None:
    """Before block `index` of `blocks`: time it as burn-in or sampling, then call the user's
    `on_block`."""
    clock.start("burn-in" if blocks[index].phase == "burnin" else "sampling")
    if on_block is not None:
        on_block(index)


def _out_of_memory(
    err: tf.errors.ResourceExhaustedError, image_param: ImageParam
) -> memory.MemoryLimitError:
    """The MemoryLimitError for TensorFlow's `err` while sampling `image_param`'s images, naming
    what to lower (see samplevis.runtime.memory)."""
    return memory.out_of_memory_error(
        err,
        image_param.height,
        image_param.width,
        image_param.batch,
        batch_option="hmc_opts.num_chains",
    )


def _log_masses(
    log_density: LogDensity,
    temperature: temperature_lib.Temperature,
    adapting: temperature_lib.TemperatureAdaptation | None,
    seed: tf.Tensor,
) -> facet_mass.LogMassEstimate:
    """Each chain's facet's Laplace log-mass and its error, float64 [C] each (see
    sampling.target.facet_mass), at one T for all facets, so their masses compare: the chains'
    T's geometric mean. The target is compiled: Newton's steps and the probes read it often."""
    target = facet_mass.mass_target(
        log_density, _common(_chain_temperatures(temperature, adapting))
    )
    compiled = tf.function(target.__call__, autograph=False)
    return facet_mass.facet_log_mass_estimate(
        target, temperature.prior_weight, seed, log_prob=compiled
    )


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
    """Sample images whose objective stays high: a facet search finds the patterns the unit
    answers to, and Hamiltonian Monte Carlo samples inside each.

    The starts are optimized images, one per chain (the seeds). Then `search_rounds` rounds of
    the facet search (sampling.starts.search) each make one start per chain and polish it
    on the objective alone: odd rounds climb fresh starts on the objective pushed away from the
    pooled features (`search_layer`) of every image found so far, even rounds start from the
    gratings where the objective answers through other features of that layer than at every
    image found. An optimum that reaches `facet_floor` of the best and keeps `facet_distance`
    from every facet is a new facet. The chains share the facets, best
    first, each starting at its facet's optimum; `result.facets` holds them. Inside each facet
    HMC samples exp(A(image) / T) * prior restricted to it: the spectral coefficients below
    `cutoff` cycles per pixel move, the finer ones keep the optimum's values, and a smooth warp
    lets its motifs slide, bend and stretch. Each chain's T starts at the equipartition rule over
    what moves and adapts during burn-in so that the chain keeps `target_ratio` of its start's
    gain over prior images; it is frozen before the samples. `result.log_masses` says how the
    exact density (at such a T, one basin) would weigh each chain's facet.

    From photos (`init` the examples of `dataset_examples` or its examples.json), the unit's
    top photos are clustered (`photo_clusters`) and each cluster's start image optimized for
    `photo_steps` steps (Nguyen et al. 2016's multifaceted visualization): every cluster whose
    optimum reaches `facet_floor` of the best is a facet, shown with its photos
    (`facet.examples`), in place of the seeds; the search's rounds, if asked, may add others.

    Args:
      model: a `samplevis.Model`, or a plain `keras.Model` (then images in [0, 1]
        are fed as they are: value range (0, 1), no preprocessing).
      objective: a `samplevis.optvis.objectives.Objective` (one value per image) or a
        "layer:channel" string.
      hmc_opts: options; keys, defaults and what each does in
        `samplevis.sampling.options.OPTIONS`: num_results, step_size, num_leapfrog_steps,
        num_burnin_steps, num_steps_between_results (as the original project), num_chains,
        cutoff (cycles per pixel, default 1/16; None moves the whole state), warp
        (default True: a warp of each facet moves too), warp_grid, temperature or
        target_ratio (default 0.8), temperature_steps (burn-in steps adapting T, default 70 %
        of num_burnin_steps),
        prior_weight, num_transforms, init ("optimize", "prior", images [C, H, W, 3], or a
        unit's examples: an examples.json, its folder or `dataset_examples`' result),
        optimize_steps, start_diversity, photo_clusters (10), photo_steps (512), photo_start
        ("blurred"), search_rounds (default 2 after optimized starts, 0 after photos),
        facet_floor (0.8),
        search_strength (1), facet_distance (0.3), search_layer, kernel ("hmc", "mala",
        "nuts"), mass ("identity", "fisher"), adapt_step_size, target_accept_prob, max_tree_depth,
        block_steps. Unknown keys are an error.
      param_f: the parameterization (or a function returning it); its batch is
        the number of chains. Default `param.image(128, batch=num_chains)`;
        the Gaussian prior is on its state, so use a spectral one.
      seed: int or stateless seed [2]; same seed and options give identical
        samples on one machine. None draws one (stored in `result.seed`).
      progress: show progress bars (optimization, then burn-in and sampling per block).
      on_block: called with the block index before every block of burn-in and
        sampling steps.
      log_dir: a folder (created if missing) for TensorBoard event files. As the
        run ends, also at Ctrl-C, it gets the run (`sampling.report.tensorboard_log.save_tensorboard`);
        while the starts are optimized, `log_dir/starts` gets `render_vis`'s log
        (`log_dir/starts_reseed1`, ... for starts optimized again).

    Returns:
      a SampleResult. Ctrl-C returns what was drawn so far, `interrupted` set.

    Raises:
      MemoryLimitError: before any work, when the chains' images cannot fit in the memory
        available (it names what to lower); if TensorFlow runs out of memory during the run, its
        `result` holds what the finished phases made (the starts, T), as at Ctrl-C.
    """
    inputs = _checked_inputs(model, objective, hmc_opts, param_f, seed, progress, on_block, log_dir)
    image_param, opts, base = inputs.image_param, inputs.opts, inputs.seed
    model, objective = inputs.model, inputs.objective
    whole = _first_log_density(model, objective, image_param, opts.num_transforms, fold_in(base, 1))
    made = _Made(chain_param=image_param)
    clock = _Clock()
    # The starts take minutes to optimize: a Ctrl-C from here on, also between the loops that
    # handle it themselves (measuring the prior, the mass, compiling), still returns them.
    try:
        clock.start("starts")
        photos = None
        if isinstance(opts.init, Path):
            photos = _photo_facets(inputs, whole)
            made = dataclasses.replace(made, search=photos)
            if not photos.facets:  # no cluster's optimum has a finite value: nothing to sample
                return _result(inputs, made, True, clock.seconds())
            starts = _facet_starts(photos, whole, image_param.batch)
        else:
            starts = find_starts(
                model,
                objective,
                image_param,
                whole,
                fold_in(base, 0),
                inputs.progress,
                inputs.folder,
                init=opts.init,
                optimize_steps=opts.optimize_steps,
                start_diversity=opts.start_diversity,
            )
        made = dataclasses.replace(made, starts=starts)
        if starts.interrupted or (photos is not None and photos.interrupted):
            return _result(inputs, made, True, clock.seconds())
        _warn_about_starts(starts, objective, model)
        if opts.search_rounds:
            clock.start("facet search")
            search = _search_facets(inputs, starts, whole, photos)
            if search is not None:
                made = dataclasses.replace(made, search=search)
                starts = _facet_starts(search, whole, image_param.batch)
                made = dataclasses.replace(made, starts=starts)
                if search.interrupted:
                    return _result(inputs, made, True, clock.seconds())
        chain_param = facet.chain_parameterization(
            image_param,
            [s.numpy() for s in starts.state],
            opts.cutoff,
            warp=opts.warp,
            warp_grid=opts.warp_grid,
        )
        made = dataclasses.replace(made, chain_param=chain_param)
        log_density = dataclasses.replace(whole, image_param=chain_param)
        clock.start("temperature")
        temperature = temperature_lib.choose_temperature(
            log_density,
            image_param,
            starts,
            fold_in(base, 3),
            init=opts.init,
            prior_weight=opts.prior_weight,
            temperature=opts.temperature,
            target_ratio=opts.target_ratio,
        )
        adapting = temperature_lib.adaptation(
            temperature, starts, opts.target_ratio, opts.temperature_steps
        )
        made = dataclasses.replace(made, temperature=temperature, adapting=adapting)
        log_density = _tempered(log_density, temperature, adapting)
        run = _run_chains(inputs, log_density, _plan(opts), clock, adapting)
        made = dataclasses.replace(made, run=run)
        if adapting is None or adapting.frozen:
            clock.start("log-masses")
            estimate = _log_masses(log_density, temperature, adapting, fold_in(base, 6))
            made = dataclasses.replace(
                made, log_masses=estimate.log_mass, log_mass_errors=estimate.error
            )
    except KeyboardInterrupt:
        return _result(inputs, made, True, clock.seconds())
    except tf.errors.ResourceExhaustedError as err:
        # what the finished phases made, as at Ctrl-C, on the error (a running chain's blocks
        # are lost with it)
        error = _out_of_memory(err, image_param)
        error.result = _result(inputs, made, True, clock.seconds())
        raise error from err
    return _result(inputs, made, run.interrupted, clock.seconds())


def _search_settings(inputs: _Inputs) -> facet_search.SearchSettings | None:
    """The facet search's settings from the options: its rounds climb with the starts' steps
    (a deflation round half steered and half polishing, a probe round polishing throughout).
    None for an objective of no layer without {hmc_opts.search_layer} (no features to
    compare)."""
    opts = inputs.opts
    layers = sorted(inputs.objective.layers)
    if opts.search_layer is None and not layers:
        return None
    return facet_search.SearchSettings(
        rounds=opts.search_rounds,
        floor=opts.facet_floor,
        strength=opts.search_strength,
        distance=opts.facet_distance,
        layer=opts.search_layer or facet_search.upstream_layer(inputs.model, layers[0]),
        climb_steps=max(1, opts.optimize_steps // 2),
        polish_steps=max(1, opts.optimize_steps - opts.optimize_steps // 2),
    )


def _measure(whole: LogDensity) -> Callable[[tuple[np.ndarray, ...]], np.ndarray]:
    """The activation [B] of states (parts [B, ...]) as `whole` measured the starts."""

    def activation(state: tuple[np.ndarray, ...]) -> np.ndarray:
        return whole.activation(*(tf.constant(s, tf.float32) for s in state)).numpy()

    return activation


def _photo_facets(inputs: _Inputs, whole: LogDensity) -> facet_search.FacetSearch:
    """A facet per cluster of the unit's top photos (`hmc_opts.init` an examples.json, see
    sampling.starts.photos), each optimized with the starts' optimizer and steps."""
    from samplevis.examples.facets import clusters

    opts = inputs.opts
    settings = _search_settings(inputs)
    assert settings is not None  # a unit with examples reads a layer
    layer = _cluster_layer(inputs.model, inputs.objective)
    found = clusters(opts.init, inputs.model, inputs.objective, opts.photo_clusters, layer=layer)
    return photo_facets.photo_facets(
        inputs.model,
        inputs.objective,
        inputs.image_param,
        found,
        _measure(whole),
        settings,
        fold_in(inputs.seed, 0),
        start=opts.photo_start,
        steps=opts.photo_steps,
        optimizer=start_optimizer(inputs.image_param),
        progress=inputs.progress,
    )


def _search_facets(
    inputs: _Inputs,
    starts: Starts,
    whole: LogDensity,
    photos: facet_search.FacetSearch | None = None,
) -> facet_search.FacetSearch | None:
    """The facet search from the optimized starts, or from the photo clusters' facets `photos`
    (sampling.starts.search); `whole` measures every optimum as it measured the starts.
    None for an objective of no layer without {hmc_opts.search_layer} (no features to
    compare), or when no optimum is above 0."""
    settings = _search_settings(inputs)
    if settings is None:
        return None
    found = facet_search.search_facets(
        inputs.model,
        inputs.objective,
        inputs.image_param,
        tuple(s.numpy() for s in starts.state),
        _measure(whole),
        settings,
        fold_in(inputs.seed, 9),
        start_optimizer(inputs.image_param),
        progress=inputs.progress,
        start=photos,
    )
    return found if found.facets else None  # no start above 0: nothing is a facet


def _facet_starts(search: facet_search.FacetSearch, whole: LogDensity, num_chains: int) -> Starts:
    """The chains' starts at the facets' optima, best facet first (`FacetSearch.starts`),
    measured again where they now sit (an objective of one batch index reads only its chain)."""
    parts, _ = search.starts(num_chains)
    state = tuple(tf.constant(p, tf.float32) for p in parts)
    activations = whole.activation(*state).numpy()
    return Starts(
        state,
        activations,
        dead(whole, state, activations),
        False,
        saturated(whole, state, activations),
    )


def _facets(
    search: facet_search.FacetSearch | None,
    image_param: ImageParam,
    images: np.ndarray,
    log_masses: np.ndarray,
    errors: np.ndarray,
) -> tuple[Facet, ...]:
    """The result's facets, best first: each one's optimum, height, how it was found, its
    chains (from `search.chains`), their samples' std map (`images` [N, C, H, W, 3]) and the
    log-mass of its first chain (`log_masses` [C], relative) with its error (`errors` [C])."""
    from samplevis.sampling import metrics

    if search is None or not search.facets:
        return ()
    owner = search.chains(image_param.batch)
    out = []
    for f, found in enumerate(search.facets):
        chains = tuple(int(c) for c in np.flatnonzero(owner == f))
        drawn = images[:, list(chains)].reshape(-1, *images.shape[2:]) if chains else images[:0]
        optimum = image_param.to_image(
            tuple(tf.constant(np.repeat(p, image_param.batch, 0)) for p in found.states[0])
        ).numpy()[0]
        out.append(
            Facet(
                image=optimum,
                activation=float(found.activations[0]),
                # no height where the best facet's activation is 0 (a unit that never fired)
                height=float(found.activations[0] / search.best) if search.best else math.nan,
                found=_found(found),
                chains=chains,
                std_map=metrics.pixel_std_map(drawn) if len(drawn) >= 2 else None,
                log_mass=float(log_masses[chains[0]]) if chains else math.nan,
                log_mass_error=float(errors[chains[0]]) if chains else math.nan,
                examples=found.photos,
            )
        )
    return tuple(out)


def _found(facet: facet_search.Facet) -> str:
    """How a facet was found: "photos, cluster k", "seed" or "search round k"."""
    if facet.cluster is not None:
        return f"photos, cluster {facet.cluster}"
    return "seed" if facet.round == 0 else f"search round {facet.round}"


def _plan(opts: SamplingOptions) -> chain_lib.ChainPlan:
    """The chains' steps: burn-in, then the samples."""
    return chain_lib.ChainPlan(
        opts.num_results,
        opts.num_burnin_steps,
        opts.num_steps_between_results,
        opts.block_steps,
    )


def _run_chains(
    inputs: _Inputs,
    log_density: LogDensity,
    plan: chain_lib.ChainPlan,
    clock: _Clock,
    adapting: temperature_lib.TemperatureAdaptation | None,
) -> chain_lib.ChainRun:
    """Burn-in and the samples: the kernel built over `log_density`, the chains run by `plan`
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
    )
    return chain_lib.run_chains(
        kernel,
        list(log_density.image_param.init(None)),
        plan,
        seed=fold_in(base, 2),
        trace_fns={"activation": log_density.activation_from_log_prob},
        progress=inputs.progress,
        on_block=functools.partial(_enter_block, clock, plan.blocks(), inputs.on_block),
        retarget=adapting,
    )


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


def _chain_temperatures(
    temperature: temperature_lib.Temperature,
    adapting: temperature_lib.TemperatureAdaptation | None,
) -> np.ndarray:
    """float [C] or [1]: each chain's T now (frozen once burn-in adapted it), or the one T."""
    return adapting.temperature if adapting is not None else np.array([temperature.rule])


def _common(temperatures: np.ndarray) -> float:
    """One T for all chains: their geometric mean (the one T itself when all are equal)."""
    if np.all(temperatures == temperatures[0]):
        return float(temperatures[0])
    return float(np.exp(np.mean(np.log(temperatures))))


def _relative(log_masses: np.ndarray | None, num_chains: int) -> np.ndarray:
    """`log_masses` (absolute, nats; None: not measured, NaN) relative to the heaviest."""
    if log_masses is None:
        return np.full([num_chains], np.nan)
    return facet_mass.relative(log_masses)


def _result(
    inputs: _Inputs, made: _Made, stopped: bool, seconds: Mapping[str, float]
) -> SampleResult:
    """The SampleResult of what the phases `made` (None: not reached), with its warnings and
    TensorBoard log; `stopped`: by Ctrl-C or an error."""
    image_param, chain_param, opts = inputs.image_param, made.chain_param, inputs.opts
    starts, temperature, adapting, run = made.starts, made.temperature, made.adapting, made.run
    c = image_param.batch
    nan = math.nan
    empty = {k: np.zeros([0, c], np.float32) for k in (*chain_lib.STEP_KEYS, "activation")}
    burnin_trace = run.burnin_trace if run is not None else empty
    chain_temperatures = (
        np.broadcast_to(_chain_temperatures(temperature, adapting), [c])
        if temperature is not None
        else np.full([c], nan)
    )
    samples = run.samples if run is not None else None
    if stopped:
        drawn = len(samples[0]) if samples is not None else 0
        kept = (
            f"and the {drawn} samples per chain drawn so far"
            if drawn
            else "(no samples had been drawn)"
        )
        what = "the chains' starts" if starts is not None else "nothing: the starts were not done"
        warnings.warn(f"render interrupted; returning {what} {kept}.", stacklevel=user_stacklevel())
    init_images = (
        image_param.to_image(starts.state).numpy()
        if starts is not None
        else np.zeros([c, image_param.height, image_param.width, 3], np.float32)
    )
    diagnostics = diagnose(run, "activation") if run is not None else None
    images = (
        sample_images(chain_param, samples)
        if samples is not None
        else np.zeros([0, c, image_param.height, image_param.width, 3], np.float32)
    )
    log_masses = _relative(made.log_masses, c)
    log_mass_errors = (
        made.log_mass_errors if made.log_mass_errors is not None else np.full([c], nan)
    )
    sampled = SampleResult(
        images=frozen(images),
        activations=frozen(run.trace["activation"] if run is not None else empty["activation"]),
        init_images=frozen(init_images),
        init_activations=frozen(
            starts.activations if starts is not None else np.full([c], np.nan, np.float32)
        ),
        prior_activation=float(temperature.floor) if temperature is not None else nan,
        burnin_activations=frozen(burnin_trace["activation"]),
        tuning_steps=adapting.adapted_steps if adapting is not None else 0,
        trace=types.MappingProxyType(
            {k: frozen(v) for k, v in (run.trace if run is not None else empty).items()}
        ),
        diagnostics=diagnostics,
        temperature=_common(chain_temperatures),
        chain_temperatures=frozen(chain_temperatures),
        temperatures=frozen(adapting.temperatures if adapting is not None else np.zeros([0, c])),
        prior_weight=float(temperature.prior_weight) if temperature is not None else nan,
        interrupted=stopped,
        seed=frozen(inputs.seed.numpy()),
        options=opts,
        burnin_trace=types.MappingProxyType({k: frozen(v) for k, v in burnin_trace.items()}),
        log_masses=frozen(log_masses),
        log_mass_errors=frozen(log_mass_errors),
        cutoff=opts.cutoff,
        num_moving=chain_param.state_size,
        rule_temperature=float(temperature.rule) if temperature is not None else nan,
        temperature_shares=frozen(adapting.shares if adapting is not None else np.zeros([0, c])),
        seconds=seconds,
        facets=_facets(made.search, image_param, images, log_masses, log_mass_errors),
        clusters_below_floor=made.search.below_floor if made.search is not None else (),
    )
    if inputs.folder is not None:
        _log(sampled, inputs.folder)
    messages = advice.chain_warnings(diagnostics, opts.adapt_step_size)
    messages += [m for m in [advice.lost_gain_warning(sampled)] if m]
    for message in messages:
        warnings.warn(message, stacklevel=user_stacklevel())
    return sampled


__all__ = ["render", "SampleResult"]
