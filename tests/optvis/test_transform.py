"""Specifications of the image transforms (samplevis.optvis.transform)."""

import numpy as np
import pytest
import tensorflow as tf

from samplevis import transform
from samplevis.optvis.transform.resampling import resample
from samplevis.runtime.seeds import split

SEED = tf.constant([1, 2], tf.int32)


def random_images(batch=2, height=32, width=28):
    return tf.random.stateless_uniform([batch, height, width, 3], [7, 7])


def bar(size=65, length=41, thickness=3):
    """A white horizontal bar centred on a black square image [1, size, size, 3]."""
    img = np.zeros((size, size), np.float32)
    c = size // 2
    img[c - thickness // 2 : c + thickness // 2 + 1, c - length // 2 : c + length // 2 + 1] = 1.0
    return tf.constant(np.repeat(img[None, :, :, None], 3, axis=-1))


def orientation_degrees(image: np.ndarray) -> float:
    """Angle of the principal axis of a grey image [H, W], counter-clockwise from +x, y up."""
    h, w = image.shape
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    y = -y  # rows grow downwards; measure with y pointing up
    m = image.sum()
    mx, my = (image * x).sum() / m, (image * y).sum() / m
    mu20 = (image * (x - mx) ** 2).sum()
    mu02 = (image * (y - my) ** 2).sum()
    mu11 = (image * (x - mx) * (y - my)).sum()
    return float(np.degrees(0.5 * np.arctan2(2 * mu11, mu20 - mu02)))


def test_standard_transforms_are_lucids_list():
    pad, jit8, scale, rotate, jit4 = transform.standard_transforms
    assert (pad.width, pad.mode, pad.constant_value) == (12, "CONSTANT", 0.5)
    assert jit8.d == 8 and jit4.d == 4
    assert scale.scales == pytest.approx(
        [0.9, 0.92, 0.94, 0.96, 0.98, 1.0, 1.02, 1.04, 1.06, 1.08, 1.1]
    )
    assert rotate.angles == tuple(range(-10, 11)) + (0,) * 5 and rotate.units == "degrees"


def test_same_seed_gives_identical_output_and_different_seeds_differ():
    chain = transform.compose(transform.standard_transforms)
    images = random_images()
    a, b = chain(images, SEED), chain(images, tf.constant([1, 2], tf.int64))
    c = chain(images, tf.constant([3, 2], tf.int32))
    assert np.array_equal(a.numpy(), b.numpy())
    assert not np.allclose(a.numpy(), c.numpy())


def test_every_image_of_a_batch_gets_the_same_random_transform():
    one = random_images(batch=1)
    out = transform.compose(transform.standard_transforms)(tf.concat([one, one, one], 0), SEED)
    assert np.array_equal(out[0].numpy(), out[1].numpy()) and np.array_equal(
        out[0].numpy(), out[2].numpy()
    )


@pytest.mark.parametrize("d", [0, 1, 4, 8])
def test_jitter_is_a_crop_smaller_by_d_at_an_offset_within_d(d):
    images = random_images()
    out = transform.jitter(d)(images, SEED).numpy()
    assert out.shape == (2, 32 - d, 28 - d, 3)
    crops = [
        images[:, y : y + 32 - d, x : x + 28 - d].numpy()
        for y in range(d + 1)
        for x in range(d + 1)
    ]
    assert any(np.array_equal(out, crop) for crop in crops)


def test_jitter_offsets_vary_with_the_seed():
    images = random_images()
    outs = {transform.jitter(8)(images, tf.constant([s, 0])).numpy().tobytes() for s in range(6)}
    assert len(outs) > 1


def test_pad_grows_each_side_by_w_with_the_constant_or_a_reflection():
    images = random_images(height=10, width=6)
    grey = transform.pad(3, mode="constant", constant_value=0.5)(images, SEED).numpy()
    assert grey.shape == (2, 16, 12, 3)
    assert np.all(grey[:, :3] == 0.5) and np.all(grey[:, :, -3:] == 0.5)
    assert np.array_equal(grey[:, 3:-3, 3:-3], images.numpy())
    reflected = transform.pad(2)(images, SEED).numpy()
    expected = np.pad(images.numpy(), [(0, 0), (2, 2), (2, 2), (0, 0)], mode="reflect")
    assert np.array_equal(reflected, expected)


def test_uniform_pad_uses_one_random_grey_level_set_by_the_seed():
    images = random_images(height=6, width=6)
    a = transform.pad(2, mode="constant", constant_value="uniform")(images, SEED).numpy()
    b = transform.pad(2, mode="constant", constant_value="uniform")(
        images, tf.constant([9, 9])
    ).numpy()
    border = a[:, :2]
    assert np.all(border == border.flat[0]) and 0.0 <= border.flat[0] < 1.0
    assert b[0, 0, 0, 0] != border.flat[0]


@pytest.mark.parametrize("angle", [-30.0, 10.0, 45.0])
def test_rotation_tilts_a_bar_counter_clockwise_by_the_angle(angle):
    out = transform.random_rotate([angle])(bar(), SEED).numpy()
    assert orientation_degrees(bar().numpy()[0, ..., 0]) == pytest.approx(0.0, abs=1e-6)
    assert orientation_degrees(out[0, ..., 0]) == pytest.approx(angle, abs=0.5)
    assert out.shape == (1, 65, 65, 3)


def test_rotation_by_a_right_angle_in_radians_equals_rot90():
    images = random_images(batch=1, height=9, width=9)
    out = transform.random_rotate([np.pi / 2], units="radians")(images, SEED).numpy()
    assert np.allclose(out, np.rot90(images.numpy(), k=1, axes=(1, 2)), atol=1e-5)


@pytest.mark.parametrize("scale", [0.5, 1.5])
def test_scaling_by_a_factor_scales_the_content_about_the_centre(scale):
    img = np.zeros((1, 64, 64, 3), np.float32)
    img[:, 22:42, 22:42] = 1.0  # a 20 px square centred on the image
    out = transform.random_scale([scale], fill_value=0.0)(tf.constant(img), SEED).numpy()[0, ..., 0]
    assert out.shape == (64, 64)
    side = 20 * scale
    assert out.sum() == pytest.approx(side**2, rel=0.03)
    rows = np.nonzero(out.max(axis=1) > 0.5)[0]
    assert (rows.min() + rows.max()) / 2 == pytest.approx(31.5, abs=0.5)


def test_scale_keeps_the_canvas_and_fills_the_border_when_shrinking():
    out = transform.random_scale([0.5], fill_value=0.25)(tf.ones([1, 20, 20, 3]), SEED).numpy()
    assert out.shape == (1, 20, 20, 3) and out[0, 0, 0, 0] == pytest.approx(0.25)


def test_crop_or_pad_to_reaches_the_requested_size_either_way():
    images = random_images(height=10, width=30)
    out = transform.crop_or_pad_to(20, 20)(images, SEED).numpy()
    assert out.shape == (2, 20, 20, 3)
    assert np.array_equal(out[:, 5:15], images.numpy()[:, :, 5:25])
    assert np.all(out[:, :5] == 0.0)


def test_output_size_follows_the_chain():
    assert transform.output_size(transform.standard_transforms, 128, 128) == (140, 140)
    assert transform.output_size(transform.standard_transforms, 100, 60) == (112, 72)
    assert transform.output_size(transform.crop_or_pad_to(7, 9), 3, 3) == (7, 9)
    chain = transform.compose(transform.standard_transforms)
    assert transform.output_size([chain, transform.jitter(2)], 128, 128) == (138, 138)
    with pytest.raises(TypeError, match="output_size"):
        transform.output_size([lambda images, seed: images], 8, 8)


def test_gradients_flow_through_the_standard_transforms():
    images = tf.Variable(random_images())
    chain = transform.compose(transform.standard_transforms)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(chain(images, SEED) ** 2)
    grad = tape.gradient(loss, images)
    assert grad is not None and float(tf.reduce_sum(tf.abs(grad))) > 0.0


def test_compiled_chain_keeps_static_shapes_and_does_not_retrace_for_new_seeds():
    chain = transform.compose(transform.standard_transforms)
    fn = tf.function(chain)
    images = random_images(height=40, width=36)
    a = fn(images, tf.constant([0, 0]))
    b = fn(images, tf.constant([5, 1]))
    assert fn.experimental_get_tracing_count() == 1
    assert not np.allclose(a.numpy(), b.numpy())
    graph = fn.get_concrete_function(tf.TensorSpec([2, 40, 36, 3]), tf.TensorSpec([2], tf.int32))
    assert graph.structured_outputs.shape.as_list() == [2, 52, 48, 3]


def test_transforms_are_values_equal_and_hashable_by_configuration():
    assert transform.random_scale([1, 2]) == transform.random_scale((1.0, 2.0))
    assert hash(transform.random_scale([1, 2])) == hash(transform.random_scale((1.0, 2.0)))
    assert transform.pad(3) != transform.pad(3, mode="constant")
    assert hash(transform.compose(transform.standard_transforms)) == hash(
        transform.compose(list(transform.standard_transforms))
    )


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: transform.jitter(-1), "int >= 0"),
        (lambda: transform.pad(2, mode="wrap"), "pad mode"),
        (lambda: transform.random_scale([]), "non-empty"),
        (lambda: transform.random_scale(1.1), r"scales must be a non-empty list .* got 1\.1"),
        (lambda: transform.pad(2, "constant", "grey"), "constant_value must be a number"),
        (lambda: transform.random_rotate([5], fill_value="black"), "fill_value is the grey level"),
        (lambda: transform.pad(28)(random_images(), SEED), r"pads 32x28 images by at most 27 px"),
        (lambda: transform.random_rotate(10), r"angles must be .* e\.g\. \[-5, 0, 5\]; got 10"),
        (lambda: transform.random_rotate("10"), "angles must be a non-empty list"),
        (lambda: transform.random_rotate([float("nan")]), "angles must be a non-empty list"),
        (lambda: transform.random_rotate([1], units="turns"), "degrees"),
        (lambda: transform.jitter(40)(random_images(), SEED), "pad first"),
        (lambda: transform.jitter(2)(tf.zeros([8, 8, 3]), SEED), r"images\[None\]"),
        (lambda: transform.jitter(2)(random_images(), tf.constant([1, 2, 3])), "shape \\[2\\]"),
        (
            lambda: transform.normalize_gradient(2.0),
            r"scales must be a list of numbers, one per "
            r"image, e\.g\. \(1\.0, 0\.5\); got 2\.0",
        ),
        (lambda: transform.normalize_gradient([1.0, float("inf")]), "scales must be a list"),
        (
            lambda: transform.normalize_gradient([1.0, 2.0, 3.0])(random_images(), SEED),
            r"3 scales but the batch holds 2 images; give one scale per image",
        ),
    ],
)
def test_bad_arguments_are_refused_with_the_fix(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


@pytest.mark.parametrize("fill_mode", ["CONSTANT", "REFLECT", "NEAREST"])
def test_rotation_matches_tensorflows_projective_transform_op(fill_mode):
    images = random_images(height=31, width=40)
    theta, (h, w) = np.radians(17.0), (31, 40)
    cos, sin = np.cos(theta), np.sin(theta)
    # tf.contrib.image.rotate's matrix for a counter-clockwise turn about the centre.
    x_off = ((w - 1) - (cos * (w - 1) - sin * (h - 1))) / 2
    y_off = ((h - 1) - (sin * (w - 1) + cos * (h - 1))) / 2
    reference = tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=tf.constant([[cos, -sin, x_off, sin, cos, y_off, 0, 0]], tf.float32),
        output_shape=[h, w],
        fill_value=0.3,
        interpolation="BILINEAR",
        fill_mode=fill_mode,
    )
    ours = transform.random_rotate([17.0], fill_mode=fill_mode, fill_value=0.3)(images, SEED)
    assert np.allclose(ours.numpy(), reference.numpy(), atol=1e-4)


