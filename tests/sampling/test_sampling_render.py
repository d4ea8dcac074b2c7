"""`samplevis.render` end to end on a tiny hand-built convolutional model."""

import dataclasses
import json
import re
import warnings

import imageio.v3 as iio
import keras
import numpy as np
import pytest
import tensorflow as tf

import samplevis
from samplevis import io, objectives, param, transform
from samplevis.optvis.evaluation import objective_of
from samplevis.runtime.seeds import as_seed, fold_in
from samplevis.sampling import options
from samplevis.sampling.density import log_density, temperature
from samplevis.sampling.mcmc import chain
from samplevis.sampling.report.diagnostics_line import diagnostics_line
from samplevis.sampling.report.run_json import diagnostics_to_dict

from conftest import brightness_above_half, read_events
from spectra import spectrum_slope

SIZE, CHAINS = 16, 2
OBJECTIVE = objectives.channel("relu2", 1)


def tiny_model() -> keras.Model:
    """Two conv + ReLU layers with fixed weights, any input size."""
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", name="conv1")(inputs)
    x = keras.layers.ReLU(name="relu1")(x)
    x = keras.layers.Conv2D(6, 3, strides=2, padding="same", name="conv2")(x)
    x = keras.layers.ReLU(name="relu2")(x)
    model = keras.Model(inputs, x)
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if layer.weights:
            kernel, bias = layer.get_weights()
            layer.set_weights(
                [
                    rng.normal(0, 0.5, kernel.shape).astype("float32"),
                    np.full(bias.shape, 0.05, "float32"),
                ]
            )
    return model


def image_param():
    return param.image(SIZE, batch=CHAINS)


QUICK = dict(
    num_results=4,
    num_burnin_steps=8,
    num_steps_between_results=0,
    block_steps=4,
    optimize_steps=8,
    num_leapfrog_steps=4,
    temperature_steps=0,
    warp=False,  # the facet's coefficients alone, which these tests count; the warp's own tests
    # are in test_sampling_warp
    search_rounds=0,  # each chain at its own start; the facet search's tests are in
    # test_facet_search
    polish_steps=0,  # the starts as optimized; the polish's tests are in test_facet_search and
    # test_draws_at_target
)


@pytest.fixture(scope="module")
def model():
    return samplevis.Model(tiny_model())


