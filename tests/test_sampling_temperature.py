"""Tuning the temperature to a target ratio, on a Gaussian target whose answer is exact."""

import dataclasses

import pytest
import tensorflow as tf

from samplevis.sampling import kernels, temperature

D, C = 50, 4
PEAK, CURVATURE, LAM = 10.0, 1.0, 1.0


def exact_temperature(rho: float, floor: float = 0.0) -> float:
    """T at which E[A] = floor + rho * (PEAK - floor) for A = PEAK - CURVATURE |z|^2 / 2.

    pi(z) ~ exp(A / T - LAM |z|^2 / 2) is N(0, 1 / P) per coordinate, P = CURVATURE / T + LAM,
    so E[A] = PEAK - CURVATURE D / (2 P); solve for T.
    """
    drop = (1.0 - rho) * (PEAK - floor)
    return 2.0 * drop * CURVATURE / (CURVATURE * D - 2.0 * drop * LAM)


@dataclasses.dataclass(frozen=True)
class QuadraticEnergy:
    """log pi(z) = A(z) / T - LAM |z|^2 / 2 with the peak of A at z = 0."""

    temperature: object
    prior_weight: float = LAM

    def activation(self, z):
        return PEAK - CURVATURE * tf.reduce_sum(z * z, -1) / 2

    def __call__(self, z):
        return self.activation(z) / self.temperature - LAM * tf.reduce_sum(z * z, -1) / 2

    def activation_from_log_prob(self, state, target_log_prob):
        z = state[0]
        return self.temperature * (target_log_prob + LAM * tf.reduce_sum(z * z, -1) / 2)


def make_kernel(energy, steps, kind="hmc"):
    z0 = tf.zeros([C, D])
    return kernels.make_kernel(
        energy,
        kind,
        kernels.per_chain_step_size(0.05, [z0]),
        num_leapfrog_steps=8,
        num_adaptation_steps=steps,
        max_tree_depth=4,
    )


# Starting cold makes T rise: with the old T's cached log-density every proposal would be rejected.
@pytest.mark.parametrize("start, kind", [(0.2, "hmc"), (0.2, "mala"), (0.2, "nuts"), (5.0, "hmc")])
def test_tuning_finds_the_temperature_that_keeps_the_target_ratio(start, kind):
    exact = exact_temperature(0.8)
    steps = 5 * temperature.STAGE_STEPS
    tuning = temperature.check_temperature(
        QuadraticEnergy(start * exact),
        lambda e: make_kernel(e, steps, kind),
        [tf.zeros([C, D])],
        PEAK,
        0.8,
        steps,
        seed=0,
        progress=False,
    )
    assert tuning.temperatures[0] == pytest.approx(start * exact)
    assert tuning.temperature == pytest.approx(exact, rel=0.15), tuning.temperatures / exact
    assert tuning.ratios[-1] == pytest.approx(0.8, abs=0.05), tuning.ratios
    assert tuning.run.burnin_trace["activation"].shape == (steps, C)


def test_tuning_measures_the_ratio_from_the_floor():
    # Under the prior alone (T = infinity) E[A] = PEAK - CURVATURE D / (2 LAM) = -15: the floor.
    floor = PEAK - CURVATURE * D / (2 * LAM)
    exact = exact_temperature(0.8, floor)
    steps = 5 * temperature.STAGE_STEPS
    tuning = temperature.check_temperature(
        QuadraticEnergy(0.5 * exact),
        lambda e: make_kernel(e, steps),
        [tf.zeros([C, D])],
        PEAK,
        0.8,
        steps,
        seed=0,
        floor=floor,
        progress=False,
    )
    assert tuning.temperature == pytest.approx(exact, rel=0.15), tuning.temperatures / exact
    assert tuning.ratios[-1] == pytest.approx(0.8, abs=0.05), tuning.ratios