@pytest.mark.parametrize(
    "t",
    [
        transform.random_scale([1.1]),
        transform.random_scale([0.9]),
        transform.random_rotate([7]),
        transform.compose([transform.random_scale([0.9]), transform.random_rotate([7])]),
    ],
)
def test_resampling_gradient_is_the_exact_adjoint(t):
    # The transform is affine in the images, so <grad, v> must equal t(x + v) - t(x) weighted.
    x, v = random_images(), tf.random.stateless_normal([2, 32, 28, 3], [3, 3])
    weights = tf.random.stateless_normal([2, 32, 28, 3], [4, 4])
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(weights * t(x, SEED))
    directional = tf.reduce_sum(tape.gradient(loss, x) * v)
    difference = tf.reduce_sum(weights * (t(x + v, SEED) - t(x, SEED)))
    assert float(directional) == pytest.approx(float(difference), rel=1e-4, abs=1e-3)


def one_by_one(chain, images, seed):
    """What `chain` (a Compose) gives when its pads and crops are made as tensors: each
    transform applied alone with the seed compose gives it, a zoom and the rotation right
    after it resampled together."""
    seeds = split(seed, len(chain.transforms))
    items = list(zip(chain.transforms, seeds))
    while items:
        (t, s), items = items[0], items[1:]
        if isinstance(t, transform.RandomScale) and isinstance(items[0][0], transform.RandomRotate):
            (r, rs), items = items[0], items[1:]
            images = resample(images, [t.stage(s), r.stage(rs)])
        else:
            images = t(images, s)
    return images


