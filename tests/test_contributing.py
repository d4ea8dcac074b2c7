"""CONTRIBUTING.md's recipes, done once each as it says: a new objective, a new
parameterization, a new facet-search design and a new command, each checked on a known answer."""

import argparse
import types

import numpy as np
import pytest
import tensorflow as tf

import samplevis
from samplevis import cli, param
from samplevis.cli import arguments, command_line
from samplevis.optvis.objectives import Objective
from samplevis.optvis.param.base import ImageParam, State
from samplevis.sampling.starts import designs, search

from two_facets import mean_colour, searched, two_facet_unit


def mean_grey() -> Objective:
    """The image's mean grey level, shape [B]: a new objective, as CONTRIBUTING.md builds one."""
    return Objective(lambda T: tf.reduce_mean(T("input"), axis=[1, 2, 3]), name="mean_grey()")


def test_a_new_objective_composes_and_renders_its_known_optimum(gabor_model):
    # maximized, the mean grey level climbs towards white; minus 2x it, towards black, from
    # mid-grey either way (the parameterization's sigmoid slows the last steps)
    for objective, want in ((mean_grey(), 1.0), (-2 * mean_grey(), 0.0)):
        (image,) = samplevis.render_vis(
            gabor_model, objective, param_f=lambda: param.image(16), thresholds=(256,), seed=0
        )
        assert abs(float(image.mean()) - want) < 0.2 and image.std() < 0.05


class GreyLevel(ImageParam):
    """One grey level per image: state [B, 1] through a sigmoid, the same at every pixel."""

    def __init__(self, size: int, batch: int = 1) -> None:
        self.batch, self.height, self.width = batch, size, size

    @property
    def state_shapes(self) -> tuple[tuple[int, ...], ...]:
        return ((self.batch, 1),)

    def init(self, seed: object) -> State:
        return (tf.zeros([self.batch, 1]),)

    def to_image(self, state: State) -> tf.Tensor:
        grey = tf.sigmoid(state[0])[:, None, None, :]
        return tf.broadcast_to(grey, [self.batch, self.height, self.width, 3])


def test_a_new_parameterization_renders_and_keeps_the_sampling_contract_s_defaults(gabor_model):
    # the known answer: the grey level closest to 0.3 is 0.3
    objective = Objective(
        lambda T: -tf.square(tf.reduce_mean(T("input"), axis=[1, 2, 3]) - 0.3), name="near(0.3)"
    )
    (image,) = samplevis.render_vis(
        gabor_model, objective, param_f=lambda: GreyLevel(8, batch=2), thresholds=(256,), seed=0
    )
    assert image.shape == (2, 8, 8, 3)
    np.testing.assert_allclose(image, 0.3, atol=0.01)
    grey = GreyLevel(8)
    assert not grey.starts_at_images and grey.unwrapped is grey and grey.tensor_param is None
    with pytest.raises(NotImplementedError):
        grey.state_for(tf.zeros([1, 8, 8, 3]))


class FromCyan:
    """A facet-search design that starts every round's climbs at a cyan image."""

    def __init__(self, context: designs.SearchContext) -> None:
        self.context = context

    def round(self, k: int, archive: designs.Archive, seed: tf.Tensor) -> tuple[np.ndarray, ...]:
        c = self.context
        cyan = np.zeros([c.image_param.batch, c.image_param.height, c.image_param.width, 3])
        cyan[..., 1:] = 0.9
        start = tuple(np.asarray(p) for p in c.image_param.state_for(tf.constant(cyan, tf.float32)))
        return c.polish(start, c.polish_steps, seed, None)

    def after_round(self, leads: bool) -> None:
        pass


def test_a_new_facet_search_design_is_one_class_and_one_name(monkeypatch):
    # the toy unit of tests/sampling/test_facet_search.py: every seed climbs to red; cyan is
    # the facet the seeds miss, and the new design starts there
    monkeypatch.setattr(search, "DESIGNS", {**designs.DESIGNS, "from_cyan": FromCyan})
    found, image = searched(two_facet_unit(1.0), 0.8, "colours", 1, ("from_cyan",))
    # by the round that found each facet: 0 the seeds, 1 the new design
    colours = {f.round: mean_colour(found, image, k) for k, f in enumerate(found.facets)}
    assert sorted(colours) == [0, 1]
    red, cyan = colours[0], colours[1]
    assert red[0] > 0.8 and max(red[1:]) < 0.2
    assert cyan[0] < 0.2 and min(cyan[1:]) > 0.8


def hello_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser("hello", help="say hello", description="Say hello.")
    parser.add_argument("--name", default="world")
    arguments.add_verbose(parser)  # the flags every command has
    return parser


def hello_run(args: argparse.Namespace) -> int:
    print(f"hello, {args.name}")
    return 0


def test_a_new_command_is_one_module_and_one_entry(monkeypatch, capsys):
    hello = types.SimpleNamespace(add_parser=hello_parser, run=hello_run)
    monkeypatch.setattr(command_line, "COMMANDS", (*command_line.COMMANDS, hello))
    assert cli.main(["hello", "--name", "samplevis"]) == 0
    assert capsys.readouterr().out == "hello, samplevis\n"
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "hello" in capsys.readouterr().out
