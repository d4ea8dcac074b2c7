"""Models as optimization needs them: `model` (`Model`: a Keras model with its value range,
image shape, preprocessing and layer names), `catalogue` (the names a model's activations are
read by), `sublayers` (layers inside layers, read as they run), `tokens` (a vision transformer's
token layers on their patch grid), `geometry` (spatial sizes through the layer graph),
`folded_batch_norm` (batch normalization folded into convolutions) and `redirect` (Lucid's
redirected ReLU gradients)."""

from samplevis.models.model import (
    INPUT,
    LayerInfo,
    Model,
    Reading,
    ResizeWarning,
    UnknownLayerError,
    as_model,
    closest_names,
    larger_images_hint,
)
from samplevis.models.tokens import TokenGrid

__all__ = [
    "INPUT",
    "LayerInfo",
    "Model",
    "Reading",
    "ResizeWarning",
    "TokenGrid",
    "UnknownLayerError",
    "as_model",
    "closest_names",
    "larger_images_hint",
]
