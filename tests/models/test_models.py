"""Model: preprocessing to the value range, cached extractors, errors that name the fix."""

import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from samplevis import Model
from samplevis.models import UnknownLayerError


def test_images_are_mapped_to_the_value_range_and_resized():
    inputs = keras.Input((16, 16, 3))
    outputs = keras.layers.Identity(name="same")(inputs)
    model = Model(keras.Model(inputs, outputs), value_range=(-117.0, 138.0))
    assert model.input_size == (16, 16)
    white = np.ones([1, 8, 8, 3], np.float32)
    out = model(white)
    assert out.shape == (1, 16, 16, 3)
    np.testing.assert_allclose(out, 138.0, rtol=1e-6)
    np.testing.assert_allclose(model(np.zeros([1, 16, 16, 3], np.float32)), -117.0)


def test_preprocess_runs_after_the_value_range():
    inputs = keras.Input((None, None, 3))
    model = Model(
        keras.Model(inputs, keras.layers.Identity(name="id")(inputs)),
        value_range=(0, 255),
        preprocess=lambda x: x - 100.0,
    )
    assert model.input_size is None
    np.testing.assert_allclose(model(np.full([2, 5, 7, 3], 0.5, np.float32)), 27.5)


def test_activations_match_the_keras_layers(tiny_model):
    x = np.random.default_rng(0).uniform(0, 1, (2, 32, 32, 3)).astype(np.float32)
    acts = tiny_model.activations(x, ["conv1", "logits"])
    np.testing.assert_allclose(acts["logits"], tiny_model(x), rtol=1e-5)
    conv1 = tiny_model.keras_model.get_layer("conv1")
    np.testing.assert_allclose(acts["conv1"], conv1(2 * x - 1), rtol=1e-5, atol=1e-6)  # (-1, 1)


def test_input_reads_the_images_themselves_and_no_layer_at_all_is_refused(tiny_model):
    x = np.random.default_rng(1).uniform(0, 1, (1, 32, 32, 3)).astype(np.float32)
    acts = tiny_model.activations(x, ["input", "logits"])
    assert list(acts) == ["input", "logits"]
    np.testing.assert_array_equal(acts["input"], x)  # in [0, 1], not the network's (-1, 1)
    np.testing.assert_allclose(acts["logits"], tiny_model(x), rtol=1e-5)
    with pytest.raises(ValueError, match=r"no layer names given; name at least one, e\.g\. 'lo"):
        tiny_model.activations(x, [])


def test_8_bit_values_are_refused_by_the_numpy_entry_points(tiny_model):
    photo = np.full([1, 32, 32, 3], 200.0, np.float32)
    with pytest.raises(
        ValueError,
        match=r"must be in \[0, 1\], got values in \[200, 200\]; divide "
        r"8-bit images by 255",
    ):
        tiny_model.activations(photo, "conv1")
    with pytest.raises(ValueError, match="divide 8-bit images by 255"):
        tiny_model(photo)
    np.testing.assert_allclose(
        tiny_model(photo / 255), tiny_model.keras_model(2 * photo / 255 - 1), rtol=1e-5
    )
    overshoot = np.full([1, 32, 32, 3], 1.01, np.float32)  # as a bicubic resize leaves them
    expected = tiny_model.keras_model(2 * overshoot - 1)  # value range (-1, 1)
    np.testing.assert_allclose(tiny_model(overshoot), expected, rtol=1e-5)


