"""render_vis: known preferred images, determinism, no retracing, interruption, bad input."""

import contextlib

import keras
import numpy as np
import pytest
import tensorflow as tf

import samplevis
from samplevis import objectives, param
from samplevis.optvis import evaluation, optimize
from samplevis.optvis import renderer as renderer_module

from conftest import GABOR_ANGLES, InterruptingBar, gabor_keras_model


def grating_angle(image: np.ndarray, min_freq: float = 1 / 16) -> float:
    """Orientation (degrees, mod 180) of the strongest grating in an image [H, W, 3]:
    the direction of the FFT peak, ignoring frequencies below `min_freq` cycles/px."""
    grey = image.mean(-1) - image.mean()
    power = np.abs(np.fft.fft2(grey))
    fy = np.fft.fftfreq(grey.shape[0])[:, None]
    fx = np.fft.fftfreq(grey.shape[1])[None, :]
    power[np.hypot(fy, fx) < min_freq] = 0
    ky, kx = np.unravel_index(power.argmax(), power.shape)
    return float(np.rad2deg(np.arctan2(fy[ky, 0], fx[0, kx])) % 180)


def angle_error(a: float, b: float) -> float:
    d = abs(a - b) % 180
    return min(d, 180 - d)


def gabor_batch_objective():
    return sum(objectives.channel("gabor_relu", k, batch=k) for k in range(len(GABOR_ANGLES)))


def test_each_gabor_channel_renders_a_grating_of_its_orientation(gabor_model):
    n = len(GABOR_ANGLES)
    result = samplevis.render_vis(
        gabor_model,
        gabor_batch_objective(),
        param_f=lambda: param.image(64, batch=n),
        thresholds=(96,),
        seed=0,
        progress=False,
        return_state=True,
    )
    images = result.images[-1]
    assert images.shape == (n, 64, 64, 3) and images.min() >= 0 and images.max() <= 1
    for k, expected in enumerate(GABOR_ANGLES):
        assert angle_error(grating_angle(images[k]), expected) <= 15, k
    start = param.image(64, batch=n).build(0)[1]()
    start_values = evaluation.objective_values(gabor_model, gabor_batch_objective(), start).numpy()
    assert np.all(result.values > 10 * np.maximum(start_values, 1e-3)), (
        result.values,
        start_values,
    )


def test_same_seed_gives_identical_images_and_a_new_seed_different_ones(gabor_model):
    def run(seed):
        return samplevis.render_vis(
            gabor_model,
            "gabor_relu:1",
            param_f=lambda: param.image(32),
            thresholds=(8, 16),
            seed=seed,
            progress=False,
        )

    a, b, c = run(3), run(3), run(4)
    assert len(a) == 2 and a[0].shape == (1, 32, 32, 3)
    np.testing.assert_array_equal(a[1], b[1])
    assert np.abs(a[1] - c[1]).max() > 1e-3


def test_the_progress_bar_names_a_batch_objective_by_its_count(gabor_model, capsys):
    batch = gabor_batch_objective()  # sum(...) of 4 channels, one per image
    assert len(batch.name) > 100
    quick = dict(
        thresholds=(1,), transforms=(), relu_gradient_override=False, seed=0, progress=True
    )
    samplevis.render_vis(gabor_model, batch, param_f=lambda: param.image(16, batch=4), **quick)
    bar = capsys.readouterr().err
    assert "render 4 objectives:" in bar and "channel(" not in bar
    one = objectives.channel("gabor_relu", 2)
    samplevis.render_vis(gabor_model, one, param_f=lambda: param.image(16), **quick)
    assert "render channel('gabor_relu', 2):" in capsys.readouterr().err


def test_objective_labels_are_short_and_whole():
    channels = [objectives.channel("gabor_relu", k, batch=k) for k in range(8)]
    assert (channels[0] + channels[1] - channels[2]).label() == "3 objectives"
    assert (2 * sum(channels) + 1).label() == "8 objectives"  # the numbers are not counted
    penalized = objectives.channel("a_rather_long_layer_name", 7) - 1e-3 * objectives.L1()
    assert penalized.label() == "2 objectives"
    long_one = objectives.neuron("a_layer_name_long_enough_to_need_cutting_here", 7, x=3, y=4)
    assert long_one.label(width=30) == long_one.name[:29] + "…"
    assert channels[3].label() == "channel('gabor_relu', 3, batch=3)"
    readme = objectives.as_objective("block6a_expand_activation:301")
    assert readme.label() == "channel('block6a_expand_activation', 301)"  # whole, not cut off