@pytest.mark.parametrize(
    "chain",
    [
        transform.standard_transforms,
        [
            transform.pad(3, "constant", "uniform"),
            transform.jitter(2),
            transform.pad(2, "constant", 0.25),
            transform.random_scale([0.8, 1.2]),
            transform.random_rotate([-20, 15]),
            transform.jitter(3),
            transform.jitter(1),
        ],
    ],
)
@pytest.mark.parametrize("size", [(32, 28), (37, 37)])
def test_compose_folds_constant_pads_and_crops_into_the_resampling_giving_the_same_images(
    chain, size
):
    chain = transform.compose(chain)
    images = random_images(2, *size)
    for k in range(6):
        seed = tf.constant([k, 9], tf.int32)
        expected = one_by_one(chain, images, seed)
        np.testing.assert_allclose(chain(images, seed), expected, atol=1e-6)


def test_the_folded_standard_transforms_gradient_is_the_exact_adjoint():
    t = transform.compose(transform.standard_transforms)
    x, v = random_images(), tf.random.stateless_normal([2, 32, 28, 3], [3, 3])
    weights = tf.random.stateless_normal([2, 44, 40, 3], [4, 4])  # the size after the chain
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(weights * t(x, SEED))
    directional = tf.reduce_sum(tape.gradient(loss, x) * v)
    difference = tf.reduce_sum(weights * (t(x + v, SEED) - t(x, SEED)))
    assert float(directional) == pytest.approx(float(difference), rel=1e-4, abs=1e-3)


