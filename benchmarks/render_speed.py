"""How close `render_vis` comes to the fastest possible gradient ascent on the same network.

For each (model, batch) the script times, in alternating repeats:

* `render_vis`, steady state: Lucid's default pipeline — `param.image(224)` (FFT spectrum +
  colour decorrelation + sigmoid), the standard transforms, preprocessing, a channel objective
  and Adam — one run of N steps of a `Renderer` after a warm-up run that compiles it;
* `render_vis` per call, as a user calling it in a loop meets it: the whole call
  `render_vis(model, objective, param_f, thresholds=(N,), seed=k)` at its defaults (ReLU
  redirection included), another seed each time, after a first call in the process: whatever
  a later call traces, builds or sets up is in its time;
* the bare loop: one compiled `tf.range` loop of N steps of forward pass + input gradient +
  Adam on a variable of the size the network receives after the transforms, through the
  network with its normalizations folded as render_vis runs it. This is the floor: every
  render_vis step has to do at least this much work;
* Xplique's `optimize` per call, where Xplique imports: the same channel objective, 224 px FFT
  image, its standard transforms and Adam(0.05), the network built for the 236 px the image
  reaches it at; Xplique pins TensorFlow <= 2.20, so install it beside this one with
  `pip install --no-deps --target DIR xplique einops deprecated opencv-python-headless
  scikit-learn narwhals` and run with `PYTHONPATH=DIR`;
* chained 2048×2048 float32 matmuls (512×512 at `--quick`): the machine's peak under the
  same load.

It prints image-steps per second of each, the ratios to the bare loop and the GFLOP/s they achieve on the
network's convolutions beside the matmul peak. `--breakdown` also times render_vis without
transforms and with a plain pixel image, to show where the time beyond the floor goes.

    python benchmarks/render_speed.py            # full run, about 8 minutes on 2 cores
    python benchmarks/render_speed.py --quick    # smoke run: one row, few steps, MobileNetV2
    python benchmarks/render_speed.py --breakdown
    python benchmarks/render_speed.py --latency  # time to compile, built-in model at 128 px
    python benchmarks/render_speed.py --redirect # what ReLU redirection costs a step
    python benchmarks/render_speed.py --parts    # a step with each part removed in turn
    python benchmarks/render_speed.py --network MobileNetV2   # that network's rows only
"""

from __future__ import annotations

import argparse
import functools
import operator
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from common import (
    command_line,
    format_table,
    forward_flops,
    interleaved_medians,
    machine,
    matmul_peak,
)

IMAGE_SIZE = 224  # the parameterized image, as Lucent renders for 224 px networks
LEARNING_RATE = 0.05  # render_vis's default Adam learning rate, reused for the bare loop's step
# One step is a forward pass plus the gradient with respect to the input only: the weights are
# constants, so no filter gradients are computed and a step costs about 2 forward passes (a
# training step, which also differentiates the weights, would cost about 3).
STEP_COST = 2
# ratio of render_vis to the bare loop this project aims for, by batch
AIM = {1: 0.85, 8: 0.85}
# the side of the chained matmuls that measure the machine's peak (`common.matmul_peak`); --quick
# takes a smaller one: its figures mean nothing
PEAK_SIZE, QUICK_PEAK_SIZE = 2048, 512
# Caffe-style VGG preprocessing subtracts the ImageNet mean (RGB order here; channel order does
# not matter for speed with random weights)
VGG_MEAN = (123.68, 116.779, 103.939)


@dataclass(frozen=True)
class Case:
    """One table row: a network truncated at `layer`, rendered `batch` images at a time."""

    network: str
    layer: str
    batch: int
    steps: int  # steps per timed call, the same for every contender


def full_cases() -> list[Case]:
    # Step counts give ≥ 5 s per bare-loop measurement at batch 1 on 2 busy cores, a few seconds
    # at batch 8, and keep the whole run near 5 minutes.
    return [
        Case("MobileNetV2", "block_13_expand_relu", 1, 128),
        Case("MobileNetV2", "block_13_expand_relu", 8, 64),
        Case("VGG16", "block4_conv3", 1, 12),
        Case("VGG16", "block4_conv3", 8, 3),
    ]


