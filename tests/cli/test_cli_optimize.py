"""`samplevis optimize`: a PNG per threshold, as render_vis gives it; what went wrong said in flags,
with the images so far kept."""

import re
import shutil
import warnings
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from samplevis import cli, zoo
from samplevis.cli import shell

from cli_args import GABOR, optimize
from conftest import InterruptingBar, read_events


def test_optimize_writes_one_png_per_threshold(tmp_path, capsys):
    assert cli.main(optimize(tmp_path, size=32, thresholds=(4, 8))) == 0
    pngs = sorted(tmp_path.glob("*.png"))
    assert len(pngs) == 2 and iio.imread(pngs[0]).shape == (32, 32, 3)
    assert str(pngs[0]) in capsys.readouterr().out


def test_optimize_without_transforms_writes_what_render_vis_gives_without_them(tmp_path):
    import samplevis
    from samplevis import objectives, param

    assert cli.main(optimize(tmp_path, size=24, steps=16, no_transforms=True)) == 0
    written = iio.imread(tmp_path / "channel__gabor_relu___1_0016_0.png") / 255.0
    model = zoo.load(GABOR)
    for transforms, matches in [((), True), (None, False)]:
        image = samplevis.render_vis(
            model,
            objectives.channel("gabor_relu", 1),
            param_f=lambda: param.image(24),
            transforms=transforms,
            thresholds=(16,),
            seed=0,
            progress=False,
        )[-1][0]
        assert (np.abs(written - image).max() <= 1 / 255) == matches


def test_optimize_with_alpha_writes_rgba_pngs_the_gallery_shows_over_a_checkerboard(tmp_path):
    assert cli.main(optimize(tmp_path, size=32, steps=32, alpha=True)) == 0
    (png,) = tmp_path.glob("*.png")
    rgba = iio.imread(png)
    assert rgba.shape == (32, 32, 4) and rgba[..., 3].min() < rgba[..., 3].max()
    assert cli.main(["gallery", str(tmp_path)]) == 0
    page = (tmp_path / "index.html").read_text()
    assert png.name in page and "repeating-conic-gradient" in page


@pytest.mark.slow
def test_optimize_with_param_maco_writes_what_render_vis_gives_with_macos_parts(tmp_path):
    import keras

    import samplevis
    from samplevis import objectives, param, transform

    assert cli.main(optimize(tmp_path, size=24, steps=8, param="maco")) == 0
    written = iio.imread(tmp_path / "channel__gabor_relu___1_0008_0.png") / 255.0
    image = samplevis.render_vis(
        zoo.load(GABOR),
        objectives.channel("gabor_relu", 1),
        param.maco(24),
        keras.optimizers.Nadam(1.0),
        [transform.maco_crops(24)],  # the image's size: the network takes any
        thresholds=(8,),
        seed=0,
        progress=False,
    )[-1][0]
    assert np.abs(written - image).max() <= 1 / 255


def test_optimize_with_alpha_and_param_maco_stops_naming_both_flags(tmp_path, capsys):
    assert cli.main(optimize(tmp_path, alpha=True, param="maco")) == 2
    assert "Give one of --alpha and --param maco." in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_optimize_of_a_dead_unit_writes_its_image_and_says_the_unit_is_off(tmp_path, capsys):
    dead = optimize(tmp_path, "dead:0", "conftest:dead_keras_model", size=16, steps=8)
    assert cli.main(dead) == 0 and len(list(tmp_path.glob("*.png"))) == 1
    assert (
        "the objective is exactly 0 for image [0] after 8 steps: the unit is off for every "
        "image tried"
    ) in capsys.readouterr().err
    assert cli.main(optimize(tmp_path / "alive", size=16, steps=8)) == 0
    assert "exactly 0" not in capsys.readouterr().err


def test_optimize_whose_objective_turns_nan_writes_the_last_finite_images(tmp_path, capsys):
    blowup = "conftest:blowup_keras_model"
    assert cli.main(optimize(tmp_path, "blowup:0", blowup, size=16, thresholds=(2, 2000))) == 2
    err = capsys.readouterr().err
    last = int(re.search(r"NaN or infinite at step (\d+)", err).group(1)) - 1
    assert 2 < last < 2000 and f"Render at most {last} steps (--steps)" in err
    names = sorted(p.name for p in tmp_path.glob("*.png"))
    assert names == [f"channel__blowup___0_{step:04d}_0.png" for step in (2, last)]
    image = iio.imread(tmp_path / names[-1])
    assert image.mean() / 255 < 0.7  # finite: the grey level never passed 0.7


def test_a_disk_that_refuses_the_files_gets_them_in_a_temporary_folder(
    tmp_path, capsys, monkeypatch
):
    from samplevis import io

    full = tmp_path / "full"
    save_png = io.save_png

    def no_space_in_full(path, image):  # a full disk under `full`, the rest of the machine fine
        if full in Path(path).parents:
            raise OSError(28, "No space left on device", str(path))
        return save_png(path, image)

    monkeypatch.setattr(io, "save_png", no_space_in_full)
    code = cli.main(optimize(full, size=16, thresholds=2))
    assert code == shell.WRITE_FAILED == 1
    err = capsys.readouterr().err
    rescue = Path(re.search(r"No space left on device\); writing to '([^']+)' instead", err)[1])
    assert [p.name for p in rescue.iterdir()] == ["channel__gabor_relu___1_0002_0.png"]
    assert iio.imread(next(rescue.iterdir())).shape == (16, 16, 3)
    shutil.rmtree(rescue)


def test_interrupted_optimize_names_its_image_by_the_step_reached_and_exits_130(
    tmp_path, monkeypatch, capsys
):
    from samplevis.optvis import renderer

    # Ctrl-C during the second compiled call of 16 steps.
    monkeypatch.setattr(renderer, "_progress_bar", lambda *a: InterruptingBar(at_call=2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = cli.main(optimize(tmp_path, size=16, thresholds=(16, 64)))
    assert code == shell.INTERRUPTED == 130
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [
        "channel__gabor_relu___1_0016_0.png",
        "channel__gabor_relu___1_0032_0.png",
    ]
    err = capsys.readouterr().err
    # said once, by the command, and not again as render_vis's Python warning
    assert err.count("interrupted") == 1 and "interrupted at step 32 of 64" in err
    assert not [w for w in caught if "interrupted" in str(w.message)]


@pytest.mark.slow
def test_optimize_writes_a_tensorboard_log_to_log_dir(tmp_path):
    logs = tmp_path / "logs/optimize"
    assert cli.main(optimize(tmp_path / "out", size=16, thresholds=(4, 8), log_dir=logs)) == 0
    events = read_events(logs)
    assert [step for step, _ in events["objective/image_0"]] == list(range(1, 9))
    assert [step for step, _ in events["images"]] == [4, 8]
