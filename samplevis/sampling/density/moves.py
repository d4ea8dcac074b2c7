"""Moves away from a basin's optimum: where the optimizer's short run starts from next.

A chain of the walk sits at an optimized image, its spectral state z* (`param.image`'s, float32
[C, 2, channels, H, Wf]). A move proposes a new state from it; the optimizer then climbs from
there into a basin, new or the same (sampling.density.basins). Each move keeps part of z* and
brings in other material, so the climb is short and lands elsewhere:

- "crossover": z' = sqrt(1 - b^2) z* + b z*_other, another chain's current optimum;
- "archive": the same with an optimum drawn from every basin the run has kept (the starts
  among them), so the material the chains began with stays in reach after they agree;
- "shifted": the same with the other optimum moved by a random whole-pixel shift, so its
  motifs land at new places against z*'s (a new arrangement even where the chains agree);
- "pcn": z' = sqrt(1 - b^2) z* + b noise, the noise at the optima's own scale per frequency
  (white prior noise costs more activation than a fresh start: docs/sampling_designs.md);
- "coarse": the coefficients below `cutoff` redrawn at the optima's own scale, with weight b.

Each is a pure function of the optima and a NumPy generator. Each proposal is scaled back to
its optimum's norm: blending two similar optima would otherwise grow the state at every move
(to sqrt(1 - b^2) + b of it for equal ones), and the prior would weigh that growth.
"""

from __future__ import annotations

import math

import numpy as np

KINDS = ("crossover", "archive", "shifted", "pcn", "coarse")


def own_scale(optima: np.ndarray) -> np.ndarray:
    """The optima's RMS per frequency, float32 [1, 1, 1, H, Wf] (over chains, real and
    imaginary parts and colour channels): noise at the scale the optimizer gives each
    frequency."""
    rms = np.sqrt(np.mean(np.square(optima.astype(np.float64)), axis=(0, 1, 2), keepdims=True))
    return rms.astype(np.float32)


def partners(num_chains: int, rng: np.random.Generator) -> np.ndarray:
    """int [C]: for each chain another chain (itself only when there is one chain)."""
    if num_chains < 2:
        return np.zeros([num_chains], np.int64)
    return (np.arange(num_chains) + rng.integers(1, num_chains, size=num_chains)) % num_chains


def shifted(spectra: np.ndarray, shifts: np.ndarray, width: int) -> np.ndarray:
    """Spectral states [C, 2, channels, H, Wf] of images `width` px wide, each image moved by
    its shift (int [C, 2], dy and dx in px, wrapping around): a phase ramp on each coefficient."""
    height, freq_width = spectra.shape[-2:]
    padded = 2 * (freq_width - 1) if width % 2 else width
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.arange(freq_width)[None, :] / padded
    phase = -2 * math.pi * (fy * shifts[:, 0, None, None] + fx * shifts[:, 1, None, None])
    complex_ = spectra[:, 0] + 1j * spectra[:, 1]  # [C, channels, H, Wf]
    moved = complex_ * np.exp(1j * phase)[:, None]
    return np.stack([moved.real, moved.imag], axis=1).astype(np.float32)


def propose(
    kind: str,
    optima: np.ndarray,
    size: float,
    rng: np.random.Generator,
    *,
    coarse: np.ndarray | None = None,
    width: int | None = None,
    archive: np.ndarray | None = None,
) -> np.ndarray:
    """New starts float32 [C, 2, channels, H, Wf] from the chains' `optima` (same shape) by the
    move `kind` (see the module) of size b = `size` in (0, 1]. `coarse` (bool [2, channels, H,
    Wf]) is what "coarse" redraws; `width` (px) is the images' width, which "shifted" needs;
    `archive` [M, 2, channels, H, Wf] the optima "archive" draws from (default `optima`)."""
    if kind not in KINDS:
        raise ValueError(f"move must be one of {KINDS}; got {kind!r}.")
    return _with_norm_of(optima, _proposal(kind, optima, size, rng, coarse, width, archive))


def _with_norm_of(optima: np.ndarray, proposal: np.ndarray) -> np.ndarray:
    """`proposal` with each chain's state scaled to the norm of its optimum."""
    axes = tuple(range(1, optima.ndim))
    norm = np.sqrt(np.sum(np.square(optima.astype(np.float64)), axis=axes, keepdims=True))
    new = np.sqrt(np.sum(np.square(proposal.astype(np.float64)), axis=axes, keepdims=True))
    return (proposal * (norm / np.maximum(new, 1e-12))).astype(np.float32)


def _proposal(
    kind: str,
    optima: np.ndarray,
    size: float,
    rng: np.random.Generator,
    coarse: np.ndarray | None,
    width: int | None,
    archive: np.ndarray | None,
) -> np.ndarray:
    keep = math.sqrt(max(0.0, 1.0 - size * size))
    if kind in ("crossover", "archive", "shifted"):
        if kind == "archive":
            pool = optima if archive is None else archive
            other = pool[rng.integers(0, len(pool), size=len(optima))]
        else:
            other = optima[partners(len(optima), rng)]
        if kind == "shifted":
            if width is None:
                raise ValueError("a shifted crossover needs the images' width in px.")
            height = optima.shape[-2]
            shifts = np.stack(
                [rng.integers(0, height, len(optima)), rng.integers(0, width, len(optima))], 1
            )
            other = shifted(other, shifts, width)
        return (keep * optima + size * other).astype(np.float32)
    noise = own_scale(optima) * rng.standard_normal(optima.shape).astype(np.float32)
    if kind == "pcn":
        return (keep * optima + size * noise).astype(np.float32)
    if coarse is None:
        raise ValueError("a coarse move needs the mask of the coefficients it redraws.")
    return np.where(coarse, keep * optima + size * noise, optima).astype(np.float32)
