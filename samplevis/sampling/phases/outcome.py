"""What a `render` call returns: the `SampleResult` of what its phases made (`sample_result`),
with its facets (`result_facets`), warnings and TensorBoard log, also at Ctrl-C; and the error
it raises when TensorFlow runs out of memory (`out_of_memory`)."""

from __future__ import annotations

import math
import time
import types
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import tensorflow as tf

from samplevis.optvis.param.base import ImageParam
from samplevis.runtime import memory
from samplevis.runtime.checks import user_stacklevel
from samplevis.sampling.density import facet_mass
from samplevis.sampling.density.chain_param import WARP_PIXELS, WarpedFacet, sample_images
from samplevis.sampling.density.temperature import TemperatureAdaptation
from samplevis.sampling.mcmc import chain as chain_lib
from samplevis.sampling.mcmc.chain import frozen
from samplevis.sampling.mcmc.diagnostics import diagnose
from samplevis.sampling.options import CLOSING_STEPS, SamplingOptions
from samplevis.sampling.phases.carried import Inputs, Made
from samplevis.sampling.phases.chain_run import chain_temperatures, common_temperature
from samplevis.sampling.report import advice
from samplevis.sampling.report.result import SampleResult
from samplevis.sampling.report.run import Facet
from samplevis.sampling.report.tensorboard_log import save_tensorboard
from samplevis.sampling.starts.search import FacetSearch, FoundFacet


def settled_steps(opts: SamplingOptions, adapting: TemperatureAdaptation | None) -> int:
    """The burn-in steps before the draws that sample their density, at most the closing
    window: those since T last changed (all of burn-in at a fixed T, whose first steps may
    still climb from the starts)."""
    at_frozen_t = adapting.steps_at_frozen_t if adapting is not None else opts.num_burnin_steps
    return min(at_frozen_t, CLOSING_STEPS)


def write_log(result: SampleResult, folder: Path) -> None:
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


def out_of_memory(
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


def how_found(facet: FoundFacet) -> str:
    """How a facet was found: "photos, cluster k", "seed" or "search round k"."""
    if facet.cluster is not None:
        return f"photos, cluster {facet.cluster}"
    return "seed" if facet.round == 0 else f"search round {facet.round}"


def result_facets(
    search: FacetSearch | None,
    image_param: ImageParam,
    images: np.ndarray,
    log_masses: np.ndarray,
    errors: np.ndarray,
) -> tuple[Facet, ...]:
    """The result's facets, kinds first (`FacetSearch.facets`): each one's optimum, height, how
    it was found, its kind and its photos' height, its chains (from `search.chains`), their
    samples' std map (`images` [N, C, H, W, 3]) and the log-mass of its first chain
    (`log_masses` [C], relative) with its error (`errors` [C])."""
    from samplevis.sampling import metrics

    if search is None or not search.facets:
        return ()
    owner = search.chains(image_param.batch)
    kinds, photos_heights = search.kinds(), search.photos_heights()
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
                found=how_found(found),
                chains=chains,
                std_map=metrics.pixel_std_map(drawn) if len(drawn) >= 2 else None,
                log_mass=float(log_masses[chains[0]]) if chains else math.nan,
                log_mass_error=float(errors[chains[0]]) if chains else math.nan,
                examples=found.photos,
                kind=int(kinds[f]),
                photos_height=float(photos_heights[f]),
            )
        )
    return tuple(out)


def checked_facets(inputs: Inputs, facets: tuple[Facet, ...], images: np.ndarray) -> tuple:
    """`facets` with Geirhos et al.'s check of each one from photos (`facet_checks`)
    against its kind's photos and the others: the other kinds' and the photos read while ranking
    that are not among the unit's top ones; and the blur measure against its kind's photos."""
    from samplevis.examples.clusters import other_files
    from samplevis.sampling.phases.facet_checks import OTHERS, checked

    try:
        others = other_files(inputs.opts.init, inputs.objective, OTHERS)
        return checked(facets, images, inputs.model, inputs.objective, others)
    except (ValueError, OSError, tf.errors.OpError) as err:  # the run's draws are kept
        warnings.warn(
            f"the facets were not checked against their photos ({err}); the run is returned "
            "whole. Check them with samplevis.optvis.processing_check.processing_check.",
            stacklevel=user_stacklevel(),
        )
        return facets


def relative_log_masses(log_masses: np.ndarray | None, num_chains: int) -> np.ndarray:
    """`log_masses` (absolute, nats; None: not measured, NaN) relative to the heaviest."""
    if log_masses is None:
        return np.full([num_chains], np.nan)
    return facet_mass.relative(log_masses)


