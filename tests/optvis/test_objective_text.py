"""`objectives.from_text`: an objective written as one string, as --objective takes it, is the
objective the algebra builds in Python; a string outside the grammar is refused, naming it."""

import numpy as np
import pytest
import tensorflow as tf

from samplevis.optvis import objectives

LOGITS = tf.constant([[1.0, 2.0, 3.0], [4.0, 0.5, 1.0]])  # two images' logits


def lookup(name):
    assert name == "logits"
    return LOGITS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("logits:2", [3.0, 1.0]),
        ("max(logits:0 / 2, 0.6 * logits:2)", [1.8, 2.0]),  # the larger of two, scaled, weighted
        ("-logits:1 + 2 * (logits:0 - 1)", [-2.0, 5.5]),
        ("max(logits:0, logits:1, logits:2)", [3.0, 4.0]),
    ],
)
def test_a_composed_string_gives_the_values_of_the_algebra(text, expected):
    np.testing.assert_allclose(objectives.from_text(text)(lookup), expected, rtol=1e-6)


def test_the_seeds_unit_as_text_is_the_one_built_in_python():
    text = objectives.from_text("max(logits:945 / 33.6, 0.6 * logits:498 / 37.9)")
    built = objectives.maximum(
        objectives.channel("logits", 945) / 33.6, 0.6 * objectives.channel("logits", 498) / 37.9
    )
    assert text.name == built.name and text.layers == built.layers == {"logits"}
    assert text.structure == built.structure  # the same function, so one compiled program
    assert objectives.from_text("block5c_add:12").name == "channel('block5c_add', 12)"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("max(logits:0 0.6 * logits:1)", "cannot read the objective"),
        ("logits + 1", "'logits' in the objective 'logits + 1' is no unit: write a unit"),
        ("min(logits:0, logits:1)", "min() is not in the grammar; the one function is max"),
        ("max(logits:0)", "max() takes two or more objectives"),
        ("3 * 2", "is a number and does not depend on the image"),
        ("logits:0 ** 2", "has 'logits:0 ** 2', which is not in the grammar"),
        ("__import__('os').system('true')", "which is not in the grammar"),
        ("logits:0 / 0", "divides by 0"),
    ],
)
def test_a_string_outside_the_grammar_is_refused_naming_how_to_write_it(text, said):
    with pytest.raises(ValueError) as caught:
        objectives.from_text(text)
    assert said in str(caught.value)
    assert "e.g. max(logits:945 / 33.6" in str(caught.value) or "divides" in said or "min" in said
