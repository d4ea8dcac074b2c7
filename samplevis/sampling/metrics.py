"""Image statistics that tell samples from noise (pure NumPy functions).

Frequencies are in cycles per pixel (0 to 0.5 along an axis). Power spectra
are of the grey image (mean over colours) minus its mean.
"""

from __future__ import annotations

import numpy as np

# Lower end of the slope fit: skip the lowest rings, which hold few coefficients.
SLOPE_MIN_FREQ = 2.0 / 64.0
# Frequencies above this count as "high" (the project's sampling notes use 0.25).
HIGH_FREQ = 0.25


def _grey(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images, np.float64)
    if images.ndim == 3:
        images = images[None]
    if images.ndim != 4:
        raise ValueError(
            f"images must be [N, H, W, C] (or one image [H, W, C]); got shape {images.shape}."
        )
    grey = images.mean(-1)
    return grey - grey.mean(axis=(1, 2), keepdims=True)


def _power_and_freq(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Power [N, H, W] of every 2-D frequency and its magnitude [H, W] (cycles/px)."""
    grey = _grey(images)
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


def pool(features: np.ndarray) -> np.ndarray:
    """Spatial mean of features [N, h, w, c] -> [N, c] (vectors pass through)."""
    features = np.asarray(features, np.float64)
    if features.ndim == 4:
        return features.mean(axis=(1, 2))
    if features.ndim == 2:
        return features
    raise ValueError(f"features must be [N, h, w, c] or [N, c]; got shape {features.shape}.")


def cosine_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1 - cos(a_i, b_j) for vectors a [N, D], b [M, D] -> [N, M], in [0, 2]."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return 1.0 - a @ b.T


def mean_pairwise_cosine_distance(features: np.ndarray) -> float:
    """Mean cosine distance over all pairs of N >= 2 feature vectors [N, D] (or [N, h, w, c])."""
    vectors = pool(features)
    n = vectors.shape[0]
    if n < 2:
        raise ValueError(f"need at least 2 feature vectors for a pairwise distance; got {n}.")
    d = cosine_distances(vectors, vectors)
    return float(d[np.triu_indices(n, 1)].mean())


def chain_diversity(features: np.ndarray) -> tuple[float, float]:
    """(between, within) mean cosine distances of sample features.

    Args:
      features: [N, C, D] (N samples of C chains) or [N, C, h, w, c].

    Returns:
      between: mean distance between samples of different chains (NaN if C < 2);
      within: mean distance between samples of the same chain (NaN if N < 2);
      within = 0 means the chains do not move.
    """
    features = np.asarray(features, np.float64)
    n, c = features.shape[:2]
    vectors = pool(features.reshape(n * c, *features.shape[2:])).reshape(n, c, -1)
    flat = vectors.reshape(n * c, -1)
    d = cosine_distances(flat, flat)
    chain_of = np.tile(np.arange(c), n)
    pairs = np.triu(np.ones_like(d, dtype=bool), 1)
    same = chain_of[:, None] == chain_of[None, :]
    between = d[pairs & ~same].mean() if c > 1 else np.nan
    within = d[pairs & same].mean() if n > 1 else np.nan
    return float(between), float(within)


def pixel_std_map(images: np.ndarray) -> np.ndarray:
    """Per-pixel standard deviation across samples [N, H, W, C] -> [H, W], colours averaged.

    Bright where the samples differ (what the unit ignores), dark where they agree.
    """
    images = np.asarray(images, np.float64)
    if images.ndim != 4 or images.shape[0] < 2:
        raise ValueError(f"need samples [N >= 2, H, W, C]; got shape {images.shape}.")
    return images.std(axis=0).mean(-1)


def gaussian_blur(images: np.ndarray, sigma: float) -> np.ndarray:
    """Images [N, H, W, C] blurred by a Gaussian of `sigma` px along H and W (edges reflected)."""
    images = np.asarray(images, np.float64)
    radius = max(1, int(np.ceil(4 * sigma)))  # 4 sigma keeps all but 6e-5 of the weight
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    out = images
    for axis in (1, 2):
        padding = [(0, 0)] * 4
        padding[axis] = (radius, radius)
        padded = np.pad(out, padding, mode="reflect")
        length = out.shape[axis]
        out = sum(
            w * np.take(padded, np.arange(k, k + length), axis=axis) for k, w in enumerate(taps)
        )
    return out


def rms_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Root-mean-square difference of two equally shaped images."""
    return float(np.sqrt(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)))


def mean_pairwise_rms(images: np.ndarray) -> float:
    """Mean RMS difference over all pairs of N >= 2 images [N, H, W, C]."""
    n = len(images)
    if n < 2:
        raise ValueError(f"need at least 2 images for a pairwise distance; got {n}.")
    return float(
        np.mean([rms_distance(images[i], images[j]) for i in range(n) for j in range(i + 1, n)])
    )


def distinct_images(
    images: np.ndarray, references: np.ndarray, sigma: float = 2.0, share: float = 0.25
) -> list[int]:
    """Indices of the visibly distinct images among `images` [N, H, W, C], counted greedily.

    After a Gaussian blur of `sigma` px (so pixel-scale speckle does not count), an image counts
    when its RMS difference from every image counted before it is at least `share` times the
    mean RMS difference between the blurred `references` [M >= 2, H, W, C] (images optimized from
    different seeds: how far apart two unrelated solutions lie).
    """
    threshold = share * mean_pairwise_rms(gaussian_blur(references, sigma))
    blurred = gaussian_blur(images, sigma)
    counted: list[int] = []
    for i, image in enumerate(blurred):
        if all(rms_distance(image, blurred[j]) >= threshold for j in counted):
            counted.append(i)
    return counted
