"""The transforms that move pixels: pad, jitter, zoom, rotate, centre-crop.

Pads and jitters move whole pixels (``shift`` tells ``compose`` a call's move); zooms and
rotations resample (``stage`` tells ``compose`` a call's map, see ``resampling``).

Random scaling differs from Lucid on purpose: Lucid resizes the image to a
random size, which gives no static shape; here the content is zoomed about
the centre on a canvas of unchanged size (zoom-in crops the border, zoom-out
fills it with ``fill_value``), so a compiled step sees one shape.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence

from samplevis.optvis.transform.contract import as_images, call_seed, check_own_seed, dims
from samplevis.optvis.transform.resampling import resample
from samplevis.runtime.checks import TensorLike, is_int, is_number

_FILL_MODES = ("CONSTANT", "REFLECT", "WRAP", "NEAREST")
_PAD_MODES = ("CONSTANT", "REFLECT", "SYMMETRIC")


def _numbers(name: str, values: object, example: str) -> tuple[float, ...]:
    """`values` as a non-empty tuple of finite floats, or a ValueError showing `example`; one
    number is refused, not taken as a list of one (Lucid takes lists here)."""
    try:
        items: tuple | None = (
            tuple(values)
            if isinstance(values, Iterable) and not isinstance(values, (str, bytes))
            else None
        )
    except TypeError:
        items = None
    if not items or not all(is_number(v) for v in items):
        raise ValueError(
            f"{name} must be a non-empty list of numbers to draw from, e.g. "
            f"{example}; got {values!r}."
        )
    return tuple(float(v) for v in items)


def _choose(values: Sequence[float], seed):
    """One of ``values`` uniformly at random (float32 scalar tensor)."""
    import tensorflow as tf

    index = tf.random.stateless_uniform([], seed, 0, len(values), dtype=tf.int32)
    return tf.gather(tf.constant(values, tf.float32), index)


def _check_fill(fill_mode: str, fill_value: object) -> str:
    """The upper-case fill mode; a ValueError for an unknown mode or a fill value not a number."""
    mode = str(fill_mode).upper()
    if mode not in _FILL_MODES:
        raise ValueError(f"fill_mode must be one of {_FILL_MODES}, got {fill_mode!r}.")
    if not is_number(fill_value):
        raise ValueError(
            f"fill_value is the grey level of uncovered pixels, a number in [0, 1]; "
            f"got {fill_value!r}."
        )
    return mode


@dataclasses.dataclass(frozen=True)
class Pad:
    """Pad ``width`` pixels on each side: [B, H, W, C] -> [B, H+2w, W+2w, C].

    ``mode`` is CONSTANT, REFLECT or SYMMETRIC; ``constant_value`` a float or
    ``"uniform"`` (a random grey level in [0, 1), as Lucid).

    Attributes:
        width: the pad's width in px.
        mode: CONSTANT, REFLECT or SYMMETRIC.
        constant_value: a CONSTANT pad's value, a float or "uniform".
    """

    width: int
    mode: str = "REFLECT"
    constant_value: float | str = 0.5

    def __post_init__(self) -> None:
        if not is_int(self.width) or self.width < 0:
            raise ValueError(f"pad width must be an int >= 0, got {self.width!r}.")
        object.__setattr__(self, "width", int(self.width))
        mode = str(self.mode).upper()
        if mode not in _PAD_MODES:
            raise ValueError(f"pad mode must be one of {_PAD_MODES}, got {self.mode!r}.")
        object.__setattr__(self, "mode", mode)
        if not (
            isinstance(self.constant_value, str)
            and self.constant_value == "uniform"
            or is_number(self.constant_value)
        ):
            raise ValueError(
                f"constant_value must be a number or 'uniform', got {self.constant_value!r}."
            )

    def __call__(self, images: TensorLike, seed: TensorLike) -> TensorLike:
        import tensorflow as tf

        images = as_images(images)
        height, width = images.shape[1], images.shape[2]
        if self.mode != "CONSTANT" and height and width:
            # a mirror copies the image's own rows: REFLECT skips the edge row, SYMMETRIC keeps it
            widest = min(height, width) - (1 if self.mode == "REFLECT" else 0)
            if self.width > widest:
                raise ValueError(
                    f"{self.mode} padding mirrors the images' own rows, so it pads "
                    f"{height}x{width} images by at most {widest} px; got "
                    f"{self.width}. Pad by less or use mode='constant'."
                )
        w = self.width
        return tf.pad(
            images,
            [(0, 0), (w, w), (w, w), (0, 0)],
            mode=self.mode,
            constant_values=self._value(seed),
        )

    def shift(self, seed: TensorLike, height: int, width: int) -> tuple:
        """This call's padding as `resample` takes it: ("pad", width, width, value); CONSTANT
        mode only."""
        return "pad", self.width, self.width, self._value(seed)

    def _value(self, seed: TensorLike) -> TensorLike | float:
        """This call's grey level of the border: ``constant_value``, or drawn from ``seed``."""
        if self.constant_value != "uniform":
            return float(self.constant_value)
        import tensorflow as tf

        from samplevis.runtime.seeds import as_seed

        return tf.random.stateless_uniform([], as_seed(seed), 0.0, 1.0)

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        return height + 2 * self.width, width + 2 * self.width


