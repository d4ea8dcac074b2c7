"""Type predicates for argument checks, shared by every module (this one imports none of them)."""

from __future__ import annotations

import math
import numbers

import numpy as np


def is_int(value: object) -> bool:
    """A Python or numpy int. A bool is an int to Python, but never a count or an index here."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value: object) -> bool:
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
