"""Objectives: per-image values, algebra equal to the algebra of values, errors that name the fix."""

import numpy as np
import pytest
import tensorflow as tf

from samplevis import objectives
from samplevis.optvis.evaluation import objective_values


@pytest.fixture(scope="module")
def images():
    return tf.constant(np.random.default_rng(1).uniform(0, 1, (3, 32, 32, 3)), tf.float32)


@pytest.fixture(scope="module")
def acts(tiny_model, images):
    return tiny_model.activations(images, ["conv1", "conv2_relu", "logits"])


def values(model, obj, images):
    return objective_values(model, obj, images).numpy()


def test_channel_is_the_spatial_mean_of_that_channel(tiny_model, images, acts):
    got = values(tiny_model, objectives.channel("conv1", 5), images)
    np.testing.assert_allclose(got, acts["conv1"][..., 5].mean(axis=(1, 2)), rtol=1e-5)


def test_neuron_defaults_to_the_centre_position(tiny_model, images, acts):
    got = values(tiny_model, objectives.neuron("conv2_relu", 2), images)
    np.testing.assert_allclose(got, acts["conv2_relu"][:, 8, 8, 2], rtol=1e-5)
    got = values(tiny_model, objectives.neuron("conv2_relu", 2, x=3, y=1), images)
    np.testing.assert_allclose(got, acts["conv2_relu"][:, 1, 3, 2], rtol=1e-5)


def test_deepdream_is_the_mean_square(tiny_model, images, acts):
    got = values(tiny_model, objectives.deepdream("conv1"), images)
    np.testing.assert_allclose(got, (acts["conv1"] ** 2).mean(axis=(1, 2, 3)), rtol=1e-5)


def test_direction_and_direction_neuron_are_dot_products(tiny_model, images, acts):
    vec = np.linspace(-1, 1, 8).astype(np.float32)
    got = values(tiny_model, objectives.direction("conv1", vec), images)
    np.testing.assert_allclose(got, (acts["conv1"] @ vec).mean(axis=(1, 2)), rtol=1e-4)
    centre = acts["conv1"][:, 16, 16, :]
    cos = (centre @ vec) / (1e-4 + np.linalg.norm(centre, axis=1)) / (1e-4 + np.linalg.norm(vec))
    expected = (centre @ vec) * np.maximum(0.1, cos) ** 2
    got = values(tiny_model, objectives.direction_neuron("conv1", vec, cossim_pow=2), images)
    np.testing.assert_allclose(got, expected, rtol=1e-4)


def test_class_logit_by_index_reads_the_logit(tiny_model, images, acts):
    got = values(tiny_model, objectives.class_logit("logits", 3), images)
    np.testing.assert_allclose(got, acts["logits"][:, 3], rtol=1e-5)
    with pytest.raises(
        ValueError,
        match=r"^class 5 is out of range for layer 'logits', which has "
        r"5 classes \(valid: 0\.\.4\)\.$",
    ):
        values(tiny_model, objectives.class_logit("logits", 5), images)
    with pytest.raises(
        ValueError,
        match=r"^class 8 is out of range .* \(valid: 0\.\.4\)\. "
        r"'hen' is class 8 of ImageNet's 1000, which labels name; "
        r"give this model's class index instead\.$",
    ):
        values(tiny_model, objectives.class_logit("logits", "hen"), images)


def test_class_logit_with_the_label_first_names_lucids_order():
    with pytest.raises(TypeError, match=r"class_logit\('logits', 3\)"):
        objectives.class_logit(3, "logits")
    with pytest.raises(
        ValueError,
        match=r"not an ImageNet class name.*class_logit\('logits', "
        r"'hen'\)",
    ):
        objectives.class_logit("hen", "logits")
    with pytest.raises(ValueError, match=r"Close matches: .*'hen'") as err:  # a typo, not a swap
        objectives.class_logit("logits", "hne")
    assert "Lucid" not in str(err.value)


def test_batch_index_keeps_only_that_image(tiny_model, images, acts):
    got = values(tiny_model, objectives.channel("conv1", 1, batch=1), images)
    expected = acts["conv1"][..., 1].mean(axis=(1, 2)) * np.array([0, 1, 0])
    np.testing.assert_allclose(got, expected, rtol=1e-5)


