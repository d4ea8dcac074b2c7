"""`render`: sample many diverse high-activation images: a facet search finds the patterns a unit
answers to, HMC draws the samples inside each.

    result = samplevis.render(model, objectives.channel("block6a_expand_activation", 301),
                              hmc_opts=dict(num_results=10, num_chains=4), seed=0)
    result.images        # [num_results, num_chains, H, W, 3] in [0, 1]
    result.save_gif("channel.gif")

`render` checks its arguments (`_checked_inputs`, a frozen `phases.carried.Inputs` out), then
runs its phases in order, each a function of explicit inputs that yields what it has made (a
frozen `phases.carried.Made`): `_starts` (the optimized starts or, from photos, a facet per
photo cluster), `_facet_search`, `_what_the_chains_move`, `_polished_starts`, `_temperature`,
`_burn_in_and_sample` and `_log_masses`, which call the modules of samplevis.sampling.phases.
`phases.outcome.sample_result` turns what they made into the `SampleResult`, also at a Ctrl-C
in any phase or when TensorFlow runs out of memory.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Callable, Iterator, Mapping
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
from samplevis.sampling.density import chain_param
from samplevis.sampling.density import temperature as temperature_lib
from samplevis.sampling.density.log_density import LogDensity
from samplevis.sampling.options import (
    CLOSING_STEPS,
    DEFAULT_IMAGE_SIZE,
    DEFAULT_NUM_CHAINS,
    SamplingOptions,
    resolve_options,
)
from samplevis.sampling.phases import chain_run, facet_starts, outcome
from samplevis.sampling.phases.carried import Clock, Inputs, Made
from samplevis.sampling.report.result import SampleResult
from samplevis.sampling.starts import polish


def _image_param(param_f: object, opts: SamplingOptions) -> ImageParam:
    from samplevis.optvis import param as param_lib

    init = opts.init
    given_chains = opts.num_chains
    if opts.start == "images":
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
        if opts.start == "images":
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


def _check_photos(
    index: Path, model: Model, objective: Objective, image_param: ImageParam, clusters: int
) -> None:
    """Raise unless the examples.json `index` holds the unit's top photos, all still on disk,
    the parameterization can start at an image, and `clusters` such images fit in memory."""
    from samplevis.examples.clusters import ranked_files

    if not image_param.starts_at_images:
        raise OptionError(
            "hmc_opts.init",
            "{hmc_opts.init} an examples.json starts each facet at its photos, but {param} "
            "cannot start at an image; use param.image(...) (the default).",
            param=repr(image_param),
        )
    try:
        ranked_files(index, objective, facet_starts.cluster_layer(model, objective))
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


def _checked_inputs(
    model: object,
    objective: object,
    hmc_opts: Mapping[str, Any] | None,
    param_f: object,
    seed: SeedLike,
    progress: object,
    on_block: Callable[[int], None] | None,
    log_dir: str | os.PathLike | None,
) -> Inputs:
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
        chain_param.moving_mask(
            image_param, opts.cutoff
        )  # a parameterization without a spectrum fails here
    resized = model.resize_warning(image_param.height, image_param.width)
    if resized is not None:
        warnings.warn(resized, stacklevel=user_stacklevel())
    if opts.search_layer is not None:
        model.check_layers([opts.search_layer])
    if opts.start == "photos":
        _check_photos(opts.init, model, objective, image_param, opts.photo_clusters)
    base = as_seed(seed)
    _check_per_image(model, objective, image_param, fold_in(base, 5))
    return Inputs(model, objective, image_param, opts, base, folder, progress, on_block)


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

    The starts are optimized images, one per chain (the seeds), or, from photos (`init` the
    examples of `dataset_examples` or its examples.json), one optimized per cluster of the
    unit's top photos (`photo_clusters`; Nguyen et al. 2016's multifaceted visualization),
    shown with its photos (`facet.examples`). The facet search (`search_rounds`) adds the
    patterns the unit answers to through other features (`search_layer`): an optimum that
    reaches `facet_floor` of the best and keeps `facet_distance` from every facet is a new
    facet, and so is a weaker one from `kind_floor` that keeps the stricter `kind_distance`.
    The chains share the facets, kinds first, best first (`result.facets`), each starting at
    its facet's optimum. Inside each facet HMC samples exp(A(image) / T) * prior restricted to
    it: the coarse spectral coefficients (below `cutoff`) and a smooth warp move, and each
    chain's T adapts during burn-in so that it keeps `target_ratio` of its start's gain over
    prior images. `result.log_masses` says how the exact density would weigh each chain's
    facet. docs/sampling.md explains each idea and option.

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
        ("mean"), photo_climb ("mfv"), photo_transforms ("blur"), search_rounds (default
        2 after optimized starts, 0 after photos), facet_floor (0.8), kind_floor (0.5),
        kind_distance (0.5), search_strength (1), facet_distance (0.3), search_layer, kernel
        ("hmc", "mala", "nuts"), mass ("curvature": the facet's, the default unless kernel
        "nuts" or a burn-in under 20 steps, then "identity"; "fisher"), polish_steps (256),
        adapt_step_size, target_accept_prob, max_tree_depth, block_steps (5). Unknown keys
        are an error.
      param_f: the parameterization (or a function returning it); its batch is
        the number of chains. Default `param.image(128, batch=num_chains)`;
        the Gaussian prior is on its state, so use a spectral one.
      seed: int or stateless seed [2]; same seed and options give identical
        samples on one machine. None draws one (stored in `result.seed`).
      progress: show progress bars (optimization, then burn-in and sampling per block).
      on_block: called with the block index before every block of burn-in and
        sampling steps.
      log_dir: a folder (created if missing) for TensorBoard event files. As the
        run ends, also at Ctrl-C, it gets the run
        (`sampling.report.tensorboard_log.save_tensorboard`); while the starts are optimized,
        `log_dir/starts` gets `render_vis`'s log (`log_dir/starts_reseed1`, ... for starts
        optimized again).

    Returns:
      a SampleResult. Ctrl-C returns what was drawn so far, `interrupted` set.

    Raises:
      MemoryLimitError: before any work, when the chains' images cannot fit in the memory
        available (it names what to lower); if TensorFlow runs out of memory during the run, its
        `result` holds what the finished phases made (the starts, T), as at Ctrl-C.

    Examples:
      ```python
      import samplevis
      from samplevis import objectives, zoo

      model = zoo.efficientnet_lite0()
      obj = objectives.channel("block6a_expand_activation", 301)
      result = samplevis.render(model, obj, hmc_opts=dict(num_results=10), seed=0)
      print(result.facets_line(), result.draws_line())
      result.save("out/")
      ```
    """
    inputs = _checked_inputs(model, objective, hmc_opts, param_f, seed, progress, on_block, log_dir)
    whole = facet_starts.first_log_density(
        inputs.model,
        inputs.objective,
        inputs.image_param,
        inputs.opts.num_transforms,
        fold_in(inputs.seed, 1),
    )
    made = Made(chain_param=inputs.image_param)
    clock = Clock()
    phases: tuple[Phase, ...] = (
        _starts,
        _facet_search,
        _what_the_chains_move,
        _polished_starts,
        _temperature,
        _burn_in_and_sample,
        _log_masses,
    )
    # The starts take minutes to optimize: a Ctrl-C from here on, also between the loops that
    # handle it themselves (measuring the prior, the mass, compiling), still returns them.
    try:
        for phase in phases:
            steps = phase(inputs, whole, made, clock)
            for made in steps:  # what the phase has made so far
                if made.stopped:
                    return outcome.sample_result(inputs, made, True, clock.seconds())
    except KeyboardInterrupt:
        return outcome.sample_result(inputs, made, True, clock.seconds())
    except tf.errors.ResourceExhaustedError as err:
        # what the finished phases made, as at Ctrl-C, on the error (a running chain's blocks
        # are lost with it)
        error = outcome.out_of_memory(err, inputs.image_param)
        error.result = outcome.sample_result(inputs, made, True, clock.seconds())
        raise error from err
    assert made.run is not None  # the chains ran: no phase stopped the run
    return outcome.sample_result(inputs, made, made.run.interrupted, clock.seconds())