def quick_cases() -> list[Case]:
    # one row, at a batch above 1 so that the objective is a sum of channels as at batch 8, at
    # an earlier layer: the network is run up to it only
    return [Case("MobileNetV2", "block_6_expand_relu", 2, 4)]


@functools.cache
def build_model(network: str, layer: str):
    """The samplevis.Model of `network` (random weights) truncated at `layer`.

    Built with input shape (None, None, 3), so the network takes the transformed image at its own
    size with no resize. MobileNetV2 expects values in (-1, 1); VGG16 Caffe-style values in
    (0, 255) minus the ImageNet mean.
    """
    import keras
    import tensorflow as tf

    import samplevis

    shape = (None, None, 3)
    if network == "MobileNetV2":
        app = keras.applications.MobileNetV2(weights=None, include_top=False, input_shape=shape)
        value_range, preprocess = (-1.0, 1.0), None
    elif network == "VGG16":
        app = keras.applications.VGG16(weights=None, include_top=False, input_shape=shape)
        value_range = (0.0, 255.0)
        preprocess = lambda x: x - tf.constant(VGG_MEAN, tf.float32)  # noqa: E731
    else:
        raise ValueError(f"unknown network {network!r}; expected MobileNetV2 or VGG16.")
    truncated = keras.Model(app.input, app.get_layer(layer).output, name=f"{network}_{layer}")
    return samplevis.Model(truncated, value_range=value_range, preprocess=preprocess)


def channel_objective(layer: str, batch: int):
    """Image i maximizes channel i of `layer` (one channel when batch is 1)."""
    from samplevis import objectives

    if batch == 1:
        return objectives.channel(layer, 0)
    terms = [objectives.channel(layer, i, batch=i) for i in range(batch)]
    return functools.reduce(operator.add, terms)


def model_input_size() -> tuple[int, int]:
    """Height and width the network receives: the image after the standard transforms."""
    from samplevis import transform

    return transform.output_size(transform.standard_transforms, IMAGE_SIZE, IMAGE_SIZE)


def render_call(
    model, layer: str, batch: int, steps: int, param_f: Callable, transforms=None
) -> Callable[[], object]:
    """One run of `steps` steps of a `Renderer` (render_vis's program), compiled by a warm-up
    run: the steady state, without the time to compile (see `--latency` for that)."""
    import samplevis

    vis = samplevis.Renderer(
        model,
        channel_objective(layer, batch),
        param_f,
        transforms=transforms,
        relu_gradient_override=False,
    )
    vis.run((1,), seed=0, progress=False)
    return lambda: vis.run((steps,), seed=0, progress=False)


def call_per_call(model, layer: str, batch: int, steps: int, param_f: Callable):
    """A whole `render_vis` call of `steps` steps with another seed each time, after a first
    call: the per-call figure, tracing and set-up included."""
    import itertools

    import samplevis

    seeds = itertools.count()

    def call() -> object:
        return samplevis.render_vis(
            model,
            channel_objective(layer, batch),
            param_f,
            thresholds=(steps,),
            seed=next(seeds),
            progress=False,
        )

    call()
    return call


def bare_call(keras_model, batch: int, size: tuple[int, int], steps: int) -> Callable[[], object]:
    """One call of a compiled loop of `steps` input-gradient steps: the floor for render_vis.

    The network runs with its normalizations folded, as `Model.features` runs it, so the floor
    measures what render_vis adds around the same network pass."""
    import keras
    import tensorflow as tf

    from samplevis.models.folded_batch_norm import fold_batch_norms

    keras_model, _ = fold_batch_norms(keras_model)

    x = tf.Variable(tf.random.stateless_uniform([batch, *size, 3], [0, 0], -1.0, 1.0))
    channels = tf.range(batch)
    adam = keras.optimizers.Adam(LEARNING_RATE)
    adam.build([x])

    @tf.function
    def ascend(num_steps: tf.Tensor) -> tf.Tensor:
        for _ in tf.range(num_steps):
            with tf.GradientTape() as tape:
                tape.watch(x)
                means = tf.reduce_mean(keras_model(x, training=False), axis=[1, 2])
                objective = tf.reduce_sum(tf.gather(means, channels, axis=1, batch_dims=1))
            adam.apply_gradients([(-tape.gradient(objective, x), x)])
        return x[0, 0, 0, 0]  # fetching a value waits for the loop to finish

    ascend(tf.constant(1)).numpy()
    count = tf.constant(steps)
    return lambda: ascend(count).numpy()


