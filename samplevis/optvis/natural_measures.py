"""Measures no climb optimizes: is an image made like its photos, or one photo under an overlay?

A climb can learn any transform it applies: one through blurs moves its overlay to coarser
scales and passes the blur measure (optvis.blur_check) while the image stays a photo under a
coloured overlay. These measures use nothing a climb applies (docs/trust.md, "Measures no climb
applies"), each beside the same figure of the photos the images stand for:

- **held-out low-pass** (`down_up`): the share of its objective value an image keeps at half
  its resolution (2x2 px blocks averaged, then resized back); it passes where it keeps at least
  KEEP_SHARE of its photos' median share.
- **colour** (`colourfulness`, Hasler and Suesstrunk's measure): it passes where it is at most
  COLOUR_SHARE times as colourful as its photos' median.
- **copy** (`nearest_correlations`): the correlation of its coarse picture (GRID x GRID cells)
  with that of its nearest photo, beside the photos' own with their nearest other photo. A copy
  scores about 1; an image is flagged as one where it is nearer 1 than the photos' median.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from samplevis.models import Model, as_model
from samplevis.optvis.blur_check import KEEP_SHARE, kept_under
from samplevis.runtime.checks import KerasModel

if TYPE_CHECKING:
    from samplevis.optvis.objectives import Objective

# The held-out low-pass halves the resolution: a climb's transforms resample by random factors
# near 1 at random offsets and blur, none averages fixed 2x2 blocks and drops half the pixels
LOW_PASS_FACTOR = 2
# An image passes the colour measure when it is at most this many times as colourful as its
# photos' median: a first bar, not yet set on many photos (docs/trust.md, "Measures no climb
# applies")
COLOUR_SHARE = 1.5
# Cells per side of the coarse picture the copy measure correlates: the layout and colours of a
# photo, none of an overlay's fine texture
GRID = 16


def down_up(images: np.ndarray, factor: int = LOW_PASS_FACTOR) -> np.ndarray:
    """float32 [N, H, W, 3] in [0, 1]: `images` (float [N, H, W, 3] in [0, 1], or uint8, read
    as /255) averaged over `factor` x `factor` px blocks (TensorFlow's area resize to the side
    over `factor`, rounded up) and resized back bilinearly: what a photo keeps at a lower
    resolution, the finer detail gone."""
    import tensorflow as tf

    images = _as_float(images)
    height, width = images.shape[1:3]
    small = tf.image.resize(
        images, (-(-height // factor), -(-width // factor)), method="area", antialias=True
    )
    back = tf.image.resize(small, (height, width), method="bilinear")
    return np.clip(back.numpy(), 0.0, 1.0).astype(np.float32)


def colourfulness(images: np.ndarray) -> np.ndarray:
    """float64 [N]: Hasler and Suesstrunk's colourfulness M of each image (float [N, H, W, 3]
    in [0, 1], or uint8), on 0-255 values: sigma_rgyb + 0.3 mu_rgyb of the opponent colours
    rg = R - G and yb = (R + G) / 2 - B ("Measuring colourfulness in natural images", 2003).
    A grey image scores 0; they call 33 "moderately" and 59 "quite" colourful."""
    rgb = _as_uint8(images).astype(np.float64)
    rg = rgb[..., 0] - rgb[..., 1]
    yb = 0.5 * (rgb[..., 0] + rgb[..., 1]) - rgb[..., 2]
    axes = (1, 2)
    spread = np.sqrt(rg.var(axis=axes) + yb.var(axis=axes))
    mean = np.sqrt(rg.mean(axis=axes) ** 2 + yb.mean(axis=axes) ** 2)
    return spread + 0.3 * mean


def coarse(images: np.ndarray, grid: int = GRID) -> np.ndarray:
    """float64 [N, grid * grid * 3]: each image (float [N, H, W, 3] in [0, 1], or uint8)
    averaged over `grid` x `grid` cells (Pillow's box filter), its mean taken away and scaled
    to unit length (zero for a flat image)."""
    from PIL import Image

    small = np.stack(
        [
            np.asarray(Image.fromarray(image).resize((grid, grid), Image.Resampling.BOX))
            for image in _as_uint8(images)
        ]
    ).astype(np.float64)
    flat = small.reshape(len(small), -1)
    flat -= flat.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(flat, axis=1, keepdims=True)
    return flat / np.where(norms > 0, norms, 1.0)


def nearest_correlations(
    images: np.ndarray, photos: np.ndarray, grid: int = GRID
) -> tuple[np.ndarray, float]:
    """Each image's correlation (Pearson, over the coarse pictures of `coarse`) with its nearest
    photo, float [N]; and the photos' median correlation with their nearest other photo (NaN
    with fewer than 2 photos). Both are float [N, H, W, 3] in [0, 1] (or uint8), any sizes."""
    mine, theirs = coarse(images, grid), coarse(photos, grid)
    nearest = (mine @ theirs.T).max(axis=1) if len(theirs) else np.full(len(mine), np.nan)
    if len(theirs) < 2:
        return nearest, math.nan
    among = theirs @ theirs.T
    np.fill_diagonal(among, -np.inf)
    return nearest, float(np.median(among.max(axis=1)))


@dataclasses.dataclass(frozen=True)
class NaturalCheck:
    """Measures no climb optimizes, of images against their photos. I = images.

    Attributes:
      low_pass_kept: float [I], each image's objective value under `down_up` over its value
        (NaN where its value is not positive).
      photos_low_pass_kept: the photos' median share (NaN where none is finite).
      colour: float [I], each image's colourfulness (`colourfulness`).
      photos_colour: the photos' median colourfulness.
      nearest: float [I], each image's coarse correlation with its nearest photo.
      photos_nearest: the photos' median coarse correlation with their nearest other photo (NaN
        with fewer than 2 photos).
    """

    low_pass_kept: np.ndarray
    photos_low_pass_kept: float
    colour: np.ndarray
    photos_colour: float
    nearest: np.ndarray
    photos_nearest: float

    @property
    def low_pass_passed(self) -> np.ndarray:
        """bool [I]: the images that keep at least KEEP_SHARE of their photos' share under the
        low-pass (False where either is NaN)."""
        with np.errstate(invalid="ignore"):
            kept = np.asarray(self.low_pass_kept, np.float64)
            return np.isfinite(kept) & (kept >= KEEP_SHARE * self.photos_low_pass_kept)

    @property
    def colour_passed(self) -> np.ndarray:
        """bool [I]: the images at most COLOUR_SHARE times as colourful as their photos' median
        (all of them where the photos are grey: nothing to compare)."""
        if not self.photos_colour > 0:
            return np.ones(len(self.colour), bool)
        return np.asarray(self.colour) <= COLOUR_SHARE * self.photos_colour

    @property
    def copy_bar(self) -> float:
        """The correlation above which an image is nearer a copy's 1.0 than its photos' own
        median: halfway between them (NaN without it)."""
        return 0.5 * (1.0 + self.photos_nearest)

    @property
    def copies(self) -> np.ndarray:
        """bool [I]: the images flagged as copies of a photo (none where `copy_bar` is NaN)."""
        with np.errstate(invalid="ignore"):  # rounding does not make a copy of a tie
            return np.asarray(self.nearest, np.float64) > self.copy_bar + 1e-9

    @property
    def passed(self) -> np.ndarray:
        """bool [I]: the images that pass all three: the low-pass, the colour, not a copy."""
        return self.low_pass_passed & self.colour_passed & ~self.copies

    def words(self, i: int = 0) -> str:
        """Image `i`'s figures beside its photos', e.g. "keeps 0.62 of its value at half
        resolution (its photos 0.95, fails); colourfulness 81 (its photos 34, fails); 0.97 like its
        nearest photo (the photos 0.46 like each other: a copy)"."""

        def verdict(ok: bool) -> str:
            return "" if ok else ", fails"

        kept = float(self.low_pass_kept[i])
        share = f"{kept:.2f}" if math.isfinite(kept) else "nothing measurable"
        nearest = float(self.nearest[i])
        copy = ": a copy" if self.copies[i] else ""
        theirs = (
            f" (the photos {self.photos_nearest:.2f} like each other{copy})"
            if math.isfinite(self.photos_nearest)
            else ""
        )
        return (
            f"keeps {share} of its value at half resolution (its photos "
            f"{self.photos_low_pass_kept:.2f}{verdict(bool(self.low_pass_passed[i]))}); "
            f"colourfulness {float(self.colour[i]):.0f} (its photos {self.photos_colour:.0f}"
            f"{verdict(bool(self.colour_passed[i]))}); {nearest:.2f} like its nearest photo"
            f"{theirs}"
        )


