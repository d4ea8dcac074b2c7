"""``CollapseAlpha``: RGBA images composited over random backgrounds, so the network sees RGB."""

from __future__ import annotations

import dataclasses

from samplevis.optvis.transform.contract import as_images
from samplevis.runtime.checks import TensorLike, is_number


@dataclasses.dataclass(frozen=True)
class CollapseAlpha:
    """RGBA images [B, H, W, 4] composited over random backgrounds: RGB [B, H, W, 3].

    Each image gets its own background each call, Lucid's ``image_sample``: a random spectrum of
    std ``sd`` with the 1/f scaling of ``param.image``, decorrelated colours, sigmoid. The network
    then sees what the alpha keeps against a background it cannot rely on; where alpha is 1 the
    output is exactly the image's colours.

    Attributes:
        sd: the std of the background's random spectrum.
    """

    sd: float = 0.5

    def __post_init__(self) -> None:
        if not is_number(self.sd) or self.sd < 0:
            raise ValueError(
                f"collapse_alpha_random's sd is the std of the random background's spectrum, "
                f"a number >= 0 (Lucid's default 0.5); got {self.sd!r}."
            )
        object.__setattr__(self, "sd", float(self.sd))

    def __call__(self, images: TensorLike, seed: TensorLike) -> TensorLike:
        from samplevis.optvis import param
        from samplevis.runtime.seeds import as_seed

        images = as_images(images)
        b, h, w, c = images.shape.as_list()
        if c != 4:
            raise ValueError(
                f"collapse_alpha_random composites RGBA images [B, H, W, 4]; these have {c} "
                "channels. Render RGBA images with param.image(w, alpha=True), or drop this "
                "transform for RGB images."
            )
        if None in (b, h, w):
            raise ValueError(
                f"collapse_alpha_random needs images of a static shape, got {images.shape}."
            )
        background = param.rgb(param.fft_image([b, h, w, 3], sd=self.sd), decorrelate=True)
        backdrop = background.to_image(background.init(as_seed(seed)))
        rgb, alpha = images[..., :3], images[..., 3:]
        return alpha * rgb + (1.0 - alpha) * backdrop

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        return height, width
