"""Is an image processed like the photos it stands for? Geirhos et al.'s sanity check.

Geirhos, Zimmermann, Bilodeau, Brendel and Kim ("Don't trust your eyes: on the (un)reliability
of feature visualizations", ICML 2024) show that a visualization can be made to show anything
without changing what the network does on natural images, and propose a check: along the
network, a visualization of a class should be processed like natural images of that class, more
than like images of other classes. `processing_check` measures it for any images: at each layer
(`block_outputs` by default), each image's channel means over positions, and the Spearman
correlation of that profile with the mean profile of `photos` (the images it stands for) and
with that of `others`. An image passes a layer where it is more like its photos than like the
others; the check passes where it does so at PASS_SHARE of the layers or more
(docs/trust.md: what it can and cannot tell).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np

from samplevis.models import Model, as_model
from samplevis.runtime.checks import KerasModel

BATCH = 32  # images per network call
# An image passes the check when it is more like its photos than like the others at this share
# of the layers compared or more (the bar docs/trust.md sets for the photo route's facets).
PASS_SHARE = 0.9
# A kind's facets must pass at least as often as the kind's own photos (`photos_passing`) less
# this share: the photos' rate is the bar, and a few of a kind's facets move it by a lot
PHOTOS_MARGIN = 0.10
# The most layers `block_outputs` picks where the model has no residual blocks to read.
SPACED_LAYERS = 11
# Layer kinds whose output is a block's output: the residual sum, or a nonlinearity.
_ADD_KINDS = ("Add",)
_ACTIVATION_KINDS = ("Activation", "ReLU", "LeakyReLU", "ELU", "PReLU")


@dataclasses.dataclass(frozen=True)
class ProcessingCheck:
    """How alike the network processes images and photos, layer by layer. I = images, L = layers.

    Attributes:
      layers: the layers compared, input first.
      to_photos: float [I, L], Spearman correlation of each image's channel means with the
        photos' mean channel means, at each layer.
      to_others: float [I, L], the same with the other photos'.
    """

    layers: tuple[str, ...]
    to_photos: np.ndarray
    to_others: np.ndarray

    @property
    def passes(self) -> np.ndarray:
        """bool [I, L]: where an image is more like its photos than like the others."""
        return self.to_photos > self.to_others

    @property
    def shares(self) -> np.ndarray:
        """float [I]: the share of the layers at which each image passes."""
        return self.passes.mean(axis=1) if self.layers else np.zeros(len(self.to_photos))

    @property
    def passed(self) -> np.ndarray:
        """bool [I]: the images that pass at PASS_SHARE of the layers or more."""
        return self.shares >= PASS_SHARE

    def words(self, i: int = 0) -> str:
        """Where image `i` is processed like its photos, in words: "at every layer (11 of 11)",
        "from block4c_add on, not before (7 of 11)", "at 5 of 11 layers, not at stem_activation,
        block2b_add, ..." or "at no layer (0 of 11)"."""
        passes = self.passes[i]
        n, count = len(passes), int(passes.sum())
        of = f"{count} of {n}"
        if count == n:
            return f"at every layer ({of})"
        if count == 0:
            return f"at no layer ({of})"
        # from some layer on: every layer passes after the last that fails
        last_fail = int(np.flatnonzero(~passes)[-1])
        if last_fail < n - 1 and passes[last_fail + 1 :].all() and count == n - 1 - last_fail:
            return f"from {self.layers[last_fail + 1]} on, not before ({of})"
        failed = [self.layers[k] for k in np.flatnonzero(~passes)]
        listed = ", ".join(failed[:4]) + (", ..." if len(failed) > 4 else "")
        return f"at {of} layers, not at {listed}"


def processing_check(
    model: Model | KerasModel,
    images: np.ndarray,
    photos: np.ndarray | Mapping[str, np.ndarray],
    others: np.ndarray | Mapping[str, np.ndarray],
    layers: Sequence[str] | None = None,
) -> ProcessingCheck:
    """Whether `images` are processed like `photos` more than like `others`, layer by layer.

    Args:
      model: the network.
      images: float [I, H, W, 3] in [0, 1], e.g. visualizations.
      photos: the natural images they stand for, float [P, H', W', 3] in [0, 1] (any size the
        network takes), or their `channel_means` at `layers`.
      others: other natural images, as `photos`.
      layers: the layers compared; default `block_outputs(model)`.

    Returns:
      a ProcessingCheck: per image and layer, the Spearman correlation of its channel means
      (over positions) with the photos' mean and with the others' mean.
    """
    model = as_model(model)
    layers = list(block_outputs(model) if layers is None else layers)
    if not layers:
        raise ValueError("layers is empty; give the layers to compare, e.g. block_outputs(model).")
    model.check_layers(layers)
    own = photos if isinstance(photos, Mapping) else channel_means(model, photos, layers)
    other = others if isinstance(others, Mapping) else channel_means(model, others, layers)
    for name, given in (("photos", own), ("others", other)):
        if any(len(given[layer]) == 0 for layer in layers):
            raise ValueError(f"{name} holds no image; the check compares with at least one.")
    seen = channel_means(model, images, layers)
    return likeness(seen, own, other, layers)


