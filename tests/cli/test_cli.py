"""The samplevis command as a whole: input a command cannot use exits with status 2 and the fix,
in the command's own flags; the flags the commands share (--model, --out, --log-dir, --size)
behave alike in each; --help states the library's defaults."""

import inspect
import re
from pathlib import Path

import pytest

import samplevis
from samplevis import cli
from samplevis.sampling import options

from cli_args import GABOR, filled, help_text, optimize, sample

TESTS = Path(__file__).parents[1]
RENAMED = "samplevis: error: `samplevis render` is now `samplevis optimize` (same flags): "


@pytest.mark.parametrize(
    "args, message",
    [
        (["gallery", "{tmp}/nowhere"], "no folder"),
        (["gallery", "{tmp}"], "no .png or .gif files under"),
        (["gallery", "{tmp}/a.txt"], "a.txt' is a file; give the folder that holds the images"),
        (
            ["optimize", "--objective", "gabor_relu:0", "--thresholds"],
            "expected at least one argument",
        ),
        (
            optimize("{tmp}/out", "gabor_relu:0", thresholds=(8, 4)),
            "--thresholds must increase, one image each",
        ),
        (
            optimize("{tmp}/out", "gabor_relu:0", size=0),
            "argument --size: must be an int >= 1; got '0'",
        ),
        (optimize("{tmp}/out", "gabor_rel:0"), "Closest layer names: gabor_relu"),
        (optimize("{tmp}/out", "gabor_relu"), "is no unit: write a unit LAYER:CHANNEL"),
        (
            sample("{tmp}/out", "max(gabor_relu:0 0.5 * gabor_relu:1)"),
            "--objective: cannot read the objective 'max(gabor_relu:0 0.5 * gabor_relu:1)' "
            "(invalid syntax. Perhaps you forgot a comma?); write units LAYER:CHANNEL and "
            "numbers, combined with + - * /, parentheses and max(a, b, ...), e.g. "
            "max(logits:945 / 33.6, 0.6 * logits:498 / 37.9).",
        ),
        (
            sample("{tmp}/out", "gabro_relu:0"),
            "model 'conftest.gabor_keras_model' has no layer 'gabro_relu'. "
            "Closest layer names: gabor_relu, gabor. List all names with `samplevis layers --model "
            + GABOR,
        ),
        (["layers", "--model", "{tmp}/missing.keras"], "no model file"),
        (["layers", "--model", "{tmp}/notes.keras"], "cannot read model file"),
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
        (["layers", "--model", ":"], "is not module:function"),
        (["layers", "--model", "os.path:join"], "needs a function that takes no arguments"),
        (
            ["layers", "--model", "conftest:unreachable_model"],
            "calling 'conftest:unreachable_model' failed: ConnectionError: URL fetch failure",
        ),
        (
            ["sample", "--objective", "gabor_relu:0", "--num-reslts", "3"],
            "samplevis sample: error: unrecognized arguments: --num-reslts 3. Did you mean "
            "--num-results?",
        ),
        (
            ["optimize", "--objective", "gabor_relu:0", "--sed", "1", "--stepz=4"],
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
            '(docs/sampling_designs.md, "The facet search"). The facet search finds the '
            "unit's facets and the chains sample inside each; for more facets give it more "
            "rounds: --search-rounds.",
        ),
        (
            ["sample", "--objective", "gabor_relu:0", "--move-size=0.5"],
            "samplevis sample: error: --move-size set the walk between basins, which is gone",
        ),
        (["render", "--objective", "gabor_relu:0"], RENAMED),
    ],
)
def test_input_the_command_cannot_use_exits_2_with_a_message(tmp_path, capsys, args, message):
    (tmp_path / "a.txt").write_text("not a folder")
    (tmp_path / "notes.keras").write_text("not a model")
    try:
        code = cli.main(filled(args, tmp_path))
    except SystemExit as err:  # argparse's own errors exit from parse_args
        code = err.code
    assert code == 2
    assert message.format(tmp=tmp_path, tests=TESTS) in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # refused before any work


