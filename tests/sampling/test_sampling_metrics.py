"""Image statistics of the sampling benchmarks, on inputs with known answers."""

import numpy as np
import pytest

from samplevis.sampling import metrics


def test_cosine_distance_is_zero_for_equal_one_for_orthogonal_two_for_opposite_vectors():
    a = np.array([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0]])
    d = metrics.cosine_distances(a[:1], a)
    np.testing.assert_allclose(d, [[0.0, 1.0, 2.0]], atol=1e-12)
    assert metrics.mean_pairwise_cosine_distance(a) == pytest.approx((1 + 2 + 1) / 3)


def test_pooled_features_are_spatial_means():
    features = np.zeros([2, 4, 4, 3])
    features[0, :, :, 0] = 1.0
    features[1, :2, :, 1] = 2.0  # half of the map at 2 -> mean 1
    np.testing.assert_allclose(metrics.pool(features), [[1, 0, 0], [0, 1, 0]])
    assert metrics.mean_pairwise_cosine_distance(features) == pytest.approx(1.0)


def test_chain_diversity_of_fixed_orthogonal_chains_is_one_between_and_zero_within():
    eye = np.eye(3)
    features = np.stack([eye] * 5)  # 5 samples, chain c always at basis vector c
    between, within = metrics.chain_diversity(features)
    assert between == pytest.approx(1.0)
    assert within == pytest.approx(0.0, abs=1e-12)


def test_pixel_std_map_is_half_where_samples_alternate_between_zero_and_one():
    images = np.zeros([4, 3, 3, 3])
    images[::2, 1, 2] = 1.0
    std = metrics.pixel_std_map(images)
    expected = np.zeros([3, 3])
    expected[1, 2] = 0.5
    np.testing.assert_allclose(std, expected)


def test_grey_is_the_mean_over_colours_less_the_image_mean():
    image = np.zeros([2, 2, 3])
    image[0, 0] = [0.3, 0.6, 0.9]  # grey 0.6, the image's mean grey 0.15
    expected = np.full([1, 2, 2], -0.15)
    expected[0, 0, 0] = 0.45
    np.testing.assert_allclose(metrics.grey(image), expected)


def test_metrics_explain_wrong_shapes():
    with pytest.raises(ValueError, match=r"\[N, H, W, C\]"):
        metrics.grey(np.zeros([8, 8]))
    with pytest.raises(ValueError, match="at least 2"):
        metrics.mean_pairwise_cosine_distance(np.ones([1, 3]))


def test_gaussian_blur_keeps_flat_images_and_spreads_a_point_with_its_sigma():
    flat = np.full([1, 9, 9, 3], 0.3)
    assert np.allclose(metrics.gaussian_blur(flat, 2.0), 0.3)
    point = np.zeros([1, 41, 41, 1])
    point[0, 20, 20, 0] = 1.0
    blurred = metrics.gaussian_blur(point, 2.0)[0, :, :, 0]
    assert blurred.sum() == pytest.approx(1.0, abs=1e-4)
    r = np.arange(41) - 20
    variance = (blurred.sum(axis=0) * r**2).sum()  # of the profile along x
    assert variance == pytest.approx(4.0, rel=1e-3)


def test_distinct_by_pixels_ignore_speckle_and_count_copies_once():
    rng = np.random.default_rng(0)
    # references: flat images of four grey levels, 0.2 apart in order -> mean pairwise RMS 0.333
    references = np.stack([np.full([16, 16, 3], v) for v in (0.2, 0.4, 0.6, 0.8)])
    assert metrics.mean_pairwise_rms(references) == pytest.approx(1 / 3)
    base = references[0]
    speckled = base + 0.3 * rng.choice([-1.0, 1.0], size=[6, 16, 16, 3])  # pixel-scale only
    assert metrics.distinct_by_pixels(speckled, references) == [0]
    # 0.25 of 1/3 is 0.083: levels 0.09 apart count, 0.05 apart do not
    levels = np.stack([np.full([16, 16, 3], v) for v in (0.2, 0.25, 0.29, 0.38, 0.2)])
    assert metrics.distinct_by_pixels(levels, references) == [0, 2, 3]


def photos(size=128):
    """Four unrelated real photographs [4, size, size, 3] in [0, 1]."""
    from skimage import data, transform

    names = ("chelsea", "coffee", "astronaut", "rocket")
    return np.stack(
        [transform.resize(getattr(data, n)(), (size, size), anti_aliasing=True) for n in names]
    )


