"""MACO's parameterization: only the Fourier phase moves, the magnitude is fixed.

Fel et al., "Unlocking Feature Visualization for Deeper Networks with MAgnitude Constrained
Optimization", NeurIPS 2023 (Xplique's ``maco``). The state is the phase of every colour channel's
2-D real FFT, in the decorrelated ImageNet colour space; the magnitude is a natural-image
spectrum (``param.natural_spectrum``), so the images keep the spectrum of photographs whatever
the optimizer does, and only where things are (the phase) is optimized.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import numpy as np

from samplevis.optvis.param.base import ImageParam, State, check_positive_int, normal_state
from samplevis.optvis.param.color import decorrelate_color
from samplevis.optvis.param.spectrum import check_spectrum, natural_spectrum, spectrum_shape
from samplevis.runtime.checks import TensorLike, is_number

# Xplique's init_maco_buffer draws the phase from N(0, 1)
DEFAULT_PHASE_SD = 1.0
# Xplique's maco_image_parametrization adds this to every standard deviation it divides by
_EPS = 1e-5


def _standardize(x, axes):
    import tensorflow as tf

    mean, variance = tf.nn.moments(x, axes=axes, keepdims=True)
    return (x - mean) / (tf.sqrt(variance) + _EPS)


def symmetric_columns(width: int) -> np.ndarray:
    """1 for the rfft2 columns whose coefficients pair row k with row -k (frequency 0 across, and
    the Nyquist column of an even width), else 0; float32 [width // 2 + 1]."""
    columns = np.zeros(width // 2 + 1, np.float32)
    columns[0] = 1.0
    if width % 2 == 0:
        columns[-1] = 1.0
    return columns


def odd_on_paired_columns(phase: TensorLike, width: int) -> TensorLike:
    """`phase` [B, 3, H, width // 2 + 1] with rows k and -k made opposite on the columns that
    pair them (`symmetric_columns`): a real image's coefficient at row -k is the conjugate of
    row k's there, so an odd phase (0 at the self-conjugate points) is what irfft2d keeps
    unchanged."""
    import tensorflow as tf

    height = int(phase.shape[2])
    mirrored = tf.gather(phase, (-np.arange(height)) % height, axis=2)
    return phase - symmetric_columns(width) * 0.5 * (phase + mirrored)


def _realizable(magnitude: np.ndarray, width: int) -> np.ndarray:
    """`magnitude` [3, H, W // 2 + 1] with rows k and -k averaged on the symmetric columns: a
    real image's magnitude is equal there, so only such a magnitude can be kept exactly."""
    height = magnitude.shape[1]
    mirrored = magnitude[:, (-np.arange(height)) % height, :]
    return magnitude + symmetric_columns(width) * 0.5 * (mirrored - magnitude)


@dataclasses.dataclass(frozen=True)
class MacoImage(ImageParam):
    """Images [B, H, W, 3] in (0, 1) whose spectrum has a fixed magnitude.

    State: the phase [B, 3, H, W // 2 + 1] (radians), initialized N(0, sd^2). Each image is
    made as Xplique's: its phase standardized (mean 0, std 1 over the image), the spectrum
    ``magnitude * exp(i phase)`` inverted (``spatial``), the result standardized, the colours
    decorrelated (ImageNet) and squashed by a sigmoid. The phases of the columns that must be
    conjugate-symmetric (frequency 0 across, and the Nyquist column for an even width) are made
    odd in the vertical frequency, and the magnitude even there (rows k and -k averaged), so
    the inverse FFT keeps ``magnitude`` exactly.

    Attributes:
        batch: images.
        height: their height, px.
        width: their width, px.
        magnitude: the fixed magnitude, float32 [3, H, W // 2 + 1].
        sd: the std of the initial phase, radians.
    """

    batch: int
    height: int
    width: int
    magnitude: Any = dataclasses.field(compare=False, repr=False)  # array-like, kept as float32
    sd: float = DEFAULT_PHASE_SD
    # the magnitude's digest: what makes two parameterizations equal (arrays have no hash)
    magnitude_digest: str = dataclasses.field(init=False, default="")

    def __post_init__(self) -> None:
        for name in ("batch", "height", "width"):
            object.__setattr__(self, name, check_positive_int(name, getattr(self, name)))
        magnitude = _realizable(check_spectrum(self.magnitude, self.height, self.width), self.width)
        magnitude.setflags(write=False)
        object.__setattr__(self, "magnitude", magnitude)
        object.__setattr__(self, "magnitude_digest", hashlib.sha1(magnitude.tobytes()).hexdigest())
        if not is_number(self.sd) or self.sd <= 0:
            raise ValueError(
                f"sd is the std of the initial phase (radians), a number > 0; got {self.sd!r}. "
                f"Xplique's is {DEFAULT_PHASE_SD}."
            )
        object.__setattr__(self, "sd", float(self.sd))

    @property
    def state_shapes(self) -> tuple:
        return ((self.batch, *spectrum_shape(self.height, self.width)),)

    def init(self, seed: object) -> State:
        return normal_state(self.state_shapes, seed, self.sd)

    def phase(self, state: State) -> TensorLike:
        """The phase the spectrum is made with, [B, 3, H, W // 2 + 1] (radians)."""
        return odd_on_paired_columns(_standardize(state[0], [1, 2, 3]), self.width)

    def spatial(self, state: State) -> TensorLike:
        """The inverse FFT of ``magnitude * exp(i phase)``, [B, H, W, 3], in the decorrelated
        colour space, before any rescaling: its rfft2d magnitude is ``magnitude``."""
        import tensorflow as tf

        phase = self.phase(state)
        magnitude = tf.constant(self.magnitude)
        spectrum = tf.complex(magnitude * tf.cos(phase), magnitude * tf.sin(phase))
        t = tf.signal.irfft2d(spectrum, fft_length=[self.height, self.width])
        return tf.transpose(t, (0, 2, 3, 1))

    def to_image(self, state: State) -> TensorLike:
        import tensorflow as tf

        t = _standardize(self.spatial(state), [1, 2, 3])
        return tf.nn.sigmoid(decorrelate_color(t))


def maco(
    w: int,
    h: int | None = None,
    batch: int | None = None,
    magnitude: object = None,
    sd: float = DEFAULT_PHASE_SD,
) -> MacoImage:
    """MACO images: ``batch`` images of ``h`` x ``w`` pixels whose phase alone is optimized.

    Optimize with a large rate, as MACO does: ``keras.optimizers.Nadam(1.0)``, and see the
    images through ``transform.maco_crops(...)``; ``samplevis.maco`` does both.

    Args:
        w: width in pixels; Xplique's are 512.
        h: height in pixels (default ``w``).
        batch: images, each with its own phase (default 1).
        magnitude: the fixed magnitude [3, h, w // 2 + 1] (see ``param.spectrum``); default the
            shipped photographs' spectrum, ``natural_spectrum(h, w)``.
        sd: std of the initial phase (radians).

    Returns:
        A ``MacoImage``.

    Examples:
        >>> p = maco(32, batch=2)
        >>> p.to_image(p.init(0)).shape
        TensorShape([2, 32, 32, 3])
    """
    w = check_positive_int("w", w)
    h = w if h is None else check_positive_int("h", h)
    batch = 1 if batch is None else check_positive_int("batch", batch)
    if magnitude is None:
        magnitude = natural_spectrum(h, w)
    return MacoImage(batch, h, w, magnitude, sd)