@pytest.mark.parametrize(
    "make",
    [
        lambda i, b: objectives.channel("conv2_relu", i, batch=b),
        lambda i, b: objectives.neuron("conv1", i, x=1, y=2, batch=b),
        lambda i, b: objectives.class_logit("logits", i, batch=b),
        lambda i, b: objectives.direction("conv1", np.arange(1.0, 9.0) * (i - 1.5), batch=b),
        lambda i, b: objectives.deepdream("conv2_relu", batch=b),
        lambda i, b: objectives.total_variation("conv1", batch=b),  # masks the batch's values
    ],
)
def test_a_sum_of_one_term_per_image_gives_each_image_its_terms_value_and_gradient(
    tiny_model, images, make
):
    # term i reads only image i's row (batch=i): the same as term i over the whole batch with
    # the other images' values dropped
    weights = tf.constant([1.0, -2.0, 3.0])

    def value_and_gradient(values_of):
        x = tf.Variable(images)
        with tf.GradientTape() as tape:
            v = values_of(x)
            total = tf.reduce_sum(v * weights)
        return v.numpy(), tape.gradient(total, x).numpy()

    summed = make(0, 0) + make(1, 1) + make(2, 2)
    got = value_and_gradient(lambda x: objective_values(tiny_model, summed, x))
    expected = value_and_gradient(
        lambda x: tf.stack([objective_values(tiny_model, make(i, None), x)[i] for i in range(3)])
    )
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-5)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-4, atol=1e-7)


def test_algebra_equals_algebra_of_values(tiny_model, images, acts):
    a = objectives.channel("conv1", 0)
    b = objectives.class_logit("logits", 1)
    va, vb = values(tiny_model, a, images), values(tiny_model, b, images)
    cases = {
        "2*a - b": (2 * a - b, 2 * va - vb),
        "a + 3": (a + 3, va + 3),
        "-a / 4": (-a / 4, -va / 4),
        "a * b": (a * b, va * vb),
        "1 - a": (1 - a, 1 - va),
        "sum": (sum([a, b, a]), 2 * va + vb),
    }
    for label, (obj, expected) in cases.items():
        np.testing.assert_allclose(
            values(tiny_model, obj, images), expected, rtol=1e-5, err_msg=label
        )


def test_algebra_never_mutates_operands(tiny_model, images):
    a = objectives.channel("conv1", 0)
    before = values(tiny_model, a, images)
    _ = a * 2 + objectives.channel("conv1", 1) * 5
    np.testing.assert_allclose(values(tiny_model, a, images), before)
    assert a.name == "channel('conv1', 0)" and a.layers == frozenset({"conv1"})


def test_objectives_differing_only_in_numbers_share_a_structure_and_keep_the_numbers_as_params():
    def weighted(c, w, target):
        return 2 * objectives.channel("conv1", c) - w * objectives.L1(constant=target)

    target = np.full([32, 32, 3], 0.5, np.float32)
    other = target.copy()
    other[16, 16] = 0.0
    a, b = weighted(3, 0.1, target), weighted(4, 0.2, other)
    assert a.structure == b.structure and hash(a.structure) == hash(b.structure)
    assert [p.tolist() for p in a.params[:3]] == [2.0, 3, np.float32(0.1).item()]
    np.testing.assert_array_equal(b.params[3], other)  # the array itself, not a hash of it
    assert a != weighted(3, 0.1, target)  # objectives are values: equal only to themselves
    assert objectives.channel("conv1", 3).structure != objectives.channel("conv2", 3).structure
    assert objectives.channel("conv1", 3).structure != objectives.deepdream("conv1").structure
    assert (
        objectives.neuron("conv1", 0).structure != objectives.neuron("conv1", 0, x=1, y=1).structure
    )  # the centre is not a param


def test_objectives_built_by_hand_share_a_structure_only_with_their_own_function():
    def mine(c):
        return objectives.Objective(lambda T: T("conv1")[:, 0, 0, c], frozenset({"conv1"}), "mine")

    first = mine(0)
    assert (first + 1).structure != (mine(0) + 1).structure  # same name and code, another function
    assert (first - objectives.L1()).structure != (mine(2) - objectives.L1()).structure
    same_fn = objectives.Objective(first.fn, frozenset({"conv1"}), "mine")
    assert same_fn.structure == first.structure
    assert (
        objectives.Objective(first.fn, frozenset({"conv1", "conv2"})).structure != first.structure
    )


def test_penalties_on_the_input_image(tiny_model, images):
    x = images.numpy()
    np.testing.assert_allclose(
        values(tiny_model, objectives.L1(constant=0.5), images),
        np.abs(x - 0.5).sum(axis=(1, 2, 3)),
        rtol=1e-5,
    )
    np.testing.assert_allclose(
        values(tiny_model, objectives.L2(), images),
        np.sqrt(1e-6 + (x**2).sum(axis=(1, 2, 3))),
        rtol=1e-5,
    )
    tv = np.abs(np.diff(x, axis=1)).sum(axis=(1, 2, 3)) + np.abs(np.diff(x, axis=2)).sum(
        axis=(1, 2, 3)
    )
    np.testing.assert_allclose(
        values(tiny_model, objectives.total_variation(), images), tv, rtol=1e-4
    )


