"""Lucid's own snippets, run on samplevis.

Each test is a cell of Lucid's optvis tutorial (notebooks/tutorial.ipynb), of the optvis README,
of the feature-visualization notebooks or of its recipes, changed only in:
- imports: Lucid's modules are samplevis's (``render`` below is ``samplevis.optvis.optimize`` with tiny
  defaults, see ``render_vis``) and TF1's ``tf.train.AdamOptimizer`` is ``keras.optimizers.Adam``;
- model: the Gabor network of conftest, its layer "gabor_relu" for Lucid's ``mixed4a_pre_relu``
  and the like (four channels instead of hundreds; the spatial mean of the pre-ReLU "gabor" is
  next to nothing for every image, its kernels having zero mean);
- sizes: 32 px images and a few dozen steps, so that each runs in seconds;
- Python 3: ``list(range(...))`` where Lucid adds ranges.
Then it checks what the cell produced.
"""

import numpy as np
import pytest

from samplevis import objectives, param, transform
from samplevis.optvis import optimize

SIZE = 32  # px; Lucid's default image is 128 px
STEPS = 32  # Lucid's default is 512


class render:  # noqa: N801 - stands for Lucid's module lucid.optvis.render
    """Lucid's ``render`` module: samplevis's render_vis with a SIZE px image, STEPS steps and
    seed 0 unless the snippet says otherwise."""

    @staticmethod
    def render_vis(model, objective_f, param_f=None, *args, **kwargs):
        if param_f is None:
            param_f = lambda: param.image(SIZE)  # noqa: E731 - as Lucid's examples write it
        if len(args) < 3:  # no positional thresholds
            kwargs.setdefault("thresholds", (STEPS,))
        kwargs.setdefault("seed", 0)
        return optimize.render_vis(model, objective_f, param_f, *args, **kwargs)


@pytest.fixture(scope="module")
def model(gabor_model):
    return gabor_model


def channel_means(model, layer: str, images: np.ndarray) -> np.ndarray:
    """Mean activation of every channel of `layer` for each image, [B, C]."""
    return model.activations(images, [layer])[layer].mean(axis=(1, 2))


def check_images(images: list, count: int, shape: tuple) -> np.ndarray:
    """The last of `count` renderings, after checking each is float [B, H, W, 3] in [0, 1]."""
    assert len(images) == count
    for image in images:
        assert image.shape == shape and image.dtype == np.float32
        assert 0.0 <= image.min() and image.max() <= 1.0
    return images[-1]


# A grey image gives exactly 0 on every "gabor_relu" channel (the kernels have zero mean), so a
# value above 0 is what the optimization gained.


# ----- notebooks/tutorial.ipynb ------------------------------------------------------------------


def test_tutorial_visualizing_a_neuron_is_easy(model):
    # Visualizing a neuron is easy!
    _ = render.render_vis(model, "gabor_relu:1")
    assert channel_means(model, "gabor_relu", check_images(_, 1, (1, SIZE, SIZE, 3)))[0, 1] > 0.005


def test_tutorial_a_more_explicit_objective_gives_the_same_images(model):
    # Let's visualize another neuron using a more explicit objective:
    obj = objectives.channel("gabor_relu", 2)
    _ = render.render_vis(model, obj)
    np.testing.assert_array_equal(_[-1], render.render_vis(model, "gabor_relu:2")[-1])


def test_tutorial_objectives_add(model):
    # Or we could do something weirder:
    # (Technically, objectives are a class that implements addition.)
    channel = lambda n: objectives.channel("gabor_relu", n)  # noqa: E731 - as Lucid's tutorial
    obj = channel(1) + channel(3)
    _ = render.render_vis(model, obj)
    means = channel_means(model, "gabor_relu", check_images(_, 1, (1, SIZE, SIZE, 3)))[0]
    assert means[1] + means[3] > 0.005


