"""Limits at the door: a run whose tensors cannot fit on the device that runs it is refused before
any work, with the device, how much it needs, how much there is and what to lower; running out of
memory during a run keeps the images so far. Where a test needs another platform (macOS, a GPU),
the platform's answers are substituted: `samplevis.runtime.devices`' queries, or psutil's."""

import builtins
import importlib
import os
import re
import types
import warnings

import numpy as np
import pytest
import tensorflow as tf

import samplevis
from samplevis import cli, objectives, param
from samplevis.runtime import devices, memory

from conftest import fixed_gabor_keras_model, gabor_keras_model

HUGE = 100_000  # px a side: its spectral state alone is 120 GB
GB = 10**9
# px a side: a run on one image of the gabor net needs about 14.5 GB, more than an 8 GB GPU has
# and less than a 64 GB host has
GPU_TOO_SMALL = 6000


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
    fixed = samplevis.Model(fixed_gabor_keras_model(), name="fixed_gabor_net")
    small, large = (
        memory.needed_bytes(fixed, ["gabor_relu"], s, s, 1)
        - memory.needed_bytes(fixed, [], s, s, 1)
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
        (["optimize", "--size", str(HUGE)], "--size"),
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


@pytest.mark.slow
def test_running_out_of_memory_during_a_run_keeps_the_images_so_far(model):
    explode = tf.Variable(False)

    def objective(T):
        values = tf.reduce_mean(T("gabor_relu")[..., 0], axis=(1, 2))
        # a 4 TiB tensor once `explode` is set, no allocator gives it; filled with a value of
        # the run, so that no compiler pass folds it into a constant; in the forward pass only
        # (each allocation that fails waits 10 s in oneDNN's allocator for memory to be freed)
        huge = tf.cond(
            explode,
            lambda: tf.reduce_sum(tf.fill([2**20, 2**20], values[0])),
            lambda: tf.constant(0.0),
        )
        return values + 0 * tf.stop_gradient(huge)

    vis = samplevis.Renderer(model, objectives.as_objective(objective), param.image(24))
    explode.assign(True)
    with pytest.raises(samplevis.MemoryLimitError) as stopped:
        vis.run((4, 8), seed=0, progress=False)
    assert str(stopped.value).startswith(
        "the machine ran out of memory during the run (24x24 px images, batch 1; "
    )
    assert stopped.value.steps == 0 and len(stopped.value.images) == 1
    assert stopped.value.images[0].shape == (1, 24, 24, 3)
    assert np.all(np.isfinite(stopped.value.images[0]))


@pytest.mark.slow
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


def as_on_a_mac(monkeypatch, available):
    """No /proc/meminfo and no os.sysconf, as on macOS or Windows, and psutil's answer there:
    `available` bytes. (psutil reads /proc/meminfo itself on Linux, so its answer is substituted.)"""
    import psutil

    real_open = builtins.open

    def open_without_proc(file, *args, **kwargs):
        if str(file).startswith("/proc/meminfo"):
            raise FileNotFoundError(2, "No such file or directory", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", open_without_proc)
    monkeypatch.delattr(os, "sysconf")
    monkeypatch.setattr(
        psutil, "virtual_memory", lambda: types.SimpleNamespace(available=available)
    )
    monkeypatch.setattr(devices, "default_placement", lambda: devices.HOST)


def on_a_gpu(monkeypatch, model_name, nvml=None, limit=None, in_use=0, host=64 * GB):
    """A run placed on GPU:0, a `model_name` whose NVML answer is `nvml` (bytes free, bytes this
    process holds) and TensorFlow's memory limit `limit` (None: unknown), on a host with `host`
    bytes free."""
    monkeypatch.setattr(devices, "default_placement", lambda: "GPU:0")
    monkeypatch.setattr(devices, "physical_gpu", lambda index: (index, model_name))
    monkeypatch.setattr(devices, "nvml_memory", lambda position, model: nvml)
    monkeypatch.setattr(devices, "tensorflow_limit", lambda index: limit)
    monkeypatch.setattr(devices, "tensorflow_in_use", lambda tf_name: in_use)
    monkeypatch.setattr(devices, "host_free", lambda: host)
    monkeypatch.setattr(memory, "_UNCHECKED", set())


def test_the_host_memory_comes_from_psutil_without_proc_meminfo_or_sysconf(model, monkeypatch):
    as_on_a_mac(monkeypatch, 16 * GB)
    assert devices.work_device() == devices.Device("CPU:0", "the machine", 16 * GB)
    memory.check_fits(model, ["gabor_relu"], 2048, 2048, 1)  # about 1.7 GB
    with pytest.raises(samplevis.MemoryLimitError, match="but the machine has 16.0 GB available"):
        memory.check_fits(model, ["gabor_relu"], 8192, 8192, 1)  # about 27 GB


def test_render_vis_runs_where_neither_proc_meminfo_nor_sysconf_exists(model, monkeypatch):
    as_on_a_mac(monkeypatch, 16 * GB)
    with pytest.raises(AttributeError):
        os.sysconf("SC_PAGE_SIZE")
    with pytest.raises(FileNotFoundError):
        open("/proc/meminfo")
    images = samplevis.render_vis(
        model, "gabor_relu:0", param.image(32), thresholds=(4, 8), progress=False
    )
    assert [i.shape for i in images] == [(1, 32, 32, 3)] * 2
    assert all(np.all(np.isfinite(i)) for i in images)


def _fitting_side(message):
    return int(re.search(r"about (\d+) px fits at this batch", message)[1])


def test_a_run_that_fits_the_host_is_refused_on_an_8_gb_gpu_with_the_gpu_named(model, monkeypatch):
    on_a_gpu(monkeypatch, "NVIDIA Tesla T4", nvml=(8 * GB, 0))
    needed = memory.needed_bytes(model, ["gabor_relu"], GPU_TOO_SMALL, GPU_TOO_SMALL, 1)
    assert 8 * GB < needed < 64 * GB
    monkeypatch.setattr(devices, "default_placement", lambda: devices.HOST)
    memory.check_fits(model, ["gabor_relu"], GPU_TOO_SMALL, GPU_TOO_SMALL, 1)  # fits the host
    monkeypatch.setattr(devices, "default_placement", lambda: "GPU:0")
    with pytest.raises(samplevis.MemoryLimitError) as refused:
        samplevis.Renderer(model, "gabor_relu:0", param.image(GPU_TOO_SMALL))
    message = str(refused.value)
    assert "but GPU:0 (NVIDIA Tesla T4) has 8.0 GB available; lower size" in message
    assert refused.value.available == 8 * GB and refused.value.needed == needed
    side = _fitting_side(message)
    assert memory.needed_bytes(model, ["gabor_relu"], side, side, 1) <= 8 * GB
    assert memory.needed_bytes(model, ["gabor_relu"], side + 8, side + 8, 1) > 8 * GB


def test_a_gpu_has_free_what_nvml_says_is_unused_and_what_this_process_holds_unused(monkeypatch):
    # TensorFlow took 9 GB at start and uses 2 GB of it; 1 GB of the device is unused
    on_a_gpu(monkeypatch, "NVIDIA Tesla T4", nvml=(1 * GB, 9 * GB), in_use=2 * GB)
    assert devices.work_device() == devices.Device("GPU:0", "GPU:0 (NVIDIA Tesla T4)", 8 * GB)


def test_a_gpu_given_a_memory_limit_has_free_no_more_than_the_limit_leaves(monkeypatch):
    # NVML sees 10 GB unused, but TensorFlow may use 4 GiB of the device, 1 GiB of it in use
    on_a_gpu(monkeypatch, "NVIDIA Tesla T4", nvml=(10 * GB, 0), limit=4 * 2**30, in_use=2**30)
    assert devices.work_device().free == 3 * 2**30


def test_without_nvml_a_gpu_has_free_its_tensorflow_memory_limit_less_what_is_in_use(
    model, monkeypatch
):
    on_a_gpu(monkeypatch, "Apple M2", limit=8 * 2**30, in_use=2**30)
    assert devices.work_device().free == 7 * 2**30
    with pytest.raises(
        samplevis.MemoryLimitError, match=r"but GPU:0 \(Apple M2\) has 7.5 GB available"
    ):
        memory.check_fits(model, ["gabor_relu"], GPU_TOO_SMALL, GPU_TOO_SMALL, 1)


def test_a_gpu_whose_memory_cannot_be_read_warns_once_and_the_run_goes_on(model, monkeypatch):
    on_a_gpu(monkeypatch, "", nvml=None, limit=None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = samplevis.render_vis(
            model, "gabor_relu:0", param.image(16), thresholds=(2,), progress=False
        )
        second = samplevis.render_vis(
            model, "gabor_relu:1", param.image(16), thresholds=(2,), progress=False
        )
    said = [str(w.message) for w in caught if "cannot tell" in str(w.message)]
    assert said == [
        "samplevis cannot tell how much memory GPU:0 has free, so runs there start unchecked; "
        "for an NVIDIA GPU install the gpu extra (pip install 'samplevis[gpu]'), or give the GPU "
        "a memory limit (tf.config.set_logical_device_configuration)."
    ]
    assert [w.filename for w in caught if "cannot tell" in str(w.message)] == [__file__]
    assert first[0].shape == second[0].shape == (1, 16, 16, 3)


def test_running_out_of_memory_on_a_gpu_names_that_gpu_and_what_to_lower(monkeypatch):
    on_a_gpu(monkeypatch, "NVIDIA Tesla T4", nvml=(GB // 2, 0))
    monkeypatch.setattr(devices, "physical_gpu", lambda index: (index, f"NVIDIA Tesla T4 #{index}"))
    # TensorFlow's message, as its GPU allocator words it
    oom = tf.errors.ResourceExhaustedError(
        None,
        None,
        "OOM when allocating tensor with shape[8,512,512,64] and type float on "
        "/job:localhost/replica:0/task:0/device:GPU:1 by allocator GPU_1_bfc",
    )
    error = memory.out_of_memory_error(oom, 512, 512, 8, batch_option="hmc_opts.num_chains")
    assert str(error) == (
        "GPU:1 (NVIDIA Tesla T4 #1) ran out of memory during the run (512x512 px images, batch "
        "8; 500.0 MB available now): lower size (the image side) or hmc_opts['num_chains'], or "
        "free memory."
    )
