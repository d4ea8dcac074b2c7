"""Image parameterizations: immutable values mapping a batched state to images.

Every parameterization has ``init(seed) -> state`` (a tuple of tensors, batch
axis first), a pure ``to_image(state)`` giving float32 [B, H, W, 3] in [0, 1]
and ``build(seed) -> (variables, image_fn)``. ``image(w)`` is Lucid's default.
"""

from samplevis.param.base import ImageParam, TensorParam
from samplevis.param.color import (
    COLOR_CORRELATION_SVD_SQRT,
    COLOR_MEAN,
    RGBImage,
    constrain_l_inf,
    decorrelate_color,
    rgb,
    to_valid_rgb,
)
from samplevis.param.fourier import FFTTensor, fft_image, rfft2d_freqs
from samplevis.param.images import image
from samplevis.param.pixel import PixelTensor, pixel_image

__all__ = [
    "COLOR_CORRELATION_SVD_SQRT",
    "COLOR_MEAN",
    "FFTTensor",
    "ImageParam",
    "PixelTensor",
    "RGBImage",
    "TensorParam",
    "constrain_l_inf",
    "decorrelate_color",
    "fft_image",
    "image",
    "pixel_image",
    "rfft2d_freqs",
    "rgb",
    "to_valid_rgb",
]
