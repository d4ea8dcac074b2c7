"""Objectives: what an image should make the network do, as composable values.

An objective is called with a feature lookup `T` (`T(layer_name)` is that layer's activations,
`T("input")` the parameterized image in [0, 1] before transforms) and returns one value per image,
shape [B]. `render_vis` maximizes their sum; sampling uses each chain's value. Objectives combine
with `+ - * /`, negation, numbers and `sum(...)`; every operation returns a new objective.

The numbers an objective is built from (channel indices, positions, weights, direction vectors) are
its `params`, kept apart from the function: a compiled `Renderer` reads them from variables, so
another objective of the same `structure` (say, the next channel of the layer) reuses the program.

Penalties (`L1`, `L2`, `total_variation`, `blur_input_each_step`) are positive, as in Lucid: subtract
them, e.g. `channel("block5c_add", 3) - 1e-3 * L1()`. For RGBA images (`param.image(w, alpha=True)`),
`T("input")` holds the alpha as a fourth channel, and `penalize_alpha` and `blur_alpha_each_step`
read it.
"""

from __future__ import annotations

import dataclasses
import inspect
import numbers
import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from samplevis.models import INPUT
from samplevis.runtime.checks import TensorLike, check_unit_range, is_int, is_number

FeatureLookup = Callable[[str], tf.Tensor]
Params = tuple  # one tensor per entry of an objective's `params`


@dataclass(frozen=True, eq=False)
class Objective:
    """A function of the features returning one value per image (shape [B]).

    Build your own as `Objective(fn, frozenset({"layer", ...}))` with `fn(T) -> [B]`. The library's
    objectives also carry `params`, the numbers they are built from, and pass them to `fn` as
    tensors: `fn(T, params)` (a `structure` given, any hashable naming what `fn` computes apart
    from its params, says that `fn` takes them). Two objectives with equal `structure` compute the
    same function of different params. Objectives are values: equal only to themselves.
    """

    fn: Callable
    layers: frozenset = field(default_factory=frozenset)
    name: str = ""
    params: tuple = ()  # numpy values; `fn` takes them as tensors when non-empty
    structure: Hashable = None  # None: this objective's own function (user-built)

    def __post_init__(self):
        bad = sorted(repr(layer) for layer in self.layers if not isinstance(layer, str))
        if bad:
            raise TypeError(f"layer names are strings, e.g. 'block5c_add'; got {', '.join(bad)}.")
        if not self.name:
            object.__setattr__(self, "name", f"objective_{id(self.fn):x}")
        if self.structure is None:
            object.__setattr__(self, "structure", ("function", id(self.fn), self.layers))
        object.__setattr__(self, "params", tuple(np.asarray(p) for p in self.params))

    # how many objectives this one adds up (+ and -, scaled by numbers or not); a number counts none
    _terms = 1

    def __call__(self, T: FeatureLookup, params: Params | None = None) -> tf.Tensor:
        """Values [B]; `params` (tensors matching `self.params`) default to `self.params`."""
        if not self.params:
            return self.fn(T, ()) if self._parametric else self.fn(T)
        if params is None:
            params = tuple(tf.constant(p) for p in self.params)
        return self.fn(T, tuple(params))

    @property
    def _parametric(self) -> bool:
        # the library's functions take (T, params) even without params, so that sums of them can
        # pass their terms' shares on uniformly; a user's takes T alone
        return isinstance(self.structure, tuple) and self.structure[:1] != ("function",)

    def label(self, width: int = 50) -> str:
        """A name of at most `width` characters for progress bars: the name, or for a longer sum
        the count of what it adds up ("8 objectives"), else the name's start."""
        if len(self.name) <= width:
            return self.name
        if self._terms > 1:
            return f"{self._terms} objectives"
        return self.name[: width - 1] + "…"

    def __repr__(self) -> str:
        return self.name

    def _combine(self, other, op: Callable, symbol: str, reverse: bool = False) -> Objective:
        other = as_objective(other)
        a, b = (other, self) if reverse else (self, other)
        split = len(a.params)

        def fn(T, params):
            return op(a(T, params[:split]), b(T, params[split:]))

        combined = Objective(
            fn,
            a.layers | b.layers,
            f"({a.name} {symbol} {b.name})",
            a.params + b.params,
            (symbol, a.structure, b.structure),
        )
        if symbol in "+-":
            terms = a._terms + b._terms
        elif b._terms == 0 or (a._terms == 0 and symbol == "*"):  # scaled by a number
            terms = a._terms + b._terms
        else:
            terms = 1
        object.__setattr__(combined, "_terms", terms)
        return combined

    def __add__(self, other):
        return self._combine(other, tf.add, "+")

    def __radd__(self, other):
        return self._combine(other, tf.add, "+", reverse=True)

    def __sub__(self, other):
        return self._combine(other, tf.subtract, "-")

    def __rsub__(self, other):
        return self._combine(other, tf.subtract, "-", reverse=True)

    def __mul__(self, other):
        return self._combine(other, tf.multiply, "*")

    def __rmul__(self, other):
        return self._combine(other, tf.multiply, "*", reverse=True)

    def __truediv__(self, other):
        return self._combine(other, tf.divide, "/")

    def __rtruediv__(self, other):
        return self._combine(other, tf.divide, "/", reverse=True)

    def __neg__(self):
        negated = Objective(
            lambda T, params: -self(T, params),
            self.layers,
            f"-{self.name}",
            self.params,
            ("neg", self.structure),
        )
        object.__setattr__(negated, "_terms", self._terms)
        return negated


