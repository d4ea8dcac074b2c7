"""Limits at the door: a run whose tensors cannot fit is refused before any work, with how much it
needs, how much there is and what to lower; running out of memory during a run keeps the images
so far."""

import importlib

import numpy as np
import pytest
import tensorflow as tf

import samplevis
from samplevis import cli, memory, objectives, param

from conftest import gabor_keras_model

HUGE = 100_000  # px a side: its spectral state alone is 120 GB


@pytest.fixture(scope="module")
def model():
    return samplevis.Model(gabor_keras_model(), name="gabor_net")


def test_the_estimate_grows_with_the_image_area_and_the_batch(model):
    one = memory.needed_bytes(model, ["gabor_relu"], 64, 64, 1)
    assert memory.needed_bytes(model, ["gabor_relu"], 128, 128, 1) == pytest.approx(
        4 * one, rel=0.05
    )
    assert memory.needed_bytes(model, ["gabor_relu"], 64, 64, 8) == 8 * one
    # the spectral state of a HUGE px image alone: 2 x 3 x HUGE x (HUGE / 2 + 2) floats
    assert memory.needed_bytes(model, ["gabor_relu"], HUGE, HUGE, 1) > 2 * 3 * HUGE * HUGE / 2 * 4


def test_a_network_of_fixed_input_size_costs_the_same_activations_at_any_image_size():
    from samplevis import zoo

    lite = zoo.efficientnet_lite0()
    small, large = (
        memory.needed_bytes(lite, ["block3a_expand_activation"], s, s, 1)
        - memory.needed_bytes(lite, [], s, s, 1)
        for s in (64, 512)
    )
    assert small == large > 0


def test_ordinary_runs_fit(model):
    for size, batch in ((128, 1), (224, 16), (512, 4)):
        memory.check_fits(model, ["gabor_relu"], size, size, batch)


def test_a_renderer_too_large_for_any_machine_is_refused_before_any_tensor(model):
    with pytest.raises(samplevis.MemoryLimitError) as refused:
        samplevis.Renderer(model, "gabor_relu:0", param.image(HUGE))
    message = str(refused.value)
    assert message.startswith("this run needs about ")
    assert f"({HUGE}x{HUGE} px images, batch 1) but the machine has " in message
    assert "lower size (the image side; about " in message
    assert " px fits at this batch) or batch." in message
    assert refused.value.needed > refused.value.available
    assert isinstance(refused.value, ValueError)
    with pytest.raises(samplevis.MemoryLimitError):
        samplevis.render_vis(model, "gabor_relu:0", param.image(64, batch=10**7), progress=False)


def test_render_and_atlas_name_their_own_arguments(model, tmp_path):
    with pytest.raises(samplevis.MemoryLimitError, match=r"hmc_opts\['num_chains'\]"):
        samplevis.render(model, "gabor_relu:0", param_f=param.image(HUGE, batch=2), progress=False)
    with pytest.raises(samplevis.MemoryLimitError, match="lower size"):
        samplevis.atlas(model, "gabor_relu", size=HUGE, out=tmp_path / "atlas", progress=False)
    assert not (tmp_path / "atlas").exists()


@pytest.mark.parametrize(
    "command, flag",
    [
        (["render", "--size", str(HUGE)], "--size"),
        (["sample", "--size", "64", "--num-chains", str(10**7)], "--num-chains"),
    ],
)
def test_the_command_line_says_which_flag_to_lower_and_exits_2(tmp_path, capsys, command, flag):
    code = cli.main(
        [
            *command[:1],
            "--model",
            "tests/conftest.py:gabor_keras_model",
            "--objective",
            "gabor_relu:0",
            *command[1:],
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2, err
    assert "this run needs about" in err and flag in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())


def test_running_out_of_memory_during_a_run_keeps_the_images_so_far(model):
    explode = tf.Variable(False)

    def objective(T):
        values = tf.reduce_mean(T("gabor_relu")[..., 0], axis=(1, 2))
        # a 4 TiB tensor once `explode` is set, no allocator gives it; filled with a value of
        # the run, so that no compiler pass folds it into a constant
        huge = tf.cond(
            explode,
            lambda: tf.reduce_sum(tf.fill([2**20, 2**20], values[0])),
            lambda: tf.constant(0.0),
        )
        return values + 0 * huge

    vis = samplevis.Renderer(model, objectives.as_objective(objective), param.image(24))
    explode.assign(True)
    with pytest.raises(samplevis.MemoryLimitError) as stopped:
        vis.run((4, 8), seed=0, progress=False)
    assert "ran out of memory during the run (24x24 px images, batch 1;" in str(stopped.value)
    assert stopped.value.steps == 0 and len(stopped.value.images) == 1
    assert stopped.value.images[0].shape == (1, 24, 24, 3)
    assert np.all(np.isfinite(stopped.value.images[0]))


def test_an_atlas_that_runs_out_of_memory_keeps_a_valid_atlas_and_says_what_to_lower(
    tmp_path, monkeypatch
):
    import json

    import keras

    atlas_module = importlib.import_module("samplevis.atlas")  # `samplevis.atlas` is the function
    explode = tf.Variable(False)

    def maybe_huge(x):
        # a 4 TiB tensor once `explode` is set, filled with a value of the run (not foldable)
        huge = tf.cond(
            explode,
            lambda: tf.reduce_sum(tf.fill([2**20, 2**20], tf.reduce_mean(x))),
            lambda: tf.constant(0.0),
        )
        return x + 0 * huge

    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(2, 3, padding="same", name="conv")(inputs)
    outputs = keras.layers.Lambda(maybe_huge, name="boom")(x)
    model = samplevis.Model(keras.Model(inputs, outputs), name="boom_net")
    real_bar = atlas_module._progress_bar

    def bar_that_arms(total, done, enabled):
        explode.assign(True)  # after the door's checks, before the first batch
        return real_bar(total, done, enabled)

    monkeypatch.setattr(atlas_module, "_progress_bar", bar_that_arms)
    with pytest.raises(samplevis.MemoryLimitError, match="ran out of memory during the run"):
        samplevis.atlas(model, "boom", steps=2, size=24, batch=1, out=tmp_path, progress=False)
    written = json.loads((tmp_path / "atlas.json").read_text())
    assert written["channels"] == [] and (tmp_path / "index.html").is_file()