@pytest.mark.parametrize("cell", ["none", "jitter 2", "all the stops"])
def test_tutorial_transformation_robustness(model, cell):
    if cell == "none":
        # No transformation robustness
        transforms = []
    elif cell == "jitter 2":
        # Jitter 2
        transforms = [transform.jitter(2)]
    else:
        # Breaking out all the stops
        transforms = [
            transform.pad(16),
            transform.jitter(8),
            transform.random_scale([n / 100.0 for n in range(80, 120)]),
            transform.random_rotate(
                list(range(-10, 10)) + list(range(-5, 5)) + 10 * list(range(-2, 2))
            ),
            transform.jitter(2),
        ]
    _ = render.render_vis(model, "gabor_relu:1", transforms=transforms)
    assert channel_means(model, "gabor_relu", check_images(_, 1, (1, SIZE, SIZE, 3)))[0, 1] > 0.005


@pytest.mark.parametrize("fft", [False, True])
def test_tutorial_alternate_parameterizations(model, fft):
    # Using alternate parameterizations is one of the primary ingredients for
    # effective visualization
    param_f = lambda: param.image(SIZE, fft=fft, decorrelate=fft)  # noqa: E731 - as Lucid's tutorial
    _ = render.render_vis(model, "gabor_relu:2", param_f)
    assert channel_means(model, "gabor_relu", check_images(_, 1, (1, SIZE, SIZE, 3)))[0, 2] > 0.005


# ----- lucid/optvis/README.md --------------------------------------------------------------------


def test_readme_a_different_optimizer(model):
    import keras

    obj = objectives.channel("gabor_relu", 2)
    opt = keras.optimizers.Adam()  # Lucid: tf.train.AdamOptimizer(), learning rate 0.001
    _ = render.render_vis(model, obj, optimizer=opt)
    slow = check_images(_, 1, (1, SIZE, SIZE, 3))
    fast = render.render_vis(model, obj)[-1]  # Lucid's default learning rate, 0.05
    grey = np.full_like(slow, 0.5)
    assert np.abs(slow - grey).mean() < np.abs(fast - grey).mean()


# ----- notebooks/feature-visualization ------------------------------------------------------------


def test_negative_neurons(model):
    param_f = lambda: param.image(SIZE, batch=2)  # noqa: E731
    obj = objectives.channel("gabor_relu", 0, batch=1) - objectives.channel(
        "gabor_relu", 0, batch=0
    )
    _ = render.render_vis(model, obj, param_f)
    means = channel_means(model, "gabor_relu", check_images(_, 1, (2, SIZE, SIZE, 3)))
    assert means[1, 0] > 0.005 and means[0, 0] < 0.5 * means[1, 0]  # ReLU'd: 0 at the least


def test_neuron_diversity(model):
    param_f = lambda: param.image(SIZE, batch=4)  # noqa: E731
    obj = objectives.channel("gabor_relu", 1) - 1e2 * objectives.diversity("gabor_relu")
    _ = render.render_vis(model, obj, param_f)
    images = check_images(_, 1, (4, SIZE, SIZE, 3))
    assert len({image.tobytes() for image in images}) == 4


def test_neuron_interaction(model):
    neuron1 = ("gabor_relu", 0)
    neuron2 = ("gabor_relu", 2)
    C = lambda neuron: objectives.channel(*neuron)  # noqa: E731,N806

    one = render.render_vis(model, C(neuron1))
    two = render.render_vis(model, C(neuron2))
    both = render.render_vis(model, C(neuron1) + C(neuron2))
    for _, channels in ((one, [0]), (two, [2]), (both, [0, 2])):
        means = channel_means(model, "gabor_relu", check_images(_, 1, (1, SIZE, SIZE, 3)))[0]
        assert means[channels].sum() > 0.005


def test_neuron_interaction_direction(model):
    vec = np.random.default_rng(0).standard_normal(4)  # Lucid: np.random.randn(528)
    obj = objectives.direction("gabor_relu", vec)
    _ = render.render_vis(model, obj)
    means = channel_means(model, "gabor_relu", check_images(_, 1, (1, SIZE, SIZE, 3)))[0]
    assert means @ vec > 0.005