def test_images_smaller_than_a_kernel_are_refused_with_their_size():
    inputs = keras.Input((None, None, 3))
    conv = keras.layers.Conv2D(2, 5, padding="valid", name="conv5")(inputs)
    model = Model(keras.Model(inputs, conv), name="five")
    fits = model.activations(np.zeros([1, 5, 5, 3], np.float32), "conv5")["conv5"]
    assert fits.shape == (1, 1, 1, 2)
    with pytest.raises(ValueError) as refused:
        model.activations(np.zeros([1, 4, 3, 3], np.float32), "conv5")
    assert str(refused.value) == (
        "images of 4x3 px are too small for model 'five': layer 'conv5' (5x5 kernel, padding "
        "'valid') would output no pixels from the 4x3 px it gets. Give images of at least 5x5 px, "
        "e.g. param.image(128) (with transforms, the size the network sees is the size after "
        "them)."
    )
    # An output of exactly 0 px is refused before any kernel runs: some CPUs' oneDNN convolution
    # returns such an input without an error.
    with pytest.raises(ValueError, match=r"images of 4x4 px are too small"):
        model.activations(np.zeros([1, 4, 4, 3], np.float32), "conv5")
    with pytest.raises(ValueError, match=r"images of 4x4 px are too small"):
        model(np.zeros([1, 4, 4, 3], np.float32))
    with pytest.raises(ValueError, match=r"images of 4x4 px are too small"):
        tf.function(lambda x: model.features(x, "conv5"))(tf.zeros([1, 4, 4, 3]))  # traced


def branching_keras_model():
    """Two paths from the input. 'pool': 1 px of zero padding, a 3x3 convolution with stride 2
    and a 3x3 max pool with stride 2, all 'valid': it needs n >= 5 px, since (n - 1) // 2 + 1 must
    reach the pool's 3. 'dilated': 2 px cropped from top and bottom, then a 3x3 kernel dilated by 2
    (5 px wide): it needs H - 4 >= 5 and W >= 5. A 7x7 'same' convolution after the pool needs
    nothing more."""
    inputs = keras.Input((None, None, 3))
    x = keras.layers.ZeroPadding2D(1, name="pad")(inputs)
    x = keras.layers.Conv2D(4, 3, strides=2, name="down")(x)
    x = keras.layers.MaxPooling2D(3, strides=2, name="pool")(x)
    pooled = keras.layers.Conv2D(2, 7, padding="same", name="wide_same")(x)
    y = keras.layers.Cropping2D(((2, 2), (0, 0)), name="crop")(inputs)
    dilated = keras.layers.Conv2D(2, 3, dilation_rate=2, name="dilated")(y)
    return keras.Model(inputs, [pooled, dilated], name="branches")


def test_the_smallest_images_follow_from_every_layer_on_the_path_to_a_layer():
    model = Model(branching_keras_model())
    with pytest.raises(ValueError) as refused:
        model.activations(np.zeros([1, 4, 4, 3], np.float32), "wide_same")
    assert (
        "layer 'pool' (3x3 pool, strides 2x2, padding 'valid') would output no pixels from "
        "the 2x2 px it gets. Give images of at least 5x5 px"
    ) in str(refused.value)
    assert model.activations(np.zeros([1, 5, 5, 3], np.float32), "wide_same")[
        "wide_same"
    ].shape == (1, 1, 1, 2)
    with pytest.raises(ValueError) as refused:
        model.activations(np.zeros([1, 8, 20, 3], np.float32), "dilated")
    assert (
        "layer 'dilated' (3x3 kernel, dilation 2x2, padding 'valid') would output no pixels "
        "from the 4x20 px it gets. Give images of at least 9x5 px"
    ) in str(refused.value)
    # the model's outputs need both paths: 6x6 passes the pool but not the dilated kernel
    with pytest.raises(ValueError, match=r"layer 'dilated' .* at least 9x5 px"):
        model(np.zeros([1, 6, 6, 3], np.float32))
    # at the smallest size both paths give what the geometry says: (11 - 3) // 2 + 1 = 5 rows
    # after the strided convolution, (5 - 3) // 2 + 1 = 2 after the pool
    pooled, dilated = model(np.zeros([1, 9, 5, 3], np.float32))
    assert pooled.shape == (1, 2, 1, 2) and dilated.shape == (1, 1, 1, 2)


def test_a_model_with_two_outputs_returns_both():
    inputs = keras.Input((None, None, 3))
    first = keras.layers.Conv2D(4, 3, name="first")(inputs)
    second = keras.layers.Conv2D(5, 3, name="second")(first)
    model = Model(keras.Model(inputs, [first, second]))
    x = np.random.default_rng(0).random([2, 16, 16, 3], np.float32)
    outputs = model(x)
    assert [o.shape for o in outputs] == [(2, 14, 14, 4), (2, 12, 12, 5)]
    np.testing.assert_allclose(outputs[1], model.activations(x, "second")["second"], rtol=1e-5)


