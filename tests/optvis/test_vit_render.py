"""render_vis on a vision transformer's token layers: known optima of the hand-built ViT's planted
filters, the ViT transforms as the default there, every objective on a token layer."""

import warnings

import numpy as np
import pytest
import tensorflow as tf

import samplevis
from samplevis import objectives, param, transform
from samplevis.optvis import evaluation
from samplevis.optvis.renderer import Renderer

import vit_models
from vit_models import FILTERS, PATCH, SIZE


def _grey(image: np.ndarray) -> np.ndarray:
    """The grey image the network sees [SIZE, SIZE] (area-averaged to its input)."""
    g = image.mean(-1)[None, :, :, None]
    return tf.image.resize(g, (SIZE, SIZE), method="area").numpy()[0, :, :, 0]


def _correlation(window: np.ndarray, f: np.ndarray) -> float:
    w = window - window.mean()
    return float((w * f).sum() / (np.linalg.norm(w) * np.linalg.norm(f)))


def _border_ratio(image: np.ndarray) -> float:
    """The grey image's energy across patch borders (squared differences of the pixel pairs
    that straddle one) over its energy elsewhere."""
    g = _grey(image)
    dx, dy = (g[:, 1:] - g[:, :-1]) ** 2, (g[1:] - g[:-1]) ** 2
    on = np.arange(dx.shape[1]) % PATCH == PATCH - 1
    return float((dx[:, on].mean() + dy[on].mean()) / (dx[:, ~on].mean() + dy[~on].mean()))


def test_token_layers_default_to_the_vit_transforms_of_their_patch_and_cnns_keep_lucids(
    toy_vit, tiny_model
):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 128 px images shrink to the toy's 64 px input
        on_tokens = Renderer.cached(toy_vit, "mlp_fc1:6")  # the default 128 px image
    # an 8 px patch of the 64 px input is 16 px of the 128 px image: roll by up to 8 each way
    assert on_tokens.transform.transforms == transform.vit_transforms(16)
    assert transform.vit_transforms(16) == (transform.Roll(8), transform.ColorShift())
    convolution = Renderer.cached(toy_vit, objectives.channel("patch_embed", 0), param.image(SIZE))
    assert convolution.transform.transforms == transform.default_transforms()
    assert Renderer.cached(tiny_model, "conv1:0").transform.transforms == (
        transform.default_transforms()
    )