def test_the_compiled_sampling_map_is_the_plain_one():
    # large static sizes take the XLA-compiled map, unknown ones the plain map (and pads and
    # crops as tensors): the same images, to the last bits of the coordinates (XLA fuses
    # products and sums into multiply-adds)
    chain = transform.compose(transform.standard_transforms)
    images = random_images(1, 200, 196)
    assert 212 * 208 >= transform.XLA_MAP_PIXELS  # the chain's output size
    unknown_sizes = tf.function(
        chain, input_signature=[tf.TensorSpec([None, None, None, 3]), tf.TensorSpec([2], tf.int32)]
    )
    for k in range(5):
        seed = tf.constant([k, 3], tf.int32)
        np.testing.assert_allclose(chain(images, seed), unknown_sizes(images, seed), atol=1e-4)


def test_a_zoom_then_a_rotation_interpolate_once_and_each_fills_the_border_it_uncovers():
    zoom, turn = transform.random_scale([0.8]), transform.random_rotate([10])  # fills 0.5, 0
    both = transform.compose([zoom, turn])
    seeds = split(SEED, 2)  # compose's seed for each
    white = both(tf.ones([1, 64, 64, 3]), SEED).numpy()[0, ..., 0]
    # the corners the rotation uncovers are black, the band the zoom-out uncovers grey
    np.testing.assert_allclose(
        [white[0, 0], white[32, 2], white[32, 32]], [0.0, 0.5, 1.0], atol=1e-5
    )
    # one interpolation: inside the band, two resamplings one after the other agree with it
    y, x = np.mgrid[0:64, 0:64] / 64.0
    smooth = tf.constant(
        (0.5 + 0.4 * np.stack([np.sin(3 * x + 2 * y), np.cos(2 * x - y), x * y], -1))[None],
        tf.float32,
    )
    in_turn = turn(zoom(smooth, seeds[0]), seeds[1])
    assert np.abs(both(smooth, SEED) - in_turn)[:, 12:-12, 12:-12].max() < 1e-3


