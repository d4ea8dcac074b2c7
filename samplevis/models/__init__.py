"""Models as optimization needs them: `model` (`Model`: a Keras model with its value range,
image shape, preprocessing and layer names), `geometry` (spatial sizes through the layer graph),
`folded_batch_norm` (batch normalization folded into convolutions) and `redirect` (Lucid's
redirected ReLU gradients)."""

from samplevis.models.model import (
    INPUT,
    LayerInfo,
    Model,
    ResizeWarning,
    UnknownLayerError,
    as_model,
    closest_names,
    larger_images_hint,
)

__all__ = [
    "INPUT",
    "LayerInfo",
    "Model",
    "ResizeWarning",
    "UnknownLayerError",
    "as_model",
    "closest_names",
    "larger_images_hint",
]
