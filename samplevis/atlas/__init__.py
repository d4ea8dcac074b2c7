"""`atlas`: every channel of one or more layers, rendered in batches, resumable; on Ray when asked.

    samplevis.atlas(zoo.efficientnet_lite0, ["block3a_expand_activation"], out="atlas/")

writes `atlas/LAYER/CHANNEL.png` for every channel, `atlas/atlas.json` (what each channel reached,
with which seed, in how long) and `atlas/index.html`, a page to browse them from the file system.

Channels render `batch` at a time in one compiled `render_vis` program per layer: the channel of
each image and its seed are variables the atlas sets before every batch, so the next batch and the
last, partial one reuse the program (a partial batch is filled with copies of its last channel,
whose results are dropped). Every image has its own random start and its own transform draws,
from a seed derived from (seed, layer, channel): a channel's image does not depend on which batch
it lands in, on a resumed run or on a Ray worker.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from samplevis.atlas.batches import LayerRenderers, channel_seed
from samplevis.atlas.files import check_out, is_done, write_channel
from samplevis.atlas.local import InProcess
from samplevis.atlas.plan import (
    ALL,
    Plan,
    activation_layers,
    channel_counts,
    check_channels,
    check_cluster,
    check_samples,
    chosen_layers,
    hmc_options,
    model_and_factory,
    parse_channels,
    plan_channels,
    positive,
)
from samplevis.atlas.results import ATLAS_JSON, INDEX_HTML, AtlasResult, ChannelResult, Settings
from samplevis.atlas.sharing import SharedAtlas
from samplevis.optvis.recipes import check_choice
from samplevis.runtime import memory, signals
from samplevis.runtime.checks import check_bool

JSON_EVERY = 10.0  # seconds between rewrites of atlas.json during a run (it is also written last)


def atlas(
    model: object,
    layers: str | Sequence[str],
    channels: int | str | Sequence[int] | None = None,
    steps: int = 256,
    size: int = 128,
    batch: int = 16,
    out: str | os.PathLike = "atlas/",
    samples: int = 0,
    seed: int = 0,
    cluster: bool | str | None = None,
    *,
    param: str = "image",
    alpha: bool = False,
    workers: int | None = None,
    worker_options: Mapping[str, Any] | None = None,
    hmc_opts: Mapping[str, Any] | None = None,
    progress: bool = True,
) -> AtlasResult:
    """Render every channel of `layers` (or those in `channels`) and write a browsable atlas.

    Writes `out/LAYER/CHANNEL.png` (float image from `render_vis`'s default pipeline: a
    `param.image(size)` FFT image, the standard transforms, Adam(0.05), `steps` steps; or as
    `param` and `alpha` choose, as `samplevis optimize --param/--alpha` renders), with
    `samples` > 0 also `CHANNEL_samples.gif` and `CHANNEL_samples.png` (the start, then the
    samples) from `samplevis.render` started at that image; `out/atlas.json` (per channel: layer,
    channel, objective value reached, steps, seed, files, seconds) and `out/index.html`.

    Channels whose files exist and are in atlas.json with the same steps, size and seed are
    skipped, so a rerun resumes; an atlas rendered with another `param` or `alpha` is an error.
    Files are written whole or not at all; Ctrl-C stops after writing atlas.json and index.html
    for the channels finished.

    Several runs (processes, hosts) may write into one `out` at the same time, with the same
    settings: each merges its channels into the folder's atlas.json (under a file lock), skips
    channels another run has finished and leaves those another run is rendering to it, so
    runs of the same channels share them (`samplevis.atlas.sharing`). A run with other steps,
    size, seed, samples, param or alpha than one still writing into `out` is an error.

    Args:
        model: a `samplevis.Model` or `keras.Model`, or a function of no arguments returning one
            (e.g. `zoo.efficientnet_lite0`); with `cluster`, a function that the Ray workers
            can import (a module-level function or a `functools.partial` of one).
        layers: a layer name, a list of them, or "all" (every activation layer of
            `model.layers_info()`).
        channels: None (all), an int, a list, or a string such as "0-63" or "0-7,12";
            the same for every layer.
        steps: optimization steps.
        size: image size in px.
        batch: channels rendered at once in one compiled program (one image per channel).
        out: the atlas's folder, created if missing; a rerun into it resumes.
        samples: HMC samples per channel (0: none); `hmc_opts` passes other `render` options.
        seed: an int; a channel's image depends only on (seed, layer, channel) and the settings.
        param: "image" (Lucid's, above) or "maco": `param.maco(size)` seen through
            `transform.maco_crops` of the network's input size, Nadam(1.0) (MACO's).
        alpha: RGBA images (with param "image"): `param.image(size, alpha=True)`, composited
            over a random image at every step, the objective times (1 - `penalize_alpha()`);
            the PNGs keep the alpha, and the page shows them over a checkerboard. Not with
            `samples`: the sampler's images are RGB.
        cluster: None renders in this process; True or "local" starts a local Ray cluster; an
            address ("auto", "ray://host:10001") joins a running one. If Ray is already
            initialized, its connection is used and left open.
        workers: Ray actors (default: the cluster's CPUs, or GPUs, per actor).
        worker_options: Ray actor options, e.g. {"num_gpus": 1} or {"num_cpus": 4} (default
            {"num_cpus": 1}).
        hmc_opts: `render`'s other options for the samples (see `samplevis.render`).
        progress: one progress bar over channels, with the rate and time left.

    Returns:
        An `AtlasResult` (the folder, the atlas.json entries, counts, `interrupted`).

    Examples:
        ```python
        import samplevis
        from samplevis import zoo

        found = samplevis.atlas(zoo.efficientnet_lite0, "block3a_expand_activation",
                                channels="0-15", steps=32, size=64, out="atlas/")
        print(found.out / "index.html")
        ```
    """
    settings = Settings(
        positive("steps", steps),
        positive("size", size),
        positive("batch", batch),
        positive("seed", seed, 0),
        positive("samples", samples, 0),
        hmc_options(hmc_opts),
        *check_choice(param, alpha),
    )
    check_samples(settings)
    progress = check_bool("progress", progress)
    check_cluster(cluster)
    wanted = parse_channels(channels)
    out = check_out(out)
    the_model, factory = model_and_factory(model)
    if cluster is not None and factory is None:
        raise TypeError(
            "on a Ray cluster each worker loads the model itself: give a function of "
            "no arguments returning it (e.g. zoo.efficientnet_lite0, or "
            "functools.partial(zoo.load, 'model.keras')), not the model."
        )
    names = chosen_layers(the_model, layers)
    memory.check_fits(the_model, names, settings.size, settings.size, settings.batch)
    counts = channel_counts(the_model, names)
    chosen = check_channels(channels, wanted, counts)
    out.mkdir(parents=True, exist_ok=True)
    folder = SharedAtlas(out, the_model.name, settings)
    previous = folder.join()
    try:
        plan = plan_channels(chosen, counts, settings, out, previous)
        if cluster is None or not plan.jobs:
            runner: Any = InProcess(the_model, settings)
        else:
            from samplevis.atlas.cluster import RayPool  # Ray only when asked for

            assert factory is not None  # checked above: a cluster needs the model's function
            runner = RayPool(
                factory, settings, cluster, workers, dict(worker_options or {}), len(plan.jobs)
            )
        return _run(runner, plan, folder, settings, out, progress)
    finally:
        with signals.held():
            folder.leave()


def _run(
    runner, plan: Plan, folder: SharedAtlas, settings: Settings, out: Path, progress: bool
) -> AtlasResult:
    """Render the plan's batches with `runner`, each claimed in the folder just before, writing
    each channel's files as it comes and atlas.json and index.html (merged with the folder's)
    every JSON_EVERY seconds and at the end, also after Ctrl-C or when the machine runs out of
    memory (then a MemoryLimitError says what to lower)."""
    import tensorflow as tf

    mine: dict = {}  # this run's entries, by (layer, channel)
    rendered, interrupted = 0, False
    bar = _progress_bar(plan.total, plan.skipped, progress)
    saved, ordered = time.monotonic(), []
    try:
        for results in runner.run(_claimed_batches(plan, folder, settings.batch, bar)):
            # a SIGTERM within `signals.stop_on_termination` waits for the batch's files
            with signals.held():
                for result in results:
                    mine[(result.layer, result.channel)] = write_channel(out, result, settings)
                rendered += len(results)
                if time.monotonic() - saved > JSON_EVERY:
                    folder.save(plan.layers, mine)
                    saved = time.monotonic()
                bar.update(len(results))
    except KeyboardInterrupt:
        interrupted = True
        warnings.warn(
            f"atlas interrupted after {rendered} of {plan.total - plan.skipped} "
            f"channels; {out / ATLAS_JSON} lists those finished.",
            stacklevel=3,
        )
    except tf.errors.ResourceExhaustedError as err:
        # the channels finished are on disk and in atlas.json (below), as after Ctrl-C
        raise memory.out_of_memory_error(err, settings.size, settings.size, settings.batch) from err
    finally:
        with signals.held():
            bar.close()
            runner.close()
            ordered = folder.save(plan.layers, mine)
    finished = {
        (e["layer"], e["channel"]) for e in ordered if is_done(e, settings, out)
    } - mine.keys()
    todo = {(layer, c) for layer, channels in plan.todo.items() for c in channels}
    others = len(todo & finished)
    return AtlasResult(
        out,
        tuple(ordered),
        rendered,
        plan.skipped,
        interrupted,
        others=others,
        missing=len(todo) - rendered - others,
    )


def _claimed_batches(
    plan: Plan, folder: SharedAtlas, batch: int, bar
) -> Iterator[tuple[str, list[int]]]:
    """The plan's batches, each claimed in the folder as it is about to render: channels that
    another run has finished since this one started are skipped (and counted on the bar), and
    those another live run has claimed are left to it."""
    for layer, channels in plan.todo.items():
        left = list(channels)
        while left:
            chosen, done = folder.claim(layer, left, batch)
            if done:
                bar.update(len(done))
            left = [c for c in left if c not in chosen and c not in done]
            if not chosen:
                break
            yield layer, chosen


def _progress_bar(total: int, done: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(
        total=total, initial=done, disable=not enabled, desc="atlas", unit="channel", smoothing=0.1
    )


__all__ = [
    "ALL",
    "ATLAS_JSON",
    "INDEX_HTML",
    "AtlasResult",
    "ChannelResult",
    "LayerRenderers",
    "Settings",
    "activation_layers",
    "atlas",
    "channel_seed",
    "parse_channels",
]
