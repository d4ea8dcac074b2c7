"""Command lines for the tests of the `samplevis` command: a command's arguments built from
keyword flags, run on conftest's small models."""

from pathlib import Path

import pytest

from samplevis import cli

GABOR = "conftest:gabor_keras_model"  # a module:function model spec (tests/ is on sys.path)


def flags(**values: object) -> list[str]:
    """The flags that give `values`: size=16 is --size 16, thresholds=(4, 8) is --thresholds 4 8,
    no_transforms=True is the switch --no-transforms."""
    args = []
    for name, value in values.items():
        flag = "--" + name.replace("_", "-")
        if value is True:
            args.append(flag)
        elif isinstance(value, (list, tuple)):
            args += [flag, *(str(v) for v in value)]
        else:
            args += [flag, str(value)]
    return args


def optimize(
    out: Path | str, objective: str = "gabor_relu:1", model: str = GABOR, **values: object
) -> list[str]:
    """`samplevis optimize` of `objective` in `model`, with the flags `values`, into `out`,
    without a progress bar."""
    return ["optimize", *_objective_run(objective, model, out, values)]


def sample(
    out: Path | str, objective: str = "gabor_relu:0", model: str = GABOR, **values: object
) -> list[str]:
    """`samplevis sample` of `objective` in `model`, with the flags `values`, into `out`,
    without a progress bar."""
    return ["sample", *_objective_run(objective, model, out, values)]


def _objective_run(objective: str, model: str, out: Path | str, values: dict) -> list[str]:
    """The flags optimize and sample share, around the flags `values`."""
    return [
        "--model",
        model,
        "--objective",
        objective,
        *flags(**values),
        "--out",
        str(out),
        "--quiet",
    ]


def filled(args: list[str], tmp_path: Path) -> list[str]:
    """`args` of a test's table, each '{tmp}' in them replaced by the test's `tmp_path`."""
    return [arg.format(tmp=tmp_path) for arg in args]


def help_text(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, command: str) -> str:
    """`samplevis COMMAND --help` as printed, on one line."""
    monkeypatch.setenv("COLUMNS", "10000")  # no words broken at hyphens
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    return " ".join(capsys.readouterr().out.split())