def test_regularization_pixel_space_without_robustness(model):
    import keras

    LEARNING_RATE = 0.05  # noqa: N806
    optimizer = keras.optimizers.Adam(LEARNING_RATE)
    imgs = render.render_vis(
        model,
        "gabor_relu:1",
        optimizer=optimizer,
        transforms=[],
        param_f=lambda: param.image(SIZE, fft=False, decorrelate=False),
        thresholds=(1, 8, 32),
        verbose=False,
    )
    check_images(imgs, 3, (1, SIZE, SIZE, 3))
    gained = [channel_means(model, "gabor_relu", img)[0, 1] for img in imgs]
    assert gained[0] < gained[1] < gained[2]


def test_regularization_penalties(model):
    L1 = -0.05  # noqa: N806
    TV = -0.25  # noqa: N806
    BLUR = -1.0  # noqa: N806

    obj = objectives.channel("gabor_relu", 1)
    obj += L1 * objectives.L1(constant=0.5)
    obj += TV * objectives.total_variation()
    obj += BLUR * objectives.blur_input_each_step()

    imgs = render.render_vis(
        model,
        obj,
        transforms=[],
        param_f=lambda: param.image(SIZE, fft=False, decorrelate=False),
        thresholds=(1, 8, 32),
        verbose=False,
    )
    penalized = check_images(imgs, 3, (1, SIZE, SIZE, 3))
    plain = render.render_vis(
        model,
        objectives.channel("gabor_relu", 1),
        transforms=[],
        param_f=lambda: param.image(SIZE, fft=False, decorrelate=False),
        thresholds=(32,),
    )[-1]
    assert np.abs(penalized - 0.5).sum() < np.abs(plain - 0.5).sum()  # L1 pulls towards grey


def test_regularization_transformation_robustness(model):
    JITTER = 1  # noqa: N806
    ROTATE = 5  # noqa: N806
    SCALE = 1.1  # noqa: N806

    transforms = [
        transform.pad(2 * JITTER),
        transform.jitter(JITTER),
        transform.random_scale([SCALE ** (n / 10.0) for n in range(-10, 11)]),
        transform.random_rotate(range(-ROTATE, ROTATE + 1)),
    ]

    imgs = render.render_vis(
        model,
        "gabor_relu:1",
        transforms=transforms,
        param_f=lambda: param.image(SIZE),
        thresholds=(1, 8, 32),
        verbose=False,
    )
    check_images(imgs, 3, (1, SIZE, SIZE, 3))
    assert channel_means(model, "gabor_relu", imgs[-1])[0, 1] > 0.005


def test_regularization_decorrelation_and_robustness(model):
    import keras

    LEARNING_RATE = 0.05  # noqa: N806
    DECORRELATE = True  # noqa: N806
    ROBUSTNESS = True  # noqa: N806

    # `fft` parameter controls spatial decorrelation
    # `decorrelate` parameter controls channel decorrelation
    param_f = lambda: param.image(SIZE, fft=DECORRELATE, decorrelate=DECORRELATE)  # noqa: E731

    if ROBUSTNESS:
        transforms = transform.standard_transforms
    else:
        transforms = []

    optimizer = keras.optimizers.Adam(LEARNING_RATE)

    imgs = render.render_vis(
        model,
        "gabor_relu:1",
        optimizer=optimizer,
        transforms=transforms,
        param_f=param_f,
        thresholds=(1, 8, 32),
        verbose=False,
    )
    check_images(imgs, 3, (1, SIZE, SIZE, 3))
    assert channel_means(model, "gabor_relu", imgs[-1])[0, 1] > 0.005


# ----- CPPN and fixed-size models (differentiable-parameterizations, lucid.recipes) ---------------


def test_cppn_parameterization(model):
    import keras

    param_f = lambda: param.cppn(SIZE)  # noqa: E731
    optimizer = keras.optimizers.Adam(0.005)  # Lucid: tf.train.AdamOptimizer(0.005)
    _ = render.render_vis(
        model, "gabor_relu:1", param_f, optimizer, transforms=[], thresholds=(1, 16)
    )
    check_images(_, 2, (1, SIZE, SIZE, 3))
    first, last = (channel_means(model, "gabor_relu", img)[0, 1] for img in _)
    assert last > first