def xplique_call(network: str, layer: str, batch: int, steps: int) -> Callable[[], object] | None:
    """A whole Xplique `optimize` call of `steps` steps on the same work, after a first call
    (None when Xplique does not import): its step is a `tf.function` made anew each call."""
    try:
        from xplique.features_visualizations import Objective, optimize
    except ImportError:
        return None
    import keras

    shape = (*model_input_size(), 3)  # Xplique resizes its transformed image to the input's size
    app = getattr(keras.applications, network)(weights=None, include_top=False, input_shape=shape)
    truncated = keras.Model(app.input, app.get_layer(layer).output)
    objective = Objective.channel(truncated, layer, list(range(batch)))
    value_range = (-1.0, 1.0) if network == "MobileNetV2" else (0.0, 255.0)

    def call() -> object:
        return optimize(
            objective,
            optimizer=keras.optimizers.Adam(LEARNING_RATE),
            nb_steps=steps,
            values_range=value_range,
            custom_shape=(IMAGE_SIZE, IMAGE_SIZE),
        )[0][-1].numpy()

    call()
    return call


def contenders(case: Case, breakdown: bool) -> dict[str, Callable[[], object]]:
    """What one row times: render_vis, the bare loop and, with `breakdown`, render_vis without
    transforms (FFT image at the network's input size) and with a plain pixel image as well."""
    from samplevis import param

    model, size, b = build_model(case.network, case.layer), model_input_size(), case.batch
    calls = {
        "render_vis": render_call(
            model, case.layer, b, case.steps, lambda: param.image(IMAGE_SIZE, batch=b)
        ),
        "render_vis per call": call_per_call(
            model, case.layer, b, case.steps, lambda: param.image(IMAGE_SIZE, batch=b)
        ),
        "bare": bare_call(model.keras_model, b, size, case.steps),
    }
    xplique = xplique_call(case.network, case.layer, b, case.steps)
    if xplique is not None:
        calls["Xplique per call"] = xplique
    if breakdown:
        calls["no transforms"] = render_call(
            model, case.layer, b, case.steps, lambda: param.image(size[1], size[0], batch=b), ()
        )
        calls["no transforms, pixel"] = render_call(
            model,
            case.layer,
            b,
            case.steps,
            lambda: param.image(size[1], size[0], batch=b, fft=False, decorrelate=False),
            (),
        )
    return calls


@dataclass(frozen=True)
class Row:
    case: Case
    size: tuple[int, int]
    rates: dict[str, float]  # image-steps per second of each contender
    step_gflop: float  # network GFLOP of one image-step
    peak: float  # matmul GFLOP/s measured alongside

    def ratio(self, name: str = "render_vis") -> float:
        return self.rates[name] / self.rates["bare"]


def measure(case: Case, repeats: int, breakdown: bool, peak_size: int = PEAK_SIZE) -> Row:
    calls = contenders(case, breakdown)
    peak_call, peak_flops = matmul_peak(peak_size)
    calls["matmul"] = peak_call
    medians = interleaved_medians(calls, repeats)
    peak = peak_flops / medians.pop("matmul") / 1e9
    image_steps = case.batch * case.steps
    model, size = build_model(case.network, case.layer), model_input_size()
    step_gflop = STEP_COST * forward_flops(model.keras_model, (*size, 3)) / 1e9
    rates = {name: image_steps / seconds for name, seconds in medians.items()}
    return Row(case, size, rates, step_gflop, peak)


def model_label(row: Row) -> str:
    return f"{row.case.network} ({row.case.layer})"