def constant(value: float) -> Objective:
    """An objective worth `value` for every image (a param: changing it does not recompile)."""
    value = float(value)
    number = Objective(
        lambda T, params: params[0], frozenset(), repr(value), (np.float32(value),), ("constant",)
    )
    object.__setattr__(number, "_terms", 0)
    return number


def as_objective(obj: object) -> Objective:
    """Objective from an Objective, a number, a "layer:channel" string (a channel objective) or a
    function of T, as Lucid's objective functions are (its layers are found when it is rendered)."""
    if isinstance(obj, Objective):
        return obj
    if isinstance(obj, numbers.Real):
        return constant(float(obj))
    if isinstance(obj, str):
        layer, sep, chan = obj.rpartition(":")
        if not sep or not layer or not re.fullmatch(r"\s*-?\d+\s*", chan):
            raise ValueError(
                f"an objective string must be 'layer:channel', e.g. 'block5c_add:12'; got {obj!r}."
            )
        return channel(layer, int(chan))  # a negative index fails the range check, naming the count
    if callable(obj) and _takes_one_argument(obj):
        # Lucid's objective functions are plain Python: tracing them as they are is enough
        fn = tf.autograph.experimental.do_not_convert(obj)
        return Objective(fn, ANY_LAYER, getattr(obj, "__name__", "") or "")
    raise TypeError(
        f"expected an Objective, a number, a 'layer:channel' string or a function of T; got "
        f"{type(obj).__name__}."
    )


# The layers of a plain function of T are unknown until it runs: `with_layers` finds them.
ANY_LAYER = frozenset({"*"})


def _takes_one_argument(fn: Callable) -> bool:
    try:
        inspect.signature(fn).bind(None)
    except TypeError:
        return False
    except ValueError:  # no signature to read: let the first call tell
        return True
    return True


def with_layers(objective: Objective, read: Callable[[str], tf.Tensor]) -> Objective:
    """`objective` with its layers found, if they are not declared (a plain function of T):
    it is run once with `read(layer)` giving activations and the layers it asks for are kept."""
    if not objective.layers & ANY_LAYER:
        return objective
    asked: list[str] = []

    def lookup(name: str) -> tf.Tensor:
        asked.append(name)
        return read(name)

    objective(lookup)
    return dataclasses.replace(objective, layers=frozenset(asked) - {INPUT})


