"""`Model`: a Keras image model plus what feature visualization needs.

A `Model` takes images as float arrays [B, H, W, 3] with values in [0, 1] and owns the mapping to
what the network expects: the linear map to `value_range`, an optional `preprocess` function and,
for networks with a fixed input size, a bilinear resize. Feature extractors for the layer sets that
objectives name are built once per model and cached. What a name reads (a layer, a layer inside
one, a vision transformer's token layer on its patch grid) is the `catalogue`'s.
"""

from __future__ import annotations

import collections
import contextlib
import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from samplevis.models import tokens
from samplevis.models.catalogue import (
    Catalogue,
    LayerInfo,
    Reading,
    UnknownLayerError,
    closest_names,
)
from samplevis.runtime.checks import (
    RESAMPLING_SLACK,
    KerasModel,
    TensorLike,
    check_images,
    check_unit_range,
)

if TYPE_CHECKING:
    import tensorflow as tf

    from samplevis.models.geometry import ReceptiveField
    from samplevis.models.tokens import TokenGrid

__all__ = [
    "INPUT",
    "LayerInfo",
    "Model",
    "Reading",
    "ResizeWarning",
    "UnknownLayerError",
    "as_model",
    "closest_names",
    "larger_images_hint",
]

INPUT = "input"  # the name objectives use for the parameterized image itself
"""The layer name objectives use for the parameterized image itself."""


