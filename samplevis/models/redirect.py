"""Redirected ReLU gradients (Lucid's `redirected_relu_grad`), for leaving dead starts.

A ReLU that is negative everywhere passes no gradient, so an optimizer started there never moves.
The redirected gradient lets through the part of the incoming gradient that would push a negative
input *up*; it is used only when the true ReLU gradient of that image is zero everywhere, so it never
changes the direction of an optimization that already has a gradient. Forward values are unchanged.

`switched_by(on)` makes the redirection a runtime choice: one compiled program then serves both
the first, redirected steps of a rendering and the plain ones after.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Iterator, Sequence

import tensorflow as tf

from samplevis.runtime.checks import KerasModel

# the scalar bool tensor that turns redirection on, for redirected ReLUs called in `switched_by`
_SWITCH: contextvars.ContextVar[tf.Tensor | None] = contextvars.ContextVar(
    "redirect_switch", default=None
)


@contextlib.contextmanager
def switched_by(on: tf.Tensor) -> Iterator[None]:
    """Redirected ReLUs called inside redirect their gradient only while `on` (a scalar bool
    tensor of the graph being traced) is true, and pass the plain ReLU gradient otherwise."""
    token = _SWITCH.set(on)
    try:
        yield
    finally:
        _SWITCH.reset(token)


def redirected_relu(x: tf.Tensor, max_value: float | None = None) -> tf.Tensor:
    """relu(x) (or relu6 when max_value=6) with the redirected gradient (see `switched_by`)."""
    on = _SWITCH.get()  # read now: the gradient is built later, outside the caller's context

    @tf.custom_gradient
    def forward(x):
        if max_value is None:
            y = tf.nn.relu(x)
        elif max_value == 6.0:
            y = tf.nn.relu6(x)  # one kernel, where clipping takes two
        else:
            y = tf.clip_by_value(x, 0.0, max_value)

        # The gradients read the output, as TensorFlow's own ReLU gradient does: then only the
        # ReLU reads its input, as in the plain network, and steps run faster
        # (docs/benchmarks.md). y <= 0 is x <= 0; y >= cap is x >= cap.
        def grad(dy):
            if on is None:
                return redirected_grad(dy)
            # plain steps skip the redirection's norms and selections
            return tf.cond(on, lambda: redirected_grad(dy), lambda: relu_grad(dy))

        def relu_grad(dy):
            # TensorFlow's own fused kernels, which pass dy where 0 < y (< 6): one op where the
            # comparisons and the selection written out take four (docs/benchmarks.md)
            if max_value is None:
                return tf.raw_ops.ReluGrad(gradients=dy, features=y)
            if max_value == 6.0:
                return tf.raw_ops.Relu6Grad(gradients=dy, features=y)
            return tf.where((y > 0.0) & (y < max_value), dy, tf.zeros_like(dy))

        def redirected_grad(dy):
            # dy is d(loss)/dy for a loss being minimized: dy > 0 pushes the input down.
            plain = relu_grad(dy)
            pushing_out = (y <= 0.0) & (dy > 0.0)
            if max_value is not None:
                pushing_out |= (y >= max_value) & (dy < 0.0)
            redirected = tf.where(pushing_out, tf.zeros_like(dy), dy)
            batch = tf.shape(y)[0]
            norm = tf.norm(tf.reshape(plain, [batch, -1]), axis=1)
            has_grad = tf.reshape(norm > 0.0, [-1] + [1] * (len(y.shape) - 1))
            return tf.where(has_grad, plain, redirected)

        return y, grad

    return forward(x)


def _relu_cap(activation) -> tuple[bool, float | None]:
    """(is a plain relu/relu6, its cap) for a Keras activation function."""
    import keras

    if activation is keras.activations.relu:
        return True, None
    if activation is keras.activations.relu6:
        return True, 6.0
    return False, None


def relu_cap(layer: object) -> float | None:
    """The largest value a Keras layer outputs when that output is a capped ReLU (6.0 for
    ReLU6, as a `ReLU(max_value=6)` layer or a fused `activation="relu6"`); None otherwise."""
    import keras

    if isinstance(layer, keras.layers.ReLU):
        return None if layer.max_value is None else float(layer.max_value)
    return _relu_cap(getattr(layer, "activation", None))[1]


def with_redirected_relus(keras_model: KerasModel) -> tuple:
    """(a copy of a functional model whose ReLU/ReLU6 use redirected gradients, [(original layer,
    its copy)]).

    Layers without a ReLU are shared with the original; layers with a fused ReLU activation are
    rebuilt with a copy of their weights, listed in the pairs: `refresh_copies` brings them up to
    date after the original's weights change.
    """
    import keras

    replaced: list[tuple] = []

    def clone(layer):
        if isinstance(layer, keras.layers.ReLU):
            plain = layer.negative_slope == 0.0 and layer.threshold == 0.0
            if plain:
                cap = None if layer.max_value is None else float(layer.max_value)
                return keras.layers.Activation(
                    functools.partial(redirected_relu, max_value=cap), name=layer.name
                )
            return layer
        is_relu, cap = _relu_cap(getattr(layer, "activation", None))
        if not is_relu:
            return layer  # shared: same weights, same object
        if isinstance(layer, keras.layers.Activation):
            return keras.layers.Activation(
                functools.partial(redirected_relu, max_value=cap), name=layer.name
            )
        copy = layer.__class__.from_config(layer.get_config())
        copy.activation = functools.partial(redirected_relu, max_value=cap)
        replaced.append((layer, copy))
        return copy

    cloned = keras.models.clone_model(keras_model, clone_function=clone)
    refresh_copies(replaced)
    return cloned, replaced


def refresh_copies(pairs: Sequence[tuple]) -> None:
    """Give each copied layer its original's current weights (in place, no retracing)."""
    for original, copy in pairs:
        for source, target in zip(original.weights, copy.weights):
            target.assign(source)
