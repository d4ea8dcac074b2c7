"""Layers inside layers: the blocks of a KerasHub transformer, the query and output projections
of an attention layer, a functional model used as a layer.

A Keras model's graph holds only its top-level layers; a KerasHub `ViTBackbone`, say, is three
(the input, the patch embedding and the whole encoder). The layers each of those calls are named
by their path, `"vit_encoder/transformer_block_1/mlp/dense_1"` (Keras forbids "/" in a layer's
name, so the path is unambiguous). Their outputs exist only while their parent runs, so they are
read by recording them as it runs (`recording`): each layer's `call` is wrapped for that call of
the model and put back after it, even when the call fails.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SEPARATOR = "/"
# What `recording` keeps of a layer's call: its output, or its first input (an attention layer's
# heads are the input of its output projection).
OUTPUT, INPUT = "output", "input"


def children(layer: Any) -> list:
    """The layers `layer` holds directly: a model's `layers`, any other layer's tracked
    sublayers (Keras keeps them in the order they were set)."""
    import keras

    if isinstance(layer, keras.Model):
        return [child for child in layer.layers if not isinstance(child, keras.layers.InputLayer)]
    return list(layer._flatten_layers(include_self=False, recursive=False))


def split(name: str) -> tuple[str, ...]:
    """The path of a layer name: its parts from the top-level layer down."""
    return tuple(name.split(SEPARATOR))


def find(top: Any, path: Sequence[str]) -> Any:
    """The layer at `path` below `top` (its first part is a child of `top`); None when there
    is none."""
    layer = top
    for part in path:
        layer = next((child for child in children(layer) if child.name == part), None)
        if layer is None:
            return None
    return layer


def descendants(top_level: Sequence[Any]) -> dict[int, tuple[Any, str]]:
    """{id(layer): (layer, its path)} of every layer below `top_level` (at any depth), depth
    first in the order each holds them; a layer reached by two paths keeps the first."""
    found: dict[int, tuple[Any, str]] = {}

    def walk(layer: Any, path: str) -> None:
        for child in children(layer):
            if id(child) not in found:
                found[id(child)] = (child, f"{path}{SEPARATOR}{child.name}")
                walk(child, found[id(child)][1])

    for layer in top_level:
        walk(layer, layer.name)
    return found


@contextlib.contextmanager
def recording(
    taps: Mapping[Any, tuple[Any, str]], seen: Callable[[Any, Any], None] | None = None
) -> Iterator[dict[Any, list]]:
    """Within the block, every call of a tapped layer appends to `found[key]` what it was asked
    to keep: `taps` is {key: (layer, OUTPUT or INPUT)}. `seen(key, value)`, if given, is called
    as each is kept. The layers' own `call` is put back on leaving, whatever happens. The
    layers are the model's own objects: two threads must not run one model's passes that read
    layers inside layers at once."""
    found: dict[Any, list] = {key: [] for key in taps}
    by_layer: dict[int, list] = {}
    for key, (layer, what) in taps.items():
        by_layer.setdefault(id(layer), [layer]).append((key, what))
    wrapped = []
    try:
        for layer, *wanted in by_layer.values():
            original = layer.call

            def call(*args, _original=original, _wanted=tuple(wanted), **kwargs):
                out = _original(*args, **kwargs)
                for key, what in _wanted:
                    value = out if what == OUTPUT else args[0]
                    found[key].append(value)
                    if seen is not None:
                        seen(key, value)
                return out

            # an attribute of the instance hides the class's method for this layer alone
            object.__setattr__(layer, "call", call)
            wrapped.append(layer)
        yield found
    finally:
        for layer in wrapped:
            object.__delattr__(layer, "call")


def as_inputs(keras_model: Any, x: Any) -> Any:
    """`x`, the model's one input, in the structure the model was built with (KerasHub's
    backbones take a dict {"images": x}; Keras warns when given the tensor alone)."""
    import keras

    return keras.tree.pack_sequence_as(keras_model.input, [x])


@dataclass(frozen=True)
class Call:
    """One layer as a forward pass meets it: its name (a path for a nested layer), the layer,
    the static shape of its output (batch included; None where unknown or not one tensor), how
    often it ran in one pass, and when its first call ended (children end before their
    parent)."""

    name: str
    layer: Any
    shape: tuple | None
    calls: int
    order: int


def traced_calls(keras_model: Any, input_shape: tuple) -> list[Call]:
    """Every layer of `keras_model` (top-level and nested) that runs in a forward pass of an
    image of `input_shape` ([H, W, C], None for any size), in the order their calls end, with
    the shapes their outputs really have (a layer's declared output shape can differ); from a
    trace, which computes nothing."""
    import keras
    import tensorflow as tf

    top = [layer for layer in keras_model.layers if not isinstance(layer, keras.layers.InputLayer)]
    every = {id(layer): (layer, layer.name) for layer in top}
    every.update((key, value) for key, value in descendants(top).items() if key not in every)
    taps = {name: (layer, OUTPUT) for layer, name in every.values()}
    shapes: dict[str, list] = {name: [] for name in taps}
    ended: list[str] = []

    def seen(name: str, value: Any) -> None:
        ended.append(name)
        shape: Any = getattr(value, "shape", None)
        rank = getattr(shape, "rank", None)
        shapes[name].append(tuple(shape.as_list()) if rank is not None else None)

    def model_call(x):
        with recording(taps, seen):
            keras_model(as_inputs(keras_model, x), training=False)
        return tf.constant(0)

    spec = tf.TensorSpec([1, *input_shape], tf.float32)
    tf.function(model_call, autograph=False).get_concrete_function(spec)
    first_end = {name: i for i, name in reversed(list(enumerate(ended)))}
    calls = [
        Call(name, layer, shapes[name][0], len(shapes[name]), first_end[name])
        for layer, name in every.values()
        if shapes[name]  # a layer off the way from the input to the outputs never runs
    ]
    return sorted(calls, key=lambda call: call.order)
