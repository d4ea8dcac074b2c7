"""TensorBoard logs of render_vis and of a SampleResult, read back with TensorFlow's reader."""

import numpy as np
import pytest

import samplevis
from samplevis import io, objectives, param
from samplevis.optvis import optimize
from samplevis.optvis import renderer as renderer_module
from samplevis.runtime.checks import OptionError

from conftest import InterruptingBar, read_events
from sample_results import BURNIN, THIN, TUNING, C, N, known_result

OBJECTIVE = objectives.channel("gabor_relu", 0, batch=0) + objectives.channel(
    "gabor_relu", 2, batch=1
)


def test_render_vis_logs_the_objective_at_every_step_and_the_images_at_each_threshold(
    gabor_model, tmp_path
):
    kw = dict(param_f=lambda: param.image(24, batch=2), seed=0, progress=False, return_state=True)
    rendering = samplevis.render_vis(
        gabor_model, OBJECTIVE, thresholds=(8, 24), log_dir=tmp_path / "run", **kw
    )
    events = read_events(tmp_path / "run")
    assert set(events) == {"objective", "objective/image_0", "objective/image_1", "images"}
    curves = {tag: events[tag] for tag in ("objective", "objective/image_0", "objective/image_1")}
    for points in curves.values():
        assert [step for step, _ in points] == list(range(1, 25))
    total, first, second = (np.array([v for _, v in points]) for points in curves.values())
    np.testing.assert_allclose(total, first + second, rtol=1e-5)
    np.testing.assert_array_equal([first[-1], second[-1]], rendering.values)
    # step 8 of this run is the last step of an 8-step run from the same seed
    at_8 = samplevis.render_vis(gabor_model, OBJECTIVE, thresholds=(8,), **kw)
    np.testing.assert_array_equal([first[7], second[7]], at_8.values)
    assert [step for step, _ in events["images"]] == [8, 24]
    for (_, logged), rendered in zip(events["images"], rendering.images):
        assert len(logged) == 2
        for png, image in zip(logged, rendered):
            np.testing.assert_array_equal(png, io.to_uint8(image))


def test_a_renderer_interrupted_by_ctrl_c_logs_the_steps_it_kept(
    gabor_model, tmp_path, monkeypatch
):
    monkeypatch.setattr(renderer_module, "_progress_bar", lambda *a: InterruptingBar(at_call=2))
    renderer = optimize.Renderer(gabor_model, "gabor_relu:1", param.image(16))
    with pytest.warns(UserWarning, match="interrupted at step 32 of 128"):
        rendering = renderer.run((16, 64, 128), seed=0, return_state=True, log_dir=tmp_path)
    events = read_events(tmp_path)
    assert [step for step, _ in events["objective"]] == list(range(1, 33))
    assert events["objective"][-1][1] == rendering.values[0]
    # the threshold reached, then the images returned for the step it stopped at
    assert [step for step, _ in events["images"]] == [16, 32]
    np.testing.assert_array_equal(events["images"][-1][1][0], io.to_uint8(rendering.images[-1][0]))


@pytest.mark.parametrize(
    "where, message",
    [
        ("taken", r"log_dir '.*taken' is a file; give a folder for the TensorBoard log"),
        ("taken/logs", r"log_dir '.*logs' lies under the file '.*taken'; give a folder"),
    ],
)
def test_a_log_dir_that_cannot_be_a_folder_is_refused_before_any_work(
    gabor_model, tmp_path, where, message
):
    (tmp_path / "taken").write_text("keep me")
    # the objective's unknown layer would be the first error of any work done
    with pytest.raises(OptionError, match=message):
        samplevis.render_vis(gabor_model, "no_such_layer:0", log_dir=tmp_path / where)
    renderer = optimize.Renderer(gabor_model, "gabor_relu:0", param.image(16))
    with pytest.raises(OptionError, match=message):
        renderer.run(8, objective="no_such_layer:0", log_dir=tmp_path / where)
    with pytest.raises(TypeError, match="log_dir must be a folder path"):
        renderer.run(8, log_dir=1)
    assert (tmp_path / "taken").read_text() == "keep me"


def test_a_sample_result_logs_each_chain_at_the_mcmc_step_of_every_value(tmp_path):
    result = known_result()
    assert samplevis.save_tensorboard(result, tmp_path / "log") == tmp_path / "log"
    events = read_events(tmp_path / "log")
    kept = [TUNING + BURNIN + (THIN + 1) * i for i in range(1, N + 1)]
    steps = list(range(1, TUNING + BURNIN + 1)) + kept
    for c in range(C):
        activation = events[f"activation/chain_{c}"]
        assert activation == [(s, 10.0 * c + s) for s in [0] + steps]
        step_size = events[f"step_size/chain_{c}"]
        assert [s for s, _ in step_size] == steps
        np.testing.assert_allclose(
            [v for _, v in step_size], [0.1 * (c + 1) + s / 1000 for s in steps], rtol=1e-6
        )
        acceptance = events[f"acceptance/chain_{c}"]
        np.testing.assert_allclose([v for _, v in acceptance], [s / 100 for s in steps], rtol=1e-5)
        samples = events[f"samples/chain_{c}"]
        assert [s for s, _ in samples] == kept
        assert [images[0][0, 0, 0] for _, images in samples] == [
            round(255 * (i + c + 1) / 10) for i in range(N)
        ]
    assert [(s, len(images)) for s, images in events["starts"]] == [(0, C)]