def main_table(rows: Sequence[Row]) -> str:
    headers = [
        "model (layer)",
        "batch",
        "input px",
        "steps",
        "GFLOP/img-step",
        "render_vis img-steps/s",
        "per call img-steps/s",
        "bare img-steps/s",
        "ratio %",
        "per-call ratio %",
        "aim %",
        "render_vis GFLOP/s",
        "bare GFLOP/s",
        "peak GFLOP/s",
    ]
    xplique = all("Xplique per call" in r.rates for r in rows)
    if xplique:
        headers += ["Xplique per call img-steps/s", "per call × Xplique"]
    body = [
        [
            model_label(r),
            r.case.batch,
            f"{r.size[0]}x{r.size[1]}",
            r.case.steps,
            f"{r.step_gflop:.2f}",
            f"{r.rates['render_vis']:.2f}",
            f"{r.rates['render_vis per call']:.2f}",
            f"{r.rates['bare']:.2f}",
            f"{100 * r.ratio():.0f}",
            f"{100 * r.ratio('render_vis per call'):.0f}",
            f"{100 * AIM.get(r.case.batch, 0):.0f}",
            f"{r.rates['render_vis'] * r.step_gflop:.1f}",
            f"{r.rates['bare'] * r.step_gflop:.1f}",
            f"{r.peak:.1f}",
        ]
        + (
            [
                f"{r.rates['Xplique per call']:.2f}",
                f"{r.rates['render_vis per call'] / r.rates['Xplique per call']:.2f}",
            ]
            if xplique
            else []
        )
        for r in rows
    ]
    return format_table(headers, body)


def breakdown_table(rows: Sequence[Row]) -> str:
    names = ["render_vis", "no transforms", "no transforms, pixel", "bare"]
    headers = ["model (layer)", "batch"] + [f"{n} img-steps/s (% of bare)" for n in names]
    body = [
        [model_label(r), r.case.batch]
        + [f"{r.rates[n]:.2f} ({100 * r.ratio(n):.0f})" for n in names]
        for r in rows
    ]
    return format_table(headers, body)


def description(repeats: int, peak_size: int = PEAK_SIZE) -> str:
    size = "x".join(map(str, model_input_size()))
    return (
        f"Random-weight keras.applications networks built with input shape (None, None, 3) and "
        f"truncated; the {IMAGE_SIZE} px image reaches them at {size} px after the standard "
        f"transforms, not resized. MobileNetV2: value range (-1, 1); VGG16: (0, 255) minus the "
        f"ImageNet mean. render_vis: param.image({IMAGE_SIZE}), standard transforms, channel "
        f"objective (channel i for image i), Adam({LEARNING_RATE}); the steady state without "
        f"ReLU redirection, the per-call figure with it (render_vis's default); Xplique per "
        f"call, where it imports: optimize() at its defaults otherwise. "
        f"Medians of {repeats} alternating repeats. GFLOP counts convolutions only, a step = "
        f"{STEP_COST} forward passes (input gradient only). Peak: chained {peak_size}x{peak_size} "
        f"float32 matmuls timed in the same alternation."
    )


LATENCY_STEPS = 32  # past the 16 redirected-ReLU steps, so both kinds of step run


