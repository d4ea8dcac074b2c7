"""The flags several commands share (--model, --objective and its run's flags, --verbose, --out,
--quiet, --size), the argparse types and actions behind them, and how a command's flags spell the
library's options in messages."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from samplevis.runtime.checks import NO_VALUE, Spelling, python_spelling
from samplevis.zoo.specs import DEFAULT as DEFAULT_MODEL

# The commands give the same images for the same flags unless told otherwise (the library draws
# a seed when given none).
SEED = 0


class FromLibrary:
    """A flag's default that a library module importing TensorFlow holds: read when a command
    runs, or when its --help shows it, so that the other commands start without TensorFlow."""

    def __init__(self, read: Callable[[], Any]):
        self.read = read

    def __str__(self) -> str:  # argparse's %(default)s in --help
        return str(self.read())


class Given(argparse.Action):
    """Store the value and note that it was given (`<dest>_given`), so that a default can depend
    on other flags."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, values)
        setattr(namespace, f"{self.dest}_given", True)


def positive_int(text: str) -> int:
    """argparse type: an int >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an int >= 1; got {text!r}")
    return value


def positive_number(text: str) -> float:
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number > 0; got {text!r}")
    return value


def add_model(parser: argparse.ArgumentParser) -> None:
    """--model, stored as `spec`: the option of zoo.load, whose errors then name this flag."""
    parser.add_argument(
        "--model",
        dest="spec",
        default=DEFAULT_MODEL,
        help="zoo or Keras application name, .keras or .h5 file, keras_hub:PRESET (a "
        "KerasHub image backbone), or module:function or file.py:function returning a model "
        "(default %(default)s, offline)",
    )


def add_objective(parser: argparse.ArgumentParser) -> None:
    """--objective and what a run toward it takes: --out, --seed, --quiet and --log-dir."""
    parser.add_argument(
        "--objective",
        required=True,
        help="'layer:channel', e.g. block5c_add:12 (see `samplevis layers`; a token layer's "
        "channel is the mean over its patches, LAYER/class_token:N its class token's), or "
        "units composed with numbers, + - * /, parentheses and max(a, b, ...), e.g. "
        "'max(logits:945 / 33.6, 0.6 * logits:498 / 37.9)': the larger of two logits, each "
        "over its typical optimum, the second weighed 0.6 (docs/objectives.md)",
    )
    add_out(parser, "out")
    add_seed(parser, SEED)
    add_quiet(parser)
    parser.add_argument(
        "--log-dir",
        metavar="DIR",
        help="also write a TensorBoard log to DIR (created if missing); view "
        "it with `tensorboard --logdir DIR` (pip install tensorboard)",
    )


def add_verbose(parser: argparse.ArgumentParser) -> None:
    """--verbose: TensorFlow's own log, which the command line hides."""
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="show TensorFlow's start-up log and C++ messages (CUDA probing, "
        "oneDNN notices), hidden otherwise",
    )


def add_out(parser: argparse.ArgumentParser, default: str) -> None:
    """--out, the output folder."""
    parser.add_argument("--out", default=default, help="output folder (default: %(default)s)")


def add_seed(parser: argparse.ArgumentParser, default: int) -> None:
    """--seed."""
    parser.add_argument(
        "--seed",
        type=int,
        default=default,
        help="same seed and options, same images (default %(default)s)",
    )


def add_quiet(parser: argparse.ArgumentParser) -> None:
    """--quiet: no progress bar."""
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def add_steps(parser: argparse.ArgumentParser, default: int | FromLibrary) -> None:
    """--steps of optimization."""
    parser.add_argument(
        "--steps",
        type=positive_int,
        default=default,
        help="optimization steps (default %(default)s)",
    )


def add_size(parser: argparse.ArgumentParser, default: int) -> None:
    """--size of the square images rendered."""
    parser.add_argument(
        "--size",
        type=positive_int,
        default=default,
        help="image size in pixels (default %(default)s)",
    )


def flag_spelling(parser: argparse.ArgumentParser) -> Spelling:
    """How `parser`'s command names the library's options: by the flag whose dest is the option
    ('steps', 'hmc_opts.num_results', 'spec' for --model); with a value, as it is typed
    (--kernel nuts, --no-adapt-step-size). Options without a flag keep their Python names."""
    actions = {action.dest: action for action in flags(parser)}

    def spell(option: str, value: Any = NO_VALUE) -> str:
        action = actions.get(option)
        if action is None:
            return python_spelling(option, value)
        flag = action.option_strings[0]
        if value is NO_VALUE:
            return flag
        if action.nargs == 0:  # a switch: it stores its const
            return flag if value == action.const else f"without {flag}"
        if value is None:
            return f"without {flag}"
        if isinstance(value, (list, tuple)):
            value = " ".join(str(v) for v in value)
        return f"{flag} {value}"

    return spell


def flags(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The actions of `parser` that have a flag (--steps), not positional arguments."""
    # argparse keeps its actions here; there is no public view
    return [action for action in parser._actions if action.option_strings]
