"""The facet search finds the facet seeds miss, on units whose two facets are known exactly.

The toy unit reads an image's mean colour (r, g, b) through a 1x1 convolution ("colours", the
identity: the features the search compares) and answers max(A, B): A = r - g - b + 1, highest
(2) for pure red; B = k (g + b - r) + c, highest (2k + c) for pure cyan. At grey (0.5) B is
0.45 < A, so every seed climbs A and lands on red. Cyan is red's opposite in the centred colours
the search compares, so a climb pushed away from red tips into B's basin (the case deflation is
built for) and the polish on the unit alone climbs B to cyan. With k = 1 both facets have height
about 1 (0.975); with k = 1.15 / 1.5 cyan's is 0.8.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import samplevis
from samplevis import objectives, param
from samplevis.sampling.starts import designs, search_layer
from samplevis.sampling.starts import search as facet_search

from two_facets import CHAINS, SIZE, mean_colour, searched, two_facet_unit


def _search(
    cyan_slope: float, floor: float, rounds: int = 1
) -> tuple[facet_search.FacetSearch, object]:
    # features of "colours", the input of the unit's convolution
    return searched(two_facet_unit(cyan_slope), floor, "colours", rounds, ("deflation",))


@pytest.mark.slow
def test_the_search_finds_the_facet_every_seed_misses():
    found, image = _search(cyan_slope=1.0, floor=0.8)
    assert (found.facet_of[0] == found.facet_of[0][0]).all()  # the seeds: one facet
    assert len(found.facets) == 2
    colours = [mean_colour(found, image, k) for k in range(2)]
    reds = [c for c in colours if c[0] > 0.8 and max(c[1], c[2]) < 0.2]
    cyans = [c for c in colours if c[0] < 0.2 and min(c[1], c[2]) > 0.8]
    assert len(reds) == 1 and len(cyans) == 1, colours
    assert {f.round for f in found.facets} == {0, 1}
    heights = [f.activations[0] / found.best for f in found.facets]
    assert min(heights) > 0.85


@pytest.mark.slow
def test_a_lower_facet_is_found_and_ranked_second():
    found, image = _search(cyan_slope=1.15 / 1.5, floor=0.7)
    assert len(found.facets) == 2
    red, cyan = (mean_colour(found, image, k) for k in range(2))
    assert red[0] > 0.8 and min(cyan[1], cyan[2]) > 0.8
    assert found.facets[0].round == 0 and found.facets[1].round == 1
    height = found.facets[1].activations[0] / found.best
    assert 0.7 < height < 0.85
    # the chains share the facets, best first
    assert found.chains(4).tolist() == [0, 1, 0, 1]


def test_a_round_s_polish_ends_once_every_chain_is_within_a_new_facet_s_distance_of_one():
    model = samplevis.Model(two_facet_unit(1.0), value_range=(0, 1))
    image = param.image(SIZE, batch=CHAINS, fft=False, decorrelate=False)

    def state_of(colour):
        pixels = np.broadcast_to(np.float32(colour), (CHAINS, SIZE, SIZE, 3))
        return tuple(np.asarray(p) for p in image.state_for(tf.constant(pixels)))

    def pooled_colour(colour):
        return search_layer.features(model, np.asarray([[[colour]]], np.float32), "colours")[0]

    red, cyan = (0.9, 0.1, 0.1), (0.1, 0.9, 0.9)
    context = designs.SearchContext(
        model, objectives.channel("unit", 0), image, "colours", 0.3, 64, 64, 1.0, 2.0, None
    )
    features = np.stack([pooled_colour(red), pooled_colour(cyan)])
    archive = designs.Archive(state_of(red), features, np.array([True, False]))
    headed = context.headed_into(archive)  # the red facet found; cyan stayed under the floor
    assert headed(state_of((0.8, 0.2, 0.3)), designs.HEADED_CHECK_STEPS)  # reddish: in red
    assert not headed(state_of((0.8, 0.2, 0.3)), designs.HEADED_CHECK_STEPS // 2)  # not asked
    assert not headed(state_of(cyan), designs.HEADED_CHECK_STEPS)  # far from every facet


def test_the_search_compares_the_features_the_unit_s_convolution_reads():
    model = samplevis.Model(two_facet_unit(1.0), value_range=(0, 1))
    assert search_layer.upstream_layer(model, "unit") == "colours"
    assert search_layer.upstream_layer(model, "facets") == "colours"
    assert search_layer.upstream_layer(model, "colours") == "colours"  # the input is next


def test_an_optimum_near_a_facet_joins_it_and_one_below_the_floor_is_dropped():
    red = np.array([0.8, -0.4, -0.4]) / np.linalg.norm([0.8, -0.4, -0.4])
    near = red + np.array([0.0, 0.05, -0.05])
    near /= np.linalg.norm(near)
    states = (np.arange(3, dtype=np.float32).reshape(3, 1),)
    facets, facet_of = facet_search.sort_into_facets(
        [], states, np.array([1.0, 0.95, 0.5]), np.stack([red, near, -red]), 0, 0.8, 0.3
    )
    assert len(facets) == 1 and facet_of.tolist() == [0, 0, -1]
    assert facets[0].activations.tolist() == [1.0, 0.95]


def test_a_weaker_facet_is_one_when_it_is_a_different_pattern_and_a_weaker_copy_is_not():
    red = np.array([1.0, 0.0, 0.0])
    tilted = np.array([np.cos(0.9), np.sin(0.9), 0.0])  # cosine distance 0.38 from red
    cyan = np.array([0.0, 0.0, 1.0])  # distance 1
    states = (np.arange(4, dtype=np.float32).reshape(4, 1),)
    facets, facet_of = facet_search.sort_into_facets(
        [], states, np.array([1.0, 0.6, 0.6, 0.4]), np.stack([red, tilted, cyan, -red]), 0,
        0.8, 0.3, 0.5, 0.5,
    )  # fmt: skip
    # red; the cyan pattern at 0.6; not the copy of red at 0.6, nor anything under 0.5
    assert facet_of.tolist() == [0, -1, 1, -1]
    assert [f.activations[0] for f in facets] == [1.0, 0.6]
    # without a kind floor, as the facet search was: the floor alone
    _, facet_of = facet_search.sort_into_facets(
        [], states, np.array([1.0, 0.6, 0.6, 0.4]), np.stack([red, tilted, cyan, -red]), 0,
        0.8, 0.3,
    )  # fmt: skip
    assert facet_of.tolist() == [0, -1, -1, -1]


def test_a_facet_found_first_stays_when_a_better_different_one_is_found_after_it():
    # the seeds land in the weaker facet (0.7 of what the search then finds)
    red, cyan = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    first, _ = facet_search.sort_into_facets(
        [], (np.zeros([1, 1], np.float32),), np.array([0.7]), red[None], 0, 0.8, 0.3, 0.5, 0.5
    )
    states = (np.ones([2, 1], np.float32),)
    both, facet_of = facet_search.sort_into_facets(
        first, states, np.array([1.0, 0.65]), np.stack([cyan, red]), 1, 0.8, 0.3, 0.5, 0.5
    )
    assert [(f.round, f.activations[0]) for f in both] == [(1, 1.0), (0, 0.7)]
    assert facet_of.tolist() == [0, -1]  # a copy of red under the floor: no start of it
    dropped, _ = facet_search.sort_into_facets(first, states[:1], np.array([1.0]), cyan[None], 1, 0.8, 0.3)  # fmt: skip
    assert len(dropped) == 1  # without a kind floor the seeds' facet fell below the floor


def test_facets_go_kinds_first_so_every_kind_has_a_chain_before_any_has_a_second():
    def facet(height, kind):
        return facet_search.FoundFacet((), np.array([height]), np.zeros(2), 0, kind=kind)

    found = [facet(1.0, 0), facet(0.95, 0), facet(0.9, 0), facet(0.6, 1), facet(0.5, 2)]
    order = facet_search.kinds_first(found)
    assert order == [0, 3, 4, 1, 2]
    search = facet_search.FacetSearch(tuple(found[k] for k in order), (), ())
    assert search.kinds().tolist() == [0, 1, 2, 0, 0]
    assert search.chains(4).tolist() == [0, 1, 2, 3]  # three kinds, then a second variant
    # a facet of the search is a kind of its own: the order is the heights'
    alone = [facet(0.7, None), facet(1.0, None), facet(0.9, None)]
    assert facet_search.kinds_first(alone) == [1, 2, 0]


@pytest.mark.slow
def test_render_samples_each_facet_and_says_how_it_was_found():
    model = samplevis.Model(two_facet_unit(1.0), value_range=(0, 1))
    result = samplevis.render(
        model,
        "unit:0",
        hmc_opts=dict(
            num_results=2,
            num_burnin_steps=4,
            num_leapfrog_steps=2,
            num_steps_between_results=1,
            cutoff=None,
            optimize_steps=64,
            search_rounds=1,  # features of "colours", the input of the unit's convolution
            polish_steps=0,  # the chains start where the search left each facet's optimum
        ),
        param_f=param.image(SIZE, batch=CHAINS, fft=False, decorrelate=False),
        seed=0,
        progress=False,
    )
    assert [f.found for f in result.facets] == ["seed", "search round 1"]
    assert [f.chains for f in result.facets] == [(0,), (1,)]
    assert result.facets[0].height == 1.0 and result.facets[1].height > 0.85
    red, cyan = (f.image.mean(axis=(0, 1)) for f in result.facets)
    assert red[0] > 0.8 and min(cyan[1], cyan[2]) > 0.8
    # each chain starts at its facet's optimum
    np.testing.assert_allclose(result.init_images[1], result.facets[1].image, atol=1e-5)
    assert result.facets[1].std_map.shape == (SIZE, SIZE)
    assert result.facets_line().startswith("2 facets (1 found by the search): heights 1.00, 0.")


# A second toy unit answers max(A, B) through a rectified 4x4 convolution: A is the mean
# brightness (1 at white), B the mean rectified response to vertical stripes of period 4 px
# (about 3.5 at its optimum, sharp black-and-white stripes: white's height is then about 0.27;
# a grey grating at the probes' contrast already gives more than white: with a weaker B no
# probe keeps the lead through the polish's transforms, with a stronger one a deflated climb
# tips into B too). Its other channels are fixed random filters the unit ignores: with the two, the rectified features
# that the search compares and whose gradient a probe round reads.
# From noise every climb brightens the image and A leads, so B gets no gradient: seeds and a
# deflated climb both end near white. A grating probe whose stripes B answers leads through
# B's channel instead, and the polish sharpens it into B's facet.
STRIPES = 4  # px a period


def stripes_unit() -> keras.Model:
    inputs = keras.Input((None, None, 3))
    pixels = keras.layers.Conv2D(3, 1, name="pixels")(inputs)
    detect = keras.layers.Conv2D(8, 4, name="detect")(pixels)
    rectified = keras.layers.ReLU(name="rectified")(detect)
    means = keras.layers.GlobalAveragePooling2D(name="means")(rectified)
    unit = keras.layers.Lambda(
        lambda x: keras.ops.max(x[:, :2], axis=-1, keepdims=True), name="unit"
    )(means)
    model = keras.Model(inputs, unit)
    model.get_layer("pixels").set_weights([np.eye(3).reshape(1, 1, 3, 3), np.zeros(3)])
    w = np.zeros((4, 4, 3, 8), np.float32)
    w[..., 0] = 1 / 48
    w[..., 1] = 0.7 * np.cos(2 * np.pi * (np.arange(4) + 0.5) / STRIPES)[None, :, None]
    w[..., 2:] = np.random.default_rng(0).standard_normal((4, 4, 3, 6)) / 12
    model.get_layer("detect").set_weights([w, np.zeros(8, np.float32)])
    return model


def _stripes_search(searches: tuple[str, ...]) -> tuple[facet_search.FacetSearch, object]:
    return searched(stripes_unit(), 0.15, "rectified", 1, searches)


def _stripes(found: facet_search.FacetSearch, image, k: int) -> tuple[float, float]:
    """Facet k's image: its mean brightness and the share of its columns' spectrum (grey, mean
    over rows) at its strongest horizontal frequency (vertical stripes: near 1)."""
    state = tuple(tf.constant(np.repeat(p, CHAINS, 0)) for p in found.facets[k].states[0])
    grey = image.to_image(state).numpy()[0].mean(axis=-1)
    spectrum = np.abs(np.fft.rfft(grey.mean(axis=0) - grey.mean()))
    return float(grey.mean()), float(spectrum.max() / spectrum.sum())


@pytest.mark.slow
def test_a_probe_round_finds_a_narrow_facet_that_seeds_and_deflation_miss():
    deflated, image = _stripes_search(("deflation",))
    assert len(deflated.facets) == 1 and {f.round for f in deflated.facets} <= {0, 1}
    assert _stripes(deflated, image, 0)[0] > 0.9  # white: A's facet

    found, image = _stripes_search(("probes",))
    assert (found.facet_of[0] == found.facet_of[0][0]).all()  # the seeds: one facet
    assert [f.round for f in found.facets] == [1, 0]  # the stripes, then white
    brightness, peak = _stripes(found, image, 0)
    assert 0.3 < brightness < 0.7 and peak > 0.3, (brightness, peak)
    assert _stripes(found, image, 1)[0] > 0.9
    assert 0.2 < found.facets[1].activations[0] / found.best < 0.35


def test_probes_are_gratings_and_the_most_novel_with_a_positive_value_go_first():
    bank = designs.gratings(16, 24)
    assert bank.shape == (
        len(designs.PROBE_FREQUENCIES) * designs.PROBE_ANGLES,
        16,
        24,
        3,
    )
    contrast = designs.PROBE_CONTRAST
    assert np.isclose(bank.min(), 0.5 - contrast) and np.isclose(bank.max(), 0.5 + contrast)
    assert (bank[..., 0] == bank[..., 2]).all()  # grey
    values = np.array([1.0, 0.5, -1.0, 0.2, 0.7])
    novelty = np.array([0.1, 0.9, 1.0, 0.9, 0.5])
    picks = designs.probe_picks(values, novelty, used={3}, count=3)
    assert picks.tolist() == [1, 4, 0]
    with pytest.raises(ValueError, match="searches must name"):
        facet_search.SearchSettings(1, 0.8, 1.0, 0.3, "x", 1, 1, searches=("walk",))