def image_objective(obj: object) -> Objective:
    """`as_objective` for render_vis and render: a plain number has no gradient to follow."""
    if isinstance(obj, numbers.Number):
        raise ValueError(
            f"the objective {obj!r} is a number and does not depend on the image; give an "
            "objective such as 'block5c_add:12' or objectives.channel(layer, channel)."
        )
    return as_objective(obj)


def _objective(
    name: str,
    layers: Sequence[str],
    per_image: Callable,
    batch: int | None,
    params: tuple = (),
    key: tuple = (),
    rowwise: bool = False,
) -> Objective:
    """Wrap `per_image(T, *params)`; with `batch=i` only image i counts (the others get zero).
    `key` holds every argument that is not a param, so that it and the name's function make the
    structure. `rowwise`: image i's value reads only row i of what `T` gives (no param has a
    batch axis), so with `batch=i` only that row is computed."""
    if batch is not None and not (is_int(batch) and batch >= 0):
        raise ValueError(f"{name}: batch must be an image index, an int >= 0; got {batch!r}.")

    def check(size: int | None, index: int) -> None:
        if size is not None and not 0 <= index < size:
            raise ValueError(
                f"{name}: batch index {index} is out of range for a batch of {size} images "
                f"(valid: 0..{size - 1}). Render a batch of at least {index + 1} images."
            )

    def one_row(T, p, index: int):
        sizes = []

        def row(layer: str) -> tf.Tensor:
            acts = T(layer)
            check(acts.shape[0], index)
            sizes.append(tf.shape(acts)[:1])
            # a gather along the batch has a sparse gradient: the terms of a sum over the
            # batch's images add their rows, not one whole tensor each (docs/benchmarks.md,
            # "The objective's terms")
            return tf.gather(acts, [index])

        value = per_image(row, *p)
        return tf.scatter_nd([[index]], value, sizes[0])

    def fn(T, p):
        if batch is None:
            return per_image(T, *p)
        if rowwise:
            return one_row(T, p, batch)
        values = per_image(T, *p)
        check(values.shape[0], batch)
        return tf.where(tf.range(tf.shape(values)[0]) == batch, values, tf.zeros_like(values))

    suffix = "" if batch is None else f", batch={batch}"
    structure = (name.partition("(")[0], *key, batch)
    return Objective(fn, frozenset(layers) - {INPUT}, name[:-1] + suffix + ")", params, structure)


def _static(value: tf.Tensor | int) -> int | None:
    """A param's value when it is known while tracing (eagerly, or a constant); None when it is
    a compiled program's input, already checked eagerly by the renderer."""
    known = tf.get_static_value(value)
    return None if known is None else np.asarray(known).item()


def _channel_index(n_channel) -> int:
    """`n_channel` as an int; a TypeError for floats and other non-integers."""
    if not is_int(n_channel):
        raise TypeError(f"a channel index must be an int; got {n_channel!r}.")
    return int(n_channel)


def _check_channel(
    acts: tf.Tensor,
    layer: str,
    n_channel,
    noun: tuple[str, str] = ("channel", "channels"),
    note: str = "",
) -> None:
    """Raise naming the layer's count when `n_channel` is outside it; `note` ends the message."""
    count, n_channel = acts.shape[-1], _static(n_channel)
    if count is not None and n_channel is not None and not 0 <= n_channel < count:
        raise ValueError(
            f"{noun[0]} {n_channel} is out of range for layer {layer!r}, which has {count} "
            f"{noun[1]} (valid: 0..{count - 1}).{note}"
        )


def _spatial_mean(x: tf.Tensor) -> tf.Tensor:
    return tf.reduce_mean(x, axis=list(range(1, len(x.shape)))) if len(x.shape) > 1 else x


