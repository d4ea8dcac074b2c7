"""Stateless seeds: one user seed becomes an int32 [2] tensor; sub-tasks get theirs by fold-in.

Every random draw in samplevis (initial states, transforms, MCMC) uses stateless ops with such a
seed, so the same seed gives the same result and no global generator is touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import tensorflow as tf

SeedLike: TypeAlias = "int | Sequence[int] | np.ndarray | tf.Tensor | None"


def as_seed(seed: SeedLike) -> tf.Tensor:
    """A stateless seed, int32 [2].

    Args:
      seed: an int 0 <= n < 2**62 (the seed [n >> 31, n mod 2**31], so [0, n]
        for n < 2**31), a pair of ints / shape-[2] tensor, or None for a
        fresh seed from the operating system's entropy (samplers record the
        seed they used, so such a run can be repeated).
    """
    if seed is None:
        # Fresh entropy, not a global generator: nothing else is affected.
        return tf.constant(np.random.SeedSequence().generate_state(2) >> 1, tf.int32)
    if isinstance(seed, (int, np.integer)):
        if not 0 <= seed < 2**62:  # two 31-bit words; larger ints would wrap onto smaller
            raise ValueError(f"seed must be an int in [0, 2**62), or a pair of ints; got {seed}.")
        seed = int(seed)
        return tf.constant([(seed >> 31) & 0x7FFFFFFF, seed & 0x7FFFFFFF], tf.int32)
    pair = tf.convert_to_tensor(seed)
    if pair.shape != (2,) or not pair.dtype.is_integer:
        raise ValueError(
            f"seed must be an int or an integer tensor of shape [2]; got {pair.dtype.name} "
            f"of shape {pair.shape.as_list()}."
        )
    if pair.dtype != tf.int32 and tf.executing_eagerly():
        words = pair.numpy()
        if np.any(words < -(2**31)) or np.any(words >= 2**31):  # the cast would wrap them
            raise ValueError(
                f"each word of a seed pair must fit in 32 bits (|word| < 2**31); "
                f"got {words.tolist()}."
            )
    return tf.cast(pair, tf.int32)


def split(seed: SeedLike, count: int) -> list[tf.Tensor]:
    """`count` independent seeds, int32 [2] each, from one."""
    seeds = tf.random.experimental.stateless_split(as_seed(seed), num=count)
    return [seeds[i] for i in range(count)]


def fold_in(seed: tf.Tensor, index: int | tf.Tensor) -> tf.Tensor:
    """The seed of sub-task `index` (e.g. a block), int32 [2]."""
    folded = tf.random.experimental.stateless_fold_in(seed, tf.cast(index, tf.int64))
    return tf.cast(folded, tf.int32)
