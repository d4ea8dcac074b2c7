"""KerasHub's image backbones as `samplevis.Model`s: vision transformers (ViT, DeiT, DINOv2 and
DINOv3, CLIP's and SigLIP's image towers) and KerasHub's CNNs.

    model = zoo.keras_hub("vit_base_patch16_224_imagenet")   # downloads the preset once
    model = zoo.from_keras_hub(keras_hub.models.ViTBackbone(...), converter)   # your own

A preset's image converter says how KerasHub feeds the backbone: pixel values in [0, 255] times
its `scale` plus its `offset` (per channel or for all), at its image size. The Model maps images
in [0, 1] to exactly that: `model.to_input(x)` equals `converter(255 * x)` for images of the
backbone's size. Needs the keras-hub extra: pip install 'samplevis[keras-hub]'.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from samplevis.models import Model
from samplevis.runtime.checks import TensorLike

INSTALL = "pip install 'samplevis[keras-hub]'"


def _keras_hub() -> Any:
    try:
        import keras_hub
    except ImportError:
        raise ImportError(f"KerasHub models need the keras-hub package: {INSTALL}.") from None
    return keras_hub


def keras_hub(preset: str, load_weights: bool = True) -> Model:
    """The image backbone of KerasHub preset `preset`, fed as the preset's image converter feeds
    it. For CLIP and SigLIP, whose presets hold an image and a text tower, the image tower.

    KerasHub downloads a preset's files on first use and keeps them in its cache.

    Args:
        preset: a built-in name such as "vit_base_patch16_224_imagenet", "dinov2_base" or
            "siglip_base_patch16_224", a "kaggle://" or "hf://" handle, or a local preset folder.
        load_weights: False builds the backbone with random weights (the layers to list need no
            weights).

    Returns:
        The model.

    Raises:
        ImportError: keras-hub is not installed (it names the extra).

    Examples:
        ```python
        model = zoo.keras_hub("dinov2_base")
        print([info.name for info in model.layers_info()][:5])
        ```
    """
    hub = _keras_hub()
    backbone = hub.models.Backbone.from_preset(preset, load_weights=load_weights)
    try:
        converter = hub.layers.ImageConverter.from_preset(preset)
    except (ValueError, FileNotFoundError, KeyError):  # a preset without an image converter
        converter = None
    return from_keras_hub(backbone, converter, name=Path(str(preset).rstrip("/")).name)


def from_keras_hub(backbone: Any, image_converter: Any = None, name: str | None = None) -> Model:
    """A `samplevis.Model` of a KerasHub image backbone (or of a backbone with an image tower,
    `vision_encoder`: CLIP's and SigLIP's), fed as `image_converter` feeds it: pixel values in
    [0, 255] times its scale plus its offset. The patch size of a transformer is found from its
    patch embedding.

    Args:
        backbone: a `keras_hub.models.Backbone` taking images.
        image_converter: a `keras_hub.layers.ImageConverter`; None: the backbone takes images
            in [0, 1].
        name: a display name; default the backbone's.

    Returns:
        The model.

    Raises:
        ImportError: keras-hub is not installed (it names the extra).

    Examples:
        ```python
        import keras_hub
        backbone = keras_hub.models.Backbone.from_preset("dinov2_small", load_weights=False)
        model = zoo.from_keras_hub(backbone)
        ```
    """
    tower = getattr(backbone, "vision_encoder", None) or backbone
    if image_converter is None:
        return Model(tower, name=name or tower.name)
    scale, offset = image_converter.scale, image_converter.offset
    return Model(
        tower,
        value_range=(0.0, 255.0),
        preprocess=Rescaling(_constant(scale, 1.0), _constant(offset, 0.0)),
        name=name or tower.name,
    )


def _constant(value: Any, default: float) -> tuple[float, ...]:
    """A converter's scale or offset (None, a number or one per channel) as a tuple of floats."""
    if value is None:
        return (default,)
    if isinstance(value, (int, float)):
        return (float(value),)
    return tuple(float(v) for v in value)


class Rescaling:
    """x * scale + offset for images [B, H, W, C] in [0, 255], `scale` and `offset` one number or
    one per channel (an ImageConverter's)."""

    def __init__(self, scale: tuple[float, ...], offset: tuple[float, ...]):
        self.scale = scale
        self.offset = offset

    def __call__(self, x: TensorLike) -> TensorLike:
        import tensorflow as tf

        return x * tf.constant(self.scale, x.dtype) + tf.constant(self.offset, x.dtype)

    def __repr__(self) -> str:
        return f"Rescaling(scale={self.scale}, offset={self.offset})"
