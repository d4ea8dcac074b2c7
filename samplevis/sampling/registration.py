"""The structural distance left after the best smooth warp: blind to colour, lighting, shifts and
bends.

`metrics.structural_distances` takes out colour, lighting and shifts, but not bends: a copy of
an optimized image bent by a smooth warp of a few pixels is as far from it as an image
optimized from another seed, because fine stripes decorrelate under any local displacement
(docs/sampling_designs.md, "The chain's state"). A person calls such a copy a copy. Here each pair's
`metrics.structure` maps are registered first, by their peak circular correlation and then by
the smooth warp (`facet.warp_images`, 8 x 8 control points) that maximizes their correlation,
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


def registered_share(samples: np.ndarray, references: np.ndarray) -> np.ndarray:
    """How far the patterns move within each chain once bends are taken out, [C]: the median
    registered distance between pairs of a chain's samples [N >= 2, C, H, W, 3] over the median
    between pairs of `references` [M >= 2, H, W, 3] (multi-seed optimized images). Near 0: every
    sample a bent copy of the others; about 1: as different as images from different seeds; NaN
    where the references are copies of one another (`metrics.share_of`)."""
    samples = np.asarray(samples)
    if samples.ndim != 5 or samples.shape[0] < 2 or len(references) < 2:
        raise ValueError(
            "need samples [N >= 2, C, H, W, 3] and at least 2 references; got shapes "
            f"{samples.shape} and {np.shape(references)}."
        )
    num_pairs = samples.shape[0] * (samples.shape[0] - 1) // 2
    firsts, seconds = zip(*(_pairs(samples[:, c]) for c in range(samples.shape[1])))
    within = registered_distances(np.concatenate(firsts), np.concatenate(seconds))
    per_chain = np.median(within.reshape(samples.shape[1], num_pairs), axis=1)
    return metrics.share_of(per_chain, between_distance(references))
