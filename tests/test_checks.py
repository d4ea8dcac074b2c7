"""The shared argument predicates: what counts as an int, a number and a flag."""

import math

import numpy as np
import pytest

from samplevis import transform
from samplevis.checks import check_bool, is_bool, is_int, is_number


def test_ints_include_numpy_ints_but_not_bools_or_floats():
    assert [is_int(v) for v in (3, np.int64(3), np.uint8(3), -2)] == [True] * 4
    assert [is_int(v) for v in (True, np.bool_(True), 3.0, "3", None)] == [False] * 5


def test_numbers_are_finite_reals_but_not_bools():
    assert [is_number(v) for v in (0.5, 2, np.float32(1.5), -1e300)] == [True] * 4
    assert [is_number(v) for v in (math.inf, math.nan, True, "1", None)] == [False] * 5


def test_flags_are_bools_and_a_string_is_refused():
    assert [is_bool(v) for v in (True, np.bool_(False))] == [True] * 2
    assert [is_bool(v) for v in (1, "no", None)] == [False] * 3
    assert check_bool("fft", np.bool_(False)) is False
    assert check_bool("fft", True) is True
    with pytest.raises(TypeError, match=r"fft must be True or False; got 'no'"):
        check_bool("fft", "no")


def test_a_numpy_int_is_stored_as_a_python_int():
    assert transform.Jitter(np.int64(4)) == transform.Jitter(4)
    assert type(transform.Jitter(np.int64(4)).d) is int
    with pytest.raises(ValueError, match="jitter d must be an int >= 0"):
        transform.Jitter(True)
