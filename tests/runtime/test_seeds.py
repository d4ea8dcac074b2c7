"""Stateless seeds: an int becomes two 31-bit words; anything that would wrap is refused."""

import numpy as np
import pytest

from samplevis.runtime.seeds import as_seed


def test_an_int_seed_is_its_high_and_low_31_bit_words():
    np.testing.assert_array_equal(as_seed(5).numpy(), [0, 5])
    np.testing.assert_array_equal(as_seed(2**31 + 7).numpy(), [1, 7])
    np.testing.assert_array_equal(as_seed(2**62 - 1).numpy(), [2**31 - 1, 2**31 - 1])
    np.testing.assert_array_equal(as_seed([3, 4]).numpy(), [3, 4])


def test_seed_pairs_whose_words_exceed_32_bits_are_refused():
    with pytest.raises(ValueError, match="fit in 32 bits"):
        as_seed([2**32 + 7, 0])  # would wrap onto [7, 0]
    np.testing.assert_array_equal(as_seed(np.array([7, 0], np.int64)).numpy(), [7, 0])


@pytest.mark.parametrize("seed", [-1, 2**62, 2**64 + 5])
def test_ints_outside_two_31_bit_words_are_refused(seed):
    with pytest.raises(ValueError, match=r"\[0, 2\*\*62\)"):
        as_seed(seed)
