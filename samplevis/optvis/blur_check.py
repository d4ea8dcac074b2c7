"""Does an image's value come from texture finer than its photos carry? The blur measure.

Geirhos, Zimmermann, Bilodeau, Brendel and Kim ("Don't trust your eyes: on the (un)reliability
of feature visualizations", ICML 2024) find visualizations processed unlike natural images;
one way they differ is where their value lies: a visualization can gain its objective from
fine high-frequency texture that natural photos barely use. `blur_check` measures it for any
images: the share of its objective value an image keeps under a mild low-pass
(`gaussian_blur`, sigma BLUR_SIGMA px at the image's size), compared with the median share its
photos keep. An image passes where it keeps at least KEEP_SHARE of its photos' share
(docs/trust.md, "The blur measure").
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from samplevis.models import Model, as_model
from samplevis.runtime.checks import KerasModel

if TYPE_CHECKING:
    from samplevis.optvis.objectives import Objective

BATCH = 32  # images per network call
# The blur's standard deviation, px at the image's size: a mild low-pass that leaves a photo's
# shapes and most of its value (docs/trust.md, "The blur measure")
BLUR_SIGMA = 1.0
# An image passes when it keeps at least this share of its photos' median share under the blur
KEEP_SHARE = 0.9
# The kernel reaches this many sigmas each way: what lies beyond is below 1e-4 of its sum
_REACH = 4.0


def gaussian_taps(sigmas: tuple[float, ...]) -> np.ndarray:
    """float32 [S, 2R + 1]: a Gaussian kernel of sum 1 for each of `sigmas` (px), all of the
    widest one's length R = ceil(4 max sigma) each way; sigma 0 is a single tap of 1 (the
    identity)."""
    reach = max(1, math.ceil(_REACH * max(sigmas)))
    offsets = np.arange(-reach, reach + 1, dtype=np.float64)
    rows = []
    for sigma in sigmas:
        if sigma == 0:
            taps = (offsets == 0).astype(np.float64)
        else:
            taps = np.exp(-0.5 * (offsets / sigma) ** 2)
        rows.append(taps / taps.sum())
    return np.array(rows, np.float32)


@dataclasses.dataclass(frozen=True)
class BlurCheck:
    """What images keep of their objective under a Gaussian blur, against their photos.
    I = images.

    Attributes:
      sigma: the blur's standard deviation, px at the images' size.
      kept: float [I], each image's value under the blur over its value (NaN where its value
        is not positive).
      photos_kept: the photos' median share (NaN without photos).
    """

    sigma: float
    kept: np.ndarray
    photos_kept: float

    @property
    def passed(self) -> np.ndarray:
        """bool [I]: the images that keep at least KEEP_SHARE of their photos' share (False
        where either is NaN)."""
        kept = np.asarray(self.kept, np.float64)
        with np.errstate(invalid="ignore"):
            return np.isfinite(kept) & (kept >= KEEP_SHARE * self.photos_kept)

    def words(self, i: int = 0) -> str:
        """Image `i`'s share in words: "keeps 0.45 of its value under a 1 px blur; its photos
        keep 0.69" (without photos, the first half)."""
        kept = float(self.kept[i])
        share = f"{kept:.2f}" if math.isfinite(kept) else "nothing measurable"
        said = f"keeps {share} of its value under a {self.sigma:g} px blur"
        if math.isfinite(self.photos_kept):
            said += f"; its photos keep {self.photos_kept:.2f}"
        return said


def from_shares(
    kept: np.ndarray, photos_kept: np.ndarray | None, sigma: float = BLUR_SIGMA
) -> BlurCheck:
    """The BlurCheck of shares already measured (`kept_under_blur`): the images' `kept` [I]
    against the median of the photos' finite shares `photos_kept` [P] (NaN where none is
    finite, or without photos)."""
    theirs = np.asarray([] if photos_kept is None else photos_kept, np.float64)
    finite = theirs[np.isfinite(theirs)]
    return BlurCheck(float(sigma), kept, float(np.median(finite)) if len(finite) else math.nan)


def gaussian_blur(images: np.ndarray, sigma: float = BLUR_SIGMA) -> np.ndarray:
    """float32 [N, H, W, 3]: `images` (float [N, H, W, 3] in [0, 1], or uint8, read as /255)
    blurred by a Gaussian of standard deviation `sigma` px, a separable kernel of sum 1 reaching
    4 sigma each way, the image mirrored at its edges (the edge pixel repeated), so that a
    constant image stays as it is and every image keeps its mean."""
    images = _checked_images(images, "images")
    if not sigma > 0:
        raise ValueError(f"sigma is the blur's width in px, > 0; got {sigma}.")
    scale = 255.0 if images.dtype == np.uint8 else 1.0
    out = images.astype(np.float32) / np.float32(scale)
    taps = gaussian_taps((float(sigma),))[0]
    reach = len(taps) // 2
    for axis in (1, 2):
        pad = [(0, 0)] * 4
        pad[axis] = (reach, reach)
        padded = np.pad(out, pad, mode="symmetric")
        length = out.shape[axis]
        out = np.zeros_like(out)
        for k, weight in enumerate(taps):
            out += weight * np.take(padded, np.arange(k, k + length), axis=axis)
    return out


