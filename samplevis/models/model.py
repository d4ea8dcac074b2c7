"""`Model`: a Keras image model plus what feature visualization needs.

A `Model` takes images as float arrays [B, H, W, 3] with values in [0, 1] and owns the mapping to
what the network expects: the linear map to `value_range`, an optional `preprocess` function and,
for networks with a fixed input size, a bilinear resize. Feature extractors for the layer sets that
objectives name are built once per model and cached.
"""

from __future__ import annotations

import collections
import contextlib
import difflib
import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from samplevis.runtime.checks import (
    RESAMPLING_SLACK,
    KerasModel,
    TensorLike,
    check_images,
    check_unit_range,
)

if TYPE_CHECKING:
    import tensorflow as tf

INPUT = "input"  # the name objectives use for the parameterized image itself


@dataclass(frozen=True)
class LayerInfo:
    """One row of `Model.layers_info()`: output shape excludes the batch axis."""

    name: str
    kind: str
    output_shape: tuple
    channels: int | None


def closest_names(name: str, names: Sequence[str], n: int = 5) -> list[str]:
    """The `n` names most similar to `name`, best first (for "did you mean" errors)."""
    close = difflib.get_close_matches(name, names, n=n, cutoff=0.4)
    if len(close) < n:
        close += [c for c in names if name.lower() in c.lower() and c not in close][
            : n - len(close)
        ]
    return close


def _extra_colon_hint(name: str, known: set[str]) -> str:
    """Why 'layer:12:3' is not a layer: the objective string took '3' as the channel."""
    layer, sep, number = name.rpartition(":")
    if not (sep and layer in known and number.strip().isdigit()):
        return ""
    return (
        f" {layer!r} is a layer: an objective string is 'layer:channel' with one number; for "
        f"one position of a channel use objectives.neuron({layer!r}, {int(number)}, x, y)."
    )


class UnknownLayerError(ValueError):
    """A layer name the model does not have; the message lists the closest names.

    `problem` is the message without `names_hint`, the closing sentence on where to find every
    name, so that a caller with another way to list them (the command line) can say its own.
    """

    def __init__(self, problem: str, names_hint: str = ""):
        super().__init__(f"{problem} {names_hint}".strip())
        self.problem = problem
        self.names_hint = names_hint


class ResizeWarning(UserWarning):
    """Images whose size a fixed-input network changes in a way that misleads: it stretches them
    to another aspect, or shrinks them and loses their finer detail. `input_size` is the network's
    (H, W), for callers that say the fix in their own terms."""

    def __init__(self, problem: str, input_size: tuple[int, int]):
        height, width = input_size
        super().__init__(f"{problem} Render at that size: param.image({width}, {height}).")
        self.problem = problem
        self.input_size = input_size