@pytest.mark.parametrize("plain_keras", [False, True])
def test_a_renderer_renders_other_seeds_channels_and_weights_without_retracing(
    gabor_model, plain_keras
):
    model = gabor_model.keras_model if plain_keras else gabor_model

    def objective(c, w):
        return objectives.channel("gabor_relu", c) - w * objectives.L1()

    vis = samplevis.Renderer(model, objective(0, 1e-3), param.image(40))
    vis.run(20, seed=0, progress=False)
    traces = vis.traces
    assert traces == 1  # the redirected-ReLU steps and the plain ones alike
    images = [
        vis.run(20, seed=s, objective=objective(c, w), progress=False)[0]
        for s, c, w in ((1, 0, 1e-3), (0, 2, 1e-3), (0, 2, 5e-3))
    ]
    assert vis.traces == traces
    means = gabor_model.activations(np.concatenate(images), "gabor_relu")["gabor_relu"].mean((1, 2))
    assert means[1, 2] > means[0, 2] and means[0, 0] > means[1, 0]  # the new channel counts


def test_new_renderers_reuse_the_models_trace_of_the_network():
    model = samplevis.Model(gabor_keras_model(), name="gabor_net")
    for channel in range(3):  # three programs, each traced once; the network traced once
        samplevis.render_vis(
            model, f"gabor_relu:{channel}", param.image(24), thresholds=(4,), seed=0, progress=False
        )
    features = model.extractor(("gabor_relu",), True)
    assert features.experimental_get_tracing_count() == 1


def test_render_vis_called_again_with_equal_arguments_compiles_nothing():
    model = samplevis.Model(gabor_keras_model(), name="gabor_net")

    def kept():
        return list(model.renderers.values())

    def run(channel, seed, steps):
        return samplevis.render_vis(
            model,
            f"gabor_relu:{channel}",
            param.image(24),
            thresholds=steps,
            seed=seed,
            progress=False,
        )

    first = run(0, 0, (4,))
    (vis,) = kept()
    assert vis.traces == 1
    # another seed, other thresholds, another channel: the same program
    for channel, seed, steps in ((0, 1, (4,)), (2, 0, (2, 6)), (1, 5, (3,))):
        run(channel, seed, steps)
    assert kept() == [vis] and vis.traces == 1
    # the same images as a fresh Renderer's
    np.testing.assert_array_equal(run(0, 0, (4,))[-1], first[-1])
    fresh = samplevis.Renderer(model, "gabor_relu:0", param.image(24)).run(
        4, seed=0, progress=False
    )
    np.testing.assert_array_equal(fresh[-1], first[-1])
    # another size is another program; reuse=False builds one and keeps nothing
    samplevis.render_vis(
        model, "gabor_relu:0", param.image(32), thresholds=(4,), seed=0, progress=False
    )
    assert len(kept()) == 2 and kept()[0] is vis
    samplevis.render_vis(
        model, "gabor_relu:0", param.image(24), thresholds=(4,), seed=0, progress=False, reuse=False
    )
    assert len(kept()) == 2


def test_the_renderer_cache_is_bounded_and_goes_with_the_model(monkeypatch):
    model = samplevis.Model(gabor_keras_model(), name="gabor_net")
    monkeypatch.setattr(samplevis.Renderer, "cache_size", 2)
    for size in (16, 20, 24):
        samplevis.render_vis(
            model, "gabor_relu:0", param.image(size), thresholds=(2,), seed=0, progress=False
        )
    assert [vis.image_param.height for vis in model.renderers.values()] == [20, 24]
    model.renderers.clear()
    monkeypatch.setattr(samplevis.Renderer, "cache_size", 0)
    samplevis.render_vis(
        model, "gabor_relu:0", param.image(16), thresholds=(2,), seed=0, progress=False
    )
    assert not model.renderers