@pytest.mark.slow
def test_a_neuron_at_a_patch_of_a_planted_edge_renders_the_edge_in_that_patch(toy_vit):
    # mlp_fc1 unit 6 is gelu(edge . patch + 1), unit 7 gelu(-edge . patch + 1)
    at = ((2, 5), (6, 1))
    objective = objectives.neuron("mlp_fc1", 6, *at[0], batch=0) + objectives.neuron(
        "mlp_fc1", 7, *at[1], batch=1
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Lucid's default 128 px images, shrunk to 64
        images = samplevis.render_vis(
            toy_vit, objective, param.image(128, batch=2), thresholds=(256,), seed=0, progress=False
        )[-1]
    for image, (x, y), sign in zip(images, at, (1, -1)):
        box = _grey(image)[y * PATCH : (y + 1) * PATCH, x * PATCH : (x + 1) * PATCH]
        assert _correlation(box, sign * FILTERS[3]) >= 0.8, (x, y)


@pytest.mark.slow
def test_a_position_blind_units_optimum_keeps_its_energy_off_the_patch_borders(toy_vit):
    # mlp_fc2's ENERGY channel answers to a vertical grating at any phase, at every patch
    unit = f"mlp_fc2:{vit_models.ENERGY}"
    batch = param.image(SIZE, batch=3)
    default = samplevis.render_vis(toy_vit, unit, batch, thresholds=(128,), seed=0, progress=False)
    fixed = samplevis.render_vis(
        toy_vit, unit, batch, transforms=[], thresholds=(128,), seed=0, progress=False
    )
    on_grid = np.mean([_border_ratio(image) for image in fixed[-1]])
    rolled = np.mean([_border_ratio(image) for image in default[-1]])
    assert on_grid > 3.0  # without moving, each patch is optimized alone: edges on the grid
    assert rolled < 1.5, rolled


@pytest.mark.parametrize(
    "objective",
    [
        objectives.channel("mlp_fc1", 2),
        objectives.neuron("mlp_fc1", 2, x=1, y=6),
        objectives.class_token("block_out", vit_models.POOLED),
        objectives.head("attention", 1),
        objectives.head("attention", 0, 0),
        objectives.direction("block_out", np.arange(vit_models.WIDTH) - 4.0),
        objectives.direction_neuron("mlp_fc1", np.ones(vit_models.HIDDEN), x=3, y=3),
        objectives.deepdream("ln_2"),
        objectives.channel("mlp_fc1", 0) - 1e-2 * objectives.diversity("mlp_fc1"),
        objectives.channel("mlp_fc1", 0) + objectives.alignment("mlp_fc1"),
        objectives.channel_interpolate("mlp_fc1", 0, "block_out", 1),
        objectives.channel("mlp_fc1", 0) - 1e-3 * objectives.L1("mlp_fc1"),
        -objectives.total_variation("mlp_fc1"),
        objectives.channel("mlp_fc1/tokens", 5),
    ],
    ids=lambda o: o.name[:40],
)
def test_every_objective_reads_a_token_layer_with_a_gradient(toy_vit, objective):
    image = tf.constant(param.image(SIZE, batch=2).build(1)[1]())
    with tf.GradientTape() as tape:
        tape.watch(image)
        values = evaluation.objective_values(toy_vit, objective, image)
        total = tf.reduce_sum(values)
    assert values.shape == (2,) and np.all(np.isfinite(values))
    assert float(tf.reduce_sum(tape.gradient(total, image) ** 2)) > 0


def test_channel_averages_the_patches_and_class_token_and_head_read_their_own(toy_vit):
    x = np.random.default_rng(3).uniform(0, 1, (2, SIZE, SIZE, 3)).astype(np.float32)
    raw = toy_vit.activations(x, ["mlp_fc1/tokens", "attention/heads"])
    tokens, heads = raw["mlp_fc1/tokens"], raw["attention/heads"]

    def value(objective):
        objective = objectives.as_objective(objective)
        return evaluation.objective_values(toy_vit, objective, tf.constant(x)).numpy()

    np.testing.assert_allclose(value("mlp_fc1:4"), tokens[:, 1:, 4].mean(1), rtol=1e-5)
    np.testing.assert_allclose(value(objectives.class_token("mlp_fc1", 4)), tokens[:, 0, 4])
    # through the attention, the class token holds filter 0's mean response over the tokens
    embed = toy_vit.activations(x, "patch_embed")["patch_embed"][..., 0]
    pooled = objectives.class_token("attention_add", vit_models.POOLED)
    np.testing.assert_allclose(value(pooled), embed.sum((1, 2)) / 65, rtol=0.02)
    np.testing.assert_allclose(
        value(objectives.head("attention", 1, 0)), heads[:, :, :, 1, 0].mean((1, 2)), rtol=1e-5
    )
    np.testing.assert_allclose(
        value(objectives.head("attention", 1)), (heads[..., 1, :] ** 2).mean((1, 2, 3)), rtol=1e-5
    )


def test_roll_wraps_whole_pixels_around_and_color_shift_is_affine_per_channel():
    images = np.random.default_rng(5).uniform(0, 1, (2, 12, 10, 3)).astype(np.float32)
    shifts = set()
    for s in range(40):
        rolled = transform.Roll(3)(images, tf.constant([s, 1])).numpy()
        found = [
            (dy, dx)
            for dy in range(-3, 4)
            for dx in range(-3, 4)
            if np.array_equal(rolled, np.roll(images, (dy, dx), axis=(1, 2)))
        ]
        assert len(found) == 1  # a roll of at most 3 px each way, the same for both images
        shifts.add(found[0])
    assert len(shifts) > 20  # the draws cover the 49 shifts
    shifted = transform.ColorShift()(images, tf.constant([0, 1])).numpy()
    for c in range(3):  # (x - 0.5) * gain + 0.5 + level, gain in [1/e, e], |level| <= 0.23
        gain, level = np.polyfit(images[..., c].ravel(), shifted[..., c].ravel(), 1)
        np.testing.assert_allclose(
            shifted[..., c], gain * images[..., c] + level, rtol=1e-5, atol=1e-5
        )
        assert np.exp(-1) <= gain <= np.e and abs(level - 0.5 * (1 - gain)) <= 0.23 + 1e-6
