"""`render`'s options (`hmc_opts`): each in one `Option` of `OPTIONS`, with what it does, its
default and its own check; the rules that span several options in `JOINT_RULES`, and where the
chains start resolved once (`SamplingOptions.start`).

TensorFlow-free at import, so that a command line can build its flags from `OPTIONS` quickly.
"""

from __future__ import annotations

import dataclasses
import math
import os
import types
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from samplevis.models import closest_names
from samplevis.runtime.checks import OptionError, is_bool, is_int, is_number

DEFAULT_CUTOFF = 1.0 / 16  # cycles per pixel (sampling/density/chain_param.py)

DEFAULT_TARGET_RATIO = 0.8
# T adapts over this share of burn-in, the step size over 0.8 (kernels.default_adaptation_steps);
# then a block measures the frozen T, which is corrected once, and the chains settle at it for
# the closing window, the last CLOSING_STEPS of burn-in (docs/sampling_designs.md, "The warmup")
TEMPERATURE_SHARE = 0.3
# A chain takes 15-25 steps to follow a change of T on the README's unit (docs/sampling_designs.md,
# "T"): the draws begin only after this many steps at the T they are drawn at.
CLOSING_STEPS = 20
# Steps before the first draw. A photo facet's chains, climbed from their cluster, were still
# falling when drawn after 50 and after 100 steps. After 150, with the warp under its own mass,
# every chain and pooled trend of both of MFV's classes passed at 40 draws on three seeds. After
# 50, one chain fell and the chains kept too much of the gain (docs/sampling_designs.md, "The
# warp's own mass").
BURNIN_STEPS = 50
PHOTO_BURNIN_STEPS = 150
DEFAULT_NUM_CHAINS = 4
# T adapts once per block: over a burn-in of 50 steps, blocks of 5 give it three updates, three
# blocks at the frozen T and four at the corrected T (docs/sampling_designs.md, "The warmup")
BLOCK_STEPS = 5
# The first leapfrog step: under a mass that matches the target's curvature a step of a third of
# its spread accepts most proposals; in the state's own units the coefficients' scale is far
# smaller than 1 (docs/sampling_designs.md, "The mass").
CURVATURE_STEP = 0.3
IDENTITY_STEP = 1e-3
# The facet's mass needs burn-in steps to shorten that first step where ReLU kinks make the
# target stiffer than its measured curvature: on toy ReLU models 4 steps left every proposal
# rejected. Shorter burn-ins keep the identity mass.
CURVATURE_BURNIN = 20
DEFAULT_IMAGE_SIZE = 128  # Lucid's default image size
INIT_KINDS = ("optimize", "prior")
# Where the chains start, resolved once from init (`SamplingOptions.start`): optimized starts,
# draws of the prior, the facets of a folder's photos (an examples.json), or the images given.
STARTS = ("optimize", "prior", "photos", "images")
EXAMPLES_FILE = "examples.json"  # what `samplevis examples` writes (examples.examples_json.FILE)
# The photo route's defaults, measured against the other designs: docs/sampling_designs.md,
# "Facets from photos" and "Facets that show their cluster" (the start, climb and transforms;
# the climb before, from the best photo's phase through the standard transforms, is
# photo_start="best", photo_climb="phase", photo_transforms="standard").
PHOTO_CLUSTERS = 10  # as Nguyen et al. 2016
PHOTO_START = "mean"
PHOTO_CLIMBS = ("phase", "pixels", "mfv")
PHOTO_CLIMB = "mfv"
# The climb's transforms: docs/sampling_designs.md, "Natural facets: what the blur takes".
PHOTO_TRANSFORMS = ("standard", "blur")
PHOTO_TRANSFORM = "blur"
PHOTO_STEPS = 512
# A draw every 8 leapfrog steps: two HMC steps of 4, or on the photo route four of 2. T and the
# step size adapt once per step or block of steps, so over its 150 steps the photo route's
# chains settled as well with 2 leapfrog steps as with 4 or 8, for a quarter of the burn-in's
# gradients of 8 (docs/sampling_designs.md, "The photo route's leapfrog steps"); the README's
# unit, over its 50 steps, leaned with 2.
LEAPFROG_STEPS = 4
STEPS_BETWEEN_RESULTS = 1
PHOTO_LEAPFROG_STEPS = 2
PHOTO_STEPS_BETWEEN_RESULTS = 3
SEARCH_ROUNDS = 2  # after optimized starts (docs/sampling_designs.md, "The facet search")
# What the unit answers to less strongly, without photos: docs/sampling_designs.md, "Weaker
# facets".
KIND_FLOOR = 0.5
KIND_DISTANCE = 0.5