def latency(repeats: int) -> str:
    """A table: what a `render_vis` call costs on the built-in model at 128 px beside the same
    steps of one compiled Renderer. The first call of this process traces the network (once per
    model and layer set) and compiles the Renderer; later calls, each with another channel and
    seed, reuse it from the model's cache (`Renderer.cached`); with `reuse=False` each builds
    and compiles a new one, as every call did before the cache. Later calls alternate."""
    import itertools
    import time

    import samplevis
    from samplevis import zoo

    model = zoo.efficientnet_lite0()
    channel = itertools.count(12)

    def render_vis(reuse: bool = True) -> list:
        k = next(channel)
        return samplevis.render_vis(
            model,
            f"block5c_add:{k}",
            thresholds=(LATENCY_STEPS,),
            seed=k,
            progress=False,
            reuse=reuse,
        )

    start = time.perf_counter()
    render_vis()
    first = time.perf_counter() - start
    vis = samplevis.Renderer(model, "block5c_add:0")
    vis.run((LATENCY_STEPS,), seed=0, progress=False)
    calls = {
        "render_vis": render_vis,
        "render_vis, reuse=False": lambda: render_vis(reuse=False),
        "compiled": lambda: vis.run(
            (LATENCY_STEPS,), seed=1, objective=f"block5c_add:{next(channel)}", progress=False
        ),
    }
    medians = interleaved_medians(calls, repeats)
    compiled = medians["compiled"]
    headers = ["call", "steps", "seconds", "compiled Renderer s", "ratio", "first-call cost s"]
    body = [
        [
            name,
            LATENCY_STEPS,
            f"{seconds:.2f}",
            f"{compiled:.2f}",
            f"{seconds / compiled:.2f}",
            f"{seconds - compiled:.2f}",
        ]
        for name, seconds in (
            ("render_vis, first of the process", first),
            (f"render_vis, later (median of {repeats})", medians["render_vis"]),
            (
                f"render_vis reuse=False, later (median of {repeats})",
                medians["render_vis, reuse=False"],
            ),
        )
    ]
    return "efficientnet_lite0, block5c_add, another channel and seed each call, 128 px\n" + (
        format_table(headers, body)
    )


def redirect_cost(repeats: int) -> str:
    """A table: what ReLU redirection costs a step, MobileNetV2 at 224 px, batch 1. A Renderer
    with redirection runs its first 16 steps redirected and the rest plain in one program; one
    without runs every step plain. 16 and 64 steps of each, in alternation."""
    import itertools

    import samplevis
    from samplevis import param

    layer = "block_13_expand_relu"
    model, seeds = build_model("MobileNetV2", layer), itertools.count()
    renderers = {
        redirect: samplevis.Renderer(
            model,
            channel_objective(layer, 1),
            lambda: param.image(IMAGE_SIZE, batch=1),
            relu_gradient_override=redirect,
        )
        for redirect in (False, True)
    }
    for renderer in renderers.values():
        renderer.run((16,), seed=0, progress=False)
    calls = {
        f"{redirect} {steps}": functools.partial(
            lambda r, n: r.run((n,), seed=next(seeds), progress=False), renderer, steps
        )
        for redirect, renderer in renderers.items()
        for steps in (16, 64)
    }
    medians = interleaved_medians(calls, repeats)
    plain_ms = 1000 * (medians["False 64"] - medians["False 16"]) / 48
    redirected_ms = 1000 * medians["True 16"] / 16
    later_ms = 1000 * (medians["True 64"] - medians["True 16"]) / 48
    rows = [
        ["without redirection, every step", f"{plain_ms:.1f}", "1.00"],
        [
            "with it, the first 16 steps (redirected)",
            f"{redirected_ms:.1f}",
            f"{redirected_ms / plain_ms:.2f}",
        ],
        ["with it, the steps after (plain)", f"{later_ms:.1f}", f"{later_ms / plain_ms:.2f}"],
    ]
    return "MobileNetV2 (block_13_expand_relu), 224 px, batch 1\n" + format_table(
        ["steps", "ms a step", "x without"], rows
    )


PART_STEPS = {1: 48, 8: 16}  # steps per timed call in `--parts`, by batch


