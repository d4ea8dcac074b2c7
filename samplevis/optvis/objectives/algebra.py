"""The Objective value and its algebra: one value per image, combined with operators.

An objective is called with a feature lookup `T` (`T(layer_name)` is that layer's activations,
`T("input")` the parameterized image in [0, 1] before transforms) and returns one value per image,
shape [B]. Objectives combine with `+ - * /`, negation, numbers and `sum(...)`; every operation
returns a new objective. `as_objective` makes one of a number, a "layer:channel" string or a
function of T.

The numbers an objective is built from (channel indices, positions, weights, direction vectors) are
its `params`, kept apart from the function: a compiled `Renderer` reads them from variables, so
another objective of the same `structure` (say, the next channel of the layer) reuses the program.
`_objective` gives the library's objectives that form.

`channel` is here rather than with the other units because a "layer:channel" string means it:
`as_objective` and the operators build it from one.
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
from samplevis.runtime.checks import is_int

FeatureLookup = Callable[[str], tf.Tensor]
"""`T`: a layer's name to its activations [B, ...] (`T("input")`: the image [B, H, W, C])."""
Params = tuple  # one tensor per entry of an objective's `params`
"""The tensors an objective takes beside `T`, one per entry of its `params`."""


@dataclass(frozen=True, eq=False)
class Objective:
    """A function of the features returning one value per image (shape [B]).

    Build your own as `Objective(fn, frozenset({"layer", ...}))` with `fn(T) -> [B]`. The library's
    objectives also carry `params`, the numbers they are built from, and pass them to `fn` as
    tensors: `fn(T, params)` (a `structure` given, any hashable naming what `fn` computes apart
    from its params, says that `fn` takes them). Two objectives with equal `structure` compute the
    same function of different params. Objectives are values: equal only to themselves.

    Args:
        fn: `fn(T) -> [B]`, or `fn(T, params)` when `structure` is given.
        layers: the layer names `fn` reads (`ANY_LAYER`: found when it is rendered).
        name: how it prints; default from `fn`.
        params: numpy values `fn` takes as tensors (changing them does not recompile).
        structure: any hashable naming what `fn` computes apart from its params; None: this
            objective's own function (user-built).

    Raises:
        TypeError: a layer name that is not a string.

    Examples:
        >>> import tensorflow as tf
        >>> mine = Objective(lambda T: tf.reduce_mean(T("block5c_add")[..., 3], axis=[1, 2]),
        ...                  frozenset({"block5c_add"}), name="mine")
        >>> (2 * mine - L1()).name
        "((2.0 * mine) - L1('input', constant=0.0))"
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


def maximum(first: object, second: object, *more: object) -> Objective:
    """The largest of the objectives (Objectives, numbers or 'layer:channel' strings) for each
    image: a unit that answers to either of two things, e.g. ImageNet's bell pepper, and movie
    theater less strongly.

    Args:
        first: an Objective, a number or a 'layer:channel' string.
        second: another.
        *more: any more.

    Returns:
        The objective: one value per image [B].

    Examples:
        >>> obj = maximum("logits:945", 0.6 * channel("logits", 498))
    """
    found = [as_objective(o) for o in (first, second, *more)]
    largest = found[0]
    for other in found[1:]:
        largest = _larger(largest, other)
    return largest


def _larger(a: Objective, b: Objective) -> Objective:
    """max(a, b) per image, its params a's then b's."""
    split = len(a.params)
    return Objective(
        lambda T, params: tf.maximum(a(T, params[:split]), b(T, params[split:])),
        a.layers | b.layers,
        f"max({a.name}, {b.name})",
        a.params + b.params,
        ("max", a.structure, b.structure),
    )


def constant(value: float) -> Objective:
    """An objective worth `value` for every image (a param: changing it does not recompile).

    Args:
        value: a number.

    Returns:
        The objective.

    Examples:
        >>> (channel("block5c_add", 12) - constant(1.5)).name
        "(channel('block5c_add', 12) - 1.5)"
    """
    value = float(value)
    number = Objective(
        lambda T, params: params[0], frozenset(), repr(value), (np.float32(value),), ("constant",)
    )
    object.__setattr__(number, "_terms", 0)
    return number


def as_objective(obj: object) -> Objective:
    """Objective from an Objective, a number, a "layer:channel" string (a channel objective) or a
    function of T, as Lucid's objective functions are (its layers are found when it is rendered).

    Args:
        obj: an Objective, a number, a "layer:channel" string or a function of T.

    Returns:
        The objective.

    Raises:
        TypeError: anything else.

    Examples:
        >>> as_objective("block5c_add:12").name
        "channel('block5c_add', 12)"
    """
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
"""The `layers` of an objective that may read any layer (a plain function of `T`)."""


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
    it is run once with `read(layer)` giving activations and the layers it asks for are kept.

    Args:
        objective: the objective.
        read: a layer's name to its activations.

    Returns:
        The objective, its `layers` declared.
    """
    if not objective.layers & ANY_LAYER:
        return objective
    asked: list[str] = []

    def lookup(name: str) -> tf.Tensor:
        asked.append(name)
        return read(name)

    objective(lookup)
    return dataclasses.replace(objective, layers=frozenset(asked) - {INPUT})


def image_objective(obj: object) -> Objective:
    """`as_objective` for render_vis and render: a plain number has no gradient to follow.

    Args:
        obj: an Objective, a "layer:channel" string or a function of T.

    Returns:
        The objective.

    Raises:
        ValueError: a plain number.
        TypeError: anything `as_objective` does not take.
    """
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
            # "Where the step's time goes")
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


def _no_positions(layer: str, shape: tuple) -> str:
    """Why `layer`, whose activations have `shape` (batch first), has no positions to name, and
    what to use instead."""
    if len(shape) == 3:
        return (
            f"layer {layer!r} gives {shape[1]} tokens [B, N, C] that are not on the model's patch "
            "grid, so it has no positions. If its tokens are patches, give the model their size: "
            "samplevis.Model(keras_model, patch_size=P), P px of the network's input (class or "
            "register tokens ahead of them are counted); channel() reads the mean over tokens."
        )
    if len(shape) == 5:
        return (
            f"layer {layer!r} gives attention heads {tuple(shape)} [B, H, W, heads, dim]; "
            "use objectives.head() for one head's output."
        )
    return (
        f"layer {layer!r} has no spatial positions (activations of shape {tuple(shape)}); "
        "use channel() for dense layers."
    )


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


def _channel_mean(acts: tf.Tensor, n: tf.Tensor) -> tf.Tensor:
    """Mean over the positions of channel `n` of acts [B, ..., C]: [B]. The positions are
    averaged first: a gather along the channels of the whole activations has a gradient that
    transposes them, once per objective term (docs/benchmarks.md, "Where the step's time goes")."""
    positions = list(range(1, len(acts.shape) - 1))
    return tf.gather(tf.reduce_mean(acts, axis=positions) if positions else acts, n, axis=-1)


# Here rather than in `units`: `as_objective` builds it from "layer:channel" strings, and the
# units build on this module.
def channel(layer: str, n_channel: int, batch: int | None = None) -> Objective:
    """Mean activation of channel `n_channel` of `layer` over all positions.

    Args:
        layer: a layer name of the model (`Model.layers_info()` lists them).
        n_channel: the channel's index, an int >= 0.
        batch: only image `batch` of the batch counts (the others get zero); None: every image.

    Returns:
        The objective: one value per image [B].

    Examples:
        >>> obj = channel("block5c_add", 12) - 1e-3 * L1()
    """
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
