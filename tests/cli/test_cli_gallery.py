"""`samplevis gallery`: index.html with a section for each sample run (a strip per facet or chain,
its figures, the diagnostics in words) and every other image; what a half-written, stopped or
older run left is shown, and what was skipped is named."""

import dataclasses
import html
import json
import re
import shutil
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from samplevis import cli
from samplevis.cli import shell
from samplevis.sampling.report import run_figures

from cli_args import optimize


@pytest.mark.slow
def test_gallery_shows_a_sample_run_as_a_section_with_a_strip_per_chain_and_its_summary(
    tmp_path, small_sample_run
):
    run = small_sample_run  # 4 samples of 2 chains at 16 px
    assert run.status == 0, run.err
    shutil.copytree(run.folder, tmp_path / "run")
    printed = [
        line
        for line in run.err.splitlines()
        if line.startswith(
            (
                "T ",
                "log-masses of each chain's basin",
                "seconds: ",
                "samples keep",
                "share of each start's gain",
                "patterns: ",
                "acceptance probability",
                "draws from their density",
                "not from their density",
                "processed like their photos",
            )
        )
        or re.match(r"\d+ facets? \(\d+ found by the search\)", line)
    ]
    assert len(printed) == 10
    assert json.loads((tmp_path / "run" / "diagnostics.json").read_text())["summary"] == printed
    cli.main(optimize(tmp_path / "renders", size=16, thresholds=1))
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
    # a strip per facet, best first: its optimum, then the draws of its chains that differ,
    # each with its activation, then where they vary, if it shows anything
    report = json.loads((tmp_path / "run" / "diagnostics.json").read_text())
    facets = report["facets"]
    assert facets and sorted(c for f in facets for c in f["chains"]) == [0, 1]
    assert all(1 <= len(f["shown"]) <= 4 for f in facets)
    off = {entry["chain"] for entry in report["chains_off_target"]}
    strips = strips_of(section)
    assert [(label, [src for src, _ in tiles], aside) for label, tiles, aside in strips] == [
        (
            f"facet {k}",
            [
                f"run/facet_{k}_optimum.png",
                *(f"run/sample_chain{c}_{i:03d}.png" for c, i in f["shown"]),
                *([f"run/{f['std_overlay']}"] if f["std_overlay"] else []),
            ],
            [],
        )
        for k, f in enumerate(facets)
    ]
    activations = report["activations"]
    best = facets[0]["activation"] / facets[0]["height"]  # every tile a share of it
    assert [
        [caption for _, caption in tiles][: 1 + len(f["shown"])]
        for (_, tiles, _), f in zip(strips, facets)
    ] == [
        [
            f"{f['height']:.2f} · optimum",
            *(
                f"{activations[i][c] / best:.2f} · chain {c}"
                + (" · not from its density" if c in off else "")
                for c, i in f["shown"]
            ),
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
    ):
        assert f"<p>{start}" in section, start
    # chains of different facets sample different densities: no R-hat compares them
    assert "across chains" not in section
    outside = page.split("</section>")[1]  # the optimized image, in the list after the runs
    assert re.findall(r'src="([^"]+)"', outside) == [
        p.relative_to(tmp_path).as_posix() for p in (tmp_path / "renders").glob("*.png")
    ]


def known_run(folder: Path) -> dict:
    """Write `known_run_result`, with known diagnostics, as `samplevis sample` writes a run to
    `folder`; its report."""
    from samplevis import objectives
    from samplevis.sampling.mcmc.diagnostics import Diagnostics
    from samplevis.sampling.report import run_folder
    from samplevis.sampling.report.run_json import record_of

    from sample_results import known_run_result

    pair = (0.8, 0.9)
    diagnostics = Diagnostics(
        *(pair, pair, pair, pair),
        divergences=(0, 0),
        num_steps=6,
        rhat=(1.01, 1.02),
        ess=(2.5, 2.9),
        e_bfmi=(0.9, 1.1),
        scalar="activation",
        num_results=3,
        interrupted=False,
    )
    result = dataclasses.replace(known_run_result(), diagnostics=diagnostics)
    report = record_of(result, objectives.channel("gabor_relu", 0).name)
    run_folder.write_run(folder, result, report)
    return report


def sentence(text: str) -> str:
    """`text` as a facet's line says it, a sentence of its own."""
    return text[0].upper() + text[1:]


def strips_of(section: str) -> list[tuple[str, list[tuple[str, str]], list[str]]]:
    """(label, its strip's (image, caption) in order, its aside's images) per chain."""
    tile = r'<figure class="tile[^"]*"[^>]*>.*?<img src="([^"]+)".*?<figcaption>(.*?)</fig'
    found = []
    for block in re.findall(
        r'<div class="chain"[^>]*>(.*?)(?=<div class="chain"|</div><t|</div></div>$)', section
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
    from samplevis.sampling.report import run_folder
    from samplevis.sampling.report.run import Facet
    from samplevis.sampling.report.run_json import record_of

    from sample_results import known_run_result

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
    report = record_of(result, objectives.channel("gabor_relu", 0).name)
    written = run_folder.write_run(tmp_path / "run", result, report)
    assert {"facet_0_optimum.png", "facet_1_optimum.png"} <= {p.name for p in written}
    assert [f["optimum"] for f in report["facets"]] == [
        "facet_0_optimum.png",
        "facet_1_optimum.png",
    ]
    assert (iio.imread(tmp_path / "run" / "facet_0_optimum.png")[..., :3] == [255, 0, 0]).all()
    assert (iio.imread(tmp_path / "run" / "facet_1_optimum.png")[..., :3] == [0, 0, 255]).all()
    assert cli.main(["gallery", str(tmp_path)]) == 0
    section = re.search(r"<section>(.*)</section>", (tmp_path / "index.html").read_text(), re.S)[1]
    # the samples are flat grey, which has no structure: each differs from every other, so
    # each facet shows all of its chain's three; their pixels vary alike everywhere: no std map
    assert [f["shown"] for f in report["facets"]] == [
        [[1, i] for i in range(3)],
        [[0, i] for i in range(3)],
    ]
    assert [f["std_overlay"] for f in report["facets"]] == [None, None]
    assert strips_of(section) == [
        (
            "facet 0",
            [
                ("run/facet_0_optimum.png", "1.00 · optimum"),
                ("run/sample_chain1_000.png", "0.85 · chain 1"),
                ("run/sample_chain1_001.png", "0.95 · chain 1"),
                ("run/sample_chain1_002.png", "1.05 · chain 1"),
            ],
            [],
        ),
        (
            "facet 1",
            [
                ("run/facet_1_optimum.png", "0.50 · optimum"),
                ("run/sample_chain0_000.png", "0.35 · chain 0"),
                ("run/sample_chain0_001.png", "0.45 · chain 0"),
                ("run/sample_chain0_002.png", "0.55 · chain 0"),
            ],
            [],
        ),
    ]
    notes = re.findall(r'<p class="note strip-note">(.*?)</p>', section)
    said = [(sentence(f["varied"]), sentence(f["std_note"])) for f in report["facets"]]
    assert [html.unescape(note) for note in notes] == [
        "facet 0: height 1.00 of the best, found by the seeds, log-mass 0.0 ± 0.3 nats; chain 1. "
        f"{said[0][0]}. {said[0][1]}",
        "facet 1: height 0.50 of the best, found by search round 2, log-mass -5.0 ± 0.4 nats; "
        f"chain 0. {said[1][0]}. {said[1][1]}",
    ]
    # chain 1's grey draws, 0.2 to 0.4 over a black start: up to 0.4 of 255 in every channel
    assert report["facets"][0]["varied"].startswith(
        "what varied in chain 1's 3 draws from its start: mean colour up to 102 levels of 255 "
        "(red +102, green +102, blue +102)"
    )
    # a facet whose log-mass was not measured says so
    unmeasured = dataclasses.replace(facets[1], log_mass=np.nan, log_mass_error=np.inf)
    assert run_figures.facet_note(
        1,
        record_of(
            dataclasses.replace(result, facets=(facets[0], unmeasured)),
            objectives.channel("gabor_relu", 0).name,
        )["facets"][1],
    ).startswith(
        "facet 1: height 0.50 of the best, found by search round 2, log-mass not measured; "
        "chain 0. What varied"
    )
    # the chains' starts, no longer in the strips, show with the run's other images
    assert 'src="run/starts.png"' in section
    # a run without facets writes no optima and removes the earlier run's
    known_run(tmp_path / "run")
    assert not list((tmp_path / "run").glob("facet_*_optimum.png"))


def textures(count: int, size: int, seed: int) -> np.ndarray:
    """`count` unrelated grey textures [count, size, size, 3] in [0.2, 0.8]: noise blurred by 1 px,
    structure a person tells apart."""
    from samplevis.sampling import metrics

    noise = np.random.default_rng(seed).normal(size=[count, size, size, 1])
    grey = metrics.gaussian_blur(noise, 1.0)
    grey = 0.5 + 0.3 * grey / np.abs(grey).max(axis=(1, 2, 3), keepdims=True)
    return np.repeat(grey, 3, axis=-1).astype(np.float32)


def test_gallery_shows_a_facets_draws_that_differ_and_marks_a_chain_off_its_target(tmp_path):
    from samplevis.sampling.mcmc.diagnostics import Diagnostics
    from samplevis.sampling.options import resolve_options
    from samplevis.sampling.report import run_folder
    from samplevis.sampling.report.run import Facet
    from samplevis.sampling.report.run_json import record_of

    from sample_results import known_run_result

    size, n = 32, 4
    start0, start1, other_a, other_b = textures(4, size, seed=0)
    images = np.empty([n, 2, size, size, 3], np.float32)
    # chain 0: two recoloured copies of its start and two with another texture in their left
    # half: they differ in structure, and where the draws vary is their left half, in each half
    # of the draws
    left_a, left_b = start0.copy(), start0.copy()
    left_a[:, : size // 2], left_b[:, : size // 2] = (
        other_a[:, : size // 2],
        other_b[:, : size // 2],
    )
    images[:, 0] = [start0 * [1.0, 0.97, 0.98], left_a, start0 * [0.98, 1.0, 0.97], left_b]
    # chain 1 (split R-hat 1.5: still drifting): its start relit
    images[:, 1] = [np.clip(start1 + 0.02 * i, 0, 1) for i in range(n)]
    pair = (0.8, 0.9)
    diagnostics = Diagnostics(
        *(pair, pair, pair, pair),
        divergences=(0, 0),
        num_steps=n,
        rhat=(1.01, 1.5),
        ess=(3.5, 3.9),
        e_bfmi=(0.9, 1.1),
        scalar="activation",
        num_results=n,
        interrupted=False,
        rhat_limits=(1.05, 1.05),
    )
    result = dataclasses.replace(
        known_run_result(),
        images=images,
        activations=np.array([[9.0, 19.0], [9.5, 19.5], [10.0, 20.0], [10.5, 20.5]], np.float32),
        init_images=np.stack([start0, start1]),
        diagnostics=diagnostics,
        # T given: no target share to keep
        options=resolve_options(dict(temperature=1.0)),
        temperatures=np.zeros([0, 2]),
        facets=(
            Facet(start0, 10.0, 1.0, "seed", (0,), None, 0.0, 0.3),
            Facet(start1, 20.0, 2.0, "search round 1", (1,), None, -5.0, 0.4),
        ),
    )
    report = record_of(result, "textures")
    assert report["chains_off_target"] == [{"chain": 1, "why": "split R-hat 1.50 over 1.05"}]
    shown = [tuple(pair) for pair in report["facets"][0]["shown"]]
    # the two other textures and one of the copies; chain 1's own draws, all copies: one
    assert len(shown) == 3 and {(0, 1), (0, 3)} < set(shown)
    assert len(set(shown) & {(0, 0), (0, 2)}) == 1
    assert len(report["facets"][1]["shown"]) == 1 and report["facets"][1]["shown_off_target"]
    # where chain 0's draws vary, over its start; chain 1's relit draws vary alike everywhere
    assert [f["std_overlay"] for f in report["facets"]] == ["facet_0_std.png", None]
    assert report["facets"][1]["std_note"].startswith("no std map: the draws' pixels vary about")
    written = run_folder.write_run(tmp_path / "run", result, report)
    assert tmp_path / "run" / "facet_0_std.png" in written
    overlay = iio.imread(tmp_path / "run" / "facet_0_std.png")[..., :3].astype(float)
    heat = overlay[..., 0] - overlay[..., 2]  # red to yellow; none in the grey start
    assert heat[:, 2:14].mean() > 100 > 10 > heat[:, 20:30].mean()
    assert cli.main(["gallery", str(tmp_path)]) == 0
    page = (tmp_path / "index.html").read_text()
    # the draws not shown, std.png and structure.png are not listed as loose images either
    assert "<img" not in page.split("</section>")[-1]
    section = re.search(r"<section>(.*)</section>", page, re.S)[1]
    strips = strips_of(section)
    assert strips[0][1] == [
        ("run/facet_0_optimum.png", "1.00 · optimum"),
        *(
            (
                f"run/sample_chain0_{i:03d}.png",
                # a share of the best facet's activation, 10
                f"{float(result.activations[i, 0]) / 10:.2f} · chain 0",
            )
            for _, i in shown
        ),
        ("run/facet_0_std.png", "std · chain 0"),
    ]
    ((_, i),) = report["facets"][1]["shown"]
    activation = float(result.activations[i, 1])
    assert strips[1][1][1] == (
        f"run/sample_chain1_{i:03d}.png",
        f"{activation / 10:.2f} · chain 1 · not from its density",
    )
    marked = re.findall(r'<figure class="tile off-target" title="([^"]*)"', section)
    assert [html.unescape(title) for title in marked] == [
        f"chain 1, sample {i}: activation {activation:.4g} ({activation / 20:.2f} of the "
        "start's). Not from its density (split R-hat 1.50 over 1.05): it shows where the chain "
        "was going, not its density at the frozen T"
    ]
    assert all(not aside for _, _, aside in strips)  # std.png and structure.png: in the row
    notes = [html.unescape(n) for n in re.findall(r'<p class="note strip-note">(.*?)</p>', section)]
    assert all(sentence(report["facets"][k]["varied"]) in note for k, note in enumerate(notes))
    # a record from before the draws were chosen shows every draw, nothing marked
    for facet in report["facets"]:
        del facet["shown"]
    del report["chains_off_target"]
    (tmp_path / "run" / "diagnostics.json").write_text(json.dumps(report))
    assert cli.main(["gallery", str(tmp_path)]) == 0
    section = re.search(r"<section>(.*)</section>", (tmp_path / "index.html").read_text(), re.S)[1]
    assert [[src for src, _ in tiles][1 : 1 + n] for _, tiles, _ in strips_of(section)] == [
        [f"run/sample_chain{c}_{i:03d}.png" for i in range(n)] for c in (0, 1)
    ]
    assert "off-target" not in section


def test_gallery_shows_each_kind_of_photo_as_a_section_with_how_strongly_the_unit_answers(
    tmp_path,
):
    from samplevis.sampling.report import run_folder
    from samplevis.sampling.report.run import Facet
    from samplevis.sampling.report.run_json import record_of

    from sample_results import known_run_result

    size = known_run_result().init_images.shape[1:3]
    red, blue, dark = (np.full([*size, 3], v, np.float32) for v in (0.9, 0.5, 0.1))
    # peppers (two clusters) and theatres at 0.62 of them, their photos at 0.8
    facets = (
        Facet(red, 20.0, 1.0, "photos, cluster 0", (1,), None, 0.0, 0.3, photos_height=1.0),
        Facet(blue, 12.4, 0.62, "photos, cluster 2", (0,), None, -5.0, 0.4, (), 1, 0.8),
        Facet(dark, 19.0, 0.95, "photos, cluster 1", (), None, np.nan, np.nan, (), 0, 1.0),
    )
    result = dataclasses.replace(known_run_result(), facets=facets)
    report = record_of(result, "mixed")
    assert [(f["kind"], f["photos_height"]) for f in report["facets"]] == [(0, 1), (1, 0.8), (0, 1)]
    run_folder.write_run(tmp_path / "run", result, report)
    assert cli.main(["gallery", str(tmp_path)]) == 0
    page = (tmp_path / "index.html").read_text()
    sections = re.findall(r"<section><h2>(.*?)</h2>(.*?)</section>", page, re.S)
    assert [heading for heading, _ in sections] == [
        "mixed (run/)",
        "mixed (run/): kind 0",
        "mixed (run/): kind 1",
    ]
    assert not strips_of(sections[0][1])  # the run's section: its figures, no facets
    assert [label for label, _, _ in strips_of(sections[1][1])] == ["facet 0", "facet 2"]
    assert [label for label, _, _ in strips_of(sections[2][1])] == ["facet 1"]
    assert "<p>The kind the unit answers to most: 2 facets, best first.</p>" in sections[1][1]
    assert (
        "<p>The unit answers to this kind at 0.62 of the best, to its photos at 0.80: 1 facet, "
        "best first.</p>" in sections[2][1]
    )


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
    cli.main(optimize(tmp_path, size=16, thresholds=(1, 2, 3)))
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