def natural_check(
    model: Model | KerasModel,
    objective: Objective | str,
    images: np.ndarray,
    photos: np.ndarray,
) -> NaturalCheck:
    """The measures no climb optimizes, of `images` against the `photos` they stand for.

    Args:
      model: the network.
      objective: an Objective, or what `render_vis` takes in its place ("layer:channel").
      images: float [I, H, W, 3] in [0, 1] (or uint8), e.g. `render_vis`'s images or a run's
        facets.
      photos: the natural images they stand for, float [P, H, W, 3] in [0, 1] (or uint8), at
        the images' size (the low-pass halves each one's own resolution).

    Returns:
      a NaturalCheck: each image's figures, and the photos' medians.
    """
    found = grouped_checks(model, objective, [images], photos, [list(range(len(photos)))])[0]
    if found is None:
        raise ValueError("photos holds no image; give at least one, [P, H, W, 3].")
    return found


def grouped_checks(
    model: Model | KerasModel,
    objective: Objective | str,
    groups: Sequence[np.ndarray],
    photos: np.ndarray,
    rows: Sequence[Sequence[int]],
) -> list[NaturalCheck | None]:
    """`natural_check` of each group of images (float [I_g, H, W, 3]) against its photos,
    `photos[rows[g]]`, measuring each image and each photo once; None for a group without
    photos."""
    model = as_model(model)
    wanted = sorted({i for r in rows for i in r})
    if not wanted or not groups:
        return [None] * len(groups)
    images = np.concatenate([np.asarray(g, np.float32) for g in groups])
    shown = np.asarray(photos)[wanted]
    kept = kept_under(model, objective, images, down_up)
    photos_kept = dict(zip(wanted, kept_under(model, objective, shown, down_up)))
    photos_colour = dict(zip(wanted, colourfulness(shown)))
    colour = colourfulness(images)
    out: list[NaturalCheck | None] = []
    first = 0
    for group, own in zip(groups, rows):
        mine = slice(first, first + len(group))
        first += len(group)
        if not len(own):
            out.append(None)
            continue
        theirs = np.array([photos_kept[i] for i in own])
        finite = theirs[np.isfinite(theirs)]
        nearest, photos_nearest = nearest_correlations(images[mine], np.asarray(photos)[list(own)])
        out.append(
            NaturalCheck(
                low_pass_kept=kept[mine],
                photos_low_pass_kept=float(np.median(finite)) if len(finite) else math.nan,
                colour=colour[mine],
                photos_colour=float(np.median([photos_colour[i] for i in own])),
                nearest=nearest,
                photos_nearest=photos_nearest,
            )
        )
    return out


def _as_float(images: np.ndarray) -> np.ndarray:
    images = _checked(np.asarray(images))
    if images.dtype == np.uint8:
        return images.astype(np.float32) / np.float32(255.0)
    return images.astype(np.float32)


def _checked(images: np.ndarray) -> np.ndarray:
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(
            f"images are [N, H, W, 3] (RGB, a batch); got shape {images.shape}. Add a batch "
            "axis with images[None] to one image, or drop alpha with images[..., :3]."
        )
    return images


def _as_uint8(images: np.ndarray) -> np.ndarray:
    images = _checked(np.asarray(images))
    if images.dtype == np.uint8:
        return images
    return np.round(np.clip(images, 0.0, 1.0) * 255.0).astype(np.uint8)
