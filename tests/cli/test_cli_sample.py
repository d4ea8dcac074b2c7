"""`samplevis sample`: a flag for every option of `render`'s hmc_opts; the run's samples, starts,
GIF, std map and diagnostics.json written whole; what went wrong said in flags."""

import importlib.util
import json
import os
import re
import shutil

import imageio.v3 as iio
import numpy as np
import pytest

from samplevis import cli
from samplevis.cli import shell
from samplevis.sampling import options

from cli_args import help_text, sample
from conftest import gif_seconds, read_events
from shared_runs import Run, run_capturing


@pytest.mark.slow
def test_sample_of_a_dead_unit_says_which_chains_and_names_the_flags_to_try(tmp_path, capsys):
    dead = sample(
        tmp_path,
        "dead:0",
        "conftest:dead_keras_model",
        size=16,
        num_chains=2,
        num_results=2,
        num_burnin_steps=2,
        optimize_steps=4,
        temperature=0.1,
    )
    assert cli.main(dead) == 0
    assert (
        "samplevis: chains [0, 1] start with objective <= 0 and no gradient after "
        "optimization and 2 re-seeded tries (a dead unit?); they sample near the prior. Try "
        "another seed (--seed 1, say), or start from images the unit responds to (--init)."
    ) in capsys.readouterr().err


def test_sample_whose_starts_turn_nan_names_the_step_and_the_flag(tmp_path, capsys):
    blowup = "conftest:blowup_keras_model"
    run = sample(tmp_path, "blowup:0", blowup, size=16, num_chains=2, optimize_steps=2000)
    assert cli.main(run) == 2
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
    run = sample(
        tmp_path,
        size=32,
        num_results=3,
        num_chains=2,
        num_burnin_steps=8,
        optimize_steps=16,
        temperature_steps=8,
    )
    assert cli.main(run) == 0
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


def test_sample_report_holds_each_chains_log_mass_and_its_error(tmp_path):
    from samplevis import io, objectives
    from samplevis.sampling.report.run_json import record_of

    from sample_results import known_run_result

    report = record_of(known_run_result(), objectives.channel("gabor_relu", 0).name)
    read = json.loads(io.write_json(tmp_path / "diagnostics.json", report).read_text())
    assert read["log_masses"] == [-5, 0]
    assert read["log_mass_errors"] == [0.4, 0.3]


@pytest.mark.slow
def test_sample_writes_a_tensorboard_log_to_log_dir(small_sample_run):
    run = small_sample_run  # 4 samples of 2 chains, 4 burn-in steps
    assert run.status == 0, run.err
    events = read_events(run.logs)
    every = options.STEPS_BETWEEN_RESULTS + 1  # steps per kept sample, off the photo route
    for c in range(2):  # each chain's start, its burn-in steps and samples
        assert [step for step, _ in events[f"activation/chain_{c}"]] == [0, 1, 2, 3, 4] + [
            4 + every * i for i in (1, 2, 3, 4)
        ]
        assert len(events[f"samples/chain_{c}"]) == 4
    # the starts' 4 optimization steps
    assert [step for step, _ in read_events(run.logs / "starts")["objective"]] == [1, 2, 3, 4]


@pytest.fixture(scope="module")
def given_starts_run(tmp_path_factory) -> tuple[str, Run]:
    """(the image file, the run): 2 chains started at one given image of vertical stripes,
    unpolished, with a step size of 100 kept from the first step (no burn-in)."""
    folder = tmp_path_factory.mktemp("given_starts")
    stripes = np.zeros((24, 40, 3), np.uint8)  # vertical stripes 6 px apart, wider than tall
    stripes[:, ::6] = 255
    image = str(folder / "stripes.png")
    iio.imwrite(image, stripes)
    status, err = run_capturing(
        sample(
            folder / "out",
            size=16,
            num_results=4,
            num_chains=2,
            num_burnin_steps=0,
            no_adapt_step_size=True,
            step_size=100,
            temperature_steps=0,
            init=image,
            polish_steps=0,  # the chains start at the given image itself
        )
    )
    return image, Run(status, err, folder / "out")


@pytest.mark.slow
def test_sample_starts_its_chains_from_given_image_files(given_starts_run, tmp_path, capsys):
    from samplevis import io

    image, run = given_starts_run
    assert run.status == 0, run.err
    report = json.loads((run.folder / "diagnostics.json").read_text())
    assert report["options"]["init"] == [image]
    assert "optimize_steps" not in report["options"]  # the given images were not optimized
    expected = io.load_images([image], 16)[0]
    starts = iio.imread(run.folder / "starts.png") / 255.0  # two chains side by side
    for c in range(2):
        cell = starts[2:18, 2 + 18 * c : 18 + 18 * c]
        np.testing.assert_allclose(cell, expected, atol=0.02)
    assert "of the starts' activation" in run.err
    assert cli.main(sample(tmp_path / "out2", num_chains=4, init=[image] * 2)) == 2
    assert "one per chain (--num-chains 4); got 2 files" in capsys.readouterr().err


@pytest.fixture(scope="module")
def second_run(tmp_path_factory, small_sample_run) -> Run:
    """A second run into a copy of `small_sample_run`'s folder: 1 sample per chain, with a
    given prior weight and 2 transformed copies per step (the default is 1)."""
    folder = tmp_path_factory.mktemp("second") / "run"
    shutil.copytree(small_sample_run.folder, folder)
    status, err = run_capturing(
        sample(
            folder,
            size=16,
            num_results=1,
            num_chains=2,
            num_burnin_steps=4,
            optimize_steps=4,
            temperature_steps=0,
            prior_weight=3,
            num_transforms=2,
        )
    )
    return Run(status, err, folder)


