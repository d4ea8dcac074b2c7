"""samplevis.atlas: every channel on disk and in atlas.json, one compiled program per layer,
resuming, images independent of batching and of where they ran, the page in a real browser."""

import functools
import importlib
import importlib.util
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import samplevis
from samplevis import cli
from samplevis.models import UnknownLayerError
from samplevis.pages.templating import render

from atlas_models import ANGLES, gabor_net, gabor_net_killed_once
from conftest import CHROMIUM, CHROMIUM_FLAGS, InterruptingBar

atlas_module = importlib.import_module("samplevis.atlas")  # `samplevis.atlas` is the function
LAYER = "gabor_relu"
# Six channels, four at a time: a full batch, then a partial one.
SETTINGS = dict(steps=8, size=40, batch=4, seed=0, progress=False)


def pixels(folder: Path, channel: int) -> np.ndarray:
    return np.asarray(Image.open(folder / LAYER / f"{channel}.png"), np.int16)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The result of an atlas of every channel of the Gabor layer, and its settings."""
    result = samplevis.atlas(gabor_net(), LAYER, out=tmp_path_factory.mktemp("atlas"), **SETTINGS)
    return result, SETTINGS


@pytest.mark.slow
def test_every_channel_of_the_layer_is_in_atlas_json_and_on_disk(reference):
    result, _ = reference
    written = json.loads((result.out / "atlas.json").read_text())
    assert [(e["layer"], e["channel"]) for e in written["channels"]] == [
        (LAYER, c) for c in range(len(ANGLES))
    ]
    for entry in written["channels"]:
        assert entry["files"] == [f"{LAYER}/{entry['channel']}.png"]
        assert entry["steps"] == 8 and entry["seed"] == 0 and entry["seconds"] > 0
        assert entry["objective"] > 0  # a grating of its own orientation excites the channel
        assert Image.open(result.out / entry["files"][0]).size == (40, 40)
    assert written["layers"] == {LAYER: {"channels": len(ANGLES)}}
    assert result.rendered == len(ANGLES) and result.skipped == 0 and not result.interrupted
    assert (result.out / "index.html").is_file()


@pytest.mark.slow
def test_the_next_batch_and_the_partial_last_one_reuse_the_layers_compiled_program():
    settings = atlas_module.Settings(steps=8, size=40, batch=4, seed=0)
    renderers = atlas_module.LayerRenderers(samplevis.models.as_model(gabor_net()), settings)
    first = renderers.render_batch(LAYER, [0, 1, 2, 3])
    last = renderers.render_batch(LAYER, [4, 5])
    assert renderers.traces == 1  # two batches (4 + 2 channels), one trace
    assert [r.channel for r in first + last] == list(range(6))
    assert all(r.objective > 0 for r in first + last)  # each image excites its own channel


@pytest.mark.slow
def test_a_rerun_renders_nothing_and_rewrites_no_image(reference, monkeypatch):
    result, _ = reference
    before = {p: p.stat().st_mtime_ns for p in (result.out / LAYER).iterdir()}
    monkeypatch.setattr(
        atlas_module.LayerRenderers, "render_batch", lambda *a: pytest.fail("rendered again")
    )
    again = samplevis.atlas(gabor_net(), LAYER, out=result.out, **SETTINGS)
    assert (again.rendered, again.skipped) == (0, len(ANGLES))
    assert {p: p.stat().st_mtime_ns for p in (result.out / LAYER).iterdir()} == before


@pytest.mark.slow
def test_an_interrupted_run_leaves_a_valid_atlas_and_resumes_to_the_same_images(
    reference, tmp_path, monkeypatch
):
    def ctrl_c_after_first_batch(total, done, enabled):
        return InterruptingBar(at_call=1)

    monkeypatch.setattr(atlas_module, "_progress_bar", ctrl_c_after_first_batch)
    with pytest.warns(UserWarning, match="atlas interrupted after 4 of 6 channels"):
        stopped = samplevis.atlas(gabor_net(), LAYER, out=tmp_path, **SETTINGS)
    assert stopped.interrupted
    written = json.loads((tmp_path / "atlas.json").read_text())
    assert [e["channel"] for e in written["channels"]] == [0, 1, 2, 3]
    assert sorted(p.name for p in (tmp_path / LAYER).iterdir()) == [f"{c}.png" for c in range(4)]
    monkeypatch.undo()
    resumed = samplevis.atlas(gabor_net(), LAYER, out=tmp_path, **SETTINGS)
    assert (resumed.rendered, resumed.skipped, resumed.interrupted) == (2, 4, False)
    for channel in range(len(ANGLES)):
        np.testing.assert_array_equal(pixels(tmp_path, channel), pixels(reference[0].out, channel))


@pytest.mark.slow
def test_a_channels_image_does_not_depend_on_the_batch_it_lands_in(reference, tmp_path):
    # batch {1, 2, 3, 4} here; {0, 1, 2, 3} and {4, 5} in the reference: other batch-mates,
    # other places in the batch
    samplevis.atlas(gabor_net(), LAYER, channels="1-4", out=tmp_path, **SETTINGS)
    for channel in range(1, 5):
        difference = np.abs(pixels(tmp_path, channel) - pixels(reference[0].out, channel))
        assert difference.max() <= 1, channel  # float32 rounding may move a pixel by one level


@pytest.mark.slow
@pytest.mark.parametrize("param", ["image", "maco"])  # a MACO image is an RGB start as any
def test_samples_add_a_gif_and_a_strip_per_channel(tmp_path, param):
    hmc_opts = dict(
        kernel="mala",
        mass="identity",
        num_transforms=0,
        temperature=0.05,
        prior_weight=0.0,
        adapt_step_size=False,
        num_burnin_steps=0,
        num_steps_between_results=0,
        block_steps=3,
    )  # the quickest sampler
    result = samplevis.atlas(
        gabor_net(),
        LAYER,
        channels=[2],
        out=tmp_path,
        samples=3,
        hmc_opts=hmc_opts,
        param=param,
        **SETTINGS,
    )
    [entry] = result.entries
    assert entry["samples"] == 3
    assert entry["files"] == [f"{LAYER}/2.png", f"{LAYER}/2_samples.gif", f"{LAYER}/2_samples.png"]
    gif = Image.open(tmp_path / LAYER / "2_samples.gif")
    assert gif.n_frames == 3 and gif.size == (40, 40)
    strip = Image.open(tmp_path / LAYER / "2_samples.png")
    assert strip.size[0] > 3 * strip.size[1]  # the start and three samples side by side


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(layers="gabor_rleu"), UnknownLayerError, ["'gabor_rleu'", "gabor_relu"]),
        (dict(channels="0-9"), ValueError, ["channel 9", "6 channels", "0-5"]),
        (dict(channels="9-3"), ValueError, ["'0-63'"]),
        (dict(batch=0), ValueError, ["batch must be an int >= 1"]),
        (dict(param="lucid"), ValueError, ["param must be one of 'image', 'maco'"]),
        (dict(param="maco", alpha=True), ValueError, ["Give one of alpha=True and param='maco'"]),
        (dict(alpha=True, samples=2), ValueError, ["Give samples=0 with alpha=True"]),
    ],
)
def test_bad_arguments_stop_before_any_work_naming_the_fix(
    tmp_path, monkeypatch, kwargs, error, words
):
    monkeypatch.setattr(
        atlas_module.LayerRenderers, "render_batch", lambda *a: pytest.fail("rendered")
    )
    arguments = {"layers": LAYER, **SETTINGS, **kwargs}
    out = tmp_path / "atlas"
    with pytest.raises(error) as raised:
        samplevis.atlas(gabor_net(), out=out, **arguments)
    for word in words:
        assert word in str(raised.value)
    assert not out.exists()


def test_an_out_folder_that_cannot_be_made_stops_before_any_work(tmp_path, monkeypatch):
    monkeypatch.setattr(
        atlas_module.LayerRenderers, "render_batch", lambda *a: pytest.fail("rendered")
    )
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError, match="lies under the file .*give a folder"):
        samplevis.atlas(gabor_net(), LAYER, out=tmp_path / "file" / "atlas", **SETTINGS)


def test_a_ray_cluster_needs_a_function_that_loads_the_model(tmp_path):
    with pytest.raises(TypeError, match="each worker loads the model itself"):
        samplevis.atlas(gabor_net(), LAYER, out=tmp_path, cluster=True, **SETTINGS)


def test_channels_take_numbers_ranges_and_lists():
    parse = atlas_module.parse_channels
    assert parse("0-3,7, 5") == [0, 1, 2, 3, 5, 7]
    assert parse(4) == [4] and parse(range(2)) == [0, 1] and parse(None) is None
    with pytest.raises(ValueError, match="channel indices >= 0"):
        parse([-1])


def test_all_means_every_activation_layer(tiny_model, toy_vit):
    assert atlas_module.activation_layers(gabor_net()) == [LAYER]
    # a ViT's readable units are its MLP's hidden ones, a Dense(gelu)
    assert atlas_module.activation_layers(toy_vit) == ["mlp_fc1"]
    # conv1's ReLU is fused into it; conv2 is linear, its ReLU a layer of its own
    assert atlas_module.activation_layers(tiny_model) == ["conv1", "conv2_relu"]


@pytest.mark.slow
def test_the_command_writes_an_atlas_and_names_the_fix_for_a_bad_range(tmp_path, capsys):
    model = f"{gabor_net.__module__}:gabor_net"
    common = [
        "--model",
        model,
        "--layers",
        LAYER,
        "--steps",
        "8",
        "--size",
        "40",
        "--batch",
        "4",
        "--quiet",
        "--out",
        str(tmp_path),
    ]
    assert cli.main(["atlas", *common, "--channels", "0-1"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "index.html")
    assert sorted(p.name for p in (tmp_path / LAYER).iterdir()) == ["0.png", "1.png"]
    assert cli.main(["atlas", *common, "--channels", "0-6"]) == 2
    assert "--channels 0-5" in capsys.readouterr().err


def test_the_command_without_ray_installed_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "ray" else find_spec(name, *a)
    )
    assert cli.main(["atlas", "--layers", LAYER, "--ray", "--out", str(tmp_path)]) == 2
    assert "pip install 'samplevis[ray]'" in capsys.readouterr().err


# ----- alpha and MACO ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def chosen(tmp_path_factory):
    """{(param, alpha): the atlas of channels 0 and 1, in one batch} for MACO and for alpha."""
    return {
        choice: samplevis.atlas(
            gabor_net(),
            LAYER,
            channels="0-1",
            out=tmp_path_factory.mktemp("atlas"),
            param=choice[0],
            alpha=choice[1],
            **{**SETTINGS, "batch": 2},
        )
        for choice in [("maco", False), ("image", True)]
    }


def render_vis_of_channel(channel: int, param_f, optimizer, transforms, objective):
    """`render_vis` of one channel with these parts, its start drawn from the atlas's seed of
    the channel and its transforms from (that seed, the step's seed), as the atlas draws them."""
    import tensorflow as tf

    from samplevis import transform

    renderer = importlib.import_module("samplevis.atlas.batches")
    seeds = tf.Variable([atlas_module.channel_seed(SETTINGS["seed"], LAYER, channel)], tf.int32)
    return samplevis.render_vis(
        gabor_net(),
        objective,
        renderer._SeededImages(param_f, param_f, seeds),
        optimizer,
        [renderer._PerImage(transform.compose(transforms), seeds)],
        thresholds=(SETTINGS["steps"],),
        seed=SETTINGS["seed"],
        progress=False,
    )[-1][0]


def as_levels(image: np.ndarray) -> np.ndarray:
    return samplevis.io.to_uint8(image).astype(np.int16)


@pytest.mark.slow
def test_a_maco_tile_is_render_vis_of_its_channel_with_macos_parts(chosen):
    import keras

    from samplevis import objectives, param, transform

    result = chosen[("maco", False)]
    assert json.loads((result.out / "atlas.json").read_text())["settings"]["param"] == "maco"
    for channel in (0, 1):
        expected = render_vis_of_channel(
            channel,
            param.maco(40),
            keras.optimizers.Nadam(1.0),
            [transform.maco_crops(40)],  # the image's size: the network takes any
            objectives.channel(LAYER, channel),
        )
        tile = pixels(result.out, channel)
        assert tile.shape == (40, 40, 3)
        # float32 rounding in a batch of two images may move a pixel by one level
        assert np.abs(tile - as_levels(expected)).max() <= 1, channel


@pytest.mark.slow
def test_an_alpha_atlas_writes_rgba_pngs_whose_alpha_is_the_rendered_alpha(chosen):
    import keras

    from samplevis import objectives, param, transform

    result = chosen[("image", True)]
    for channel in (0, 1):
        expected = render_vis_of_channel(
            channel,
            param.image(40, alpha=True),
            keras.optimizers.Adam(0.05),
            [transform.collapse_alpha_random(), *transform.standard_transforms],
            objectives.channel(LAYER, channel) * (1 - objectives.penalize_alpha()),
        )
        tile = pixels(result.out, channel)
        assert tile.shape == (40, 40, 4) and tile[..., 3].min() < tile[..., 3].max()
        assert np.abs(tile - as_levels(expected)).max() <= 1, channel
    page = (result.out / "index.html").read_text()
    checkerboard = render("checkerboard.css")  # the gallery's
    assert f".ch img,#detail img{{{checkerboard}}}" in page


@pytest.mark.slow
def test_resuming_with_another_param_or_alpha_stops_naming_the_fix(chosen, monkeypatch, capsys):
    monkeypatch.setattr(
        atlas_module.LayerRenderers, "render_batch", lambda *a: pytest.fail("rendered")
    )
    out = chosen[("maco", False)].out
    before = (out / "atlas.json").read_text()
    with pytest.raises(ValueError) as raised:
        samplevis.atlas(gabor_net(), LAYER, out=out, **SETTINGS)  # param="image"
    assert str(raised.value) == (
        f"{out} holds an atlas rendered with param='maco', alpha=False; this call asks for "
        "param='image', alpha=False. Add to it with param='maco', alpha=False, or give "
        "another out folder."
    )
    model = f"{gabor_net.__module__}:gabor_net"
    assert cli.main(["atlas", "--model", model, "--layers", LAYER, "--out", str(out)]) == 2
    assert "Add to it with --param maco, without --alpha, or give another --out folder." in (
        capsys.readouterr().err
    )
    assert (out / "atlas.json").read_text() == before


@pytest.mark.slow
def test_the_commands_alpha_and_param_flags_give_the_libraries_tiles(chosen, tmp_path, capsys):
    common = ["--model", f"{gabor_net.__module__}:gabor_net", "--layers", LAYER, "--quiet"]
    common += ["--steps", "8", "--size", "40", "--batch", "2", "--channels", "0-1"]
    for flags, choice in [(["--param", "maco"], ("maco", False)), (["--alpha"], ("image", True))]:
        out = tmp_path / flags[-1]
        assert cli.main(["atlas", *common, *flags, "--out", str(out)]) == 0
        settings = json.loads((out / "atlas.json").read_text())["settings"]
        assert (settings["param"], settings["alpha"]) == choice
        for channel in (0, 1):
            np.testing.assert_array_equal(pixels(out, channel), pixels(chosen[choice].out, channel))
    capsys.readouterr()
    assert cli.main(["atlas", *common, "--alpha", "--param", "maco", "--out", str(tmp_path)]) == 2
    assert "Give one of --alpha and --param maco." in capsys.readouterr().err
    assert cli.main(["atlas", *common, "--alpha", "--samples", "2", "--out", str(tmp_path)]) == 2
    assert "Give --samples 0 with --alpha, or leave out --alpha" in capsys.readouterr().err


# ----- Ray -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'samplevis[ray]')")
    # The workers inherit the environment the cluster starts with: they find atlas_models here.
    # (A runtime_env would do it too, but makes every worker wait for Ray to set it up.)
    path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).parents[1]), path]))
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    finally:
        if path is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = path
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_two_ray_workers_one_killed_mid_run_lose_no_channel_and_give_the_in_process_images(
    ray_cluster, reference, tmp_path
):
    # one test, so that `pytest -n 2` starts one Ray cluster, not one per xdist worker
    marker = tmp_path / "killed_pid"
    factory = functools.partial(gabor_net_killed_once, str(marker))
    result = samplevis.atlas(
        factory, LAYER, out=tmp_path / "atlas", cluster=True, workers=2, **SETTINGS
    )
    assert marker.is_file()  # a worker armed its own SIGKILL while rendering its first batch
    assert (result.rendered, result.interrupted) == (len(ANGLES), False)
    written = json.loads((result.out / "atlas.json").read_text())
    assert [e["channel"] for e in written["channels"]] == list(range(len(ANGLES)))
    for entry in written["channels"]:
        assert all((result.out / f).is_file() for f in entry["files"])
        difference = np.abs(
            pixels(result.out, entry["channel"]) - pixels(reference[0].out, entry["channel"])
        )
        assert difference.max() <= 1, entry["channel"]