def _cutoff_value(text: str) -> float:
    """--cutoff as typed: a number, or 'none' for the whole state (infinity: every coefficient is
    below it, and a given value, unlike None, is not taken for the default)."""
    return math.inf if text.strip().lower() in ("none", "all") else float(text)


def _fail(key: str, expected: str, value: Any, shown: str | None = None) -> NoReturn:
    """Raise: hmc_opts[key] must be `expected` (a template, see `checks.OptionMessage`); got
    `value` (its repr, or `shown`)."""
    raise OptionError(
        f"hmc_opts.{key}",
        f"{{hmc_opts.{key}}} must be {expected}; got {{got}}.",
        got=repr(value) if shown is None else shown,
    )


# An option's own check: (key, value given or default) -> the value to use, or an OptionError
# that names the fix. Rules that span several options are in `JOINT_RULES`.
Check = Callable[[str, Any], Any]


def _int_from(low: int) -> Check:
    """Ints >= `low`."""

    def check(key: str, value: Any) -> int:
        if not is_int(value) or value < low:
            _fail(key, f"an int >= {low}", value)
        return int(value)

    return check


def _positive(key: str, value: Any) -> float:
    if not is_number(value) or not value > 0:
        _fail(key, "a finite number > 0", value)
    return float(value)


def _number(expected: str, accept: Callable[[float], bool]) -> Check:
    """Finite numbers that `accept` takes; `expected` says which, for the error."""

    def check(key: str, value: Any) -> float:
        if not is_number(value) or not accept(value):
            _fail(key, expected, value)
        return float(value)

    return check


# a cosine distance between feature vectors lies in [0, 2]; 0 would let copies count as new
_cosine_distance = _number("a number in (0, 2]", lambda gap: 0 < gap <= 2)


def _bool(key: str, value: Any) -> bool:
    if not is_bool(value):
        _fail(key, "True or False", value)
    return bool(value)


def _or_none(check: Check) -> Check:
    """`check`, and None as it is (a default that depends on other options, or 'none')."""
    return lambda key, value: None if value is None else check(key, value)


def _cutoff(key: str, value: Any) -> float | None:
    if value is None or value == math.inf:  # infinity: --cutoff none, the whole state
        return None
    if not is_number(value) or not value > 0:
        _fail(
            key,
            "a number of cycles per pixel > 0 (1/16 moves the coefficients "
            "coarser than 16 px), or None for the whole state",
            value,
        )
    return float(value)


