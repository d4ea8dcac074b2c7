"""`zoo.load`: a model named by a string; specs that name none raise library errors with the fix."""

import pickle

import pytest

from samplevis import zoo
from samplevis.zoo.specs import ModelFileNotFoundError, ModelSpecError


def test_a_module_function_spec_gives_the_model_named_after_it():
    model = zoo.load("conftest:gabor_keras_model")  # tests/ is on sys.path
    assert model.name == "conftest.gabor_keras_model"
    assert "gabor_relu" in model.layer_names


@pytest.mark.parametrize(
    "spec, error, message",
    [
        ("nosuch", ModelSpecError, "unknown model 'nosuch'. Use efficientnet_lite0, one of "),
        (
            "net.py",
            ModelSpecError,
            "spec 'net.py' is a Python file; add the function that returns "
            "the model: spec='net.py:FUNCTION'.",
        ),
        ("missing.keras", ModelFileNotFoundError, "no model file 'missing.keras'"),
        ("missing.py:build", ModelFileNotFoundError, "no Python file 'missing.py'"),
    ],
)
def test_a_spec_that_names_no_model_raises_a_library_error_naming_the_fix(
    tmp_path, monkeypatch, spec, error, message
):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error) as raised:
        zoo.load(spec)
    assert message in str(raised.value) and raised.value.option == "spec"
    assert isinstance(raised.value, ValueError if error is ModelSpecError else FileNotFoundError)
    assert str(pickle.loads(pickle.dumps(raised.value))) == str(raised.value)
