"""The walk between basins: the moves, the basin rule, and `render`'s chains walking."""

import numpy as np
import pytest
import tensorflow as tf
from test_sampling_render import OBJECTIVE, tiny_model

import samplevis
from samplevis import param
from samplevis.sampling import options
from samplevis.sampling.density import basins, moves
from samplevis.sampling.density.facet import moving_mask

SIZE = 16


def spectra(chains: int, seed: int = 0, size: int = SIZE) -> np.ndarray:
    state = param.image(size, batch=chains).state_shapes[0]
    return np.random.default_rng(seed).standard_normal(state).astype(np.float32)


def norms(z: np.ndarray) -> np.ndarray:
    return np.sqrt(np.sum(np.square(z.astype(np.float64)), axis=(1, 2, 3, 4)))


def test_a_shift_of_the_spectrum_moves_the_image_by_whole_pixels():
    image_param = param.image(SIZE, batch=2, sigmoid=False, decorrelate=False)
    z = spectra(2)
    shifts = np.array([[3, 5], [0, 11]])
    moved = image_param.to_image((tf.constant(moves.shifted(z, shifts, SIZE)),)).numpy()
    original = image_param.to_image((tf.constant(z),)).numpy()
    for c, (dy, dx) in enumerate(shifts):
        expected = np.roll(original[c], (dy, dx), axis=(0, 1))
        np.testing.assert_allclose(moved[c], expected, atol=1e-4)


def test_a_crossover_blends_each_optimum_with_another_chains_and_keeps_its_norm():
    z = spectra(4)
    proposal = moves.propose("crossover", z, 0.6, np.random.default_rng(1))
    np.testing.assert_allclose(norms(proposal), norms(z), rtol=1e-5)
    for c in range(4):
        # the proposal lies in the plane of the chain's optimum and one other chain's
        others = [k for k in range(4) if k != c]
        fits = []
        for k in others:
            basis = np.stack([z[c].ravel(), z[k].ravel()], 1)
            coef, *_ = np.linalg.lstsq(basis, proposal[c].ravel(), rcond=None)
            fits.append((np.linalg.norm(basis @ coef - proposal[c].ravel()), coef))
        residual, coef = min(fits, key=lambda f: f[0])
        assert residual < 1e-3 * norms(z)[c]
        assert coef[1] / coef[0] == pytest.approx(0.6 / np.sqrt(1 - 0.36), rel=1e-4)


def test_an_archive_move_blends_with_an_optimum_from_the_archive_only():
    z, archive = spectra(3, seed=0), spectra(5, seed=1)
    proposal = moves.propose("archive", z, 0.6, np.random.default_rng(4), archive=archive)
    np.testing.assert_allclose(norms(proposal), norms(z), rtol=1e-5)
    for c in range(3):
        residuals = []
        for k in range(5):
            basis = np.stack([z[c].ravel(), archive[k].ravel()], 1)
            coef, *_ = np.linalg.lstsq(basis, proposal[c].ravel(), rcond=None)
            residuals.append(np.linalg.norm(basis @ coef - proposal[c].ravel()))
        assert min(residuals) < 1e-3 * norms(z)[c]


def test_pcn_noise_comes_at_the_optima_s_own_scale_per_frequency():
    z = spectra(8) * np.linspace(0.1, 2.0, SIZE)[:, None]  # each row of frequencies its scale
    proposal = moves.propose("pcn", z, 1.0, np.random.default_rng(2))  # all noise
    rms = np.sqrt(np.mean(np.square(proposal), axis=(0, 1, 2, 4)))
    expected = np.sqrt(np.mean(np.square(z), axis=(0, 1, 2, 4)))
    # the noise alone, scaled back to each optimum's norm: its per-frequency profile is theirs
    np.testing.assert_allclose(rms / rms.sum(), expected / expected.sum(), rtol=0.25)


def test_a_coarse_move_redraws_only_the_coefficients_below_the_cutoff():
    z = spectra(3)
    coarse = moving_mask(param.image(SIZE, batch=3), 1 / 4)
    proposal = moves.propose("coarse", z, 1.0, np.random.default_rng(3), coarse=coarse)
    for c in range(3):
        # the fine coefficients are the optimum's, all scaled alike to keep its norm
        ratio = proposal[c][~coarse] / z[c][~coarse]
        np.testing.assert_allclose(ratio, ratio[0], rtol=1e-4)
        assert not np.allclose(proposal[c][coarse] / ratio[0], z[c][coarse], atol=1e-2)


def test_an_unknown_move_and_rule_name_the_choices():
    with pytest.raises(ValueError, match="move must be one of"):
        moves.propose("jump", spectra(2), 0.5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="walk.*|move.*one of"):
        options.resolve_options(dict(move="jump"))
    with pytest.raises(ValueError, match="basin_rule.*one of"):
        options.resolve_options(dict(basin_rule="best"))


