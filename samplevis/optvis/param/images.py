"""Lucid's default image: FFT spectrum + ImageNet colour decorrelation + sigmoid (+ alpha)."""

from __future__ import annotations

from samplevis.optvis.param.alpha import RGBAImage
from samplevis.optvis.param.base import check_positive_int
from samplevis.optvis.param.color import RGBImage
from samplevis.optvis.param.fourier import fft_image
from samplevis.optvis.param.pixel import pixel_image
from samplevis.runtime.checks import check_bool


def image(
    w: int,
    h: int | None = None,
    batch: int | None = None,
    sd: float | None = None,
    decorrelate: bool = True,
    fft: bool = True,
    alpha: bool = False,
    channels: int | None = None,
    *,
    sigmoid: bool = True,
    decay_power: float = 1.0,
) -> RGBImage | RGBAImage:
    """Lucid's ``param.image``: ``batch`` images of ``h`` x ``w`` pixels in [0, 1].

    Composes ``fft_image`` (or ``pixel_image`` if ``fft=False``) of shape [batch, h, w, 3] with
    ``to_valid_rgb(decorrelate, sigmoid)``. Positional arguments follow Lucid's order. With
    ``fft=True`` the state is the spectral coefficients ``z``; a standard normal ``z`` is the
    intended natural-image prior.

    Args:
        w: the images' width, px.
        h: their height, px (default ``w``).
        batch: how many images (default 1).
        sd: the std of the initial state (default 0.01).
        decorrelate: colours in the decorrelated ImageNet space.
        fft: a spectral state (False: pixels).
        alpha: Lucid's alpha channel: RGBA images [batch, h, w, 4] (an ``RGBAImage``), alpha
            the sigmoid of its own spectral (or pixel) tensor, the colours those the same seed
            gives without alpha; composite them before the network with
            ``transform.collapse_alpha_random()``.
        channels: None or 3 (with ``channels=3`` colours are not decorrelated, as Lucid, and
            there is no alpha).
        sigmoid: squash with a sigmoid (False: Lucid's clip); not Lucid's, keyword only.
        decay_power: the exponent of the 1/f amplitude scaling; not Lucid's, keyword only.

    Returns:
        An ``RGBImage`` (``RGBAImage`` with ``alpha``).

    Examples:
        >>> p = image(32, batch=2)
        >>> p == image(32, batch=2), p.to_image(p.init(0)).shape
        (True, TensorShape([2, 32, 32, 3]))
        >>> image(32, alpha=True).channels
        4
    """
    w = check_positive_int("w", w)
    h = w if h is None else check_positive_int("h", h)
    batch = 1 if batch is None else check_positive_int("batch", batch)
    fft = check_bool("fft", fft)
    alpha = check_bool("alpha", alpha)
    if alpha and channels is not None:
        raise ValueError(
            f"alpha=True with channels={channels!r}: Lucid's channels= image is a plain "
            "sigmoid of its channels and has no alpha; drop channels to get RGBA images."
        )
    if channels is not None:
        if channels != 3:
            raise ValueError(
                f"channels must be None or 3, got {channels!r}: the images are RGB; "
                "map other channel counts to RGB in your own objective or model."
            )
        decorrelate = False  # Lucid's channels= path is a plain sigmoid per channel
    shape = (batch, h, w, 3)
    tensor = fft_image(shape, sd=sd, decay_power=decay_power) if fft else pixel_image(shape, sd=sd)
    color = RGBImage(tensor, decorrelate, sigmoid)
    if not alpha:
        return color
    shape = (batch, h, w, 1)
    opacity = fft_image(shape, sd=sd, decay_power=decay_power) if fft else pixel_image(shape, sd=sd)
    return RGBAImage(color, opacity)
