"""The shared argument checks: what counts as an int, a number and a flag; errors and warnings
about options, in each reader's names."""

import math
import pickle

import numpy as np
import pytest

from samplevis import transform
from samplevis.runtime.checks import (
    NO_VALUE,
    OptionError,
    OptionWarning,
    check_bool,
    is_bool,
    is_int,
    is_number,
)


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


def flags(option: str, value=NO_VALUE) -> str:
    """A command line's names: hmc_opts.step_size → --step-size, with a value --step-size 0.1."""
    flag = "--" + option.rpartition(".")[2].replace("_", "-")
    return flag if value is NO_VALUE else f"{flag} {value}"


def test_an_option_error_names_options_in_python_or_in_the_readers_own_terms():
    error = OptionError(
        "hmc_opts.num_burnin_steps",
        "got {got}. Raise {hmc_opts.num_burnin_steps} or set "
        "{hmc_opts.adapt_step_size=False}; {seed=1} and {hmc_opts.kernel=kind}.",
        got=1,
        kind="nuts",
    )
    assert isinstance(error, ValueError) and error.option == "hmc_opts.num_burnin_steps"
    assert str(error) == (
        "got 1. Raise hmc_opts['num_burnin_steps'] or set "
        "adapt_step_size=False; seed=1 and kernel='nuts'."
    )
    assert error.spelt(flags) == (
        "got 1. Raise --num-burnin-steps or set --adapt-step-size False; "
        "--seed 1 and --kernel nuts."
    )


def test_values_a_user_gave_are_quoted_as_they_are_not_read_as_options():
    error = OptionError("channels", "{channels} must be numbers; got {got!r}.", got="{steps}:1")
    assert str(error) == "channels must be numbers; got '{steps}:1'."
    assert error.spelt(flags) == "--channels must be numbers; got '{steps}:1'."


def test_option_errors_and_warnings_survive_pickling_with_their_parts():
    for made in (
        OptionError("steps", "{steps} must be >= 1; got {got}.", got=0),
        OptionWarning("hmc_opts.step_size", "give a smaller {hmc_opts.step_size}."),
    ):
        copy = pickle.loads(pickle.dumps(made))
        assert type(copy) is type(made) and str(copy) == str(made)
        assert copy.spelt(flags) == made.spelt(flags) and copy.option == made.option
    assert issubclass(OptionWarning, UserWarning)
