"""Specifications of MACO: the phase-only parameterization, its spectrum, its crops and its
one-call entry (samplevis.optvis.param.maco, param.spectrum, transform.maco_crops, samplevis.maco)."""

import importlib.util
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

import samplevis
from samplevis import io, objectives, param, transform
from samplevis.optvis.maco import transparency_image, with_alpha

from conftest import gabor_kernel

ROOT = Path(__file__).resolve().parents[2]


def realized_magnitude(p, state):
    """|rfft2| of the image before its rescaling, [B, 3, H, W // 2 + 1]."""
    spatial = np.transpose(p.spatial(state).numpy(), (0, 3, 1, 2)).astype(np.float64)
    return np.abs(np.fft.rfft2(spatial))


@pytest.mark.parametrize("height, width", [(32, 32), (35, 47), (36, 47), (35, 48)])
def test_the_image_keeps_the_fixed_magnitude_whatever_the_phase(height, width):
    p = param.maco(width, height, batch=2)
    for seed in (0, 1):
        state = (5.0 * p.init(seed)[0],)  # far from the start: any phase
        np.testing.assert_allclose(
            realized_magnitude(p, state),
            np.broadcast_to(p.magnitude, (2, *p.magnitude.shape)),
            rtol=1e-4,
            atol=1e-6 * p.magnitude.max(),
        )


def test_a_given_magnitude_is_kept_and_the_images_are_in_the_unit_range():
    magnitude = np.random.default_rng(0).uniform(0.5, 2.0, (3, 24, 13)).astype(np.float32)
    p = param.maco(24, magnitude=magnitude)
    state = p.init(3)
    # rows k and -k are averaged on the columns a real image pairs (0 and Nyquist), and kept
    # elsewhere
    np.testing.assert_array_equal(p.magnitude[:, :, 1:-1], magnitude[:, :, 1:-1])
    np.testing.assert_allclose(realized_magnitude(p, state)[0], p.magnitude, rtol=1e-4)
    image = p.to_image(state).numpy()
    assert image.shape == (1, 24, 24, 3) and 0 < image.min() and image.max() < 1


def test_equal_configurations_are_equal_values_and_other_magnitudes_are_not():
    assert param.maco(16) == param.maco(16) and hash(param.maco(16)) == hash(param.maco(16))
    other = param.maco(16, magnitude=2.0 * param.natural_spectrum(16, 16))
    assert other != param.maco(16)


def test_a_magnitude_of_the_wrong_shape_names_the_shape_and_the_fix():
    with pytest.raises(ValueError, match=r"\[3, 32, 17\].*resize_spectrum\(magnitude, 32, 32\)"):
        param.maco(32, magnitude=np.ones((3, 32, 32), np.float32))
    with pytest.raises(ValueError, match="finite and >= 0"):
        param.maco(8, magnitude=-np.ones((3, 8, 5), np.float32))


def test_a_folder_without_images_names_the_fix(tmp_path):
    (tmp_path / "notes.txt").write_text("no photographs here")
    with pytest.raises(ValueError, match="holds no images.*put photographs there"):
        param.folder_spectrum(tmp_path)
    with pytest.raises(NotADirectoryError, match="not a folder"):
        param.folder_spectrum(tmp_path / "missing")


def test_a_folder_spectrum_is_that_of_its_images(tmp_path):
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 256, (40, 50, 3), dtype=np.uint8) for _ in range(2)]
    for i, image in enumerate(images):
        io.save_png(tmp_path / f"{i}.png", image)
    spectrum = param.folder_spectrum(tmp_path, size=16)
    assert spectrum.shape == (3, 16, 9)
    np.testing.assert_allclose(spectrum, param.image_spectrum(images, size=16), rtol=1e-6)


def test_the_stored_spectrum_is_what_its_script_computes_from_scikit_image_photos():
    spec = importlib.util.spec_from_file_location(
        "maco_spectrum", ROOT / "benchmarks/maco_spectrum.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    np.testing.assert_array_equal(np.load(script.TARGET), script.computed())
    stored = param.natural_spectrum(64, 64)
    # photographs: far more energy at low than at high frequencies, in every channel
    assert np.all(stored[:, 1, 0] > 10 * stored[:, 32, 32])


def test_resizing_a_spectrum_to_its_own_size_changes_nothing():
    stored = param.natural_spectrum(64, 64)
    np.testing.assert_allclose(param.resize_spectrum(stored, 64, 64), stored, rtol=1e-5)
    assert param.natural_spectrum(100, 37).shape == (3, 100, 19)


def test_crops_at_the_start_and_end_of_a_run_are_the_scheduled_boxes():
    images = tf.random.stateless_uniform([2, 20, 20, 3], [4, 4])
    crops = transform.MacoCrops(20, 3, (1.0, 0.5), 0.0, center_sd=0.0, box_sd=0.0)
    start = crops(images, 0, progress=0.0).numpy()
    end = crops(images, 0, progress=1.0).numpy()
    assert start.shape == end.shape == (6, 20, 20, 3)
    # crop j of image b sits at j * B + b
    np.testing.assert_allclose(start[[0, 2, 4]], np.repeat(images[:1], 3, 0), atol=1e-6)
    np.testing.assert_allclose(start[[1, 3, 5]], np.repeat(images[1:], 3, 0), atol=1e-6)
    half = tf.image.crop_and_resize(images, [[0.25, 0.25, 0.75, 0.75]] * 2, [0, 1], [20, 20])
    np.testing.assert_allclose(end[:2], half.numpy(), atol=1e-6)


def test_crops_are_reproducible_and_their_noise_has_the_given_std():
    images = tf.fill([1, 64, 64, 3], 0.5)
    crops = transform.MacoCrops(64, 4, 0.5, 0.1, center_sd=0.0, box_sd=0.0)  # inside the image
    a, b = crops(images, 7).numpy(), crops(images, 7).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, crops(images, 8).numpy())
    # N(0, s^2) plus U(-s/2, s/2): std s * sqrt(1 + 1/12)
    assert np.std(a - 0.5) == pytest.approx(0.1 * np.sqrt(1 + 1 / 12), rel=0.03)