def _warps(chain_param: ImageParam | None, samples: tuple[np.ndarray, ...] | None) -> np.ndarray:
    """Each sample's warp less its chain's start's, px [N, C, G, G, 2] (`SampleResult.warps`);
    no rows when the chains move no warp or drew nothing."""
    if not isinstance(chain_param, WarpedFacet) or samples is None:
        return np.zeros([0, 0, 0, 0, 2], np.float32)
    return (WARP_PIXELS * (samples[1] - chain_param.warp_start)).astype(np.float32)


def sample_result(
    inputs: Inputs, made: Made, stopped: bool, seconds: Mapping[str, float]
) -> SampleResult:
    """The SampleResult of what the phases `made` (None: not reached), with its warnings and
    TensorBoard log; `stopped`: by Ctrl-C or an error."""
    image_param, chain_param, opts = inputs.image_param, made.chain_param, inputs.opts
    starts, temperature, adapting, run = made.starts, made.temperature, made.adapting, made.run
    c = image_param.batch
    nan = math.nan
    empty = {k: np.zeros([0, c], np.float32) for k in (*chain_lib.STEP_KEYS, "activation")}
    burnin_trace = run.burnin_trace if run is not None else empty
    per_chain_t = (
        np.broadcast_to(chain_temperatures(temperature, adapting), [c])
        if temperature is not None
        else np.full([c], nan)
    )
    samples = run.samples if run is not None else None
    if stopped:
        _warn_stopped(samples, starts is not None)
    init_images = _init_images(made, image_param)
    owner = made.search.chains(c) if made.search is not None and made.search.facets else None
    diagnostics = (
        diagnose(run, "activation", owner, settled_steps(opts, adapting))
        if run is not None
        else None
    )
    images = (
        sample_images(chain_param, samples)
        if samples is not None
        else np.zeros([0, c, image_param.height, image_param.width, 3], np.float32)
    )
    log_masses = relative_log_masses(made.log_masses, c)
    log_mass_errors = (
        made.log_mass_errors if made.log_mass_errors is not None else np.full([c], nan)
    )
    facets = result_facets(made.search, image_param, images, log_masses, log_mass_errors)
    if not stopped and opts.start == "photos":  # each facet checked against its photos
        began = time.perf_counter()
        facets = checked_facets(inputs, facets, images)
        spent = time.perf_counter() - began
        seconds = types.MappingProxyType({**seconds, "processing check": spent})
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
        temperature=common_temperature(per_chain_t),
        chain_temperatures=frozen(per_chain_t),
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
        facets=facets,
        clusters_below_floor=made.search.below_floor if made.search is not None else (),
        warps=frozen(_warps(chain_param, samples)),
        objective=inputs.objective.name,
    )
    if inputs.folder is not None:
        write_log(sampled, inputs.folder)
    _warn_about_chains(sampled, opts)
    return sampled


def _warn_stopped(samples: tuple[np.ndarray, ...] | None, started: bool) -> None:
    """Say what a stopped render returns: the starts (`started`) and the samples drawn."""
    drawn = len(samples[0]) if samples is not None else 0
    kept = (
        f"and the {drawn} samples per chain drawn so far"
        if drawn
        else "(no samples had been drawn)"
    )
    what = "the chains' starts" if started else "nothing: the starts were not done"
    warnings.warn(f"render interrupted; returning {what} {kept}.", stacklevel=user_stacklevel())


def _init_images(made: Made, image_param: ImageParam) -> np.ndarray:
    """float32 [C, H, W, 3]: where the chains began (the starts after their climb where they
    were polished), zeros where the starts were not reached."""
    starts, chain_param, c = made.starts, made.chain_param, image_param.batch
    if made.polished is not None:
        return chain_param.to_image(chain_param.init(None)).numpy()
    if starts is not None:
        return image_param.to_image(starts.state).numpy()
    return np.zeros([c, image_param.height, image_param.width, 3], np.float32)


def _warn_about_chains(sampled: SampleResult, opts: SamplingOptions) -> None:
    """Warn about the chains' health (`advice.chain_warnings`) and a gain lost."""
    messages = advice.chain_warnings(sampled.diagnostics, opts.adapt_step_size)
    messages += [m for m in [advice.lost_gain_warning(sampled)] if m]
    for message in messages:
        warnings.warn(message, stacklevel=user_stacklevel())