@dataclasses.dataclass(frozen=True)
class Jitter:
    """Random crop reducing height and width by ``d`` (offsets uniform in [0, d]).

    ``seed``: None, or an int folded into the seed of every call (Lucid's op seed).

    Attributes:
        d: the crop's play in px: the images lose `d` px in height and width.
        seed: None, or an int folded into the seed of every call.
    """

    d: int
    seed: int | None = None

    def __post_init__(self) -> None:
        if not is_int(self.d) or self.d < 0:
            raise ValueError(f"jitter d must be an int >= 0, got {self.d!r}.")
        object.__setattr__(self, "d", int(self.d))
        object.__setattr__(self, "seed", check_own_seed(self.seed))

    def __call__(self, images: TensorLike, seed: TensorLike) -> TensorLike:
        import tensorflow as tf

        images = as_images(images)
        b, h, w, c = dims(images)
        self._check_size(h, w)
        return tf.image.stateless_random_crop(
            images, [b, h - self.d, w - self.d, c], call_seed(seed, self.seed)
        )

    def _check_size(self, height: object, width: object) -> None:
        if isinstance(height, int) and isinstance(width, int) and min(height, width) <= self.d:
            raise ValueError(
                f"jitter({self.d}) needs images larger than {self.d} px, got {height}x{width}; "
                "pad first or use a smaller d."
            )

    def shift(self, seed: TensorLike, height: int, width: int) -> tuple:
        """This call's crop as `resample` takes it: ("crop", rows, columns, output size), the
        corner drawn as `tf.image.stateless_random_crop` draws it in `__call__`."""
        import tensorflow as tf

        self._check_size(height, width)
        draws = tf.random.stateless_uniform(
            [4], call_seed(seed, self.seed), maxval=tf.int32.max, dtype=tf.int32
        )
        corner = draws % tf.constant([1, self.d + 1, self.d + 1, 1])
        return "crop", corner[1], corner[2], self.output_size(height, width)

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        return height - self.d, width - self.d


