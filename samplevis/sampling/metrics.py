"""Image statistics that tell samples from noise and apart (pure NumPy functions).

Frequencies are in cycles per pixel (0 to 0.5 along an axis).
"""

from __future__ import annotations

import numpy as np


def grey(images: np.ndarray) -> np.ndarray:
    """The grey image (mean over colours) minus its mean, [N, H, W] float64 of images
    [N, H, W, C] (or one image [H, W, C], as N = 1)."""
    images = np.asarray(images, np.float64)
    if images.ndim == 3:
        images = images[None]
    if images.ndim != 4:
        raise ValueError(
            f"images must be [N, H, W, C] (or one image [H, W, C]); got shape {images.shape}."
        )
    mean_over_colours = images.mean(-1)
    return mean_over_colours - mean_over_colours.mean(axis=(1, 2), keepdims=True)


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


def distinct_by_pixels(
    images: np.ndarray, references: np.ndarray, sigma: float = 2.0, share: float = 0.25
) -> list[int]:
    """Indices of the images [N, H, W, C] whose blurred pixels differ, counted greedily.

    It counts colour and brightness changes alike with new patterns: a recoloured copy counts as
    distinct (`structural_distances` tells patterns apart).

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


# The structural distance's band, in cycles per pixel: from the facets' default cutoff (what the
# coarse state moves: colour, brightness, layout at 16 px and up) to where pixel noise begins.
STRUCTURE_BAND = (1.0 / 16, 0.3)
# Local contrast is measured over a Gaussian window of this many px (sigma), so that a motif
# relit or recoloured in one place is the same motif.
STRUCTURE_SIGMA = 6.0


def circular_blur(images: np.ndarray, sigma: float) -> np.ndarray:
    """[N, H, W] blurred by a periodic Gaussian of `sigma` px (the band-pass is periodic too)."""
    h, w = images.shape[1:]
    fy, fx = np.meshgrid(np.fft.fftfreq(h), np.fft.rfftfreq(w), indexing="ij")
    kernel = np.exp(-2 * (np.pi * sigma) ** 2 * (fx**2 + fy**2))
    return np.fft.irfft2(np.fft.rfft2(images) * kernel, s=(h, w))


def structure(images: np.ndarray) -> np.ndarray:
    """What the structural distance compares, [N, H, W] of images [N, H, W, C]: the grey image's
    frequencies inside `STRUCTURE_BAND` (an exact FFT band), divided by the local RMS over a
    Gaussian window of `STRUCTURE_SIGMA` px, standardized to mean 0 and variance 1 per image.

    Colour, brightness, local contrast and the layout above 16 px do not reach it.
    """
    grey_images = grey(images)
    h, w = grey_images.shape[1:]
    fy, fx = np.meshgrid(np.fft.fftfreq(h), np.fft.rfftfreq(w), indexing="ij")
    freq = np.sqrt(fx**2 + fy**2)
    low, high = STRUCTURE_BAND
    band = np.fft.irfft2(np.fft.rfft2(grey_images) * ((freq >= low) & (freq <= high)), s=(h, w))
    rms = np.sqrt(circular_blur(band**2, STRUCTURE_SIGMA))
    # a flat image has no structure: its tiny floor keeps 0 / 0 out
    local = band / (rms + 1e-6 * rms.max(axis=(1, 2), keepdims=True) + 1e-12)
    local -= local.mean(axis=(1, 2), keepdims=True)
    return local / (local.std(axis=(1, 2), keepdims=True) + 1e-12)


def _peak_correlations(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Peak circular normalized cross-correlation [N, M] of standardized maps a [N, H, W] and
    b [M, H, W] over all shifts, and the shift (dy, dx) [N, M, 2] at the peak (b read at x + s)."""
    h, w = a.shape[1:]
    fa, fb = np.fft.rfft2(a), np.fft.rfft2(b)
    peaks = np.empty((len(a), len(b)))
    shifts = np.empty((len(a), len(b), 2), int)
    for i, row in enumerate(fa):
        corr = np.fft.irfft2(np.conj(row)[None] * fb, s=(h, w)).reshape(len(b), -1) / (h * w)
        best = corr.argmax(axis=1)
        peaks[i] = corr[np.arange(len(b)), best]
        shifts[i] = np.stack(np.unravel_index(best, (h, w)), -1)
    return peaks, shifts