def kept_under_blur(
    model: Model | KerasModel,
    objective: Objective | str,
    images: np.ndarray,
    sigma: float = BLUR_SIGMA,
) -> np.ndarray:
    """float [N]: each image's objective value under `gaussian_blur(images, sigma)` over its
    value as it is; NaN where that value is not positive.

    Args:
      model: the network.
      objective: an Objective, or what `render_vis` takes in its place ("layer:channel", a
        function of T).
      images: float [N, H, W, 3] in [0, 1], or uint8.
      sigma: the blur's standard deviation, px at the images' size.
    """
    return kept_under(model, objective, images, lambda seen: gaussian_blur(seen, sigma))


def kept_under(
    model: Model | KerasModel,
    objective: Objective | str,
    images: np.ndarray,
    low_pass: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """float [N]: each image's objective value under `low_pass` (a function of float32
    [N, H, W, 3] in [0, 1] giving the same) over its value as it is; NaN where that value is
    not positive. `images` as `kept_under_blur` takes them."""
    model = as_model(model)
    images = _checked_images(images, "images")
    if not len(images):
        raise ValueError("images holds no image; give at least one, [N, H, W, 3].")
    scale = 255.0 if images.dtype == np.uint8 else 1.0
    seen = images.astype(np.float32) / np.float32(scale)
    goal = _resolved(model, objective, seen[:1])
    values = _values(model, goal, seen)
    blurred = _values(model, goal, np.asarray(low_pass(seen), np.float32))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(values > 0, blurred / np.where(values > 0, values, 1.0), np.nan)


def blur_check(
    model: Model | KerasModel,
    objective: Objective | str,
    images: np.ndarray,
    photos: np.ndarray | None = None,
    sigma: float = BLUR_SIGMA,
) -> BlurCheck:
    """Whether `images` keep as much of their objective under a mild blur as their `photos` do.

    Args:
      model: the network.
      objective: an Objective, or what `render_vis` takes in its place ("layer:channel", a
        function of T).
      images: float [I, H, W, 3] in [0, 1] (or uint8), e.g. `render_vis`'s or `maco`'s images.
      photos: the natural images they stand for, float [P, H', W', 3] in [0, 1] (or uint8), at
        the images' size for a fair comparison (the blur is `sigma` px at each one's own size);
        None: the images' shares alone.
      sigma: the blur's standard deviation, px.

    Returns:
      a BlurCheck: each image's share kept, and the photos' median share.
    """
    kept = kept_under_blur(model, objective, images, sigma)
    theirs = None
    if photos is not None:
        photos = _checked_images(photos, "photos")
        if not len(photos):
            raise ValueError("photos holds no image; give at least one, or None for no photos.")
        theirs = kept_under_blur(model, objective, photos, sigma)
    return from_shares(kept, theirs, sigma)


def _checked_images(images: np.ndarray, name: str) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(
            f"{name} are [N, H, W, 3] (RGB, a batch); got shape {images.shape}. Add a batch "
            "axis with images[None] to one image, or drop alpha with images[..., :3]."
        )
    return images


def _resolved(model: Model, objective: object, probe: np.ndarray) -> Objective:
    """`objective` as render_vis resolves it: a string or function of T made an Objective, the
    layers a function of T reads found on `probe` [1, H, W, 3], and checked in the model."""
    import tensorflow as tf

    from samplevis.models import INPUT
    from samplevis.optvis import objectives as objectives_lib
    from samplevis.optvis.evaluation import images_or_features

    goal = objectives_lib.image_objective(objective)
    if goal.layers & objectives_lib.ANY_LAYER:
        seen = tf.constant(probe)

        def read(name: str) -> tf.Tensor:
            return seen if name == INPUT else images_or_features(model, seen, name)

        goal = objectives_lib.with_layers(goal, read)
    model.check_layers(goal.layers)
    return goal


def _values(model: Model, objective: Objective, images: np.ndarray) -> np.ndarray:
    """float64 [N]: `objective` of each image (float32 [N, H, W, 3]), in batches of BATCH."""
    import tensorflow as tf

    from samplevis.optvis.evaluation import objective_values

    found = [
        np.asarray(objective_values(model, objective, tf.constant(images[i : i + BATCH])))
        for i in range(0, len(images), BATCH)
    ]
    return np.concatenate(found).astype(np.float64).reshape(-1)