def test_blur_penalty_is_zero_for_a_flat_image_and_known_for_one_bright_pixel(tiny_model):
    flat = tf.fill([2, 32, 32, 3], 0.3)
    np.testing.assert_allclose(
        values(tiny_model, objectives.blur_input_each_step(), flat), 0, atol=1e-9
    )
    # Lucid's 3x3 kernel: centre 1, ring 8 x 0.5, sum 5. A lone pixel of 1 blurs to 1/5 (off by
    # 0.8) and lights its 8 neighbours to 0.5/5 (off by 0.1): per colour 0.64 + 8 * 0.01.
    dot = np.zeros([1, 32, 32, 3], np.float32)
    dot[0, 10, 20] = 1.0
    got = values(tiny_model, objectives.blur_input_each_step(), tf.constant(dot))
    np.testing.assert_allclose(got, [0.5 * 3 * (0.64 + 8 * 0.01)], rtol=1e-5)


def test_boundary_penalty_is_zero_for_grey_and_counts_only_the_border(tiny_model):
    grey = np.full([1, 64, 64, 3], 0.5, np.float32)
    penalty = objectives.penalize_boundary_complexity([1, 64, 64, 3], w=8)
    np.testing.assert_allclose(values(tiny_model, penalty, tf.constant(grey)), 0, atol=1e-9)
    inside = grey.copy()
    inside[0, 20:44, 20:44] = 1.0  # the 5x5 blur reaches 2 px: the change stays off the border
    np.testing.assert_allclose(values(tiny_model, penalty, tf.constant(inside)), 0, atol=1e-9)
    white = np.ones_like(grey)  # flat, so only the distance from grey: 0.8 * 0.5^2 per value
    border = 64 * 64 - 48 * 48
    np.testing.assert_allclose(
        values(tiny_model, penalty, tf.constant(white)), [-0.8 * 0.25 * 3 * border], rtol=1e-5
    )


def test_boundary_mask_weights_its_own_pixels_and_must_match_the_image_size(tiny_model):
    white = tf.ones([1, 16, 16, 3])
    mask = np.zeros([16, 16], np.float32)
    mask[:3, :] = 1.0  # the top 3 rows
    penalty = objectives.penalize_boundary_complexity([1, 16, 16, 3], mask=mask)
    np.testing.assert_allclose(
        values(tiny_model, penalty, white), [-0.8 * 0.25 * 3 * 48], rtol=1e-5
    )
    with pytest.raises(
        ValueError,
        match=r"shp is for 16x16 images but they are 8x8; give "
        r"shp=\[1, 8, 8, 3\]",
    ):
        values(tiny_model, penalty, tf.ones([1, 8, 8, 3]))
    with pytest.raises(ValueError, match=r"mask is \[H, W\].*got shape \(1, 16, 16\)"):
        objectives.penalize_boundary_complexity([1, 16, 16, 3], mask=mask[None])


def test_diversity_is_b_minus_1_over_b_for_identical_images_and_lower_for_different_ones(
    tiny_model, images
):
    same = tf.repeat(images[:1], 3, axis=0)  # similarity 1 to each of the 2 others, / B = 3
    np.testing.assert_allclose(
        values(tiny_model, objectives.diversity("conv1"), same), 2 / 3, rtol=1e-4
    )
    assert np.all(values(tiny_model, objectives.diversity("conv1"), images) < 2 / 3)


def test_alignment_is_zero_for_identical_images_and_negative_otherwise(tiny_model, images):
    same = tf.repeat(images[:1], 3, axis=0)
    np.testing.assert_allclose(
        values(tiny_model, objectives.alignment("conv1"), same), 0, atol=1e-9
    )
    assert np.all(values(tiny_model, objectives.alignment("conv1"), images) < 0)


def test_channel_interpolate_weights_move_across_the_batch(tiny_model, images, acts):
    got = values(tiny_model, objectives.channel_interpolate("conv1", 0, "conv1", 1), images)
    c0, c1 = (acts["conv1"][..., k].mean(axis=(1, 2)) for k in (0, 1))
    np.testing.assert_allclose(got, [c0[0], (c0[1] + c1[1]) / 2, c1[2]], rtol=1e-5)


def test_channel_out_of_range_names_the_channel_count(tiny_model, images):
    with pytest.raises(ValueError, match=r"8 channels \(valid: 0\.\.7\)"):
        values(tiny_model, objectives.channel("conv1", 8), images)