class PartSteps:
    """render_vis's step on MobileNetV2 (`layer`, `batch` images) as timed calls of `steps`
    steps each, with parts of it changed: each call compiled by a warm-up run first."""

    def __init__(self, layer: str, batch: int, steps: int):
        from samplevis import transform

        self.layer, self.batch, self.steps = layer, batch, steps
        self.model, self.size = build_model("MobileNetV2", layer), model_input_size()
        self.standard = transform.default_transforms()

    def renderer(
        self,
        px: int = IMAGE_SIZE,
        transforms: tuple | None = None,
        objective: object = None,
        pixel: bool = False,
        optimizer: object = None,
        redirect: bool = False,
    ) -> Callable[[], object]:
        """A `Renderer` of these parts (the standard transforms when None), run for `steps`."""
        import samplevis
        from samplevis import param

        image = param.image(px, batch=self.batch, fft=not pixel, decorrelate=not pixel)
        vis = samplevis.Renderer(
            self.model,
            channel_objective(self.layer, self.batch) if objective is None else objective,
            image,
            optimizer,
            self.standard if transforms is None else transforms,
            redirect,
        )
        vis.run((1,), seed=0, progress=False)
        return lambda: vis.run((self.steps,), seed=0, progress=False)

    def one_call(self) -> Callable[[], object]:
        """All `steps` steps in one call of the compiled program (`Renderer.compiled_steps`)."""
        import tensorflow as tf

        import samplevis
        from samplevis import param

        vis = samplevis.Renderer(
            self.model,
            channel_objective(self.layer, self.batch),
            param.image(IMAGE_SIZE, batch=self.batch),
            None,
            None,
            False,
        )
        args = [
            tf.constant(0, tf.int64),
            tf.constant([0, 0], tf.int32),
            tf.constant(self.steps, tf.int64),
        ]
        vis.compiled_steps(tf.constant(1, tf.int32), *args)
        count = tf.constant(self.steps, tf.int32)
        return lambda: vis.compiled_steps(count, *args)[1].numpy()

    def undone(self, patches: Sequence[tuple], objective: object = None) -> Callable[[], object]:
        """`renderer(objective=objective)` compiled with each (owner, name, value) of `patches`
        set: parts of the step as they were before a change, timed beside the step as it is."""
        kept = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
        for owner, name, value in patches:
            setattr(owner, name, value)
        try:
            return self.renderer(objective=objective)  # compiles here, with the old parts
        finally:
            for owner, name, value in kept:
                setattr(owner, name, value)

    def whole_batch_terms(self) -> object:
        """The channel objective with each image's term computed on the whole batch, the other
        images masked out (the library's way before its terms read their own row)."""
        import tensorflow as tf

        from samplevis.optvis.objectives import Objective

        layer, batch = self.layer, self.batch

        def term(i: int) -> Objective:
            mask = tf.one_hot(i, batch)
            return Objective(
                lambda T: mask * tf.reduce_mean(tf.gather(T(layer), i, axis=-1), axis=[1, 2]),
                frozenset({layer}),
            )

        return functools.reduce(operator.add, [term(i) for i in range(batch)])


def part_calls(batch: int, steps: int) -> dict[str, Callable[[], object]]:
    """render_vis's steady-state step (MobileNetV2, 224 px, no redirection) and the same with one
    part removed or replaced by the cheapest stand-in that keeps the network's input at its size
    (the image made larger by what a removed pad or crop took away), plus the bare loop."""
    import keras

    import samplevis
    from samplevis import transform
    from samplevis.optvis.param import base, fourier
    from samplevis.optvis.transform import resampling

    layer = "block_13_expand_relu"
    part = PartSteps(layer, batch, steps)
    renderer, undone, size = part.renderer, part.undone, part.size
    # no output is large enough for the map to be compiled with XLA
    plain_map = (resampling, "XLA_MAP_PIXELS", float("inf"))
    mix_last = (fourier.FFTTensor, "to_mixed_tensor", base.TensorParam.to_mixed_tensor)
    pad, jitter8, scale, rotate, jitter4 = part.standard
    calls = {
        "render_vis (steady state)": renderer(),
        "with ReLU redirection (16 of the steps)": renderer(redirect=True),
        "pixel image (no FFT, no colour decorrelation)": renderer(pixel=True),
        "no pad (image 248 px)": renderer(IMAGE_SIZE + 24, (jitter8, scale, rotate, jitter4)),
        "no jitter(8) (image 216 px)": renderer(IMAGE_SIZE - 8, (pad, scale, rotate, jitter4)),
        "no random scale": renderer(transforms=(pad, jitter8, rotate, jitter4)),
        "no random rotate": renderer(transforms=(pad, jitter8, scale, jitter4)),
        "no jitter(4) (image 220 px)": renderer(IMAGE_SIZE - 4, (pad, jitter8, scale, rotate)),
        "no transforms (image 236 px)": renderer(size[0], ()),
        "pads and crops as tensors, not in the resampling": renderer(
            transforms=(pad, jitter8, transform.compose([scale, rotate]), jitter4)
        ),
        "sampling map not compiled with XLA": undone([plain_map]),
        "colour mix channels last (einsum after the FFT's transpose)": undone([mix_last]),
        "one channel for all images (no per-image gather)": renderer(
            objective=samplevis.optvis.objectives.channel(layer, 0)
        ),
        "each image's term on the whole batch, others masked": renderer(
            objective=part.whole_batch_terms()
        ),
        "the map, colour mix and terms as they were (563cdd6)": undone(
            [plain_map, mix_last], part.whole_batch_terms()
        ),
        "SGD instead of Adam": renderer(optimizer=keras.optimizers.SGD(LEARNING_RATE)),
        "all steps in one compiled call": part.one_call(),
        "bare": bare_call(part.model.keras_model, batch, size, steps),
    }
    return calls


