"""What a facet's draws add to its optimum, for a person to read (`facet_draws`): the few draws
that differ from each other (`distinct_draws`), what varied between them in words
(`varied_sentence`), and where their pixels vary, over the image they vary from
(`std_overlay`), left out where it shows nothing.

Draws come from the chains whose draws are from their density when the facet has one
(`Run.chains_off_target` names the others); only a facet without such a chain shows the others'
draws, marked."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

import numpy as np

from samplevis.sampling import metrics

if TYPE_CHECKING:
    from samplevis.sampling.report.run import Run

# At most this many draws per facet: a strip of one facet's draws beyond it repeats itself.
MOST_SHOWN = 4
# A draw within this structural distance of one picked is a copy of it: recoloured, relit or
# shifted copies lie within 0.02 of each other, a copy bent by 2 px about 0.6 away
# (docs/sampling.md, "What a run shows").
COPY_DISTANCE = 0.1
# px: the std map is smoothed so that single pixels' speckle does not hide where it is high.
STD_SIGMA = 3.0
# The smoothed std map's 90th over its 10th percentile under which it shows nothing a person
# reads: every pixel varies about alike.
STD_CONTRAST = 1.5
# The correlation of the smoothed std maps of a chain's first and second half of draws under
# which the map shows chance: a few draws leave blobs of high std above the contrast floor, in
# other places in each half (docs/sampling.md, "What a run shows"). The halves are compared in
# logits, where near-white and near-black pixels move as freely as the rest: in levels they
# cannot, and the maps of any two halves agree on where the image is saturated.
STD_AGREEMENT = 0.5
# Pixels are clipped to this margin from 0 and 1 before their logit, so that a saturated
# pixel's tiny moves do not weigh more than a mid-grey pixel's.
LOGIT_MARGIN = 0.02
LEVELS = 255.0  # a PNG's levels per colour channel
CHANNELS = ("red", "green", "blue")


@dataclasses.dataclass(frozen=True)
class FacetDraws:
    """What one facet's draws add to its optimum.

    Attributes:
      shown: (chain, index) of its draws that differ from each other, in the order picked
        (`distinct_draws`); empty without draws.
      off_target: whether they come from chains off their target (the facet has no chain at
        it).
      varied: what varied between its draws, in words (`varied_sentence`); "" without draws.
      std_overlay: float [H, W, 3] in [0, 1], where the pixels of `std_chain`'s draws vary,
        over its start (`std_overlay`); None where that shows nothing, or without 2 draws.
      std_chain: the chain whose draws `std_overlay` shows (None without it).
      std_note: what the overlay shows, or why there is none.
    """

    shown: tuple[tuple[int, int], ...] = ()
    off_target: bool = False
    varied: str = ""
    std_overlay: np.ndarray | None = None
    std_chain: int | None = None
    std_note: str = ""


def distinct_draws(
    draws: np.ndarray,
    optimum: np.ndarray,
    most: int = MOST_SHOWN,
    copy: float = COPY_DISTANCE,
) -> list[int]:
    """Indices of the draws [M, H, W, 3] that differ from each other, in the order picked
    (greedy farthest points by `metrics.structural_distances`, blind to colour and shifts):
    first the draw farthest from `optimum` [H, W, 3], then each time the draw farthest from
    every one picked, until `most` are picked or the next lies within `copy` of one picked (a
    copy of it). [] without draws."""
    if not len(draws):
        return []
    distances = metrics.structural_distances(np.concatenate([optimum[None], draws]))
    from_optimum, between = distances[0, 1:], distances[1:, 1:]
    picked = [int(np.argmax(from_optimum))]
    nearest = between[picked[0]].copy()  # each draw's distance to the nearest one picked
    while len(picked) < most:
        # a flat image is at 1 from itself too (it has no structure to correlate)
        nearest[picked] = -np.inf
        candidate = int(np.argmax(nearest))
        if nearest[candidate] < copy:
            break
        picked.append(candidate)
        nearest = np.minimum(nearest, between[candidate])
    return picked


def colour_moves(draws: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Each draw's mean colour less its start's, float [M, 3] in levels of 255 (draws and
    starts [M, H, W, 3] in [0, 1], a start per draw)."""
    return LEVELS * (
        np.asarray(draws, np.float64).mean(axis=(1, 2))
        - np.asarray(starts, np.float64).mean(axis=(1, 2))
    )


