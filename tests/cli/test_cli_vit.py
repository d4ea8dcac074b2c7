"""The command line on a vision transformer's token layers: `layers` lists their grids; optimize,
examples, atlas and sample run on them; a view that does not apply is one line and status 2."""

import json

import numpy as np
import pytest
from PIL import Image

from samplevis import cli

import vit_models
from cli_args import optimize, sample

TOY = "vit_models:build"  # tests/ is on sys.path


def test_layers_lists_each_token_layers_grid_and_the_heads(capsys):
    assert cli.main(["layers", "--model", TOY]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split() == ["layer", "type", "output", "shape", "channels", "tokens"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert rows["mlp_fc1"].split()[1:] == [
        "Dense",
        "65x8",
        "8",
        "8x8",
        "patches",
        "+",
        "1",
        "token",
    ]
    assert rows["patch_tokens"].split()[-2:] == ["8x8", "patches"]
    assert rows["attention/heads"].split()[1:4] == ["attention", "heads", "65x2x4"]
    assert rows["patch_embed"].split()[1:] == ["Conv2D", "8x8x11", "11"]


@pytest.mark.slow
def test_optimize_examples_and_atlas_run_on_a_token_layer(tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    for i, at in enumerate([(1, 2), (6, 6), None, None]):  # the edge planted at (x, y)
        image = np.full((vit_models.SIZE, vit_models.SIZE, 3), 0.5, np.float32)
        if at is not None:
            image = vit_models.planted(3, *at)
        Image.fromarray(np.round(image * 255).astype(np.uint8)).save(photos / f"{i}.png")
    args = optimize(tmp_path / "opt", "mlp_fc1:6", TOY, steps=8, size=64)
    assert cli.main(args) == 0
    assert len(list((tmp_path / "opt").glob("*.png"))) == 1
    examples = ["examples", "--model", TOY, "--images", str(photos), "--layer", "mlp_fc1"]
    assert cli.main([*examples, "--top", "2", "--out", str(tmp_path / "ex")]) == 0
    index = json.loads((tmp_path / "ex" / "examples.json").read_text())
    edge = next(u for u in index["units"] if u["unit"] == "mlp_fc1:6")
    assert {e["file"]: e["box"] for e in edge["examples"]} == {
        "0.png": [8, 16, 16, 24],
        "1.png": [48, 48, 56, 56],
    }
    atlas = ["atlas", "--model", TOY, "--layers", "mlp_fc1", "--channels", "6-7", "--steps", "4"]
    assert cli.main([*atlas, "--size", "64", "--out", str(tmp_path / "atlas")]) == 0
    assert sorted(p.name for p in (tmp_path / "atlas" / "mlp_fc1").glob("*.png")) == [
        "6.png",
        "7.png",
    ]


@pytest.mark.parametrize(
    "model, objective, message",
    [
        (
            "vit_models:without_class_token",
            "mlp_fc1/class_token:0",
            "layer 'mlp_fc1' has no class token: its 64 tokens are the 8x8 patches",
        ),
        (TOY, "patch_embed/tokens:0", "'patch_embed' gives shape (8, 8, 11), not tokens [N, C]"),
        (TOY, "attention/heds:0", "Closest layer names: attention/heads"),
    ],
)
def test_a_token_view_that_does_not_apply_is_one_line_and_status_2(
    tmp_path, capsys, model, objective, message
):
    assert cli.main(optimize(tmp_path / "out", objective, model, steps=2)) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.slow
def test_sample_runs_on_a_token_layer(tmp_path):
    args = sample(
        tmp_path / "out",
        "mlp_fc1:6",
        TOY,
        size=64,
        num_results=2,
        num_chains=2,
        optimize_steps=16,
        num_burnin_steps=4,
        search_rounds=1,
    )
    assert cli.main(args) == 0
    assert len(list((tmp_path / "out").glob("sample_chain*.png"))) == 4
