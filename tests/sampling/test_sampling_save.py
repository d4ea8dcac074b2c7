"""`SampleResult.save` writes a run as `samplevis sample` does, so that `samplevis gallery` shows
a run made in Python; a result shows itself in a notebook as the gallery shows its folder."""

import dataclasses
import json
import re

import imageio.v3 as iio
import numpy as np
import pytest

from samplevis import cli
from samplevis.optvis import objectives

from cli_args import GABOR, sample
from sample_results import known_run_result

# The record's fields that time the run, and the summary's line of them.
TIMING = ("seconds",)


def timeless(record: dict) -> dict:
    """A run's record without what times it."""
    kept = {k: v for k, v in record.items() if k not in TIMING}
    kept["summary"] = [line for line in record["summary"] if not line.startswith("seconds:")]
    return kept


def pixels(path):
    return iio.imread(path) if path.suffix == ".png" else iio.imread(path, index=None)


@pytest.mark.slow
def test_a_run_saved_in_python_is_the_run_the_command_line_writes_and_shows(tmp_path):
    import samplevis
    from samplevis.optvis import param
    from samplevis.zoo.specs import load

    text = "max(gabor_relu:0, 0.5 * gabor_relu:1 / 2)"  # a composed unit, on the command line too
    flags = dict(size=24, num_chains=2, num_results=4, num_burnin_steps=4, optimize_steps=8)
    flags |= dict(temperature_steps=0, search_rounds=1, num_leapfrog_steps=2, seed=3)
    assert cli.main(sample(tmp_path / "cli", text, **flags)) == 0
    unit = objectives.maximum("gabor_relu:0", 0.5 * objectives.channel("gabor_relu", 1) / 2)
    hmc_opts = {k: v for k, v in flags.items() if k not in ("size", "seed")}
    result = samplevis.render(
        load(GABOR), unit, hmc_opts, param.image(24, batch=2), seed=3, progress=False
    )
    saved = result.save(tmp_path / "python")
    assert saved[-1].name == "diagnostics.json"
    ours = sorted(p.name for p in (tmp_path / "python").iterdir())
    assert ours == sorted(p.name for p in (tmp_path / "cli").iterdir())
    assert {"facet_0_optimum.png", "samples.gif", "starts.png", "trace.png"} <= set(ours)
    for name in ours:
        if name == "diagnostics.json":
            records = [json.loads((tmp_path / w / name).read_text()) for w in ("python", "cli")]
            assert timeless(records[0]) == timeless(records[1])
        elif name != "trace.png":  # a matplotlib figure: its pixels are the same run's
            np.testing.assert_array_equal(
                pixels(tmp_path / "python" / name), pixels(tmp_path / "cli" / name)
            )
    pages = []
    for where in ("python", "cli"):
        assert cli.main(["gallery", str(tmp_path / where)]) == 0
        page = (tmp_path / where / "index.html").read_text()
        pages.append(re.sub(r"seconds: [^;<]*", "", page))  # the timing figures
    assert pages[0] == pages[1]


def test_save_refuses_a_folder_it_cannot_write_naming_the_fix_and_keeps_the_result(tmp_path):
    result = dataclasses.replace(known_run_result(), objective="gabor")
    (tmp_path / "a_file").write_text("")
    with pytest.raises(NotADirectoryError, match=r"is a file; give a folder \(it is created"):
        result.save(tmp_path / "a_file")
    with pytest.raises(NotADirectoryError, match="lies under the file"):
        result.save(tmp_path / "a_file" / "run")
    assert not list(tmp_path.glob("a_file*/**"))
    written = result.save(tmp_path / "new" / "run")  # the result is whole: saved elsewhere
    assert (tmp_path / "new" / "run" / "diagnostics.json") in written


def test_the_command_line_writes_a_run_its_folder_refuses_to_a_temporary_one(tmp_path, capsys):
    from samplevis.cli import shell
    from samplevis.sampling.report.run_folder import save_run

    result = dataclasses.replace(known_run_result(), objective="gabor")
    (tmp_path / "a_file").write_text("")  # --out became a file while the run ran
    paths, in_out = shell.written(lambda f: save_run(f, result), tmp_path / "a_file")
    assert not in_out and paths[-1].name == "diagnostics.json" and paths[-1].is_file()
    assert "could not write to" in capsys.readouterr().err


def test_a_result_without_draws_saves_its_starts_as_the_command_line_does(tmp_path):
    started = dataclasses.replace(
        known_run_result(),
        images=np.zeros([0, 2, 4, 6, 3], np.float32),
        activations=np.zeros([0, 2], np.float32),
        interrupted=True,
    )
    names = [p.name for p in started.save(tmp_path)]
    assert "starts.png" in names and not any(n.startswith("sample_") for n in names)
    assert "interrupted before its first sample" in started._repr_html_()


def test_a_result_shows_itself_as_the_gallery_shows_its_folder_with_images_inline(tmp_path):
    from samplevis.sampling.report.gallery_section import run_section

    result = dataclasses.replace(known_run_result(), objective="gabor unit")
    html = result._repr_html_()
    result.save(tmp_path)
    sections, _ = run_section(tmp_path / "diagnostics.json", tmp_path)
    assert html.startswith('<div class="samplevis-gallery"><style>')
    assert html.count("<section>") == len(sections) and "<h2>gabor unit</h2>" in html
    sources = re.findall(r'src="([^"]*)"', html)
    assert sources and all(s.startswith("data:image/") for s in sources)  # no files needed
    assert "chain 0" in html and "What the images show" in html
    # its style restyles nothing of the notebook around it
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    assert all(rule.startswith(".samplevis-gallery") for rule in re.findall(r"[^{}]+(?=\{)", style))