# ----- the page in a browser -------------------------------------------------------------------
@pytest.mark.slow
def test_the_page_loads_every_thumbnail_and_a_click_shows_the_channel_large(reference, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no {CHROMIUM}: apt-get install chromium (.ci/run does)")
    folder = tmp_path / "moved"  # the page finds its images by relative paths
    shutil.copytree(reference[0].out, folder)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            page.goto((folder / "index.html").as_uri())
            thumbnails = page.locator("a.ch img")  # made as their section nears the window
            sync_api.expect(thumbnails).to_have_count(len(ANGLES))
            for i in range(len(ANGLES)):
                thumbnails.nth(i).scroll_into_view_if_needed()
            page.wait_for_function(
                "[...document.querySelectorAll('a.ch img')].every("
                "img => img.complete && img.naturalWidth > 0)",
                timeout=10000,
            )
            detail = page.locator("#detail")
            sync_api.expect(detail).to_be_hidden()
            page.locator("a.ch").nth(3).click()  # the view opens on the fragment's change
            sync_api.expect(detail).to_be_visible()
            sync_api.expect(page.locator("#detail-title")).to_have_text(f"{LAYER}, channel 3")
            page.wait_for_function(
                "document.querySelector('#detail img.large').naturalWidth > 0", timeout=10000
            )
            sync_api.expect(page.locator("#detail-info")).to_contain_text("objective")
            page.keyboard.press("Escape")
            sync_api.expect(detail).to_be_hidden()
        finally:
            browser.close()
