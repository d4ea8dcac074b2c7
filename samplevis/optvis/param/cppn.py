"""CPPN parameterization: a small coordinate network whose weights are the state."""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

from samplevis.optvis.param.base import ImageParam, State, check_positive_int, split_seed
from samplevis.runtime.checks import TensorLike, check_bool

# Coordinates span +-sqrt(3) so that their standard deviation is 1 (Lucid, param/cppn.py).
_COORD_RANGE = math.sqrt(3.0)
# Std of the initial biases (Lucid, param/cppn.py: random_normal(0.0, 0.1)).
_BIAS_SD = 0.1
# Std of a unit normal truncated at 2 std, to correct truncated-normal
# variance scaling (as TF's VarianceScaling initializer).
_TRUNCATED_NORMAL_STD = 0.87962566103423978
# RMS of atan(x) and atan(x)^2 for x ~ N(0, 1) (Lucid, param/cppn.py, biased).
_ATAN_RMS, _ATAN_SQ_RMS = 0.67, 0.6
# Std of atan(x) and mean, std of atan(x)^2 for x ~ N(0, 1) (Lucid, unbiased).
_ATAN_STD, _ATAN_SQ_MEAN, _ATAN_SQ_STD = 0.67, 0.45, 0.396
# Mean and std of relu(x) for x ~ N(0, 1) (Lucid, param/cppn.py).
_RELU_MEAN, _RELU_STD = 0.40, 0.58

_ACTIVATIONS = ("composite", "composite_unbiased", "relu_normalized")


def _activate(x, kind: str):
    import tensorflow as tf

    if kind == "relu_normalized":
        return (tf.nn.relu(x) - _RELU_MEAN) / _RELU_STD
    a = tf.atan(x)
    if kind == "composite":
        return tf.concat([a / _ATAN_RMS, a * a / _ATAN_SQ_RMS], -1)
    return tf.concat([a / _ATAN_STD, (a * a - _ATAN_SQ_MEAN) / _ATAN_SQ_STD], -1)


