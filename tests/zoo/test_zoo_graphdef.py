"""Frozen TF1 GraphDefs: a small graph frozen here, imported, read, differentiated and rendered."""

import numpy as np
import pytest
import tensorflow as tf

import samplevis
from samplevis import param
from samplevis.models import UnknownLayerError
from samplevis.zoo import from_graphdef
from samplevis.zoo.graphdef import GraphDefModel

VALUE_RANGE = (-117.0, 138.0)  # Lucid's InceptionV1 pixel range
LAYERS = ["conv1_conv", "conv1", "conv1_relu", "conv2_conv", "conv2", "conv2_relu", "pooled"]


def _weights(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return dict(
        w1=rng.normal(0, 0.01, (3, 3, 3, 8)).astype(np.float32),
        b1=rng.normal(0, 0.1, 8).astype(np.float32),
        w2=rng.normal(0, 0.3, (3, 3, 8, 4)).astype(np.float32),
        b2=np.zeros(4, np.float32),
    )


def network(x, w, b2_shift=0.0) -> dict:
    """conv → relu → conv (stride 2) → relu → spatial mean; named like a Lucid graph.

    Runs eagerly (the original network) or in graph mode (to freeze it)."""
    h = tf.nn.conv2d(x, tf.constant(w["w1"]), 1, "SAME", name="conv1_conv")
    h = tf.nn.bias_add(h, tf.constant(w["b1"]), name="conv1")
    r1 = tf.nn.relu(h, name="conv1_relu")
    h = tf.nn.conv2d(r1, tf.constant(w["w2"]), 2, "SAME", name="conv2_conv")
    # the bias is a constant expression that does not depend on the input: not a layer
    bias = tf.add(tf.constant(w["b2"]), tf.constant(b2_shift, tf.float32), name="bias2_sum")
    h = tf.nn.bias_add(h, bias, name="conv2")
    r2 = tf.nn.relu(h, name="conv2_relu")
    return dict(
        conv1_relu=r1, conv2=h, conv2_relu=r2, pooled=tf.reduce_mean(r2, axis=[1, 2], name="pooled")
    )


def freeze(path, w, b2_shift=0.0) -> str:
    """Write the network as a frozen GraphDef: weights are Const nodes, input placeholder 'input'."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, None, None, 3], name="input")
        network(x, w, b2_shift)
    tf.io.write_graph(graph.as_graph_def(), str(path.parent), path.name, as_text=False)
    return str(path)


@pytest.fixture(scope="module")
def weights():
    return _weights()


@pytest.fixture(scope="module")
def model(tmp_path_factory, weights) -> GraphDefModel:
    path = freeze(tmp_path_factory.mktemp("graphs") / "tiny_net.pb", weights)
    return from_graphdef(path, "input:0", image_shape=(32, 32, 3), value_range=VALUE_RANGE)


def _images(batch=2, size=32, seed=1) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, (batch, size, size, 3)).astype(np.float32)


def _original(x01, weights, **kwargs) -> dict:
    lo, hi = VALUE_RANGE
    return network(tf.constant(x01 * (hi - lo) + lo), weights, **kwargs)


def test_default_layers_are_the_input_dependent_ops_in_graph_order(model):
    assert model.layer_names == LAYERS
    assert model.output_name == "pooled"
    assert model.name == "tiny_net" and model.input_size == (32, 32)
    assert isinstance(model, samplevis.Model)


def test_activations_equal_the_original_networks(model, weights):
    x = _images()
    expected = _original(x, weights)
    acts = model.activations(x, ["conv1_relu", "conv2_relu:0", "pooled"])
    np.testing.assert_allclose(acts["conv1_relu"], expected["conv1_relu"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(acts["conv2_relu:0"], expected["conv2_relu"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model(x), expected["pooled"], rtol=1e-5, atol=1e-6)
    assert acts["conv2_relu:0"].shape == (2, 16, 16, 4)
    one = model.activations(x, "conv1_relu")  # one name, not its letters
    np.testing.assert_allclose(one["conv1_relu"], expected["conv1_relu"], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(model.activations(x, ["input"])["input"], x)


def test_images_of_another_size_are_resized_to_the_image_shape(model, weights):
    x = _images(batch=1, size=48)
    resized = tf.image.resize(x, (32, 32)).numpy()
    np.testing.assert_allclose(
        model(x), _original(resized, weights)["pooled"], rtol=1e-5, atol=1e-6
    )


def test_gradients_flow_through_the_imported_graph_to_the_images(model, weights):
    x = tf.constant(_images())

    @tf.function
    def imported_gradient(images):
        with tf.GradientTape() as tape:
            tape.watch(images)
            value = tf.reduce_sum(model.features(images, ["conv2_relu"])["conv2_relu"][..., 1])
        return tape.gradient(value, images)

    with tf.GradientTape() as tape:
        tape.watch(x)
        value = tf.reduce_sum(_original(x, weights)["conv2_relu"][..., 1])
    expected = tape.gradient(value, x).numpy()
    got = imported_gradient(x).numpy()
    assert np.abs(expected).max() > 0
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def test_render_vis_raises_a_channel_far_above_its_random_start(model):
    def channel_1(images) -> float:
        return float(np.mean(model.activations(images, ["conv2_relu"])["conv2_relu"][..., 1]))

    start_param = param.image(32)
    start = channel_1(start_param.to_image(start_param.init(0)).numpy())
    noise = channel_1(_images(batch=8))  # the channel's scale: full-contrast uniform noise
    [images] = samplevis.render_vis(
        model,
        "conv2_relu:1",
        param_f=lambda: param.image(32),
        thresholds=(16,),
        seed=0,
        progress=False,
    )
    assert images.shape == (1, 32, 32, 3)
    # the near-grey start leaves the channel silent; 16 steps reach a good part of noise's level
    assert start < 0.01 * noise
    assert channel_1(images) > 0.25 * noise > 25 * start


def test_extractor_is_built_once_per_layer_set_whichever_way_it_is_named(model):
    x = tf.zeros([1, 32, 32, 3])
    model.features(x, ["conv1", "pooled"])
    before = dict(model._extractors)
    key = (("conv1:0", "pooled:0"), False)
    assert key in before
    model.features(x, ["conv1:0", "pooled"])
    assert model._extractors == before
    assert model.extractor(("conv1:0", "pooled"), False) is before[key]


def test_unknown_tensor_lists_the_closest_names(model):
    with pytest.raises(UnknownLayerError, match="Closest layer names: conv2_relu, conv1_relu"):
        model.features(tf.zeros([1, 32, 32, 3]), ["conv2_rel"])
    with pytest.raises(UnknownLayerError, match="no layer 'mixed4a'"):
        samplevis.render_vis(model, "mixed4a:3", thresholds=(1,), progress=False)


def test_layers_info_gives_op_types_shapes_and_channels(model):
    info = {row.name: row for row in model.layers_info()}
    assert list(info) == LAYERS
    assert (
        info["conv2_relu"].kind,
        info["conv2_relu"].output_shape,
        info["conv2_relu"].channels,
    ) == ("Relu", (16, 16, 4), 4)
    assert (info["conv1"].kind, info["conv1"].channels) == ("BiasAdd", 8)
    assert (info["pooled"].kind, info["pooled"].output_shape) == ("Mean", (4,))


def test_given_layer_names_and_output_are_the_addressable_tensors(tmp_path, weights):
    path = freeze(tmp_path / "net.pb", weights)
    model = from_graphdef(
        path,
        "input",
        (32, 32, 3),
        VALUE_RANGE,
        layer_names=["conv1_relu:0", "bias2_sum", "conv2"],
        output_name="conv2_relu:0",
        name="mine",
    )
    assert model.layer_names == ["conv1_relu", "bias2_sum", "conv2"] and model.name == "mine"
    x = _images(batch=1)
    np.testing.assert_allclose(model(x), _original(x, weights)["conv2_relu"], rtol=1e-5, atol=1e-5)
    with pytest.raises(UnknownLayerError, match="no layer 'pooled'"):
        model.activations(x, ["pooled"])


def test_a_graphdef_object_and_a_fully_convolutional_shape_are_accepted(weights):
    graph = tf.Graph()
    with graph.as_default():
        network(tf.compat.v1.placeholder(tf.float32, [None, None, None, 3], name="input"), weights)
    model = from_graphdef(graph.as_graph_def(), "input", (None, None, 3), VALUE_RANGE)
    assert model.input_size is None
    x = _images(batch=1, size=20)
    assert model.activations(x, ["conv2_relu"])["conv2_relu"].shape == (1, 10, 10, 4)


def test_images_too_small_for_a_graphs_kernel_are_refused_before_it_runs():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, None, None, 3], name="input")
        conv = tf.nn.conv2d(x, tf.ones([5, 5, 3, 2]), 1, "VALID", name="conv5")
        tf.nn.relu(conv, name="conv5_relu")
        tf.nn.conv2d(x, tf.ones([1, 1, 3, 2]), 1, "VALID", name="conv1x1")  # fits any size
    model = from_graphdef(
        graph.as_graph_def(),
        "input",
        (None, None, 3),
        (0, 1),
        output_name="conv5_relu",
        name="five",
    )
    assert model.activations(np.zeros([1, 5, 5, 3], np.float32), "conv5_relu")[
        "conv5_relu"
    ].shape == (1, 1, 1, 2)
    for height, width in [(4, 4), (4, 3)]:  # an empty output, and a negative one
        tiny = np.zeros([1, height, width, 3], np.float32)
        with pytest.raises(
            ValueError,
            match=rf"images of {height}x{width} px are too small for "
            r"model 'five': .*conv5.*param\.image\(128\)",
        ):
            model.activations(tiny, "conv5_relu")
        with pytest.raises(ValueError, match="too small"):
            model(tiny)  # the output, conv5_relu
        assert model.activations(tiny, "conv1x1")["conv1x1"].shape == (1, height, width, 2)


def test_redirected_relu_lets_gradient_through_a_dead_channel(tmp_path, weights):
    # conv2's bias of -1000 makes conv2_relu zero everywhere: the true gradient is zero
    path = freeze(tmp_path / "dead.pb", weights, b2_shift=-1000.0)
    model = from_graphdef(path, "input", (32, 32, 3), VALUE_RANGE)
    x = tf.constant(_images(batch=1))

    def gradient(redirect) -> tuple:
        with tf.GradientTape() as tape:
            tape.watch(x)
            acts = model.features(x, ["conv2_relu"], redirect_relu=redirect)["conv2_relu"]
            loss = -tf.reduce_sum(acts[..., 1])  # minimized, as render_vis does
        return tape.gradient(loss, x), acts

    plain, plain_acts = (t.numpy() for t in gradient(False))
    redirected, redirected_acts = (t.numpy() for t in gradient(True))
    assert np.all(plain == 0) and np.all(plain_acts == 0)
    assert np.abs(redirected).max() > 0
    np.testing.assert_array_equal(redirected_acts, plain_acts)

    switched = tf.function(gradient)  # decided at run time, in one compiled program
    for on, expected in ((False, plain), (True, redirected)):
        np.testing.assert_allclose(switched(tf.constant(on))[0].numpy(), expected, rtol=1e-6)
    assert switched.experimental_get_tracing_count() == 1


def test_wrong_input_name_image_shape_and_path_say_the_fix(tmp_path, weights):
    path = freeze(tmp_path / "net.pb", weights)
    with pytest.raises(ValueError, match="no input 'images'.*closest first: input"):
        from_graphdef(path, "images", (32, 32, 3), VALUE_RANGE)
    with pytest.raises(ValueError, match=r"image_shape must be \(H, W, 3\)"):
        from_graphdef(path, "input", (32, 32), VALUE_RANGE)
    with pytest.raises(FileNotFoundError, match="frozen .pb"):
        from_graphdef(tmp_path / "missing.pb", "input", (32, 32, 3), VALUE_RANGE)
    (tmp_path / "notes.pb").write_text("not a graph: text where protobuf wire data belongs")
    with pytest.raises(ValueError, match=r"notes\.pb' is not a frozen GraphDef"):
        from_graphdef(tmp_path / "notes.pb", "input", (32, 32, 3), VALUE_RANGE)
    with pytest.raises(AttributeError, match="not a Keras model"):
        _ = from_graphdef(path, "input", (32, 32, 3), VALUE_RANGE).keras_model