# A phase of `render`: from its inputs, the log density of the whole image (`whole`) and what
# the phases before it made, it yields what it has made each time it has made more (so that a
# Ctrl-C or an out-of-memory error in it returns that), `stopped` set to end the run there.
Phase = Callable[[Inputs, LogDensity, Made, Clock], Iterator[Made]]


def _starts(inputs: Inputs, whole: LogDensity, made: Made, clock: Clock) -> Iterator[Made]:
    """The chains' starts (`starts`): optimized images, or, from photos, a facet per photo
    cluster (`search`, `facet_starts.photo_facet_search`) and a start at each. Every cluster is
    a facet whatever its height (only a climb under `kind_floor` of the height its photos
    promise failed); clusters of one kind of photo are variants of it, and the facets go kinds
    first, so every kind has a chain before any has a second. Stops the run when no cluster's
    optimum has a finite value (nothing to sample) or a Ctrl-C stopped an optimization; warns
    about starts the unit does not answer to."""
    clock.start("starts")
    photos = None
    if inputs.opts.start == "photos":
        photos = facet_starts.photo_facet_search(inputs, whole)
        made = dataclasses.replace(made, search=photos)
        if not photos.facets:  # no cluster's optimum has a finite value: nothing to sample
            yield dataclasses.replace(made, stopped=True)
            return
        yield made
        starts = facet_starts.starts_at_facets(photos, whole, inputs.image_param.batch)
    else:
        starts = facet_starts.optimized_starts(inputs, whole)
    made = dataclasses.replace(made, starts=starts)
    yield dataclasses.replace(
        made, stopped=starts.interrupted or (photos is not None and photos.interrupted)
    )
    facet_starts.warn_about_starts(starts, inputs.objective, inputs.model)


