"""The structural distance after registration, on photographs with known answers: bent copies are
copies, other photographs are not."""

import numpy as np
import pytest
import tensorflow as tf
from test_sampling_metrics import coarse_cloud, photos

from samplevis.sampling import metrics, registration
from samplevis.sampling.density.chain_param import warp_images


def bent(images: np.ndarray, pixels: float, grid: int = 4, seed: int = 0) -> np.ndarray:
    """images [N, H, W, 3] displaced by a smooth random warp: each of grid x grid control points
    moved by a normal of `pixels` px a side."""
    rng = np.random.default_rng(seed)
    warp = rng.normal(size=[len(images), grid, grid, 2]) * pixels
    return warp_images(
        tf.constant(images, tf.float32), tf.constant(warp, tf.float32), pixels=1.0
    ).numpy()


def test_bent_recoloured_and_shifted_copies_are_near_zero_where_the_plain_distance_is_not():
    cats = np.repeat(photos()[:1], 3, axis=0)
    copies = bent(cats, pixels=2.0)
    copies[1] = np.roll(copies[1], (9, -5), axis=(0, 1))
    copies[2] = 0.6 * copies[2][..., [2, 0, 1]] + 0.2 + coarse_cloud()
    plain = np.diag(metrics.structural_distances(cats, copies))
    registered = registration.registered_distances(cats, copies)
    assert registered.max() < 0.15
    assert plain.min() > 2 * registered.max()  # the bend alone takes the plain distance this far


@pytest.mark.slow
def test_unrelated_photos_stay_far_apart_whatever_the_warp():
    images = photos()
    others = np.roll(images, 1, axis=0)
    distances = registration.registered_distances(images, others)
    # a smooth warp of 2 x 8 x 8 numbers cannot make one photograph's detail another's
    assert distances.min() > 0.45


def test_wrong_shapes_are_named():
    with pytest.raises(ValueError, match="pairs of images"):
        registration.registered_distances(photos()[:2], photos()[:3])