@pytest.mark.parametrize("lam", [1.0, 4.0])
def test_prior_floor_is_the_mean_objective_under_the_prior(lam):
    # z ~ N(0, I / lam): E[A] = PEAK - CURVATURE D / (2 lam), standard deviation of the mean of
    # 16 draws CURVATURE sqrt(2 D) / (2 lam) / 4 = 1.25 / lam.
    energy = QuadraticEnergy(1.0, prior_weight=lam)
    floor = temperature.prior_floor(energy, [tf.zeros([C, D])], seed=3)
    assert temperature.FLOOR_BATCHES * C == 16
    assert floor == pytest.approx(PEAK - CURVATURE * D / (2 * lam), abs=4 * 1.25 / lam)


def test_secant_update_scales_the_temperature_by_the_ratio_of_drops():
    assert temperature.next_temperature(1.0, ratio=0.9, target_ratio=0.8) == pytest.approx(2.0)
    assert temperature.next_temperature(1.0, ratio=0.6, target_ratio=0.8) == pytest.approx(0.5)
    # A stage that kept everything (or more) raises T by the largest step allowed.
    assert temperature.next_temperature(1.0, ratio=1.2, target_ratio=0.8) == temperature.MAX_FACTOR
    assert temperature.next_temperature(1.0, ratio=-5.0, target_ratio=0.8) == pytest.approx(
        1.0 / temperature.MAX_FACTOR
    )


@pytest.mark.parametrize("stop_at_block", [6, 7])  # blocks of 10 steps, 3 to a stage
def test_ctrl_c_while_tuning_keeps_the_finished_stages_and_blocks(stop_at_block):
    def stop(index):
        if index == stop_at_block:
            raise KeyboardInterrupt

    start = exact_temperature(0.8)
    tuning = temperature.check_temperature(
        QuadraticEnergy(start),
        lambda e: make_kernel(e, 120),
        [tf.zeros([C, D])],
        PEAK,
        0.8,
        120,
        seed=0,
        progress=False,
        on_block=stop,
        block_steps=10,
    )
    assert tuning.run.interrupted
    assert len(tuning.temperatures) == 2 and tuning.temperatures[0] == pytest.approx(start)
    # T is the update after stage 2; a block of stage 3 that finished keeps its steps.
    assert tuning.temperature == pytest.approx(
        temperature.next_temperature(tuning.temperatures[1], tuning.ratios[1], 0.8)
    )
    assert tuning.run.burnin_trace["activation"].shape == (10 * stop_at_block, C)


@pytest.mark.parametrize("block_steps, calls", [(30, 3), (7, 15)])  # 7 rounds down to 6
def test_a_stage_runs_in_blocks_and_t_changes_only_between_stages(block_steps, calls):
    blocks = []
    tuning = temperature.check_temperature(
        QuadraticEnergy(exact_temperature(0.8)),
        lambda e: make_kernel(e, 90),
        [tf.zeros([C, D])],
        PEAK,
        0.8,
        90,
        seed=0,
        progress=False,
        on_block=blocks.append,
        block_steps=block_steps,
    )
    assert len(blocks) == calls and len(tuning.temperatures) == 3
    assert tuning.run.burnin_trace["activation"].shape == (90, C)
    assert tuning.temperature == pytest.approx(exact_temperature(0.8), rel=0.15)


def test_tuning_needs_a_positive_optimum_and_a_ratio_in_0_1():
    energy = QuadraticEnergy(0.1)
    with pytest.raises(ValueError, match="a\\* above the prior's floor"):
        temperature.check_temperature(
            energy, lambda e: make_kernel(e, 30), [tf.zeros([C, D])], 0.0, 0.8, 30, progress=False
        )
    with pytest.raises(ValueError, match=r"target_ratio must lie in \(0, 1\)"):
        temperature.check_temperature(
            energy, lambda e: make_kernel(e, 30), [tf.zeros([C, D])], PEAK, 1.0, 30, progress=False
        )