def test_the_floor_keeps_exactly_the_optima_above_it():
    rng = np.random.default_rng(0)
    proposed = np.array([0.5, 0.84, 0.85, 1.2])
    kept = basins.accepted("floor", 0.85, proposed, np.ones(4), np.ones(4), rng)
    assert kept.tolist() == [False, False, True, True]


def test_metropolis_keeps_a_lower_optimum_with_probability_exp_of_the_drop_over_t_b():
    rng = np.random.default_rng(0)
    n = 200_000
    current, reference = np.full(n, 10.0), np.full(n, 10.0)
    level = 0.9  # T_b = 0.1 * 10 = 1
    for drop in (0.5, 1.0, 2.0):
        kept = basins.accepted("metropolis", level, current - drop, current, reference, rng)
        assert kept.mean() == pytest.approx(np.exp(-drop), abs=0.005)
    assert basins.accepted("metropolis", level, current + 0.1, current, reference, rng).all()


@pytest.fixture(scope="module")
def model():
    return samplevis.Model(tiny_model())


WALK = dict(
    num_results=5,
    num_burnin_steps=6,
    num_steps_between_results=1,
    block_steps=4,
    optimize_steps=8,
    num_leapfrog_steps=2,
    temperature_steps=0,
    move_steps=6,
    num_transforms=0,
    walk=True,  # off by default since the facet search makes the starts
    search_rounds=0,  # each chain walks from its own start; the search has tests of its own
)


def walk_run(model, **opts):
    return samplevis.render(
        model,
        OBJECTIVE,
        hmc_opts=dict(WALK, **opts),
        param_f=lambda: param.image(SIZE, batch=3),
        seed=0,
        progress=False,
    )


@pytest.fixture(scope="module")
def walked(model):
    return walk_run(model, basin_level=0.05, samples_per_basin=2)


def test_each_block_of_samples_sits_in_one_basin_and_basins_count_the_kept_moves(walked):
    basin = walked.basins
    assert basin.shape == (5, 3)
    assert (basin[0] == 0).all()
    # 2 samples a basin: a move after samples 2 and 4; a low floor keeps every move
    assert (basin == np.array([0, 0, 1, 1, 2])[:, None]).all()
    assert walked.moves["proposed"].tolist() == [2, 2, 2]
    assert walked.moves["accepted"].tolist() == [2, 2, 2]


def test_a_sample_is_an_image_of_its_own_basin_and_its_basin_s_optimum_is_measured(model, walked):
    # basin 0's optimum is the start, as measured by render
    np.testing.assert_allclose(walked.basin_activations[0], walked.init_activations, rtol=1e-5)
    # without transforms the traced activation is the objective of the image returned: an image
    # rendered with another basin's fine detail (the one the chain is in at the end) would not
    # have it
    images = walked.images.reshape(-1, SIZE, SIZE, 3)
    features = model.activations(images, ["relu2"])["relu2"]
    recomputed = features[..., 1].mean(axis=(1, 2)).reshape(walked.activations.shape)
    np.testing.assert_allclose(walked.activations, recomputed, rtol=1e-3, atol=1e-4)
    # and the chains moved: the last samples are not images of the first basins
    assert not np.allclose(walked.images[-1], walked.images[0], atol=0.05)


def test_basin_log_masses_are_relative_to_the_heaviest_basin_visited(walked):
    masses = walked.basin_log_masses
    assert np.isfinite(masses).all()
    assert max(np.max(masses), np.max(walked.log_masses)) == 0
    # a chain's last basin is the one its last sample shows
    np.testing.assert_allclose(walked.log_masses, masses[-1])


def test_each_basin_log_mass_has_its_standard_error_from_the_probes(walked):
    errors = walked.basin_log_mass_errors
    assert errors.shape == walked.basin_log_masses.shape
    assert np.isfinite(errors).all() and (errors >= 0).all()
    np.testing.assert_array_equal(walked.log_mass_errors, errors[-1])
    # one estimate per basin: every sample of a basin carries its error
    for c in range(errors.shape[1]):
        for basin in np.unique(walked.basins[:, c]):
            assert len(set(errors[walked.basins[:, c] == basin, c])) == 1


def test_a_rejected_move_keeps_the_basin_and_the_basin_numbers_count_the_kept_moves(model):
    # pure noise at the optima's scale, one step up: most land far below 0.99 of the start
    strict = walk_run(model, basin_level=0.99, move="pcn", move_size=1.0, move_steps=1)
    assert strict.moves["proposed"].tolist() == [4, 4, 4]
    assert strict.moves["accepted"].tolist() == strict.basins[-1].tolist()
    assert (np.diff(strict.basins, axis=0) >= 0).all() and (
        np.diff(strict.basins, axis=0) <= 1
    ).all()
    stayed = strict.basins[-1] == 0
    assert stayed.any()
    # a chain that never moved shows its start's basin in every sample
    np.testing.assert_allclose(
        strict.basin_activations[:, stayed],
        np.broadcast_to(strict.init_activations[stayed], (5, stayed.sum())),
        rtol=1e-6,
    )
