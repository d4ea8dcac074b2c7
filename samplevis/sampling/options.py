"""`render`'s options (`hmc_opts`): their defaults and the checks that name the fix."""

from __future__ import annotations

import os
import types
from typing import Any, Mapping

import numpy as np

from samplevis.checks import is_bool, is_int, is_number
from samplevis.models import closest_names
from samplevis.sampling import kernels
from samplevis.sampling import mass as mass_lib

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
DEFAULT_NUM_CHAINS = 4
DEFAULT_IMAGE_SIZE = 128  # Lucid's default image size
INIT_KINDS = ("optimize", "prior")

# Other samplers' names for options, which spelling alone would not lead to.
ALIASES: Mapping[str, str] = types.MappingProxyType(dict(
    num_samples="num_results", burnin="num_burnin_steps", num_burnin="num_burnin_steps",
    thin="num_steps_between_results", thinning="num_steps_between_results", T="temperature",
    chains="num_chains", leapfrog_steps="num_leapfrog_steps",
))


def _fail(key: str, expected: str, value: Any) -> None:
    raise ValueError(f"hmc_opts[{key!r}] must be {expected}; got {value!r}.")


def _int(opts: dict, key: str, low: int) -> None:
    value = opts[key]
    if not is_int(value) or value < low:
        _fail(key, f"an int >= {low}", value)
    opts[key] = int(value)


def _positive(opts: dict, key: str) -> None:
    value = opts[key]
    if not is_number(value) or not value > 0:
        _fail(key, "a finite number > 0", value)
    opts[key] = float(value)


def resolve_options(hmc_opts: Mapping[str, Any] | None) -> dict[str, Any]:
    """hmc_opts merged into DEFAULTS and checked; raises ValueError naming the fix."""
    if hmc_opts is not None and not isinstance(hmc_opts, Mapping):
        raise TypeError(f"hmc_opts must be a dict of options, e.g. dict(num_results=10); got "
                        f"{type(hmc_opts).__name__}.")
    hmc_opts = dict(hmc_opts or {})
    unknown = sorted(set(hmc_opts) - set(DEFAULTS), key=str)
    if unknown:
        guesses = {k: ALIASES.get(k) or next(iter(closest_names(str(k), sorted(DEFAULTS), n=1)),
                                             None) for k in unknown}
        hint = ", ".join(f"{g!r} for {k!r}" for k, g in guesses.items() if g)
        hint = f". Did you mean {hint}? Allowed" if hint else "; allowed"
        raise ValueError(
            f"unknown hmc_opts key(s) {unknown}{hint} keys are {sorted(DEFAULTS)}."
        )
    opts = {**DEFAULTS, **hmc_opts}
    for key in ("num_results", "num_leapfrog_steps", "max_tree_depth", "block_steps",
                "optimize_steps"):
        _int(opts, key, 1)
    for key in ("num_burnin_steps", "num_steps_between_results", "num_transforms"):
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
        if not is_number(ratio) or not 0 < ratio < 1:
            _fail("target_ratio",
                  "a number in (0, 1), the share of the gain over prior images to keep", ratio)
        opts["target_ratio"] = float(ratio)
    prior = opts["prior_weight"]
    if prior is not None:
        if not is_number(prior) or not prior >= 0:
            _fail("prior_weight", "a finite number >= 0, or None to match the starts", prior)
        opts["prior_weight"] = float(prior)
    if opts["kernel"] not in kernels.KINDS:
        _fail("kernel", f"one of {kernels.KINDS}", opts["kernel"])
    accept = opts["target_accept_prob"]
    if not is_number(accept) or not 0 < accept < 1:
        _fail("target_accept_prob", "a number in (0, 1)", accept)
    opts["target_accept_prob"] = float(accept)
    if not is_bool(opts["adapt_step_size"]):
        _fail("adapt_step_size", "True or False", opts["adapt_step_size"])
    opts["adapt_step_size"] = bool(opts["adapt_step_size"])
    if opts["adapt_step_size"] and kernels.default_adaptation_steps(opts["num_burnin_steps"]) is None:
        raise ValueError(
            "adapting the step size needs a burn-in to adapt in: num_burnin_steps >= 2; got "
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
            path_like = os.path.splitext(init)[1] or os.sep in init or os.path.exists(init)
            close = [] if path_like else closest_names(init, INIT_KINDS, n=1)
            hint = (f" Did you mean {close[0]!r}?" if close else
                    f" For image files, load them as images first: hmc_opts['init'] = "
                    f"samplevis.io.load_images([{init!r}], size), size being the side of the "
                    "images rendered in px (one file for every chain, or one per chain).")
            raise ValueError(f"hmc_opts['init'] must be one of {INIT_KINDS} or images "
                             f"[C, H, W, 3] in [0, 1]; got {init!r}.{hint}")
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
                f"all of one size; the {type(init).__name__} given does not form one float array. "
                "Image files: samplevis.io.load_images(paths, size)."
            ) from None
        if images.ndim != 4 or images.shape[-1] != 3:
            _fail("init", "'optimize', 'prior' or images [C, H, W, 3] in [0, 1]",
                  f"an array of shape {images.shape}")
        opts["init"] = images
    return opts