def test_extractor_is_built_once_per_layer_set(tiny_model):
    x = tf.zeros([1, 32, 32, 3])
    tiny_model.features(x, ["conv1", "logits"])
    before = dict(tiny_model._extractors)
    assert (("conv1", "logits"), False) in before
    tiny_model.features(x, ["conv1", "logits"])
    assert tiny_model._extractors == before
    assert tiny_model.extractor(("conv1", "logits"), False) is before[(("conv1", "logits"), False)]


def test_a_subclassed_model_is_refused_with_how_to_wrap_it():
    class Identity(keras.Model):
        def call(self, x):
            return x

    with pytest.raises(ValueError, match=r"wrap it: x = keras.Input\(\(H, W, 3\)\)"):
        Model(Identity())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(value_range="ab"), r"value_range must be \(lo, hi\), finite numbers with hi > lo"),
        (dict(value_range=(0, float("inf"))), "finite numbers"),
        (dict(value_range=(1, 0)), "hi > lo"),
        (dict(preprocess=5), "preprocess must be a function"),
    ],
)
def test_model_options_are_checked_when_it_is_wrapped(tiny_model, kwargs, message):
    with pytest.raises((TypeError, ValueError), match=message):
        Model(tiny_model.keras_model, **kwargs)


def test_unknown_layer_lists_the_closest_names(tiny_model):
    with pytest.raises(UnknownLayerError, match="Closest layer names: conv2, conv1"):
        tiny_model.features(tf.zeros([1, 32, 32, 3]), ["conv2x"])


def test_one_layer_name_is_read_as_a_name_not_letters(tiny_model):
    one = tiny_model.activations(np.zeros([1, 32, 32, 3], np.float32), "conv2")
    listed = tiny_model.activations(np.zeros([1, 32, 32, 3], np.float32), ["conv2"])
    assert list(one) == ["conv2"] and np.array_equal(one["conv2"], listed["conv2"])


def test_wrong_image_rank_and_channels_say_the_fix(tiny_model):
    with pytest.raises(ValueError, match=r"Add a batch axis"):
        tiny_model(np.zeros([32, 32, 3], np.float32))
    with pytest.raises(ValueError, match="3 colour channels"):
        tiny_model(np.zeros([1, 32, 32, 4], np.float32))


def test_a_greyscale_network_sees_the_mean_of_the_colour_channels():
    import samplevis
    from samplevis import objectives

    from conftest import gabor_keras_model

    # The RGB network filters the mean of R, G and B; the greyscale one gets that mean as input.
    rgb = Model(gabor_keras_model())
    grey = Model(gabor_keras_model(input_shape=(None, None, 1)))
    assert grey.greyscale and not rgb.greyscale and "greyscale" in repr(grey)
    images = np.random.default_rng(0).uniform(size=(2, 24, 24, 3)).astype(np.float32)
    np.testing.assert_allclose(
        grey.features(images, "gabor_relu")["gabor_relu"],
        rgb.features(images, "gabor_relu")["gabor_relu"],
        atol=1e-5,
    )
    # same gradients, so the same preferred images
    obj = objectives.channel("gabor_relu", 1)
    a, b = (
        samplevis.render_vis(
            m,
            obj,
            param_f=lambda: samplevis.optvis.param.image(24),
            thresholds=(16,),
            seed=0,
            progress=False,
        )[-1]
        for m in (grey, rgb)
    )
    np.testing.assert_allclose(a, b, atol=1e-4)