def _channel_mean(acts: tf.Tensor, n: tf.Tensor) -> tf.Tensor:
    """Mean over the positions of channel `n` of acts [B, ..., C]: [B]. The positions are
    averaged first: a gather along the channels of the whole activations has a gradient that
    transposes them, once per objective term (docs/benchmarks.md, "The objective's terms")."""
    positions = list(range(1, len(acts.shape) - 1))
    return tf.gather(tf.reduce_mean(acts, axis=positions) if positions else acts, n, axis=-1)


def _per_image_sum(x: tf.Tensor) -> tf.Tensor:
    return tf.reduce_sum(x, axis=list(range(1, len(x.shape))))


def _position(acts: tf.Tensor, layer: str, x, y) -> tuple:
    """(y, x) of a neuron, defaulting to the centre; checked against the feature map size when
    known."""
    if len(acts.shape) != 4:
        raise ValueError(
            f"layer {layer!r} has no spatial positions (activations of shape {tuple(acts.shape)}); "
            "use channel() for dense layers."
        )
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
    """Activation of one unit of `layer` at spatial position (x, y); default: the centre."""
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


def channel(layer: str, n_channel: int, batch: int | None = None) -> Objective:
    """Mean activation of channel `n_channel` of `layer` over all positions."""
    n_channel = _channel_index(n_channel)

    def per_image(T, n):
        acts = T(layer)
        _check_channel(acts, layer, n)
        return _channel_mean(acts, n)

    return _objective(
        f"channel({layer!r}, {n_channel})",
        [layer],
        per_image,
        batch,
        (np.int32(n_channel),),
        (layer,),
        rowwise=True,
    )


def deepdream(layer: str, *, batch: int | None = None) -> Objective:
    """Mean of the squared activations of `layer` (DeepDream's objective)."""
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


def _finite_array(what: str, value) -> np.ndarray:
    """`value` (a number or an array) as finite float32, or a ValueError naming `what`."""
    array = None
    if not isinstance(value, (str, bytes)):  # numpy would read "0.5" as a number
        try:
            array = np.asarray(value, np.float32)
        except (TypeError, ValueError):
            pass
    if array is None:
        raise ValueError(f"{what} must be a finite number or an array of them; got {value!r}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{what} holds NaN or infinite values.")
    return array


def _check_vector(acts: tf.Tensor, vec: tf.Tensor, layer: str) -> None:
    if acts.shape[-1] is not None and acts.shape[-1] != vec.shape[0]:
        raise ValueError(
            f"direction vector has {vec.shape[0]} entries but layer {layer!r} has "
            f"{acts.shape[-1]} channels; give one weight per channel."
        )


def _value_name(value: np.ndarray) -> str:
    """A number as itself, an array by its shape: names label objectives, params hold values."""
    return repr(value.item()) if value.ndim == 0 else f"array{list(value.shape)}"


def direction(
    layer: str, vec: TensorLike, cossim_pow: float = 0, batch: int | None = None
) -> Objective:
    """Mean over positions of the dot product of the activations with `vec` [channels]."""
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
    """dot(activations at (x, y), vec) × max(0.1, cosine similarity)**cossim_pow; default: centre."""
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
    """The pre-softmax score of one class of `layer` (e.g. "logits"): a class index, or an
    ImageNet label such as "hen"."""
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


def _grams(acts: tf.Tensor) -> tf.Tensor:
    """L2-normalized Gram matrices [B, C, C] of activations [B, H, W, C]."""
    flat = tf.reshape(acts, [tf.shape(acts)[0], -1, acts.shape[-1]])
    grams = tf.matmul(flat, flat, transpose_a=True)
    return tf.math.l2_normalize(grams, axis=[1, 2], epsilon=1e-10)  # epsilon from Lucid


