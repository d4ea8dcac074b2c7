"""`samplevis layers`: the layer catalogue of zoo models, Keras applications and frozen graphs."""

import numpy as np

from samplevis import cli


def _table(text: str) -> tuple[list[str], dict[str, list[str]]]:
    """(header words, {layer name: [type, output shape, channels]}) of a printed catalogue."""
    lines = text.strip().splitlines()
    rows = {}
    for line in lines[1:]:
        name, *cells = line.split()
        rows[name] = cells
    return lines[0].split(), rows


def _layers(capsys, model: str) -> tuple[list[str], dict[str, list[str]]]:
    assert cli.main(["layers", "--model", model]) == 0
    return _table(capsys.readouterr().out)


def small_vgg16():
    """VGG16 with random weights at 32 px (no download)."""
    from samplevis.zoo import keras_application

    return keras_application("vgg16", weights=None, input_shape=(32, 32, 3))


def tiny_frozen_graph():
    """A frozen conv → relu graph with 5 channels on 16 px images."""
    import tensorflow as tf

    from samplevis.zoo import from_graphdef

    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, 16, 16, 3], name="input")
        kernel = tf.constant(np.ones([3, 3, 3, 5], np.float32))
        tf.nn.relu(tf.nn.conv2d(x, kernel, 2, "SAME", name="conv"), name="conv_relu")
    return from_graphdef(graph.as_graph_def(), "input", (16, 16, 3), (0, 1), name="tiny")


def test_efficientnet_lite0_catalogue_has_a_header_and_each_layers_channels(capsys):
    header, rows = _layers(capsys, "efficientnet_lite0")
    assert header == ["layer", "type", "output", "shape", "channels"]
    assert rows["block5c_add"] == ["Add", "?x?x112", "112"]  # the network takes any size
    assert rows["logits"] == ["Dense", "1000", "1000"]
    assert rows["top_activation"][-1] == "1280"
    assert list(rows)[-1] == "predictions"


def test_unknown_model_fails_naming_the_valid_models(capsys):
    assert cli.main(["layers", "--model", "nosuch"]) == 2
    message = capsys.readouterr().err
    assert "'nosuch'" in message
    for valid in (
        "efficientnet_lite0",
        "vgg16",
        "inception_v3",
        "convnext_tiny",
        "module:function",
    ):
        assert valid in message


def test_a_keras_application_from_a_function_lists_its_own_layer_names(capsys):
    _, rows = _layers(capsys, f"{__name__}:small_vgg16")
    assert rows["block5_conv3"] == ["Conv2D", "2x2x512", "512"]
    assert rows["logits"] == ["Dense", "1000", "1000"]
    assert rows["predictions"] == ["Softmax", "1000", "1000"]


def test_a_frozen_graph_lists_its_ops_with_types_and_channels(capsys):
    _, rows = _layers(capsys, f"{__name__}:tiny_frozen_graph")
    assert rows == {"conv": ["Conv2D", "8x8x5", "5"], "conv_relu": ["Relu", "8x8x5", "5"]}
