"""Rendering a batch of one layer's channels in one compiled program, each image with the seed of
its (seed, layer, channel), in this process or on a Ray worker; and a channel's HMC samples."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from samplevis.models import Model


import time
import warnings
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from samplevis.atlas.results import ChannelResult, Settings
from samplevis.optvis.param.base import ImageParam


def channel_seed(seed: int, layer: str, channel: int) -> tuple[int, int]:
    """The stateless seed (two int32 words) of one channel of an atlas: a function of the
    atlas seed, the layer name and the channel only, so batches and reruns do not change it."""
    from samplevis.runtime.seeds import as_seed, fold_in

    words = fold_in(fold_in(as_seed(seed), zlib.crc32(layer.encode())), channel).numpy()
    return int(words[0]), int(words[1])


def _channel_per_image(layer: str, channels) -> Any:
    """An objective: for image i, the mean activation of channel `channels[i]` of `layer`
    (`channels` an int32 tf.Variable [B] that the atlas sets before each batch)."""
    import tensorflow as tf

    from samplevis.optvis.objectives import Objective

    def fn(T):
        picked = tf.gather(T(layer), channels, axis=-1, batch_dims=1)  # [B, ...positions]
        return tf.reduce_mean(picked, axis=list(range(1, len(picked.shape))))

    return Objective(fn, frozenset({layer}), f"atlas_channels({layer!r})")


def _item_seed(seeds, i: int, seed):
    """Image i's seed for a draw whose shared seed is `seed` (int32 [2])."""
    from samplevis.runtime.seeds import fold_in

    return fold_in(fold_in(seeds[i], seed[0]), seed[1])


class _SeededImages(ImageParam):
    """The parameterization `full` (a batch) whose image i starts as `single` (the same, of one
    image) starts from its own seed `seeds[i]` (an int32 tf.Variable [B, 2]); the seed given to
    `init` is not used."""

    def __init__(self, single: ImageParam, full: ImageParam, seeds):
        self.single, self.full, self.seeds = single, full, seeds

    @property
    def batch(self) -> int:
        return self.full.batch

    @property
    def height(self) -> int:
        return self.full.height

    @property
    def width(self) -> int:
        return self.full.width

    @property
    def channels(self) -> int:
        return self.full.channels

    @property
    def state_shapes(self) -> tuple:
        return self.full.state_shapes

    @property
    def state_size(self) -> int:
        return self.full.state_size

    def init(self, seed: object = None) -> tuple:
        import tensorflow as tf

        from samplevis.runtime.seeds import fold_in

        parts = [self.single.init(fold_in(self.seeds[i], 0)) for i in range(self.batch)]
        return tuple(tf.concat(tensors, 0) for tensors in zip(*parts))

    def to_image(self, state: tuple):
        return self.full.to_image(state)


class _PerImage:
    """A transform drawn for each image on its own: image i's draw at a step is seeded by
    (`seeds[i]`, the step's seed), so it does not depend on the other images of the batch. A
    transform giving k views of an image (`transform.maco_crops`) gives k * B views, view j of
    image b at j * B + b, as `evaluation.objective_of` reads them."""

    def __init__(self, transform: Any, seeds: Any):
        self.transform, self.seeds = transform, seeds

    @property
    def takes_progress(self) -> bool:
        return bool(getattr(self.transform, "takes_progress", False))

    def __call__(self, images, seed, progress=None):
        import tensorflow as tf

        batch = images.shape[0]
        seeds = tf.stack([_item_seed(self.seeds, i, tf.cast(seed, tf.int32)) for i in range(batch)])

        def views(pair):
            if progress is not None and self.takes_progress:
                return self.transform(pair[0][None], pair[1], progress=progress)
            return self.transform(pair[0][None], pair[1])

        seen = tf.map_fn(views, (images, seeds), fn_output_signature=tf.float32)  # [B, k, ...]
        seen = tf.transpose(seen, [1, 0, *range(2, len(seen.shape))])
        return tf.reshape(seen, [-1, *seen.shape[2:]])

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        return self.transform.output_size(height, width)


