"""Dataset examples on a vision transformer's token layers: the hand-built ViT's planted edge
unit finds the images its edge was planted in, each boxed on the planted patch in the file's
pixels; a whole token layer is ranked in one pass."""

from __future__ import annotations

import numpy as np
from PIL import Image

import samplevis
from samplevis import objectives

import vit_models
from vit_models import FILTERS, PATCH, SIZE

EDGE, HORIZONTAL = 6, 4  # mlp_fc1 units: gelu(response + 1) to the edge, the horizontal grating
# (filter, x, y) per planted image; the others hold the horizontal grating or nothing
PLANTED = {"a": (3, 2, 5), "b": (3, 7, 0), "c": (3, 0, 7), "d": (3, 4, 3)}
OTHERS = {"e": (2, 1, 1), "f": (2, 5, 6), "g": None, "h": None}


def _images() -> dict[str, np.ndarray]:
    """Images [SIZE, SIZE, 3] in [0, 1] by name: faint noise, with a filter at one patch."""
    rng = np.random.default_rng(0)
    found = {}
    for name, planted in {**PLANTED, **OTHERS}.items():
        image = np.clip(0.5 + rng.normal(0, 0.02, (SIZE, SIZE, 3)), 0, 1).astype(np.float32)
        if planted is not None:
            k, x, y = planted
            patch = vit_models.planted(k, x, y)[
                y * PATCH : (y + 1) * PATCH, x * PATCH : (x + 1) * PATCH
            ]
            image[y * PATCH : (y + 1) * PATCH, x * PATCH : (x + 1) * PATCH] = patch
        found[name] = image
    return found


def test_the_planted_images_rank_first_boxed_on_their_patch_in_the_files_pixels(tmp_path, toy_vit):
    # files twice the network's size: a box is the patch's 8 px box, scaled to 16 px
    scale = 2
    for name, image in _images().items():
        big = np.kron(np.round(image * 255).astype(np.uint8), np.ones((scale, scale, 1), np.uint8))
        Image.fromarray(big).save(tmp_path / f"{name}.png")
    found = samplevis.dataset_examples(
        toy_vit, f"mlp_fc1:{EDGE}", images=tmp_path, top=4, progress=False
    )
    ranked = found.ranked(f"mlp_fc1:{EDGE}")
    assert {file for file, _, _ in ranked} == {f"{name}.png" for name in PLANTED}
    for file, _, box in ranked:
        _, x, y = PLANTED[file[:-4]]
        expected = (x * PATCH, y * PATCH, (x + 1) * PATCH, (y + 1) * PATCH)
        assert box == tuple(scale * v for v in expected), file


def test_a_whole_token_layer_is_ranked_in_one_pass_with_neurons_and_the_class_token(toy_vit):
    images = _images()
    names = list(images)
    units = [
        objectives.neuron("mlp_fc1", EDGE, x=4, y=3),
        objectives.class_token("attention_add", vit_models.POOLED),
    ]
    found = samplevis.dataset_examples(
        toy_vit, units, images=np.stack(list(images.values())), layer="mlp_fc1", progress=False
    )
    assert len(found.units) == 2 + vit_models.HIDDEN
    edge = {names[int(f)] for f, _, _ in found.ranked(f"mlp_fc1:{EDGE}")[:4]}
    assert edge == set(PLANTED)
    grating = {names[int(f)] for f, _, _ in found.ranked(f"mlp_fc1:{HORIZONTAL}")[:2]}
    assert grating == {"e", "f"}
    # the neuron at patch (4, 3) answers to the image planted there, boxed there
    file, _, box = found.ranked(found.units[0].name)[0]
    assert names[int(file)] == "d" and box == (4 * PATCH, 3 * PATCH, 5 * PATCH, 4 * PATCH)
    # the class token sees the whole image: no box of its own
    assert found.ranked(found.units[1].name)[0][2] == (0, 0, SIZE, SIZE)


def test_a_neuron_on_a_token_layer_off_the_grid_is_one_line_naming_patch_size():
    wrong = samplevis.Model(vit_models.keras_vit(), patch_size=5)
    images = np.stack(list(_images().values()))
    try:
        samplevis.dataset_examples(
            wrong, objectives.neuron("mlp_fc1", EDGE, 1, 1), images=images, progress=False
        )
    except ValueError as error:
        assert "samplevis.Model(keras_model, patch_size=P)" in str(error)
        assert "\n" not in str(error)
    else:
        raise AssertionError("a neuron off the grid was ranked")
    # a channel of it is the mean over its tokens: ranked, each image boxed whole
    found = samplevis.dataset_examples(wrong, f"mlp_fc1:{EDGE}", images=images, progress=False)
    assert found.ranked(f"mlp_fc1:{EDGE}")[0][2] == (0, 0, SIZE, SIZE)
    np.testing.assert_allclose(FILTERS[3].sum(), 0, atol=1e-5)
