"""The structural distance left after the best smooth warp: blind to colour, lighting, shifts and
bends.

`metrics.structural_distances` takes out colour, lighting and shifts, but not bends: a copy of
an optimized image bent by a smooth warp of a few pixels is as far from it as an image
optimized from another seed, because fine stripes decorrelate under any local displacement
(docs/sampling_designs.md, "The chain's state"). A person calls such a copy a copy. Here each pair's
`metrics.structure` maps are registered first, by their peak circular correlation and then by
the smooth warp (`density.chain_param.warp_images`, 8 x 8 control points) that maximizes their correlation,
found coarse to fine by gradient ascent; what the best warp cannot explain is the distance.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from samplevis.sampling import metrics
from samplevis.sampling.density.chain_param import warp_images

# Coarse to fine: the correlation of fine stripes has a local peak every stripe, so the warp is
# first fitted to blurred maps (sigma in px), then to sharper ones.
SIGMAS = (4.0, 2.0, 0.0)
STEPS = 60  # Adam steps per sigma
RATE = 0.3  # px per step
# the registering warp's control points per side: the bends of a chain's warp up to this grid
# (its default is 4) are taken out; a finer one would bend one photograph's edges onto another's
GRID = 8


def _correlation(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    """Pearson correlation of maps a, b [N, H, W, 1] per pair, [N]."""
    a = a - tf.reduce_mean(a, [1, 2, 3], keepdims=True)
    b = b - tf.reduce_mean(b, [1, 2, 3], keepdims=True)
    norms = tf.reduce_sum(a * a, [1, 2, 3]) * tf.reduce_sum(b * b, [1, 2, 3])
    return tf.reduce_sum(a * b, [1, 2, 3]) / tf.sqrt(norms + 1e-12)


def registered_distances(a: np.ndarray, b: np.ndarray, grid: int = GRID) -> np.ndarray:
    """1 - the correlation of the `metrics.structure` maps of a[i] and b[i] [N, H, W, C] once
    b[i]'s is shifted and warped (`grid` x `grid` control points) onto a[i]'s, [N]. A recoloured,
    relit, shifted or smoothly bent copy is near 0; unrelated images stay near 1."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.ndim != 4:
        raise ValueError(
            f"pairs of images [N, H, W, C] of one shape are compared; got {a.shape} and {b.shape}."
        )
    sa = metrics.structure(a)
    sb = metrics.aligned_pairs(sa, metrics.structure(b))
    warp = tf.Variable(tf.zeros([len(sa), grid, grid, 2]))
    optimizer = keras.optimizers.Adam(RATE)

    @tf.function
    def ascend(target: tf.Tensor, moving: tf.Tensor) -> None:
        with tf.GradientTape() as tape:
            loss = -tf.reduce_sum(_correlation(target, warp_images(moving, warp, pixels=1.0)))
        optimizer.apply_gradients([(tape.gradient(loss, warp), warp)])

    for sigma in SIGMAS:
        target, moving = (
            tf.constant((metrics.circular_blur(m, sigma) if sigma else m)[..., None], tf.float32)
            for m in (sa, sb)
        )
        for _ in range(STEPS):
            ascend(target, moving)
    best = warp_images(tf.constant(sb[..., None], tf.float32), warp, pixels=1.0)
    return 1.0 - _correlation(tf.constant(sa[..., None], tf.float32), best).numpy()


def _pairs(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    i, j = np.triu_indices(len(images), k=1)
    return images[i], images[j]


def between_distance(references: np.ndarray) -> float:
    """Median registered distance between pairs of `references` [M >= 2, H, W, C] (multi-seed
    optimized images): the registered share's unit, as `metrics.between_distance` is the
    structural share's."""
    if len(references) < 2:
        raise ValueError(f"need at least 2 reference images; got {len(references)}.")
    return float(np.median(registered_distances(*_pairs(np.asarray(references)))))
