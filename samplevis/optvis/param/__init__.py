"""Image parameterizations: immutable values mapping a batched state to images.

Every image parameterization has ``init(seed) -> state`` (a tuple of float32
tensors, batch axis first), a pure ``to_image(state)`` giving float32
[B, H, W, 3] in [0, 1] (4 channels with alpha), ``state_size`` (real scalars per image) and
``build(seed) -> (variables, image_fn)``. ``image(w)`` is Lucid's default:
spectral state, ImageNet colour decorrelation, sigmoid; ``image(w, alpha=True)``
gives RGBA images [B, H, W, 4] (``RGBAImage``: any RGB parameterization with a
one-channel tensor as its alpha).

Tensor parameterizations (``pixel_image``, ``fft_image``, ``lowres_tensor``,
``laplacian_pyramid``) give unconstrained tensors; ``rgb(tensor, decorrelate,
sigmoid)`` (or ``to_valid_rgb``, as in Lucid) turns one into images.

``maco(w)`` is MACO's (Fel et al. 2023, Xplique): only the Fourier phase is optimized, the
magnitude is fixed to a natural-image spectrum (``natural_spectrum``, ``folder_spectrum``);
``phase_image(images)`` keeps each given photo's own magnitude and starts at its phase.

Names shared with Lucid take Lucid's positional arguments in Lucid's order;
what samplevis adds (``height`` of ``cppn``, ``sigmoid`` and ``decay_power``
of ``image``) is keyword only.
"""

from samplevis.optvis.param.alpha import RGBAImage
from samplevis.optvis.param.base import ImageParam, TensorParam, as_image_param
from samplevis.optvis.param.color import (
    COLOR_CORRELATION_SVD_SQRT,
    COLOR_MEAN,
    RGBImage,
    constrain_l_inf,
    decorrelate_color,
    rgb,
    to_valid_rgb,
)
from samplevis.optvis.param.cppn import CPPNImage, cppn
from samplevis.optvis.param.fourier import FFTTensor, fft_image, rfft2d_freqs
from samplevis.optvis.param.from_image import InitializedImage, from_image, initialized
from samplevis.optvis.param.images import image
from samplevis.optvis.param.lowres import LowresTensor, lowres_tensor
from samplevis.optvis.param.maco import MacoImage, maco
from samplevis.optvis.param.phase import PhaseImage, phase_image
from samplevis.optvis.param.pixel import PixelTensor, pixel_image
from samplevis.optvis.param.pyramid import (
    LaplacianPyramid,
    laplacian_pyramid,
    laplacian_pyramid_image,
)
from samplevis.optvis.param.spectrum import (
    folder_spectrum,
    image_spectrum,
    natural_spectrum,
    resize_spectrum,
)

__all__ = [
    "COLOR_CORRELATION_SVD_SQRT",
    "COLOR_MEAN",
    "CPPNImage",
    "FFTTensor",
    "ImageParam",
    "as_image_param",
    "InitializedImage",
    "LaplacianPyramid",
    "LowresTensor",
    "MacoImage",
    "PhaseImage",
    "PixelTensor",
    "RGBAImage",
    "RGBImage",
    "TensorParam",
    "constrain_l_inf",
    "cppn",
    "decorrelate_color",
    "fft_image",
    "folder_spectrum",
    "from_image",
    "image",
    "image_spectrum",
    "initialized",
    "laplacian_pyramid",
    "laplacian_pyramid_image",
    "lowres_tensor",
    "maco",
    "natural_spectrum",
    "phase_image",
    "pixel_image",
    "resize_spectrum",
    "rfft2d_freqs",
    "rgb",
    "to_valid_rgb",
]
