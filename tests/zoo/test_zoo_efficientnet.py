"""EfficientNet-Lite0 with the packaged ImageNet weights: structure, numerics, classifications."""

import os

import numpy as np
import pytest
import skimage.data
import skimage.io
import tensorflow as tf

from samplevis.zoo.efficientnet_lite0 import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    build_keras_model,
    efficientnet_lite0,
    packaged_weights_path,
)
from samplevis.zoo.labels import label_index
from samplevis.zoo.torch_pickle import load_legacy_state_dict

PHOTO_DIR = os.path.dirname(skimage.data.__file__)


def _photo(filename: str) -> np.ndarray:
    """A scikit-image sample photo as float32 [1, 224, 224, 3] in [0, 1] (whole frame, resized)."""
    img = skimage.io.imread(os.path.join(PHOTO_DIR, filename))
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=-1)
    img = img[..., :3].astype(np.float32) / 255.0
    return tf.image.resize(img[None], (224, 224), antialias=True).numpy()


@pytest.fixture(scope="module")
def state_dict():
    return load_legacy_state_dict(packaged_weights_path())


@pytest.fixture(scope="module")
def model():
    return efficientnet_lite0()


@pytest.fixture(scope="module")
def photos():
    names = ["chelsea.png", "coffee.png", "rocket.jpg", "camera.png", "motorcycle_left.png"]
    return np.concatenate([_photo(n) for n in names])


@pytest.fixture(scope="module")
def probabilities(model, photos):
    return model(photos)


def _top(p: np.ndarray, k: int) -> list[int]:
    return [int(i) for i in np.argsort(-p)[:k]]


# --- classification of photos with a clear ImageNet class (top-1 asserted where measured) -------


def test_chelsea_top1_is_a_cat_class(probabilities):
    cats = {label_index(n) for n in ("tabby", "tiger_cat", "Egyptian_cat")}
    assert _top(probabilities[0], 1)[0] in cats
    assert probabilities[0, sorted(cats)].sum() > 0.5


def test_coffee_top1_is_espresso_and_cup_is_in_the_top5(probabilities):
    assert _top(probabilities[1], 1) == [label_index("espresso")]
    assert label_index("cup") in _top(probabilities[1], 5)


def test_rocket_top1_is_missile_or_projectile(probabilities):
    assert _top(probabilities[2], 1)[0] in {label_index("missile"), label_index("projectile")}


def test_cameraman_top1_is_tripod(probabilities):
    assert _top(probabilities[3], 1) == [label_index("tripod")]


def test_motorcycle_top1_is_moped_or_motor_scooter(probabilities):
    assert _top(probabilities[4], 1)[0] in {label_index("moped"), label_index("motor_scooter")}


def test_outputs_are_probabilities_over_1000_classes(probabilities):
    assert probabilities.shape == (5, 1000)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert probabilities.min() >= 0.0


# --- structure -----------------------------------------------------------------------------


def test_layer_names_follow_the_keras_efficientnet_scheme(model):
    names = set(model.layer_names)
    for name in [
        "stem_conv",
        "stem_bn",
        "stem_activation",
        "block1a_dwconv",
        "block1a_bn",
        "block1a_activation",
        "block1a_project_conv",
        "block1a_project_bn",
        "block2a_expand_conv",
        "block2b_add",
        "block4a_expand_activation",
        "block5c_add",
        "block6a_expand_activation",
        "block6d_add",
        "block7a_project_bn",
        "top_conv",
        "top_bn",
        "top_activation",
        "avg_pool",
        "logits",
        "predictions",
    ]:
        assert name in names, name
    # 16 blocks in stages of (1, 2, 2, 3, 3, 4, 1), no squeeze-excite layers.
    blocks = {n.split("_")[0] for n in names if n.startswith("block")}
    assert sorted(blocks) == [
        "block1a",
        "block2a",
        "block2b",
        "block3a",
        "block3b",
        "block4a",
        "block4b",
        "block4c",
        "block5a",
        "block5b",
        "block5c",
        "block6a",
        "block6b",
        "block6c",
        "block6d",
        "block7a",
    ]
    assert not [n for n in names if "se_" in n]


def test_model_wrapper_settings(model):
    assert model.name == "efficientnet_lite0"
    assert model.input_size is None  # any size: a 128 px image is run at 128 px, not resized
    assert model.value_range == (0.0, 1.0)


def test_an_image_runs_at_its_own_size_with_the_b0_strides(model, photos):
    # 128 px halves five times to 4 x 4 at the top; 224 px gives 7 x 7 (the next test)
    small = tf.image.resize(photos[:1], (128, 128), antialias=True)
    top = model.activations(small, ["top_activation"])["top_activation"]
    assert top.shape == (1, 4, 4, 1280)


def test_feature_maps_have_the_efficientnet_b0_resolutions_and_widths(model, photos):
    layers = {
        "stem_activation": (112, 32),
        "block1a_project_bn": (112, 16),
        "block2b_add": (56, 24),
        "block3b_add": (28, 40),
        "block4c_add": (14, 80),
        "block5c_add": (14, 112),
        "block6d_add": (7, 192),
        "block7a_project_bn": (7, 320),
        "top_activation": (7, 1280),
    }
    acts = model.activations(photos[:1], list(layers))
    for name, (size, channels) in layers.items():
        assert acts[name].shape == (1, size, size, channels), name


def test_relu6_activations_lie_in_0_to_6(model, photos):
    acts = model.activations(
        photos[:2], ["stem_activation", "block4a_expand_activation", "top_activation"]
    )
    for value in acts.values():
        assert value.min() >= 0.0 and value.max() <= 6.0
    assert acts["top_activation"].max() == pytest.approx(6.0)  # some head units saturate