class ResizeWarning(UserWarning):
    """Images whose size a fixed-input network changes in a way that misleads: it stretches them
    to another aspect, or shrinks them and loses their finer detail.

    Args:
        problem: the message.
        input_size: the network's (H, W), for callers that say the fix in their own terms.
    """

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
        patch_size: for a vision transformer, the side of its patches in px of the network's
            input (an int, or (height, width)): its token layers [B, N, C] then have positions,
            the patches on their grid after any class or register tokens. None finds it from
            the patch embedding, a convolution whose kernel is its stride.
    """

    def __init__(
        self,
        keras_model: KerasModel,
        value_range: tuple[float, float] = (0.0, 1.0),
        preprocess: Callable | None = None,
        name: str | None = None,
        patch_size: int | tuple[int, int] | None = None,
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
        given = tokens.as_patch_size(patch_size)
        self.patch_size = given or tokens.find_patch_size(keras_model.layers)
        # what each name reads, traced once for models with token layers or nested layers
        self._catalogue = Catalogue(keras_model, shape[1:], self.patch_size)

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
    patch_size: tuple[int, int] | None = None  # (height, width) px of a transformer's patches

    @property
    def layer_names(self) -> list[str]:
        """Names of the layers whose outputs objectives can read, input to output: the model's
        layers, and the layers inside them by their path ("encoder/block_1/mlp/dense_1"; those
        that run once per pass), and "MHA/heads" for each MultiHeadAttention layer."""
        return self._catalogue.names()

    # where to find every name, said after an unknown layer's closest names
    _names_hint = "List all names with `model.layer_names` or `samplevis layers`."

    def reading(self, name: str) -> Reading:
        """What `name` reads (a layer, a layer inside one, or a view of a token layer: see
        `models.tokens.VIEWS`); an UnknownLayerError naming the closest names, or a ValueError
        saying why, when it reads nothing."""
        return self._catalogue.reading(name, self._names_hint, self.name)

    def check_layers(self, names: Iterable[str]) -> None:
        """Raise `UnknownLayerError` naming the closest layers for every name the model lacks
        (or a ValueError for a view that does not apply, such as the class token of a layer
        without one)."""
        for name in names:
            if name != INPUT:
                self.reading(name)

    def layers_info(self) -> list[LayerInfo]:
        """Name, layer class, output shape (without batch), channel count and, for a token
        layer, patch grid of every layer `layer_names` holds."""
        return list(self._catalogue.rows())

    def feature_shape(self, name: str) -> tuple:
        """The shape (without batch) of what `features` gives for `name`: a token layer's
        patch tokens on their grid [rows, cols, C], its class token [C], any other layer its
        output (None where it depends on the images' size)."""
        reading = self.reading(name)
        rows = {r.name: r for r in self.layers_info()}
        row = rows.get(name) or rows[reading.layer]  # a heads row, or the layer's
        shape = tuple(row.output_shape)
        if reading.view == tokens.TOKENS:
            return shape
        if reading.view == tokens.CLASS_TOKEN:
            return shape[1:]
        if row.tokens is None:
            return shape
        return (row.tokens.rows, row.tokens.cols, *shape[1:])

    def reads_tokens(self, name: str) -> bool:
        """Whether `name` reads a token layer whose tokens are the patches on a grid (its
        patches, its class token, all its tokens, or an attention layer's heads)."""
        reading = self.reading(name)
        row = next((r for r in self.layers_info() if r.name == reading.layer), None)
        return row is not None and row.tokens is not None

    def token_grid(self, name: str) -> TokenGrid | None:
        """The patch grid of the token layer `name` reads at the network's input size (None for
        other layers, and for any size: a grid depends on it)."""
        if self.input_size is None:
            return None
        return self._catalogue.grid(name, self.input_size)

    def receptive_field(self, name: str, height: int, width: int) -> ReceptiveField | None:
        """Which input pixels each position of `name` sees when the network's input is `height`
        x `width` px: a token layer's patch its own box, a convolutional layer's from its
        windows (`geometry.receptive_field`); None where that cannot be told."""
        from samplevis.models import geometry

        reading = self.reading(name)
        grid = self._catalogue.grid(name, (height, width))
        if grid is not None:
            return grid.field
        if reading.nested or reading.view is not None:
            return None
        output = self.keras_model.get_layer(reading.top).output
        return geometry.receptive_field(self.keras_model.inputs, output, height, width)

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
            {layer name: tensor [B, ...]}: a token layer's patch tokens on their grid
            [B, rows, cols, C] (see `models.tokens`), any other layer's output as it is.
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
            self._check_size(images, tuple(dict.fromkeys(self.reading(n).top for n in layers)))
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
        compiled = self.extractor(names, redirected)
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

    def extractor(self, names: tuple[str, ...], redirect_relu: bool) -> Any:
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

            readings = [self.reading(n) for n in names]
            tops = list(dict.fromkeys(r.top for r in readings))
            # Built eagerly even when first asked for inside a tf.function being traced: cloning
            # copies weights, which needs their values.
            with tf.init_scope():
                # a layer giving several tensors makes the model run it by its first
                outputs = [
                    keras.tree.flatten(self.keras_model.get_layer(t).output)[0] for t in tops
                ]
                extractor = keras.Model(
                    self.keras_model.inputs, outputs, name=f"{self.name}_features"
                )
                # the layers read keep their own outputs; every other convolution takes in the
                # batch normalization after it, which computes the same in fewer passes
                extractor, _ = fold_batch_norms(extractor, keep=tops)
                # cloning the extractor, not the whole model, keeps its outputs on the clone
                if redirect_relu:
                    extractor, copies = with_redirected_relus(extractor)
                    self._redirect_copies += copies
            # an object, not a closure: TensorFlow counts the traces of all functions of one code
            # object together and would warn of retracing across extractors
            self._extractors[key] = tf.function(
                _Features(extractor, redirect_relu, readings, tops, self.patch_size),
                autograph=False,
                reduce_retracing=True,
            )
        return self._extractors[key]

    def refresh_redirected_weights(self) -> None:
        """Copy the network's current weights into the redirected-ReLU copies of its fused-ReLU
        layers, which compiled renders reuse: weights set after wrapping then count there too."""
        from samplevis.models.redirect import refresh_copies

        refresh_copies(self._redirect_copies)

    def _output(self, images):
        from samplevis.models.sublayers import as_inputs

        self._check_size(images, None)
        return self.keras_model(as_inputs(self.keras_model, self.to_input(images)), training=False)

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
    """The fix for images too small for a network: the smallest size that fits, if known.

    Args:
        smallest: the smallest (height, width) in px the network takes, or None if unknown.

    Returns:
        A sentence naming the size to use.
    """
    side = max(128, *smallest) if smallest else 128  # Lucid's default size, or larger
    least = f" of at least {smallest[0]}x{smallest[1]} px" if smallest else ""
    return (
        f"Give images{least}, e.g. param.image({side}) (with transforms, the size the "
        "network sees is the size after them)."
    )


def as_model(model: Model | KerasModel) -> Model:
    """A `Model` as it is; a plain keras.Model wrapped with value range (0, 1).

    Args:
        model: a `Model` or a functional `keras.Model`.

    Returns:
        The `Model`.
    """
    return model if isinstance(model, Model) else Model(model)


class _Features:
    """A Keras model's outputs as a function of its input x, and, for a model with redirected
    ReLUs, of a scalar bool tensor `on` switching the redirection (see `redirect.switched_by`).

    It gives what `readings` read: the outputs of the model's layers `tops` (its outputs, in
    that order), the outputs of layers inside them (recorded as they run: see `sublayers`), and
    token layers' patch tokens on their grid (`tokens.seen_as`). What no reading needs (the
    layers after a nested one, say) is pruned from the compiled program."""

    def __init__(
        self,
        keras_model: KerasModel,
        redirected: bool,
        readings: Sequence[Reading],
        tops: Sequence[str],
        patch: tuple[int, int] | None,
    ):
        from samplevis.models import sublayers

        self.keras_model = keras_model
        self.redirected = redirected
        self.readings = tuple(readings)
        self.tops = list(tops)
        self.patch = patch
        # the layers inside the model's layers that readings read, found in the model that runs
        # (the same objects as the original's: cloning shares layers without a ReLU)
        self.taps = {}
        for r in self.readings:
            if r.nested or r.view == tokens.HEADS:
                layer = sublayers.find(keras_model.get_layer(r.top), sublayers.split(r.layer)[1:])
                if r.view == tokens.HEADS:
                    self.taps[r.name] = (layer.output_dense, sublayers.INPUT)
                else:
                    self.taps[r.name] = (layer, sublayers.OUTPUT)

    def __call__(self, x, on=None) -> TensorLike:
        from samplevis.models import sublayers
        from samplevis.models.redirect import switched_by

        with switched_by(on) if self.redirected else contextlib.nullcontext():
            with sublayers.recording(self.taps) as found:
                outputs = self.keras_model(x, training=False)
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        size = tuple(x.shape[1:3])
        values = []
        for r in self.readings:
            if r.name in found:
                if len(found[r.name]) != 1:
                    raise ValueError(
                        f"layer {r.layer!r} ran {len(found[r.name])} times in one pass of the "
                        "model; read a layer that runs once (`samplevis layers` lists them)."
                    )
                value = found[r.name][0]
            else:
                value = outputs[self.tops.index(r.top)]
            values.append(tokens.seen_as(value, r.view, size, self.patch))
        return values
