"""KerasHub image backbones, built from small configs with random weights (no download): fed as
their image converters feed them, loaded by preset from a folder, their token layers on their
grids (CLIP's class token, SigLIP's none, DINOv2's registers), and every kind of run on a ViT."""

import numpy as np
import pytest
import tensorflow as tf

import samplevis
from samplevis import objectives, param, zoo
from samplevis.atlas import plan

keras_hub = pytest.importorskip("keras_hub")

SIZE, PATCH = 32, 4
SMALL = dict(num_heads=2, hidden_dim=16)  # two heads of 8 channels
MLP = "vit_encoder/transformer_block_1/mlp/dense_1"


def _images(count: int = 2, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, (count, SIZE, SIZE, 3)).astype(np.float32)


@pytest.fixture(scope="module")
def hub_vit():
    """(a 2-block ViTBackbone with random weights, its converter, the samplevis Model)."""
    import keras

    keras.utils.set_random_seed(0)
    vit = keras_hub.models.ViTBackbone(
        image_shape=(SIZE, SIZE, 3), patch_size=PATCH, num_layers=2, mlp_dim=32, **SMALL
    )
    converter = keras_hub.layers.ViTImageConverter(
        image_size=(SIZE, SIZE), scale=1 / 127.5, offset=-1.0
    )
    return vit, converter, zoo.from_keras_hub(vit, converter, name="hub_vit")


def test_a_backbone_is_fed_as_its_image_converter_feeds_it(hub_vit):
    _, converter, model = hub_vit
    x = _images()
    np.testing.assert_allclose(model.to_input(x), converter(255 * x), rtol=1e-5, atol=1e-5)
    dino = keras_hub.models.DINOV2Backbone(
        patch_size=PATCH,
        num_layers=1,
        intermediate_dim=32,
        image_shape=(SIZE, SIZE, 3),
        position_embedding_shape=(SIZE, SIZE, 3),
        num_register_tokens=4,
        **SMALL,
    )
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])  # ImageNet's
    per_channel = keras_hub.layers.DINOV2ImageConverter(
        image_size=(SIZE, SIZE), scale=list(1 / (255 * std)), offset=list(-mean / std)
    )
    dino_model = zoo.from_keras_hub(dino, per_channel)
    np.testing.assert_allclose(dino_model.to_input(x), per_channel(255 * x), rtol=1e-5, atol=1e-5)
    # DINOv2 puts its class token and four registers ahead of the patches
    assert dino_model.token_grid("encoder/layers_0/mlp/fc1").prefix == 5


def test_a_preset_folder_loads_offline_by_name_and_as_a_model_spec(tmp_path, hub_vit):
    vit, converter, model = hub_vit
    vit.save_to_preset(str(tmp_path / "tiny_vit"))
    converter.save_to_preset(str(tmp_path / "tiny_vit"))
    x = _images()
    for loaded in (
        zoo.keras_hub(str(tmp_path / "tiny_vit")),
        zoo.load(f"keras_hub:{tmp_path / 'tiny_vit'}"),
    ):
        assert loaded.name == "tiny_vit" and loaded.value_range == (0.0, 255.0)
        np.testing.assert_allclose(
            loaded.activations(x, MLP)[MLP], model.activations(x, MLP)[MLP], rtol=1e-5, atol=1e-5
        )


def test_clip_has_a_class_token_and_siglip_none_whatever_its_declared_shape():
    clip = keras_hub.models.CLIPVisionEncoder(
        patch_size=PATCH, num_layers=1, intermediate_dim=32, image_shape=(SIZE, SIZE, 3), **SMALL
    )
    siglip = keras_hub.models.SigLIPVisionEncoder(
        patch_size=PATCH, num_layers=1, intermediate_dim=32, image_shape=(SIZE, SIZE, 3), **SMALL
    )
    clip_grid = zoo.from_keras_hub(clip).token_grid("encoder_block_0/dense_1")
    siglip_model = zoo.from_keras_hub(siglip)
    assert (clip_grid.rows, clip_grid.cols, clip_grid.prefix) == (8, 8, 1)
    # SigLIP's embedding declares 65 tokens but gives 64, the patches alone: read as they run
    assert siglip_model.keras_model.get_layer("embedding").output.shape[1] == 65
    assert siglip_model.token_grid("encoder_block_0/mlp/fc1").prefix == 0


def test_a_random_weight_vit_optimizes_ranks_examples_and_keeps_a_patch_neuron_local(hub_vit):
    _, _, model = hub_vit
    images = samplevis.render_vis(
        model, f"{MLP}:3", param.image(SIZE), thresholds=(4,), seed=0, progress=False
    )
    assert images[-1].shape == (1, SIZE, SIZE, 3)
    found = samplevis.dataset_examples(
        model, objectives.neuron(MLP, 3, x=5, y=2), images=_images(6), top=3, progress=False
    )
    assert all(box == (20, 8, 24, 12) for _, _, box in found.ranked(found.units[0].name))
    # the patch embedding comes before any attention: a patch's neuron reads its own pixels
    image = tf.constant(_images(1, seed=3))
    with tf.GradientTape() as tape:
        tape.watch(image)
        value = model.features(image, "vit_patching_and_embedding")["vit_patching_and_embedding"]
        picked = value[:, 2, 5, 0]
    energy = tf.reduce_sum(tape.gradient(picked, image) ** 2, -1)[0].numpy()
    assert energy[8:12, 20:24].sum() >= 0.9 * energy.sum()


@pytest.mark.slow
def test_a_random_weight_vit_samples_and_makes_an_atlas(tmp_path, hub_vit):
    _, _, model = hub_vit
    result = samplevis.render(
        model,
        f"{MLP}:3",
        param_f=param.image(SIZE, batch=2),
        hmc_opts=dict(
            num_results=2, num_chains=2, optimize_steps=8, num_burnin_steps=4, search_rounds=0
        ),  # the facet search on a token layer is test_cli_vit's
        seed=0,
        progress=False,
    )
    assert result.images.shape == (2, 2, SIZE, SIZE, 3)
    # layers="all": each block's MLP hidden units, a Dense(gelu) inside the encoder
    assert plan.activation_layers(model) == [
        f"vit_encoder/transformer_block_{k}/mlp/dense_1" for k in (1, 2)
    ]
    samplevis.atlas(model, [MLP], channels=[0, 1], steps=4, size=SIZE, out=tmp_path, progress=False)
    # the layer's folder is its path with "_" for "/"
    folder = tmp_path / MLP.replace("/", "_")
    assert sorted(p.name for p in folder.glob("*.png")) == ["0.png", "1.png"]
