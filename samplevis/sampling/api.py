"""`render`: sample many diverse high-activation images with HMC.

    result = samplevis.render(model, objectives.channel("block6a_expand_activation", 301),
                              hmc_opts=dict(num_results=10, num_chains=4), seed=0)
    result.images        # [num_results, num_chains, H, W, 3] in [0, 1]
    result.save_gif("channel.gif")

Chains start from `render_vis` optima (one per chain, ReLU gradient
redirection so none starts dead) and sample
log pi(z) = A(image(z)) / T - lam |z|^2 / 2 over the spectral state z.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import types
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import tensorflow as tf

from samplevis.param.base import normal_state
from samplevis.sampling import chain as chain_lib
from samplevis.sampling import kernels
from samplevis.sampling import mass as mass_lib
from samplevis.sampling import metrics
from samplevis.sampling import temperature as temperature_lib
from samplevis.sampling.diagnostics import Diagnostics, diagnose
from samplevis.sampling.energy import make_energy, matched_prior_weight
from samplevis.seeds import SeedLike, as_seed, fold_in

# T = TEMPERATURE_MULTIPLIER * 2 (1 - rho) (a* - a0) / d, a0 the objective of prior
# images. The bare rule (multiplier 1) is equipartition as if the objective held all
# d state directions; the prior holds most of them, so the objective loses far less
# than T d / 2 and T must be larger. Measured with a0 = 0 on EfficientNet-Lite0
# (128 px, 4 chains, K = 2, L = 8, lam = 1, 100 burn-in steps, 10 results 2 steps
# apart, rho = 0.8): multipliers 20 / 30 / 100 kept
# 0.80 / 0.68 / 0.14 of a* on block6a_expand_activation:301, and 20 kept 0.82 on
# block5c_add:12. Chains still drift after that burn-in, so longer runs keep less,
# and other units keep more (0.99 on block5a_expand_activation:100): the rule only
# gives the first T, which `temperature_steps` then tune (sampling/temperature.py).
TEMPERATURE_MULTIPLIER = 20.0

DEFAULTS: Mapping[str, Any] = types.MappingProxyType(
    dict(
        num_results=10,  # kept samples per chain
        step_size=1e-3,  # initial leapfrog step (adapted per chain during burn-in)
        num_leapfrog_steps=8,
        num_burnin_steps=100,
        num_steps_between_results=2,
        num_chains=None,  # default: the parameterization's batch, else 4
        temperature=None,  # T in objective units; default from target_ratio
        target_ratio=None,  # rho; 0.8 when no temperature is given
        temperature_steps=None,  # steps tuning T to target_ratio before burn-in;
        # None: TEMPERATURE_STEPS with target_ratio, 0 with a given temperature
        prior_weight=None,  # lam, precision of the Gaussian prior on z; None: matched
        # to the starts (prior mean square = theirs), 1 for init="prior"
        num_transforms=3,  # K fixed draws of the standard transforms
        init="optimize",  # "optimize", "prior" or images [C, H, W, 3] in [0, 1]
        optimize_steps=256,  # render_vis steps for init="optimize"
        kernel="hmc",  # "hmc", "mala" or "nuts"
        mass=None,  # "fisher" (per-band precision estimate) or "identity"; None: the
        # kernel's default ("fisher", "identity" for NUTS adapting its step size)
        adapt_step_size=True,
        target_accept_prob=0.75,
        max_tree_depth=6,  # NUTS only
        block_steps=10,  # MCMC steps per compiled call / progress update
    )
)
DEFAULT_TARGET_RATIO = 0.8
TEMPERATURE_STEPS = 120  # 4 stages of tuning T (see sampling/temperature.py)
RESEEDS = 2  # new optimizations tried for chains whose optimized start is dead
DEFAULT_NUM_CHAINS = 4
DEFAULT_IMAGE_SIZE = 128  # Lucid's default image size
INIT_KINDS = ("optimize", "prior")


@dataclasses.dataclass(frozen=True)
class SampleResult:
    """Samples of `render`. N = kept samples per chain, C = chains.

    Attributes:
      images: float32 [N, C, H, W, 3] in [0, 1].
      activations: float32 [N, C], objective under the K fixed transforms.
      init_images: float32 [C, H, W, 3], the chains' starts.
      init_activations: float32 [C], the starts' objective (a*).
      prior_activation: a0, the mean objective of images drawn from the prior
        (0 when prior_weight is 0); target_ratio is a share of a* - a0.
      burnin_activations: float32 [n, C], the objective during the steps
        tuning T and then burn-in.
      diagnostics: MCMC health (None if interrupted before sampling began).
      temperature: T used, objective units.
      temperatures: float [S], T during each stage of tuning it (empty if not tuned).
      prior_weight: lam used.
      interrupted: True when Ctrl-C stopped the run; the fields hold what
        was drawn until then.
      seed: int32 [2], reproduces the run with the same options.
      options: the resolved hmc_opts.
    """

    images: np.ndarray
    activations: np.ndarray
    init_images: np.ndarray
    init_activations: np.ndarray
    prior_activation: float
    burnin_activations: np.ndarray
    diagnostics: Diagnostics | None
    temperature: float
    temperatures: np.ndarray
    prior_weight: float
    interrupted: bool
    seed: np.ndarray
    options: Mapping[str, Any]

    @property
    def num_chains(self) -> int:
        return int(self.init_images.shape[0])

    @property
    def activation_ratio(self) -> float:
        """Median sample activation over the mean start activation (NaN if none)."""
        if self.activations.size == 0:
            return math.nan
        return float(np.median(self.activations) / np.mean(self.init_activations))

    @property
    def gain_ratio(self) -> float:
        """The median sample's share of the starts' gain over prior images,
        (median A - a0) / (mean a* - a0), what target_ratio aims at (NaN if none,
        or if the starts gain nothing)."""
        gain = np.mean(self.init_activations) - self.prior_activation
        if self.activations.size == 0 or not gain > 0:
            return math.nan
        return float((np.median(self.activations) - self.prior_activation) / gain)

    def grid(self, with_init: bool = True) -> np.ndarray:
        """One image: a row per chain, the start first (if `with_init`), then samples."""
        from samplevis import io

        columns = [self.init_images[None]] if with_init else []
        frames = np.concatenate(columns + [self.images], axis=0)  # [N(+1), C, H, W, 3]
        rows = np.swapaxes(frames, 0, 1)
        return io.grid(rows.reshape(-1, *rows.shape[2:]), ncols=frames.shape[0])

    def save_grid(self, path, with_init: bool = True) -> Path:
        """Write `grid()` as a PNG (atomically)."""
        from samplevis import io

        return io.save_png(path, self.grid(with_init))

    def save_gif(self, path, fps: float = 4.0, chain: int | None = None, every: int = 1) -> Path:
        """An animated GIF of the samples: one chain, or (chain=None) all chains side by side.

        `every` keeps every k-th sample as a frame (long runs make large GIFs).
        """
        from samplevis import io

        if self.images.shape[0] == 0:
            raise ValueError("no samples to write: the run was interrupted before the first one.")
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be an int >= 1 (keep every k-th sample); got {every!r}.")
        images = self.images[::every]
        if chain is None:
            frames = np.stack([io.grid(f, ncols=self.num_chains) for f in images])
        else:
            if not 0 <= chain < self.num_chains:
                raise ValueError(
                    f"chain must be in 0..{self.num_chains - 1} or None for all; got {chain}."
                )
            frames = images[:, chain]
        return io.save_gif(path, frames, fps=fps)

    def std_maps(self) -> np.ndarray:
        """Per-pixel standard deviation across each chain's samples, float [C, H, W], colours
        averaged: bright where a chain's samples differ (what the unit ignores), dark where
        they agree. Needs at least 2 samples."""
        if self.images.shape[0] < 2:
            raise ValueError(f"a standard deviation needs at least 2 samples per chain; this "
                             f"run has {self.images.shape[0]}. Raise num_results.")
        return np.stack([metrics.pixel_std_map(self.images[:, c])
                         for c in range(self.num_chains)]).astype(np.float32)

    def save_std_map(self, path) -> Path:
        """Write `std_maps()` as one grey PNG, a tile per chain, all scaled by the largest
        value so the chains compare (atomically)."""
        from samplevis import io

        maps = self.std_maps()
        peak = maps.max()
        scaled = maps / peak if peak > 0 else maps
        return io.save_grid(path, np.repeat(scaled[..., None], 3, axis=-1), ncols=self.num_chains)

    def save_pngs(self, directory, prefix: str = "sample") -> list[Path]:
        """Write every sample as `{prefix}_chain{c}_{i:03d}.png` in `directory`."""
        from samplevis import io

        paths = []
        for c in range(self.num_chains):
            paths += io.save_pngs(directory, self.images[:, c], prefix=f"{prefix}_chain{c}")
        return paths


def _fail(key: str, expected: str, value: Any) -> None:
    raise ValueError(f"hmc_opts[{key!r}] must be {expected}; got {value!r}.")


def _is_number(value: Any) -> bool:
    """A finite real number: inf passes `> 0` and would run to NaN samples."""
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and math.isfinite(value))


def _int(opts: dict, key: str, low: int) -> None:
    value = opts[key]
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        _fail(key, f"an int >= {low}", value)
    opts[key] = int(value)


def _positive(opts: dict, key: str) -> None:
    value = opts[key]
    if not _is_number(value) or not value > 0:
        _fail(key, "a finite number > 0", value)
    opts[key] = float(value)


def resolve_options(hmc_opts: Mapping[str, Any] | None) -> dict[str, Any]:
    """hmc_opts merged into DEFAULTS and checked; raises ValueError naming the fix."""
    hmc_opts = dict(hmc_opts or {})
    unknown = sorted(set(hmc_opts) - set(DEFAULTS))
    if unknown:
        raise ValueError(
            f"unknown hmc_opts key(s) {unknown}; allowed keys are {sorted(DEFAULTS)}."
        )
    opts = {**DEFAULTS, **hmc_opts}
    for key in ("num_results", "num_leapfrog_steps", "max_tree_depth", "block_steps"):
        _int(opts, key, 1)
    for key in ("num_burnin_steps", "num_steps_between_results", "num_transforms",
                "optimize_steps"):
        _int(opts, key, 0)
    if opts["num_chains"] is not None:
        _int(opts, "num_chains", 1)
    _positive(opts, "step_size")
    if opts["temperature"] is not None and opts["target_ratio"] is not None:
        raise ValueError(
            "give hmc_opts 'temperature' or 'target_ratio', not both: the ratio sets the "
            f"temperature; got temperature={opts['temperature']!r}, "
            f"target_ratio={opts['target_ratio']!r}."
        )
    if opts["temperature"] is not None:
        _positive(opts, "temperature")
        if opts["temperature_steps"]:
            raise ValueError(
                "hmc_opts temperature_steps tune T to target_ratio; with a given temperature "
                f"set it to 0 or None; got temperature_steps={opts['temperature_steps']!r}."
            )
        opts["temperature_steps"] = 0
    else:
        if opts["temperature_steps"] is None:
            opts["temperature_steps"] = TEMPERATURE_STEPS
        _int(opts, "temperature_steps", 0)
        ratio = DEFAULT_TARGET_RATIO if opts["target_ratio"] is None else opts["target_ratio"]
        if not _is_number(ratio) or not 0 < ratio < 1:
            _fail("target_ratio",
                  "a number in (0, 1), the share of the gain over prior images to keep", ratio)
        opts["target_ratio"] = float(ratio)
    prior = opts["prior_weight"]
    if prior is not None:
        if not _is_number(prior) or not prior >= 0:
            _fail("prior_weight", "a finite number >= 0, or None to match the starts", prior)
        opts["prior_weight"] = float(prior)
    if opts["kernel"] not in kernels.KINDS:
        _fail("kernel", f"one of {kernels.KINDS}", opts["kernel"])
    accept = opts["target_accept_prob"]
    if not _is_number(accept) or not 0 < accept < 1:
        _fail("target_accept_prob", "a number in (0, 1)", accept)
    opts["target_accept_prob"] = float(accept)
    if not isinstance(opts["adapt_step_size"], bool):
        _fail("adapt_step_size", "True or False", opts["adapt_step_size"])
    if opts["adapt_step_size"] and kernels.default_adaptation_steps(opts["num_burnin_steps"]) is None:
        raise ValueError(
            "adapt_step_size needs a burn-in to adapt in: num_burnin_steps >= 2; got "
            f"{opts['num_burnin_steps']}. Raise num_burnin_steps or set adapt_step_size=False."
        )
    nuts_adapting = opts["kernel"] == "nuts" and opts["adapt_step_size"]
    if opts["mass"] is None:
        opts["mass"] = "identity" if nuts_adapting else "fisher"
    if opts["mass"] not in mass_lib.KINDS:
        _fail("mass", f"one of {mass_lib.KINDS} or None", opts["mass"])
    if opts["mass"] == "fisher" and nuts_adapting:
        raise ValueError(
            "hmc_opts mass='fisher' with kernel='nuts' needs adapt_step_size=False (TFP's "
            "preconditioned NUTS cannot adapt its step size); use kernel='hmc' or mass='identity'."
        )
    init = opts["init"]
    if isinstance(init, str):
        if init not in INIT_KINDS:
            _fail("init", f"one of {INIT_KINDS} or images [C, H, W, 3] in [0, 1]", init)
        if init == "prior" and opts["temperature"] is None:
            raise ValueError(
                "init='prior' has no optimized activation to set the temperature from; "
                "give hmc_opts['temperature'] (objective units)."
            )
    else:
        try:
            images = np.asarray(init, np.float32)
        except (TypeError, ValueError):  # ragged lists, non-numbers
            raise ValueError(
                "hmc_opts['init'] must be 'optimize', 'prior' or images [C, H, W, 3] in [0, 1], "
                f"all of one size; the {type(init).__name__} given does not form one float array."
            ) from None
        if images.ndim != 4 or images.shape[-1] != 3:
            _fail("init", "'optimize', 'prior' or images [C, H, W, 3] in [0, 1]",
                  f"an array of shape {images.shape}")
        opts["init"] = images
    return opts


def _image_param(param_f, opts: dict):
    from samplevis import param as param_lib

    init = opts["init"]
    given_chains = opts["num_chains"]
    if isinstance(init, np.ndarray):
        if given_chains is not None and given_chains != init.shape[0]:
            raise ValueError(
                f"hmc_opts['init'] holds {init.shape[0]} images but num_chains is {given_chains}; "
                "give one image per chain."
            )
        given_chains = init.shape[0]
    if param_f is None:
        chains = given_chains or DEFAULT_NUM_CHAINS
        if isinstance(init, np.ndarray):
            return param_lib.image(init.shape[2], init.shape[1], batch=chains)
        return param_lib.image(DEFAULT_IMAGE_SIZE, batch=chains)
    image_param = param_lib.as_image_param(param_f)
    if given_chains is not None and image_param.batch != given_chains:
        raise ValueError(
            f"the parameterization has batch {image_param.batch} but {given_chains} chains were "
            f"asked for; build it with batch={given_chains} (one image per chain)."
        )
    return image_param


def _initial_state(model, objective, image_param, opts: dict, seed: tf.Tensor,
                   progress: bool) -> tuple[tuple[tf.Tensor, ...], bool]:
    """(state parts [C, ...], interrupted)."""
    init = opts["init"]
    if isinstance(init, np.ndarray):
        from samplevis import param as param_lib

        state = param_lib.initialized(image_param, init).init(None)
        return tuple(tf.constant(s, tf.float32) for s in state), False
    if init == "prior":
        return normal_state(image_param.state_shapes, seed, 1.0), False
    from samplevis.optimize import render_vis

    rendering = render_vis(
        model, objective, param_f=image_param, thresholds=(max(1, opts["optimize_steps"]),),
        seed=seed, progress=progress, return_state=True,
    )
    return tuple(tf.constant(s, tf.float32) for s in rendering.state), rendering.interrupted


def temperature_for(
    init_activation: float, target_ratio: float, state_size: int, floor: float = 0.0
) -> float:
    """T = TEMPERATURE_MULTIPLIER * 2 (1 - rho) (a* - a0) / d.

    Args:
      init_activation: a*, the optimized objective (> floor).
      target_ratio: rho in (0, 1), the share of a* - a0 the samples should keep.
      state_size: d, real numbers of state per chain.
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
    return TEMPERATURE_MULTIPLIER * 2.0 * drop / state_size