@dataclasses.dataclass(frozen=True)
class CPPNImage(ImageParam):
    """Images [B, H, W, 3] in (0, 1) drawn by per-image coordinate networks.

    Each image has its own network of ``num_layers`` hidden 1x1 layers of
    ``num_hidden_channels`` units mapping (x, y) to RGB through a sigmoid.
    State: for every layer a weight tensor [B, fan_in, fan_out] then a bias
    [B, fan_out] (variance-scaling weights, N(0, 0.1) biases, zero output
    weights: the initial image is a flat colour, as Lucid).

    Attributes:
        batch: images.
        height: their height, px.
        width: their width, px.
        num_hidden_channels: units per hidden layer.
        num_layers: hidden layers.
        activation: "composite", "composite_unbiased" or "relu_normalized".
        normalize: standardize each hidden unit over the image.
    """

    # Lucid's xy2rgb notebook optimizes CPPNs with Adam(0.005): at render_vis's 0.05 the output
    # sigmoid saturates within tens of steps and the image freezes to a flat colour.
    start_learning_rate: ClassVar[float | None] = 0.005

    batch: int
    height: int
    width: int
    num_hidden_channels: int = 24
    num_layers: int = 8
    activation: str = "composite"
    normalize: bool = False

    def __post_init__(self) -> None:
        for name in ("batch", "height", "width", "num_hidden_channels", "num_layers"):
            check_positive_int(name, getattr(self, name))
        if self.activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {_ACTIVATIONS}, got {self.activation!r}.")
        object.__setattr__(self, "normalize", check_bool("normalize", self.normalize))

    def _layer_sizes(self) -> list[tuple[int, int]]:
        widen = 1 if self.activation == "relu_normalized" else 2  # composite doubles channels
        sizes, fan_in = [], 2
        for _ in range(self.num_layers):
            sizes.append((fan_in, self.num_hidden_channels))
            fan_in = widen * self.num_hidden_channels
        return sizes + [(fan_in, 3)]

    @property
    def state_shapes(self) -> tuple:
        shapes = []
        for fan_in, fan_out in self._layer_sizes():
            shapes += [(self.batch, fan_in, fan_out), (self.batch, fan_out)]
        return tuple(shapes)

    def init(self, seed: object) -> State:
        import tensorflow as tf

        shapes = self.state_shapes
        seeds = split_seed(seed, len(shapes))
        state = []
        for i in range(0, len(shapes), 2):
            w_shape, b_shape = shapes[i], shapes[i + 1]
            if i == len(shapes) - 2:
                w = tf.zeros(w_shape, tf.float32)
            else:
                std = math.sqrt(1.0 / w_shape[1]) / _TRUNCATED_NORMAL_STD
                w = std * tf.random.stateless_truncated_normal(w_shape, seeds[i])
            b = _BIAS_SD * tf.random.stateless_normal(b_shape, seeds[i + 1])
            state += [w, b]
        return tuple(state)

    def _coordinates(self):
        import tensorflow as tf

        y = tf.linspace(-_COORD_RANGE, _COORD_RANGE, self.height)
        x = tf.linspace(-_COORD_RANGE, _COORD_RANGE, self.width)
        yy, xx = tf.meshgrid(y, x, indexing="ij")
        return tf.reshape(tf.stack([xx, yy], -1), [1, self.height * self.width, 2])

    def to_image(self, state: State) -> TensorLike:
        import tensorflow as tf

        batch = tf.shape(state[0])[0]
        net = tf.tile(self._coordinates(), [batch, 1, 1])  # [B, H*W, 2]
        n = len(state) // 2
        for i in range(n):
            w, b = state[2 * i], state[2 * i + 1]
            x = tf.einsum("bpi,bio->bpo", net, w) + b[:, None, :]
            if i == n - 1:
                net = tf.nn.sigmoid(x)
                break
            if self.normalize:
                mean, var = tf.nn.moments(x, axes=[1], keepdims=True)
                x = (x - mean) * tf.math.rsqrt(var + 1e-6)
            net = _activate(x, self.activation)
        return tf.reshape(net, [batch, self.height, self.width, 3])


def cppn(
    width: int,
    batch: int = 1,
    num_output_channels: int = 3,
    num_hidden_channels: int = 24,
    num_layers: int = 8,
    activation: str = "composite",
    normalize: bool = False,
    *,
    height: int | None = None,
) -> CPPNImage:
    """Lucid's ``cppn(width, batch, ...)``: ``batch`` images of ``height`` x ``width``
    pixels drawn by coordinate networks (one per image, unlike Lucid's shared one).

    Positional arguments follow Lucid's order, with Lucid's defaults.

    Args:
        width: the images' width, px.
        batch: how many images.
        num_output_channels: 3, there for Lucid's order (the images are RGB).
        num_hidden_channels: units per hidden layer.
        num_layers: hidden layers.
        activation: Lucid's activation function: "composite", "composite_unbiased" or
            "relu_normalized".
        normalize: standardize each hidden unit over the image (instance norm without
            learned scale).
        height: the images' height, px (default ``width``); keyword only, not in Lucid,
            whose images are square.

    Returns:
        A ``CPPNImage``.

    Examples:
        >>> p = cppn(16, 2, height=8)
        >>> (p.batch, p.height, p.width)
        (2, 8, 16)
    """
    width = check_positive_int("width", width)
    height = width if height is None else check_positive_int("height", height)
    if num_output_channels != 3:
        alpha = (
            " For an alpha channel, give the CPPN one of its own: param.RGBAImage(cppn(...), "
            f"param.fft_image([{batch}, {height}, {width}, 1]))."
            if num_output_channels == 4
            else ""
        )
        raise ValueError(
            f"num_output_channels must be 3, got {num_output_channels!r}: the images are RGB. "
            f"To set the hidden width, pass num_hidden_channels= by name.{alpha}"
        )
    return CPPNImage(batch, height, width, num_hidden_channels, num_layers, activation, normalize)