class Model:
    """A functional Keras image model prepared for feature visualization.

    Args:
        keras_model: a functional `keras.Model` with one input of shape [B, H, W, 3] (H and W may be
            None for fully convolutional networks), or [B, H, W, 1] for a greyscale network, which
            sees the mean of the images' three colour channels.
        value_range: (lo, hi): images in [0, 1] are mapped linearly to [lo, hi] before `preprocess`.
        preprocess: optional function of a float32 tensor [B, H, W, 3] (greyscale: [B, H, W, 1]) in
            `value_range` returning the network input (for example mean/std normalization).
        name: a display name (defaults to the Keras model's name).
    """

    def __init__(
        self,
        keras_model: KerasModel,
        value_range: tuple[float, float] = (0.0, 1.0),
        preprocess: Callable | None = None,
        name: str | None = None,
    ):
        import keras

        if isinstance(keras_model, Model):
            raise TypeError(f"{keras_model!r} is a samplevis.Model already; pass it as it is.")
        if not isinstance(keras_model, keras.Model):
            raise TypeError(
                f"samplevis.Model wraps a keras.Model; got {type(keras_model).__name__}. "
                "Build or load your network with Keras first (functional API)."
            )
        try:
            inputs = keras_model.inputs
        except AttributeError:  # subclassed, or a Sequential not built yet
            inputs = None
        if not inputs or len(inputs) != 1:
            raise ValueError(
                f"samplevis.Model needs a functional (or built Sequential) Keras model with "
                f"exactly one image input; {keras_model.name!r} has {len(inputs or [])}. For a "
                "subclassed network, wrap it: x = keras.Input((H, W, 3)); "
                "keras.Model(x, network(x))."
            )
        shape = tuple(inputs[0].shape)
        if len(shape) != 4 or shape[-1] not in (1, 3):
            raise ValueError(
                f"the model input must have shape [B, H, W, 3], or [B, H, W, 1] for a greyscale "
                f"network; {keras_model.name!r} takes {shape}."
            )
        self.keras_model = keras_model
        self.greyscale = shape[-1] == 1
        self._set_input(value_range, preprocess, name or keras_model.name, shape[1], shape[2])

    def _set_input(
        self,
        value_range: tuple[float, float],
        preprocess: Callable | None,
        name: str,
        height: int | None,
        width: int | None,
    ) -> None:
        """Set what every model has besides its network: the input mapping, a name, the input
        size (None when any size works) and an empty extractor cache."""
        try:
            lo, hi = (float(v) for v in value_range)
        except (TypeError, ValueError):  # not a pair of numbers
            lo = hi = math.nan
        if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
            raise ValueError(
                f"value_range must be (lo, hi), finite numbers with hi > lo, e.g. "
                f"(-1, 1); got {value_range!r}."
            )
        if preprocess is not None and not callable(preprocess):
            raise TypeError(
                f"preprocess must be a function of the images in value_range; got "
                f"{type(preprocess).__name__}."
            )
        self.value_range = (lo, hi)
        self.preprocess = preprocess
        self.name = name
        self.input_size = (height, width) if height and width else None
        self._extractors: dict[tuple[tuple[str, ...], bool], Callable] = {}
        # (layer names or None for the outputs, H, W) -> why that size is too small, or None
        self._size_checks: dict[tuple, str | None] = {}
        # (layer, its copy with a redirected ReLU) pairs; see refresh_redirected_weights
        self._redirect_copies: list[tuple] = []
        # compiled programs kept for this model, most recently used last: `Renderer.cached`
        # keeps its Renderers here, so they go when the model goes
        self.renderers: collections.OrderedDict[Hashable, object] = collections.OrderedDict()

    greyscale = False  # whether the network takes one channel (the images' RGB mean)

    def __repr__(self) -> str:
        size = (
            "any size" if self.input_size is None else f"{self.input_size[0]}x{self.input_size[1]}"
        )
        size += ", greyscale" if self.greyscale else ""
        return f"samplevis.Model({self.name!r}, input {size}, value_range={self.value_range})"

    # ----- names -----------------------------------------------------------------------------
    @property
    def layer_names(self) -> list[str]:
        """Names of the layers whose outputs objectives can read, input to output."""
        import keras

        return [
            layer.name
            for layer in self.keras_model.layers
            if not isinstance(layer, keras.layers.InputLayer)
        ]

    # where to find every name, said after an unknown layer's closest names
    _names_hint = "List all names with `model.layer_names` or `samplevis layers`."

    def _layer_key(self, name: str) -> str:
        """The form of `name` that `layer_names` holds."""
        return name

    def check_layers(self, names: Iterable[str]) -> None:
        """Raise `UnknownLayerError` naming the closest layers for every name the model lacks."""
        known = set(self.layer_names)
        for name in names:
            key = self._layer_key(name)
            if name != INPUT and key not in known:
                close = closest_names(key, self.layer_names)
                hint = f" Closest layer names: {', '.join(close)}." if close else ""
                hint += _extra_colon_hint(key, known)
                raise UnknownLayerError(
                    f"model {self.name!r} has no layer {name!r}.{hint}", self._names_hint
                )

    def layers_info(self) -> list[LayerInfo]:
        """Name, layer class, output shape (without batch) and channel count of every layer."""
        rows = []
        for layer in self.keras_model.layers:
            shape = getattr(layer, "output", None)
            shape = tuple(shape.shape[1:]) if shape is not None and hasattr(shape, "shape") else ()
            if layer.name in self.layer_names:
                channels = shape[-1] if shape else None
                rows.append(LayerInfo(layer.name, type(layer).__name__, shape, channels))
        return rows

    def resize_warning(self, height: int, width: int) -> ResizeWarning | None:
        """What is lost when images of `height` x `width` px meet the network's fixed input: None
        when its input takes any size, this size, or a larger one of the same aspect (a bilinear
        upsample adds no artefact of its own)."""
        if self.input_size is None or (height, width) == self.input_size:
            return None
        net_h, net_w = self.input_size
        if abs(height * net_w - width * net_h) > 0.02 * width * net_h:  # aspects differ by > 2 %
            how = "stretched"
        elif height > net_h:
            how = "shrunk, losing their finer detail,"
        else:
            return None
        return ResizeWarning(
            f"images of {height}x{width} px are {how} to the {net_h}x{net_w} px "
            f"input of model {self.name!r}.",
            self.input_size,
        )

    # ----- forward passes ----------------------------------------------------------------------
    def to_input(self, images: TensorLike) -> TensorLike:
        """Map images in [0, 1] to the network's input: resize, grey (for a greyscale network),
        value range, preprocessing."""
        import tensorflow as tf

        images = tf.convert_to_tensor(images, tf.float32)
        check_images(images)
        if self.input_size is not None and tuple(images.shape[1:3]) != self.input_size:
            images = tf.image.resize(images, self.input_size, method="bilinear")
        if self.greyscale:
            images = tf.reduce_mean(images, axis=-1, keepdims=True)
        lo, hi = self.value_range
        x = images * (hi - lo) + lo
        return self.preprocess(x) if self.preprocess is not None else x

    def features(
        self,
        images: TensorLike,
        layer_names: Sequence[str] | str,
        redirect_relu: bool | tf.Tensor = False,
    ) -> dict:
        """Activations of `layer_names` for images in [0, 1], as tensors (differentiable).

        Args:
            images: float [B, H, W, 3] in [0, 1].
            layer_names: layers to read (or one name); checked against `layer_names`. "input"
                reads the images themselves, as objectives do.
            redirect_relu: use Lucid's redirected ReLU gradient, which lets an optimizer leave a
                start where a ReLU is dead everywhere (forward values are unchanged). Layers with
                a fused ReLU run on copies; `refresh_redirected_weights` (which `render_vis`
                calls) gives them weights set since. A scalar bool tensor chooses at run
                time, so one compiled program serves both.
        Returns:
            {layer name: tensor [B, ...]}.
        """
        if isinstance(layer_names, str):
            layer_names = (layer_names,)
        names = tuple(dict.fromkeys(layer_names))
        if not names:
            raise ValueError(
                f"no layer names given; name at least one, e.g. "
                f"{self.layer_names[-1]!r}. {self._names_hint}"
            )
        self.check_layers(names)
        layers = tuple(n for n in names if n != INPUT)
        if layers:
            self._check_size(images, layers)
        found = self._layer_outputs(images, layers, redirect_relu) if layers else {}
        if INPUT in names:
            import tensorflow as tf

            found[INPUT] = tf.convert_to_tensor(images, tf.float32)
            check_images(found[INPUT])
        return {name: found[name] for name in names}

    def _layer_outputs(
        self, images, names: tuple[str, ...], redirect_relu: bool | tf.Tensor
    ) -> dict:
        """{name: tensor} of checked layer names (not "input") for images in [0, 1]."""
        import tensorflow as tf

        x = self.to_input(images)
        redirected = not isinstance(redirect_relu, bool) or redirect_relu  # a switch, or True
        compiled = self._extractor(names, redirected)
        # An eager call runs the network as it is: compiling it for each new shape of a one-off
        # evaluation would cost more than it saves.
        features = compiled.python_function if tf.executing_eagerly() else compiled
        if redirected:
            outputs = features(x, tf.convert_to_tensor(redirect_relu, tf.bool))
        else:
            outputs = features(x)
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        return dict(zip(names, outputs))

    def _extractor(self, names: tuple[str, ...], redirect_relu: bool) -> Any:
        """A compiled function of network inputs [B, ...] (and, with `redirect_relu`, a scalar
        bool tensor switching the redirection on) giving the activations of `names`.

        Built once per layer set and traced once per input shape (after two shapes, once for any
        batch size): every program that reads these layers (each `Renderer`, the sampler) calls
        the same trace, and TensorFlow keeps its gradient, so a new program need not trace the
        network again.
        """
        key = (names, redirect_relu)
        if key not in self._extractors:
            import keras
            import tensorflow as tf

            from samplevis.models.folded_batch_norm import fold_batch_norms
            from samplevis.models.redirect import with_redirected_relus

            # Built eagerly even when first asked for inside a tf.function being traced: cloning
            # copies weights, which needs their values.
            with tf.init_scope():
                outputs = [self.keras_model.get_layer(n).output for n in names]
                extractor = keras.Model(
                    self.keras_model.inputs, outputs, name=f"{self.name}_features"
                )
                # the layers read keep their own outputs; every other convolution takes in the
                # batch normalization after it, which computes the same in fewer passes
                extractor, _ = fold_batch_norms(extractor, keep=names)
                # cloning the extractor, not the whole model, keeps its outputs on the clone
                if redirect_relu:
                    extractor, copies = with_redirected_relus(extractor)
                    self._redirect_copies += copies
            # an object, not a closure: TensorFlow counts the traces of all functions of one code
            # object together and would warn of retracing across extractors
            self._extractors[key] = tf.function(
                _Features(extractor, redirect_relu), autograph=False, reduce_retracing=True
            )
        return self._extractors[key]

    def refresh_redirected_weights(self) -> None:
        """Copy the network's current weights into the redirected-ReLU copies of its fused-ReLU
        layers, which compiled renders reuse: weights set after wrapping then count there too."""
        from samplevis.models.redirect import refresh_copies

        refresh_copies(self._redirect_copies)

    def _output(self, images):
        self._check_size(images, None)
        return self.keras_model(self.to_input(images), training=False)

    def _check_size(self, images, names: tuple[str, ...] | None) -> None:
        """Raise a ValueError naming the size to give when images of this size would leave a layer
        on the way to `names` (None: the outputs) without pixels. Decided by the layers' geometry
        before anything runs, for networks that take any size; a size unknown while tracing is not
        checked."""
        import tensorflow as tf

        if self.input_size is not None:  # resized to the size the network was built for
            return
        height, width = tuple(tf.convert_to_tensor(images).shape[1:3])
        if height is None or width is None:
            return
        key = (names, height, width)
        if key not in self._size_checks:
            self._size_checks[key] = self._too_small(names, height, width)
        if self._size_checks[key]:
            raise ValueError(
                f"images of {height}x{width} px are too small for model "
                f"{self.name!r}: {self._size_checks[key]}"
            )

    def _too_small(self, names: tuple[str, ...] | None, height: int, width: int) -> str | None:
        """Why the network's input of `height` x `width` px is too small for the layers `names`
        (None: the outputs), ending with the size to give; None when it is large enough."""
        from samplevis.models import geometry

        tensors = (
            self.keras_model.outputs
            if names is None
            else [self.keras_model.get_layer(n).output for n in names]
        )
        inputs = self.keras_model.inputs
        empty = geometry.first_empty_output(inputs, tensors, height, width)
        if empty is None:
            return None
        smallest = geometry.smallest_fitting(
            lambda h, w: geometry.first_empty_output(inputs, tensors, h, w) is None, height, width
        )
        return (
            f"layer {empty.layer!r} ({empty.window}) would output no pixels from the "
            f"{empty.received[0]}x{empty.received[1]} px it gets. " + larger_images_hint(smallest)
        )

    def __call__(self, images: TensorLike) -> TensorLike:
        """The network's final output for images float [B, H, W, 3] in [0, 1]: a numpy array, or
        for a model with several outputs a list (or dict) of them, as the Keras model returns."""
        import tensorflow as tf

        outputs = self._output(check_unit_range(images, RESAMPLING_SLACK))
        return tf.nest.map_structure(np.asarray, outputs)

    def activations(
        self, images: TensorLike, layer_names: Sequence[str] | str
    ) -> dict[str, np.ndarray]:
        """{layer name: numpy array [B, ...]} for images float [B, H, W, 3] in [0, 1]."""
        images = check_unit_range(images, RESAMPLING_SLACK)
        return {k: np.asarray(v) for k, v in self.features(images, layer_names).items()}


def larger_images_hint(smallest: tuple[int, int] | None) -> str:
    """The fix for images too small for a network: the smallest size that fits, if known."""
    side = max(128, *smallest) if smallest else 128  # Lucid's default size, or larger
    least = f" of at least {smallest[0]}x{smallest[1]} px" if smallest else ""
    return (
        f"Give images{least}, e.g. param.image({side}) (with transforms, the size the "
        "network sees is the size after them)."
    )


def as_model(model: Model | KerasModel) -> Model:
    """A `Model` as it is; a plain keras.Model wrapped with value range (0, 1)."""
    return model if isinstance(model, Model) else Model(model)


class _Features:
    """A Keras model's outputs as a function of its input x, and, for a model with redirected
    ReLUs, of a scalar bool tensor `on` switching the redirection (see `redirect.switched_by`)."""

    def __init__(self, keras_model: KerasModel, redirected: bool):
        self.keras_model = keras_model
        self.redirected = redirected

    def __call__(self, x, on=None) -> TensorLike:
        from samplevis.models.redirect import switched_by

        with switched_by(on) if self.redirected else contextlib.nullcontext():
            return self.keras_model(x, training=False)
