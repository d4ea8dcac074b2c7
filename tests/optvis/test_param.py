"""Specifications of the image parameterizations (samplevis.optvis.param)."""

import numpy as np
import pytest
import tensorflow as tf
from skimage import data
from skimage import transform as sk_transform

from samplevis import param
from samplevis.optvis.param import color

SHAPES = [(1, 16, 16), (4, 12, 20), (2, 17, 23)]  # (batch, height, width), odd sizes included


def all_params(batch, height, width):
    """One parameterization of every kind, at the given size."""
    shape = (batch, height, width, 3)
    return {
        "image": param.image(width, height, batch=batch),
        "image_pixel_clip": param.image(width, height, batch=batch, fft=False, sigmoid=False),
        "image_decay2": param.image(width, height, batch=batch, decay_power=2.0),
        "lowres": param.rgb(param.lowres_tensor(shape, (batch, 4, 5, 3), offset=True), True),
        "pyramid": param.rgb(param.laplacian_pyramid(shape, n_levels=3), decorrelate=True),
        "cppn": param.cppn(width, batch, height=height, num_hidden_channels=8, num_layers=3),
    }


def chelsea(height, width):
    """scikit-image's cat photo, resized, kept inside (0.01, 0.99)."""
    img = sk_transform.resize(data.chelsea(), (height, width), anti_aliasing=True)
    return np.clip(img, 0.011, 0.989).astype(np.float32)[None]


