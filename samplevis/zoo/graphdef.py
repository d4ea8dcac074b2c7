"""Frozen TF1 GraphDefs (Lucid model-zoo `.pb` files) as `samplevis.Model`s.

    model = zoo.from_graphdef("inception_v1.pb", input_name="input:0", image_shape=(224, 224, 3),
                              value_range=(-117, 138))   # Lucid's InceptionV1
    images = samplevis.render_vis(model, "mixed4a:476")

The graph is imported once into a wrapped TF1 function whose input is the preprocessed image batch;
for every set of tensors an objective reads, the function is pruned to exactly those tensors and
the pruned function cached. Pruned functions are differentiable and run inside `tf.function`, so
gradients flow through the imported graph to the images.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from samplevis.models import (
    LayerInfo,
    Model,
    Reading,
    UnknownLayerError,
    closest_names,
    larger_images_hint,
)
from samplevis.models.catalogue import extra_colon_hint
from samplevis.runtime.checks import KerasModel

if TYPE_CHECKING:
    import tensorflow as tf

# Op types whose outputs are listed as layers by default: what Lucid's model zoo addresses.
LAYER_OP_TYPES = frozenset(
    {
        "Conv2D",
        "DepthwiseConv2dNative",
        "BiasAdd",
        "MatMul",
        "Add",
        "AddV2",
        "Relu",
        "Relu6",
        "Elu",
        "Selu",
        "LeakyRelu",
        "Sigmoid",
        "Tanh",
        "Softmax",
        "Concat",
        "ConcatV2",
        "MaxPool",
        "AvgPool",
        "Mean",
    }
)
_SCOPE = "graph"  # name scope of the imported ops, so they never clash with the input placeholder
_REDIRECTED = {
    "Relu": ("SamplevisRedirectedRelu", None),
    "Relu6": ("SamplevisRedirectedRelu6", 6.0),
}


def from_graphdef(
    path: str | os.PathLike,
    input_name: str,
    image_shape: tuple,
    value_range: tuple[float, float],
    layer_names: Sequence[str] | None = None,
    output_name: str | None = None,
    preprocess: Callable | None = None,
    name: str | None = None,
) -> GraphDefModel:
    """A frozen TF1 graph as a `samplevis.Model` (Lucid model-zoo style).

    Args:
        path: a binary `.pb` GraphDef file (str or os.PathLike), or a `tf.compat.v1.GraphDef`.
        input_name: the image placeholder, e.g. "input" or "input:0"; it is fed float32 images
            [B, H, W, 3] in `value_range` (after `preprocess`).
        image_shape: (H, W, 3) the graph takes; images of other sizes are resized to it. H and W
            may be None for a fully convolutional graph.
        value_range: (lo, hi) the graph's pixel values, e.g. (-117, 138) for Lucid's InceptionV1.
        layer_names: tensors objectives may read, by op name ("mixed4a") or tensor name
            ("mixed4a:0"); default: the outputs of every op of a type in `LAYER_OP_TYPES` that
            depends on the input.
        output_name: the tensor `model(images)` returns; default the last of `layer_names`.
        preprocess: optional function applied after the value range (see `samplevis.Model`).
        name: a display name; default the file name without extension.
    """
    import tensorflow as tf

    if isinstance(path, tf.compat.v1.GraphDef):
        graph_def, default_name = path, "graphdef"
    else:
        path = os.fspath(path)
        if not tf.io.gfile.exists(path):
            raise FileNotFoundError(
                f"no GraphDef file {path!r}; pass the path of a frozen .pb file."
            )
        graph_def = tf.compat.v1.GraphDef()
        with tf.io.gfile.GFile(path, "rb") as f:
            data = f.read()
        try:
            graph_def.ParseFromString(data)
        except Exception:  # protobuf's DecodeError; its module differs between implementations
            raise ValueError(
                f"{path!r} is not a frozen GraphDef; pass a binary .pb file such as "
                "Lucid's model-zoo graphs."
            ) from None
        default_name = os.path.splitext(os.path.basename(path))[0]
    return GraphDefModel(
        graph_def,
        input_name,
        image_shape,
        value_range,
        layer_names=layer_names,
        output_name=output_name,
        preprocess=preprocess,
        name=name or default_name,
    )


def _check_image_shape(image_shape) -> tuple[int | None, int | None]:
    """(H, W) of an (H, W, 3) image shape whose H and W are positive ints or None."""
    shape = tuple(image_shape)
    if (
        len(shape) != 3
        or shape[2] != 3
        or any(s is not None and (not isinstance(s, (int, np.integer)) or s < 1) for s in shape[:2])
    ):
        raise ValueError(
            f"image_shape must be (H, W, 3) with positive H, W (or None for any size); got "
            f"{shape}. Lucid's InceptionV1 takes (224, 224, 3)."
        )
    height, width = (None if s is None else int(s) for s in shape[:2])
    return height, width


def _find_input(graph_def, input_name: str) -> tuple[str, int | None]:
    """(tensor name, dtype enum or None) of the input op; an error lists the placeholders."""
    nodes = {node.name: node for node in graph_def.node}
    op = _op_name(input_name)
    if op not in nodes:
        placeholders = [n.name for n in graph_def.node if n.op == "Placeholder"]
        candidates = placeholders or list(nodes)
        close = closest_names(op, candidates)
        close += [n for n in candidates if n not in close][: max(0, 5 - len(close))]
        kind = "Placeholders" if placeholders else "Ops (the graph has no placeholder)"
        raise ValueError(
            f"the graph has no input {input_name!r}. {kind}, closest first: "
            f"{', '.join(close) or 'none'}. Lucid's model-zoo graphs call it 'input'."
        )
    attrs = nodes[op].attr  # reading a missing key would add it: test membership first
    return _tensor_name(input_name), (attrs["dtype"].type if "dtype" in attrs else None)


def _downstream(start) -> set:
    """Every op that depends on an op in `start`, those included."""
    frontier, seen = list(start), set()
    while frontier:
        op = frontier.pop()
        if op not in seen:
            seen.add(op)
            frontier.extend(c for t in op.outputs for c in t.consumers())
    return seen


def _op_name(name: str) -> str:
    """ "mixed4a:0" and "mixed4a" → "mixed4a"; other outputs keep their index ("split:1")."""
    op, sep, index = name.rpartition(":")
    if sep and index.isdigit():
        return op if index == "0" else name
    return name


def _tensor_name(name: str) -> str:
    """ "mixed4a" → "mixed4a:0"; names with an output index are kept."""
    _, sep, index = name.rpartition(":")
    return name if sep and index.isdigit() else f"{name}:0"


class GraphDefModel(Model):
    """A `samplevis.Model` over a frozen TF1 GraphDef instead of a Keras model.

    Layers are the graph's tensors, named by op name ("mixed4a"; "mixed4a:0" is accepted too). See
    `from_graphdef` for the arguments. `model.graph_def` holds the graph.
    """

    def __init__(
        self,
        graph_def: Any,
        input_name: str,
        image_shape: tuple,
        value_range: tuple[float, float],
        layer_names: Sequence[str] | None = None,
        output_name: str | None = None,
        preprocess: Callable | None = None,
        name: str = "graphdef",
    ):
        # Model.__init__ wraps a keras.Model; only its input settings apply here.
        h, w = _check_image_shape(image_shape)
        self._set_input(value_range, preprocess, name, h, w)
        self.graph_def = graph_def
        self._image_shape = (h, w, 3)
        self._imports: dict[bool, object] = {}
        self.input_name, self._input_dtype = _find_input(graph_def, input_name)
        self._layer_names = (
            self._check_given(layer_names) if layer_names is not None else (self._default_layers())
        )
        if not self._layer_names:
            raise ValueError(
                f"no layers found: the graph has no op of the types {sorted(LAYER_OP_TYPES)} that "
                "depends on the input. Pass layer_names=[...] with the tensors to visualize."
            )
        self.output_name = _op_name(output_name) if output_name else self._layer_names[-1]
        self._tensor(self.output_name)  # fail now, not at the first call, if it does not exist

    def __repr__(self) -> str:
        return super().__repr__().replace("samplevis.Model(", "GraphDefModel(", 1)

    @property
    def keras_model(self) -> KerasModel:
        raise AttributeError(
            f"{self.name!r} is a frozen TF1 graph, not a Keras model; its graph is `.graph_def`."
        )

    # ----- names -----------------------------------------------------------------------------
    @property
    def layer_names(self) -> list[str]:
        """Op names of the addressable tensors, input to output."""
        return list(self._layer_names)

    _names_hint = (
        "List all names with `model.layer_names`, or pass layer_names=[...] to from_graphdef."
    )

    def reading(self, name: str) -> Reading:
        """The tensor `name` reads ("mixed4a:0" and "mixed4a" name the same); an
        UnknownLayerError naming the closest op names when the graph has none."""
        key = _op_name(name)
        if key not in self._layer_names:
            close = closest_names(key, self._layer_names)
            hint = f" Closest layer names: {', '.join(close)}." if close else ""
            hint += extra_colon_hint(key, set(self._layer_names))
            raise UnknownLayerError(
                f"model {self.name!r} has no layer {name!r}.{hint}", self._names_hint
            )
        return Reading(name, key, key)

    def token_grid(self, name: str) -> None:
        """None: a frozen graph's tensors are convolutional or dense."""
        return None

    def receptive_field(self, name: str, height: int, width: int) -> None:
        """None: a frozen graph's layers are not read for their windows."""
        return None

    def layers_info(self) -> list[LayerInfo]:
        """Name, op type, static output shape (without batch; None where unknown), channels."""
        rows = []
        for name in self._layer_names:
            tensor = self._tensor(name)
            shape = tuple(tensor.shape[1:]) if tensor.shape.rank else ()
            channels = shape[-1] if shape else None
            rows.append(LayerInfo(name, tensor.op.type, shape, channels))
        return rows

    def _check_given(self, names: Sequence[str]) -> list[str]:
        ops = [_op_name(n) for n in names]
        for op in ops:
            self._tensor(op)
        return list(dict.fromkeys(ops))

    def _default_layers(self) -> list[str]:
        """Ops of the layer types that depend on the input, in graph (topological) order."""
        wrapped = self._imported(False)
        prefix = f"{_SCOPE}/"
        dependent = _downstream(t.op for t in wrapped.inputs)
        return [
            op.name[len(prefix) :]
            for op in wrapped.graph.get_operations()
            if op.name.startswith(prefix) and op.type in LAYER_OP_TYPES and op in dependent
        ]

    def _tensor(self, name: str, redirect_relu: bool = False):
        graph = self._imported(redirect_relu).graph
        try:
            return graph.get_tensor_by_name(f"{_SCOPE}/{_tensor_name(name)}")
        except (KeyError, ValueError):
            prefix = f"{_SCOPE}/"
            ops = [
                op.name[len(prefix) :]
                for op in graph.get_operations()
                if op.name.startswith(prefix)
            ]
            close = closest_names(_op_name(name), ops)
            raise UnknownLayerError(
                f"graph {self.name!r} has no tensor {name!r}. Closest op names: "
                f"{', '.join(close) or 'none'}."
            ) from None

    # ----- the imported graph ------------------------------------------------------------------
    def _imported(self, redirect_relu: bool):
        """The graph imported into a wrapped function of the network input [B, H, W, 3]."""
        if redirect_relu not in self._imports:
            import tensorflow as tf

            if redirect_relu:
                _register_redirected_gradients()
            overrides = {op: grad for op, (grad, _) in _REDIRECTED.items()} if redirect_relu else {}

            def import_graph(x):
                if self._input_dtype is not None:
                    x = tf.cast(x, tf.dtypes.as_dtype(self._input_dtype))
                with tf.compat.v1.get_default_graph().gradient_override_map(overrides):
                    tf.compat.v1.import_graph_def(
                        self.graph_def, input_map={self.input_name: x}, name=_SCOPE
                    )

            spec = tf.TensorSpec([None, *self._image_shape], tf.float32, name="samplevis_images")
            self._imports[redirect_relu] = tf.compat.v1.wrap_function(import_graph, [spec])
        return self._imports[redirect_relu]

    def extractor(self, names: tuple[str, ...], redirect_relu: bool) -> Any:
        """The imported function pruned to the tensors `names`; built once per set."""
        key = (tuple(_tensor_name(n) for n in names), redirect_relu)
        if key not in self._extractors:
            wrapped = self._imported(redirect_relu)
            fetches = [self._tensor(n, redirect_relu) for n in names]
            self._extractors[key] = wrapped.prune(wrapped.inputs[0], fetches)
        return self._extractors[key]

    # ----- forward passes ----------------------------------------------------------------------
    def _layer_outputs(
        self, images, names: tuple[str, ...], redirect_relu: bool | tf.Tensor = False
    ) -> dict:
        """{name as given: tensor} for op names ("mixed4a") or tensor names ("mixed4a:0");
        `redirect_relu` gives the graph's Relu/Relu6 ops Lucid's redirected gradient."""
        x = self.to_input(images)
        if isinstance(redirect_relu, bool):
            outputs = self.extractor(names, redirect_relu)(x)
        else:
            import tensorflow as tf

            # The gradients are registered per op type when the graph is imported, so a run-time
            # choice is a choice between the two imports.
            outputs = tf.cond(
                redirect_relu,
                lambda: self.extractor(names, True)(x),
                lambda: self.extractor(names, False)(x),
            )
        return dict(zip(names, outputs))

    def _output(self, images):
        self._check_size(images, None)
        return self._layer_outputs(images, (self.output_name,))[self.output_name]

    def _too_small(self, names: tuple[str, ...] | None, height: int, width: int) -> str | None:
        """Why the graph's input of `height` x `width` px is too small for the tensors `names`
        (None: the output), from TensorFlow's shape inference of the ops on the way to them,
        which runs no kernel; None when it is large enough."""
        import tensorflow as tf

        targets = [_op_name(n) for n in names or (self.output_name,)]
        path = tf.compat.v1.graph_util.extract_sub_graph(self.graph_def, targets)
        with tf.Graph().as_default():
            x = tf.compat.v1.placeholder(tf.float32, [1, height, width, 3])
            if self._input_dtype is not None:
                x = tf.cast(x, tf.dtypes.as_dtype(self._input_dtype))
            try:
                tf.compat.v1.import_graph_def(path, input_map={self.input_name: x}, name=_SCOPE)
            except ValueError as err:  # the graph imported at any size: this size is the cause
                return (
                    f"TensorFlow's shape inference of its ops fails at that size "
                    f"({str(err).splitlines()[0]}). {larger_images_hint(None)}"
                )
        return None


def _register_redirected_gradients() -> None:
    """Register the redirected ReLU gradients under their names (once per process)."""
    import tensorflow as tf

    from samplevis.models.redirect import redirected_relu

    def make(max_value):
        def gradient(op, dy):
            x = op.inputs[0]
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = redirected_relu(x, max_value)
            return tape.gradient(y, x, output_gradients=dy)

        return gradient

    for grad_name, max_value in _REDIRECTED.values():
        try:
            tf.RegisterGradient(grad_name)(make(max_value))
        except KeyError:  # already registered by an earlier model
            pass
