"""The samplevis command: render and sample write whole files; bad input exits with the fix."""

import dataclasses
import html
import importlib.util
import json
import os
import re
import shutil
import warnings
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from samplevis import cli, zoo
from samplevis.cli import run_figures, shell
from samplevis.sampling import options

from conftest import InterruptingBar, gif_seconds, read_events

GABOR = "conftest:gabor_keras_model"  # a module:function model spec (tests/ is on sys.path)


def test_render_writes_one_png_per_threshold(tmp_path, capsys):
    code = cli.main(
        [
            "render",
            "--model",
            GABOR,
            "--objective",
            "gabor_relu:1",
            "--size",
            "32",
            "--thresholds",
            "4",
            "8",
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    assert code == 0
    pngs = sorted(tmp_path.glob("*.png"))
    assert len(pngs) == 2 and iio.imread(pngs[0]).shape == (32, 32, 3)
    assert str(pngs[0]) in capsys.readouterr().out


def test_render_without_transforms_writes_what_render_vis_gives_without_them(tmp_path):
    import samplevis
    from samplevis import objectives, param

    code = cli.main(
        [
            "render",
            "--model",
            GABOR,
            "--objective",
            "gabor_relu:1",
            "--size",
            "24",
            "--steps",
            "16",
            "--no-transforms",
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    assert code == 0
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


def test_render_with_alpha_writes_rgba_pngs_the_gallery_shows_over_a_checkerboard(tmp_path):
    base = ["render", "--model", GABOR, "--objective", "gabor_relu:1", "--size", "32"]
    code = cli.main([*base, "--steps", "32", "--alpha", "--out", str(tmp_path), "--quiet"])
    assert code == 0
    (png,) = tmp_path.glob("*.png")
    rgba = iio.imread(png)
    assert rgba.shape == (32, 32, 4) and rgba[..., 3].min() < rgba[..., 3].max()
    assert cli.main(["gallery", str(tmp_path)]) == 0
    page = (tmp_path / "index.html").read_text()
    assert png.name in page and "repeating-conic-gradient" in page


@pytest.mark.slow
def test_render_with_param_maco_writes_what_render_vis_gives_with_macos_parts(tmp_path):
    import keras

    import samplevis
    from samplevis import objectives, param, transform

    args = ["render", "--model", GABOR, "--objective", "gabor_relu:1", "--size", "24"]
    code = cli.main([*args, "--steps", "8", "--param", "maco", "--out", str(tmp_path), "--quiet"])
    assert code == 0
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


def test_render_with_alpha_and_param_maco_stops_naming_both_flags(tmp_path, capsys):
    args = ["render", "--model", GABOR, "--objective", "gabor_relu:1", "--out", str(tmp_path)]
    assert cli.main([*args, "--alpha", "--param", "maco"]) == 2
    assert "Give one of --alpha and --param maco." in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_render_of_a_dead_unit_writes_its_image_and_says_the_unit_is_off(tmp_path, capsys):
    code = cli.main(
        [
            "render",
            "--model",
            "conftest:dead_keras_model",
            "--objective",
            "dead:0",
            "--size",
            "16",
            "--steps",
            "8",
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    assert code == 0 and len(list(tmp_path.glob("*.png"))) == 1
    assert (
        "the objective is exactly 0 for image [0] after 8 steps: the unit is off for every "
        "image tried"
    ) in capsys.readouterr().err
    assert (
        cli.main(
            [
                "render",
                "--model",
                GABOR,
                "--objective",
                "gabor_relu:1",
                "--size",
                "16",
                "--steps",
                "8",
                "--out",
                str(tmp_path / "alive"),
                "--quiet",
            ]
        )
        == 0
    )
    assert "exactly 0" not in capsys.readouterr().err


@pytest.mark.slow
def test_sample_of_a_dead_unit_says_which_chains_and_names_the_flags_to_try(tmp_path, capsys):
    code = cli.main(
        [
            "sample",
            "--model",
            "conftest:dead_keras_model",
            "--objective",
            "dead:0",
            "--size",
            "16",
            "--num-chains",
            "2",
            "--num-results",
            "2",
            "--num-burnin-steps",
            "2",
            "--optimize-steps",
            "4",
            "--temperature",
            "0.1",
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    assert code == 0
    assert (
        "samplevis: chains [0, 1] start with objective <= 0 and no gradient after "
        "optimization and 2 re-seeded tries (a dead unit?); they sample near the prior. Try "
        "another seed (--seed 1, say), or start from images the unit responds to (--init)."
    ) in capsys.readouterr().err


@pytest.mark.slow
def test_images_a_fixed_input_resizes_are_warned_about_with_the_size_to_use(tmp_path, capsys):
    code = cli.main(
        [
            "render",
            "--model",
            "conftest:fixed_gabor_keras_model",
            "--objective",
            "gabor_relu:0",
            "--size",
            "32",
            "--steps",
            "2",
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    assert code == 0
    assert (
        "samplevis: images of 32x32 px are shrunk, losing their finer detail, to the 16x16 px "
        "input of model 'conftest.fixed_gabor_keras_model'. Render at that size: --size 16.\n"
    ) in capsys.readouterr().err
    code = cli.main(
        [
            "sample",
            "--model",
            "conftest:wide_gabor_keras_model",
            "--objective",
            "gabor_relu:0",
            "--size",
            "24",
            "--num-chains",
            "1",
            "--num-results",
            "2",
            "--num-burnin-steps",
            "2",
            "--optimize-steps",
            "2",
            "--temperature-steps",
            "0",
            "--out",
            str(tmp_path / "wide"),
            "--quiet",
        ]
    )
    assert code == 0
    err = capsys.readouterr().err
    assert (
        err.count(
            "samplevis: images of 24x24 px are stretched to the 24x32 px input of model "
            "'conftest.wide_gabor_keras_model'. The command line renders square images; "
            "for 24x32 use the Python API: param.image(32, 24).\n"
        )
        == 1
    )


def test_render_whose_objective_turns_nan_writes_the_last_finite_images(tmp_path, capsys):
    code = cli.main(
        [
            "render",
            "--model",
            "conftest:blowup_keras_model",
            "--objective",
            "blowup:0",
            "--size",
            "16",
            "--thresholds",
            "2",
            "2000",
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    last = int(re.search(r"NaN or infinite at step (\d+)", err).group(1)) - 1
    assert 2 < last < 2000 and f"Render at most {last} steps (--steps)" in err
    names = sorted(p.name for p in tmp_path.glob("*.png"))
    assert names == [f"channel__blowup___0_{step:04d}_0.png" for step in (2, last)]
    image = iio.imread(tmp_path / names[-1])
    assert image.mean() / 255 < 0.7  # finite: the grey level never passed 0.7


def test_sample_whose_starts_turn_nan_names_the_step_and_the_flag(tmp_path, capsys):
    code = cli.main(
        [
            "sample",
            "--model",
            "conftest:blowup_keras_model",
            "--objective",
            "blowup:0",
            "--size",
            "16",
            "--num-chains",
            "2",
            "--optimize-steps",
            "2000",
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    last = int(re.search(r"NaN or infinite at step (\d+)", err).group(1)) - 1
    assert 0 < last < 2000 and f"Lower --optimize-steps to {last} or less" in err
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_sample_writes_pngs_gif_and_diagnostics_and_says_why_no_trace_without_matplotlib(
    tmp_path, capsys, monkeypatch
):
    find_spec = importlib.util.find_spec  # as on an install without the plot extra
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "matplotlib" else find_spec(name, *a),
    )
    code = cli.main(
        [
            "sample",
            "--model",
            GABOR,
            "--objective",
            "gabor_relu:0",
            "--size",
            "32",
            "--num-results",
            "3",
            "--num-chains",
            "2",
            "--num-burnin-steps",
            "8",
            "--optimize-steps",
            "16",
            "--temperature-steps",
            "8",
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    assert code == 0
    assert not (tmp_path / "trace.png").exists()
    printed = capsys.readouterr()
    assert (
        "no trace.png: the trace plot of the chains needs matplotlib (pip install matplotlib)"
        in printed.err
    )
    optima = len(list(tmp_path.glob("facet_*_optimum.png")))  # one per facet the search kept
    facets = "1 facet's optimum" if optima == 1 else f"{optima} facets' optima"
    assert optima == len(json.loads((tmp_path / "diagnostics.json").read_text())["facets"])
    assert printed.out.splitlines() == [  # one line for the files, in the order written
        f"wrote 6 samples (sample_chain*_*.png), {facets} (facet_*_optimum.png), samples.gif, "
        f"std.png, structure.png, starts.png, diagnostics.json to {tmp_path}{os.sep}"
    ]
    assert len(list(tmp_path.glob("sample_chain*.png"))) == 6
    assert gif_seconds(tmp_path / "samples.gif") == 3 / 4  # one frame per sample, at 4 fps
    assert iio.imread(tmp_path / "std.png").shape == (2 + 32 + 2, 2 + 2 * (32 + 2), 3)
    report = json.loads((tmp_path / "diagnostics.json").read_text())
    assert len(report["activations"]) == 3 and len(report["diagnostics"]["accept_prob"]) == 2
    assert report["temperature"] > 0
    assert len(report["temperatures"]) == 1  # burn-in is one block of 8 steps, and it adapted T
    assert len(report["chain_temperatures"]) == 2 and report["target_ratio"] == 0.8
    assert len(report["gain_ratios"]) == 2
    assert report["options"]["prior_weight"] is None and report["prior_weight"] > 0
    # the facet search's facets, best first, each with the chains that sampled it
    # (the Gabor filter's best is a grating, which a probe round may polish past the seeds)
    assert report["facets"][0]["height"] == 1.0
    assert {f["found"] for f in report["facets"]} <= {"seed", "search round 1", "search round 2"}
    assert sorted(c for f in report["facets"] for c in f["chains"]) == [0, 1]


def known_run_result():
    """A known run of 2 chains and 3 samples: the starts' activations 10 and 20; chain 1's facet
    the heaviest, chain 0's 5 nats lighter, with standard errors 0.4 and 0.3."""
    from test_summaries import known_result

    return dataclasses.replace(
        known_result(),
        init_activations=np.array([10.0, 20.0], np.float32),
        log_masses=np.array([-5.0, 0.0]),
        log_mass_errors=np.array([0.4, 0.3]),
    )


def test_sample_report_holds_each_chains_log_mass_and_its_error(tmp_path):
    from samplevis import io, objectives
    from samplevis.cli import sample

    report = sample.run_report(objectives.channel("gabor_relu", 0), known_run_result())
    read = json.loads(io.write_json(tmp_path / "diagnostics.json", report).read_text())
    assert read["log_masses"] == [-5, 0]
    assert read["log_mass_errors"] == [0.4, 0.3]


@pytest.mark.slow
def test_render_and_sample_write_a_tensorboard_log_to_log_dir(tmp_path):
    assert (
        cli.main(
            [
                "render",
                "--model",
                GABOR,
                "--objective",
                "gabor_relu:1",
                "--size",
                "16",
                "--thresholds",
                "4",
                "8",
                "--out",
                str(tmp_path / "out"),
                "--quiet",
                "--log-dir",
                str(tmp_path / "logs/render"),
            ]
        )
        == 0
    )
    events = read_events(tmp_path / "logs/render")
    assert [step for step, _ in events["objective/image_0"]] == list(range(1, 9))
    assert [step for step, _ in events["images"]] == [4, 8]
    assert (
        cli.main(
            [
                "sample",
                "--model",
                GABOR,
                "--objective",
                "gabor_relu:0",
                "--size",
                "16",
                "--num-results",
                "3",
                "--num-chains",
                "2",
                "--num-burnin-steps",
                "4",
                "--optimize-steps",
                "4",
                "--temperature-steps",
                "0",
                "--out",
                str(tmp_path / "out"),
                "--quiet",
                "--log-dir",
                str(tmp_path / "logs/sample"),
            ]
        )
        == 0
    )
    events = read_events(tmp_path / "logs/sample")
    every = options.OPTIONS["num_steps_between_results"].default + 1  # steps per kept sample
    for c in range(2):  # each chain's start, its burn-in steps and samples
        assert [step for step, _ in events[f"activation/chain_{c}"]] == [0, 1, 2, 3, 4] + [
            4 + every * i for i in (1, 2, 3)
        ]
        assert len(events[f"samples/chain_{c}"]) == 3
    assert [step for step, _ in read_events(tmp_path / "logs/sample/starts")["objective"]] == [
        1,
        2,
        3,
        4,
    ]


@pytest.mark.parametrize("command", ["render", "sample"])
def test_a_log_dir_that_is_a_file_exits_2_naming_the_flag_before_the_model_loads(
    tmp_path, capsys, command
):
    (tmp_path / "taken").write_text("keep me")
    # a model that does not exist: the log folder fails first
    code = cli.main(
        [
            command,
            "--model",
            "nosuch",
            "--objective",
            "gabor_relu:0",
            "--log-dir",
            str(tmp_path / "taken"),
            "--out",
            str(tmp_path / "out"),
            "--quiet",
        ]
    )
    assert code == 2
    assert capsys.readouterr().err == (
        f"samplevis: --log-dir {str(tmp_path / 'taken')!r} is a "
        "file; give a folder for the TensorBoard log (it is "
        "created if missing).\n"
    )
    assert (tmp_path / "taken").read_text() == "keep me"
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_sample_starts_its_chains_from_given_image_files(tmp_path, capsys):
    from samplevis import io

    stripes = np.zeros((24, 40, 3), np.uint8)  # vertical stripes 6 px apart, wider than tall
    stripes[:, ::6] = 255
    iio.imwrite(tmp_path / "stripes.png", stripes)
    code = cli.main(
        [
            "sample",
            "--model",
            GABOR,
            "--objective",
            "gabor_relu:0",
            "--size",
            "16",
            "--num-results",
            "2",
            "--num-chains",
            "2",
            "--num-burnin-steps",
            "4",
            "--temperature-steps",
            "0",
            "--init",
            str(tmp_path / "stripes.png"),
            "--out",
            str(tmp_path / "out"),
            "--quiet",
        ]
    )
    assert code == 0
    report = json.loads((tmp_path / "out" / "diagnostics.json").read_text())
    assert report["options"]["init"] == [str(tmp_path / "stripes.png")]
    assert "optimize_steps" not in report["options"]  # the given images were not optimized
    expected = io.load_images([tmp_path / "stripes.png"], 16)[0]
    starts = iio.imread(tmp_path / "out" / "starts.png") / 255.0  # two chains side by side
    for c in range(2):
        cell = starts[2:18, 2 + 18 * c : 18 + 18 * c]
        np.testing.assert_allclose(cell, expected, atol=0.02)
    assert "of the starts' activation" in capsys.readouterr().err
    assert (
        cli.main(
            [
                "sample",
                "--model",
                GABOR,
                "--objective",
                "gabor_relu:0",
                "--num-chains",
                "4",
                "--init",
                *[str(tmp_path / "stripes.png")] * 2,
                "--out",
                str(tmp_path / "out2"),
                "--quiet",
            ]
        )
        == 2
    )
    assert "one per chain (--num-chains 4); got 2 files" in capsys.readouterr().err


@pytest.mark.slow
def test_sample_takes_a_given_prior_weight_and_transform_count(tmp_path):
    code = cli.main(
        [
            "sample",
            "--model",
            GABOR,
            "--objective",
            "gabor_relu:0",
            "--size",
            "32",
            "--num-results",
            "1",
            "--num-chains",
            "2",
            "--num-burnin-steps",
            "4",
            "--optimize-steps",
            "8",
            "--temperature-steps",
            "0",
            "--prior-weight",
            "3",
            "--num-transforms",
            "3",
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    assert code == 0
    report = json.loads((tmp_path / "diagnostics.json").read_text())
    assert report["prior_weight"] == 3.0 and report["options"]["num_transforms"] == 3
    assert not (tmp_path / "std.png").exists()  # one sample per chain has no spread


@pytest.mark.slow
def test_a_second_run_into_the_same_folder_replaces_the_first(tmp_path, capsys):
    def sample(num_results):
        return cli.main(
            [
                "sample",
                "--model",
                GABOR,
                "--objective",
                "gabor_relu:0",
                "--size",
                "16",
                "--num-results",
                num_results,
                "--num-chains",
                "2",
                "--num-burnin-steps",
                "4",
                "--optimize-steps",
                "8",
                "--temperature-steps",
                "0",
                "--out",
                str(tmp_path),
                "--quiet",
            ]
        )

    assert sample("3") == 0
    assert len(list(tmp_path.glob("sample_chain*.png"))) == 6 and (tmp_path / "std.png").exists()
    capsys.readouterr()
    assert sample("1") == 0
    optima = sorted(p.name for p in tmp_path.glob("facet_*_optimum.png"))  # this run's facets
    assert optima == [f"facet_{k}_optimum.png" for k in range(len(optima))] and optima
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "diagnostics.json",
        *optima,
        "sample_chain0_000.png",
        "sample_chain1_000.png",
        "samples.gif",
        "starts.png",
        "trace.png",
    ]
    err = capsys.readouterr().err
    # 6 sample PNGs less the 2 written again, std.png and structure.png
    assert f"removed 6 files an earlier run had written to {str(tmp_path)!r}" in err
    assert "std.png and structure.png need 2 samples per chain or more; not written" in err


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
    code = cli.main(
        [
            "render",
            "--model",
            GABOR,
            "--objective",
            "gabor_relu:1",
            "--size",
            "16",
            "--thresholds",
            "2",
            "--out",
            str(full),
            "--quiet",
        ]
    )
    assert code == shell.WRITE_FAILED == 1
    err = capsys.readouterr().err
    rescue = Path(re.search(r"No space left on device\); writing to '([^']+)' instead", err)[1])
    assert [p.name for p in rescue.iterdir()] == ["channel__gabor_relu___1_0002_0.png"]
    assert iio.imread(next(rescue.iterdir())).shape == (16, 16, 3)
    shutil.rmtree(rescue)


def test_chains_without_burn_in_at_a_tiny_step_are_reported_as_drifting(tmp_path, capsys):
    code = cli.main(
        [
            "sample",
            "--model",
            GABOR,
            "--objective",
            "gabor_relu:0",
            "--size",
            "32",
            "--num-results",
            "12",
            "--num-chains",
            "2",
            "--num-burnin-steps",
            "0",
            "--no-adapt-step-size",
            "--step-size",
            "0.002",
            "--num-steps-between-results",
            "0",
            "--optimize-steps",
            "16",
            "--search-rounds",
            "1",  # the starts this drift was measured from: the seeds and one deflation round
            "--temperature-steps",
            "0",
            "--cutoff",
            "none",
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    assert code == 0
    report = json.loads((tmp_path / "diagnostics.json").read_text())
    assert report["cutoff"] is None and report["num_moving"] == 2 * 3 * 32 * 17
    assert min(report["diagnostics"]["rhat"]) > 1.05
    err = capsys.readouterr().err
    assert "chains [0, 1] were still drifting" in err
    assert "Longer runs (--num-burnin-steps, --num-results) drift less" in err


@pytest.mark.slow
def test_chains_that_accept_no_step_are_reported_in_flags(tmp_path, capsys):
    code = cli.main(
        [
            "sample",
            "--model",
            GABOR,
            "--objective",
            "gabor_relu:0",
            "--size",
            "16",
            "--num-results",
            "4",
            "--num-chains",
            "2",
            "--num-burnin-steps",
            "0",
            "--no-adapt-step-size",
            "--step-size",
            "100",
            "--optimize-steps",
            "8",
            "--temperature-steps",
            "0",
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    assert code == 0
    err = capsys.readouterr().err
    assert (
        "samplevis: chains [0, 1] accepted no step while sampling, so their samples are all "
        "the same image. Give a smaller --step-size: with --no-adapt-step-size every chain "
        "keeps it."
    ) in err
    assert "UserWarning" not in err and "hmc_opts" not in err


def help_text(capsys, monkeypatch, command: str) -> str:
    """`samplevis COMMAND --help` as printed, on one line."""
    monkeypatch.setenv("COLUMNS", "10000")  # no words broken at hyphens
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    return " ".join(capsys.readouterr().out.split())


def test_sample_has_a_flag_for_every_hmc_option_stating_the_librarys_default(capsys, monkeypatch):
    text = help_text(capsys, monkeypatch, "sample")
    for name, option in options.OPTIONS.items():
        flag = "--" + name.replace("_", "-")
        if option.default is True:
            assert f"--no-{flag[2:]} turn off:" in text
        elif option.default is False:  # a switch that turns it on
            assert re.search(rf"{flag} [a-z]", text), name
        elif option.default is not None and name != "init":
            assert re.search(rf"{flag} \S+ .*?\(default {option.default}\)", text), name
    # what None stands for, in flags
    assert "(without --target-ratio: 0.8 unless --temperature is given)" in text
    assert (
        f"--num-chains NUM_CHAINS chains, each from its own start (default "
        f"{options.DEFAULT_NUM_CHAINS})" in text
    )


def test_render_and_atlas_state_the_librarys_defaults(capsys, monkeypatch):
    import inspect

    import samplevis
    from samplevis.optvis import optimize

    render = help_text(capsys, monkeypatch, "render")
    steps = inspect.signature(samplevis.render_vis).parameters["thresholds"].default[-1]
    assert f"--steps STEPS optimization steps (default {steps})" in render
    assert f"Adam's learning rate (default {optimize.DEFAULT_LEARNING_RATE})" in render
    assert f"--size SIZE image size in pixels (default {options.DEFAULT_IMAGE_SIZE})" in render
    atlas = help_text(capsys, monkeypatch, "atlas")
    for name, value in inspect.signature(samplevis.atlas).parameters.items():
        if name in ("steps", "size", "batch", "seed"):
            assert f"--{name} {name.upper()} " in atlas and f"(default {value.default})" in atlas


def test_unknown_layer_exits_with_the_closest_names(capsys):
    code = cli.main(["render", "--model", GABOR, "--objective", "gabor_rel:0", "--quiet"])
    assert code == 2
    assert "Closest layer names: gabor_relu" in capsys.readouterr().err


def test_malformed_objective_says_the_format_and_exits_2(capsys):
    code = cli.main(["render", "--model", GABOR, "--objective", "gabor_relu"])
    assert code == 2
    assert "must be 'layer:channel'" in capsys.readouterr().err


def test_an_out_path_that_is_a_file_fails_before_any_work(tmp_path, capsys):
    taken = tmp_path / "taken"
    taken.write_text("keep me")
    assert (
        cli.main(
            [
                "sample",
                "--model",
                GABOR,
                "--objective",
                "gabor_relu:0",
                "--out",
                str(taken),
                "--quiet",
            ]
        )
        == 2
    )
    assert "is a file; give a folder" in capsys.readouterr().err
    assert (
        cli.main(
            [
                "render",
                "--model",
                GABOR,
                "--objective",
                "gabor_relu:0",
                "--out",
                str(taken / "deeper"),
                "--quiet",
            ]
        )
        == 2
    )
    assert "lies under the file" in capsys.readouterr().err
    assert taken.read_text() == "keep me"


def test_interrupted_render_names_its_image_by_the_step_reached_and_exits_130(
    tmp_path, monkeypatch, capsys
):
    from samplevis.optvis import optimize

    # Ctrl-C during the second compiled call of 16 steps.
    monkeypatch.setattr(optimize, "_progress_bar", lambda *a: InterruptingBar(at_call=2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = cli.main(
            [
                "render",
                "--model",
                GABOR,
                "--objective",
                "gabor_relu:1",
                "--size",
                "16",
                "--thresholds",
                "16",
                "64",
                "--out",
                str(tmp_path),
                "--quiet",
            ]
        )
    assert code == shell.INTERRUPTED == 130
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [
        "channel__gabor_relu___1_0016_0.png",
        "channel__gabor_relu___1_0032_0.png",
    ]
    err = capsys.readouterr().err
    # said once, by the command, and not again as render_vis's Python warning
    assert err.count("interrupted") == 1 and "interrupted at step 32 of 64" in err
    assert not [w for w in caught if "interrupted" in str(w.message)]


def test_sample_interrupted_before_sampling_writes_the_starts_and_exits_130(
    tmp_path, monkeypatch, capsys
):
    from samplevis.sampling.target import temperature

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(temperature, "prior_floor", ctrl_c)  # after the starts are optimized
    code = cli.main(
        [
            "sample",
            "--model",
            GABOR,
            "--objective",
            "gabor_relu:0",
            "--size",
            "16",
            "--num-chains",
            "2",
            "--optimize-steps",
            "8",
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    assert code == shell.INTERRUPTED
    optima = sorted(p.name for p in tmp_path.glob("facet_*_optimum.png"))  # the search's facets
    assert optima == [f"facet_{k}_optimum.png" for k in range(len(optima))] and optima
    assert sorted(p.name for p in tmp_path.iterdir()) == ["diagnostics.json", *optima, "starts.png"]
    assert iio.imread(tmp_path / "starts.png").shape == (2 + 16 + 2, 2 + 2 * (16 + 2), 3)

    def reject(token):
        raise ValueError(f"non-standard JSON token {token}")

    report = json.loads((tmp_path / "diagnostics.json").read_text(), parse_constant=reject)
    assert report["interrupted"] and report["temperature"] is None
    assert report["prior_activation"] is None and report["diagnostics"] is None
    assert len(report["init_activations"]) == 2 and min(report["init_activations"]) > 0
    assert "interrupted; wrote the chains' starts; no samples had been drawn" in (
        capsys.readouterr().err
    )


def test_api_errors_name_the_command_line_flags(tmp_path, capsys):
    code = cli.main(
        [
            "sample",
            "--model",
            GABOR,
            "--objective",
            "gabor_relu:0",
            "--num-burnin-steps",
            "1",
            "--out",
            str(tmp_path / "out"),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "Raise --num-burnin-steps or set --no-adapt-step-size." in err, err
    assert not (tmp_path / "out").exists()  # a failed command leaves no folder behind


@pytest.mark.parametrize(
    "flags, message",
    [
        (
            ["--kernel", "nuts", "--mass", "fisher"],
            "--mass fisher with --kernel nuts needs "
            "--no-adapt-step-size (TFP's preconditioned NUTS cannot adapt its step size); use "
            "--kernel hmc or --mass identity.",
        ),
        (
            ["--temperature", "1", "--target-ratio", "0.5"],
            "give --temperature or --target-ratio, "
            "not both: the ratio sets the temperature; got --temperature 1.0, --target-ratio 0.5.",
        ),
        (
            ["--prior-weight", "-1"],
            "--prior-weight must be a finite number >= 0 (without "
            "--prior-weight: matched to the starts); got -1.0.",
        ),
        (["--num-results", "0"], "--num-results must be an int >= 1; got 0."),
        (["--kernel", "gibbs"], "--kernel must be one of ('hmc', 'mala', 'nuts'); got 'gibbs'."),
    ],
)
def test_option_errors_are_written_in_flags_before_the_model_loads(
    tmp_path, capsys, flags, message
):
    # a model that does not exist: the options fail first
    code = cli.main(
        [
            "sample",
            "--model",
            "nosuch",
            "--objective",
            "gabor_relu:0",
            *flags,
            "--out",
            str(tmp_path / "out"),
            "--quiet",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert err == f"samplevis: {message}\n"


@pytest.mark.slow
def test_sampling_without_burn_in_keeps_the_given_step_size(tmp_path):
    code = cli.main(
        [
            "sample",
            "--model",
            GABOR,
            "--objective",
            "gabor_relu:0",
            "--size",
            "16",
            "--num-results",
            "2",
            "--num-chains",
            "2",
            "--num-burnin-steps",
            "0",
            "--no-adapt-step-size",
            "--step-size",
            "0.002",
            "--optimize-steps",
            "8",
            "--temperature-steps",
            "0",
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    assert code == 0
    report = json.loads((tmp_path / "diagnostics.json").read_text())
    assert report["diagnostics"]["step_size"] == pytest.approx([0.002, 0.002])


def test_sizes_below_one_are_refused_by_the_flag_name(capsys):
    with pytest.raises(SystemExit):
        cli.main(["render", "--model", GABOR, "--objective", "gabor_relu:0", "--size", "0"])
    assert "argument --size: must be an int >= 1; got '0'" in capsys.readouterr().err


def test_a_keras_preset_without_a_network_names_the_built_in_model(no_network, tmp_path, capsys):
    code = cli.main(
        [
            "render",
            "--model",
            "mobilenet_v2",
            "--objective",
            "block_1_expand_relu:0",
            "--steps",
            "1",
            "--out",
            str(tmp_path / "out"),
            "--quiet",
        ]
    )
    assert code == 2
    assert "--model efficientnet_lite0" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["gallery", "{tmp}/nowhere"], "no folder"),
        (["gallery", "{tmp}"], "no .png or .gif files under"),
        (["gallery", "{tmp}/a.txt"], "a.txt' is a file; give the folder that holds the images"),
        (
            ["render", "--objective", "gabor_relu:0", "--thresholds"],
            "expected at least one argument",
        ),
        (["layers", "--model", "{tmp}/missing.keras"], "no model file"),
        (["layers", "--model", "samplevis:no_such_factory"], "cannot load model"),
        (["layers", "--model", "samplevis:__version__"], "is a str, not a function returning a"),
        (
            ["layers", "--model", "builtins:dict"],
            "returned a value of type dict; it must return a keras.Model",
        ),
        (
            ["layers", "--model", "conftest:gabor_keras_modle"],
            "'conftest' ({tests}/conftest.py) has no 'gabor_keras_modle'. Closest names: "
            "gabor_keras_model",
        ),
        (
            ["layers", "--model", "{tmp}/a.py"],
            "--model '{tmp}/a.py' is a Python file; add the "
            "function that returns the model: --model {tmp}/a.py:FUNCTION.",
        ),
        (
            ["sample", "--model", GABOR, "--objective", "gabro_relu:0"],
            "model 'conftest.gabor_keras_model' has no layer 'gabro_relu'. "
            "Closest layer names: gabor_relu, gabor. List all names with `samplevis layers --model "
            + GABOR,
        ),
        (["layers", "--model", ":"], "is not module:function"),
        (["layers", "--model", "os.path:join"], "needs a function that takes no arguments"),
        (
            ["layers", "--model", "conftest:unreachable_model"],
            "calling 'conftest:unreachable_model' failed: ConnectionError: URL fetch failure",
        ),
        (
            ["render", "--model", GABOR, "--objective", "gabor_relu:0", "--thresholds", "8", "4"],
            "--thresholds must increase, one image each",
        ),
        (
            ["sample", "--objective", "gabor_relu:0", "--num-reslts", "3"],
            "samplevis sample: error: unrecognized arguments: --num-reslts 3. Did you mean "
            "--num-results?",
        ),
        (
            ["render", "--objective", "gabor_relu:0", "--sed", "1", "--stepz=4"],
            "unrecognized arguments: --sed 1 --stepz=4. Did you mean --seed for --sed, --steps for "
            "--stepz?",
        ),
        (
            ["optimize", "--objective", "gabor_relu:0", "--frobnicate"],
            "unrecognized arguments: --frobnicate. See samplevis optimize --help.",
        ),
        (
            ["sample", "--objective", "gabor_relu:0", "--walk"],
            "samplevis sample: error: the walk between basins (--walk) is gone: on a two-facet "
            "unit its samples all stayed in one facet, where the facet search finds both "
            '(docs/sampling_designs.md, "The walk between basins"). The facet search finds the '
            "unit's facets and the chains sample inside each; for more facets give it more "
            "rounds: --search-rounds.",
        ),
        (
            ["sample", "--objective", "gabor_relu:0", "--move-size=0.5"],
            "samplevis sample: error: --move-size set the walk between basins, which is gone",
        ),
    ],
)
def test_input_the_command_cannot_use_exits_2_with_a_message(tmp_path, capsys, args, message):
    (tmp_path / "a.txt").write_text("not a folder")
    try:
        code = cli.main([a.format(tmp=tmp_path) for a in args])
    except SystemExit as err:  # argparse's own errors exit from parse_args
        code = err.code
    assert code == 2
    assert message.format(tmp=tmp_path, tests=Path(__file__).parents[1]) in capsys.readouterr().err


NET_PY = """
import keras
from helpers import WIDTH  # a module beside this one


def build():
    inputs = keras.Input((None, None, 3))
    return keras.Model(inputs, keras.layers.Conv2D(WIDTH, 3, name="my_conv")(inputs))
"""


def test_a_model_function_is_found_in_the_current_folder_or_by_its_file(
    tmp_path, monkeypatch, capsys
):
    models = tmp_path / "models"
    models.mkdir()
    (models / "mynet.py").write_text(NET_PY)
    (models / "helpers.py").write_text("WIDTH = 7\n")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["layers", "--model", "models/mynet.py:build"]) == 0
    assert re.search(r"my_conv +Conv2D +\?x\?x7 +7", capsys.readouterr().out)
    assert cli.main(["layers", "--model", "mynet:build"]) == 2  # not in this folder
    err = capsys.readouterr().err
    assert f"no module 'mynet' in the current folder ({tmp_path})" in err
    assert "--model path/to/mynet.py:build" in err
    monkeypatch.chdir(models)
    assert cli.main(["layers", "--model", "mynet:build"]) == 0
    assert "my_conv" in capsys.readouterr().out


@pytest.mark.parametrize(
    "source, message",
    [
        (
            "import no_such_package_here\n",
            "importing it failed: No module named 'no_such_package_here'",
        ),
        ("def build(:\n", "importing it failed: SyntaxError"),
        ("x = 1\n", "has no 'build'"),
        (
            "def build():\n    return missing_name\n",
            "calling '{path}:build' failed: NameError: name "
            "'missing_name' is not defined ({path}, line 2)",
        ),
        (
            "def build():\n    return len(1, 2)\n",
            "calling '{path}:build' failed: TypeError: len() "
            "takes exactly one argument (2 given) ({path}, line 2)",
        ),  # not "needs no arguments"
    ],
)
def test_a_model_module_that_fails_to_import_says_why(tmp_path, capsys, source, message):
    (tmp_path / "broken.py").write_text(source)
    assert cli.main(["layers", "--model", f"{tmp_path}/broken.py:build"]) == 2
    assert message.format(path=tmp_path / "broken.py") in capsys.readouterr().err


def test_a_model_file_keras_cannot_read_exits_2_naming_it(tmp_path, capsys):
    (tmp_path / "notes.keras").write_text("not a model")
    assert cli.main(["layers", "--model", str(tmp_path / "notes.keras")]) == 2
    assert "cannot read model file" in capsys.readouterr().err


@pytest.mark.slow
def test_gallery_shows_a_sample_run_as_a_section_with_a_strip_per_chain_and_its_summary(
    tmp_path, capsys
):
    assert (
        cli.main(
            [
                "sample",
                "--model",
                GABOR,
                "--objective",
                "gabor_relu:0",
                "--size",
                "16",
                "--num-results",
                "4",
                "--num-chains",
                "2",
                "--num-burnin-steps",
                "4",
                "--optimize-steps",
                "8",
                "--temperature-steps",
                "0",
                "--out",
                str(tmp_path / "run"),
                "--quiet",
            ]
        )
        == 0
    )
    printed = [
        line
        for line in capsys.readouterr().err.splitlines()
        if line.startswith(
            (
                "T ",
                "log-masses of each chain's basin",
                "seconds: ",
                "samples keep",
                "share of each start's gain",
                "patterns: ",
                "acceptance probability",
            )
        )
        or re.match(r"\d+ facets? at >= 0.8 of the best \(\d+ found by the search\)", line)
    ]
    assert len(printed) == 8
    assert json.loads((tmp_path / "run" / "diagnostics.json").read_text())["summary"] == printed
    cli.main(
        [
            "render",
            "--model",
            GABOR,
            "--objective",
            "gabor_relu:1",
            "--size",
            "16",
            "--thresholds",
            "1",
            "--out",
            str(tmp_path / "renders"),
            "--quiet",
        ]
    )
    assert cli.main(["gallery", str(tmp_path)]) == 0
    page = (tmp_path / "index.html").read_text()
    section = re.search(r"<section>(.*)</section>", page, re.S).group(1)
    assert f"<h2>{html.escape(shell.objective('gabor_relu:0').name)} (run/)</h2>" in section
    folded = dict(re.findall(r"<details><summary>(.*?)</summary>(.*?)</details>", section))
    summary = folded["Summary, as samplevis sample printed it"]
    assert all(f"<p>{html.escape(line)}</p>" in summary for line in printed)
    rows = re.findall(r"<div>(.*?)</div>", section)
    assert [re.findall(r'src="([^"]+)"', row) for row in rows] == [
        ["run/starts.png", "run/samples.gif", "run/trace.png"]
    ]
    # a strip per facet, best first: its optimum, then its chains' 4 samples in order, each
    # with its activation
    report = json.loads((tmp_path / "run" / "diagnostics.json").read_text())
    facets = report["facets"]
    assert facets and sorted(c for f in facets for c in f["chains"]) == [0, 1]
    strips = strips_of(section)
    assert [(label, [src for src, _ in tiles], aside) for label, tiles, aside in strips] == [
        (
            f"facet {k}",
            [
                f"run/facet_{k}_optimum.png",
                *(f"run/sample_chain{c}_{i:03d}.png" for c in f["chains"] for i in range(4)),
            ],
            ["run/std.png", "run/structure.png"] * len(f["chains"]),
        )
        for k, f in enumerate(facets)
    ]
    activations = report["activations"]
    assert [[caption for _, caption in tiles] for _, tiles, _ in strips] == [
        [
            f"{f['height']:.2f} · optimum",
            *(run_figures.number(activations[i][c]) for c in f["chains"] for i in range(4)),
        ]
        for f in facets
    ]
    # the starts, the GIF's frames and the std map: one strip each, chains in the same order
    strip = (2 + 16 + 2, 2 + 2 * (16 + 2))
    assert iio.imread(tmp_path / "run" / "starts.png").shape[:2] == strip
    assert iio.imread(tmp_path / "run" / "std.png").shape[:2] == strip
    assert iio.imread(tmp_path / "run" / "structure.png").shape[:2] == strip
    # each chain's structural share, in the line and in the report
    shares = json.loads((tmp_path / "run" / "diagnostics.json").read_text())["structural_shares"]
    assert len(shares) == 2 and all(0 <= s <= 2 for s in shares)
    patterns = next(line for line in printed if line.startswith("patterns: "))
    assert ", ".join(f"{s:.2f}" for s in shares) in patterns
    assert iio.imread(tmp_path / "run" / "samples.gif", index=0).shape[:2] == strip
    assert iio.imread(tmp_path / "run" / "trace.png").shape[:2] == (350, 800)  # 8 x 3.5 in
    # the diagnostics in plain words, with this run's figures
    rhat = ", ".join(f"{r:.2f}" for r in report["diagnostics"]["rhat"])
    assert f"<p>Split R-hat per chain {rhat}: it compares the two halves of each chain" in section
    for start in (
        "Effective sample size per chain",
        "Acceptance probability per chain",
        f"No divergent step in {2 * report['diagnostics']['num_steps']}:",
        "E-BFMI per chain",
        "R-hat across chains",
    ):
        assert f"<p>{start}" in section, start
    outside = page.split("</section>")[1]  # the render's image, in the list after the runs
    assert re.findall(r'src="([^"]+)"', outside) == [
        p.relative_to(tmp_path).as_posix() for p in (tmp_path / "renders").glob("*.png")
    ]


def known_run(folder: Path) -> dict:
    """Write `known_run_result`, with known diagnostics, as `samplevis sample` writes a run to
    `folder`; its report."""
    from samplevis import objectives
    from samplevis.cli import sample
    from samplevis.sampling.mcmc.diagnostics import Diagnostics

    pair = (0.8, 0.9)
    diagnostics = Diagnostics(
        *(pair, pair, pair, pair),
        divergences=(0, 0),
        num_steps=6,
        rhat=(1.01, 1.02),
        ess=(2.5, 2.9),
        e_bfmi=(0.9, 1.1),
        rhat_across_chains=3.0,
        scalar="activation",
        num_results=3,
        interrupted=False,
    )
    result = dataclasses.replace(known_run_result(), diagnostics=diagnostics)
    report = sample.run_report(objectives.channel("gabor_relu", 0), result)
    sample.write_sample(folder, result, report)
    return report


def strips_of(section: str) -> list[tuple[str, list[tuple[str, str]], list[str]]]:
    """(label, its strip's (image, caption) in order, its aside's images) per chain."""
    tile = r'<figure class="tile"[^>]*>.*?<img src="([^"]+)".*?<figcaption>(.*?)</fig'
    found = []
    for block in re.findall(
        r'<div class="chain"[^>]*>(.*?)(?=<div class="chain"|</div><t)', section
    ):
        label = re.match(r"<b>(.*?)</b>", block).group(1)
        strip, _, aside = block.partition('<div class="aside">')
        tiles = [(src, html.unescape(caption)) for src, caption in re.findall(tile, strip)]
        found.append((label, tiles, [src for src, _ in re.findall(tile, aside)]))
    return found


def test_gallery_shows_each_chain_as_one_strip_in_the_order_drawn_with_each_samples_activation(
    tmp_path, capsys
):
    known_run(tmp_path / "run")
    assert cli.main(["gallery", str(tmp_path)]) == 0
    section = re.search(r"<section>(.*)</section>", (tmp_path / "index.html").read_text(), re.S)[1]
    # the start, then the samples in the order drawn, the activation under each; the chain's
    # std and structure tiles beside
    assert strips_of(section) == [
        (
            "chain 0",
            [
                ("run/starts.png", "10.0 · start"),
                ("run/sample_chain0_000.png", "7.00"),
                ("run/sample_chain0_001.png", "9.00"),
                ("run/sample_chain0_002.png", "11.0"),
            ],
            ["run/std.png", "run/structure.png"],
        ),
        (
            "chain 1",
            [
                ("run/starts.png", "20.0 · start"),
                ("run/sample_chain1_000.png", "17.0"),
                ("run/sample_chain1_001.png", "19.0"),
                ("run/sample_chain1_002.png", "21.0"),
            ],
            ["run/std.png", "run/structure.png"],
        ),
    ]
    # images first, then one table of the figures, then the GIF and the trace plot; the words
    # folded away
    order = [section.index(part) for part in ("class=strips", "<table", "samples.gif", "<details")]
    assert order == sorted(order) and "<p>" not in section[: order[-1]].replace(
        '<p class="note">', ""
    )
    header = re.findall(r"<th>(.*?)</th>", section)
    rows = [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr><td>.*?</tr>", section)]
    assert [row[header.index("facet log-mass")] for row in rows] == ["-5.0 ± 0.4", "0.0 ± 0.3"]
    folded = dict(re.findall(r"<details><summary>(.*?)</summary>(.*?)</details>", section))
    assert (
        "<p>Split R-hat per chain 1.01, 1.02: it compares"
        in folded["The diagnostics in plain words"]
    )
    assert (
        "then its samples, each captioned with its activation." in (folded["What the images show"])
    )


def test_gallery_shows_a_row_per_facet_best_first_its_optimum_then_its_samples(tmp_path, capsys):
    from samplevis import objectives
    from samplevis.cli import sample
    from samplevis.sampling.report.result import Facet

    known_run(tmp_path / "run")  # a run without facets, which this one replaces
    size = known_run_result().init_images.shape[1:3]
    red, blue = (np.zeros([*size, 3], np.float32) for _ in range(2))
    red[..., 0], blue[..., 2] = 1.0, 1.0
    # the best facet is chain 1's, found by the seeds; chain 0's, at half its height, by the
    # search's second round
    facets = (
        Facet(red, 20.0, 1.0, "seed", (1,), None, 0.0, 0.3),
        Facet(blue, 10.0, 0.5, "search round 2", (0,), None, -5.0, 0.4),
    )
    result = dataclasses.replace(known_run_result(), facets=facets)
    report = sample.run_report(objectives.channel("gabor_relu", 0), result)
    written = sample.write_sample(tmp_path / "run", result, report)
    assert {"facet_0_optimum.png", "facet_1_optimum.png"} <= {p.name for p in written}
    assert [f["optimum"] for f in report["facets"]] == [
        "facet_0_optimum.png",
        "facet_1_optimum.png",
    ]
    assert (iio.imread(tmp_path / "run" / "facet_0_optimum.png")[..., :3] == [255, 0, 0]).all()
    assert (iio.imread(tmp_path / "run" / "facet_1_optimum.png")[..., :3] == [0, 0, 255]).all()
    assert cli.main(["gallery", str(tmp_path)]) == 0
    section = re.search(r"<section>(.*)</section>", (tmp_path / "index.html").read_text(), re.S)[1]
    assert strips_of(section) == [
        (
            "facet 0",
            [
                ("run/facet_0_optimum.png", "1.00 · optimum"),
                ("run/sample_chain1_000.png", "17.0"),
                ("run/sample_chain1_001.png", "19.0"),
                ("run/sample_chain1_002.png", "21.0"),
            ],
            ["run/std.png", "run/structure.png"],
        ),
        (
            "facet 1",
            [
                ("run/facet_1_optimum.png", "0.50 · optimum"),
                ("run/sample_chain0_000.png", "7.00"),
                ("run/sample_chain0_001.png", "9.00"),
                ("run/sample_chain0_002.png", "11.0"),
            ],
            ["run/std.png", "run/structure.png"],
        ),
    ]
    notes = re.findall(r'<p class="note strip-note">(.*?)</p>', section)
    assert [html.unescape(note) for note in notes] == [
        "facet 0: height 1.00 of the best, found by the seeds, log-mass 0.0 ± 0.3 nats; chain 1",
        "facet 1: height 0.50 of the best, found by search round 2, log-mass -5.0 ± 0.4 nats; "
        "chain 0",
    ]
    # a facet whose log-mass was not measured says so
    unmeasured = dataclasses.replace(facets[1], log_mass=np.nan, log_mass_error=np.inf)
    assert run_figures.facet_note(
        1,
        sample.run_report(
            objectives.channel("gabor_relu", 0),
            dataclasses.replace(result, facets=(facets[0], unmeasured)),
        )["facets"][1],
    ) == (
        "facet 1: height 0.50 of the best, found by search round 2, log-mass not measured; chain 0"
    )
    # the chains' starts, no longer in the strips, show with the run's other images
    assert 'src="run/starts.png"' in section
    # a run without facets writes no optima and removes the earlier run's
    known_run(tmp_path / "run")
    assert not list((tmp_path / "run").glob("facet_*_optimum.png"))


def test_gallery_of_a_run_written_with_the_walk_between_basins_shows_its_strips_without_it(
    tmp_path, capsys
):
    from samplevis import io

    report = known_run(tmp_path / "run")
    # as a run wrote them before the walk between basins was removed (after 998226f)
    report |= {
        "basins": [[0, 0], [1, 0], [1, 1]],
        "basin_activations": [[10, 20], [9, 20], [9, 17]],
        "basin_log_masses": [[-1, 0], [-5, 0], [-5, -0.5]],
        "moves": {"proposed": [2, 2], "accepted": [1, 1]},
    }
    io.write_json(tmp_path / "run" / "diagnostics.json", report)
    assert cli.main(["gallery", str(tmp_path)]) == 0
    assert capsys.readouterr().err == ""  # nothing skipped
    section = re.search(r"<section>(.*)</section>", (tmp_path / "index.html").read_text(), re.S)[1]
    # the activation alone under each sample
    assert [tiles for _, tiles, _ in strips_of(section)] == [
        [
            ("run/starts.png", "10.0 · start"),
            ("run/sample_chain0_000.png", "7.00"),
            ("run/sample_chain0_001.png", "9.00"),
            ("run/sample_chain0_002.png", "11.0"),
        ],
        [
            ("run/starts.png", "20.0 · start"),
            ("run/sample_chain1_000.png", "17.0"),
            ("run/sample_chain1_001.png", "19.0"),
            ("run/sample_chain1_002.png", "21.0"),
        ],
    ]
    header = re.findall(r"<th>(.*?)</th>", section)
    assert "basins visited" not in header and "moves kept" not in header
    assert "facet log-mass" in header and "acceptance" in header


def test_gallery_lists_every_image(tmp_path, capsys):
    cli.main(
        [
            "render",
            "--model",
            GABOR,
            "--objective",
            "gabor_relu:1",
            "--size",
            "16",
            "--thresholds",
            "1",
            "2",
            "3",
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    assert cli.main(["gallery", str(tmp_path)]) == 0
    page = (tmp_path / "index.html").read_text()
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert len(pngs) == 3 and page.count("<img") == 3
    assert all(f'src="{name}"' in page for name in pngs)


def test_gallery_shows_what_a_half_written_stopped_or_older_run_left_and_names_what_it_skipped(
    tmp_path, capsys
):
    from PIL import Image

    reports = {
        "half": '{"objective": "channel(\'gabor_relu\', 1)", "options": {"num_res',
        "older": json.dumps({"objective": "mixed4a:3", "diagnostics": {"accept": [0.7]}}),
        "stopped": json.dumps(
            {"objective": "mixed4a:5", "summary": [], "diagnostics": None, "interrupted": True}
        ),
        "other": json.dumps({"loss": 0.5}),  # another program's file
    }
    images = {
        "half": ["starts.png", "sample_chain0_000.png", "sample_chain0_001.png"],
        "older": ["starts.png", "sample_chain0_000.png"],
        "stopped": ["starts.png"],
        "other": ["plot.png"],
    }
    for folder, text in reports.items():
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "diagnostics.json").write_text(text)
        for name in images[folder]:
            Image.new("RGB", (8, 8)).save(tmp_path / folder / name)
    assert cli.main(["gallery", str(tmp_path)]) == 0
    assert capsys.readouterr().err.splitlines() == [
        "samplevis: a sample run (half/): skipped the objective, summary and diagnostics: its "
        "diagnostics.json is not valid JSON (written only in part?).",
        "samplevis: mixed4a:3 (older/): skipped the summary, which this diagnostics.json lacks "
        "(an older run?); the diagnostics, which are of another version.",
    ]
    page = (tmp_path / "index.html").read_text()
    sections = dict(re.findall(r"<section><h2>(.*?)</h2>(.*?)</section>", page, re.S))
    assert list(sections) == ["a sample run (half/)", "mixed4a:3 (older/)", "mixed4a:5 (stopped/)"]
    for heading, folder in zip(sections, ["half", "older", "stopped"]):
        shown = re.findall(r'src="([^"]+)"', sections[heading])
        assert sorted(shown) == [f"{folder}/{name}" for name in sorted(images[folder])]
    assert re.findall(r"<p>(.*?)</p>", sections["mixed4a:5 (stopped/)"]) == [
        "The run was interrupted before its first sample: these are the chains&#x27; starts."
    ]
    assert 'src="other/plot.png"' in page.split("</section>")[-1]  # with the loose images


def test_optimize_is_the_optimizing_command_and_render_its_earlier_name(tmp_path):
    outs = []
    for name in ("optimize", "render"):
        out = tmp_path / name
        args = [name, "--model", GABOR, "--objective", "gabor_relu:1", "--size", "16"]
        code = cli.main([*args, "--steps", "4", "--seed", "0", "--out", str(out), "--quiet"])
        assert code == 0
        outs.append(sorted(p.name for p in out.iterdir()))
    assert outs[0] == outs[1] and outs[0]