def _facet_search(inputs: Inputs, whole: LogDensity, made: Made, clock: Clock) -> Iterator[Made]:
    """`search_rounds` rounds of the facet search (sampling.starts.search) from the starts or
    the photos' facets, then the chains' starts at the facets it found (`search`, `starts`).
    Each round makes one start per chain and polishes it on the objective alone: odd rounds
    climb fresh starts on the objective pushed away from the pooled features (`search_layer`)
    of every image found so far, even rounds start from the gratings where the objective
    answers through other features of that layer than at every image found. Stops the run at
    a Ctrl-C."""
    if not inputs.opts.search_rounds:
        return
    assert made.starts is not None  # after _starts
    clock.start("facet search")
    search = facet_starts.facet_search(inputs, made.starts, whole, made.search)
    if search is None:
        return
    made = dataclasses.replace(made, search=search)
    yield made
    starts = facet_starts.starts_at_facets(search, whole, inputs.image_param.batch)
    yield dataclasses.replace(made, starts=starts, stopped=search.interrupted)


def _what_the_chains_move(
    inputs: Inputs, whole: LogDensity, made: Made, clock: Clock
) -> Iterator[Made]:
    """What of each start its chain moves (`chain_param`, `chain_param.chain_parameterization`):
    the spectral coefficients below `cutoff` cycles per pixel, while the finer ones keep the
    start's values, and a smooth warp that lets its motifs slide, bend and stretch."""
    assert made.starts is not None  # after _starts
    opts = inputs.opts
    moving = chain_param.chain_parameterization(
        inputs.image_param,
        [s.numpy() for s in made.starts.state],
        opts.cutoff,
        warp=opts.warp,
        warp_grid=opts.warp_grid,
    )
    yield dataclasses.replace(made, chain_param=moving)


