"""Diagonal mass matrices: known group means, and exact Gaussians across four decades of precision."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf
from test_sampling_machinery import C, D, assert_gaussian

from samplevis import param
from samplevis.sampling.density import momentum
from samplevis.sampling.mcmc import chain, diagnostics, kernels

# A Gaussian whose precisions span 1 to 1e4: an identity mass must take steps
# of about 1e-2 for the stiffest coordinate, so the loosest one crawls.
PRECISION = np.geomspace(1.0, 1e4, D).astype(np.float32)
MEAN = np.sin(np.arange(D)).astype(np.float32)


def stiff_target(z):
    return -tf.reduce_sum(PRECISION * (z - MEAN) ** 2, -1) / 2


def sample_stiff(kind, momentum, seed=0):
    z0 = tf.constant(np.broadcast_to(MEAN, [C, D]))  # at the mode, as optimized starts are
    # Preconditioned NUTS cannot adapt its step (see make_kernel): it gets a fixed one.
    fixed = kind == "nuts" and momentum is not None
    kernel = kernels.make_kernel(
        stiff_target,
        kind,
        kernels.per_chain_step_size(0.5 if fixed else 0.01, [z0]),
        num_leapfrog_steps=8,
        num_adaptation_steps=None if fixed else kernels.default_adaptation_steps(200),
        max_tree_depth=5,
        momentum_distribution=momentum,
    )
    # MALA moves one leapfrog step per proposal: thin it as much as HMC's 8 steps cost.
    thin = 7 if kind == "mala" else 0
    # NUTS draws are less anticorrelated than fixed-length HMC's: at 400 draws
    # (ESS about 150) one chain in six shows split R-hat above 1.05 by chance.
    num_results = 1200 if kind == "nuts" else 400
    plan = chain.ChainPlan(num_results, 200, thin, num_results)
    return chain.run_chains(kernel, [z0], plan, seed=seed, progress=False)


@pytest.fixture(scope="module")
def precision_mass():
    return momentum.momentum_distribution([tf.constant(np.broadcast_to(PRECISION, [C, D]))])


@pytest.fixture(scope="module")
def stiff_runs(precision_mass):
    """`sample_stiff(kind, mass)` with the precision as the mass or the identity (None), each run
    once in the module: HMC with the mass is both a recovered Gaussian and the fast-mixing side
    of the comparison with the identity."""
    made = {}

    def run(kind: str, with_mass: bool):
        if (kind, with_mass) not in made:
            made[kind, with_mass] = sample_stiff(kind, precision_mass if with_mass else None)
        return made[kind, with_mass]

    return run


# NUTS builds the longest trajectories: the slowest of the three
@pytest.mark.parametrize(
    "kind", [pytest.param(k, marks=pytest.mark.slow) if k == "nuts" else k for k in kernels.KINDS]
)
def test_mass_equal_to_the_precision_recovers_a_stiff_gaussian(kind, stiff_runs):
    run = stiff_runs(kind, with_mass=True)
    assert_gaussian(run.samples[0], MEAN, 1.0 / PRECISION)
    diag = diagnostics.diagnose(run)
    assert max(diag.rhat) < 1.05, diag.rhat
    assert sum(diag.divergences) == 0
    # K(p) = p' M^-1 p / 2 for p ~ N(0, M), no normalizing constant: like -log pi here (a
    # quadratic form about the mean), it averages D / 2, so the Hamiltonian averages D.
    energy = run.trace["energy"]
    kinetic = energy + run.trace["target_log_prob"]
    ess = np.sum(diagnostics.ess_per_chain(energy))
    assert abs(kinetic.mean() - D / 2) < 4 * kinetic.std() / np.sqrt(ess), kinetic.mean()
    assert abs(energy.mean() - D) < 4 * energy.std() / np.sqrt(ess), energy.mean()


def test_mass_mixes_the_loosest_coordinate_far_faster_than_the_identity(stiff_runs):
    def worst_ess(run):
        draws = run.samples[0][..., 0]  # the coordinate with precision 1
        return float(np.min(diagnostics.ess_per_chain(draws)))

    assert worst_ess(stiff_runs("hmc", with_mass=True)) > 5 * worst_ess(
        stiff_runs("hmc", with_mass=False)
    )


@dataclasses.dataclass(frozen=True)
class LinearLogDensity:
    """A = sum(w * z) per chain, so dA/dz = w exactly."""

    weights: np.ndarray
    temperature: float
    prior_weight: float

    def activation(self, z):
        return tf.reduce_sum(tf.reshape(self.weights * z, [z.shape[0], -1]), 1)


def test_fisher_mass_is_prior_weight_plus_group_mean_of_squared_gradients():
    p = param.image(16, batch=2)
    groups = momentum.state_groups(p, num_bands=4)
    shape = p.state_shapes[0]
    weights = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    log_density = LinearLogDensity(weights, temperature=0.5, prior_weight=2.0)
    (m,) = momentum.fisher_mass(log_density, p.init(0), groups)

    squared = (weights / 0.5) ** 2
    for chain_index in range(2):
        for group in np.unique(groups[0]):
            inside = groups[0] == group
            expected = 2.0 + squared[chain_index][inside].mean()
            np.testing.assert_allclose(m.numpy()[chain_index][inside], expected, rtol=1e-5)


def test_fisher_mass_is_one_where_there_is_neither_gradient_nor_prior():
    p = param.image(16, batch=2)
    log_density = LinearLogDensity(np.zeros(p.state_shapes[0], np.float32), 1.0, prior_weight=0.0)
    (m,) = momentum.fisher_mass(log_density, p.init(0), momentum.state_groups(p))
    np.testing.assert_array_equal(m.numpy(), 1.0)


def test_spectral_state_is_grouped_by_colour_channel_and_frequency_band():
    (groups,) = momentum.state_groups(param.image(32, batch=2), num_bands=8)
    assert groups.shape == (2, 3, 32, 17)  # state [C, 2, 3, H, Wf] without the chain axis
    np.testing.assert_array_equal(groups[0], groups[1])  # real and imaginary parts together
    assert sorted(np.unique(groups)) == list(range(24))
    for channel in range(3):
        assert groups[0, channel, 0, 0] == channel * 8  # DC: lowest band
        assert groups[0, channel, 16, 16] == channel * 8 + 7  # (0.5, 0.5) cycles/px: highest
    # Bands are equal in log frequency, so each holds more coefficients than the one below.
    counts = np.bincount(groups[0, 0].ravel())
    assert np.all(np.diff(counts[1:-1]) > 0), counts  # the last band is cut by the grid corners


def test_pixel_state_is_one_group():
    (groups,) = momentum.state_groups(param.image(8, batch=2, fft=False))
    assert groups.shape == (8, 8, 3) and not groups.any()


def test_nuts_with_a_mass_refuses_step_size_adaptation(precision_mass):
    with pytest.raises(ValueError, match="NUTS with a momentum distribution cannot adapt"):
        kernels.make_kernel(
            stiff_target, "nuts", 0.1, num_adaptation_steps=10, momentum_distribution=precision_mass
        )


def test_num_bands_must_be_a_positive_int():
    with pytest.raises(ValueError, match="num_bands must be an int >= 1"):
        momentum.state_groups(param.image(8), num_bands=0)