def diversity(layer: str) -> Objective:
    """Cosine similarity of an image's Gram matrix at `layer` to the other images', summed over
    them and divided by the batch size (Lucid's scaling: (B - 1) / B times the mean).

    A penalty, as in Lucid: subtract it with a weight (e.g. `- 100 * diversity("block5c_add")`) to
    make the images of a batch differ in style. Zero for a batch of one.
    """

    def fn(T, params):
        grams = _grams(T(layer))
        batch = tf.shape(grams)[0]
        sims = tf.einsum("icd,jcd->ij", grams, grams)
        off_diagonal = tf.reduce_sum(sims, axis=1) - tf.linalg.diag_part(sims)
        return off_diagonal / tf.cast(batch, tf.float32)

    return Objective(fn, frozenset([layer]), f"diversity({layer!r})", (), ("diversity", layer))


def alignment(layer: str, decay_ratio: float = 2.0) -> Objective:
    """Minus the mean squared difference of neighbouring images' activations (Lucid).

    Images d apart in the batch (d = 1..4) are pulled together with weight 1/decay_ratio**d, which
    makes interpolation sequences smooth. The penalty of a pair is split between its two images.
    """
    if not is_number(decay_ratio) or decay_ratio <= 0:
        raise ValueError(
            f"alignment: decay_ratio must be a number > 0 (Lucid's is 2); got {decay_ratio!r}."
        )

    def fn(T, params):
        acts = T(layer)
        size = acts.shape[0]
        penalty = [tf.zeros([], tf.float32) for _ in range(size)]
        for d in range(1, 5):  # Lucid's neighbourhood of 4
            for i in range(size - d):
                cost = tf.reduce_mean(tf.square(acts[i] - acts[i + d])) / decay_ratio**d
                penalty[i] += cost / 2
                penalty[i + d] += cost / 2
        return -tf.stack(penalty)

    return Objective(
        fn,
        frozenset([layer]),
        f"alignment({layer!r}, decay_ratio={decay_ratio})",
        (),
        ("alignment", layer, decay_ratio),
    )


def channel_interpolate(layer1: str, n_channel1: int, layer2: str, n_channel2: int) -> Objective:
    """Image i of B maximizes (1 - i/(B-1)) · channel 1 + i/(B-1) · channel 2 (Lucid)."""
    n_channel1, n_channel2 = _channel_index(n_channel1), _channel_index(n_channel2)

    def fn(T, params):
        n1, n2 = params
        a, b = T(layer1), T(layer2)
        _check_channel(a, layer1, n1)
        _check_channel(b, layer2, n2)
        size = a.shape[0]
        weights = tf.constant(np.arange(size) / max(size - 1, 1), tf.float32)
        return (1 - weights) * _channel_mean(a, n1) + weights * _channel_mean(b, n2)

    name = f"channel_interpolate({layer1!r}, {n_channel1}, {layer2!r}, {n_channel2})"
    return Objective(
        fn,
        frozenset([layer1, layer2]) - {INPUT},
        name,
        (np.int32(n_channel1), np.int32(n_channel2)),
        ("channel_interpolate", layer1, layer2),
    )


def L1(layer: str = INPUT, constant: float = 0.0, *, batch: int | None = None) -> Objective:
    """Sum of |activations - constant| per image (a penalty: subtract it)."""
    c = _finite_array("L1: constant", constant)
    return _objective(
        f"L1({layer!r}, constant={_value_name(c)})",
        [layer],
        lambda T, c: _per_image_sum(tf.abs(T(layer) - c)),
        batch,
        (c,),
        (layer, c.shape),
    )


def L2(
    layer: str = INPUT, constant: float = 0.0, epsilon: float = 1e-6, *, batch: int | None = None
) -> Objective:
    """sqrt(epsilon + sum of (activations - constant)²) per image (a penalty: subtract it)."""
    c = _finite_array("L2: constant", constant)
    if not is_number(epsilon) or epsilon < 0:
        raise ValueError(f"L2: epsilon must be a number >= 0; got {epsilon!r}.")
    return _objective(
        f"L2({layer!r}, constant={_value_name(c)}, epsilon={epsilon})",
        [layer],
        lambda T, c, e: tf.sqrt(e + _per_image_sum(tf.square(T(layer) - c))),
        batch,
        (c, np.float32(epsilon)),
        (layer, c.shape),
    )