def test_logits_are_pre_softmax(model, photos):
    acts = model.activations(photos, ["logits", "predictions"])
    np.testing.assert_allclose(
        tf.nn.softmax(acts["logits"]).numpy(), acts["predictions"], atol=1e-6
    )
    assert acts["logits"].min() < 0.0  # not probabilities


def test_keras_weights_hold_every_float_parameter_of_the_state_dict(model, state_dict):
    floats = sum(v.size for k, v in state_dict.items() if not k.endswith("num_batches_tracked"))
    assert model.keras_model.count_params() == floats


# --- an independent numpy forward pass of the stem and the first block --------------------------


def _conv2d(x: np.ndarray, w_oihw: np.ndarray, stride: int, pad: int) -> np.ndarray:
    """Cross-correlation of x [H, W, I] with torch-layout weights [O, I, kh, kw], zero padding."""
    kh, kw = w_oihw.shape[2:]
    xp = np.pad(x, ((pad, pad), (pad, pad), (0, 0)))
    out_h = (xp.shape[0] - kh) // stride + 1
    out_w = (xp.shape[1] - kw) // stride + 1
    out = np.zeros((out_h, out_w, w_oihw.shape[0]))
    for i in range(kh):
        for j in range(kw):
            patch = xp[i : i + stride * out_h : stride, j : j + stride * out_w : stride, :]
            out += np.einsum("hwi,oi->hwo", patch, w_oihw[:, :, i, j])
    return out


def _depthwise(x: np.ndarray, w_c1hw: np.ndarray, pad: int) -> np.ndarray:
    kh, kw = w_c1hw.shape[2:]
    xp = np.pad(x, ((pad, pad), (pad, pad), (0, 0)))
    out = np.zeros_like(x)
    for i in range(kh):
        for j in range(kw):
            out += xp[i : i + x.shape[0], j : j + x.shape[1], :] * w_c1hw[:, 0, i, j]
    return out


def _bn(x: np.ndarray, sd: dict, prefix: str) -> np.ndarray:
    eps = 1e-3  # the model's BatchNorm epsilon
    scale = sd[prefix + ".weight"] / np.sqrt(sd[prefix + ".running_var"].astype(np.float64) + eps)
    return (x - sd[prefix + ".running_mean"]) * scale + sd[prefix + ".bias"]


def _relu6(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0.0, 6.0)


def test_numpy_forward_pass_of_stem_and_first_block_matches_keras(model, photos, state_dict):
    image = photos[0].astype(np.float64)
    x = (image - np.array(IMAGENET_MEAN)) / np.array(IMAGENET_STD)
    # Stem: 3x3 stride-2 conv padded by one pixel on every side (PyTorch-style symmetric).
    x = _relu6(_bn(_conv2d(x, state_dict["_conv_stem.weight"], 2, 1), state_dict, "_bn0"))
    x = _relu6(
        _bn(
            _depthwise(x, state_dict["_blocks.0._depthwise_conv.weight"], 1),
            state_dict,
            "_blocks.0._bn1",
        )
    )
    x = _bn(
        _conv2d(x, state_dict["_blocks.0._project_conv.weight"], 1, 0), state_dict, "_blocks.0._bn2"
    )
    keras_out = model.activations(photos[:1], ["block1a_project_bn"])["block1a_project_bn"][0]
    assert keras_out.shape == x.shape == (112, 112, 16)
    assert np.abs(keras_out - x).max() < 1e-4


# --- the weights argument ------------------------------------------------------------------


def test_weights_none_gives_a_random_model_with_the_same_architecture(model, photos):
    random_model = efficientnet_lite0(weights=None)
    assert random_model.layer_names == model.layer_names
    stem = random_model.keras_model.get_layer("stem_conv").get_weights()[0]
    trained = model.keras_model.get_layer("stem_conv").get_weights()[0]
    assert stem.shape == trained.shape == (3, 3, 3, 32)
    assert not np.allclose(stem, trained)
    assert random_model(photos[:1]).shape == (1, 1000)


def test_weights_path_reads_that_file(photos, probabilities, tmp_path):
    copy = tmp_path / "copy.pth"
    data = open(packaged_weights_path(), "rb").read()
    copy.write_bytes(data)
    from_path = efficientnet_lite0(weights=str(copy))
    # the same weights; a batch of one against the fixture's whole batch, whose kernels (oneDNN
    # picks them per shape and thread count) may round differently
    np.testing.assert_allclose(from_path(photos[:1]), probabilities[:1], rtol=1e-5, atol=1e-6)
    copy.write_bytes(data[: len(data) // 2])  # the same path now holds half the file
    with pytest.raises(ValueError, match="truncated file"):
        efficientnet_lite0(weights=str(copy))


def test_missing_weights_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="expected 'imagenet', None, or a path"):
        efficientnet_lite0(weights=str(tmp_path / "nope.pth"))


def test_weights_of_another_type_raise_type_error():
    with pytest.raises(TypeError, match="weights must be 'imagenet', None, or a file path"):
        efficientnet_lite0(weights=3)


def test_state_dict_with_a_missing_parameter_is_refused(state_dict):
    partial = {k: v for k, v in state_dict.items() if k != "_blocks.7._bn1.running_var"}
    with pytest.raises(ValueError, match=r"_blocks\.7\._bn1\.running_var"):
        build_keras_model(partial)


def test_state_dict_with_an_extra_parameter_is_refused(state_dict):
    extra = dict(state_dict, **{"_fc2.weight": np.zeros((2, 2), np.float32)})
    with pytest.raises(ValueError, match="not used"):
        build_keras_model(extra)