def test_a_numpy_fill_value_pads_with_that_value():
    padded = transform.pad(1, "constant", np.float32(0.25))(tf.ones([1, 2, 2, 3]), SEED).numpy()
    assert padded.shape == (1, 4, 4, 3) and padded[0, 0, 0, 0] == 0.25 and padded[0, 1, 1, 0] == 1


def test_normalize_gradient_keeps_the_images_and_scales_each_images_gradient_to_unit_norm():
    images = random_images()  # two images
    weights = tf.constant(np.random.default_rng(3).normal(size=images.shape), tf.float32)

    def gradient(t):
        with tf.GradientTape() as tape:
            tape.watch(images)
            seen = t(images, SEED)
            loss = tf.reduce_sum(weights * seen)
        return seen, tape.gradient(loss, images)

    seen, grad = gradient(transform.normalize_gradient())
    np.testing.assert_array_equal(seen, images)
    w = weights.numpy()
    unit = w / np.linalg.norm(w.reshape(2, -1), axis=1)[:, None, None, None]
    np.testing.assert_allclose(grad, unit, atol=1e-6)
    _, scaled = gradient(transform.normalize_gradient([2.0, 0.5]))
    np.testing.assert_allclose(scaled, unit * np.array([2.0, 0.5])[:, None, None, None], atol=1e-6)
    with tf.GradientTape() as tape:  # an image the loss ignores keeps a zero gradient, not NaN
        tape.watch(images)
        loss = tf.reduce_sum(transform.normalize_gradient()(images, SEED)[0])
    np.testing.assert_array_equal(tape.gradient(loss, images)[1], 0.0)


def test_standard_transforms_is_a_list_whose_edits_leave_the_default_alone():
    assert isinstance(transform.standard_transforms, list)
    assert len(transform.standard_transforms) == 5
    extended = transform.standard_transforms + [transform.crop_or_pad_to(20, 20)]  # Lucid's idiom
    assert len(extended) == 6 and transform.output_size(extended, 16, 16) == (20, 20)
    saved = list(transform.standard_transforms)
    try:
        transform.standard_transforms.append(transform.jitter(1))
        transform.standard_transforms[0] = transform.pad(2)
        assert transform.as_transforms(None) == tuple(saved) == transform.default_transforms()
    finally:
        transform.standard_transforms[:] = saved