def bends(warps: np.ndarray) -> np.ndarray:
    """Each draw's largest displacement from its start, px [M], of its warp less its start's,
    px [M, G, G, 2] (`SampleResult.warps`): the warp's largest control point (the bilinear
    field between them displaces no pixel further)."""
    warps = np.asarray(warps, np.float64)
    return np.sqrt((warps**2).sum(-1)).reshape(len(warps), -1).max(axis=1)


def varied_sentence(
    colours: np.ndarray, moved: np.ndarray | None, share: float, chains: Sequence[int]
) -> str:
    """What varied between a facet's draws, in words, e.g. "what varied in chains 0, 1's 20
    draws from their starts: mean colour up to 14 levels of 255 (red +3, green -5, blue -14),
    bends up to 3.1 px, structure 0.06 of the distance between the starts". `colours` [M, 3]: each
    draw's mean colour less its start's (`colour_moves`); `moved` [M]: each draw's bend
    (`bends`; None: the chains move no warp); `share`: their chains' structural share (NaN:
    not measured)."""
    colours = np.asarray(colours, np.float64)
    widest = colours[np.abs(colours).argmax(axis=0), np.arange(3)]  # per channel, signed
    named = ", ".join(f"{name} {level:+.0f}" for name, level in zip(CHANNELS, widest))
    parts = [f"mean colour up to {np.abs(widest).max():.0f} levels of 255 ({named})"]
    if moved is not None and len(moved):
        parts.append(f"bends up to {np.max(moved):.1f} px")
    if math.isfinite(share):
        parts.append(f"structure {share:.2f} of the distance between the starts")
    which = ", ".join(str(c) for c in chains)
    if len(chains) != 1:
        whose = f"chains {which}'s {len(colours)} draws from their starts"
    else:
        whose = f"chain {which}'s {len(colours)} draws from its start"
    return f"what varied in {whose}: " + ", ".join(parts)


def std_overlay(
    draws: np.ndarray,
    start: np.ndarray,
    sigma: float = STD_SIGMA,
    contrast: float = STD_CONTRAST,
    agreement: float = STD_AGREEMENT,
) -> tuple[np.ndarray | None, str]:
    """(where the pixels of one chain's draws [M, H, W, 3] in [0, 1], in the order drawn, vary,
    over its start [H, W, 3], a note saying what it shows): their per-pixel std
    (`metrics.pixel_std_map`) smoothed by a Gaussian of `sigma` px, as heat (red rising to
    yellow) over the start in grey, float [H, W, 3] in [0, 1]. None, with the note saying why,
    with fewer than 4 draws, when the map's 90th percentile is under `contrast` times its 10th
    (the pixels vary about alike everywhere), or when the maps of the first and second half of
    the draws, in logits (saturation taken out), correlate under `agreement` (where they vary
    is chance)."""
    if len(draws) < 4:
        return None, "no std map: it needs 4 draws of a chain or more"

    def smoothed(images: np.ndarray) -> np.ndarray:
        std = metrics.pixel_std_map(images)
        return metrics.gaussian_blur(std[None, ..., None], sigma)[0, ..., 0]

    def logits(images: np.ndarray) -> np.ndarray:
        clipped = np.clip(images, LOGIT_MARGIN, 1 - LOGIT_MARGIN)
        return np.log(clipped / (1 - clipped))

    smooth = smoothed(draws)
    low, high, top = np.percentile(smooth, [10, 90, 99])
    if high <= 0:
        return None, "no std map: the draws are one image"
    if high < contrast * low:
        return None, (
            f"no std map: the draws' pixels vary about alike everywhere ({LEVELS * low:.0f} to "
            f"{LEVELS * high:.0f} levels of 255, 10th to 90th percentile, smoothed over "
            f"{sigma:g} px)"
        )
    half = len(draws) // 2
    first, second = (smoothed(logits(part)) for part in (draws[:half], draws[half:]))
    repeated = float(np.corrcoef(first.ravel(), second.ravel())[0, 1])
    if not repeated >= agreement:
        return None, (
            "no std map: the first and second half of the draws vary in different places "
            f"(their maps correlate {repeated:.2f}): it would show chance"
        )
    heat = np.clip((smooth - low) / max(top - low, 1e-12), 0.0, 1.0)[..., None]
    grey = 0.15 + 0.6 * np.asarray(start, np.float64).mean(-1, keepdims=True)
    colour = np.concatenate([np.ones_like(heat), np.clip(2 * heat - 1, 0, 1), 0 * heat], -1)
    alpha = 0.85 * heat
    image = (1 - alpha) * grey + alpha * colour
    note = (
        f"std: where the draws' pixels vary (their per-pixel std smoothed over {sigma:g} px; "
        f"the halves' maps correlate {repeated:.2f}), over the start in grey: yellow "
        f"{LEVELS * top:.0f} levels of 255 and up, clear {LEVELS * low:.0f} and under"
    )
    return image.astype(np.float32), note