def test_neuron_position_out_of_range_names_the_valid_range(tiny_model, images):
    with pytest.raises(ValueError, match=r"x in 0\.\.15"):
        values(tiny_model, objectives.neuron("conv2_relu", 0, x=16, y=0), images)
    with pytest.raises(TypeError, match=r"x is a position in the feature map, an int .*got 2\.5"):
        objectives.neuron("conv2_relu", 0, x=2.5)
    with pytest.raises(
        ValueError,
        match=r"total_variation needs a layer with spatial positions "
        r"\[B, H, W, C\]; 'logits' gives shape \(3, 5\)",
    ):
        values(tiny_model, objectives.total_variation("logits"), images)


def test_batch_index_out_of_range_says_how_many_images(tiny_model, images):
    with pytest.raises(ValueError, match="batch of 3 images"):
        values(tiny_model, objectives.channel("conv1", 0, batch=3), images)


@pytest.mark.parametrize(
    "make, error, match",
    [
        (
            lambda: objectives.L1(constant="0.5"),
            ValueError,
            r"L1: constant must be a finite number",
        ),
        (lambda: objectives.L2(epsilon=-1), ValueError, r"epsilon must be a number >= 0"),
        (
            lambda: objectives.penalize_boundary_complexity([1, 64, 64, 3], C="grey"),
            ValueError,
            r"C is the grey level",
        ),
        (
            lambda: objectives.penalize_boundary_complexity(20),
            ValueError,
            r"shp is the image shape \[B, H, W, C\]",
        ),
        (lambda: objectives.alignment("conv1", 0), ValueError, r"decay_ratio must be a number > 0"),
        (lambda: objectives.direction("conv1", [np.nan, 1.0]), ValueError, r"NaN or infinite"),
        (
            lambda: objectives.direction("conv1", [0, 0]),
            ValueError,
            r"all zeros; it has no direction",
        ),
        (lambda: objectives.direction([1, 0], "conv1"), TypeError, r"the layer name first"),
        (
            lambda: objectives.as_objective(lambda T, U: T("conv1")),
            TypeError,
            r"a 'layer:channel' string or a function of T; got function",
        ),
    ],
)
def test_bad_objective_arguments_are_refused_when_built(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_a_border_as_wide_as_half_the_image_is_refused_with_the_widest_that_fits(tiny_model):
    with pytest.raises(ValueError, match=r"w=16 px leaves no inside in 32x32 images; use w <= 15"):
        objectives.penalize_boundary_complexity([1, 32, 32, 3], w=16)


def test_layer_channel_strings_become_channel_objectives():
    parsed, built = objectives.as_objective("conv1:3"), objectives.channel("conv1", 3)
    assert parsed.structure == built.structure and parsed.params == built.params
    with pytest.raises(ValueError, match="layer:channel"):
        objectives.as_objective("conv1")


def test_a_fractional_channel_is_a_type_error_and_a_negative_one_names_the_count(
    tiny_model, images
):
    with pytest.raises(TypeError, match="channel index must be an int; got 1.5"):
        objectives.channel("conv1", 1.5)
    with pytest.raises(ValueError, match="valid: 0"):
        values(tiny_model, objectives.as_objective("conv1:-1"), images)


def test_input_diff_is_the_root_mean_square_difference_from_the_given_image(tiny_model):
    grey = tf.fill([2, 8, 8, 3], 0.5)
    np.testing.assert_allclose(
        values(tiny_model, objectives.input_diff(np.full([8, 8, 3], 0.25)), grey),
        [0.25, 0.25],
        rtol=1e-6,
    )
    per_image = np.stack([np.full([8, 8, 3], 0.5), np.zeros([8, 8, 3])])  # one per image
    half = per_image[1].copy()
    half[:4] = 0.5  # the second image differs by 0.5 in half its values
    np.testing.assert_allclose(
        values(tiny_model, objectives.input_diff(np.stack([per_image[0], half])), grey),
        [0.0, 0.5 * np.sqrt(0.5)],
        rtol=1e-6,
        atol=1e-7,
    )
    with pytest.raises(
        ValueError,
        match=r"orig_img is 8x8 px but the images are 16x16; render at "
        r"its size: param\.image\(8, 8\)",
    ):
        values(tiny_model, objectives.input_diff(np.zeros([8, 8, 3])), tf.zeros([1, 16, 16, 3]))
    with pytest.raises(
        ValueError,
        match=r"images must be in \[0, 1\], got values in \[0, 255\]; "
        r"divide 8-bit images by 255",
    ):
        objectives.input_diff(np.full([8, 8, 3], 255.0) * np.eye(8)[:, :, None])
    with pytest.raises(ValueError, match=r"image \[H, W, 3\] or images \[B, H, W, 3\]"):
        objectives.input_diff(np.zeros([8, 8]))
    with pytest.raises(
        ValueError,
        match=r"orig_img holds 2 images but the batch holds 3; give one "
        r"image for all, or one per image",
    ):
        values(tiny_model, objectives.input_diff(per_image), tf.zeros([3, 8, 8, 3]))