def input_diff(orig_img: TensorLike, *, batch: int | None = None) -> Objective:
    """Root-mean-square difference per image between the image and `orig_img`, float [H, W, 3]
    (or [B, H, W, 3], one per image) in [0, 1], as Lucid's; a penalty: subtract it to stay near
    a photo (adversarial counterexamples). On RGBA images (`param.image(..., alpha=True)`) it
    compares their colour channels."""
    orig = _finite_array("input_diff: orig_img", orig_img)
    if orig.ndim not in (3, 4) or orig.shape[-1] != 3:
        raise ValueError(
            f"input_diff: orig_img is an image [H, W, 3] or images [B, H, W, 3] in "
            f"[0, 1]; got shape {orig.shape}."
        )
    orig = check_unit_range(orig[None] if orig.ndim == 3 else orig)  # [B or 1, H, W, 3]

    def per_image(T, orig_t):
        image = T(INPUT)
        if tuple(image.shape[1:3]) != orig.shape[-3:-1]:
            height, width = orig.shape[-3:-1]
            raise ValueError(
                f"input_diff: orig_img is {height}x{width} px but the images are "
                f"{image.shape[1]}x{image.shape[2]}; render at its size: "
                f"param.image({width}, {height})."
            )
        if image.shape[0] is not None and orig.shape[0] not in (1, image.shape[0]):
            raise ValueError(
                f"input_diff: orig_img holds {orig.shape[0]} images but the batch "
                f"holds {image.shape[0]}; give one image for all, or one per image."
            )
        image = image[..., :3]  # an RGBA image's colours; its alpha has no photo to match
        return tf.sqrt(tf.reduce_mean(tf.square(image - orig_t), axis=[1, 2, 3]))

    return _objective(
        f"input_diff({_value_name(orig)})", [INPUT], per_image, batch, (orig,), (orig.shape,)
    )


def total_variation(layer: str = INPUT, *, batch: int | None = None) -> Objective:
    """Total variation (sum of absolute neighbour differences) per image (a penalty)."""

    def per_image(T):
        acts = T(layer)
        if len(acts.shape) != 4:
            raise ValueError(
                f"total_variation needs a layer with spatial positions [B, H, W, C]; "
                f"{layer!r} gives shape {tuple(acts.shape)}."
            )
        return tf.image.total_variation(acts)

    return _objective(f"total_variation({layer!r})", [layer], per_image, batch, (), (layer,))


def _blur(x: tf.Tensor, w: int = 3) -> tf.Tensor:
    """Lucid's w×w per-channel blur (inner weight 1, border 0.5), normalized at the image edges."""
    depth = x.shape[-1]
    k = np.full([w, w], 0.5, np.float32)
    k[1:-1, 1:-1] = 1.0
    kernel = tf.constant(np.tile(k[:, :, None, None], [1, 1, depth, 1]))

    def conv(t: tf.Tensor) -> tf.Tensor:
        return tf.nn.depthwise_conv2d(t, kernel, [1, 1, 1, 1], "SAME")

    return conv(x) / conv(tf.ones_like(x))


def blur_input_each_step() -> Objective:
    """½‖input − stop_gradient(blur(input))‖² per image.

    Subtracting k times this objective moves the input a fraction k towards its blurred version at
    every step (Lucid's trick for smoothing pixel-space optimization).
    """

    def per_image(T):
        image = T(INPUT)
        return 0.5 * _per_image_sum(tf.square(image - tf.stop_gradient(_blur(image))))

    return _objective("blur_input_each_step()", [INPUT], per_image, None)


def _alpha(T: FeatureLookup, name: str) -> tf.Tensor:
    """The alpha channel [B, H, W, 1] of the RGBA images `T("input")` reads, or a ValueError."""
    image = T(INPUT)
    if image.shape[-1] != 4:
        raise ValueError(
            f"{name} reads the alpha channel of RGBA images, but the images have "
            f"{image.shape[-1]} channels; render them with param.image(w, alpha=True)."
        )
    return image[..., 3:4]


