"""TensorBoard logs: the log folder, scalar and image summaries, and the event file
`render_vis(log_dir=...)` writes.

Event files are written with TensorFlow's own `tf.summary.write`, in the form TensorBoard's
scalar and image dashboards read (what `tensorboard`'s `tf.summary.scalar` and `image` write:
TensorFlow 2.21 leaves those two to the tensorboard package), so writing them needs only
TensorFlow, and so does reading them back (`tf.compat.v1.train.summary_iterator`, then
`tf.make_ndarray(value.tensor)`). Showing them needs TensorBoard: `pip install tensorboard &&
tensorboard --logdir DIR`. Its page keeps 10 images per tag unless started with
`--samples_per_plugin images=0`; the files hold every one.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import summary_pb2

from samplevis.runtime.checks import OptionError


def _metadata(plugin: str, data_class: int) -> bytes:
    # TensorBoard's plugins mark their summaries so; version 0 of their plugin data is empty.
    plugin_data = summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin, content=b"")
    return summary_pb2.SummaryMetadata(
        plugin_data=plugin_data, data_class=data_class
    ).SerializeToString()


SCALAR_METADATA = _metadata("scalars", summary_pb2.DATA_CLASS_SCALAR)
IMAGE_METADATA = _metadata("images", summary_pb2.DATA_CLASS_BLOB_SEQUENCE)
OBJECTIVE = "objective"  # the objective summed over the batch; per image: objective/image_{b}
IMAGES = "images"  # the batch of images, one summary per threshold


def log_folder(log_dir: str | os.PathLike | None, option: str = "log_dir") -> Path | None:
    """`log_dir` as a Path, or None for None; checked, not yet created.

    Called before any work, so that a folder that cannot hold the log fails at once: a file in
    the way, or a folder without write permission, raises an `OptionError` naming `option`.
    The folder and its parents are created as the log is written (`file_writer`), so a run that
    stops before leaves none behind.
    """
    if log_dir is None:
        return None
    if not isinstance(log_dir, (str, os.PathLike)):
        raise TypeError(
            f"{option} must be a folder path (a str or os.PathLike) or None; got "
            f"{type(log_dir).__name__}."
        )
    folder = Path(log_dir)
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    given = f"{{{option}}} {{folder!r}}"
    if not existing.is_dir():
        where = "is a file" if existing == folder else "lies under the file {existing!r}"
        raise OptionError(
            option,
            given + f" {where}; give a folder for the TensorBoard log (it is created if missing).",
            folder=str(folder),
            existing=str(existing),
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OptionError(
            option,
            given + ": no permission to write in {existing!r}; give a folder you can write to.",
            folder=str(folder),
            existing=str(existing),
        )
    return folder


def file_writer(folder: Path) -> tf.summary.SummaryWriter:
    """A writer of a new event file in `folder` (checked by `log_folder`), created with its
    parents if missing."""
    folder.mkdir(parents=True, exist_ok=True)
    return tf.summary.create_file_writer(str(folder))


class Curves:
    """Scalar curves, one per tag, written by one compiled loop per call: an eager summary op
    costs more than a small model's optimization step."""

    def __init__(self, writer: tf.summary.SummaryWriter, tags: Sequence[str]):
        self.writer = writer
        self.tags = tuple(tags)
        signature = [tf.TensorSpec([None], tf.int64), tf.TensorSpec([None, len(self.tags)])]
        self._write = tf.function(self._write_fn, input_signature=signature, autograph=False)

    def write(self, steps: np.ndarray, values: np.ndarray) -> None:
        """Write values[i, j] as the point (steps[i], values[i, j]) of curve tags[j];
        steps int [n], values float [n, len(tags)]."""
        self._write(tf.constant(steps, tf.int64), tf.constant(values, tf.float32))

    def _write_fn(self, steps: tf.Tensor, values: tf.Tensor) -> None:
        def body(i):
            with tf.control_dependencies(
                [
                    tf.summary.write(tag, values[i, j], step=steps[i], metadata=SCALAR_METADATA)
                    for j, tag in enumerate(self.tags)
                ]
            ):
                return i + 1

        with self.writer.as_default():
            tf.while_loop(lambda i: i < tf.shape(steps)[0], body, [tf.constant(0)])


def write_images(tag: str, batch: np.ndarray, step: int) -> None:
    """Write images (float [k, H, W, 3] in [0, 1]) as one image summary of `tag` to the default
    writer: TensorBoard's layout, the width and height as strings, then a PNG per image."""
    batch = np.asarray(batch)
    pixels = np.round(np.clip(batch, 0.0, 1.0) * 255.0).astype(np.uint8)
    pngs = [tf.io.encode_png(image) for image in pixels]
    size = [tf.constant(str(batch.shape[2])), tf.constant(str(batch.shape[1]))]
    tf.summary.write(tag, tf.stack(size + pngs), step=step, metadata=IMAGE_METADATA)


class OptimizationLog:
    """The event file of one `render_vis` run, or nothing when its folder is None.

    Tags, at step s = the s-th optimizer update (1 to the last threshold):
      objective: the objective summed over the batch, what the optimizer maximizes, at the
        images before update s (as `Rendering.values` for the last step);
      objective/image_{b}: the objective of image b;
      images: the images [B, H, W, 3] after update s, at every threshold (and, if the run
        stopped early, at the step it stopped).
    """

    def __init__(self, folder: Path | None, batch: int):
        self.writer = None if folder is None else file_writer(folder)
        tags = [OBJECTIVE] + [f"{OBJECTIVE}/image_{b}" for b in range(batch)]
        self.curves = None if folder is None else Curves(self.writer, tags)

    def objective(self, first_step: int, values: np.ndarray) -> None:
        """Log `values` [n, B], the objective at steps first_step + 1 ... first_step + n."""
        if self.writer is None or self.curves is None or not len(values):
            return
        values = np.asarray(values, np.float32)
        steps = first_step + 1 + np.arange(len(values))
        self.curves.write(steps, np.concatenate([values.sum(axis=1, keepdims=True), values], 1))

    def images(self, step: int, batch: np.ndarray) -> None:
        """Log the images `batch` (float [B, H, W, 3] in [0, 1]) at `step`."""
        if self.writer is None:
            return
        with self.writer.as_default():
            write_images(IMAGES, batch, step)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
