"""The names a Keras model's activations are read by, and what each name reads.

A name is a top-level layer ("block5c_add"), a layer inside one by its path
("vit_encoder/transformer_block_1/mlp/dense_1", see `sublayers`), or a view of a token layer
(`tokens.VIEWS`: "LAYER/tokens", "LAYER/class_token", and "MHA/heads" of a MultiHeadAttention
layer). A model with layers inside its layers or with token layers is traced once per input
size to learn what runs and the shapes it really gives (`sublayers.traced_calls`); any other
model is read from its Keras graph alone, as before token layers existed.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from samplevis.models import sublayers, tokens
from samplevis.models.tokens import TokenGrid


@dataclass(frozen=True)
class LayerInfo:
    """One row of `Model.layers_info()`.

    Attributes:
        name: the layer's name, as objectives take it.
        kind: the layer's Keras class name ("Conv2D"), or "attention heads" for a
            MultiHeadAttention layer's heads.
        output_shape: its output's shape without the batch axis.
        channels: the size of its last axis, or None.
        tokens: the patch grid of a token layer (None for other layers).
        activation: the name of the nonlinearity a layer applies itself (a Dense or Conv2D's
            `activation="gelu"`), None for a linear one or none.
    """

    name: str
    kind: str
    output_shape: tuple
    channels: int | None
    tokens: TokenGrid | None = None
    activation: str | None = None


def fused_activation(layer: Any) -> str | None:
    """The name of the nonlinearity `layer` applies to its own output ("relu", "gelu"), None
    when it has none or a linear one (and for layers that are themselves an activation)."""
    function = getattr(layer, "activation", None)
    if not callable(function) or type(layer).__name__ in ("Activation", "ReLU", "Softmax"):
        return None
    name = getattr(function, "__name__", None)
    return None if name in (None, "linear") else name


def closest_names(name: str, names: Sequence[str], n: int = 5) -> list[str]:
    """The `n` names most similar to `name`, best first (for "did you mean" errors).

    Args:
        name: the name given.
        names: the names there are.
        n: how many to return at most.

    Returns:
        Up to `n` of `names`.

    Examples:
        >>> closest_names("block5c_ad", ["block5c_add", "block5b_add", "logits"], n=2)
        ['block5c_add', 'block5b_add']
    """
    close = difflib.get_close_matches(name, names, n=n, cutoff=0.4)
    if len(close) < n:
        close += [c for c in names if name.lower() in c.lower() and c not in close][
            : n - len(close)
        ]
    return close


class UnknownLayerError(ValueError):
    """A layer name the model does not have; the message lists the closest names.

    Args:
        problem: the message without `names_hint`.
        names_hint: the closing sentence on where to find every name, so that a caller with
            another way to list them (the command line) can say its own.
    """

    def __init__(self, problem: str, names_hint: str = ""):
        super().__init__(f"{problem} {names_hint}".strip())
        self.problem = problem
        self.names_hint = names_hint


def extra_colon_hint(name: str, known: set[str]) -> str:
    """Why 'layer:12:3' is not a layer: the objective string took '3' as the channel."""
    layer, sep, number = name.rpartition(":")
    if not (sep and layer in known and number.strip().isdigit()):
        return ""
    return (
        f" {layer!r} is a layer: an objective string is 'layer:channel' with one number; for "
        f"one position of a channel use objectives.neuron({layer!r}, {int(number)}, x, y)."
    )


@dataclass(frozen=True)
class Reading:
    """What a name reads.

    Attributes:
        name: the name as given.
        top: the top-level ancestor of `layer` (itself at the top level).
        layer: the layer whose output it reads (its path, or its name at the top level).
        view: None, or one of `tokens.VIEWS`: how a token layer's output is seen.
    """

    name: str
    top: str
    layer: str
    view: str | None = None

    @property
    def nested(self) -> bool:
        return self.layer != self.top


class Catalogue:
    """The readable names of a functional Keras model whose input is `input_shape` [H, W, C]
    (None where any size fits), patches `patch` (height, width) px or None."""

    def __init__(self, keras_model: Any, input_shape: tuple, patch: tuple[int, int] | None):
        import keras

        self.keras_model = keras_model
        self.input_shape = tuple(input_shape)
        self.patch = patch
        self.top = [
            layer for layer in keras_model.layers if not isinstance(layer, keras.layers.InputLayer)
        ]
        # whether a trace is needed: layers inside layers, or token layers
        self.traced = any(sublayers.children(layer) for layer in self.top) or any(
            _rank(layer) == 3 for layer in self.top
        )
        self._calls: dict[tuple, list[sublayers.Call]] = {}
        self._rows: dict[str, LayerInfo] | None = None  # by name, input to output

    # ----- what runs ---------------------------------------------------------------------------
    def calls(self, input_shape: tuple | None = None) -> list[sublayers.Call]:
        """The layers that run in a pass over one image of `input_shape` (default the model's),
        from a trace made once per shape."""
        shape = self.input_shape if input_shape is None else tuple(input_shape)
        if shape not in self._calls:
            self._calls[shape] = sublayers.traced_calls(self.keras_model, shape)
        return self._calls[shape]

    def rows(self) -> list[LayerInfo]:
        """Every readable layer, input to output: top-level ones, nested ones that run once per
        pass, and the heads of each MultiHeadAttention layer."""
        return list(self._by_name().values())

    def _by_name(self) -> dict[str, LayerInfo]:
        if self._rows is None:
            rows = self._traced_rows() if self.traced else self._graph_rows()
            self._rows = {row.name: row for row in rows}
        return self._rows

    def _graph_rows(self) -> list[LayerInfo]:
        rows = []
        for layer in self.top:
            output: Any = getattr(layer, "output", None)
            shape = tuple(output.shape[1:]) if hasattr(output, "shape") else ()
            kind, fused = type(layer).__name__, fused_activation(layer)
            rows.append(LayerInfo(layer.name, kind, shape, _channels(shape), activation=fused))
        return rows

    def _traced_rows(self) -> list[LayerInfo]:
        import keras

        size = self.input_shape[:2]
        rows = []
        top_names = {layer.name for layer in self.top}
        for call in self.calls():
            if call.calls > 1 and call.name not in top_names:
                continue  # which of its calls a name means is unclear: `reading` says so
            shape = call.shape[1:] if call.shape is not None else ()
            grid = tokens.grid_of(shape[0], size, self.patch) if len(shape) == 2 else None
            kind = type(call.layer).__name__
            rows.append(
                LayerInfo(
                    call.name, kind, shape, _channels(shape), grid, fused_activation(call.layer)
                )
            )
            if isinstance(call.layer, keras.layers.MultiHeadAttention) and len(shape) == 2:
                heads = (shape[0], call.layer.num_heads, call.layer.value_dim)
                name = f"{call.name}{sublayers.SEPARATOR}{tokens.HEADS}"
                rows.append(LayerInfo(name, "attention heads", heads, None, grid))
        return rows

    def names(self) -> list[str]:
        return list(self._by_name())

    def row(self, name: str) -> LayerInfo | None:
        return self._by_name().get(name)

    # ----- what a name reads -------------------------------------------------------------------
    def reading(self, name: str, names_hint: str = "", model: str = "") -> Reading:
        """What `name` reads; an UnknownLayerError naming the closest names (of `model`, its
        display name), or a ValueError saying why a view does not apply, when it reads
        nothing."""
        if sublayers.SEPARATOR not in name:
            if self.row(name) is None:
                raise self._unknown(name, names_hint, model)
            return Reading(name, name, name)
        base, _, last = name.rpartition(sublayers.SEPARATOR)
        top = name.split(sublayers.SEPARATOR)[0]
        if last == tokens.HEADS and self.row(name) is not None:
            return Reading(name, top, base, tokens.HEADS)
        if self.row(name) is not None:
            return Reading(name, top, name)
        if last in (tokens.TOKENS, tokens.CLASS_TOKEN) and self.row(base) is not None:
            self._check_view(base, last)
            return Reading(name, top, base, last)
        if last == tokens.HEADS and self.row(base) is not None:
            raise ValueError(
                f"layer {base!r} has no attention heads to read: {base}/heads is read of a "
                "MultiHeadAttention layer (`samplevis layers` lists each one's heads)."
            )
        repeated = (
            [c for c in self.calls() if c.name == name and c.calls > 1] if self.traced else []
        )
        if repeated:
            raise ValueError(
                f"layer {name!r} runs {repeated[0].calls} times in one pass of the model, so its "
                "output is not one thing to read; read the layer after it (`samplevis layers` "
                "lists them)."
            )
        raise self._unknown(name, names_hint, model)

    def _check_view(self, base: str, view: str) -> None:
        row = self.row(base)
        assert row is not None
        if len(row.output_shape) != 2:
            raise ValueError(
                f"layer {base!r} gives shape {row.output_shape}, not tokens [N, C]: {base}/{view} "
                "reads a token layer."
            )
        if view == tokens.CLASS_TOKEN and row.tokens is not None and row.tokens.prefix == 0:
            raise ValueError(
                f"layer {base!r} has no class token: its {row.output_shape[0]} tokens are the "
                f"{row.tokens.rows}x{row.tokens.cols} patches; a channel of the layer "
                f"(objectives.channel({base!r}, n), '{base}:n') reads their mean."
            )

    def _unknown(self, name: str, names_hint: str, model: str) -> UnknownLayerError:
        names = self.names()
        close = closest_names(name, names)
        hint = f" Closest layer names: {', '.join(close)}." if close else ""
        hint += extra_colon_hint(name, set(names))
        model = model or self.keras_model.name
        return UnknownLayerError(f"model {model!r} has no layer {name!r}.{hint}", names_hint)

    def grid(self, name: str, input_size: tuple[int, int]) -> TokenGrid | None:
        """The patch grid of the layer `name` reads when the network's input is `input_size`
        (H, W) px; None for a layer without one."""
        reading = self.reading(name)
        if reading.view in (tokens.TOKENS, tokens.CLASS_TOKEN) or not self.traced:
            return None
        shape = next(
            (
                c.shape
                for c in self.calls((*input_size, self.input_shape[2]))
                if c.name == reading.layer
            ),
            None,
        )
        if shape is None or len(shape) != 3:
            return None
        return tokens.grid_of(shape[1], input_size, self.patch)


def _rank(layer: Any) -> int | None:
    output: Any = getattr(layer, "output", None)
    return len(output.shape) if hasattr(output, "shape") else None


def _channels(shape: tuple) -> int | None:
    return shape[-1] if shape else None