def test_a_renderer_refuses_an_objective_of_another_structure(gabor_model):
    vis = samplevis.Renderer(gabor_model, "gabor_relu:0", param.image(16))
    with pytest.raises(ValueError, match="Build a new Renderer"):
        vis.run(4, objective=objectives.deepdream("gabor_relu"), progress=False)
    with pytest.raises(ValueError, match="channel 9 is out of range"):
        vis.run(4, objective="gabor_relu:9", progress=False)


def test_plain_keras_models_render_as_a_model_with_value_range_0_1(gabor_model):
    def render(model):
        return samplevis.render_vis(
            model,
            "gabor_relu:0",
            param_f=lambda: param.image(32),
            thresholds=(4,),
            seed=0,
            progress=False,
            transforms=(),
        )[0]

    assert gabor_model.value_range == (0.0, 1.0)
    np.testing.assert_array_equal(render(gabor_model.keras_model), render(gabor_model))


def test_ctrl_c_returns_the_images_rendered_so_far(gabor_model, monkeypatch):
    monkeypatch.setattr(renderer_module, "_progress_bar", lambda *a: InterruptingBar(at_call=2))
    with pytest.warns(UserWarning, match="interrupted"):
        images = samplevis.render_vis(
            gabor_model,
            "gabor_relu:0",
            param_f=lambda: param.image(32),
            thresholds=(16, 64, 128),
            seed=0,
        )
    assert len(images) == 2  # the 16-step image and the one at the interruption
    assert all(np.all(np.isfinite(im)) for im in images)


def test_ctrl_c_as_a_compiled_call_returns_keeps_images_and_step_count_together(
    gabor_model, monkeypatch
):
    kw = dict(param_f=lambda: param.image(32), seed=0, progress=False)
    at_16 = samplevis.render_vis(gabor_model, "gabor_relu:0", thresholds=(16,), **kw)[-1]
    calls = []

    @contextlib.contextmanager
    def ctrl_c_as_call_2_ends(qualname):
        calls.append(qualname)
        yield
        if len(calls) == 2:  # the call's steps have changed the state but are not counted yet
            raise KeyboardInterrupt

    monkeypatch.setattr(renderer_module, "expected_retracing", ctrl_c_as_call_2_ends)
    with pytest.warns(UserWarning, match="interrupted at step 16 of 64"):
        rendering = samplevis.render_vis(
            gabor_model, "gabor_relu:0", thresholds=(64,), return_state=True, **kw
        )
    assert rendering.interrupted and rendering.steps == 16 and len(rendering.images) == 1
    np.testing.assert_array_equal(rendering.images[-1], at_16)


def test_non_finite_objective_stops_with_the_last_finite_image(gabor_model):
    # log(0.7 - mean) is NaN once the mean brightness passes 0.7, which maximizing -log drives at
    def mean(T):
        return tf.reduce_mean(T("input"), axis=[1, 2, 3])

    obj = objectives.Objective(lambda T: -tf.math.log(0.7 - mean(T)), name="blowup")
    with pytest.raises(optimize.NonFiniteObjectiveError, match="NaN or infinite") as err:
        samplevis.render_vis(
            gabor_model,
            obj,
            param_f=lambda: param.image(16),
            thresholds=(500,),
            seed=0,
            progress=False,
            transforms=(),
        )
    last = err.value.images[-1]
    assert np.all(np.isfinite(last)) and last.mean() < 0.7
    assert f"at step {err.value.steps + 1};" in str(err.value)  # the images are those before it