def test_bad_crop_settings_name_the_fix():
    with pytest.raises(ValueError, match="box_size must be a number in"):
        transform.maco_crops(32, box_size=(0.5, 2.0))
    with pytest.raises(ValueError, match="1e-4 instead of 0"):
        transform.maco_crops(32, noise=(0.5, 0.0))
    with pytest.raises(TypeError, match="None \\(Xplique's schedule"):
        samplevis.maco(keras_gabor(), "gabor:0", noise_intensity=lambda step: 0.1)


def keras_gabor():
    """Two ReLU'd Gabor filters (0 and 90 degrees, 6 px wavelength) on the grey image, read
    whole by a 32 px input: the preferred image of channel 0 is vertical stripes 6 px apart."""
    kernels = np.stack([gabor_kernel(0.0), gabor_kernel(90.0)], axis=-1)
    inputs = keras.Input((32, 32, 3))
    conv = keras.layers.Conv2D(2, 15, use_bias=False, name="gabor")
    outputs = keras.layers.ReLU(name="gabor_relu")(conv(inputs))
    model = keras.Model(inputs, outputs)
    conv.set_weights([np.repeat(kernels[:, :, None, :] / 3.0, 3, axis=2)])
    return samplevis.Model(model, name="gabor2")


def responses(model, image):
    """Mean response of the two channels to one image [H, W, 3]."""
    return model.features(image[None], ["gabor_relu"])["gabor_relu"].numpy().mean(axis=(0, 1, 2))


def test_maco_brings_a_known_filter_its_preferred_stripes():
    model = keras_gabor()
    start = param.maco(32).to_image(param.maco(32).init(tf.constant([0, 0]))).numpy()[0]
    image, transparency = samplevis.maco(
        model, "gabor_relu:0", nb_steps=48, nb_crops=4, box_size=1.0, custom_shape=(32, 32), seed=0
    )
    before, after = responses(model, start), responses(model, image)
    # the 0-degree channel now answers far more than at the start, and clearly more than its
    # rotation (the fixed magnitude keeps energy at every orientation, so not without bound)
    assert after[0] > 2 * before[0] and after[0] > 1.5 * after[1]
    assert image.shape == transparency.shape == (32, 32, 3)
    assert transparency.min() >= 0 and transparency.max() > 0
    rgba = with_alpha(image, transparency)
    assert rgba.shape == (32, 32, 4) and rgba[..., 3].max() == 1.0
    assert transparency_image(transparency).shape == (32, 32, 3)


def test_maco_reuses_its_program_for_another_channel_and_a_seed_repeats():
    model = keras_gabor()
    first = samplevis.maco(
        model, "gabor_relu:0", nb_steps=3, nb_crops=2, custom_shape=(32, 32), seed=1
    )
    kept = dict(model.renderers)
    samplevis.maco(model, "gabor_relu:1", nb_steps=3, nb_crops=2, custom_shape=(32, 32), seed=1)
    assert list(model.renderers) == list(kept)
    again = samplevis.maco(
        model, "gabor_relu:0", nb_steps=3, nb_crops=2, custom_shape=(32, 32), seed=1
    )
    np.testing.assert_array_equal(first[0], again[0])


def test_render_vis_renders_a_maco_image_through_maco_crops():
    model = keras_gabor()
    p = param.maco(32)
    start = p.to_image(p.init(tf.constant([0, 0]))).numpy()[0]
    (images,) = samplevis.render_vis(
        model,
        objectives.channel("gabor_relu", 0),
        p,
        keras.optimizers.Nadam(1.0),
        [transform.maco_crops(32, 4, box_size=1.0)],
        thresholds=(32,),
        relu_gradient_override=False,
        seed=0,
        progress=False,
    )
    assert images.shape == (1, 32, 32, 3)
    assert responses(model, images[0])[0] > 2 * responses(model, start)[0]


@pytest.mark.slow
def test_crops_are_crop_and_resize_and_a_seed_fixes_a_run_with_many_of_them():
    from samplevis.optvis.transform.maco import _crops

    images = tf.random.stateless_uniform([2, 40, 50, 3], [0, 1])
    boxes = tf.constant([[0.1, 0.2, 0.7, 0.9], [-0.2, -0.1, 0.5, 0.6], [0.3, 0.3, 1.2, 1.1]])
    reference = tf.image.crop_and_resize(
        images, tf.repeat(boxes, 2, axis=0), tf.tile(tf.range(2), [3]), [16, 16]
    )
    np.testing.assert_allclose(_crops(images, boxes, 16), reference, atol=1e-5)
    # 32 crops: crop_and_resize's gradient summed them in a different order from run to run
    model = keras_gabor()
    runs = [
        samplevis.render_vis(
            model,
            objectives.channel("gabor", 1),
            param.maco(24),
            keras.optimizers.Nadam(1.0),
            [transform.maco_crops(24)],
            thresholds=(8,),
            seed=0,
            progress=False,
        )[-1]
        for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0], runs[1])
