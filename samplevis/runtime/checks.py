"""Argument checks shared by every module (this one imports none of them): type predicates, and
the errors and warnings about options that each reader sees in their own names."""

from __future__ import annotations

import ast
import functools
import math
import numbers
import os
import string
import sys
import types
from collections.abc import Callable
from typing import Any, TypeAlias, TypeGuard

import numpy as np


def is_int(value: object) -> TypeGuard[int]:
    """A Python or numpy int. A bool is an int to Python, but never a count or an index here."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value: object) -> TypeGuard[float]:
    """A finite real number, not a bool: inf passes `> 0` and would run on to NaN images."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def is_bool(value: object) -> bool:
    """A Python or numpy bool; a string such as "no" would otherwise count as True."""
    return isinstance(value, (bool, np.bool_))


def check_bool(name: str, value: object) -> bool:
    """Return `value` as a bool, or raise a TypeError naming `name`."""
    if is_bool(value):
        return bool(value)
    raise TypeError(f"{name} must be True or False; got {value!r}.")


class NoValue:
    """The value of an option named without one (`spell(option)`); its only instance is
    NO_VALUE."""

    def __repr__(self) -> str:
        return "NO_VALUE"


NO_VALUE = NoValue()
# How a reader names an option: spell("hmc_opts.step_size") or spell("seed", 1).
Spelling = Callable[[str, Any], str]
# TensorFlow and Keras ship no type information, so their tensors and models are Any to the type
# checker; these names say which is meant where one is taken.
TensorLike: TypeAlias = Any  # a tf.Tensor, or a NumPy array that converts to one
KerasModel: TypeAlias = Any  # a keras.Model


def python_spelling(option: str, value: Any = NO_VALUE) -> str:
    """An option as Python code names it: 'steps' → steps, 'hmc_opts.step_size' →
    hmc_opts['step_size']; with a value, as a keyword argument: seed=1, adapt_step_size=False."""
    parent, _, name = option.rpartition(".")
    if value is not NO_VALUE:
        return f"{name}={value!r}"
    return f"{parent}[{name!r}]" if parent else name


class _Spelt(string.Formatter):
    """Formats a message template: {name} is one of the message's values when it has one by that
    name, else an option ('steps', 'hmc_opts.kernel'), and {option=value} an option set to a value
    (a Python literal, or the name of one of the message's values)."""

    def __init__(self, spell: Spelling):
        self.spell = spell

    def get_field(self, field_name: str, args, kwargs) -> tuple[Any, str]:
        if field_name in kwargs:
            return kwargs[field_name], field_name
        option, has_value, value = field_name.partition("=")
        if not has_value:
            return self.spell(option, NO_VALUE), field_name
        value = kwargs[value] if value in kwargs else ast.literal_eval(value)
        return self.spell(option, value), field_name


def spelt(template: str, spell: Spelling, **values: Any) -> str:
    """`template` (see `_Spelt`) with its options named by `spell` and its `values` filled in."""
    return _Spelt(spell).vformat(template, (), values)


class OptionMessage(Exception):
    """An error or warning about an option, whose message names options as {placeholders} so
    that each reader sees them in their own terms: `str()` gives Python's names
    (hmc_opts['num_results']), `spelt(spell)` another's (a command line's --num-results).

    `option` is the option the message concerns ('steps', 'hmc_opts.num_results'); `template`
    is the message (see `_Spelt`), `values` the values it quotes, so that a value given by the
    user never reads as a placeholder.
    """

    def __init__(self, option: str, template: str, **values: Any):
        self.option = option
        self.template = template
        self.values = values
        super().__init__(self.spelt(python_spelling))

    def spelt(self, spell: Spelling) -> str:
        """The message with every option named by `spell(option, value=NO_VALUE)`."""
        return spelt(self.template, spell, **self.values)

    def __reduce__(self):  # pickled across processes (Ray workers) with its parts, not its text
        return functools.partial(type(self), **self.values), (self.option, self.template)


class OptionError(OptionMessage, ValueError):
    """A value an option cannot take, or options that do not go together; see `OptionMessage`."""


class OptionWarning(OptionMessage, UserWarning):
    """Something a user should know about a run, with the options that change it; see
    `OptionMessage`."""


# Antialiased and bicubic resizes overshoot [0, 1] a little; only values beyond this are a mistake.
RESAMPLING_SLACK = 0.5


def check_images(images: TensorLike) -> None:
    """Raise a ValueError unless `images` is a rank-4 [B, H, W, 3] array or tensor."""
    shape = tuple(images.shape)
    if len(shape) != 4:
        hint = " Add a batch axis: images[None]." if len(shape) == 3 else ""
        raise ValueError(f"images must have shape [B, H, W, 3]; got shape {shape}.{hint}")
    if shape[-1] != 3:
        raise ValueError(
            f"images must have 3 colour channels (RGB, last axis); got shape {shape}. "
            "Convert greyscale with np.repeat(x, 3, axis=-1) and drop alpha with x[..., :3]."
        )


def check_unit_range(images: TensorLike, slack: float = 0.0) -> np.ndarray:
    """`images` as float32 [B, H, W, 3], or raise unless finite and in [-slack, 1 + slack]: 8-bit
    values would otherwise run silently at 255 times the contrast the network was trained on."""
    images = np.asarray(images, dtype=np.float32)
    check_images(images)
    if not np.all(np.isfinite(images)):
        raise ValueError("images contain NaN or infinite values; give finite values in [0, 1].")
    if images.size and (images.min() < -slack or images.max() > 1.0 + slack):
        raise ValueError(
            f"images must be in [0, 1], got values in [{images.min():g}, "
            f"{images.max():g}]; divide 8-bit images by 255."
        )
    return images


def user_stacklevel() -> int:
    """The `stacklevel` for `warnings.warn`, called right here, that names the first frame outside
    samplevis: the user's line, however many of the package's functions lie in between."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
    frame: types.FrameType | None = sys._getframe(1)
    level = 1  # the function that warns is level 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level