def test_bad_input_names_the_fix(gabor_model):
    with pytest.raises(ValueError, match="Closest layer names: gabor_relu, gabor"):
        samplevis.render_vis(gabor_model, "gabor_reluu:0", progress=False)
    # 'layer:channel:x' reads as layer 'gabor_relu:1', channel 2
    with pytest.raises(ValueError, match=r"objectives\.neuron\('gabor_relu', 1, x, y\)"):
        samplevis.render_vis(gabor_model, "gabor_relu:1:2", progress=False)
    with pytest.raises(ValueError, match="positive whole step counts"):
        samplevis.render_vis(gabor_model, "gabor_relu:0", thresholds=(0, 10), progress=False)
    # raised before the compiled loop is traced, so the message is the objective's own
    with pytest.raises(ValueError, match=r"4 channels \(valid: 0\.\.3\)") as err:
        samplevis.render_vis(
            gabor_model,
            "gabor_relu:4",
            param_f=lambda: param.image(32),
            thresholds=(1,),
            progress=False,
        )
    assert str(err.value).startswith("channel 4 is out of range")
    with pytest.raises(ValueError, match="batch of 2 images") as err:
        samplevis.render_vis(
            gabor_model,
            objectives.channel("gabor_relu", 0, batch=2),
            param_f=lambda: param.image(32, batch=2),
            thresholds=(1,),
            progress=False,
        )
    assert str(err.value).startswith("channel('gabor_relu', 0): batch index 2")
    with pytest.raises(TypeError, match="param_f must be a function"):
        samplevis.render_vis(gabor_model, "gabor_relu:0", param_f=lambda: 5, progress=False)
    with pytest.raises(TypeError, match=r"got FFTTensor\. .* param\.rgb\(tensor, decorrelate="):
        samplevis.render_vis(
            gabor_model, "gabor_relu:0", param_f=param.fft_image((1, 32, 32, 3)), progress=False
        )
    with pytest.raises(ValueError, match="thresholds must increase.*Give them as \\(4, 8\\)"):
        samplevis.render_vis(gabor_model, "gabor_relu:0", thresholds=(8, 4), progress=False)
    with pytest.raises(ValueError, match="is a number and does not depend on the image"):
        samplevis.render_vis(gabor_model, 5, progress=False)
    with pytest.raises(ValueError, match="batch must be an image index, an int >= 0; got -1"):
        objectives.channel("gabor_relu", 0, batch=-1)
    with pytest.raises(TypeError, match="layer names are strings"):
        objectives.channel(3, 0)
    with pytest.raises(
        TypeError, match=r"transforms must be a list of transforms t\(images, seed\)"
    ):
        samplevis.render_vis(gabor_model, "gabor_relu:0", transforms="jitter", progress=False)
    with pytest.raises(ValueError, match=r"learning rate must be > 0 .*got -0\.05"):
        samplevis.render_vis(
            gabor_model, "gabor_relu:0", optimizer=keras.optimizers.Adam(-0.05), progress=False
        )
    decay = keras.optimizers.schedules.ExponentialDecay(-0.05, decay_steps=100, decay_rate=0.9)
    with pytest.raises(ValueError, match=r"learning rate must be > 0 .*got -0\.05"):
        samplevis.render_vis(
            gabor_model, "gabor_relu:0", optimizer=keras.optimizers.Adam(decay), progress=False
        )
    undeclared = objectives.Objective(lambda T: tf.reduce_mean(T("gabor_relu"), [1, 2, 3]))
    with pytest.raises(
        ValueError,
        match=r"reads layer 'gabor_relu' but does not declare it; build "
        r"it as Objective\(fn, frozenset\(\{'gabor_relu'\}\)\)",
    ):
        samplevis.render_vis(gabor_model, undeclared, progress=False)
    maps = objectives.Objective(lambda T: T("gabor_relu")[..., 0], frozenset({"gabor_relu"}))
    with pytest.raises(
        ValueError,
        match=r"gives shape \(1, \d+, \d+\); it must give one value "
        r"per image, shape \[B\]",
    ):
        samplevis.render_vis(gabor_model, maps, progress=False)
    with pytest.raises(TypeError, match=r"does not take \(images, seed\), nor Lucid's \(images\)"):
        samplevis.render_vis(gabor_model, "gabor_relu:0", transforms=[lambda: 0], progress=False)
    with pytest.raises(TypeError, match=r"does not take \(images, seed\)"):
        samplevis.render_vis(
            gabor_model, "gabor_relu:0", transforms=lambda x, y, z: x, progress=False
        )
    with pytest.raises(TypeError, match="is a samplevis.Model already; pass it as it is"):
        samplevis.Model(gabor_model)
    with pytest.raises(TypeError, match="return_state must be True or False; got 'no'"):
        samplevis.render_vis(gabor_model, "gabor_relu:0", return_state="no", progress=False)


