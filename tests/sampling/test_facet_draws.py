"""What a facet's draws add to its optimum (`report.facet_draws`): the draws that differ from each
other, what varied between them in words, and where their pixels vary, on draws whose answer is
known: recoloured and shifted copies of a photograph, other photographs, a known colour shift,
a known warp, noise everywhere or in one known square."""

import numpy as np
import pytest
from test_sampling_metrics import coarse_cloud, photos

from samplevis.sampling.report import facet_draws


def test_the_draws_shown_are_the_different_ones_and_one_of_the_copies():
    cat, coffee, astronaut, rocket = photos()
    copies = [
        cat + coarse_cloud(seed=1),
        np.roll(cat, (5, -9), axis=(0, 1)),
        0.6 * cat[..., [2, 0, 1]] + 0.2,
        cat + coarse_cloud(seed=2),
    ]
    draws = np.stack([copies[0], coffee, copies[1], copies[2], rocket, copies[3]])
    picked = facet_draws.distinct_draws(draws, cat)
    # first another photograph (the farthest from the optimum), then the other one and one of
    # the copies, and no more: every other copy is a copy of the one picked
    assert picked[0] in (1, 4)
    assert len(picked) == 3 and {1, 4} < set(picked)
    assert len(set(picked) & {0, 2, 3, 5}) == 1
    # at most `most`, and a facet whose draws are all copies shows one of them
    assert len(facet_draws.distinct_draws(np.stack([coffee, astronaut, rocket]), cat, most=2)) == 2
    assert len(facet_draws.distinct_draws(np.stack(copies), cat)) == 1
    assert facet_draws.distinct_draws(np.zeros([0, *cat.shape]), cat) == []


def test_what_varied_says_a_known_colour_shift_in_levels_and_a_known_warp_in_px():
    rng = np.random.default_rng(0)
    size, grid = 32, 4
    starts = rng.uniform(0.2, 0.6, [2, size, size, 3])  # two chains
    images = np.repeat(starts[None], 3, axis=0)  # [N, C, H, W, 3]: 3 draws each
    images[1, 0, ..., 0] += 20 / 255  # chain 0's second draw: red up 20 levels
    images[2, 1, ..., 2] -= 10 / 255  # chain 1's third draw: blue down 10 levels
    warps = np.zeros([3, 2, grid, grid, 2])
    warps[1, 1, 2, 3] = (3.0, -4.0)  # one control point displaced by 5 px
    drawn = facet_draws.facet_draws(
        images, starts, (0, 1), starts[0], set(), warps, np.array([0.25, 0.35])
    )
    assert drawn.varied == (
        "what varied in chains 0, 1's 6 draws from their starts: mean colour up to 20 levels of "
        "255 (red +20, green +0, blue -10), bends up to 5.0 px, structure 0.30 of the distance "
        "between the starts"
    )
    assert not drawn.off_target
    # without a warp the bends are not said; a shift of the whole warp is its px too
    no_warp = facet_draws.facet_draws(
        images, starts, (0,), starts[0], set(), np.zeros([0, 0, 0, 0, 2]), np.full(2, np.nan)
    )
    assert no_warp.varied == (
        "what varied in chain 0's 3 draws from its start: mean colour up to 20 levels of 255 "
        "(red +20, green +0, blue +0)"
    )
    shifted = np.zeros([1, grid, grid, 2])
    shifted[..., 1] = 2.5
    assert facet_draws.bends(shifted) == pytest.approx([2.5])


def test_a_facet_shows_the_draws_of_its_chains_at_their_target_and_marks_them_when_none_is():
    rng = np.random.default_rng(1)
    starts = rng.uniform(0.2, 0.8, [3, 32, 32, 3])
    images = starts[None] + rng.normal(0, 0.01, [4, 3, 32, 32, 3])
    no_warp, shares = np.zeros([0, 0, 0, 0, 2]), np.full(3, np.nan)
    drawn = facet_draws.facet_draws(images, starts, (0, 1, 2), starts[0], {1}, no_warp, shares)
    assert {c for c, _ in drawn.shown} <= {0, 2} and not drawn.off_target
    assert drawn.varied.startswith("what varied in chains 0, 2's 8 draws from their starts")
    assert drawn.varied.endswith(" (chain 1, not from their density, not shown)")
    off = facet_draws.facet_draws(images, starts, (1,), starts[1], {1}, no_warp, shares)
    assert off.shown and {c for c, _ in off.shown} == {1} and off.off_target
    assert off.varied.endswith(" (not from their density: where the chain was going)")


def test_the_std_map_is_left_out_for_noise_everywhere_or_by_chance_and_shows_a_square():
    rng = np.random.default_rng(2)
    start = np.full([48, 48, 3], 0.5)
    everywhere = start + rng.normal(0, 0.05, [10, 48, 48, 3])
    overlay, note = facet_draws.std_overlay(everywhere, start)
    assert overlay is None
    assert note.startswith("no std map: the draws' pixels vary about alike everywhere")
    # the draws vary 10 times more in one square (rows and columns 8-23) than elsewhere
    square = start + rng.normal(0, 0.005, [10, 48, 48, 3])
    square[:, 8:24, 8:24] += rng.normal(0, 0.05, [10, 16, 16, 3])
    overlay, note = facet_draws.std_overlay(square, start)
    assert overlay is not None and overlay.shape == (48, 48, 3)
    assert note.startswith("std: where the draws' pixels vary")
    heat = overlay[..., 0] - overlay[..., 2]  # grey has none; red to yellow has the most
    inside = np.zeros([48, 48], bool)
    inside[10:22, 10:22] = True
    outside = np.ones([48, 48], bool)
    outside[2:30, 2:30] = False
    assert heat[inside].min() > 0.5
    assert heat[outside].max() < 0.05  # the start in grey
    # where they vary moves: the first half of the draws vary in one square, the second in
    # another; each half's map is bright where the other's is dark
    moving = start + rng.normal(0, 0.005, [10, 48, 48, 3])
    moving[:5, 8:24, 8:24] += rng.normal(0, 0.05, [5, 16, 16, 3])
    moving[5:, 28:44, 28:44] += rng.normal(0, 0.05, [5, 16, 16, 3])
    overlay, note = facet_draws.std_overlay(moving, start)
    assert overlay is None and note.endswith("it would show chance")
    # the same moves before the squashing into [0, 1] everywhere: where the image is near white
    # they move its pixels 2.8 times less, in every half of the draws, but that is no place the
    # draws are held in
    light = start.copy()
    light[:, 24:] = 0.9
    logit = np.log(light / (1 - light)) + rng.normal(0, 0.3, [10, 48, 48, 3])
    overlay, note = facet_draws.std_overlay(1 / (1 + np.exp(-logit)), light)
    assert overlay is None and note.endswith("it would show chance")
    identical = np.repeat(start[None], 4, axis=0)
    assert facet_draws.std_overlay(identical, start) == (
        None,
        "no std map: the draws are one image",
    )
    assert facet_draws.std_overlay(identical[:3], start)[0] is None
