"""Objectives of one unit or direction of a layer: neurons, DeepDream, directions, class logits.

Each reads one layer's activations [B, H, W, C] (or [B, C]) and gives one value per image; with
`batch=i` only image i counts. `channel`, which a "layer:channel" string names, is in `algebra`.
A vision transformer's token layer reads as its patch tokens on their grid [B, H, W, C] (see
`models.tokens`), so these take its patches as positions; `class_token` and `head` read what
only a transformer has.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from samplevis.models import tokens
from samplevis.optvis.objectives.algebra import (
    Objective,
    _channel_index,
    _channel_mean,
    _check_channel,
    _finite_array,
    _no_positions,
    _objective,
    _static,
)
from samplevis.runtime.checks import TensorLike, is_int


def _spatial_mean(x: tf.Tensor) -> tf.Tensor:
    return tf.reduce_mean(x, axis=list(range(1, len(x.shape)))) if len(x.shape) > 1 else x


def _position(acts: tf.Tensor, layer: str, x, y) -> tuple:
    """(y, x) of a neuron, defaulting to the centre; checked against the feature map size when
    known."""
    if len(acts.shape) != 4:
        raise ValueError(_no_positions(layer, tuple(acts.shape)))
    height, width = acts.shape[1], acts.shape[2]
    y = height // 2 if y is None else y
    x = width // 2 if x is None else x
    known_x, known_y = _static(x), _static(y)
    if (
        known_x is not None
        and known_y is not None
        and not (0 <= known_y < height and 0 <= known_x < width)
    ):
        raise ValueError(
            f"neuron position (x={known_x}, y={known_y}) is outside layer {layer!r}, whose feature "
            f"map is {width} wide and {height} high (valid: x in 0..{width - 1}, y in "
            f"0..{height - 1})."
        )
    return y, x


def _positions(x: int | None, y: int | None) -> tuple[tuple, tuple]:
    """(params, which are given) of an optional position: a centre default stays in the structure."""
    for name, value in (("x", x), ("y", y)):
        if value is not None and not is_int(value):
            raise TypeError(
                f"{name} is a position in the feature map, an int (or None for the "
                f"centre); got {value!r}."
            )
    given = (x is not None, y is not None)
    return tuple(np.int32(v) for v in (x, y) if v is not None), given


def _unpack_position(given: tuple[bool, bool], rest: tuple) -> tuple:
    values = iter(rest)
    return tuple(next(values) if g else None for g in given)


def neuron(
    layer: str, n_channel: int, x: int | None = None, y: int | None = None, batch: int | None = None
) -> Objective:
    """Activation of one unit of `layer` at spatial position (x, y); default: the centre.

    Args:
        layer: a layer name with positions, [B, H, W, C] (or a token layer's patch grid).
        n_channel: the channel's index, an int >= 0.
        x: the column, an int in [0, W); None: the centre.
        y: the row, an int in [0, H); None: the centre.
        batch: only image `batch` of the batch counts (the others get zero); None: every image.

    Returns:
        The objective: one value per image [B].

    Examples:
        >>> obj = neuron("block5c_add", 12, x=3, y=4)
    """
    n_channel = _channel_index(n_channel)
    position, given = _positions(x, y)

    def per_image(T, n, *rest):
        acts = T(layer)
        _check_channel(acts, layer, n)
        yy, xx = _position(acts, layer, *_unpack_position(given, rest))
        return acts[:, yy, xx, n]

    return _objective(
        f"neuron({layer!r}, {n_channel}, x={x}, y={y})",
        [layer],
        per_image,
        batch,
        (np.int32(n_channel), *position),
        (layer, given),
        rowwise=True,
    )


def deepdream(layer: str, *, batch: int | None = None) -> Objective:
    """Mean of the squared activations of `layer` (DeepDream's objective).

    Args:
        layer: a layer name of the model.
        batch: only image `batch` of the batch counts (the others get zero); None: every image.

    Returns:
        The objective: one value per image [B].

    Examples:
        >>> obj = deepdream("block4c_add")
    """
    return _objective(
        f"deepdream({layer!r})",
        [layer],
        lambda T: _spatial_mean(tf.square(T(layer))),
        batch,
        (),
        (layer,),
        rowwise=True,
    )


def _dot_cossim(acts: tf.Tensor, vec: tf.Tensor, cossim_pow: float) -> tf.Tensor:
    """dot(acts, vec) times max(0.1, cosine similarity)**cossim_pow (Lucid), along the last axis."""
    dot = tf.reduce_sum(acts * vec, axis=-1)
    if cossim_pow == 0:
        return dot
    eps = 1e-4  # Lucid's _dot_cossim epsilon
    cos = dot / (eps + tf.norm(acts, axis=-1)) / (eps + tf.norm(vec))
    return dot * tf.maximum(0.1, cos) ** cossim_pow


def _vector(vec, layer: str) -> np.ndarray:
    if not isinstance(layer, str):
        raise TypeError(
            f"direction takes the layer name first, then the vector; got {layer!r} as the layer."
        )
    vec = _finite_array("direction vector", vec)
    if vec.ndim != 1:
        raise ValueError(f"direction vector for {layer!r} must be 1-D [channels]; got {vec.shape}.")
    if not vec.any():
        raise ValueError(f"direction vector for {layer!r} is all zeros; it has no direction.")
    return vec


def _check_vector(acts: tf.Tensor, vec: tf.Tensor, layer: str) -> None:
    if acts.shape[-1] is not None and acts.shape[-1] != vec.shape[0]:
        raise ValueError(
            f"direction vector has {vec.shape[0]} entries but layer {layer!r} has "
            f"{acts.shape[-1]} channels; give one weight per channel."
        )


def direction(
    layer: str, vec: TensorLike, cossim_pow: float = 0, batch: int | None = None
) -> Objective:
    """Mean over positions of the dot product of the activations with `vec` [channels].

    Args:
        layer: a layer name of the model.
        vec: a direction in the layer's channel space, float [C].
        cossim_pow: above 0, the dot product is multiplied by max(0.1, cosine similarity) to this
            power, which favours the direction over sheer magnitude (Lucid's).
        batch: only image `batch` of the batch counts (the others get zero); None: every image.

    Returns:
        The objective: one value per image [B].

    Examples:
        >>> obj = direction("block5c_add", [1.0] * 112)
    """
    v = _vector(vec, layer)

    def per_image(T, v):
        acts = T(layer)
        _check_vector(acts, v, layer)
        return _spatial_mean(_dot_cossim(acts, v, cossim_pow))

    name = f"direction({layer!r}, vec[{v.size}], cossim_pow={cossim_pow})"
    return _objective(
        name, [layer], per_image, batch, (v,), (layer, v.shape, cossim_pow), rowwise=True
    )


def direction_neuron(
    layer: str,
    vec: TensorLike,
    x: int | None = None,
    y: int | None = None,
    cossim_pow: float = 0,
    batch: int | None = None,
) -> Objective:
    """dot(activations at (x, y), vec) × max(0.1, cosine similarity)**cossim_pow; default: centre.

    Args:
        layer: a layer name with positions, [B, H, W, C].
        vec: a direction in the layer's channel space, float [C].
        x: the column, an int in [0, W); None: the centre.
        y: the row, an int in [0, H); None: the centre.
        cossim_pow: the power of the cosine similarity (0: the dot product alone).
        batch: only image `batch` of the batch counts (the others get zero); None: every image.

    Returns:
        The objective: one value per image [B].

    Examples:
        >>> obj = direction_neuron("block5c_add", [1.0] * 112, cossim_pow=1)
    """
    v = _vector(vec, layer)
    position, given = _positions(x, y)

    def per_image(T, v, *rest):
        acts = T(layer)
        _check_vector(acts, v, layer)
        yy, xx = _position(acts, layer, *_unpack_position(given, rest))
        return _dot_cossim(acts[:, yy, xx, :], v, cossim_pow)

    name = f"direction_neuron({layer!r}, vec[{v.size}], x={x}, y={y}, cossim_pow={cossim_pow})"
    return _objective(
        name,
        [layer],
        per_image,
        batch,
        (v, *position),
        (layer, v.shape, given, cossim_pow),
        rowwise=True,
    )


def _is_label(name: str) -> bool:
    from samplevis.zoo.labels import label_index

    try:
        label_index(name)
    except ValueError:
        return False
    return True


def class_logit(layer: str, label: int | str, batch: int | None = None) -> Objective:
    """The pre-softmax score of one class of `layer` (e.g. "logits").

    Args:
        layer: the layer of class scores, [B, classes].
        label: a class index, or an ImageNet label such as "hen" (`zoo.imagenet_labels()`).
        batch: only image `batch` of the batch counts (the others get zero); None: every image.

    Returns:
        The objective: one value per image [B].

    Raises:
        TypeError: the layer is not given first (Lucid's order: layer, then label).
        ValueError: a label that is no ImageNet class name.

    Examples:
        >>> obj = class_logit("logits", "hen")
    """
    swapped = f" The layer comes first, as in Lucid: class_logit({label!r}, {layer!r})."
    if not isinstance(layer, str):
        raise TypeError(
            f"class_logit's first argument is the layer name; got {layer!r}."
            + (swapped if isinstance(label, str) else "")
        )
    if isinstance(label, str):
        from samplevis.zoo.labels import label_index

        try:
            index = label_index(label)
        except ValueError as err:
            raise ValueError(f"{err}{swapped if _is_label(layer) else ''}") from None
    elif is_int(label):
        index = int(label)
    else:
        raise TypeError(f"class_logit takes a class index or label name; got {label!r}.")

    note = (
        f" {label!r} is class {index} of ImageNet's 1000, which labels name; give this "
        "model's class index instead."
        if isinstance(label, str)
        else ""
    )

    def per_image(T, i):
        acts = T(layer)
        _check_channel(acts, layer, i, ("class", "classes"), note)
        return _channel_mean(acts, i)

    return _objective(
        f"class_logit({layer!r}, {index})",
        [layer],
        per_image,
        batch,
        (np.int32(index),),
        (layer,),
        rowwise=True,
    )


def class_token(layer: str, n_channel: int, batch: int | None = None) -> Objective:
    """Channel `n_channel` of the class token (the first token) of the token layer `layer`, which
    `channel` leaves out (it averages the patch tokens).

    Args:
        layer: a vision transformer's token layer, [B, tokens, C].
        n_channel: the channel's index, an int >= 0.
        batch: only image `batch` of the batch counts (the others get zero); None: every image.

    Returns:
        The objective: one value per image [B].

    Raises:
        TypeError: the layer name is not given first.

    Examples:
        >>> obj = class_token("vit_encoder_layer_11", 5)
    """
    if not isinstance(layer, str):
        raise TypeError(f"class_token takes the layer name first; got {layer!r}.")
    n_channel = _channel_index(n_channel)
    name = f"{layer}/{tokens.CLASS_TOKEN}"

    def per_image(T, n):
        acts = T(name)
        _check_channel(acts, layer, n)
        return tf.gather(acts, n, axis=-1)

    return _objective(
        f"class_token({layer!r}, {n_channel})",
        [name],
        per_image,
        batch,
        (np.int32(n_channel),),
        (layer,),
        rowwise=True,
    )


def head(
    layer: str, n_head: int, n_channel: int | None = None, batch: int | None = None
) -> Objective:
    """One attention head of the MultiHeadAttention layer `layer`, read as its output before
    the output projection mixes the heads: the mean over patch positions of the head's channel
    `n_channel`, or (None) of its squared output, the head's energy (its channels have no sign
    of their own).

    Args:
        layer: a MultiHeadAttention layer's name.
        n_head: the head's index, an int >= 0.
        n_channel: a channel of the head's output, an int >= 0; None: the head's energy.
        batch: only image `batch` of the batch counts (the others get zero); None: every image.

    Returns:
        The objective: one value per image [B].

    Raises:
        TypeError: the layer name is not given first.

    Examples:
        >>> obj = head("vit_encoder_layer_11_self_attention", 3)
    """
    if not isinstance(layer, str):
        raise TypeError(f"head takes the attention layer's name first; got {layer!r}.")
    n_head = _channel_index(n_head)
    channel = None if n_channel is None else _channel_index(n_channel)
    name = f"{layer}/{tokens.HEADS}"

    def per_image(T, h, *n):
        acts = T(name)  # [B, rows, cols, heads, dim] (or [B, N, heads, dim] without a grid)
        if len(acts.shape) not in (4, 5):
            raise ValueError(
                f"{name!r} gives shape {tuple(acts.shape)}; heads are [B, H, W, heads, dim]."
            )
        count, known = acts.shape[-2], _static(h)
        if count is not None and known is not None and not 0 <= known < count:
            raise ValueError(
                f"head {known} is out of range for layer {layer!r}, which has {count} heads "
                f"(valid: 0..{count - 1})."
            )
        one = tf.gather(acts, h, axis=-2)  # [B, ..., dim]
        if channel is None:
            return _spatial_mean(tf.square(one))
        _check_channel(one, f"{layer}/heads (head {known})", n[0])
        return _channel_mean(one, n[0])

    params = (np.int32(n_head),) + (() if channel is None else (np.int32(channel),))
    return _objective(
        f"head({layer!r}, {n_head}, n_channel={channel})",
        [name],
        per_image,
        batch,
        params,
        (layer, channel is None),
        rowwise=True,
    )
