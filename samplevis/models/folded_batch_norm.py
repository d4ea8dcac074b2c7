"""Batch normalization folded into the convolution before it, for inference.

At inference a BatchNormalization layer is a per-channel affine map, y = x * s + t with
s = gamma / sqrt(moving_variance + epsilon) and t = beta - moving_mean * s. After a convolution
it can be folded into the convolution's kernel (each output channel's filter times s) and bias,
which saves two passes over the activations forward and two backward: most of a network's layers
in EfficientNet, MobileNet and ResNet are such pairs (docs/benchmarks.md has the speed-up).

The folded layer reads the original layers' variables at each call (the fold costs a few
multiplications of weights), so it is never stale when the network's weights change later, and
it holds no copies.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import keras
import tensorflow as tf
from keras import ops

from samplevis.runtime.checks import KerasModel


def _foldable_convolution(layer: Any) -> bool:
    """A Conv2D or DepthwiseConv2D (not a subclass, which may compute something else) whose output,
    channels last, is the convolution plus bias with no activation after it."""
    return (
        type(layer) in (keras.layers.Conv2D, keras.layers.DepthwiseConv2D)
        and layer.data_format == "channels_last"
        and layer.activation in (None, keras.activations.linear)
        and layer.compute_dtype == "float32"
    )


def _inference_affine(layer: Any) -> bool:
    """A BatchNormalization on the last axis whose inference output is x * s + t."""
    return (
        type(layer) is keras.layers.BatchNormalization
        and layer.axis in (-1, len(layer.input.shape) - 1)
        and not getattr(layer, "renorm", False)
        and layer.compute_dtype == "float32"
    )


def _folded_pairs(keras_model: KerasModel, keep: Collection[str]) -> dict[str, Any]:
    """{convolution's name: the BatchNormalization it feeds} for each pair that folds: in this
    model's graph each layer is called once, the convolution's output goes to that layer alone
    and is not an output, and the convolution is not among `keep`."""
    # this graph's calls of its layers (a layer shared with other graphs has their calls too);
    # a model that does not keep them as Keras 3's functional models do is run as it is
    by_depth = getattr(keras_model, "_nodes_by_depth", {})
    nodes = [node for depth in by_depth.values() for node in depth]
    calls: dict[int, int] = {}
    readers: dict[int, int] = {}
    for node in nodes:
        calls[id(node.operation)] = calls.get(id(node.operation), 0) + 1
        for parent in node.parent_nodes:
            readers[id(parent)] = readers.get(id(parent), 0) + 1
    outputs = {id(t._keras_history.operation) for t in keras_model.outputs}
    pairs = {}
    for node in nodes:
        norm, parents = node.operation, node.parent_nodes
        # a norm built with training=True normalizes by the batch's statistics even at inference
        built_training = node.arguments.kwargs.get("training") is True
        if not _inference_affine(norm) or built_training or len(parents) != 1:
            continue
        conv = parents[0].operation
        if (
            _foldable_convolution(conv)
            and conv.name not in keep
            and id(conv) not in outputs
            and calls[id(conv)] == calls[id(norm)] == 1
            and readers[id(parents[0])] == 1
        ):
            pairs[conv.name] = norm
    return pairs


def fold_batch_norms(keras_model: KerasModel, keep: Collection[str] = ()) -> tuple[KerasModel, int]:
    """(a functional model computing what `keras_model` computes at inference, with each
    BatchNormalization that follows a convolution folded into it; how many were folded).

    Args:
        keras_model: a functional Keras model, called with `training=False`.
        keep: layer names whose outputs must stay as they are: a convolution named here keeps its
            BatchNormalization (the folded convolution's output is the normalized one).
    Returns:
        The model, sharing every layer and variable with `keras_model` (none is copied), and the
        number of pairs folded; `keras_model` itself, and 0, when there is none.
    """
    pairs = _folded_pairs(keras_model, set(keep))
    if not pairs:
        return keras_model, 0
    norms = {norm.name for norm in pairs.values()}

    def clone(layer):
        if layer.name in pairs:
            return FoldedConvolution(layer, pairs[layer.name], name=layer.name)
        if layer.name in norms:
            return _Passthrough(name=layer.name)
        return layer  # shared

    return keras.models.clone_model(keras_model, clone_function=clone), len(pairs)


class _Passthrough(keras.layers.Layer):
    """Where a folded BatchNormalization was: its name, its input unchanged."""

    def call(self, inputs, training=None, mask=None):
        return inputs


class FoldedConvolution(keras.layers.Layer):
    """A Conv2D or DepthwiseConv2D and the BatchNormalization after it, as one convolution whose
    kernel and bias are computed from both layers' variables at each call (inference only)."""

    def __init__(self, convolution: Any, norm: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.convolution = convolution
        self.norm = norm

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        conv, norm = self.convolution, self.norm
        scale = ops.rsqrt(norm.moving_variance + norm.epsilon)
        if norm.gamma is not None:
            scale = scale * norm.gamma
        shift = -norm.moving_mean * scale
        if conv.use_bias:
            shift = shift + conv.bias * scale
        if norm.beta is not None:
            shift = shift + norm.beta
        if isinstance(conv, keras.layers.DepthwiseConv2D):
            # kernel [h, w, in, multiplier]: output channel c * multiplier + m
            kernel = conv.kernel * ops.reshape(scale, (1, 1, -1, conv.depth_multiplier))
            outputs = ops.depthwise_conv(
                inputs,
                kernel,
                strides=conv.strides,
                padding=conv.padding,
                dilation_rate=conv.dilation_rate,
                data_format="channels_last",
            )
        else:
            outputs = conv.convolution_op(inputs, conv.kernel * scale)  # kernel [h, w, in, out]
        # BiasAdd, not Add: TensorFlow fuses a convolution with a BiasAdd and the ReLU after it
        return tf.nn.bias_add(outputs, shift)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return self.convolution.compute_output_shape(input_shape)