@pytest.mark.slow
def test_sample_takes_a_given_prior_weight_and_transform_count(second_run):
    assert second_run.status == 0, second_run.err
    report = json.loads((second_run.folder / "diagnostics.json").read_text())
    assert report["prior_weight"] == 3.0 and report["options"]["num_transforms"] == 2
    assert not (second_run.folder / "std.png").exists()  # one sample per chain has no spread


@pytest.mark.slow
def test_a_second_run_into_the_same_folder_replaces_the_first(small_sample_run, second_run):
    first = small_sample_run.folder  # what the second run's folder held
    assert len(list(first.glob("sample_chain*.png"))) == 8 and (first / "std.png").exists()
    assert second_run.status == 0, second_run.err
    tmp_path = second_run.folder
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
    # 8 sample PNGs less the 2 written again, std.png and structure.png
    assert f"removed 8 files an earlier run had written to {str(tmp_path)!r}" in second_run.err
    assert (
        "std.png and structure.png need 2 samples per chain or more; not written" in second_run.err
    )


@pytest.fixture(scope="module")
def tiny_step_run(tmp_path_factory) -> Run:
    """2 chains of 12 samples with no burn-in, no step between samples and a step size of
    0.002 kept throughout, from the seeds and one search round's starts."""
    folder = tmp_path_factory.mktemp("tiny_step")
    status, err = run_capturing(
        sample(
            folder,
            size=32,
            num_results=12,
            num_chains=2,
            num_burnin_steps=0,
            no_adapt_step_size=True,
            step_size=0.002,
            num_steps_between_results=0,
            optimize_steps=16,
            search_rounds=1,  # the starts this drift was measured from: the seeds and one round
            temperature_steps=0,
            cutoff="none",
        )
    )
    return Run(status, err, folder)


def test_chains_without_burn_in_at_a_tiny_step_are_reported_as_drifting(tiny_step_run):
    assert tiny_step_run.status == 0, tiny_step_run.err
    report = json.loads((tiny_step_run.folder / "diagnostics.json").read_text())
    assert report["cutoff"] is None and report["num_moving"] == 2 * 3 * 32 * 17
    assert min(report["diagnostics"]["rhat"]) > 1.05
    # both climb from their starts; a steady climb is named, while a bent one over 12 draws may
    # pass for a slow settled chain's wander (docs/sampling_designs.md, "The draws' tests")
    named = [c["chain"] for c in report["chains_off_target"]]
    assert named and all("still rising" in c["why"] for c in report["chains_off_target"])
    err = " ".join(tiny_step_run.err.split())
    assert f"chains {named} were still drifting" in err
    assert "A longer burn-in (--num-burnin-steps) gives them time to settle" in err


@pytest.mark.slow
def test_chains_that_accept_no_step_are_reported_in_flags(given_starts_run):
    _, run = given_starts_run  # a step size of 100, kept
    assert run.status == 0, run.err
    assert (
        "samplevis: chains [0, 1] accepted no step while sampling, so their samples are all "
        "the same image. Give a smaller --step-size: with --no-adapt-step-size every chain "
        "keeps it."
    ) in run.err
    assert "UserWarning" not in run.err and "hmc_opts" not in run.err


@pytest.mark.slow
def test_sampling_without_burn_in_keeps_the_given_step_size(tiny_step_run):
    assert tiny_step_run.status == 0, tiny_step_run.err
    report = json.loads((tiny_step_run.folder / "diagnostics.json").read_text())
    assert report["diagnostics"]["step_size"] == pytest.approx([0.002, 0.002])


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


def test_sample_interrupted_before_sampling_writes_the_starts_and_exits_130(
    tmp_path, monkeypatch, capsys
):
    from samplevis.sampling.density import temperature

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(temperature, "prior_floor", ctrl_c)  # after the starts are optimized
    assert cli.main(sample(tmp_path, size=16, num_chains=2, optimize_steps=8)) == shell.INTERRUPTED
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


@pytest.mark.parametrize(
    "flags, message",
    [
        (
            dict(kernel="nuts", mass="fisher"),
            "--mass fisher with --kernel nuts needs "
            "--no-adapt-step-size (TFP's preconditioned NUTS cannot adapt its step size); use "
            "--kernel hmc or --mass identity.",
        ),
        (
            dict(temperature=1, target_ratio=0.5),
            "give --temperature or --target-ratio, "
            "not both: the ratio sets the temperature; got --temperature 1.0, --target-ratio 0.5.",
        ),
        (
            dict(prior_weight=-1),
            "--prior-weight must be a finite number >= 0 (without "
            "--prior-weight: matched to the starts); got -1.0.",
        ),
        (dict(num_results=0), "--num-results must be an int >= 1; got 0."),
        (dict(kernel="gibbs"), "--kernel must be one of ('hmc', 'mala', 'nuts'); got 'gibbs'."),
        (
            dict(num_burnin_steps=1),
            "adapting the step size needs a burn-in to adapt in: --num-burnin-steps >= 2; got 1. "
            "Raise --num-burnin-steps or set --no-adapt-step-size.",
        ),
    ],
)
def test_option_errors_are_written_in_flags_before_the_model_loads(
    tmp_path, capsys, flags, message
):
    # a model that does not exist: the options fail first, and leave no folder behind
    assert cli.main(sample(tmp_path / "out", model="nosuch", **flags)) == 2
    assert capsys.readouterr().err == f"samplevis: {message}\n"
    assert not (tmp_path / "out").exists()
