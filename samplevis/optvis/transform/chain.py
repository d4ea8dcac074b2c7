"""``Compose``: transforms in a chain, each with its own seed, and the size a chain gives.

A chain folds what it can into one resampling: zooms and rotations in a row are resampled
together, interpolating the images once, with the constant pads and the crops around them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from samplevis.optvis.transform.contract import as_images, as_transform
from samplevis.optvis.transform.resampling import resample
from samplevis.optvis.transform.spatial import Jitter, Pad, RandomRotate, RandomScale
from samplevis.runtime.checks import TensorLike


def _flush(images, before: list, stages: list, after: list):
    """`images` through the pads and crops `before` (pairs of transform and seed), the zooms and
    rotations `stages` and the crops `after`, in one resampling when there are stages."""
    if not stages:
        for t, s in before:
            images = t(images, s)
        return images
    size = tuple(images.shape[1:3])
    shifts = []
    for t, s in before:
        shifts.append(t.shift(s, *size))
        size = t.output_size(*size)
    crops = []
    for t, s in after:
        crops.append(t.shift(s, *size))
        size = t.output_size(*size)
    return resample(images, stages, shifts, crops)


@dataclasses.dataclass(frozen=True)
class Compose:
    """Apply ``transforms`` in order; each gets its own seed split from ``seed``.
    One-argument functions ``t(images)`` are wrapped by ``as_transform``.

    Attributes:
        transforms: the transforms, in order.
    """

    transforms: tuple

    def __post_init__(self) -> None:
        object.__setattr__(self, "transforms", tuple(as_transform(t) for t in self.transforms))

    @property
    def takes_progress(self) -> bool:
        """Whether a transform in the chain follows the run's progress (see ``MacoCrops``)."""
        return any(getattr(t, "takes_progress", False) for t in self.transforms)

    def __call__(
        self, images: TensorLike, seed: TensorLike, progress: TensorLike | None = None
    ) -> TensorLike:
        images = as_images(images)
        if not self.transforms:
            return images
        from samplevis.runtime.seeds import split

        seeds = split(seed, len(self.transforms))
        # Zooms and rotations in a row are resampled together, interpolating the images once,
        # and the constant pads and crops around them are folded into the same sparse product:
        # a resampling, a pad and a crop each have a fixed cost per step (with its gradient)
        # that a light network does not hide on a CPU (docs/benchmarks.md, "Where the step's
        # time goes"). The images are the same as applying the transforms one by one.
        before: list = []  # (transform, seed): pads and crops waiting for a zoom or rotation
        stages: list = []
        after: list = []  # (transform, seed): crops after the stages

        for t, s in zip(self.transforms, seeds):
            static = None not in images.shape[1:3]
            shift = static and (
                isinstance(t, Jitter) or isinstance(t, Pad) and t.mode == "CONSTANT"
            )
            if shift:
                if stages and not isinstance(t, Jitter):  # a pad after the stages starts anew
                    images = _flush(images, before, stages, after)
                    before, stages, after = [], [], []
                (after if stages else before).append((t, s))
            elif isinstance(t, (RandomScale, RandomRotate)):
                if after or (stages or before) and t.fill_mode != "CONSTANT":
                    images = _flush(images, before, stages, after)
                    before, stages, after = [], [], []
                stages.append(t.stage(s))
            else:
                images = _flush(images, before, stages, after)
                before, stages, after = [], [], []
                if progress is not None and getattr(t, "takes_progress", False):
                    images = t(images, s, progress=progress)
                else:
                    images = t(images, s)
        return _flush(images, before, stages, after)

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        return output_size(self.transforms, height, width)


def output_size(transforms: Sequence[Callable], height: int, width: int) -> tuple[int, int]:
    """Static (height, width) after a transform or a sequence of transforms.

    Args:
        transforms: a transform or a sequence of them.
        height: the images' height before them, px.
        width: their width, px.

    Returns:
        (height, width) after them.

    Examples:
        >>> output_size(standard_transforms, 128, 128)
        (140, 140)
    """
    chain = (transforms,) if callable(transforms) else tuple(transforms)
    for t in chain:
        if not hasattr(t, "output_size"):
            raise TypeError(
                f"{t!r} does not tell its output size; give it a method "
                "output_size(height, width) -> (height, width)."
            )
        height, width = t.output_size(height, width)
    return height, width