def coarse_cloud(size=128, seed=0):
    """A smooth field [size, size, 3] made only of frequencies below 1/16 cycle per pixel."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:size, :size] / size
    return sum(
        rng.normal(0, 0.1, 3) * np.cos(2 * np.pi * (ky * y + kx * x) + rng.uniform(0, 6))[..., None]
        for ky, kx in [(1, 0), (0, 2), (3, 1), (2, -4)]  # |k| / size < 1 / 16 for size 128
    )


def test_recoloured_relit_and_shifted_copies_are_structurally_the_same():
    cat = photos()[0]
    copies = np.stack(
        [
            np.roll(cat, (7, -11), axis=(0, 1)),  # shifted (circularly)
            0.6 * cat[..., [2, 0, 1]] + 0.2,  # colours permuted, contrast and brightness changed
            cat + coarse_cloud(),  # clouds of colour and brightness above 16 px
        ]
    )
    np.testing.assert_allclose(metrics.structural_distances(copies, cat[None]), 0.0, atol=1e-6)


def test_unrelated_photos_are_structurally_far_apart():
    distances = metrics.structural_distances(photos())
    np.testing.assert_allclose(np.diag(distances), 0.0, atol=1e-9)
    off = distances[~np.eye(4, dtype=bool)]
    assert off.min() > 0.75
    np.testing.assert_allclose(distances, distances.T, atol=1e-9)  # a shift one way or back


def test_structure_ignores_the_layout_above_16_px_and_noise_above_0_3_cycles():
    rng = np.random.default_rng(0)
    cat = photos()[0]
    fy, fx = np.meshgrid(np.fft.fftfreq(128), np.fft.fftfreq(128), indexing="ij")
    fine = np.sqrt(fx**2 + fy**2) > metrics.STRUCTURE_BAND[1]
    noise = np.real(np.fft.ifft2(np.fft.fft2(rng.normal(size=[128, 128])) * fine))
    noisy = cat + 0.3 * noise[..., None]  # pixel noise above the band only
    assert metrics.structural_distances(noisy[None], cat[None])[0, 0] < 1e-6


def test_structural_share_is_zero_for_recolourings_and_about_one_for_new_patterns():
    references = photos()
    cat = references[0]
    recoloured = np.stack([cat + coarse_cloud(seed=s) for s in range(5)])  # one chain, 5 samples
    new = np.stack([references[(i + 1) % 4] for i in range(5)])[:, None]  # a chain of 5 photos
    samples = np.concatenate([recoloured[:, None], new, new], axis=1)  # [5, 3, H, W, 3]
    share = metrics.structural_share(samples, references)
    assert share[0] < 1e-6
    # the other chains' pairs are the references' own pairs, and one repeat at 0
    assert 0.8 < share[1] == share[2] < 1.2
    # starts that are recolourings of one image give no unit: no share rather than a huge one
    assert np.isnan(metrics.structural_share(samples, recoloured[:3])).all()


def distinct_patterns(images: np.ndarray, references: np.ndarray, share: float = 0.25) -> list[int]:
    """Indices of the images [N, H, W, C] with patterns of their own, counted greedily: an image
    counts when its structural distance to every image counted before it is at least `share` times
    the median distance between `references` [M >= 2, H, W, C]."""
    threshold = share * metrics.between_distance(references)
    distances = metrics.structural_distances(images)
    counted: list[int] = []
    for i in range(len(images)):
        if all(distances[i, j] >= threshold for j in counted):
            counted.append(i)
    return counted


def test_distinct_patterns_count_recolourings_once():
    references = photos()
    cat, coffee = references[0], references[1]
    images = np.stack([cat, cat + coarse_cloud(seed=1), coffee, 0.5 * coffee + 0.3, cat])
    assert distinct_patterns(images, references) == [0, 2]
    # by pixels, the recoloured copies count as new images
    assert len(metrics.distinct_by_pixels(images, references)) > 2


def test_structure_map_is_dark_for_recolourings_and_bright_where_a_motif_changed():
    references = photos()
    cat = references[0]
    recoloured = np.stack([cat + coarse_cloud(seed=s) for s in range(4)])
    assert metrics.structure_map(recoloured).max() < 1e-6
    changed = recoloured.copy()
    changed[2:, :64, :64] = references[2][:64, :64]  # the top-left quarter of two samples
    where = metrics.structure_map(changed)
    assert where[8:56, 8:56].mean() > 5 * where[72:120, 72:120].mean()