def test_cppn_batch_is_the_second_argument(model):
    _ = render.render_vis(
        model, "gabor_relu:1", lambda: param.cppn(SIZE, 2), transforms=[], thresholds=(2,)
    )
    check_images(_, 1, (2, SIZE, SIZE, 3))


def test_standard_transforms_plus_crop_or_pad_to_a_fixed_input():
    from samplevis import Model

    from conftest import gabor_keras_model

    fixed = Model(gabor_keras_model(input_shape=(24, 32, 3)), name="fixed_gabor")
    w, h = 32, 24
    # lucid.recipes.feature_visualization
    transforms = transform.standard_transforms + [transform.crop_or_pad_to(h, w)]
    assert len(transforms) == 6 and len(transform.standard_transforms) == 5
    assert transform.output_size(transforms, h, w) == (24, 32)
    _ = render.render_vis(fixed, "gabor_relu:1", lambda: param.image(w, h), transforms=transforms)
    assert channel_means(fixed, "gabor_relu", check_images(_, 1, (1, h, w, 3)))[0, 1] > 0.005


def test_lucid_one_argument_transforms(model):
    import tensorflow as tf

    def flip(t_image):  # a transform in Lucid's form: a function of the image only
        return tf.reverse(t_image, [2])

    _ = render.render_vis(
        model, "gabor_relu:1", transforms=[transform.pad(4), flip, transform.jitter(2)]
    )
    assert channel_means(model, "gabor_relu", check_images(_, 1, (1, SIZE, SIZE, 3)))[0, 1] > 0.005


# ----- features render_vis and the objectives are to gain -----------------------------------------


def test_a_plain_function_of_T_is_an_objective(tiny_model):
    # notebooks/misc/attribution_caricatures.ipynb
    class_n = 2
    obj = lambda T: T("logits")[:, class_n]  # noqa: E731
    _ = render.render_vis(tiny_model, obj, transforms=[], thresholds=(1, 32))
    check_images(_, 2, (1, SIZE, SIZE, 3))
    first, last = (tiny_model(img)[0, class_n] for img in _)
    assert last > first


def test_class_logit_takes_the_layer_first(tiny_model):
    obj = objectives.class_logit("logits", 3)
    _ = render.render_vis(tiny_model, obj, transforms=[], thresholds=(1, 32))
    check_images(_, 2, (1, SIZE, SIZE, 3))
    first, last = (tiny_model(img)[0, 3] for img in _)
    assert last > first


def test_print_objectives_prints_each_at_every_threshold(model, capsys):
    printed = objectives.deepdream("gabor_relu")
    render.render_vis(
        model,
        "gabor_relu:1",
        transforms=[],
        thresholds=(4, 8),
        print_objectives=[printed],
        verbose=True,
    )
    assert capsys.readouterr().out.lower().count("deepdream") >= 2  # once per threshold
    render.render_vis(model, "gabor_relu:1", transforms=[], thresholds=(4, 8), verbose=False)
    assert capsys.readouterr().out == ""


def test_render_vis_takes_lucids_positional_order(model):
    param_f = lambda: param.image(SIZE)  # noqa: E731
    a = render.render_vis(model, "gabor_relu:1", param_f, None, [], (4, 8), None, False, True, True)
    b = render.render_vis(model, "gabor_relu:1", param_f, None, [], (4, 8), None, False, True, True)
    check_images(a, 2, (1, SIZE, SIZE, 3))
    np.testing.assert_array_equal(a[-1], b[-1])


def test_use_fixed_seed_gives_identical_renderings(model):
    # tests/optvis/test_integration.py
    objective_f = objectives.neuron("gabor_relu", 1)
    param_f = lambda: param.image(SIZE, decorrelate=True, fft=True)  # noqa: E731
    rendering = [
        optimize.render_vis(
            model, objective_f, param_f, verbose=False, thresholds=(1, 8), use_fixed_seed=True
        )
        for _ in range(2)
    ]
    start_image, end_image = rendering[0]
    assert (start_image != end_image).any()
    np.testing.assert_array_equal(rendering[0][-1], rendering[1][-1])
