"""Sums whose rounding does not depend on thread scheduling.

tf.add_n (and the AddN that the gradient of a tensor used three or more times goes
through) starts from whichever input buffer it can reuse at run time, so with three or
more terms the rounding changes from call to call: a sampler's two runs of one seed
part within a few dozen steps. Two terms commute exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf


def ordered_sum(tensors: Sequence[tf.Tensor]) -> tf.Tensor:
    """Sum of same-shape tensors, always added in the order given."""
    return tf.reduce_sum(tf.stack(list(tensors)), axis=0)


def fan_out(x: tf.Tensor, n: int) -> list[tf.Tensor]:
    """n copies of x whose gradients come back through `ordered_sum`."""

    @tf.custom_gradient
    def copies(x):
        return [tf.identity(x) for _ in range(n)], lambda *grads: ordered_sum(grads)

    return copies(x)