def _images(image_param, samples: tuple[np.ndarray, ...]) -> np.ndarray:
    """[N, C, ...] state parts -> [N, C, H, W, 3] images."""
    if samples[0].shape[0] == 0:
        shape = (0, image_param.batch, image_param.height, image_param.width, 3)
        return np.zeros(shape, np.float32)
    return np.stack([
        image_param.to_image(tuple(tf.constant(s[i]) for s in samples)).numpy()
        for i in range(samples[0].shape[0])
    ])


def _frozen(array) -> np.ndarray:
    array = np.array(array, copy=True)
    array.setflags(write=False)
    return array


def render(
    model,
    objective,
    hmc_opts: Mapping[str, Any] | None = None,
    param_f=None,
    seed: SeedLike = None,
    progress: bool = True,
    *,
    on_block: Callable[[int], None] | None = None,
) -> SampleResult:
    """Sample images whose objective stays high, with Hamiltonian Monte Carlo.

    Args:
      model: a `samplevis.Model`, or a plain `keras.Model` (then images in [0, 1]
        are fed as they are: value range (0, 1), no preprocessing).
      objective: a `samplevis.objectives.Objective` (one value per image) or a
        "layer:channel" string.
      hmc_opts: options; keys and defaults in `DEFAULTS`:
        num_results, step_size, num_leapfrog_steps, num_burnin_steps,
        num_steps_between_results (as the original project), num_chains,
        temperature or target_ratio (rho: T is tuned so the samples keep about
        this share of what the optimized starts gain over images drawn from the
        prior, (A - a0) / (a* - a0); default 0.8), temperature_steps
        (steps tuning T before burn-in, default 120), prior_weight (lam;
        default: the prior's mean square matches the starts', 1 for init="prior"),
        num_transforms, init ("optimize", "prior", or images [C, H, W, 3]),
        optimize_steps, kernel ("hmc", "mala", "nuts"), mass ("fisher": a
        diagonal mass from the objective's squared gradients where burn-in starts,
        averaged per colour channel and frequency band; "identity"), adapt_step_size,
        target_accept_prob, max_tree_depth, block_steps. Unknown keys are an
        error.
      param_f: the parameterization (or a function returning it); its batch is
        the number of chains. Default `param.image(128, batch=num_chains)`;
        the Gaussian prior is on its state, so use a spectral one.
      seed: int or stateless seed [2]; same seed and options give identical
        samples. None draws one (stored in `result.seed`).
      progress: show progress bars (optimization, then sampling per block).
      on_block: called with the block index before every block of burn-in and
        sampling steps (the steps tuning T are not counted).

    Returns:
      a SampleResult. Ctrl-C returns what was drawn so far, `interrupted` set.
    """
    from samplevis import objectives as objectives_lib
    from samplevis import transform as transform_lib
    from samplevis.models import as_model

    opts = resolve_options(hmc_opts)
    model = as_model(model)
    objective = objectives_lib.as_objective(objective)
    model.check_layers(objective.layers)
    image_param = _image_param(param_f, opts)
    base = as_seed(seed)

    state, interrupted = _initial_state(
        model, objective, image_param, opts, fold_in(base, 0), progress
    )
    transforms = transform_lib.standard_transforms if opts["num_transforms"] else ()
    # T and lam are set once the starts are known.
    energy = make_energy(
        model, objective, image_param, temperature=1.0, prior_weight=1.0,
        transforms=transforms, num_transforms=max(1, opts["num_transforms"]),
        seed=fold_in(base, 1),
    )
    init_activations = energy.activation(*state).numpy()
    optimized = isinstance(opts["init"], str) and opts["init"] == "optimize"
    for attempt in range(1, RESEEDS + 1):
        if interrupted or not optimized or np.all(init_activations > 0):
            break
        # a dead start (zero activation) gets a new optimization with another seed
        fresh, interrupted = _initial_state(
            model, objective, image_param, opts, fold_in(base, 100 + attempt), progress
        )
        fresh_activations = energy.activation(*fresh).numpy()
        revive = (init_activations <= 0) & (fresh_activations > init_activations)
        mask = tf.constant(revive)
        state = tuple(
            tf.where(tf.reshape(mask, [-1] + [1] * (len(s.shape) - 1)), f, s)
            for s, f in zip(state, fresh)
        )
        init_activations = np.where(revive, fresh_activations, init_activations)
    if np.any(init_activations <= 0) and optimized:
        warnings.warn(
            f"chains {np.flatnonzero(init_activations <= 0).tolist()} start with objective <= 0 "
            f"after optimization and {RESEEDS} re-seeded tries (a dead unit?); they sample near "
            "the prior. Optimize longer "
            "(hmc_opts['optimize_steps']) or change the seed."
        )
    prior_weight = opts["prior_weight"]
    if prior_weight is None:
        from_prior = isinstance(opts["init"], str) and opts["init"] == "prior"
        prior_weight = 1.0 if from_prior else matched_prior_weight(state)
    energy = dataclasses.replace(energy, prior_weight=prior_weight)
    floor = (
        temperature_lib.prior_floor(energy, state, fold_in(base, 4)) if prior_weight > 0 else 0.0
    )
    a_star = float(np.mean(init_activations))
    # target_ratio is a share of a* - a0; measured from 0 when prior images do as well.
    ratio_floor = floor if floor < a_star else 0.0
    if opts["temperature"] is not None:
        temperature = opts["temperature"]
    else:
        if floor >= a_star:
            warnings.warn(
                f"images drawn from the prior reach objective {floor:.4g}, as much as the "
                f"optimized starts ({a_star:.4g}); target_ratio is taken as a share of a* "
                "itself. Optimize longer (hmc_opts['optimize_steps']) or give "
                "hmc_opts['temperature']."
            )
        temperature = temperature_for(
            a_star, opts["target_ratio"], image_param.state_size, ratio_floor
        )
    energy = dataclasses.replace(energy, temperature=temperature)
    init_images = image_param.to_image(state).numpy()
    tuning = None

    def result(run: chain_lib.ChainRun | None, stopped: bool) -> SampleResult:
        c = image_param.batch
        samples = run.samples if run is not None else tuple(
            np.zeros([0, *s.shape], np.float32) for s in state
        )
        burnin = [r.burnin_trace["activation"] for r in (tuning and tuning.run, run) if r]
        return SampleResult(
            images=_frozen(_images(image_param, samples)),
            activations=_frozen(run.trace["activation"] if run else np.zeros([0, c])),
            init_images=_frozen(init_images),
            init_activations=_frozen(init_activations),
            prior_activation=float(floor),
            burnin_activations=_frozen(np.concatenate(burnin) if burnin else np.zeros([0, c])),
            diagnostics=diagnose(run, "activation") if run is not None else None,
            temperature=float(temperature),
            temperatures=_frozen(tuning.temperatures if tuning else np.zeros([0])),
            prior_weight=float(prior_weight),
            interrupted=stopped,
            seed=_frozen(base.numpy()),
            options=types.MappingProxyType(opts),
        )

    if interrupted:
        return result(None, True)

    def build_kernel(energy, state, step_size, num_burnin_steps: int):
        """The options' kernel, its mass measured at `state` and T of `energy`."""
        adaptation = (
            kernels.default_adaptation_steps(num_burnin_steps) if opts["adapt_step_size"] else None
        )
        momentum = None
        if opts["mass"] == "fisher":
            momentum = mass_lib.momentum_distribution(
                mass_lib.fisher_mass(energy, state, mass_lib.state_groups(image_param))
            )
        return kernels.make_kernel(
            energy,
            opts["kernel"],
            kernels.per_chain_step_size(step_size, state),
            num_leapfrog_steps=opts["num_leapfrog_steps"],
            num_adaptation_steps=adaptation,
            target_accept_prob=opts["target_accept_prob"],
            max_tree_depth=opts["max_tree_depth"],
            momentum_distribution=momentum,
        )

    step_size = opts["step_size"]
    if opts["temperature_steps"]:
        tuning = temperature_lib.tune_temperature(
            energy,
            lambda e: build_kernel(e, state, step_size, opts["temperature_steps"]),
            state, a_star, opts["target_ratio"], opts["temperature_steps"],
            seed=fold_in(base, 3), floor=ratio_floor, progress=progress,
        )
        if tuning.run.interrupted:
            return result(None, True)
        temperature = tuning.temperature
        energy = dataclasses.replace(energy, temperature=temperature)
        state = tuning.run.final_state
        # The tuned step sizes are a better start than the option's.
        step_size = tuning.run.burnin_trace["step_size"][-1]
    kernel = build_kernel(energy, state, step_size, opts["num_burnin_steps"])
    plan = chain_lib.ChainPlan(
        opts["num_results"], opts["num_burnin_steps"], opts["num_steps_between_results"],
        opts["block_steps"],
    )
    run = chain_lib.run_chains(
        kernel, list(state), plan, seed=fold_in(base, 2),
        trace_fns={"activation": energy.activation_from_log_prob},
        progress=progress, on_block=on_block,
    )
    return result(run, run.interrupted)


__all__ = ["render", "SampleResult", "DEFAULTS", "TEMPERATURE_MULTIPLIER", "temperature_for",
           "resolve_options"]