def test_lucids_positional_seed_is_folded_into_each_calls_seed():
    images = random_images()
    for make in (
        lambda s: transform.jitter(6, s),
        lambda s: transform.random_scale([0.8, 1.2], s),
        lambda s: transform.random_rotate(range(-40, 40), "degrees", s),
    ):
        assert np.array_equal(make(3)(images, SEED), make(3)(images, SEED))
        draws = {make(s)(images, SEED).numpy().tobytes() for s in range(8)}
        assert len(draws) > 1
    assert transform.jitter(6, None) == transform.jitter(6) != transform.jitter(6, 0)
    assert transform.random_rotate([5], "radians", 2).units == "radians"


def test_fill_arguments_are_keyword_only_and_the_seed_takes_their_place():
    with pytest.raises(ValueError, match="transform's seed must be an int or None, got 'CONSTANT'"):
        transform.random_scale([1.1], "CONSTANT")
    with pytest.raises(TypeError, match="positional"):
        transform.random_rotate([5], "degrees", None, "CONSTANT")
    assert transform.normalize_gradient(grad_scales=[1.0, 2.0]).scales == (1.0, 2.0)


def test_a_one_argument_function_becomes_a_transform_ignoring_the_seed():
    images = random_images()
    double = transform.as_transform(lambda t: 2.0 * t)
    assert isinstance(double, transform.ImageOnly)
    np.testing.assert_array_equal(double(images, SEED), 2.0 * images.numpy())
    assert double.output_size(10, 12) == (10, 12)
    shrink = transform.as_transform(lambda t: t[:, 1:, 2:])
    assert shrink.output_size(10, 12) == (9, 10)
    chain = transform.compose([transform.pad(2), lambda t: t[:, 1:, 2:]])  # Lucid-style compose
    assert chain(images, SEED).shape == (2, 35, 30, 3)
    assert transform.output_size(chain, 32, 28) == (35, 30)


def test_two_argument_and_unreadable_callables_are_kept_as_they_are():
    jit = transform.jitter(2)
    assert transform.as_transform(jit) is jit
    both = lambda images, seed=None: images  # noqa: E731
    assert transform.as_transform(both) is both
    assert transform.as_transform(max) is max  # a builtin without one: taken as (images, seed)


def test_as_transforms_gives_a_tuple_from_a_list_a_tuple_or_one_transform():
    one_arg = lambda t: t  # noqa: E731
    assert transform.as_transforms([transform.jitter(2), one_arg]) == (
        transform.jitter(2),
        transform.ImageOnly(one_arg),
    )
    assert transform.as_transforms(()) == ()
    assert transform.as_transforms(one_arg) == (transform.ImageOnly(one_arg),)
    assert transform.as_transforms(transform.standard_transforms) == transform.default_transforms()


@pytest.mark.parametrize(
    "make,match",
    [
        (
            lambda: transform.as_transforms("jitter"),
            r"transforms must be a list of transforms t\(images, seed\).*\[transform\.jitter\(8\)\]",
        ),
        (
            lambda: transform.as_transforms([transform.jitter(2), 3]),
            r"a transform is a function t\(images, seed\) -> images, or Lucid's t\(images\); got 3 "
            r"\(int\)\. Build one with samplevis\.transform",
        ),
        (
            lambda: transform.as_transform(lambda: None),
            r"does not take \(images, seed\), nor "
            r"Lucid's \(images\); write it as def t",
        ),
        (lambda: transform.compose([lambda a, b, c: a]), r"nor Lucid's \(images\)"),
        (
            lambda: transform.as_transform(  # Lucid's own random_scale gives no static size
                lambda t: tf.image.resize(t, tf.random.uniform([2], 4, 9, tf.int32))
            ).output_size(8, 8),
            "gives no static image size",
        ),
    ],
)
def test_what_is_not_a_transform_is_refused_with_the_fix(make, match):
    with pytest.raises(TypeError, match=match):
        make()
