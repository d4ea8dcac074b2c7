"""Image statistics of the sampling benchmarks, on inputs with known answers."""

import numpy as np
import pytest

from samplevis.sampling import metrics


def white_noise(n=4, size=128, seed=0):
    return np.random.default_rng(seed).normal(0.5, 0.1, size=[n, size, size, 3])


def one_over_f_noise(n=4, size=128, seed=0):
    """Noise whose amplitude falls as 1/f, i.e. power as 1/f^2."""
    rng = np.random.default_rng(seed)
    fy, fx = np.meshgrid(np.fft.fftfreq(size), np.fft.fftfreq(size), indexing="ij")
    f = np.maximum(np.sqrt(fx**2 + fy**2), 1.0 / size)
    spectrum = (rng.normal(size=[n, size, size]) + 1j * rng.normal(size=[n, size, size])) / f
    grey = np.real(np.fft.ifft2(spectrum))
    return np.repeat(grey[..., None], 3, axis=-1)


def sinusoid(freq, size=64):
    x = np.arange(size)
    wave = np.sin(2 * np.pi * freq * x)[None, :] * np.ones([size, 1])
    return np.repeat(wave[None, ..., None], 3, axis=-1)


def test_white_noise_has_a_flat_spectrum():
    slopes = metrics.spectrum_slope(white_noise())
    assert np.all(np.abs(slopes) < 0.1), slopes


def test_one_over_f_noise_has_spectrum_slope_minus_two():
    slopes = metrics.spectrum_slope(one_over_f_noise())
    assert np.all(np.abs(slopes + 2) < 0.15), slopes


def test_high_frequency_share_of_white_noise_is_the_area_outside_the_quarter_circle():
    share = metrics.high_frequency_share(white_noise())
    np.testing.assert_allclose(share, 1 - np.pi * 0.25**2, atol=0.02)


def test_high_frequency_share_is_small_for_one_over_f_noise():
    assert np.all(metrics.high_frequency_share(one_over_f_noise()) < 0.3)


def test_high_frequency_share_counts_a_sinusoid_by_its_frequency():
    # Frequencies on the FFT grid (k / 64) so all power sits at one frequency.
    assert metrics.high_frequency_share(sinusoid(20 / 64))[0] == pytest.approx(1.0)
    assert metrics.high_frequency_share(sinusoid(6 / 64))[0] == pytest.approx(0.0, abs=1e-12)


def test_radial_spectrum_of_a_sinusoid_peaks_at_its_frequency():
    freqs, power = metrics.radial_power_spectrum(sinusoid(10 / 64))
    assert freqs[np.argmax(power[0])] == pytest.approx(10 / 64)
    assert freqs[0] == pytest.approx(1 / 64) and freqs[-1] == pytest.approx(0.5)


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


def test_metrics_explain_wrong_shapes():
    with pytest.raises(ValueError, match=r"\[N, H, W, C\]"):
        metrics.spectrum_slope(np.zeros([8, 8]))
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


def test_distinct_images_ignore_speckle_and_count_copies_once():
    rng = np.random.default_rng(0)
    # references: flat images of four grey levels, 0.2 apart in order -> mean pairwise RMS 0.333
    references = np.stack([np.full([16, 16, 3], v) for v in (0.2, 0.4, 0.6, 0.8)])
    assert metrics.mean_pairwise_rms(references) == pytest.approx(1 / 3)
    base = references[0]
    speckled = base + 0.3 * rng.choice([-1.0, 1.0], size=[6, 16, 16, 3])  # pixel-scale only
    assert metrics.distinct_images(speckled, references) == [0]
    # 0.25 of 1/3 is 0.083: levels 0.09 apart count, 0.05 apart do not
    levels = np.stack([np.full([16, 16, 3], v) for v in (0.2, 0.25, 0.29, 0.38, 0.2)])
    assert metrics.distinct_images(levels, references) == [0, 2, 3]