def test_two_hand_built_objectives_of_one_name_render_each_its_own_channel(gabor_model):
    def mine(c):
        return objectives.Objective(
            lambda T: tf.reduce_mean(T("gabor_relu")[..., c], [1, 2]),
            frozenset({"gabor_relu"}),
            name="mine",
        )

    first, second = (
        samplevis.render_vis(
            gabor_model,
            mine(c),
            param_f=lambda: param.image(32),
            thresholds=(8,),
            seed=0,
            progress=False,
        )[0]
        for c in (0, 2)
    )
    acts = gabor_model.activations(np.concatenate([first, second]), "gabor_relu")["gabor_relu"]
    means = acts.mean(axis=(1, 2))
    assert means[0, 0] > means[1, 0] and means[1, 2] > means[0, 2]


def test_models_with_fused_relu_activations_render_with_redirection():
    # A conv with activation="relu" built in (redirection rebuilds that layer), all-ones
    # kernel and bias -15: a 3x3x3 patch fires only above mean 15 / 27 = 0.56, so the
    # grey start (0.5) is dead everywhere and its gradient is zero.
    inputs = keras.Input((None, None, 3))
    conv = keras.layers.Conv2D(1, 3, activation="relu", name="dead")
    model = keras.Model(inputs, conv(inputs))
    kernel, bias = conv.get_weights()
    conv.set_weights([np.ones_like(kernel), np.full_like(bias, -15.0)])
    runs = {
        redirect: samplevis.render_vis(
            model,
            "dead:0",
            param_f=lambda: param.image(16),
            thresholds=(32,),
            seed=0,
            progress=False,
            relu_gradient_override=redirect,
            return_state=True,
        )
        for redirect in (False, True)
    }
    start = param.image(16).build(0)[1]().numpy()  # the same seed's first image
    assert abs(start.mean() - 0.5) < 0.01
    assert runs[False].values[0] == 0.0  # no gradient: stuck at the dead start
    assert runs[True].values[0] > 0.0 and runs[True].images[-1].mean() > start.mean()


def test_weights_set_after_wrapping_count_in_the_redirected_steps_too():
    inputs = keras.Input((None, None, 3))
    conv = keras.layers.Conv2D(1, 3, activation="relu", name="dead")
    wrapped = samplevis.Model(keras.Model(inputs, conv(inputs)))
    kernel, bias = conv.get_weights()
    conv.set_weights([np.ones_like(kernel), np.full_like(bias, -15.0)])

    def render(model):  # every step redirected: the copied layer does all the work
        return samplevis.render_vis(
            model,
            "dead:0",
            param_f=lambda: param.image(16),
            thresholds=(8,),
            seed=0,
            progress=False,
        )[0]

    brightening = render(wrapped)
    conv.set_weights([-np.ones_like(kernel), np.full_like(bias, 12.0)])  # now fires on dark
    darkening = render(wrapped)
    np.testing.assert_array_equal(darkening, render(samplevis.Model(wrapped.keras_model)))
    assert darkening.mean() < 0.5 < brightening.mean()


def test_minimizing_input_diff_reproduces_the_target_image(gabor_model):
    target = np.random.default_rng(5).uniform(0.2, 0.8, (16, 16, 3)).astype(np.float32)
    images = samplevis.render_vis(
        gabor_model,
        -objectives.input_diff(target),
        param_f=lambda: param.image(16, fft=False, decorrelate=False),
        transforms=(),
        thresholds=(192,),
        seed=0,
        progress=False,
    )[-1]
    np.testing.assert_allclose(images[0], target, atol=0.03)


def test_a_zero_normalize_gradient_scale_holds_its_image_at_the_start(gabor_model):
    from samplevis import transform

    result = samplevis.render_vis(
        gabor_model,
        objectives.channel("gabor_relu", 0),
        param_f=lambda: param.image(32, batch=2),
        transforms=(transform.normalize_gradient([1.0, 0.0]),),
        thresholds=(48,),
        seed=0,
        progress=False,
        return_state=True,
    )
    moving, still = result.images[-1]
    np.testing.assert_allclose(still, 0.5, atol=0.03)  # sigmoid of a state drawn near 0
    assert np.abs(moving - 0.5).max() > 0.2  # the other image grew a grating
    assert angle_error(grating_angle(moving), GABOR_ANGLES[0]) < 10