def likeness(
    images: Mapping[str, np.ndarray],
    photos: Mapping[str, np.ndarray],
    others: Mapping[str, np.ndarray],
    layers: Sequence[str],
) -> ProcessingCheck:
    """`processing_check` from channel means ({layer: float [N, C]}) already measured."""
    to_photos = np.stack([spearman(images[k], photos[k].mean(axis=0)) for k in layers], axis=1)
    to_others = np.stack([spearman(images[k], others[k].mean(axis=0)) for k in layers], axis=1)
    return ProcessingCheck(tuple(layers), to_photos, to_others)


def photos_passing(
    photos: Mapping[str, np.ndarray], others: Mapping[str, np.ndarray], layers: Sequence[str]
) -> np.ndarray:
    """bool [P]: which of the photos (channel means {layer: float [P, C]}) pass the check as an
    image of theirs would: each against the mean of the other P - 1 and against `others`,
    passing at PASS_SHARE of `layers` or more; none with fewer than 2 photos. The bar a facet
    is held to is set by it (docs/trust.md, "The bar set by the photos")."""
    count = len(photos[layers[0]]) if layers else 0
    if count < 2:
        return np.zeros(0, bool)
    passed = []
    for i in range(count):
        mates = [j for j in range(count) if j != i]
        found = likeness(
            {k: photos[k][[i]] for k in layers},
            {k: photos[k][mates] for k in layers},
            others,
            layers,
        )
        passed.append(bool(found.passed[0]))
    return np.array(passed, bool)


def channel_means(
    model: Model | KerasModel, images: np.ndarray, layers: Sequence[str]
) -> dict[str, np.ndarray]:
    """{layer: float [N, C]}: each image's activations at `layers` averaged over positions
    (a token layer over its tokens), images float [N, H, W, 3] in [0, 1] or uint8, in batches
    of BATCH."""
    model = as_model(model)
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"images are [N, H, W, 3]; got shape {images.shape}.")
    scale = 255.0 if images.dtype == np.uint8 else 1.0
    out: dict[str, list[np.ndarray]] = {layer: [] for layer in layers}
    for start in range(0, len(images), BATCH):
        batch = images[start : start + BATCH].astype(np.float32) / scale
        for layer, acts in model.activations(batch, list(layers)).items():
            acts = np.asarray(acts, np.float64)
            out[layer].append(acts.reshape(len(batch), -1, acts.shape[-1]).mean(axis=1))
    return {
        layer: np.concatenate(found) if found else np.zeros([0, 0]) for layer, found in out.items()
    }


def spearman(rows: np.ndarray, target: np.ndarray) -> np.ndarray:
    """float [N]: Spearman's rank correlation of each row of `rows` [N, C] with `target` [C]
    (ties ranked at their mean); NaN where either is constant."""
    ranked = np.stack([_ranks(row) for row in np.atleast_2d(rows)])
    aim = _ranks(target)
    ranked -= ranked.mean(axis=1, keepdims=True)
    aim -= aim.mean()
    norm = np.linalg.norm(ranked, axis=1) * np.linalg.norm(aim)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > 0, ranked @ aim / np.where(norm > 0, norm, 1.0), np.nan)


def _ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of `values` [C], ties at their mean rank."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return (ends - (counts - 1) / 2.0)[inverse.reshape(-1)].astype(np.float64)


def block_outputs(model: Model | KerasModel) -> list[str]:
    """The layers the check compares by default, input first: a residual network's block
    outputs (its stem's nonlinearity, every residual sum, its last nonlinearity: 11 layers of
    the built-in EfficientNet-Lite0), or, without residual sums, up to SPACED_LAYERS of its
    nonlinearities evenly spaced. Only layers with a map of positions (or tokens) count."""
    model = as_model(model)
    rows = [
        r
        for r in model.layers_info()
        if r.channels and (len(r.output_shape) == 3 or r.tokens is not None)
    ]
    acting = [r.name for r in rows if r.kind in _ACTIVATION_KINDS or r.activation is not None]
    sums = [r.name for r in rows if r.kind in _ADD_KINDS]
    if sums and acting:
        order = [r.name for r in rows]
        ends = {acting[0], acting[-1]}
        return [name for name in order if name in set(sums) | ends]
    if len(acting) <= SPACED_LAYERS:
        return acting
    picked = np.linspace(0, len(acting) - 1, SPACED_LAYERS).round().astype(int)
    return [acting[k] for k in sorted(set(picked.tolist()))]