def radial_power_slope(images: np.ndarray) -> float:
    """Log-log slope of the radially averaged power spectrum, f in (2/n, 0.45) cycles/px."""
    b, h, w, c = images.shape
    spectrum = np.abs(np.fft.fft2(images, axes=(1, 2))) ** 2
    power = spectrum.mean(axis=(0, 3))
    f = np.sqrt(np.fft.fftfreq(h)[:, None] ** 2 + np.fft.fftfreq(w)[None, :] ** 2)
    edges = np.geomspace(2.0 / max(h, w), 0.45, 12)
    centers, means = [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        ring = (f >= lo) & (f < hi)
        centers.append(np.exp(np.log(f[ring]).mean()))
        means.append(power[ring].mean())
    return float(np.polyfit(np.log(centers), np.log(means), 1)[0])


@pytest.mark.parametrize("decay_power", [1.0, 2.0])
def test_fft_tensor_of_standard_normal_state_has_power_spectrum_slope_minus_two_decay_power(
    decay_power,
):
    fft = param.fft_image((8, 64, 64, 3), sd=1.0, decay_power=decay_power)
    tensor = fft.to_tensor(fft.init(3)).numpy()
    assert radial_power_slope(tensor) == pytest.approx(-2.0 * decay_power, abs=0.15)


def test_pixel_tensor_of_standard_normal_state_has_a_flat_power_spectrum():
    pixels = param.pixel_image((8, 64, 64, 3), sd=1.0)
    assert radial_power_slope(pixels.to_tensor(pixels.init(3)).numpy()) == pytest.approx(
        0.0, abs=0.15
    )


def test_rfft2d_freqs_matches_numpy_frequencies_with_the_extra_column_for_odd_widths():
    even, odd = param.rfft2d_freqs(4, 6), param.rfft2d_freqs(3, 5)
    assert even.shape == (4, 4) and odd.shape == (3, 4)
    assert even[0, :] == pytest.approx([0.0, 1 / 6, 2 / 6, 3 / 6])
    assert even[:, 0] == pytest.approx([0.0, 0.25, 0.5, 0.25])
    assert odd[1, 1] == pytest.approx(np.hypot(1 / 3, 1 / 5))
    assert odd[0, 3] == pytest.approx(2 / 5)  # the extra (negative) frequency, by magnitude


def test_fft_tensor_has_lucid_scaling_dc_coefficient_gives_constant_image():
    # A unit real DC coefficient: scale = sqrt(w*h) * max(w, h) (floor 1/max(w, h)),
    # the inverse FFT divides by w*h, and Lucid divides by 4.
    fft = param.fft_image((1, 8, 16, 3), decay_power=1.0)
    z = np.zeros(fft.state_shapes[0], np.float32)
    z[0, 0, 1, 0, 0] = 1.0
    t = fft.to_tensor((tf.constant(z),)).numpy()
    expected = np.sqrt(8 * 16) * 16 / (8 * 16) / 4
    assert np.allclose(t[..., 1], expected, atol=1e-5)
    assert np.allclose(t[..., [0, 2]], 0.0, atol=1e-6)


def test_state_size_counts_real_spectral_coefficients_per_image():
    assert param.image(128).state_size == 2 * 3 * 128 * 65
    assert param.image(128, batch=4).state_size == 2 * 3 * 128 * 65
    assert param.image(31, 20).state_size == 2 * 3 * 20 * 17
    assert param.image(16, fft=False).state_size == 16 * 16 * 3


def test_colour_decorrelation_matrix_reproduces_lucid_constants():
    lucid = np.array([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])
    assert np.array_equal(param.COLOR_CORRELATION_SVD_SQRT, lucid.astype(np.float32))
    # Largest column norm is the first one: sqrt(0.26^2 + 0.27^2 + 0.27^2).
    first_norm = np.sqrt(0.26**2 + 0.27**2 + 0.27**2)
    red_axis = param.decorrelate_color(tf.constant([1.0, 0.0, 0.0])).numpy()
    assert red_axis == pytest.approx(
        [0.26 / first_norm, 0.27 / first_norm, 0.27 / first_norm], abs=1e-6
    )
    assert np.linalg.norm(color.COLOR_CORRELATION_NORMALIZED, axis=0).max() == pytest.approx(1.0)


def test_to_valid_rgb_maps_zero_to_grey_or_to_the_imagenet_mean():
    zero = tf.zeros([1, 2, 2, 3])
    assert np.allclose(param.to_valid_rgb(zero, decorrelate=True, sigmoid=True), 0.5)
    assert np.allclose(
        param.to_valid_rgb(zero, decorrelate=True, sigmoid=False), [0.48, 0.46, 0.41]
    )


@pytest.mark.parametrize("batch, height, width", SHAPES)
@pytest.mark.parametrize("sigmoid", [True, False])
def test_an_fft_image_mixes_its_colours_before_its_transpose_as_to_valid_rgb_does_after(
    batch, height, width, sigmoid
):
    image = param.image(width, height, batch=batch, sigmoid=sigmoid)
    state = tuple(3.0 * s for s in image.init(4))  # colours well away from grey
    after = param.to_valid_rgb(image.tensor.to_tensor(state), decorrelate=True, sigmoid=sigmoid)
    np.testing.assert_allclose(image.to_image(state), after, atol=1e-6)
    # and any tensor parameterization mixes as the matrix says
    pixel = param.pixel_image((batch, height, width, 3))
    swap = np.eye(3, dtype=np.float32)[[2, 0, 1]]
    t = pixel.to_tensor(pixel.init(0)).numpy()
    np.testing.assert_allclose(pixel.to_mixed_tensor(pixel.init(0), swap), t[..., [2, 0, 1]])


def test_clipped_rgb_without_decorrelation_is_the_identity_clipped_to_unit_range():
    t = tf.constant([[[[-0.2, 0.3, 1.7]]]])
    assert param.to_valid_rgb(t, sigmoid=False).numpy().ravel() == pytest.approx([0.0, 0.3, 1.0])


def test_clipped_rgb_saturates_but_lets_gradient_pull_back_inside():
    x = tf.constant([2.0, -2.0, 0.25])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = param.constrain_l_inf(x)
        outward, inward = tf.reduce_sum(y * [1.0, -1.0, 1.0]), tf.reduce_sum(y * [-1.0, 1.0, 1.0])
    assert y.numpy() == pytest.approx([1.0, -1.0, 0.25])
    assert tape.gradient(outward, x).numpy() == pytest.approx([0.0, 0.0, 1.0])
    assert tape.gradient(inward, x).numpy() == pytest.approx([-1.0, 1.0, 1.0])


@pytest.mark.parametrize("batch,height,width", SHAPES)
def test_every_parameterization_gives_images_in_unit_range_with_requested_shape(
    batch, height, width
):
    for name, p in all_params(batch, height, width).items():
        state = p.init(0)
        assert all(s.shape[0] == batch for s in state), name
        assert tuple(tuple(s.shape) for s in state) == p.state_shapes, name
        images = p.to_image(state).numpy()
        assert images.shape == (batch, height, width, 3), name
        assert images.dtype == np.float32 and images.min() >= 0.0 and images.max() <= 1.0, name
        big = p.to_image(tuple(100.0 * s for s in state)).numpy()
        assert big.min() >= 0.0 and big.max() <= 1.0, name


def test_same_seed_gives_identical_init_and_different_seeds_differ():
    for name, p in all_params(2, 12, 14).items():
        a, b, c = p.init(5), p.init(tf.constant([0, 5])), p.init(6)  # int n is [0, n]
        for x, y in zip(a, b):
            assert np.array_equal(x.numpy(), y.numpy()), name
        assert any(not np.array_equal(x.numpy(), z.numpy()) for x, z in zip(a, c)), name


def test_images_of_a_batch_start_different():
    p = param.image(16, batch=3)
    images = p.to_image(p.init(0)).numpy()
    assert not np.allclose(images[0], images[1])


def test_gradients_flow_from_image_to_every_state_tensor():
    weights = tf.random.stateless_normal([2, 12, 14, 3], [1, 2])
    for name, p in all_params(2, 12, 14).items():
        state = list(p.init(0))
        if name == "cppn":  # zero output weights block the gradient to hidden layers at init
            state[-2] = tf.random.stateless_normal(state[-2].shape, [3, 4])
        state = [tf.Variable(s) for s in state]
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(p.to_image(state) * weights)
        for i, g in enumerate(tape.gradient(loss, state)):
            assert g is not None and float(tf.reduce_max(tf.abs(g))) > 0.0, (name, i)


def test_cppn_starts_as_a_flat_colour_per_image_as_lucid():
    p = param.cppn(16, 2, height=12, num_hidden_channels=8, num_layers=3)
    images = p.to_image(p.init(0)).numpy()
    assert np.allclose(images, images[:, :1, :1, :], atol=1e-6)


def test_cppn_takes_lucids_positional_order_width_then_batch():
    p = param.cppn(16, 4)
    assert (p.batch, p.height, p.width) == (4, 16, 16)
    assert p.to_image(p.init(0)).shape == (4, 16, 16, 3)
    q = param.cppn(16, 2, 3, 8, 3, "relu_normalized", True, height=6)
    assert (q.batch, q.height, q.width, q.num_hidden_channels, q.num_layers) == (2, 6, 16, 8, 3)
    assert (q.activation, q.normalize) == ("relu_normalized", True)


def test_image_takes_lucids_positional_order_and_its_channels_argument():
    p = param.image(12, 8, 3, 0.5, False, False)
    assert (p.batch, p.height, p.width, p.tensor.sd) == (3, 8, 12, 0.5)
    assert not p.decorrelate and isinstance(p.tensor, param.PixelTensor)
    assert param.image(8, batch=None).batch == 1
    assert param.image(8, channels=3) == param.image(8, decorrelate=False)


def test_to_valid_rgb_of_a_tensor_parameterization_is_its_image_parameterization():
    tensor = param.fft_image((2, 8, 8, 3))
    assert param.to_valid_rgb(tensor, decorrelate=True) == param.rgb(tensor, decorrelate=True)
    assert param.laplacian_pyramid_image((1, 8, 8, 3), 2) == param.laplacian_pyramid(
        (1, 8, 8, 3), 2
    )


def test_gradient_reaches_cppn_output_layer_at_init():
    p = param.cppn(16, batch=2, num_hidden_channels=8, num_layers=3)
    state = [tf.Variable(s) for s in p.init(0)]
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(p.to_image(state)[..., 0] * tf.linspace(-1.0, 1.0, 16))
    assert float(tf.reduce_max(tf.abs(tape.gradient(loss, state[-2])))) > 0.0


def test_build_gives_variables_holding_init_and_a_function_of_them():
    p = param.image(10, 8, batch=2)
    variables, image_fn = p.build(seed=7)
    assert all(isinstance(v, tf.Variable) for v in variables)
    assert np.array_equal(variables[0].numpy(), p.init(7)[0].numpy())
    before = image_fn().numpy()
    variables[0].assign(variables[0] * 50.0)
    assert before.shape == (2, 8, 10, 3) and not np.allclose(image_fn().numpy(), before)


@pytest.mark.parametrize("fft", [True, False])
@pytest.mark.parametrize("decorrelate", [True, False])
@pytest.mark.parametrize("sigmoid", [True, False])
def test_from_image_reproduces_a_photo(fft, decorrelate, sigmoid):
    photo = chelsea(24, 35)  # odd width exercises the cropped spectral column
    p = param.from_image(photo, fft=fft, decorrelate=decorrelate, sigmoid=sigmoid)
    assert (p.batch, p.height, p.width) == (1, 24, 35)
    assert np.abs(p.to_image(p.init(0)).numpy() - photo).max() < 1e-3


def test_starting_images_with_nan_are_refused_by_name():
    photo = chelsea(8, 8)
    photo[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        param.from_image(photo)


def test_laplacian_pyramid_and_pixel_rgb_can_start_from_a_photo():
    photo = np.concatenate([chelsea(20, 32), chelsea(20, 32)[:, ::-1]])
    for tensor in [param.laplacian_pyramid((2, 20, 32, 3)), param.pixel_image((2, 20, 32, 3))]:
        p = param.initialized(param.rgb(tensor, decorrelate=True), photo)
        assert np.abs(p.to_image(p.init(0)).numpy() - photo).max() < 1e-3


def test_lowres_and_cppn_refuse_to_start_from_a_photo_with_a_hint():
    low = param.rgb(param.lowres_tensor((1, 24, 35, 3), (1, 6, 7, 3)))
    with pytest.raises(NotImplementedError, match="pixel, fft or laplacian"):
        param.initialized(low, chelsea(24, 35))
    with pytest.raises(TypeError, match="RGBImage"):
        param.initialized(param.cppn(8), chelsea(8, 8))


def test_lowres_tensor_is_piecewise_linear_between_its_state_samples():
    low = param.lowres_tensor((1, 8, 8, 1), (1, 2, 2, 1))
    state = (tf.constant([[[[0.0], [4.0]], [[0.0], [4.0]]]]),)
    row = low.to_tensor(state).numpy()[0, 0, :, 0]
    # Half-pixel centres: flat 0 over the first 2 px, a linear ramp, flat 4 at the end.
    assert row == pytest.approx([0, 0, 0.5, 1.5, 2.5, 3.5, 4, 4])


def test_lowres_offset_true_shifts_by_half_the_upsampling_ratio():
    shape, under = (1, 16, 16, 1), (1, 4, 4, 1)
    state = param.lowres_tensor(shape, under).init(1)
    plain = param.lowres_tensor(shape, under).to_tensor(state).numpy()
    shifted = param.lowres_tensor(shape, under, offset=True).to_tensor(state).numpy()
    assert np.allclose(shifted[:, 2:, 2:], plain[:, :-2, :-2])


def test_equal_configurations_compare_and_hash_equal():
    assert param.image(128) == param.image(128) and hash(param.image(128)) == hash(param.image(128))
    assert param.image(128) != param.image(128, decay_power=2.0)
    assert param.image(128) != param.image(128, batch=2)
    assert param.cppn(32) == param.cppn(32) and hash(param.cppn(32)) == hash(param.cppn(32))
    photo = chelsea(8, 8)
    assert hash(param.from_image(photo)) == hash(param.from_image(photo))
    assert param.from_image(photo) != param.from_image(photo * 0.5)
    assert len({param.image(64), param.image(64), param.image(32)}) == 2


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: param.image(0), "w must be a positive int"),
        (lambda: param.image(32, batch=0), "batch must be a positive int"),
        (lambda: param.image(32, h=-1), "h must be a positive int"),
        (lambda: param.fft_image((1, 8, 8)), r"\[batch, height, width, channels\]"),
        (lambda: param.laplacian_pyramid((1, 4, 4, 3), n_levels=4), "fewer levels"),
        (lambda: param.from_image(np.zeros((8, 8, 3))), r"images\[None\]"),
        (lambda: param.from_image(np.zeros((1, 8, 8, 4))), "3 colour channels"),
        (lambda: param.from_image(np.full((1, 8, 8, 3), 255.0)), "divide 8-bit images by 255"),
        (lambda: param.initialized(param.image(8), np.zeros((1, 8, 9, 3))), "must have shape"),
        (lambda: param.image(8).init(tf.constant([1, 2, 3])), "shape \\[2\\]"),
        (lambda: param.rgb(param.pixel_image((1, 4, 4, 1))), "3-channel"),
        (lambda: param.image(8, sd=-0.01), r"sd is the std of the initial state, a number >= 0"),
        (lambda: param.pixel_image((1, 4, 4, 3), sd=float("nan")), "sd is the std"),
        (lambda: param.lowres_tensor((1, 8, 8, 3), (1, 4, 4, 3), sd="0.1"), "sd is the std"),
        (lambda: param.laplacian_pyramid((1, 8, 8, 3), n_levels=2, sd=True), "sd is the std"),
        (lambda: param.image(8, decay_power=float("inf")), "decay_power must be a finite number"),
        (lambda: param.fft_image((1, 8, 8, 3), decay_power=True), "decay_power must be a finite"),
        (lambda: param.image(8, fft="no"), "fft must be True or False; got 'no'"),
        (lambda: param.image(8, decorrelate="no"), "decorrelate must be True or False"),
        (lambda: param.image(8, sigmoid=None), "sigmoid must be True or False"),
        (lambda: param.rgb(param.fft_image((1, 8, 8, 3)), decorrelate="no"), "decorrelate must be"),
        (lambda: param.cppn(8, normalize="no"), "normalize must be True or False"),
        (lambda: param.cppn(8, 1, 4), r"num_output_channels must be 3, got 4: the images are RGB"),
        (
            lambda: param.cppn(8, 1, 4),
            r"param.RGBAImage\(cppn\(...\), param.fft_image\(\[1, 8, 8, 1\]",
        ),
        (lambda: param.cppn(8, 1, 3, 24, 8, "composite", False, 8), "positional argument"),
        (lambda: param.image(8, None, 1, None, True, True, False, None, False), "positional"),
        (lambda: param.image(8, alpha=True, channels=3), "drop channels to get RGBA images"),
        (lambda: param.image(8, channels=1), "channels must be None or 3, got 1"),
        (lambda: param.pixel_image((1, 32.7, 32, 3)), "pass four positive ints"),
        (lambda: param.pixel_image("1323"), "pass four positive ints"),
    ],
)
def test_bad_arguments_are_refused_with_the_fix(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_to_image_compiles_and_does_not_retrace_for_new_state_values():
    p = param.image(16, batch=2)
    fn = tf.function(p.to_image)
    a = fn(p.init(0))
    b = fn(p.init(1))
    assert fn.experimental_get_tracing_count() == 1 and not np.allclose(a, b)


def test_a_numpy_int_offset_shifts_a_lowres_tensor_like_a_python_int():
    assert param.lowres_tensor(
        (1, 8, 8, 3), (1, 2, 2, 3), offset=np.int64(1)
    ) == param.lowres_tensor((1, 8, 8, 3), (1, 2, 2, 3), offset=1)


# ----- phase_image: a photo's magnitude kept, its phase moved ----------------------------------
def test_phase_image_starts_at_its_photos_and_keeps_their_magnitude_whatever_the_phase():
    cat = chelsea(24, 20)  # [1, 24, 20, 3]
    photos = np.concatenate([cat, cat[:, ::-1]]).astype(np.float32)
    phases = param.phase_image(photos)
    start = phases.state_for(tf.constant(photos))
    np.testing.assert_allclose(phases.to_image(start).numpy(), photos, atol=1e-5)
    # any other phase: the images keep each photo's magnitude, colour channel by colour channel
    # (the columns whose coefficients pair with their mirror, 0 and the even width's last, hold
    # only the phase's conjugate-symmetric part, as any real image's)
    moved = phases.to_image(phases.init(tf.constant([1, 2], tf.int64)))
    again = np.abs(
        np.fft.rfft2(np.asarray(color.from_valid_rgb(moved, True)).transpose(0, 3, 1, 2))
    )
    np.testing.assert_allclose(again[..., 1:-1], phases.magnitude[..., 1:-1], rtol=1e-3, atol=1e-3)
    assert np.abs(moved.numpy() - photos).mean() > 0.05  # where things are did change
    assert phases == param.phase_image(photos) and phases != param.phase_image(photos[::-1])


def test_phase_image_refuses_what_is_not_images():
    with pytest.raises(ValueError, match=r"\[B, H, W, 3\]"):
        param.phase_image(np.zeros([8, 8, 3]))