@pytest.fixture(scope="module")
def result_and_warnings(model):
    """The QUICK run at seed 0 and every warning it gave (the drifting test reads them)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = samplevis.render(
            model, OBJECTIVE, hmc_opts=QUICK, param_f=image_param, seed=0, progress=False
        )
    return result, caught


@pytest.fixture(scope="module")
def result(result_and_warnings):
    return result_and_warnings[0]


@pytest.fixture(scope="module")
def tuned_and_logged(model, tmp_path_factory):
    """One run that adapts T over 12 of its 16 burn-in steps, draws every second step and logs
    to TensorBoard: the adapted-temperature test reads its T, the logging test its event files."""
    log_dir = tmp_path_factory.mktemp("tuned_logs")
    opts = dict(QUICK, num_burnin_steps=16, temperature_steps=12, num_steps_between_results=1)
    tuned = samplevis.render(
        model,
        OBJECTIVE,
        hmc_opts=opts,
        param_f=image_param,
        seed=0,
        progress=False,
        log_dir=log_dir,
    )
    return tuned, log_dir


@pytest.fixture(scope="module")
def interrupted_in_sampling(model, tmp_path_factory):
    """A run from the prior (the Keras model itself given) stopped by Ctrl-C after its first
    block of samples, logging to TensorBoard, with the warnings it gave."""

    def interrupt_at_block_3(index):
        if index == 3:  # blocks 0, 1: burn-in; block 2: the first 4 samples
            raise KeyboardInterrupt

    log_dir = tmp_path_factory.mktemp("interrupted_logs")
    opts = dict(QUICK, init="prior", temperature=0.05, num_transforms=0, num_results=12)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        partial = samplevis.render(
            model.keras_model,
            OBJECTIVE,
            hmc_opts=opts,
            param_f=image_param,
            seed=1,
            progress=False,
            on_block=interrupt_at_block_3,
            log_dir=log_dir,
        )
    return partial, log_dir, [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


@pytest.fixture(scope="module")
def dark_starts(model):
    """A run from given near-black starts, with a prior weight given, and its warnings."""
    dark = np.zeros([CHAINS, SIZE, SIZE, 3], np.float32) + 0.02  # the unit hardly sees black
    opts = QUICK | dict(init=dark, num_results=1, prior_weight=2.5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = samplevis.render(
            model, OBJECTIVE, hmc_opts=opts, param_f=image_param, seed=0, progress=False
        )
    return result, caught


def test_result_has_one_image_and_activation_per_sample_and_chain(result):
    assert result.images.shape == (4, CHAINS, SIZE, SIZE, 3)
    assert result.images.dtype == np.float32
    assert 0.0 <= result.images.min() and result.images.max() <= 1.0
    assert result.activations.shape == (4, CHAINS)
    assert result.init_images.shape == (CHAINS, SIZE, SIZE, 3)
    assert result.init_activations.shape == (CHAINS,)
    assert result.burnin_activations.shape == (8, CHAINS) and result.tuning_steps == 0
    assert {k: v.shape for k, v in result.trace.items()} == {
        k: (4, CHAINS)
        for k in (
            "activation",
            "target_log_prob",
            "energy",
            "is_accepted",
            "log_accept_ratio",
            "step_size",
            "divergent",
        )
    }
    np.testing.assert_array_equal(result.trace["activation"], result.activations)
    assert len(result.diagnostics.acceptance_rate) == CHAINS
    assert result.diagnostics.num_steps == 4 and not result.interrupted
    assert result.diagnostics.scalar == "activation"
    json.dumps(diagnostics_to_dict(result.diagnostics), allow_nan=False)  # standard JSON
    text = repr(result)  # what a notebook cell shows: one line, not the arrays
    assert text.startswith(f"SampleResult(4 samples x {CHAINS} chains of {SIZE}x{SIZE} px, T=")
    assert len(text) < 200 and "interrupted" not in text


def test_same_seed_gives_identical_samples(model, result):
    again = samplevis.render(
        model, OBJECTIVE, hmc_opts=QUICK, param_f=image_param, seed=0, progress=False
    )
    np.testing.assert_array_equal(again.init_images, result.init_images)
    np.testing.assert_array_equal(again.images, result.images)
    np.testing.assert_array_equal(again.activations, result.activations)


def test_another_seed_optimizes_other_starts(model, result):
    other = samplevis.render(
        model,
        OBJECTIVE,
        hmc_opts=dict(QUICK, num_results=1),
        param_f=image_param,
        seed=1,
        progress=False,
    )
    assert np.abs(other.init_images - result.init_images).max() > 0.01


def test_temperature_follows_the_equipartition_rule_over_the_moving_coefficients(result):
    # 16 px: below 1/16 cycle per pixel only the mean colour moves, 2 parts x 3 channels
    assert result.num_moving == 6 and result.cutoff == 1 / 16
    # The ReLU objective is >= 0 on prior images, and the optimized starts beat them.
    assert 0.0 <= result.prior_activation < result.init_activations.mean()
    gain = result.init_activations.mean() - result.prior_activation
    expected = 2 * (1 - 0.8) * gain / result.num_moving
    assert result.temperature == pytest.approx(expected, rel=1e-6)
    assert result.rule_temperature == result.temperature
    np.testing.assert_array_equal(result.chain_temperatures, np.full(CHAINS, result.temperature))
    assert result.options.target_ratio == 0.8
    assert result.temperatures.shape == (0, CHAINS)


@pytest.mark.slow
def test_adapted_temperature_starts_from_the_rule_per_chain_within_burn_in(
    tuned_and_logged, result
):
    tuned, _ = tuned_and_logged
    np.testing.assert_array_equal(tuned.init_images, result.init_images)
    # blocks of 4 steps: those ending at 4, 8 and 12 adapt T, the last one freezing it
    assert tuned.temperatures.shape == (3, CHAINS) and tuned.temperature_shares.shape == (3, CHAINS)
    np.testing.assert_allclose(tuned.temperatures[0], result.temperature, rtol=1e-6)
    assert tuned.rule_temperature == pytest.approx(result.temperature)
    assert tuned.chain_temperatures.shape == (CHAINS,)
    # each chain's own T, raised from the rule's where the chain kept more than asked
    kept_more = tuned.temperature_shares[0] > 0.8
    assert np.all(tuned.chain_temperatures[kept_more] > tuned.rule_temperature)
    assert tuned.temperature == pytest.approx(np.exp(np.mean(np.log(tuned.chain_temperatures))))
    assert tuned.burnin_activations.shape == (16, CHAINS) and tuned.tuning_steps == 12
    assert tuned.images.shape == result.images.shape
    assert tuned.gain_ratios.shape == (CHAINS,)


def test_temperature_steps_default_to_most_of_burn_in_only_with_a_target_ratio():
    assert options.resolve_options({}).temperature_steps == int(
        options.TEMPERATURE_SHARE * options.BURNIN_STEPS
    )
    assert options.resolve_options(dict(num_burnin_steps=20)).temperature_steps == 6
    assert options.resolve_options(dict(temperature=0.1)).temperature_steps == 0


def test_matched_prior_weight_is_the_state_size_over_the_mean_squared_norm():
    # chain 0 is all ones, chain 1 all threes, over two parts: mean square (1 + 9) / 2 = 5
    a = tf.constant(np.stack([np.ones([2, 3]), 3 * np.ones([2, 3])]), tf.float32)
    b = tf.constant([[1.0], [3.0]])
    assert log_density.matched_prior_weight((a, b)) == pytest.approx(1 / 5)
    assert log_density.matched_prior_weight((tf.zeros([2, 4]),)) == 1.0


@pytest.mark.slow
def test_prior_weight_defaults_to_the_starts_mean_square_and_to_one_from_the_prior(
    model, dark_starts, interrupted_in_sampling
):
    pattern = np.random.default_rng(1).uniform(-1, 1, (CHAINS, SIZE, SIZE, 3)).astype("float32")

    def start(contrast: float):
        return param.initialized(image_param(), 0.5 + contrast * pattern).init(None)

    # The state is about linear in the pixel logits, so lam goes as 1 / contrast^2.
    low, high = (
        log_density.matched_prior_weight([tf.constant(s) for s in start(c)]) for c in (0.02, 0.08)
    )
    assert low / high == pytest.approx(16, rel=0.03)
    opts = dict(QUICK, init=0.5 + 0.02 * pattern, num_results=1)
    matched = samplevis.render(
        model, OBJECTIVE, hmc_opts=opts, param_f=image_param, seed=0, progress=False
    )
    assert matched.options.prior_weight is None
    assert matched.prior_weight == pytest.approx(low, rel=1e-6)
    given, _ = dark_starts  # given starts, given prior_weight=2.5: kept as given
    assert given.options.prior_weight == 2.5 and given.prior_weight == 2.5
    prior, _, _ = interrupted_in_sampling  # started from the prior
    assert prior.prior_weight == 1.0


def test_unknown_hmc_opts_key_is_an_error_listing_the_allowed_keys(model):
    with pytest.raises(ValueError) as unknown:
        samplevis.render(model, OBJECTIVE, hmc_opts=dict(num_leapfrog_step=3), progress=False)
    assert str(unknown.value).startswith(
        "unknown hmc_opts key(s) ['num_leapfrog_step']. Did you mean 'num_leapfrog_steps' for "
        "'num_leapfrog_step'? Allowed keys are ['adapt_step_size', "
    )
    with pytest.raises(ValueError, match=r"unknown hmc_opts key\(s\) \['zzz'\]; allowed keys are"):
        samplevis.render(model, OBJECTIVE, hmc_opts=dict(zzz=3), progress=False)
    # other samplers' names, which spelling alone does not lead to
    with pytest.raises(ValueError, match="'num_results' for 'num_samples'"):
        samplevis.render(model, OBJECTIVE, hmc_opts=dict(num_samples=3), progress=False)


def test_the_walk_between_basins_is_gone_and_its_options_name_the_facet_search(model):
    from samplevis.runtime.checks import OptionError

    with pytest.raises(OptionError) as walk:
        samplevis.render(model, OBJECTIVE, hmc_opts=dict(walk=True), progress=False)
    assert str(walk.value) == (
        "the walk between basins (walk) is gone: on a two-facet unit its samples all stayed in "
        "one facet, where the facet search finds both "
        '(docs/sampling_designs.md, "The facet search"). The facet search finds the unit\'s '
        "facets and the chains sample inside each; for more facets give it more rounds: "
        "hmc_opts['search_rounds']."
    )
    for key, value in dict(samples_per_basin=2, move="pcn", basin_level=0.9).items():
        with pytest.raises(OptionError, match=f"^{key} set the walk between basins, which is gone"):
            samplevis.render(model, OBJECTIVE, hmc_opts={key: value}, progress=False)


@pytest.mark.parametrize(
    "init, hint",
    [
        (
            "cat.png",
            "For image files, load them as images first: hmc_opts['init'] = "
            "samplevis.io.load_images(['cat.png'], size), size being the side of the images "
            "rendered in px (one file for every chain, or one per chain).",
        ),
        ("prior.png", "samplevis.io.load_images(['prior.png'], size)"),  # a file, not a misspelling
        ("optimise", "Did you mean 'optimize'?"),
    ],
)
def test_an_init_string_that_is_no_start_says_how_to_give_files_or_the_closest_start(
    model, init, hint
):
    with pytest.raises(ValueError) as refused:
        samplevis.render(model, OBJECTIVE, hmc_opts=dict(init=init), progress=False)
    message = str(refused.value)
    assert message.startswith(
        f"hmc_opts['init'] must be one of ('optimize', 'prior'), an examples.json or images "
        f"[C, H, W, 3] in [0, 1]; got {init!r}. "
    )
    assert hint in message and ("Did you mean" in message) == (init == "optimise")


@pytest.mark.parametrize(
    "opts, message",
    [
        (dict(num_results=0), "num_results.*int >= 1"),
        (dict(kernel="gibbs"), "kernel.*one of"),
        (dict(target_ratio=1.5), r"target_ratio.*\(0, 1\)"),
        (dict(temperature=1.0, target_ratio=0.5), "not both"),
        (dict(init="prior"), "give hmc_opts\\['temperature'\\]"),
        (dict(step_size=-1.0), "step_size.*> 0"),
        (dict(num_burnin_steps=0), "adapting the step size needs a burn-in"),
        (dict(init=np.zeros([3, 8, 8])), r"images \[C, H, W, 3\]"),
        (dict(mass="dense"), r"mass.*one of \('curvature', 'fisher', 'identity'\)"),
        (dict(kernel="nuts", mass="fisher"), "adapt_step_size=False"),
        (dict(temperature=0.1, temperature_steps=30), r"temperature_steps'\] tune T"),
        (dict(temperature_steps=-1), "temperature_steps.*int >= 0"),
        (
            dict(num_burnin_steps=20, temperature_steps=30),
            r"at most hmc_opts\['num_burnin_steps'\]",
        ),
        (dict(prior_weight="auto"), r"prior_weight.*number >= 0 \(prior_weight=None: matched"),
        (dict(step_size=float("inf")), "step_size.*finite number > 0"),
        (dict(temperature=float("inf")), "temperature.*finite number > 0"),
        (dict(prior_weight=float("inf")), "prior_weight.*finite number >= 0"),
        (dict(init=[np.zeros([8, 8, 3]), np.zeros([4, 4, 3])]), "all of one size"),
        (dict(optimize_steps=0), "optimize_steps.*int >= 1"),
        (dict(adapt_step_size="no"), r"adapt_step_size'\] must be True or False; got 'no'"),
        (dict(kind_floor=0.0), r"kind_floor'\] must be a number in \(0, 1\]"),
        (dict(kind_distance=3), r"kind_distance'\] must be a number in \(0, 2\]"),
        (
            dict(kind_floor=0.9),
            r"kind_floor'\] must be at most hmc_opts\['facet_floor'\] \(0.8\); got 0.9\. Lower",
        ),
        (
            dict(facet_distance=0.6),
            r"facet_distance'\] must be at most hmc_opts\['kind_distance'\] \(0.5\); got 0.6",
        ),
    ],
)
def test_invalid_hmc_opts_values_are_explained(opts, message):
    with pytest.raises(ValueError, match=message):
        options.resolve_options(opts)


def test_each_option_is_checked_by_its_own_entry_and_the_resolved_record_has_every_option():
    from samplevis.runtime.checks import OptionError

    assert [f.name for f in dataclasses.fields(options.SamplingOptions)] == list(options.OPTIONS)
    for key, option in options.OPTIONS.items():
        option.check(key, option.default)  # every default passes its option's own check
        with pytest.raises(OptionError, match=re.escape(f"hmc_opts['{key}'] must be")):
            option.check(key, object())


def test_the_start_is_resolved_once_from_init_and_sets_what_depends_on_it(tmp_path):
    (tmp_path / "examples.json").write_text("{}")
    resolved = {
        start: options.resolve_options(init)
        for start, init in (
            ("optimize", None),
            ("prior", dict(init="prior", temperature=1.0)),
            ("photos", dict(init=tmp_path)),
            ("images", dict(init=np.zeros([2, 8, 8, 3], np.float32))),
        )
    }
    assert {start: opts.start for start, opts in resolved.items()} == {
        start: start for start in options.STARTS
    }
    # the search follows optimized starts and photo clusters; photo chains take shorter steps
    assert [opts.search_rounds for opts in resolved.values()] == [options.SEARCH_ROUNDS, 0, 0, 0]
    assert resolved["photos"].num_leapfrog_steps == options.PHOTO_LEAPFROG_STEPS
    assert resolved["images"].num_leapfrog_steps == options.LEAPFROG_STEPS
    # a photo facet's warp is given its curvature in each of its directions, the others' one
    # number; a mass given is kept on either route
    assert [opts.warp_mass for opts in resolved.values()] == ["mean", "mean", "directions", "mean"]
    assert options.resolve_options(dict(init=tmp_path, warp_mass="mean")).warp_mass == "mean"
    # photo chains settle over a longer burn-in, and T adapts over its share of it; a burn-in
    # given is kept on either route
    assert [opts.num_burnin_steps for opts in resolved.values()] == [50, 50, 150, 50]
    assert resolved["photos"].temperature_steps == int(options.TEMPERATURE_SHARE * 150)
    given = options.resolve_options(dict(init=tmp_path, num_burnin_steps=30))
    assert (given.num_burnin_steps, given.temperature_steps) == (30, 9)
    # each "one of" check names what is allowed, None only where the option takes it
    with pytest.raises(ValueError, match=r"one of \('hmc', 'mala', 'nuts'\); got 'hm'"):
        options.resolve_options(dict(kernel="hm"))
    assert options.resolve_options(dict(mass=None)).mass == "curvature"


def test_hmc_opts_and_on_block_of_the_wrong_type_are_refused_before_any_work(model):
    with pytest.raises(TypeError, match="hmc_opts must be a dict"):
        options.resolve_options([("num_results", 3)])
    with pytest.raises(TypeError, match="on_block must be a function"):
        samplevis.render(model, OBJECTIVE, on_block=5, progress=False)
    with pytest.raises(TypeError, match="progress must be True or False; got 'no'"):
        samplevis.render(model, OBJECTIVE, progress="no")


@pytest.mark.parametrize(
    "coupled",
    [
        objectives.channel("relu2", 1) - 10.0 * objectives.diversity("relu2"),
        objectives.channel("relu2", 1) + objectives.alignment("relu2"),
        objectives.Objective(
            lambda T: tf.reduce_sum(T("relu2")), frozenset({"relu2"}), "batch_sum"
        ),
        # a coupling far below any tolerance on the values: its gradient is still not zero
        objectives.channel("relu2", 1)
        + objectives.Objective(
            lambda T: 1e-12 * tf.reduce_sum(T("relu2")) * tf.ones([T("relu2").shape[0]]),
            frozenset({"relu2"}),
            "tiny_batch_sum",
        ),
    ],
    ids=["diversity", "alignment", "sum over the batch", "tiny coupling"],
)
def test_objectives_that_couple_the_chains_images_are_refused_before_any_work(
    model, coupled, monkeypatch
):
    from samplevis.optvis import optimize

    def no_optimizing(*args, **kwargs):
        raise AssertionError("render optimized starts for an objective it must refuse")

    monkeypatch.setattr(optimize, "render_vis", no_optimizing)
    with pytest.raises(
        ValueError,
        match="gives image 0 changes when the other images do.*"
        "optimize batch objectives with render_vis",
    ):
        samplevis.render(model, coupled, hmc_opts=QUICK, param_f=image_param, progress=False)


def test_per_image_objectives_pass_the_coupling_check(model):
    from samplevis.sampling.sampler import _check_per_image

    for per_image in (
        OBJECTIVE,
        objectives.channel("relu2", 1, batch=1),
        OBJECTIVE - 1e-3 * objectives.L1(),
    ):
        _check_per_image(model, per_image, image_param(), as_seed(0))


def test_mass_defaults_to_the_facets_and_a_mass_with_nuts_needs_a_fixed_step():
    assert options.resolve_options({}).mass == "curvature"
    assert options.resolve_options({}).step_size == options.CURVATURE_STEP
    assert options.resolve_options(dict(kernel="nuts")).mass == "identity"
    assert options.resolve_options(dict(mass="identity")).step_size == options.IDENTITY_STEP
    for mass in ("fisher", "curvature"):
        with pytest.raises(ValueError, match="adapt_step_size=False"):
            options.resolve_options(dict(kernel="nuts", mass=mass))
    assert (
        options.resolve_options(dict(kernel="nuts", adapt_step_size=False, mass="fisher")).mass
        == "fisher"
    )
    assert options.resolve_options(dict(adapt_step_size=np.bool_(True))).adapt_step_size is True


def test_parameterization_batch_must_match_the_number_of_chains(model):
    with pytest.raises(ValueError, match="batch=3"):
        samplevis.render(
            model, OBJECTIVE, hmc_opts=dict(num_chains=3), param_f=image_param, progress=False
        )


def test_ctrl_c_between_optimizing_and_sampling_keeps_the_optimized_starts(
    model, result, monkeypatch, tmp_path
):
    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    # The prior's floor is measured after the starts are optimized, outside any chain loop.
    monkeypatch.setattr(temperature, "prior_floor", ctrl_c)
    partial = samplevis.render(
        model, OBJECTIVE, hmc_opts=QUICK, param_f=image_param, seed=0, progress=False
    )
    assert partial.interrupted and partial.diagnostics is None
    assert partial.images.shape == (0, CHAINS, SIZE, SIZE, 3)
    # Same seed and options as the uninterrupted `result`: the same starts, a* and lam.
    np.testing.assert_array_equal(partial.init_images, result.init_images)
    np.testing.assert_array_equal(partial.init_activations, result.init_activations)
    assert np.isnan(partial.prior_weight) and np.isnan(partial.prior_activation)
    assert np.isnan(partial.temperature) and np.isnan(partial.log_masses).all()
    with pytest.raises(ValueError, match="no samples to write: the run was interrupted"):
        partial.save_gif(tmp_path / "out.gif")
    with pytest.raises(ValueError, match="no samples to write: the run was interrupted"):
        partial.save_pngs(tmp_path / "pngs")
    assert list(tmp_path.iterdir()) == []


def test_running_out_of_memory_after_the_starts_keeps_them_on_the_error(model, result, monkeypatch):
    def out_of_memory(*args, **kwargs):
        # TensorFlow's words when the host's allocator refuses a tensor
        raise tf.errors.ResourceExhaustedError(
            None, None, "OOM when allocating tensor with shape[2,16,16,3] and type float on CPU"
        )

    monkeypatch.setattr(temperature, "prior_floor", out_of_memory)
    with pytest.raises(samplevis.MemoryLimitError) as stopped:
        samplevis.render(
            model, OBJECTIVE, hmc_opts=QUICK, param_f=image_param, seed=0, progress=False
        )
    assert "ran out of memory during the run (16x16 px images, batch 2" in str(stopped.value)
    assert "hmc_opts['num_chains']" in str(stopped.value)
    partial = stopped.value.result
    assert partial.interrupted and partial.diagnostics is None
    assert partial.images.shape == (0, CHAINS, SIZE, SIZE, 3)
    # the starts of the same seed and options as the uninterrupted `result`, and nothing after
    np.testing.assert_array_equal(partial.init_images, result.init_images)
    assert np.isnan(partial.prior_weight) and np.isnan(partial.log_masses).all()
    assert partial.num_moving == result.num_moving  # the facets were set before T was


def test_ctrl_c_during_sampling_returns_the_samples_drawn_so_far(model, interrupted_in_sampling):
    partial, _, warned = interrupted_in_sampling
    assert any(
        "render interrupted; returning the chains' starts and "
        "the 4 samples per chain drawn so far" in message
        for message in warned
    ), warned
    assert partial.interrupted and partial.diagnostics.interrupted
    assert partial.images.shape == (4, CHAINS, SIZE, SIZE, 3)
    assert partial.activations.shape == (4, CHAINS)
    # Without transforms the traced activation is the objective of the returned images.
    features = model.activations(partial.images.reshape(-1, SIZE, SIZE, 3), ["relu2"])["relu2"]
    recomputed = features[..., 1].mean(axis=(1, 2)).reshape(4, CHAINS)
    np.testing.assert_allclose(partial.activations, recomputed, rtol=1e-3, atol=1e-4)


def test_ctrl_c_during_burn_in_keeps_its_acceptance_and_no_samples(model):
    def interrupt_at_block_1(index):
        if index == 1:  # block 0 is burn-in
            raise KeyboardInterrupt

    opts = dict(QUICK, init="prior", temperature=0.05, num_transforms=0)
    partial = samplevis.render(
        model,
        OBJECTIVE,
        hmc_opts=opts,
        param_f=image_param,
        seed=1,
        progress=False,
        on_block=interrupt_at_block_1,
    )
    assert partial.interrupted and partial.images.shape == (0, CHAINS, SIZE, SIZE, 3)
    diag = partial.diagnostics
    assert diag.num_steps == 0 and diag.stuck_chains == ()
    assert all(0 < p <= 1 for p in diag.burnin_acceptance_rate), diag.burnin_acceptance_rate
    assert diagnostics_line(diag).startswith(
        "no sampling steps (stopped during burn-in); burn-in acceptance probability"
    )


@pytest.mark.slow
def test_render_logs_each_chain_at_every_mcmc_step_of_tuning_burn_in_and_sampling(
    tuned_and_logged,
):
    result, tmp_path = tuned_and_logged
    n, kept = 16, 4  # steps of burn-in (the first 12 adapting T); samples, each 2 steps apart
    assert result.tuning_steps == 12
    assert {k: v.shape for k, v in result.burnin_trace.items()} == {
        k: (n, CHAINS) for k in (*chain.STEP_KEYS, "activation")
    }
    np.testing.assert_array_equal(result.burnin_trace["activation"], result.burnin_activations)
    events = read_events(tmp_path)
    steps = list(range(1, n + 1)) + [n + 2 * i for i in range(1, kept + 1)]
    for c in range(CHAINS):
        activation = events[f"activation/chain_{c}"]
        assert [s for s, _ in activation] == [0] + steps
        np.testing.assert_array_equal(
            [v for _, v in activation],
            np.concatenate(
                [
                    result.init_activations[c : c + 1],
                    result.burnin_activations[:, c],
                    result.activations[:, c],
                ]
            ),
        )
        step_size = events[f"step_size/chain_{c}"]
        assert [s for s, _ in step_size] == steps
        np.testing.assert_array_equal(
            [v for _, v in step_size],
            np.concatenate(
                [result.burnin_trace["step_size"][:, c], result.trace["step_size"][:, c]]
            ),
        )
        acceptance = [v for s, v in events[f"acceptance/chain_{c}"]]
        assert len(acceptance) == len(steps) and all(0 <= a <= 1 for a in acceptance)
        samples = events[f"samples/chain_{c}"]
        assert [s for s, _ in samples] == steps[-kept:]
        for (_, [png]), image in zip(samples, result.images[:, c]):
            np.testing.assert_array_equal(png, io.to_uint8(image))
    assert [(s, len(images)) for s, images in events["starts"]] == [(0, CHAINS)]
    # the starts' optimization, as render_vis logs it
    starts = read_events(tmp_path / "starts")
    assert sorted(starts) == ["images", "objective", "objective/image_0", "objective/image_1"]
    assert [s for s, _ in starts["objective"]] == list(range(1, QUICK["optimize_steps"] + 1))


def test_render_interrupted_during_sampling_logs_the_samples_drawn_so_far(interrupted_in_sampling):
    partial, tmp_path, warned = interrupted_in_sampling
    assert any("render interrupted" in message for message in warned)
    events = read_events(tmp_path)
    for c in range(CHAINS):
        assert [s for s, _ in events[f"activation/chain_{c}"]] == list(range(8 + 4 + 1))
        assert [s for s, _ in events[f"samples/chain_{c}"]] == [9, 10, 11, 12]
        assert events[f"activation/chain_{c}"][-1][1] == partial.activations[-1, c]
    assert not (tmp_path / "starts").exists()  # started from the prior: nothing optimized


def test_a_log_dir_in_a_file_is_refused_before_render_does_any_work(model, tmp_path):
    (tmp_path / "taken").write_text("keep me")
    # an unknown layer would be the first error of any work done
    with pytest.raises(ValueError, match=r"log_dir '.*logs' lies under the file '.*taken'"):
        samplevis.render(
            model,
            "relu9:0",
            hmc_opts=QUICK,
            param_f=image_param,
            progress=False,
            log_dir=tmp_path / "taken/logs",
        )


def test_energy_is_deterministic_and_averages_fixed_transforms(model):
    p = image_param()
    z = p.init(0)[0] * 100.0  # a standard normal state
    e = log_density.make_log_density(
        model,
        OBJECTIVE,
        p,
        temperature=0.1,
        prior_weight=1.0,
        transforms=transform.standard_transforms,
        num_transforms=2,
        seed=tf.constant([4, 2]),
    )
    first, second = e(z).numpy(), e(z).numpy()
    np.testing.assert_array_equal(first, second)
    assert first.shape == (CHAINS,)
    # The average over K fixed views equals the mean of the views taken one by one.
    images = p.to_image((z,))
    views = [
        objective_of(model, OBJECTIVE, images, t(images, s)) for t, s in zip(e.transforms, e.seeds)
    ]
    np.testing.assert_allclose(e.activation(z), np.mean(views, axis=0), rtol=1e-5)
    expected = np.mean(views, axis=0) / 0.1 - 0.5 * np.sum(z.numpy() ** 2, axis=(1, 2, 3, 4))
    np.testing.assert_allclose(first, expected, rtol=1e-4)
    np.testing.assert_allclose(
        e.activation_from_log_prob([z], e(z)), e.activation(z), rtol=1e-3, atol=1e-3
    )


def test_standard_normal_state_is_a_one_over_f_image_prior():
    p = param.image(64, batch=4)
    z = tf.random.stateless_normal(p.state_shapes[0], [0, 1])
    images = p.to_image((z,)).numpy()
    slopes = spectrum_slope(images)
    assert np.all((-2.6 < slopes) & (slopes < -1.5)), slopes
    assert 0.15 < images.std() < 0.3  # the contrast of photographs, not saturated


def test_save_gif_and_pngs_write_one_frame_and_file_per_sample(result, tmp_path):
    gif = result.save_gif(tmp_path / "all.gif")
    frames = iio.imread(gif, index=None)
    assert frames.shape[0] == 4 and frames.shape[2] > SIZE * CHAINS  # chains side by side
    one = iio.imread(result.save_gif(tmp_path / "one.gif", chain=1), index=None)
    assert one.shape[:3] == (4, SIZE, SIZE)
    paths = result.save_pngs(tmp_path / "pngs")
    assert len(paths) == 4 * CHAINS and all(p.exists() for p in paths)
    with pytest.raises(ValueError, match=r"chain must be an int in 0\.\.1, or None for all; got 5"):
        result.save_gif(tmp_path / "bad.gif", chain=5)
    # every third sample: frames 0 and 3 of 4
    sparse = iio.imread(result.save_gif(tmp_path / "sparse.gif", chain=1, every=3), index=None)
    assert sparse.shape[0] == 2
    np.testing.assert_array_equal(sparse[1], one[3])
    with pytest.raises(ValueError, match="every must be an int >= 1"):
        result.save_gif(tmp_path / "bad.gif", every=0)


def test_std_map_is_bright_only_where_a_chains_samples_differ(result, tmp_path):
    images = np.full_like(result.images, 0.5)  # [4, CHAINS, SIZE, SIZE, 3]
    images[::2, 1, 3, 5] = 1.0  # chain 1, pixel (3, 5): 1, 0.5, 1, 0.5 -> std 0.25
    flickering = dataclasses.replace(result, images=images)
    expected = np.zeros((CHAINS, SIZE, SIZE))
    expected[1, 3, 5] = 0.25
    np.testing.assert_allclose(flickering.std_maps(), expected, atol=1e-6)
    png = iio.imread(flickering.save_std_map(tmp_path / "std.png"))
    tiles = [png[2 : 2 + SIZE, left : left + SIZE, 0] for left in (2, SIZE + 4)]  # 2 px padding
    assert tiles[1][3, 5] == 255 and tiles[1].sum() == 255 and tiles[0].sum() == 0
    with pytest.raises(ValueError, match="at least 2 samples per chain.*Raise num_results"):
        dataclasses.replace(result, images=images[:1]).std_maps()
    with pytest.raises(ValueError, match="at least 2 samples per chain.*It was interrupted"):
        dataclasses.replace(result, images=images[:1], interrupted=True).std_maps()


@pytest.mark.slow
def test_dead_optimized_starts_are_reseeded(gabor_model):
    model = gabor_model
    small = dict(
        num_chains=6,
        num_results=2,
        num_burnin_steps=4,
        optimize_steps=8,
        num_transforms=0,
        polish_steps=0,  # the starts as the optimizer left them, re-seeded or not
    )
    first = param.image(16, batch=6)
    # the optimization render() runs first, with the seed it derives from seed=3
    probe = samplevis.render_vis(
        model,
        brightness_above_half(),
        param_f=first,
        thresholds=(8,),
        progress=False,
        seed=fold_in(as_seed(3), 0),
    )[-1]
    # Without transforms the objective is relu(mean brightness - 0.5).
    alive = probe.mean(axis=(1, 2, 3)) > 0.5
    assert int(np.sum(~alive)) >= 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # chains still dead after the re-seeds are warned about
        result = samplevis.render(
            model, brightness_above_half(), hmc_opts=small, seed=3, param_f=first, progress=False
        )
    np.testing.assert_allclose(result.init_images[alive], probe[alive], atol=1e-6)  # kept
    np.testing.assert_allclose(
        result.init_activations,
        np.maximum(result.init_images.mean(axis=(1, 2, 3)) - 0.5, 0),
        atol=1e-5,
    )
    assert int(np.sum(result.init_activations <= 0)) < int(np.sum(~alive))  # some revived


def test_a_negative_objective_with_a_gradient_is_alive_and_keeps_its_starts(gabor_model):
    model = gabor_model
    penalized = objectives.channel("gabor_relu", 0) - 100  # below 0 everywhere, yet it climbs
    small = dict(
        num_chains=2,
        num_results=1,
        num_burnin_steps=2,
        optimize_steps=8,
        num_transforms=0,
        temperature=0.05,
        polish_steps=0,  # the starts as the optimizer left them
        mass="identity",  # a first step that accepts on this ReLU toy with 2 steps to adapt it
    )
    first = param.image(16, batch=2)
    probe = samplevis.render_vis(
        model,
        penalized,
        param_f=first,
        thresholds=(8,),
        progress=False,
        seed=fold_in(as_seed(3), 0),
    )[-1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "dead unit?" warning
        result = samplevis.render(
            model, penalized, hmc_opts=small, seed=3, param_f=first, progress=False
        )
    assert np.all(result.init_activations < 0)
    np.testing.assert_allclose(result.init_images, probe, atol=1e-6)  # not re-seeded


def test_chains_a_batch_objective_leaves_out_are_warned_about_with_the_cause(gabor_model):
    model = gabor_model
    small = dict(
        num_chains=2,
        num_results=1,
        num_burnin_steps=2,
        optimize_steps=4,
        num_transforms=0,
        temperature=0.05,
    )
    with pytest.warns(
        UserWarning,
        match=r"chains \[0\] start with objective <= 0 .* picks images "
        r"with batch=, which leaves these chains without one",
    ):
        result = samplevis.render(
            model,
            objectives.channel("gabor_relu", 0, batch=1),
            hmc_opts=small,
            param_f=param.image(16, batch=2),
            seed=0,
            progress=False,
        )
    assert result.init_activations[0] == 0 and result.init_activations[1] > 0


@pytest.mark.slow
def test_render_warns_about_chains_that_never_moved_or_kept_drifting(model, result_and_warnings):
    # A fixed step of 100 prior widths rejects every trajectory; without burn-in nothing adapts it.
    stuck = QUICK | dict(num_burnin_steps=0, adapt_step_size=False, step_size=100.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = samplevis.render(
            model, OBJECTIVE, hmc_opts=stuck, param_f=image_param, seed=0, progress=False
        )
    assert result.diagnostics.stuck_chains == (0, 1)
    warned = [w for w in caught if "accepted no step" in str(w.message)]
    assert [str(w.message) for w in warned] == [
        "chains [0, 1] accepted no step while sampling, so their samples are all the same image. "
        "Give a smaller hmc_opts['step_size']: with adapt_step_size=False every chain keeps it."
    ]
    assert warned[0].filename == __file__  # it points at the call, not into the library
    # trajectories of 100 prior widths end at energy errors far above 1000: every step diverged
    assert result.diagnostics.divergence_rate == 1.0
    assert [str(w.message) for w in caught if "diverged" in str(w.message)] == [
        "8 of 8 sampling steps diverged (energy error > 1000): the leapfrog step was too large for "
        "the target, and those trajectories were rejected. Give a smaller hmc_opts['step_size']: "
        "with adapt_step_size=False every chain keeps it."
    ]
    result, caught = result_and_warnings  # the QUICK run: adapted steps, 8 of burn-in
    drifting = [
        str(w.message).split(" were still drifting")[0]
        for w in caught
        if "were still drifting" in str(w.message)
    ]
    unsettled = list(result.diagnostics.unsettled_chains)
    assert drifting == ([f"chains {unsettled}"] if unsettled else [])


def test_prior_images_that_beat_given_starts_are_warned_about_without_optimizer_advice(
    dark_starts,
):
    result, caught = dark_starts
    a_star = float(np.mean(result.init_activations))
    assert 0 < a_star <= result.prior_activation
    messages = [str(w.message) for w in caught if "images drawn from the prior" in str(w.message)]
    assert len(messages) == 1 and f"a* = {a_star:.4g}" in messages[0]
    assert "Start from images the unit responds to more" in messages[0]
    assert "optimize_steps" not in messages[0]  # these starts were not optimized
    assert caught[[str(w.message) for w in caught].index(messages[0])].filename == __file__


def test_samples_that_lost_most_of_the_gain_t_was_set_for_are_warned_about(result):
    from samplevis.sampling.report.advice import lost_gain_warning as _lost_gain_warning

    assert result.gain_ratio >= 0.4 and _lost_gain_warning(result) is None
    # Samples at the prior's level keep none of the gain: T did not hold the chains.
    fallen = dataclasses.replace(
        result, activations=np.full_like(result.activations, result.prior_activation)
    )
    assert fallen.gain_ratio == 0
    assert str(_lost_gain_warning(fallen)) == (
        f"the samples keep 0.00 of the starts' gain over prior images, against "
        f"target_ratio=0.8: the chains fell further than the temperature T = "
        f"{result.temperature:.3g} aimed at. Adapt T during burn-in "
        "(hmc_opts['temperature_steps']), or give a lower hmc_opts['temperature']."
    )
    tuned = dataclasses.replace(
        fallen, options=dataclasses.replace(fallen.options, temperature_steps=20)
    )
    assert "Adapt T over a longer burn-in" in str(_lost_gain_warning(tuned))
    given = dataclasses.replace(
        fallen, options=dataclasses.replace(fallen.options, temperature=0.1)
    )
    assert _lost_gain_warning(given) is None  # the user chose T


def test_start_diversity_needs_starts_that_are_optimized():
    assert options.resolve_options({}).start_diversity == 0.0
    assert options.resolve_options(dict(start_diversity=2)).start_diversity == 2.0
    with pytest.raises(ValueError, match="does not optimize them; leave it at 0"):
        options.resolve_options(dict(init="prior", temperature=0.1, start_diversity=1.0))
    with pytest.raises(ValueError, match="start_diversity'\\] must be a finite number >= 0"):
        options.resolve_options(dict(start_diversity=-1))
