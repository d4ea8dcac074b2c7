"""Power spectra of images, for checks that samples look like images and not like noise: the
slope of a natural image's spectrum, the share of its power at high frequencies (pure NumPy).
The library does not use them; the tests and the sampling experiments do.

Frequencies are in cycles per pixel (0 to 0.5 along an axis). Power spectra are of the grey
image (mean over colours) minus its mean (`samplevis.sampling.metrics.grey`).
"""

from __future__ import annotations

import numpy as np

from samplevis.sampling import metrics

# Lower end of the slope fit: skip the lowest rings, which hold few coefficients.
SLOPE_MIN_FREQ = 2.0 / 64.0
# Frequencies above this count as "high" (the project's sampling notes use 0.25).
HIGH_FREQ = 0.25


def _power_and_freq(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Power [N, H, W] of every 2-D frequency and its magnitude [H, W] (cycles/px)."""
    grey = metrics.grey(images)
    h, w = grey.shape[1:]
    power = np.abs(np.fft.fft2(grey)) ** 2 / (h * w)
    fy, fx = np.meshgrid(np.fft.fftfreq(h), np.fft.fftfreq(w), indexing="ij")
    return power, np.sqrt(fx**2 + fy**2)


def _rings(images: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(freqs [R], mean power [N, R], coefficients per ring [R])."""
    power, freq = _power_and_freq(images)
    n = min(power.shape[1:])
    ring = np.rint(freq * n).astype(int)
    rings = np.arange(1, n // 2 + 1)
    counts = np.bincount(ring.ravel(), minlength=n)
    sums = np.stack([np.bincount(ring.ravel(), p.ravel(), minlength=n) for p in power])
    return rings / n, sums[:, rings] / counts[rings], counts[rings]


def radial_power_spectrum(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Radially averaged power spectrum.

    Args:
      images: [N, H, W, C] (any range; only variations matter).

    Returns:
      (freqs [R] in cycles/px, power [N, R]), rings of width 1/min(H, W) from
      the lowest nonzero frequency up to 0.5.
    """
    freqs, power, _ = _rings(images)
    return freqs, power


def spectrum_slope(images: np.ndarray, min_freq: float = SLOPE_MIN_FREQ) -> np.ndarray:
    """Slope of log power against log frequency, per image [N].

    About 0 for white noise, -2 for natural images and 1/f-amplitude noise.
    Fitted by least squares over rings with min_freq <= f <= 0.5, each ring
    weighted by its number of coefficients (the variance of its log mean
    power falls as one over that number).
    """
    freqs, power, counts = _rings(images)
    keep = freqs >= min_freq
    weight = counts[keep] / counts[keep].sum()
    x = np.log(freqs[keep])
    y = np.log(np.maximum(power[:, keep], 1e-30))
    x = x - weight @ x
    y = y - (y @ weight)[:, None]
    return (y @ (weight * x)) / (weight @ (x * x))


def high_frequency_share(images: np.ndarray, cutoff: float = HIGH_FREQ) -> np.ndarray:
    """Share of the (non-DC) power at frequencies above `cutoff`, per image [N], in [0, 1].

    White noise: 1 - pi cutoff^2 (0.80 at 0.25); 1/f noise about 0.2; photos less.
    """
    power, freq = _power_and_freq(images)
    total = power.sum(axis=(1, 2))
    high = power[:, freq > cutoff].sum(axis=1)
    return high / np.maximum(total, 1e-30)