@dataclasses.dataclass(frozen=True)
class RandomScale:
    """Zoom the content about the centre by a factor drawn from ``scales``.

    The output keeps the input size (see this module's docstring); a factor
    s > 1 enlarges the content, s < 1 shrinks it and fills the border.
    ``seed``: None, or an int folded into the seed of every call (Lucid's op seed).

    Attributes:
        scales: the factors to draw from, each > 0.
        fill_mode: what fills the border: CONSTANT, REFLECT, WRAP or NEAREST.
        fill_value: a CONSTANT fill's value.
        seed: None, or an int folded into the seed of every call.
    """

    scales: Sequence[float]
    fill_mode: str = "CONSTANT"
    fill_value: float = 0.5
    seed: int | None = None

    def __post_init__(self) -> None:
        scales = _numbers("scales", self.scales, "[0.9, 1.0, 1.1]")
        if min(scales) <= 0:
            raise ValueError(
                f"scales must be a non-empty list of positive numbers, got {self.scales!r}."
            )
        object.__setattr__(self, "scales", scales)
        object.__setattr__(self, "fill_mode", _check_fill(self.fill_mode, self.fill_value))
        object.__setattr__(self, "seed", check_own_seed(self.seed))

    def stage(self, seed: TensorLike) -> tuple:
        """This call's resampling as `resample` takes it: (A, fill_mode, fill_value)."""
        import tensorflow as tf

        inv = 1.0 / _choose(self.scales, call_seed(seed, self.seed))
        zero = tf.zeros([], tf.float32)
        matrix = tf.stack([tf.stack([inv, zero]), tf.stack([zero, inv])])
        return matrix, self.fill_mode, float(self.fill_value)

    def __call__(self, images: TensorLike, seed: TensorLike) -> TensorLike:
        return resample(as_images(images), [self.stage(seed)])

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        return height, width


def _to_radians(angle: float, units: str) -> float:
    units = units.lower()
    if units in ("degrees", "degree", "degs", "deg"):
        return angle * math.pi / 180.0
    if units in ("radians", "radian", "rads", "rad"):
        return angle
    raise ValueError(f"units must be 'degrees' or 'radians', got {units!r}.")


@dataclasses.dataclass(frozen=True)
class RandomRotate:
    """Rotate counter-clockwise (as displayed) about the centre by an angle from ``angles``.

    Bilinear; corners outside the input are filled with ``fill_value``
    (0.0, black, as Lucid's rotate). ``seed``: None, or an int folded into the
    seed of every call (Lucid's op seed).

    Attributes:
        angles: the angles to draw from.
        units: "degrees" or "radians".
        fill_mode: what fills the corners: CONSTANT, REFLECT, WRAP or NEAREST.
        fill_value: a CONSTANT fill's value.
        seed: None, or an int folded into the seed of every call.
    """

    angles: Sequence[float]
    units: str = "degrees"
    fill_mode: str = "CONSTANT"
    fill_value: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        angles = _numbers("angles", self.angles, "[-5, 0, 5]")
        _to_radians(0.0, self.units)
        object.__setattr__(self, "angles", angles)
        object.__setattr__(self, "fill_mode", _check_fill(self.fill_mode, self.fill_value))
        object.__setattr__(self, "seed", check_own_seed(self.seed))

    def stage(self, seed: TensorLike) -> tuple:
        """This call's resampling as `resample` takes it: (A, fill_mode, fill_value)."""
        import tensorflow as tf

        radians = tuple(_to_radians(a, self.units) for a in self.angles)
        theta = _choose(radians, call_seed(seed, self.seed))
        cos, sin = tf.cos(theta), tf.sin(theta)
        # Image y points down, so this output->input map turns content counter-clockwise on screen.
        matrix = tf.stack([tf.stack([cos, -sin]), tf.stack([sin, cos])])
        return matrix, self.fill_mode, float(self.fill_value)

    def __call__(self, images: TensorLike, seed: TensorLike) -> TensorLike:
        return resample(as_images(images), [self.stage(seed)])

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        return height, width


@dataclasses.dataclass(frozen=True)
class CropOrPadTo:
    """Centre-crop or zero-pad to ``height`` x ``width`` (deterministic).

    Attributes:
        height: the images' height after it, px.
        width: their width, px.
    """

    height: int
    width: int

    def __post_init__(self) -> None:
        for name in ("height", "width"):
            v = getattr(self, name)
            if not is_int(v) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}.")
            object.__setattr__(self, name, int(v))

    def __call__(self, images: TensorLike, seed: TensorLike) -> TensorLike:
        import tensorflow as tf

        return tf.image.resize_with_crop_or_pad(as_images(images), self.height, self.width)

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        return self.height, self.width