def parts(repeats: int, batches: Sequence[int]) -> str:
    """A table: ms per step of render_vis's step with each part removed in turn, by batch."""
    rows: dict[str, list[str]] = {}
    for batch in batches:
        steps = PART_STEPS.get(batch, 16)
        medians = interleaved_medians(part_calls(batch, steps), repeats)
        full = medians["render_vis (steady state)"]
        bare = medians["bare"]
        for name, seconds in medians.items():
            ms, saved = 1000 * seconds / steps, 1000 * (full - seconds) / steps
            rows.setdefault(name, [name]).extend(
                [f"{ms:.1f}", f"{saved:+.1f}", f"{100 * bare / seconds:.0f}"]
            )
        print(f"  measured batch {batch}", flush=True)
    headers = ["step"]
    for batch in batches:
        headers += [f"b{batch} ms/step", f"b{batch} ms saved", f"b{batch} % of bare"]
    return (
        f"MobileNetV2 (block_13_expand_relu), {IMAGE_SIZE} px, {PART_STEPS} steps a call by "
        f"batch, medians of {repeats} alternating repeats; ms saved: against the first row\n"
        + format_table(headers, list(rows.values()))
    )


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="one row, few steps, one repeat (a smoke run)"
    )
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="also time render_vis without transforms and with a pixel image",
    )
    parser.add_argument(
        "--latency",
        action="store_true",
        help="only the first-call cost of render_vis on the built-in model",
    )
    parser.add_argument(
        "--redirect",
        action="store_true",
        help="only what ReLU redirection costs a step (MobileNetV2, batch 1)",
    )
    parser.add_argument(
        "--network",
        choices=("MobileNetV2", "VGG16"),
        default=None,
        help="only this network's rows of the main table",
    )
    parser.add_argument(
        "--parts",
        action="store_true",
        help="only a step's time with each part removed in turn (MobileNetV2, batch 1 and 8)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="alternating repeats per row, medians reported (default 3; 1 if --quick)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] = ()) -> None:
    args = parse(argv)
    repeats = args.repeats or (1 if args.quick else 3)
    print(f"command: {command_line()}")
    print(f"machine: {machine()}", flush=True)
    if args.latency:
        print(latency(repeats))
        print(f"machine at end: {machine()}")
        return
    if args.parts:
        print(parts(repeats, (2,) if args.quick else (1, 8)))
        print(f"machine at end: {machine()}")
        return
    if args.redirect:
        print(redirect_cost(repeats))
        print(f"machine at end: {machine()}")
        return
    rows = []
    cases = quick_cases() if args.quick else full_cases()
    peak_size = QUICK_PEAK_SIZE if args.quick else PEAK_SIZE
    for case in [c for c in cases if args.network in (None, c.network)]:
        rows.append(measure(case, repeats, args.breakdown, peak_size))
        print(f"  measured {case.network} batch {case.batch}", flush=True)
    print()
    print(description(repeats, peak_size))
    print()
    print(main_table(rows))
    if args.breakdown:
        print()
        print(breakdown_table(rows))
    print(f"machine at end: {machine()}")


if __name__ == "__main__":
    main(sys.argv[1:])