def _layer_name(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        _fail(key, "a layer name such as 'block5c_add', or None", value)
    return value


def _one_of(kinds: Callable[[], Sequence[str]], or_none: bool = False) -> Check:
    """The check that a value is one of `kinds()` (or None, with `or_none`); `kinds` is called
    when a value is checked, so that a module it reads (TFP's kernels, say) loads only then."""

    def check(key: str, value: Any) -> Any:
        allowed = tuple(kinds())
        if not (value in allowed or (or_none and value is None)):
            _fail(key, f"one of {allowed}" + (" or None" if or_none else ""), value)
        return value

    return check


def _start_kinds() -> Sequence[str]:
    from samplevis.examples.clusters import START_KINDS

    return START_KINDS


def _kernel_kinds() -> Sequence[str]:
    from samplevis.sampling.mcmc import kernels

    return kernels.KINDS


def _mass_kinds() -> Sequence[str]:
    from samplevis.sampling.density import momentum

    return momentum.KINDS


def _warp_mass_kinds() -> Sequence[str]:
    from samplevis.sampling.density import low_rank

    return low_rank.WARP_MASSES


def examples_index(init: str | os.PathLike) -> Path | None:
    """The examples.json `init` names (the file, or a folder holding it), or None."""
    path = Path(init)
    if path.is_dir() and (path / EXAMPLES_FILE).is_file():
        return path / EXAMPLES_FILE
    if path.suffix == ".json" and path.is_file():
        return path
    return None


def _init(key: str, init: Any) -> Any:
    """'optimize', 'prior', an examples index as a Path (the photo route), or images as float32
    [C, H, W, 3]."""
    if type(init).__name__ == "Examples":  # dataset_examples' result: its examples.json
        from samplevis.examples.collect import Examples

        if isinstance(init, Examples):
            if init.index is None:
                raise OptionError(
                    "hmc_opts.init",
                    "{hmc_opts.init} is a dataset_examples result kept in memory only; run "
                    "dataset_examples with out=FOLDER and give that (or FOLDER/examples.json).",
                )
            init = init.index
    if isinstance(init, os.PathLike) or (isinstance(init, str) and init not in INIT_KINDS):
        index = examples_index(init)
        if index is not None:
            return index
    if isinstance(init, str):
        if init not in INIT_KINDS:
            path_like = os.path.splitext(init)[1] or os.sep in init or os.path.exists(init)
            close = [] if path_like else closest_names(init, INIT_KINDS, n=1)
            hint = (
                " Did you mean {close!r}?"
                if close
                else " For image files, load them as images first: {hmc_opts.init} = "
                "samplevis.io.load_images([{got!r}], size), size being the side of the "
                "images rendered in px (one file for every chain, or one per chain). For "
                "facets from a folder of photos, give the examples.json that `samplevis "
                "examples --images FOLDER --top 150 --out OUT` writes."
            )
            raise OptionError(
                "hmc_opts.init",
                "{hmc_opts.init} must be one of {kinds}, an examples.json or "
                "images [C, H, W, 3] in [0, 1]; got {got!r}." + hint,
                kinds=INIT_KINDS,
                got=init,
                close=close[0] if close else None,
            )
        return init
    if isinstance(init, os.PathLike):
        raise OptionError(
            "hmc_opts.init",
            "{hmc_opts.init} names {got!r}, which is no examples.json nor a folder holding "
            "one; give the examples.json that `samplevis examples --out OUT` wrote.",
            got=os.fspath(init),
        )
    try:
        images = np.asarray(init, np.float32)
    except (TypeError, ValueError):  # ragged lists, non-numbers
        raise OptionError(
            "hmc_opts.init",
            "{hmc_opts.init} must be 'optimize', 'prior' or images [C, H, W, 3] in [0, 1], "
            "all of one size; the {kind} given does not form one float array. Image files: "
            "samplevis.io.load_images(paths, size).",
            kind=type(init).__name__,
        ) from None
    if images.ndim != 4 or images.shape[-1] != 3:
        _fail(
            key,
            "'optimize', 'prior' or images [C, H, W, 3] in [0, 1]",
            None,
            f"an array of shape {images.shape}",
        )
    return images


@dataclasses.dataclass(frozen=True)
class Option:
    """One key of `hmc_opts`. `help` says what it does, with units and what None stands for; it
    names other options as {hmc_opts.key} (see `checks.OptionMessage`). `kind` is the type of a
    value given (by default the default's). `check` takes (key, value) and returns the value
    to use or raises an OptionError naming the fix; what a value must be given other options
    is in `JOINT_RULES`."""

    default: Any
    help: str
    kind: Callable[[Any], Any] | None = None  # a type, or a parser of the command line's text
    check: Check = dataclasses.field(kw_only=True)

    def __post_init__(self):
        if self.kind is None:
            object.__setattr__(self, "kind", type(self.default))


OPTIONS: Mapping[str, Option] = types.MappingProxyType(
    dict(
        num_results=Option(
            10,
            "samples kept per chain",
            check=_int_from(1),
        ),
        step_size=Option(
            None,
            "first leapfrog step size (adapted per chain during burn-in unless "
            "{hmc_opts.adapt_step_size=False}): in units of the target's own spread under the "
            "curvature mass ({hmc_opts.step_size=None}: "
            f"{CURVATURE_STEP}), in spectral-state units under the others (None: "
            f"{IDENTITY_STEP})",
            float,
            check=_or_none(_positive),
        ),
        num_leapfrog_steps=Option(
            None,
            "leapfrog steps per HMC step ({hmc_opts.num_leapfrog_steps=None}: "
            f"{LEAPFROG_STEPS}, or {PHOTO_LEAPFROG_STEPS} on the photo route, whose draws "
            "then come four HMC steps apart where the others' come two)",
            int,
            check=_or_none(_int_from(1)),
        ),
        num_burnin_steps=Option(
            None,
            "steps before the first sample, adapting each chain's temperature (the first "
            "{hmc_opts.temperature_steps}) and step size ({hmc_opts.num_burnin_steps=None}: "
            f"{BURNIN_STEPS}, or {PHOTO_BURNIN_STEPS} on the photo route, whose chains settle "
            "more slowly)",
            int,
            check=_or_none(_int_from(0)),
        ),
        num_steps_between_results=Option(
            None,
            "HMC steps discarded between kept samples "
            "({hmc_opts.num_steps_between_results=None}: "
            f"{STEPS_BETWEEN_RESULTS}, or {PHOTO_STEPS_BETWEEN_RESULTS} on the photo route: "
            f"either way a draw every {LEAPFROG_STEPS * (STEPS_BETWEEN_RESULTS + 1)} leapfrog "
            "steps)",
            int,
            check=_or_none(_int_from(0)),
        ),
        num_chains=Option(
            None,
            "chains, each sampling the facet of its own optimized start "
            "({hmc_opts.num_chains=None}: the parameterization's batch, else "
            f"{DEFAULT_NUM_CHAINS})",
            int,
            check=_or_none(_int_from(1)),
        ),
        cutoff=Option(
            DEFAULT_CUTOFF,
            "cycles per pixel below which the spectral coefficients move; "
            "the finer ones keep each chain's start (its facet). None (or "
            "'none' on the command line) moves the whole state",
            _cutoff_value,
            check=_cutoff,
        ),
        warp=Option(
            True,
            "move each facet's image by a smooth warp too, so the start's motifs slide, bend "
            "and stretch: the warp's numbers join the coefficients in one HMC, each part's "
            "step scaled by its curvature. A facet's warp: none when {hmc_opts.cutoff} is "
            "None (the whole state moves) or with {hmc_opts.mass='fisher'} (a mass of the "
            "coefficients alone)",
            check=_bool,
        ),
        warp_grid=Option(
            4,
            "the warp's control points per side, an equal grid over the image (8 moves smaller "
            "regions, 2 bends the whole image at once)",
            check=_int_from(2),
        ),
        temperature=Option(
            None,
            "T in objective units; instead of {hmc_opts.target_ratio}",
            float,
            check=_or_none(_positive),
        ),
        target_ratio=Option(
            None,
            "share of the optimized starts' gain over prior images that the "
            "samples keep, which sets T ({hmc_opts.target_ratio=None}: "
            f"{DEFAULT_TARGET_RATIO} unless "
            "{hmc_opts.temperature} is given)",
            float,
            check=_or_none(
                _number(
                    "a number in (0, 1), the share of the gain over prior images to keep",
                    lambda ratio: 0 < ratio < 1,
                )
            ),
        ),
        temperature_steps=Option(
            None,
            "burn-in steps over which each chain's T adapts to {hmc_opts.target_ratio}, in "
            "whole blocks of {hmc_opts.block_steps}; T is then frozen, corrected once from the "
            f"share it keeps, and held for the last {CLOSING_STEPS} steps of burn-in and the "
            "samples ({hmc_opts.temperature_steps=None}: "
            f"{TEMPERATURE_SHARE:.0%} of "
            "{hmc_opts.num_burnin_steps}, or 0 with a given {hmc_opts.temperature}; "
            "0 keeps the equipartition rule's T)",
            int,
            check=_or_none(_int_from(0)),
        ),
        prior_weight=Option(
            None,
            "precision of the Gaussian prior on the spectral state "
            "({hmc_opts.prior_weight=None}: its mean square matches the starts', a "
            "quarter of their spread around each facet from photos, "
            "1 for {hmc_opts.init='prior'})",
            float,
            check=_or_none(
                _number(
                    "a finite number >= 0 ({hmc_opts.prior_weight=None}: matched to the starts)",
                    lambda weight: weight >= 0,
                )
            ),
        ),
        num_transforms=Option(
            1,
            "fixed random transforms the activation is averaged over (each "
            "adds a network pass to every leapfrog step; 0 for none)",
            check=_int_from(0),
        ),
        init=Option(
            "optimize",
            "where the chains start: 'optimize' (images optimized for the "
            "objective), 'prior' (needs {hmc_opts.temperature}) or images "
            "[C, H, W, 3] in [0, 1]",
            check=_init,
        ),
        optimize_steps=Option(
            256,
            "render_vis steps for each chain's start",
            check=_int_from(1),
        ),
        start_diversity=Option(
            0.0,
            "weight of Lucid's diversity term on the objective's layer while the starts are "
            "optimized together: each chain samples its own start's facet, so it sets how "
            "different the chains' patterns are (0: independent starts; its effect scales with "
            "the objective's size, see docs/sampling.md)",
            check=_number(
                "a finite number >= 0 (0: independent starts)", lambda weight: weight >= 0
            ),
        ),
        polish_steps=Option(
            256,
            "at most this many Adam steps climbing each chain's start along what the chains "
            "move (the coarse coefficients, the warp, through the target's fixed views) until "
            "it stops rising, so that the chains start at an optimum of what they sample "
            "(0: none; never from the prior)",
            check=_int_from(0),
        ),
        photo_clusters=Option(
            PHOTO_CLUSTERS,
            "with {hmc_opts.init} an examples.json: clusters of the unit's top photos, each "
            "optimized from its start image into a facet of its own",
            check=_int_from(1),
        ),
        photo_steps=Option(
            PHOTO_STEPS,
            "with {hmc_opts.init} an examples.json: render_vis steps for each photo cluster's "
            "start (a start at photos keeps climbing past the seeds' steps)",
            check=_int_from(1),
        ),
        photo_start=Option(
            PHOTO_START,
            "with {hmc_opts.init} an examples.json: each photo cluster's start image: the "
            "'mean' of its photos (as Nguyen et al. 2016), its 'best' photo, its 'medoid', or "
            "its best photo 'blurred'; a 'phase' climb keeps its start's Fourier magnitude, so "
            "from a mean or a blur it keeps their blur (start it at 'best')",
            check=_one_of(_start_kinds),
        ),
        photo_climb=Option(
            PHOTO_CLIMB,
            "with {hmc_opts.init} an examples.json: what each photo cluster's climb moves: "
            "'mfv', the chains' own parameterization with Nguyen et al.'s regularizers applied "
            "to the images every 16 steps (L2 decay toward the start's mean colour, a 0.3 px "
            "Gaussian blur, the weakest 5 % of pixels set to that colour) and the colourfulness "
            "held at most at its kind's photos' median (optvis.pixel_regularizers): facets "
            "synthesized from the cluster, none a copy of a photo; 'pixels', the same without "
            "them; or 'phase', its start's Fourier phase alone (param.phase_image: the facet "
            "keeps its photo's colours and textures; the climb before 'mfv', with "
            "photo_start='best' and photo_transforms='standard': a photo under an overlay)",
            check=_one_of(lambda: PHOTO_CLIMBS),
        ),
        photo_transforms=Option(
            PHOTO_TRANSFORM,
            "with {hmc_opts.init} an examples.json: the transforms each photo cluster's climb "
            "goes through: 'standard', Lucid's standard transforms (as render_vis), or 'blur', "
            "twice their reach and a random Gaussian blur of 0, 0.5 or 1 px, so that the climb "
            "gains nothing from texture a blur removes",
            check=_one_of(lambda: PHOTO_TRANSFORMS),
        ),
        search_rounds=Option(
            None,
            "rounds of the facet search after the optimized starts or the photo clusters, "
            "each polished on the objective alone: odd rounds climb one fresh start per chain "
            "steered away from every image found so far, even rounds start from the gratings "
            "where the objective answers through other features than at every image found; an "
            "optimum that reaches {hmc_opts.facet_floor} of the best and differs from every "
            "facet by {hmc_opts.facet_distance} is a new facet, and the chains share the "
            "facets, best first (0: the chains sample their own starts; "
            f"{{hmc_opts.search_rounds=None}}: {SEARCH_ROUNDS} after optimized starts, 0 after "
            "photo clusters, which are the facets; none from the prior or given images)",
            int,
            check=_or_none(_int_from(0)),
        ),
        facet_floor=Option(
            0.8,
            "the activation a new facet of the search must reach at {hmc_opts.facet_distance}, "
            "a share of the best facet's",
            check=_number("a number in (0, 1]", lambda floor: 0 < floor <= 1),
        ),
        kind_floor=Option(
            KIND_FLOOR,
            "the activation a weaker facet of the search must reach, a share of the best "
            "facet's: what the unit answers to less strongly, a pattern at least "
            "{hmc_opts.kind_distance} from every facet (at most {hmc_opts.facet_floor}; equal "
            "to it: no weaker facets). From photos, every cluster is a facet whatever its "
            "height but a failed climb: one under this share of the height its photos promise "
            "(their median value over the highest cluster's)",
            check=_number("a number in (0, 1]", lambda floor: 0 < floor <= 1),
        ),
        kind_distance=Option(
            KIND_DISTANCE,
            "cosine distance of pooled features (of {hmc_opts.search_layer}) a weaker facet "
            "keeps from every facet, so that a weaker copy of a facet is none (at least "
            "{hmc_opts.facet_distance})",
            check=_cosine_distance,
        ),
        search_strength=Option(
            1.0,
            "how hard a search round's climb is pushed away from the images found so far: the "
            "weight of their largest feature cosine similarity, in units of the best start's "
            "activation",
            check=_number("a finite number >= 0", lambda weight: weight >= 0),
        ),
        facet_distance=Option(
            0.3,
            "cosine distance of pooled features (of {hmc_opts.search_layer}) a new facet "
            "keeps from every facet; nearer optima are more optima of that facet",
            check=_cosine_distance,
        ),
        search_layer=Option(
            None,
            "the layer whose centred, spatially pooled features the facet search compares, "
            "and whose gradient its probe rounds read (None: the input of the convolution that "
            "computes the objective's first layer)",
            str,
            check=_or_none(_layer_name),
        ),
        kernel=Option(
            "hmc",
            "'hmc', 'mala' (HMC with one leapfrog step) or 'nuts' (no-U-turn: it "
            "sets its own trajectory length, ignoring {hmc_opts.num_leapfrog_steps})",
            check=_one_of(_kernel_kinds),
        ),
        mass=Option(
            None,
            "HMC mass: 'curvature' (a facet's: the prior's precision plus the activation's "
            "curvature along the directions it holds most, measured at the starts), 'fisher' "
            "(per frequency band, from the objective's gradients) or 'identity' "
            "({hmc_opts.mass=None}: 'curvature', or 'identity' with "
            "{hmc_opts.kernel='nuts'}, whose step size cannot adapt under a mass, or with "
            f"fewer than {CURVATURE_BURNIN} burn-in steps)",
            str,
            check=_one_of(_mass_kinds, or_none=True),
        ),
        warp_mass=Option(
            None,
            "the 'curvature' mass over the warp: 'directions' (its curvature in each of its "
            "directions, as the coefficients' is) or 'mean' (its mean curvature, one number per "
            "chain) ({hmc_opts.warp_mass=None}: 'directions' on the photo route, whose warps "
            "crawl under one number, 'mean' otherwise)",
            str,
            check=_one_of(_warp_mass_kinds, or_none=True),
        ),
        adapt_step_size=Option(
            True,
            "adapt each chain's step size during burn-in (without, the "
            "chains keep {hmc_opts.step_size}, which allows "
            "{hmc_opts.num_burnin_steps=0} or 1)",
            check=_bool,
        ),
        target_accept_prob=Option(
            0.75,
            "acceptance probability the step size adapts to",
            check=_number("a number in (0, 1)", lambda prob: 0 < prob < 1),
        ),
        max_tree_depth=Option(
            6,
            "NUTS only: at most 2**depth leapfrog steps per HMC step",
            check=_int_from(1),
        ),
        block_steps=Option(
            BLOCK_STEPS,
            "MCMC steps per compiled call and progress update; T adapts after each burn-in block",
            check=_int_from(1),
        ),
    )
)
DEFAULTS: Mapping[str, Any] = types.MappingProxyType(
    {name: option.default for name, option in OPTIONS.items()}
)

# Other samplers' names for options, which spelling alone would not lead to.
ALIASES: Mapping[str, str] = types.MappingProxyType(
    dict(
        num_samples="num_results",
        burnin="num_burnin_steps",
        num_burnin="num_burnin_steps",
        thin="num_steps_between_results",
        thinning="num_steps_between_results",
        T="temperature",
        chains="num_chains",
        leapfrog_steps="num_leapfrog_steps",
    )
)


# Why the walk between basins is no option, and what does its job.
_WALK_LOST = (
    "on a two-facet unit its samples all stayed in one facet, where the facet search finds "
    'both (docs/sampling_designs.md, "The facet search"). The facet search finds the '
    "unit's facets and the chains sample inside each; for more facets give it more rounds: "
    "{hmc_opts.search_rounds}."
)
# Options that are gone, each with what to give instead ({given}: the option as the reader
# named it). `resolve_options` raises it for a key, the command line for a flag.
REMOVED: Mapping[str, str] = types.MappingProxyType(
    dict(
        warp_every="{given} is gone: the warp now moves at every step, in one HMC with the "
        "coefficients, and is on by default; give {hmc_opts.warp=False} for no warp.",
        walk="the walk between basins ({given}) is gone: " + _WALK_LOST,
        **dict.fromkeys(
            ("samples_per_basin", "move", "move_size", "basin_level"),
            "{given} set the walk between basins, which is gone: " + _WALK_LOST,
        ),
    )
)


@dataclasses.dataclass(frozen=True, eq=False)
class SamplingOptions:
    """`hmc_opts` resolved: every key of OPTIONS with its checked value (see OPTIONS for what each
    does). Defaults that depend on other options are filled in (target_ratio, temperature_steps,
    mass); init is "optimize", "prior", an examples.json (a Path) or images float32
    [C, H, W, 3], and `start` names which (one of STARTS), for every module to read. The fields
    are OPTIONS' keys in its order (a test keeps them so), with the types their checks
    return."""

    num_results: int
    step_size: float
    num_leapfrog_steps: int
    num_burnin_steps: int
    num_steps_between_results: int
    num_chains: int | None
    cutoff: float | None
    warp: bool
    warp_grid: int
    temperature: float | None
    target_ratio: float | None
    temperature_steps: int
    prior_weight: float | None
    num_transforms: int
    init: Any
    optimize_steps: int
    start_diversity: float
    polish_steps: int
    photo_clusters: int
    photo_steps: int
    photo_start: str
    photo_climb: str
    photo_transforms: str
    search_rounds: int
    facet_floor: float
    kind_floor: float
    kind_distance: float
    search_strength: float
    facet_distance: float
    search_layer: str | None
    kernel: str
    mass: str
    warp_mass: str
    adapt_step_size: bool
    target_accept_prob: float
    max_tree_depth: int
    block_steps: int

    def as_dict(self) -> dict[str, Any]:
        """The options by name (the images of init as they are)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @property
    def start(self) -> str:
        """Where the chains start, one of STARTS (`start_of(init)`)."""
        return start_of(self.init)


def start_of(init: Any) -> str:
    """Where chains from a checked `init` start, one of STARTS: "optimize", "prior", "photos"
    (an examples.json, a Path) or "images" (an array)."""
    if isinstance(init, Path):
        return "photos"
    if isinstance(init, str):
        return init
    return "images"


def resolve_options(hmc_opts: Mapping[str, Any] | None) -> SamplingOptions:
    """hmc_opts merged into DEFAULTS and checked, each option by its own `Option.check`, then by
    the rules that span several (JOINT_RULES, in order); raises an OptionError (a ValueError) naming the
    option and the fix."""
    if hmc_opts is not None and not isinstance(hmc_opts, Mapping):
        raise TypeError(
            f"hmc_opts must be a dict of options, e.g. dict(num_results=10); got "
            f"{type(hmc_opts).__name__}."
        )
    hmc_opts = dict(hmc_opts or {})
    gone = [k for k in hmc_opts if k in REMOVED]
    if gone:
        raise OptionError(f"hmc_opts.{gone[0]}", REMOVED[gone[0]], given=gone[0])
    unknown = sorted(set(hmc_opts) - set(DEFAULTS), key=str)
    if unknown:
        guesses = {
            k: ALIASES.get(k) or next(iter(closest_names(str(k), sorted(DEFAULTS), n=1)), None)
            for k in unknown
        }
        hint = ", ".join(f"{g!r} for {k!r}" for k, g in guesses.items() if g)
        hint = f". Did you mean {hint}? Allowed" if hint else "; allowed"
        raise ValueError(f"unknown hmc_opts key(s) {unknown}{hint} keys are {sorted(DEFAULTS)}.")
    given = {**DEFAULTS, **hmc_opts}
    opts = {k: OPTIONS[k].check(k, v) for k, v in given.items()}
    for rule in JOINT_RULES:
        opts |= rule(opts)
    return SamplingOptions(**opts)


# A joint rule takes the options, each checked on its own, and returns those it fills in from
# the others (the defaults that depend on them), or raises an OptionError naming the fix.
Rule = Callable[[Mapping[str, Any]], dict[str, Any]]


def _burnin_rule(opts: Mapping[str, Any]) -> dict[str, Any]:
    """The burn-in by the start: longer on the photo route, whose chains settle more slowly."""
    if opts["num_burnin_steps"] is not None:
        return {}
    photos = start_of(opts["init"]) == "photos"
    return {"num_burnin_steps": PHOTO_BURNIN_STEPS if photos else BURNIN_STEPS}


def _temperature_rule(opts: Mapping[str, Any]) -> dict[str, Any]:
    """T given or tuned toward target_ratio, not both; temperature_steps within burn-in."""
    if opts["temperature"] is not None and opts["target_ratio"] is not None:
        raise OptionError(
            "hmc_opts.target_ratio",
            "give {hmc_opts.temperature} or {hmc_opts.target_ratio}, not both: the ratio sets the "
            "temperature; got {hmc_opts.temperature=temperature}, {hmc_opts.target_ratio=ratio}.",
            temperature=opts["temperature"],
            ratio=opts["target_ratio"],
        )
    if opts["temperature"] is not None:
        if opts["temperature_steps"]:
            raise OptionError(
                "hmc_opts.temperature_steps",
                "{hmc_opts.temperature_steps} tune T to {hmc_opts.target_ratio}; with a given "
                "{hmc_opts.temperature} set it to 0 or leave it out; got {got!r}.",
                got=opts["temperature_steps"],
            )
        return {"temperature_steps": 0}
    steps = opts["temperature_steps"]
    if steps is None:
        steps = int(TEMPERATURE_SHARE * opts["num_burnin_steps"])
    if steps > opts["num_burnin_steps"]:
        raise OptionError(
            "hmc_opts.temperature_steps",
            "T adapts during burn-in, so {hmc_opts.temperature_steps} must be at most "
            "{hmc_opts.num_burnin_steps} ({burnin}); got {got}. Lower it, or raise "
            "{hmc_opts.num_burnin_steps}.",
            burnin=opts["num_burnin_steps"],
            got=steps,
        )
    ratio = DEFAULT_TARGET_RATIO if opts["target_ratio"] is None else opts["target_ratio"]
    return {"temperature_steps": steps, "target_ratio": ratio}


def _step_size_rule(opts: Mapping[str, Any]) -> dict[str, Any]:
    """Adapting the step size needs a burn-in to adapt in."""
    from samplevis.sampling.mcmc import kernels

    adaptation = kernels.default_adaptation_steps(opts["num_burnin_steps"])
    if opts["adapt_step_size"] and adaptation is None:
        raise OptionError(
            "hmc_opts.num_burnin_steps",
            "adapting the step size needs a burn-in to adapt in: {hmc_opts.num_burnin_steps} >= "
            "2; got {got}. Raise {hmc_opts.num_burnin_steps} or set "
            "{hmc_opts.adapt_step_size=False}.",
            got=opts["num_burnin_steps"],
        )
    return {}


def _mass_rule(opts: Mapping[str, Any]) -> dict[str, Any]:
    """The mass by the kernel and burn-in, the first step by the mass, the warp's mass by the
    start; NUTS under a preconditioning mass cannot adapt its step."""
    mass = opts["mass"]
    if mass is None:
        short = opts["num_burnin_steps"] < CURVATURE_BURNIN
        mass = "identity" if opts["kernel"] == "nuts" or short else "curvature"
    step = opts["step_size"]
    if step is None:
        step = CURVATURE_STEP if mass == "curvature" else IDENTITY_STEP
    if mass in ("fisher", "curvature") and opts["kernel"] == "nuts" and opts["adapt_step_size"]:
        raise OptionError(
            "hmc_opts.mass",
            "{hmc_opts.mass=mass} with {hmc_opts.kernel='nuts'} needs "
            "{hmc_opts.adapt_step_size=False} (TFP's preconditioned NUTS cannot adapt its step "
            "size); use {hmc_opts.kernel='hmc'} or {hmc_opts.mass='identity'}.",
            mass=mass,
        )
    warp_mass = opts["warp_mass"]
    if warp_mass is None:
        warp_mass = "directions" if start_of(opts["init"]) == "photos" else "mean"
    return {"mass": mass, "step_size": step, "warp_mass": warp_mass}


def _floors_rule(opts: Mapping[str, Any]) -> dict[str, Any]:
    """A kind's floor and distance within a facet's."""
    for low, high, rule in (
        ("kind_floor", "facet_floor", "at most"),
        ("facet_distance", "kind_distance", "at most"),
    ):
        if opts[low] > opts[high]:
            raise OptionError(
                f"hmc_opts.{low}",
                f"{{hmc_opts.{low}}} must be {rule} {{hmc_opts.{high}}} ({{high}}); got "
                f"{{low}}. Lower {{hmc_opts.{low}}} or raise {{hmc_opts.{high}}}.",
                low=opts[low],
                high=opts[high],
            )
    return {}


def _warp_rule(opts: Mapping[str, Any]) -> dict[str, Any]:
    """A facet's warp needs a cutoff; the Fisher mass is a mass of the coefficients alone."""
    return {"warp": opts["warp"] and opts["cutoff"] is not None and opts["mass"] != "fisher"}


def _start_rule(opts: Mapping[str, Any]) -> dict[str, Any]:
    """What the start asks of the chains' steps, the facet search (after optimized starts or
    the photo clusters' optima), the temperature (none to set from the prior's) and the
    starts' optimization."""
    start = start_of(opts["init"])
    photos = start == "photos"
    filled = {
        "num_leapfrog_steps": opts["num_leapfrog_steps"],
        "num_steps_between_results": opts["num_steps_between_results"],
        "search_rounds": opts["search_rounds"],
    }
    if filled["num_leapfrog_steps"] is None:
        filled["num_leapfrog_steps"] = PHOTO_LEAPFROG_STEPS if photos else LEAPFROG_STEPS
    if filled["num_steps_between_results"] is None:
        filled["num_steps_between_results"] = (
            PHOTO_STEPS_BETWEEN_RESULTS if photos else STEPS_BETWEEN_RESULTS
        )
    if filled["search_rounds"] is None:
        filled["search_rounds"] = SEARCH_ROUNDS if start == "optimize" else 0
    if start not in ("photos", "optimize"):
        filled["search_rounds"] = 0
    if start == "prior" and opts["temperature"] is None:
        raise OptionError(
            "hmc_opts.temperature",
            "{hmc_opts.init='prior'} has no optimized activation to set the temperature "
            "from; give {hmc_opts.temperature} (objective units).",
        )
    if opts["start_diversity"] and start != "optimize":
        raise OptionError(
            "hmc_opts.start_diversity",
            "{hmc_opts.start_diversity} weighs a term of the starts' "
            "optimization, but {hmc_opts.init} does not optimize them; leave it at 0.",
        )
    return filled


# The rules that span several options, in the order they are applied: each reads what those
# before it filled in (the warp reads the mass).
JOINT_RULES: tuple[Rule, ...] = (
    _burnin_rule,
    _temperature_rule,
    _step_size_rule,
    _mass_rule,
    _floors_rule,
    _warp_rule,
    _start_rule,
)