@pytest.mark.parametrize(
    "args, shown",
    [
        (
            ["--objective", "block5c_add:12", "--steps", "256"],
            "--objective block5c_add:12 --steps 256",
        ),
        (["--help"], "--help"),
        (["--out", "my runs/", "--seed=1"], "--out 'my runs/' --seed=1"),
        ([], ""),
    ],
)
def test_render_the_earlier_name_of_optimize_exits_2_showing_the_command_to_run(
    capsys, args, shown
):
    with pytest.raises(SystemExit) as exit:
        cli.main(["render", *args])
    assert exit.value.code == 2
    printed = capsys.readouterr()
    assert printed.err.splitlines()[-1] == f"{RENAMED}samplevis optimize {shown}".rstrip()
    assert printed.out == ""  # not optimize's --help


@pytest.mark.parametrize(
    "command, where, message",
    [
        (sample, "taken", "is a file; give a folder"),
        (optimize, "taken/deeper", "lies under the file"),
    ],
    ids=["sample", "optimize"],
)
def test_an_out_path_that_is_a_file_fails_before_any_work(
    tmp_path, capsys, command, where, message
):
    taken = tmp_path / "taken"
    taken.write_text("keep me")
    assert cli.main(command(tmp_path / where, "gabor_relu:0")) == 2
    assert message in capsys.readouterr().err
    assert taken.read_text() == "keep me"


@pytest.mark.parametrize("command", [optimize, sample], ids=["optimize", "sample"])
def test_a_log_dir_that_is_a_file_exits_2_naming_the_flag_before_the_model_loads(
    tmp_path, capsys, command
):
    (tmp_path / "taken").write_text("keep me")
    # a model that does not exist: the log folder fails first
    args = command(tmp_path / "out", "gabor_relu:0", "nosuch", log_dir=tmp_path / "taken")
    assert cli.main(args) == 2
    assert capsys.readouterr().err == (
        f"samplevis: --log-dir {str(tmp_path / 'taken')!r} is a "
        "file; give a folder for the TensorBoard log (it is "
        "created if missing).\n"
    )
    assert (tmp_path / "taken").read_text() == "keep me"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "args, warning",
    [
        (
            optimize("{tmp}", "gabor_relu:0", "conftest:fixed_gabor_keras_model", size=32, steps=2),
            "samplevis: images of 32x32 px are shrunk, losing their finer detail, to the 16x16 px "
            "input of model 'conftest.fixed_gabor_keras_model'. Render at that size: --size 16.\n",
        ),
        pytest.param(
            sample(
                "{tmp}",
                model="conftest:wide_gabor_keras_model",
                size=24,
                num_chains=1,
                num_results=2,
                num_burnin_steps=2,
                optimize_steps=2,
                temperature_steps=0,
            ),
            "samplevis: images of 24x24 px are stretched to the 24x32 px input of model "
            "'conftest.wide_gabor_keras_model'. The command line renders square images; "
            "for 24x32 use the Python API: param.image(32, 24).\n",
            marks=pytest.mark.slow,
        ),
    ],
    ids=["optimize", "sample"],
)
def test_images_a_fixed_input_resizes_are_warned_about_once_with_the_size_to_use(
    tmp_path, capsys, args, warning
):
    assert cli.main(filled(args, tmp_path)) == 0
    assert capsys.readouterr().err.count(warning) == 1


def test_a_keras_preset_without_a_network_names_the_built_in_model(no_network, tmp_path, capsys):
    args = optimize(tmp_path / "out", "block_1_expand_relu:0", "mobilenet_v2", steps=1)
    assert cli.main(args) == 2
    assert "--model efficientnet_lite0" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


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


def test_optimize_and_atlas_state_the_librarys_defaults(capsys, monkeypatch):
    from samplevis.optvis import optimize as optimizing

    text = help_text(capsys, monkeypatch, "optimize")
    steps = inspect.signature(samplevis.render_vis).parameters["thresholds"].default[-1]
    assert f"--steps STEPS optimization steps (default {steps})" in text
    assert f"Adam's learning rate (default {optimizing.DEFAULT_LEARNING_RATE})" in text
    assert f"--size SIZE image size in pixels (default {options.DEFAULT_IMAGE_SIZE})" in text
    atlas = help_text(capsys, monkeypatch, "atlas")
    for name, value in inspect.signature(samplevis.atlas).parameters.items():
        if name in ("steps", "size", "batch", "seed"):
            assert f"--{name} {name.upper()} " in atlas and f"(default {value.default})" in atlas