def aligned_pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """b [N, H, W], each map shifted (circularly) onto its a [N, H, W] at their peak
    cross-correlation."""
    h, w = a.shape[1:]
    corr = np.fft.irfft2(np.conj(np.fft.rfft2(a)) * np.fft.rfft2(b), s=(h, w))
    peaks = corr.reshape(len(a), -1).argmax(axis=1)
    shifts = np.stack(np.unravel_index(peaks, (h, w)), -1)
    return np.stack([np.roll(m, (-s[0], -s[1]), axis=(0, 1)) for m, s in zip(b, shifts)])


def structural_distances(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Structural distance of every image of a [N, H, W, C] to every image of b [M, H, W, C]
    (default a itself), [N, M]: 1 - the peak of the circular normalized cross-correlation of
    their `structure` maps over all shifts.

    A recoloured, relit or (circularly) shifted copy is at 0; unrelated images are near 1.
    """
    sa = structure(a)
    sb = sa if b is None else structure(b)
    if sa.shape[1:] != sb.shape[1:]:
        raise ValueError(f"images of one size are compared; got {sa.shape[1:]} and {sb.shape[1:]}.")
    return np.clip(1.0 - _peak_correlations(sa, sb)[0], 0.0, 2.0)


def _pairs(distances: np.ndarray) -> np.ndarray:
    """The distances of distinct pairs i < j of a square [N, N] matrix, [N (N - 1) / 2]."""
    return distances[np.triu_indices(len(distances), k=1)]


def between_distance(references: np.ndarray) -> float:
    """Median structural distance between pairs of `references` [M >= 2, H, W, C]: how far apart
    images optimized from different seeds lie (the structural share's unit)."""
    if len(references) < 2:
        raise ValueError(f"need at least 2 reference images; got {len(references)}.")
    return float(np.median(_pairs(structural_distances(references))))


# below this median distance between the references they are copies of one structure (1 - the
# peak correlation of their structure maps, 0.999 or more) and give no unit to measure against
COPIES = 1e-3


def share_of(within: np.ndarray, between: float) -> np.ndarray:
    """`within` [C] in units of `between` (a median distance between references); NaN where the
    references are copies of one another (`between` under COPIES): a ratio over a distance of
    float round-off says nothing."""
    within = np.asarray(within, np.float64)
    if not between >= COPIES:
        return np.full_like(within, np.nan)
    return within / between


def _chain_pairs(samples: np.ndarray) -> list[np.ndarray]:
    """Per chain, the structural distances between its samples' pairs: samples
    [N >= 2, C, H, W, 3] -> C arrays [N (N - 1) / 2]."""
    if samples.ndim != 5 or samples.shape[0] < 2:
        raise ValueError(f"need samples [N >= 2, C, H, W, 3]; got shape {samples.shape}.")
    return [_pairs(structural_distances(samples[:, c])) for c in range(samples.shape[1])]


def structural_share(samples: np.ndarray, references: np.ndarray) -> np.ndarray:
    """How far the patterns move within each chain, [C]: the median structural distance between a
    chain's samples [N >= 2, C, H, W, 3] over the median between `references` [M >= 2, H, W, 3]
    (multi-seed optimized images). 0: every sample a recoloured or shifted copy; about 1: as
    different as images optimized from different seeds; NaN where the references are copies of
    one another (`share_of`)."""
    within = np.array([np.median(pairs) for pairs in _chain_pairs(samples)])
    return share_of(within, between_distance(references))


def structure_map(images: np.ndarray) -> np.ndarray:
    """Where the motifs of a chain's samples [N >= 2, H, W, C] change, [H, W]: the standard
    deviation across samples of their `structure` maps, each shifted onto the first sample's at
    their peak correlation. Dark where the samples share their motifs (also where only colour or
    brightness changed), bright where the motifs moved or changed."""
    maps = structure(images)
    if len(maps) < 2:
        raise ValueError(f"need samples [N >= 2, H, W, C]; got shape {np.shape(images)}.")
    return aligned_pairs(np.broadcast_to(maps[:1], maps.shape), maps).std(axis=0)