def test_a_lucid_one_argument_transform_renders_as_its_two_argument_form(gabor_model):
    def crop(images):
        return images[:, 2:-2, 3:-1]

    def render(transforms):
        return samplevis.render_vis(
            gabor_model,
            "gabor_relu:1",
            param_f=lambda: param.image(24),
            transforms=transforms,
            thresholds=(8,),
            seed=0,
            progress=False,
        )[-1]

    lucid = render([crop])
    np.testing.assert_array_equal(lucid, render([lambda images, seed: crop(images)]))
    assert np.abs(lucid - render(())).max() > 0  # the crop changed what the model saw


def test_render_vis_defaults_to_lucids_transforms_whatever_edits_of_the_public_list(gabor_model):
    from samplevis import transform

    def render(transforms=None):
        return samplevis.render_vis(
            gabor_model,
            "gabor_relu:1",
            param_f=lambda: param.image(24),
            transforms=transforms,
            thresholds=(4,),
            seed=0,
            progress=False,
        )[-1]

    standard = render(list(transform.standard_transforms))
    saved = list(transform.standard_transforms)
    try:
        transform.standard_transforms.clear()
        np.testing.assert_array_equal(render(), standard)
    finally:
        transform.standard_transforms[:] = saved


def climbing_renderer(gabor_model) -> tuple[samplevis.Renderer, tuple[np.ndarray, ...]]:
    """A renderer of two 16 px images for a Gabor channel, and a state far from its optimum,
    from which every step of a climb moves."""
    renderer = samplevis.Renderer(gabor_model, "gabor_relu:1", param.image(16, batch=2))
    start = renderer.image_param.init(tf.constant([3, 4]))
    return renderer, tuple(np.asarray(p) * 20 for p in start)


def test_a_climb_ends_where_until_says_with_the_state_of_a_climb_that_long(gabor_model, capsys):
    renderer, start = climbing_renderer(gabor_model)
    asked = []

    def until(state, steps):
        asked.append(steps)
        return steps >= 32

    ended, taken = renderer.climb(start, 80, seed=7, until=until, progress="polish")
    assert taken == 32 and asked == [16, 32]  # asked every 16 steps, ended at the first yes
    last = capsys.readouterr().err.splitlines()[-1]  # the bar short of 100 % says why
    assert "32/80" in last and "done early" in last
    short, _ = renderer.climb(start, 32, seed=7)
    for a, b in zip(ended, short):
        np.testing.assert_array_equal(a, b)


def test_a_climb_with_a_progress_bar_takes_the_same_steps_as_one_without(gabor_model, capsys):
    renderer, start = climbing_renderer(gabor_model)
    quiet, taken = renderer.climb(start, 40, seed=7)
    assert taken == 40 and capsys.readouterr().err == ""
    shown, taken = renderer.climb(start, 40, seed=7, progress="polish")
    assert taken == 40 and "polish: 100%" in capsys.readouterr().err
    for a, b in zip(quiet, shown):
        np.testing.assert_array_equal(a, b)  # in calls of 16 steps, the same 40 steps
    assert not np.array_equal(quiet[0], start[0])


def test_a_climb_s_projection_acts_every_few_steps_and_keeps_the_optimizer_s_moments(gabor_model):
    renderer, start = climbing_renderer(gabor_model)
    asked = []

    def unchanged(state, steps):
        asked.append(steps)
        return state

    plain, _ = renderer.climb(start, 40, seed=7)
    projected, taken = renderer.climb(start, 40, seed=7, project=unchanged, every=8)
    assert taken == 40 and asked == [8, 16, 24, 32, 40]  # every 8 steps and after the last
    for a, b in zip(plain, projected):
        np.testing.assert_array_equal(a, b)  # an identity between steps changes no step
    halved, _ = renderer.climb(start, 8, seed=7, project=lambda s, n: tuple(p / 2 for p in s))
    eight, _ = renderer.climb(start, 8, seed=7)
    for a, b in zip(halved, eight):
        np.testing.assert_allclose(a, b / 2, rtol=1e-6)  # what the climb goes on from
