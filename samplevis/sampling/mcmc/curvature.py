"""How stiff each part of a state is: the step-size ratio of one HMC over parts of unlike scale.

One HMC step moves every part with the same leapfrog step. When one part is much stiffer than
another (a facet's warp against its coarse coefficients), the stiff part sets the step and the
soft one barely moves, or the soft part sets it and the stiff one's proposals are rejected.
Scaling each part's step by 1 / sqrt(its curvature) is HMC with a mass matrix that is that
curvature on each part (Neal 2011, section 4.1), and keeps the target exact.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import tensorflow as tf
import tensorflow_probability as tfp

from samplevis.runtime.seeds import fold_in

# State units per probe: a finite difference over a step a chain might take, so the estimate
# averages over the kinks of a ReLU network rather than reading one side of one kink.
PROBE = 1e-2


def part_curvatures(
    target_log_prob_fn: Callable[..., tf.Tensor],
    state: Sequence[tf.Tensor],
    seed: tf.Tensor,
    floor: float = 0.0,
    probe: float = PROBE,
    num_probes: int = 2,
    parts: Sequence[int] | None = None,
) -> list[tf.Tensor | None]:
    """How stiff each part of the state is, per chain: the mean over `num_probes` random
    directions v of that part of |v'Hv| / v'v, H the Hessian of -log pi, floored at `floor`.

    Args:
      target_log_prob_fn: state parts (each [C, ...]) -> log pi [C].
      state: the parts, each [C, ...].
      seed: stateless seed int32 [2].
      floor: the least curvature to report: the prior's precision, which every direction has
        (away from a mode a ReLU network's curvature can come out near 0 or below).
      probe: the finite difference's length, in state units per coordinate.
      num_probes: random directions averaged per part.
      parts: the parts to measure (None: all); each part's probes are its own, so a part
        measures the same whichever others are measured, and the others cost no gradient.

    Returns:
      per part, float [C] (None for a part not measured); for a Gaussian part, its precision.
    """
    state = [tf.convert_to_tensor(s) for s in state]
    _, grads = tfp.math.value_and_gradient(target_log_prob_fn, state)
    curvatures: list[tf.Tensor | None] = []
    for i, part in enumerate(state):
        if parts is not None and i not in parts:
            curvatures.append(None)
            continue
        axes = list(range(1, part.shape.rank))
        found = []
        for k in range(num_probes):
            v = tf.random.stateless_normal(
                tf.shape(part), fold_in(seed, i * num_probes + k), dtype=part.dtype
            )
            moved = [s + probe * v if j == i else s for j, s in enumerate(state)]
            _, moved_grads = tfp.math.value_and_gradient(target_log_prob_fn, moved)
            slope = tf.reduce_sum(v * (moved_grads[i] - grads[i]), axis=axes)
            found.append(tf.abs(slope) / (probe * tf.reduce_sum(v * v, axis=axes)))
        curvatures.append(tf.maximum(tf.reduce_mean(tf.stack(found), axis=0), floor))
    return curvatures


def part_step_sizes(
    step_size: tf.Tensor,
    curvatures: Sequence[tf.Tensor],
    state: Sequence[tf.Tensor],
    scales: Sequence[tf.Tensor | float] | None = None,
) -> list[tf.Tensor]:
    """Per part, step sizes [C, 1, ..., 1] for one HMC over parts of unlike stiffness.

    Part i's step is sqrt(curvatures[0] / scales[i]) times the first part's: `scales[i]` is
    the curvature of the directions the part should move along at the first part's pace
    (default: its curvature, so a softer part takes proportionally longer steps). A scale below
    the part's curvature lets its soft directions move further, and the stiff ones are then held
    by the acceptance, which the step-size adaptation keeps at its target. The first part's step
    is `step_size` [C], lowered where needed so that no part starts with a longer step than its
    own curvature allows (a burn-in too short to adapt the steps still accepts).
    """
    first = curvatures[0]
    scales = curvatures if scales is None else [tf.cast(s, first.dtype) for s in scales]
    ratios = [tf.sqrt(first / s) for s in scales]
    # part i starts at step_size * ratio_i, within what its curvature allows, step_size *
    # sqrt(first / c_i), for every i: so the first step is at most sqrt(s_i / c_i) of step_size
    start = step_size * tf.reduce_min(
        tf.stack([tf.sqrt(s / c) for s, c in zip(scales, curvatures)]), axis=0
    )
    return [
        tf.reshape(tf.cast(start * r, s.dtype), [-1] + [1] * (s.shape.rank - 1))
        for r, s in zip(ratios, state)
    ]
