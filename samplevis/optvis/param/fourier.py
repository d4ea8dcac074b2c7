"""Spectral (FFT) parameterization with Lucid's 1/f amplitude scaling.

The state ``z`` holds the real and imaginary parts of the 2-D real FFT
coefficients of every channel. The tensor is
``irfft2d(scale * z) / 4`` with ``scale = sqrt(w*h) / max(f, 1/max(w, h))**decay_power``
(``f`` in cycles per pixel), so a standard normal ``z`` is a Gaussian image
prior whose power spectrum falls as ``1/f**(2*decay_power)``, like natural
images for decay_power 1. Optimizing ``z`` is gradient ascent with a
natural-image preconditioner; sampling ``z ~ N(0, I)`` draws from that prior.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from samplevis.optvis.param.base import (
    State,
    TensorParam,
    check_positive_int,
    check_sd,
    normal_state,
)
from samplevis.optvis.param.pixel import DEFAULT_SD, _unpack_shape
from samplevis.runtime.checks import TensorLike, is_number

# Lucid's fft_image divides its output by this constant (lucid.optvis.param.spatial).
LUCID_FFT_DIVISOR = 4.0


def rfft2d_freqs(h: int, w: int) -> np.ndarray:
    """Frequency magnitudes (cycles/pixel) of the rfft2d coefficients, [h, wf].

    As Lucid: for odd ``w`` one extra column is kept (``wf = w//2 + 2``) and the
    image is later cropped by one pixel; otherwise ``wf = w//2 + 1``.

    Args:
        h: the image's height, px.
        w: its width, px.

    Returns:
        float [h, wf].

    Examples:
        >>> rfft2d_freqs(4, 4).shape
        (4, 3)
    """
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.fftfreq(w)[: w // 2 + (2 if w % 2 == 1 else 1)]
    return np.sqrt(fx * fx + fy * fy)


def spectrum_scale(h: int, w: int, decay_power: float) -> np.ndarray:
    """Lucid's amplitude scale [h, wf]: sqrt(w*h) / max(f, 1/max(w, h))**decay_power."""
    freqs = rfft2d_freqs(h, w)
    # The 1/max(w, h) floor keeps the DC term finite (Lucid, spatial.fft_image).
    scale = 1.0 / np.maximum(freqs, 1.0 / max(w, h)) ** decay_power
    return (scale * np.sqrt(w * h)).astype(np.float32)


@dataclasses.dataclass(frozen=True)
class FFTTensor(TensorParam):
    """A tensor [batch, height, width, channels] parameterized by its spectrum.

    State: one float32 tensor ``z`` [B, 2, C, H, Wf] (real and imaginary parts,
    ``Wf = len(rfft2d_freqs(H, W)[0])``), initialized N(0, sd^2). A standard
    normal ``z`` is the intended image prior (power ~ 1/f^(2*decay_power)).
    The imaginary parts of the self-conjugate coefficients (DC and Nyquist)
    do not affect the tensor.

    Attributes:
        batch: images.
        height: their height, px.
        width: their width, px.
        channels: channels.
        sd: the std of the initial spectrum.
        decay_power: the exponent of the 1/f amplitude scaling.
    """

    batch: int
    height: int
    width: int
    channels: int = 3
    sd: float = DEFAULT_SD
    decay_power: float = 1.0

    def __post_init__(self) -> None:
        for name in ("batch", "height", "width", "channels"):
            check_positive_int(name, getattr(self, name))
        check_sd(self.sd)
        object.__setattr__(self, "sd", float(self.sd))
        if not is_number(self.decay_power) or self.decay_power < 0:
            raise ValueError(
                f"decay_power must be a finite number >= 0, got {self.decay_power!r}; use 1.0 for "
                "a natural-image (1/f) spectrum."
            )
        object.__setattr__(self, "decay_power", float(self.decay_power))

    @property
    def freq_width(self) -> int:
        return self.width // 2 + (2 if self.width % 2 == 1 else 1)

    @property
    def padded_width(self) -> int:
        """Width of the inverse FFT before cropping to ``width`` (even)."""
        return 2 * (self.freq_width - 1)

    @property
    def state_shapes(self) -> tuple:
        return ((self.batch, 2, self.channels, self.height, self.freq_width),)

    def init(self, seed: object) -> State:
        return normal_state(self.state_shapes, seed, self.sd)

    def _scale(self):
        import tensorflow as tf

        return tf.constant(spectrum_scale(self.height, self.width, self.decay_power))

    def to_tensor(self, state: State) -> TensorLike:
        return self._tensor(state, None)

    def to_mixed_tensor(self, state: State, matrix: np.ndarray) -> TensorLike:
        return self._tensor(state, matrix)

    def _tensor(self, state: State, matrix: np.ndarray | None) -> TensorLike:
        import tensorflow as tf

        # One real product scales both parts, Lucid's divisor folded into the constant (a
        # power of two, so the values are the same as dividing the image): no complex product
        # and no pass over the image. unstack and a crop only when needed: strided-slice
        # gradients are costly on CPU.
        scale = spectrum_scale(self.height, self.width, self.decay_power) / LUCID_FFT_DIVISOR
        real, imag = tf.unstack(state[0] * tf.constant(scale), axis=1)
        t = tf.signal.irfft2d(tf.complex(real, imag), fft_length=[self.height, self.padded_width])
        if matrix is not None:
            # channels first, the mix is one product whose long side is the pixels; channels
            # last it is a product with 3 columns, several times slower on CPU
            # (docs/benchmarks.md, "Where the step's time goes")
            shape = tf.shape(t)
            flat = tf.reshape(t, tf.stack([shape[0], shape[1], -1]))
            t = tf.reshape(tf.matmul(tf.constant(matrix, tf.float32), flat), shape)
        t = tf.transpose(t, (0, 2, 3, 1))
        if self.padded_width != self.width:
            t = t[:, :, : self.width, :]
        return t

    def inverse(self, tensor: TensorLike) -> State:
        import tensorflow as tf

        t = tf.convert_to_tensor(tensor, tf.float32) * LUCID_FFT_DIVISOR
        extra = self.padded_width - self.width
        if extra:
            # Any value works for the cropped column; reflecting keeps it smooth.
            t = tf.concat([t, t[:, :, -extra - 1 : -1, :]], axis=2)
        spectrum = tf.signal.rfft2d(tf.transpose(t, (0, 3, 1, 2)))
        spectrum = spectrum / tf.cast(self._scale(), tf.complex64)
        return (tf.stack([tf.math.real(spectrum), tf.math.imag(spectrum)], axis=1),)


def fft_image(shape: Sequence[int], sd: float | None = None, decay_power: float = 1.0) -> FFTTensor:
    """Lucid's ``fft_image``: a spectral tensor of ``shape`` [B, H, W, C].

    Args:
        shape: [B, H, W, C].
        sd: the std of the initial spectrum (default 0.01, as Lucid).
        decay_power: the exponent of the 1/f amplitude scaling.

    Returns:
        An `FFTTensor`; `rgb` or `to_valid_rgb` make it an image parameterization.
    """
    batch, height, width, channels = _unpack_shape(shape)
    return FFTTensor(
        batch,
        height,
        width,
        channels,
        sd=DEFAULT_SD if sd is None else sd,
        decay_power=decay_power,
    )