def blur_alpha_each_step() -> Objective:
    """½‖alpha − stop_gradient(blur(alpha))‖² per image, of RGBA images (Lucid's): subtracting k
    times it moves the alpha a fraction k towards its blurred version at every step."""

    def per_image(T):
        alpha = _alpha(T, "blur_alpha_each_step()")
        return 0.5 * _per_image_sum(tf.square(alpha - tf.stop_gradient(_blur(alpha))))

    return _objective("blur_alpha_each_step()", [INPUT], per_image, None)


def penalize_alpha(*, batch: int | None = None) -> Objective:
    """Mean alpha per image of RGBA images, in [0, 1] (the penalty of Lucid's alpha notebooks):
    subtract it (`obj - 0.5 * penalize_alpha()`), or scale by what it leaves transparent
    (`obj * (1 - penalize_alpha())`, Lucid's transparency notebook)."""

    def per_image(T):
        return tf.reduce_mean(_alpha(T, "penalize_alpha()"), axis=[1, 2, 3])

    return _objective("penalize_alpha()", [INPUT], per_image, batch)


def _image_size(shp: Sequence[int]) -> tuple[int, int]:
    """(height, width) from Lucid's `shp`: an image shape [B, H, W, C] or [H, W, C]."""
    dims = tuple(shp) if isinstance(shp, (list, tuple)) else ()
    if len(dims) not in (3, 4) or not all(is_int(d) and d > 0 for d in dims):
        raise ValueError(
            f"penalize_boundary_complexity: shp is the image shape [B, H, W, C] "
            f"(e.g. [1, 128, 128, 3]); got {shp!r}."
        )
    return int(dims[-3]), int(dims[-2])


def penalize_boundary_complexity(
    shp: Sequence[int], w: int = 20, mask: TensorLike = None, C: float = 0.5
) -> Objective:
    """Minus the detail and the distance from grey `C` in a border `w` px wide of images of shape
    `shp` [B, H, W, C] (Lucid's signature). `mask` [H, W] (1 where penalized) replaces the border
    when given."""
    height, width = _image_size(shp)
    if mask is None:
        if not (is_int(w) and w >= 1):
            raise ValueError(
                f"penalize_boundary_complexity: w is the border width in px, an int "
                f">= 1; got {w!r}."
            )
        if 2 * w >= min(height, width):
            raise ValueError(
                f"penalize_boundary_complexity: a border of w={w} px leaves no "
                f"inside in {height}x{width} images; use w <= "
                f"{(min(height, width) - 1) // 2}."
            )
        mask = np.ones([height, width], np.float32)
        mask[w:-w, w:-w] = 0
    else:
        mask = np.asarray(mask, np.float32)
        if mask.shape != (height, width):
            raise ValueError(
                f"penalize_boundary_complexity: mask is [H, W], one weight per pixel "
                f"of the {height}x{width} images shp gives; got shape {mask.shape}."
            )
    if not is_number(C):
        raise ValueError(
            f"penalize_boundary_complexity: C is the grey level the border is pulled "
            f"to, a number in [0, 1]; got {C!r}."
        )

    def per_image(T, m, c):
        image = T(INPUT)
        if tuple(image.shape[1:3]) != (height, width):
            raise ValueError(
                f"penalize_boundary_complexity: shp is for {height}x{width} images "
                f"but they are {image.shape[1]}x{image.shape[2]}; give shp="
                f"{[1, image.shape[1], image.shape[2], 3]}."
            )
        # the 5x5 blur and the 0.8 weight are Lucid's
        diffs = tf.square(_blur(image, w=5) - image) + 0.8 * tf.square(image - c)
        return -_per_image_sum(diffs * m[None, :, :, None])

    return _objective(
        f"penalize_boundary_complexity([{height}, {width}], w={w}, C={C})",
        [INPUT],
        per_image,
        None,
        (mask, np.float32(C)),
        ((height, width),),
    )
