"""Token layers: a vision transformer's [B, N, C] layers read as their patches on the grid, the
class token, all tokens and attention heads; layers inside layers by their path; errors that
name what to pass."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import samplevis
from samplevis import objectives
from samplevis.models import UnknownLayerError

import vit_models
from vit_models import GRID, PATCH, SIZE


def _images(count: int = 2, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, (count, SIZE, SIZE, 3)).astype(np.float32)


def test_a_token_layer_reads_as_its_patches_on_the_grid_after_the_class_token(toy_vit):
    x = _images()
    acts = toy_vit.activations(x, ["mlp_fc1", "mlp_fc1/tokens", "mlp_fc1/class_token"])
    tokens = acts["mlp_fc1/tokens"]
    assert tokens.shape == (2, 1 + GRID * GRID, vit_models.HIDDEN)
    assert acts["mlp_fc1"].shape == (2, GRID, GRID, vit_models.HIDDEN)
    for row, col in ((0, 0), (2, 5), (7, 7)):  # token 1 + row * cols + col is patch (col, row)
        np.testing.assert_array_equal(acts["mlp_fc1"][:, row, col], tokens[:, 1 + row * GRID + col])
    np.testing.assert_array_equal(acts["mlp_fc1/class_token"], tokens[:, 0])
    # the patch embedding's channel 6 is filter 3 on each patch: the grid keeps it in place
    embed = toy_vit.activations(x, "patch_embed")["patch_embed"][..., 6]
    fc1 = acts["mlp_fc1"][..., 6]  # gelu(response + 1)
    np.testing.assert_allclose(fc1, keras.ops.gelu(embed + 1.0), rtol=0.05, atol=0.05)


def test_the_grid_comes_from_the_patch_embedding_or_the_patch_size_given(toy_vit):
    assert toy_vit.patch_size == (PATCH, PATCH)
    info = {row.name: row for row in toy_vit.layers_info()}
    assert info["class_token"].tokens.describe() == "8x8 patches + 1 token"
    assert info["patch_tokens"].tokens.describe() == "8x8 patches"
    assert info["patch_embed"].tokens is None  # a convolution's [H, W, C] has its own positions
    assert toy_vit.feature_shape("mlp_fc1") == (GRID, GRID, vit_models.HIDDEN)
    assert toy_vit.feature_shape("mlp_fc1/class_token") == (vit_models.HIDDEN,)
    assert toy_vit.feature_shape("attention/heads") == (GRID, GRID, 2, 4)
    given = samplevis.Model(vit_models.keras_vit(), patch_size=(8, 8))
    assert given.token_grid("mlp_fc1") == toy_vit.token_grid("mlp_fc1")
    with pytest.raises(ValueError, match=r"patch_size is the side of a patch in px .* got 0"):
        samplevis.Model(vit_models.keras_vit(), patch_size=0)


def test_registers_and_no_class_token_are_counted_ahead_of_the_patches():
    registers = vit_models.build(class_tokens=5)
    assert registers.token_grid("mlp_fc1").prefix == 5
    x = _images(1)
    acts = registers.activations(x, ["mlp_fc1", "mlp_fc1/tokens"])
    np.testing.assert_array_equal(acts["mlp_fc1"][0, 1, 2], acts["mlp_fc1/tokens"][0, 5 + 8 + 2])
    bare = vit_models.build(class_tokens=0)
    assert bare.token_grid("mlp_fc1").prefix == 0
    with pytest.raises(ValueError, match=r"layer 'mlp_fc1' has no class token: its 64 tokens are"):
        bare.activations(x, "mlp_fc1/class_token")


def test_a_token_layer_off_the_grid_gets_one_line_naming_patch_size(toy_vit):
    wrong = samplevis.Model(vit_models.keras_vit(), patch_size=5)  # 12 x 12 = 144 patches: no
    assert wrong.token_grid("mlp_fc1") is None
    assert wrong.activations(_images(1), "mlp_fc1")["mlp_fc1"].shape == (1, 65, 8)
    message = r"layer 'mlp_fc1' gives 65 tokens \[B, N, C\] that are not on the model's patch grid"
    fix = r".*samplevis\.Model\(keras_model, patch_size=P\)"
    for objective in (objectives.neuron("mlp_fc1", 0), objectives.total_variation("mlp_fc1")):
        with pytest.raises(ValueError, match=message + fix) as error:
            samplevis.render_vis(
                wrong, objective, samplevis.param.image(SIZE), thresholds=(1,), progress=False
            )
        assert "\n" not in str(error.value)
    with pytest.raises(ValueError, match=message + fix):
        samplevis.dataset_examples(
            wrong, objectives.neuron("mlp_fc1", 0), images=_images(2), progress=False
        )
    # the channel, a mean over tokens, needs no grid
    assert samplevis.render_vis(
        wrong, "mlp_fc1:0", samplevis.param.image(SIZE), thresholds=(1,), progress=False
    )[0].shape


def test_attention_heads_are_each_heads_output_before_the_output_projection(toy_vit):
    x = _images(1)
    acts = toy_vit.activations(x, ["attention/heads", "patch_embed"])
    heads = acts["attention/heads"]  # [1, 8, 8, heads, dim]
    # queries and keys are 0, so every token averages the values of all 65 tokens; head h's
    # channel 0 is filter h's response (0 for the class token), the others 0
    for h in range(2):
        expected = acts["patch_embed"][0, :, :, 2 * h].sum() / 65
        np.testing.assert_allclose(heads[0, :, :, h, 0], expected, rtol=0.02, atol=1e-3)
        np.testing.assert_allclose(heads[0, :, :, h, 1:], 0.0, atol=1e-6)
    with pytest.raises(ValueError, match=r"'mlp_fc1' has no attention heads to read"):
        toy_vit.check_layers(["mlp_fc1/heads"])


def test_names_inside_layers_are_checked_like_layers_with_the_closest_named(toy_vit):
    with pytest.raises(UnknownLayerError, match=r"Closest layer names: attention/query"):
        toy_vit.check_layers(["attention/quer"])
    shape = rf"\(8, 8, {vit_models.WIDTH}\)"
    with pytest.raises(ValueError, match=rf"'patch_embed' gives shape {shape}, not tokens"):
        toy_vit.check_layers(["patch_embed/class_token"])
    assert "attention/attention_output" in toy_vit.layer_names


def test_the_receptive_field_of_a_patch_is_its_own_box(toy_vit):
    field = toy_vit.receptive_field("mlp_fc1", SIZE, SIZE)
    assert field.box(5, 2, SIZE, SIZE) == (2 * PATCH, 5 * PATCH, 3 * PATCH, 6 * PATCH)
    assert toy_vit.receptive_field("mlp_fc1/class_token", SIZE, SIZE) is None


def test_neuron_at_a_patch_before_attention_has_its_gradient_inside_that_patch(toy_vit):
    image = tf.constant(samplevis.param.image(SIZE).build(0)[1]())  # a first step's image
    for layer, x, y in (("ln_1", 2, 5), ("class_token", 7, 0), ("mlp_fc1", 0, 3)):
        with tf.GradientTape() as tape:
            tape.watch(image)
            value = toy_vit.features(image, layer)[layer][:, y, x, 6]
        energy = tf.reduce_sum(tape.gradient(value, image) ** 2, axis=-1)[0].numpy()
        inside = energy[y * PATCH : (y + 1) * PATCH, x * PATCH : (x + 1) * PATCH].sum()
        assert inside / energy.sum() >= 0.9, (layer, inside / energy.sum())