@pytest.mark.slow
def test_images_a_fixed_input_would_stretch_or_shrink_are_warned_about():
    import samplevis
    from samplevis import objectives, param
    from samplevis.models import ResizeWarning

    from conftest import gabor_keras_model, wide_gabor_keras_model

    model = Model(wide_gabor_keras_model())  # input 24 px high, 32 px wide
    for height, width in [(24, 32), (12, 16), (23, 31)]:  # its size, or its aspect and smaller
        assert model.resize_warning(height, width) is None
    for height, width, how in [
        (24, 24, "stretched"),
        (32, 24, "stretched"),
        (48, 64, "shrunk, losing their finer detail,"),
    ]:
        warning = model.resize_warning(height, width)
        assert warning.input_size == (24, 32)
        assert str(warning) == (
            f"images of {height}x{width} px are {how} to the 24x32 px input of "
            f"model 'gabor_net'. Render at that size: param.image(32, 24)."
        )
    assert Model(gabor_keras_model()).resize_warning(500, 7) is None  # any size goes
    obj = objectives.channel("gabor_relu", 0)
    small = dict(
        num_chains=1,
        num_results=2,
        num_burnin_steps=2,
        optimize_steps=2,
        num_transforms=0,
        temperature_steps=0,
    )
    for size, expected in [((24, 24), 1), ((32, 24), 0)]:  # param.image takes (w, h)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            samplevis.render_vis(
                model, obj, param_f=param.image(*size), thresholds=(2,), progress=False
            )
            samplevis.render(model, obj, param_f=param.image(*size), hmc_opts=small, progress=False)
        resized = [w for w in caught if issubclass(w.category, ResizeWarning)]
        assert len(resized) == 2 * expected  # once each: render's own optimization is quiet
        assert all(w.filename == __file__ for w in resized)  # at the caller's line


def test_non_image_models_are_refused():
    inputs = keras.Input((10,))
    with pytest.raises(ValueError, match=r"\[B, H, W, 3\], or \[B, H, W, 1\] for a greyscale"):
        Model(keras.Model(inputs, keras.layers.Dense(2)(inputs)))
    inputs = keras.Input((8, 8, 4))
    with pytest.raises(ValueError, match=r"takes \(None, 8, 8, 4\)"):
        Model(keras.Model(inputs, keras.layers.Identity()(inputs)))
    with pytest.raises(TypeError, match="keras.Model"):
        Model(lambda x: x)


def test_layers_info_lists_shapes_and_channels(tiny_model):
    info = {row.name: row for row in tiny_model.layers_info()}
    assert info["conv2"].output_shape == (16, 16, 6) and info["conv2"].channels == 6
    assert info["logits"].channels == 5
    assert list(info) == tiny_model.layer_names


def test_redirected_relu_moves_a_dead_start_and_keeps_forward_values(tiny_model):
    inputs = keras.Input((8, 8, 3))
    conv = keras.layers.Conv2D(2, 3, activation="relu", name="dead")
    model = Model(keras.Model(inputs, conv(inputs)))
    kernel, bias = conv.get_weights()
    conv.set_weights([np.ones_like(kernel), np.full_like(bias, -100.0)])  # dead everywhere
    x = tf.Variable(tf.fill([1, 8, 8, 3], 0.5))
    grads = {}
    for redirect in (False, True):
        with tf.GradientTape() as tape:
            acts = model.features(x, ["dead"], redirect_relu=redirect)["dead"]
            loss = -tf.reduce_sum(acts)
        grads[redirect] = tape.gradient(loss, x).numpy()
        np.testing.assert_allclose(acts.numpy(), 0.0)
    assert np.abs(grads[False]).max() == 0.0
    assert grads[True].min() < 0.0  # descending the loss raises the input: towards firing

    # decided at run time: one compiled program, redirecting or not as its switch says
    @tf.function
    def gradient(on):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_sum(model.features(x, ["dead"], redirect_relu=on)["dead"])
        return tape.gradient(loss, x)

    for on in (False, True):
        np.testing.assert_allclose(gradient(tf.constant(on)).numpy(), grads[on], rtol=1e-6)
    assert gradient.experimental_get_tracing_count() == 1


def test_redirected_extractor_reads_every_layer_with_unchanged_values(tiny_model):
    x = tf.constant(np.random.default_rng(2).uniform(0, 1, (2, 32, 32, 3)), tf.float32)
    names = ["conv1", "conv2", "conv2_relu", "logits"]  # replaced and shared layers alike
    plain = tiny_model.features(x, names)
    redirected = tiny_model.features(x, names, redirect_relu=True)
    for name in names:
        np.testing.assert_allclose(redirected[name].numpy(), plain[name].numpy(), rtol=1e-5)