def _polished_starts(inputs: Inputs, whole: LogDensity, made: Made, clock: Clock) -> Iterator[Made]:
    """Each start polished (`polished`: `polish_steps` of Adam on the chain's own coordinates,
    until it stops rising), so that a chain starts at its facet's optimum; not for starts from
    the prior. Stops the run at a Ctrl-C."""
    opts = inputs.opts
    if not opts.polish_steps or opts.start == "prior":  # no facet: nothing to climb
        return
    assert made.starts is not None  # after _starts
    clock.start("polish")
    moving = made.chain_param
    label = "climb the starts along what the chains move" if inputs.progress else None
    polished = polish.polish(
        dataclasses.replace(whole, image_param=moving),
        opts.polish_steps,
        moving.unwrapped.start_learning_rate,
        label,
    )
    moving = chain_param.restarted(moving, polished.state)
    starts = dataclasses.replace(made.starts, activations=polished.activations)
    yield dataclasses.replace(
        made, chain_param=moving, starts=starts, polished=polished, stopped=polished.interrupted
    )


def _temperature(inputs: Inputs, whole: LogDensity, made: Made, clock: Clock) -> Iterator[Made]:
    """The density the chains sample (`log_density`): each chain's prior centred at its facet
    (optimized starts; images given as they are keep it at 0), lam, the floor a0 and the first
    T, from the equipartition rule over what moves (`temperature.choose_temperature`), and each
    chain's T's adaptation during burn-in toward `target_ratio` of its start's gain
    (`temperature.adaptation`)."""
    assert made.starts is not None  # after _starts
    opts = inputs.opts
    log_density = dataclasses.replace(whole, image_param=made.chain_param)
    # the starts are optima (of the search or of photo clusters): facets, at which each chain's
    # prior is centred; images given as they are keep the prior at 0
    if opts.start in ("optimize", "photos"):
        log_density = log_density.centred_at_start()
    clock.start("temperature")
    temperature = temperature_lib.choose_temperature(
        log_density,
        inputs.image_param,
        made.starts,
        fold_in(inputs.seed, 3),
        start=opts.start,
        prior_weight=opts.prior_weight,
        temperature=opts.temperature,
        target_ratio=opts.target_ratio,
    )
    adapting = temperature_lib.adaptation(
        temperature,
        made.starts,
        opts.target_ratio,
        opts.temperature_steps,
        opts.num_burnin_steps,
        CLOSING_STEPS,
    )
    made = dataclasses.replace(made, temperature=temperature, adapting=adapting)
    yield made
    log_density = chain_run.tempered(log_density, temperature, adapting)
    yield dataclasses.replace(made, log_density=log_density)


def _burn_in_and_sample(
    inputs: Inputs, whole: LogDensity, made: Made, clock: Clock
) -> Iterator[Made]:
    """The chains' run (`run`, `chain_run.burn_in_and_sample`): burn-in, which adapts each
    chain's T and is frozen before the samples, then the samples. A Ctrl-C it handles keeps
    the blocks drawn and goes on to the log-masses."""
    assert made.log_density is not None  # after _temperature
    run = chain_run.burn_in_and_sample(
        inputs, made.log_density, chain_run.plan(inputs.opts), clock, made.adapting
    )
    yield dataclasses.replace(made, run=run)


def _log_masses(inputs: Inputs, whole: LogDensity, made: Made, clock: Clock) -> Iterator[Made]:
    """Each chain's facet's Laplace log-mass and its error (`log_masses`, `log_mass_errors`,
    `chain_run.log_masses`): how the exact density (at such a T, one basin) would weigh each
    chain's facet, at one T for all; not measured where T was still adapting."""
    if made.adapting is not None and not made.adapting.frozen:
        return
    assert made.log_density is not None and made.temperature is not None  # after _temperature
    clock.start("log-masses")
    estimate = chain_run.log_masses(
        made.log_density, made.temperature, made.adapting, fold_in(inputs.seed, 6)
    )
    yield dataclasses.replace(made, log_masses=estimate.log_mass, log_mass_errors=estimate.error)


__all__ = ["render", "SampleResult"]
