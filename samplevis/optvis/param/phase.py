"""Images that keep given photos' Fourier magnitude: only the phase moves.

MACO (Fel et al. 2023, ``param.maco``) fixes one natural-image spectrum for every image and
optimizes the phase, so that a visualization keeps the statistics of photographs. Here each
image keeps its own photo's magnitude, colour channel by colour channel, and its phase starts
at the photo's: the photo route climbs each cluster's photo this way, so that a facet keeps its
photos' colours and textures while where things are changes (docs/sampling_designs.md, "Facets
from photos").
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import numpy as np

from samplevis.optvis.param.base import ImageParam, State, normal_state
from samplevis.optvis.param.color import decorrelate_color, from_valid_rgb
from samplevis.optvis.param.maco import odd_on_paired_columns
from samplevis.runtime.checks import TensorLike, check_unit_range


def _spectrum(images01: TensorLike) -> TensorLike:
    """complex64 [B, 3, H, W // 2 + 1]: the rfft2 of each colour channel of the images in the
    decorrelated colour space before the sigmoid (what `PhaseImage.to_image` inverts)."""
    import tensorflow as tf

    t = from_valid_rgb(images01, decorrelate=True, sigmoid=True)
    return tf.signal.rfft2d(tf.transpose(t, (0, 3, 1, 2)))


@dataclasses.dataclass(frozen=True)
class PhaseImage(ImageParam):
    """Images [B, H, W, 3] in (0, 1) whose rfft2 magnitude, per image and colour channel in the
    decorrelated colour space, is fixed (``magnitude``, float32 [B, 3, H, W // 2 + 1]).

    State: the phase's change from the photos' (``phase``, same shape, radians). An image is the
    inverse FFT of ``magnitude * exp(i (phase + change))``, its colours correlated (ImageNet)
    and squashed by a sigmoid; a change of 0 gives the photos exactly. On the columns whose
    coefficients pair row k with row -k (frequency 0 across, and an even width's last) the
    change is made odd in k, as a real image's phase is, so that there too the magnitude is
    kept. Unlike ``MacoImage`` nothing is standardized, so a photo's brightness and contrast
    are kept.

    Attributes:
        batch: images.
        height: their height, px.
        width: their width, px.
        magnitude: float32 [B, 3, H, W // 2 + 1], in the decorrelated colour space.
        phase: the photos' phase, float32 [B, 3, H, W // 2 + 1], radians.
    """

    batch: int
    height: int
    width: int
    magnitude: Any = dataclasses.field(compare=False, repr=False)
    phase: Any = dataclasses.field(compare=False, repr=False)
    # the photos' digest: what makes two parameterizations equal (arrays have no hash)
    digest: str = dataclasses.field(init=False, default="")

    def __post_init__(self) -> None:
        expected = (self.batch, 3, self.height, self.width // 2 + 1)
        digest = hashlib.sha1()
        for name in ("magnitude", "phase"):
            array = np.array(getattr(self, name), np.float32)
            if array.shape != expected:
                raise ValueError(
                    f"the {name} of {self.batch} images of {self.height}x{self.width} px has "
                    f"shape {list(expected)}; got {list(array.shape)}. Make it with "
                    f"param.phase_image(images)."
                )
            array.setflags(write=False)
            object.__setattr__(self, name, array)
            digest.update(array.tobytes())
        object.__setattr__(self, "digest", digest.hexdigest())

    @property
    def state_shapes(self) -> tuple:
        return (tuple(self.magnitude.shape),)

    def init(self, seed: object) -> State:
        """A random change of phase, N(0, 1) radians (the photos themselves: ``state_for``)."""
        return normal_state(self.state_shapes, seed, 1.0)

    def to_image(self, state: State) -> TensorLike:
        import tensorflow as tf

        phase = tf.constant(self.phase) + odd_on_paired_columns(state[0], self.width)
        magnitude = tf.constant(self.magnitude)
        spectrum = tf.complex(magnitude * tf.cos(phase), magnitude * tf.sin(phase))
        t = tf.signal.irfft2d(spectrum, fft_length=[self.height, self.width])
        return tf.nn.sigmoid(decorrelate_color(tf.transpose(t, (0, 2, 3, 1))))

    def state_for(self, images01: TensorLike) -> State:
        """The change of phase from the photos' to that of `images01` [B, H, W, 3]: 0 for the
        photos themselves; other images keep their layout under the photos' magnitude."""
        import tensorflow as tf

        return (tf.math.angle(_spectrum(images01)) - self.phase,)


def phase_image(images01: TensorLike) -> PhaseImage:
    """A `PhaseImage` that keeps the magnitude of `images01`; its ``state_for(images01)`` starts
    at those images.

    Args:
        images01: float [B, H, W, 3] in [0, 1].

    Returns:
        The `PhaseImage`.
    """
    images = np.asarray(images01, np.float32)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"phase_image takes images [B, H, W, 3]; got shape {images.shape}.")
    check_unit_range(images)
    spectrum = np.asarray(_spectrum(images))
    return PhaseImage(
        len(images), images.shape[1], images.shape[2], np.abs(spectrum), np.angle(spectrum)
    )