class _LayerRenderer:
    """The compiled program of one layer's batches: its channels and per-image seeds are
    variables set before each batch, so every batch of the layer reuses one `Renderer`. The
    parameterization, transforms and optimizer are `recipes.recipe`'s for the settings' `param`
    and `alpha`, those of `samplevis optimize --param/--alpha`."""

    def __init__(self, model: Model, layer: str, settings: Settings):
        import tensorflow as tf

        from samplevis.optvis import recipes, transform
        from samplevis.optvis.optimize import Renderer

        self.batch = batch = settings.batch
        self.channels = tf.Variable(tf.zeros([batch], tf.int32), trainable=False)
        self.seeds = tf.Variable(tf.zeros([batch, 2], tf.int32), trainable=False)
        size, param, alpha = settings.size, settings.param, settings.alpha
        objective = _channel_per_image(layer, self.channels)
        parts = recipes.recipe(model, objective, size, batch, param, alpha)
        single = recipes.image_param(param, size, 1, alpha)
        self.renderer = Renderer(
            model,
            parts.objective,
            _SeededImages(single, parts.param, self.seeds),
            parts.optimizer,
            transforms=[_PerImage(transform.compose(parts.transforms), self.seeds)],
        )

    def render(self, channels: Sequence[int], seeds: Sequence[tuple[int, int]], settings: Settings):
        """(images [n, H, W, 3] (RGBA: 4), objective values [n], steps taken, notes) for
        n <= batch channels; Ctrl-C raises KeyboardInterrupt (the batch is dropped)."""
        from samplevis.optvis.optimize import NonFiniteObjectiveError, Rendering

        fill = self.batch - len(channels)
        self.channels.assign(np.asarray(list(channels) + [channels[-1]] * fill, np.int32))
        self.seeds.assign(np.asarray(list(seeds) + [seeds[-1]] * fill, np.int32))
        notes: tuple[str, ...] = ()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "render_vis interrupted", UserWarning)
            try:
                rendering = self.renderer.run(
                    (settings.steps,), settings.seed, progress=False, return_state=True
                )
            except NonFiniteObjectiveError as err:
                values = np.full([self.batch], np.nan, np.float32)
                notes = (
                    f"the objective of an image of this batch became NaN or infinite at "
                    f"step {err.steps + 1}; the batch stopped there",
                )
                return err.images[-1][: len(channels)], values[: len(channels)], err.steps, notes
        assert isinstance(rendering, Rendering)  # return_state=True
        if rendering.interrupted:
            raise KeyboardInterrupt
        n = len(channels)
        return rendering.images[-1][:n], rendering.values[:n], rendering.steps, notes


class LayerRenderers:
    """One `_LayerRenderer` per layer of a model, built on a layer's first batch and kept by
    whoever renders the batches (this process, or a Ray worker)."""

    def __init__(self, model: Model, settings: Settings):
        self.model, self.settings = model, settings
        self._layers: dict[str, _LayerRenderer] = {}

    @property
    def traces(self) -> int:
        """How many times the layers' programs have been traced."""
        return sum(r.renderer.traces for r in self._layers.values())

    def render_batch(self, layer: str, channels: Sequence[int]) -> list[ChannelResult]:
        """Render up to `settings.batch` channels of `layer` at once (then, with
        `settings.samples`, sample each); one ChannelResult per channel, in order."""
        settings = self.settings
        if layer not in self._layers:
            self._layers[layer] = _LayerRenderer(self.model, layer, settings)
        seeds = [channel_seed(settings.seed, layer, c) for c in channels]
        start = time.perf_counter()
        images, values, steps, notes = self._layers[layer].render(channels, seeds, settings)
        each = (time.perf_counter() - start) / len(channels)
        results = [
            ChannelResult(
                layer,
                int(c),
                np.asarray(images[i], np.float32),
                float(values[i]),
                int(steps),
                each,
                seeds[i],
                notes=notes,
            )
            for i, c in enumerate(channels)
        ]
        for result in results if settings.samples else ():
            sample_channel(self.model, result, settings)
        return results


def sample_channel(model: Model, result: ChannelResult, settings: Settings) -> None:
    """Add `settings.samples` HMC samples of the channel to `result`, one chain of
    `param.image(size)` started from its optimized image (a MACO image is one too; `atlas`
    refuses samples of RGBA images); the sampler's warnings become the result's notes."""
    from samplevis.optvis import objectives, param
    from samplevis.runtime.seeds import fold_in
    from samplevis.sampling.sampler import render

    opts = {
        **settings.hmc_opts,
        "num_results": settings.samples,
        "num_chains": 1,
        "init": result.image[None],
    }
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sampled = render(
            model,
            objectives.channel(result.layer, result.channel),
            hmc_opts=opts,
            param_f=param.image(settings.size),
            seed=fold_in(np.asarray(result.channel_seed), 2),
            progress=False,
        )
    if sampled.interrupted:
        raise KeyboardInterrupt
    result.frames = sampled.images[:, 0]
    result.strip = sampled.grid(with_init=True)
    result.seconds += time.perf_counter() - start
    result.notes += tuple(str(w.message) for w in caught if issubclass(w.category, UserWarning))