def facet_draws(
    images: np.ndarray,
    init_images: np.ndarray,
    chains: Sequence[int],
    optimum: np.ndarray,
    off_target: Collection[int],
    warps: np.ndarray,
    shares: np.ndarray,
) -> FacetDraws:
    """What a facet's draws add: of `images` [N, C, H, W, 3] (a run's samples), those of its
    `chains` whose draws are from their density (all of them, marked, when none is:
    `off_target` holds the run's chains that are not), the ones that differ (`distinct_draws`, the first farthest from `optimum`
    [H, W, 3]), what varied from their chains' starts (`init_images` [C, H, W, 3]; `warps`
    [N, C, G, G, 2] px, no rows without a warp; `shares` [C], the structural shares) and the
    std overlay of the first of those chains."""
    at_target = [c for c in chains if c not in off_target]
    pool = at_target or list(chains)
    n = len(images)
    if not pool or not n:
        return FacetDraws()
    size = images.shape[2:]
    draws = np.swapaxes(images[:, pool], 0, 1).reshape(-1, *size)  # chain by chain
    ids = [(c, i) for c in pool for i in range(n)]
    starts = np.repeat(init_images[pool], n, axis=0)
    moved = (
        bends(np.swapaxes(warps[:, pool], 0, 1).reshape(-1, *warps.shape[2:]))
        if len(warps)
        else None
    )
    chain_shares = [shares[c] for c in pool if math.isfinite(shares[c])]
    varied = varied_sentence(
        colour_moves(draws, starts),
        moved,
        float(np.median(chain_shares)) if chain_shares else math.nan,
        pool,
    )
    left_out = [c for c in chains if c not in pool]
    if left_out:
        which = ", ".join(str(c) for c in left_out)
        varied += (
            f" (chain{'s' if len(left_out) > 1 else ''} {which}, not from their density, not shown)"
        )
    elif not at_target:
        going = "the chains were" if len(pool) > 1 else "the chain was"
        varied += f" (not from their density: where {going} going)"
    overlay, note = std_overlay(images[:, pool[0]], init_images[pool[0]])
    return FacetDraws(
        shown=tuple(ids[k] for k in distinct_draws(draws, optimum)),
        off_target=not at_target,
        varied=varied,
        std_overlay=overlay,
        std_chain=pool[0] if overlay is not None else None,
        std_note=note,
    )


def per_facet(result: Run, structural_shares: np.ndarray | None = None) -> tuple[FacetDraws, ...]:
    """Per facet (`result.facets`), what its draws add to its optimum (`facet_draws`): its
    draws that differ from each other, from its chains whose draws are from their density (all
    its chains, marked, when none is), what varied between them in words, and where their pixels
    vary; `structural_shares` passes `structural_shares` in when it was computed."""
    shares = result.structural_shares if structural_shares is None else structural_shares
    off = set(result.chains_off_target)
    return tuple(
        facet_draws(result.images, result.init_images, f.chains, f.image, off, result.warps, shares)
        for f in result.facets
    )
