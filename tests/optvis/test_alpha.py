"""Transparency: RGBA parameterizations, collapse_alpha_random, alpha objectives, RGBA PNGs."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import samplevis
from samplevis import io, objectives, param, transform
from samplevis.optvis.param.base import TensorParam


@dataclasses.dataclass(frozen=True)
class ConstantTensor(TensorParam):
    """A stateless tensor [batch, height, width, 1] holding `value` everywhere."""

    batch: int
    height: int
    width: int
    value: float
    channels: int = 1

    @property
    def state_shapes(self) -> tuple:
        return ()

    def init(self, seed: object) -> tuple:
        return ()

    def to_tensor(self, state: tuple) -> tf.Tensor:
        return tf.fill([self.batch, self.height, self.width, 1], self.value)


def opaque(color: param.ImageParam) -> param.RGBAImage:
    """`color` with alpha exactly 1 everywhere: sigmoid(30) rounds to 1 in float32."""
    return param.RGBAImage(color, ConstantTensor(color.batch, color.height, color.width, 30.0))


def left_half_keras_model(size: int = 32) -> keras.Model:
    """One unit, 'redness', the mean of red minus green over the image's left half only."""
    inputs = keras.Input((size, size, 3))
    left = keras.layers.Cropping2D(((0, 0), (0, size // 2)), name="left_half")(inputs)
    conv = keras.layers.Conv2D(1, 1, use_bias=False, name="redness")
    outputs = conv(left)
    conv.set_weights([np.asarray([1.0, -1.0, 0.0], np.float32).reshape(1, 1, 3, 1)])
    return keras.Model(inputs, outputs, name="left_half_net")


def test_alpha_image_is_rgba_with_the_colours_the_seed_gives_without_alpha():
    rgb, rgba = param.image(24, batch=2), param.image(24, batch=2, alpha=True)
    assert type(rgb) is param.RGBImage and rgb.channels == 3  # the default is untouched
    colours = rgb.to_image(rgb.init(5)).numpy()
    images = rgba.to_image(rgba.init(5)).numpy()
    assert images.shape == (2, 24, 24, 4) and rgba.channels == 4
    np.testing.assert_array_equal(images[..., :3], colours)
    alpha = images[..., 3]
    assert 0.0 < alpha.min() and alpha.max() < 1.0 and abs(alpha.mean() - 0.5) < 0.05
    pixels = param.image(24, fft=False, alpha=True)
    assert pixels.to_image(pixels.init(0)).shape == (1, 24, 24, 4)
    network = param.RGBAImage(param.cppn(16), param.fft_image([1, 16, 16, 1]))  # any RGB image
    assert network.to_image(network.init(0)).shape == (1, 16, 16, 4)


def test_collapse_alpha_random_keeps_opaque_colours_and_shows_the_background_elsewhere():
    colours = tf.random.stateless_uniform([2, 16, 16, 3], [1, 2])
    collapse = transform.collapse_alpha_random()
    shown = collapse(tf.concat([colours, tf.ones([2, 16, 16, 1])], -1), 7)
    np.testing.assert_array_equal(shown, colours)
    clear = tf.concat([colours, tf.zeros([2, 16, 16, 1])], -1)
    background = collapse(clear, 7).numpy()
    np.testing.assert_array_equal(background, collapse(clear, 7))  # same seed, same background
    assert not np.allclose(background, collapse(clear, 8))
    assert not np.allclose(background[0], background[1])  # one background per image, as Lucid
    assert background.shape == (2, 16, 16, 3) and 0 <= background.min() < background.max() <= 1
    half = collapse(tf.concat([colours, tf.fill([2, 16, 16, 1], 0.5)], -1), 7)
    np.testing.assert_allclose(half, 0.5 * colours + 0.5 * background, atol=1e-6)


def test_an_opaque_alpha_reproduces_the_rgb_render_of_a_seed(gabor_model):
    objective = objectives.channel("gabor_relu", 2)
    color = param.image(32)
    # the same transforms, with seeds split alike: the identity stands where the composite is
    rgb = samplevis.render_vis(
        gabor_model,
        objective,
        color,
        transforms=[lambda images: images, *transform.standard_transforms],
        thresholds=(24,),
        seed=3,
        progress=False,
    )[-1]
    rgba = samplevis.render_vis(
        gabor_model,
        objective,
        opaque(color),
        transforms=[transform.collapse_alpha_random(), *transform.standard_transforms],
        thresholds=(24,),
        seed=3,
        progress=False,
    )[-1]
    assert rgba.shape == (1, 32, 32, 4)
    np.testing.assert_array_equal(rgba[..., 3], 1.0)
    np.testing.assert_array_equal(rgba[..., :3], rgb)


def test_an_alpha_penalty_clears_the_half_the_unit_does_not_read():
    model = left_half_keras_model(32)
    objective = objectives.channel("redness", 0) - 0.5 * objectives.penalize_alpha()
    images = samplevis.render_vis(
        model,
        objective,
        param.image(32, alpha=True),
        transforms=[transform.collapse_alpha_random()],  # no shifts: the halves stay put
        thresholds=(192,),
        seed=0,
        progress=False,
    )[-1]
    alpha = images[0, :, :, 3]
    left, right = alpha[:, :16].mean(), alpha[:, 16:].mean()
    assert left > 0.35 and right < 0.1 and right < left / 5, (left, right)
    red_minus_green = images[0, :, :16, 0] - images[0, :, :16, 1]
    assert red_minus_green.mean() > 0.3


def test_blur_alpha_each_step_is_zero_for_a_flat_alpha_and_positive_for_an_edge():
    images = np.full([2, 8, 8, 4], 0.5, np.float32)
    images[1, :, 4:, 3] = 1.0
    values = objectives.blur_alpha_each_step()(lambda name: tf.constant(images)).numpy()
    assert values[0] == pytest.approx(0.0, abs=1e-10) and values[1] > 0.1
    mean = objectives.penalize_alpha()(lambda name: tf.constant(images)).numpy()
    np.testing.assert_allclose(mean, [0.5, 0.75])


def test_rgba_pngs_keep_their_alpha(tmp_path, gabor_model):
    images = samplevis.render_vis(
        gabor_model,
        "gabor_relu:0",
        param.image(24, alpha=True),
        thresholds=(4,),
        seed=0,
        progress=False,
    )[-1]
    assert images.shape == (1, 24, 24, 4)
    path = io.save_png(tmp_path / "rgba.png", images[0])
    with Image.open(path) as read:
        assert read.mode == "RGBA"
        np.testing.assert_array_equal(np.asarray(read), io.to_uint8(images[0]))


def test_alpha_where_it_cannot_be_says_how_to_get_it(gabor_model):
    with pytest.raises(ValueError, match="drop channels to get RGBA"):
        param.image(32, alpha=True, channels=3)
    with pytest.raises(ValueError, match=r"param.image\(w, alpha=True\)"):
        transform.collapse_alpha_random()(tf.zeros([1, 8, 8, 3]), 0)
    with pytest.raises(ValueError, match="cannot take another alpha channel"):
        param.RGBAImage(param.image(8, alpha=True), param.fft_image([1, 8, 8, 1]))
    with pytest.raises(ValueError, match=r"param.fft_image\(\[1, 8, 8, 1\]\)"):
        param.RGBAImage(param.image(8), param.fft_image([1, 8, 8, 3]))
    with pytest.raises(ValueError, match="collapse_alpha_random"):
        samplevis.render_vis(
            gabor_model, "gabor_relu:0", param.image(24, alpha=True), transforms=[], progress=False
        )
    with pytest.raises(ValueError, match=r"alpha=True\)"):
        samplevis.render_vis(gabor_model, objectives.penalize_alpha(), param.image(24))
    with pytest.raises(ValueError, match="without alpha=True"):
        samplevis.render(gabor_model, "gabor_relu:0", param_f=param.image(24, batch=2, alpha=True))


def test_on_checkerboard_shows_the_board_where_transparent_and_the_colours_where_opaque():
    rgba = np.zeros([16, 16, 4], np.float32)
    rgba[:, 8:] = [0.1, 0.2, 0.3, 1.0]  # right half opaque
    shown = io.on_checkerboard(rgba, tile=4)
    assert shown.shape == (16, 16, 3)
    np.testing.assert_allclose(shown[:, 8:], np.broadcast_to([0.1, 0.2, 0.3], (16, 8, 3)))
    assert shown[0, 0, 0] == pytest.approx(0.95) and shown[0, 4, 0] == pytest.approx(0.6)
    assert shown[4, 4, 0] == pytest.approx(0.95)
    with pytest.raises(ValueError, match=r"\[..., H, W, 4\]"):
        io.on_checkerboard(np.zeros([4, 4, 2]))


def test_input_diff_compares_an_rgb_photo_with_an_rgba_images_colours():
    rgba = np.full([2, 8, 8, 4], 0.5, np.float32)
    rgba[1, ..., 3] = 0.0  # the alpha does not count against an RGB photo
    photo = np.full([8, 8, 3], 0.25, np.float32)
    got = objectives.input_diff(photo)(lambda name: tf.constant(rgba)).numpy()
    np.testing.assert_allclose(got, [0.25, 0.25], rtol=1e-6)


def test_minimizing_input_diff_on_an_rgba_image_reproduces_the_photos_colours(gabor_model):
    target = np.random.default_rng(5).uniform(0.2, 0.8, (16, 16, 3)).astype(np.float32)
    images = samplevis.render_vis(
        gabor_model,
        -objectives.input_diff(target),
        param_f=lambda: param.image(16, fft=False, decorrelate=False, alpha=True),
        transforms=(),
        thresholds=(192,),
        seed=0,
        progress=False,
    )[-1]
    assert images.shape == (1, 16, 16, 4)
    np.testing.assert_allclose(images[0, ..., :3], target, atol=0.03)
