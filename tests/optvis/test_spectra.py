"""The test-side power spectra (`spectra.py`), on inputs with known answers."""

import numpy as np
import pytest

from spectra import high_frequency_share, radial_power_spectrum, spectrum_slope


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
    slopes = spectrum_slope(white_noise())
    assert np.all(np.abs(slopes) < 0.1), slopes


def test_one_over_f_noise_has_spectrum_slope_minus_two():
    slopes = spectrum_slope(one_over_f_noise())
    assert np.all(np.abs(slopes + 2) < 0.15), slopes


def test_high_frequency_share_of_white_noise_is_the_area_outside_the_quarter_circle():
    share = high_frequency_share(white_noise())
    np.testing.assert_allclose(share, 1 - np.pi * 0.25**2, atol=0.02)


def test_high_frequency_share_is_small_for_one_over_f_noise():
    assert np.all(high_frequency_share(one_over_f_noise()) < 0.3)


def test_high_frequency_share_counts_a_sinusoid_by_its_frequency():
    # Frequencies on the FFT grid (k / 64) so all power sits at one frequency.
    assert high_frequency_share(sinusoid(20 / 64))[0] == pytest.approx(1.0)
    assert high_frequency_share(sinusoid(6 / 64))[0] == pytest.approx(0.0, abs=1e-12)


def test_radial_spectrum_of_a_sinusoid_peaks_at_its_frequency():
    freqs, power = radial_power_spectrum(sinusoid(10 / 64))
    assert freqs[np.argmax(power[0])] == pytest.approx(10 / 64)
    assert freqs[0] == pytest.approx(1 / 64) and freqs[-1] == pytest.approx(0.5)
