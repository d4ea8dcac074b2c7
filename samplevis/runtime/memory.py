"""Memory at the door: what a run will need, estimated before any tensor is made, against what the
device that runs it has free (the host's memory, or the GPU's; `devices` asks the platform).

An image of 100,000 px a side has a spectral state of 2 x 3 x 100,000 x 50,001 floats (120 GB):
TensorFlow would fail with an out-of-memory traceback after compiling. `check_fits` says so
first, in a `MemoryLimitError` that names the argument (or command-line flag) to lower. Where
the device cannot tell its free memory, a warning says so once and the run goes on.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from samplevis.runtime import devices
from samplevis.runtime.checks import OptionError, user_stacklevel

BYTES = 4  # float32
# Copies of the spectral state a step holds: the variable, Adam's two moments, the last finite
# state kept for a NaN step, its gradient, and the complex spectrum (two floats) the inverse FFT
# reads.
STATE_COPIES = 7
# Copies of the image a step holds: the image, the transforms' intermediate images (pad, jitter,
# the fused scale-and-rotate resampling with its weights and neighbours), the resize to the
# network, and the gradients of each.
IMAGE_COPIES = 24
# Copies of every activation up to the objective's layers: the forward value kept for the
# backward pass, its gradient, and the backward kernels' workspace.
ACTIVATION_COPIES = 3
PROBE_SIDE = 32  # px: a fully convolutional network's activations are measured at this size


class MemoryLimitError(OptionError):
    """A run whose tensors cannot fit in the memory of the device that runs it; the message names
    the device and says how much the run needs, how much there is, and what to lower. `needed`
    and `available` are in bytes.

    Args:
        option: the option to lower, as `OptionMessage` names it ('hmc_opts.num_chains').
        template: the message, its options as {placeholders} (see `OptionMessage`).
        needed: the bytes the run needs.
        available: the bytes the device has free.
        **values: the values the message quotes.
    """

    # What was computed before running out during the work, as on Ctrl-C: `render_vis` sets
    # `images` and `steps` (as a NonFiniteObjectiveError's), `render` sets `result`.
    images: list | None = None
    steps: int | None = None
    result: object = None

    def __init__(
        self, option: str, template: str, *, needed: int, available: int, **values: object
    ):
        self.needed = needed
        self.available = available
        super().__init__(
            option,
            template,
            needed_text=_size(needed),
            available_text=_size(available),
            needed=needed,
            available=available,
            **values,
        )


class LayerRow(Protocol):
    """A row of a model's layer table (`models.catalogue.LayerInfo` is one)."""

    @property
    def name(self) -> str: ...

    @property
    def output_shape(self) -> tuple: ...


class LayerRead(Protocol):
    """What a layer name reads (`models.catalogue.Reading` is one)."""

    @property
    def layer(self) -> str: ...


class LayeredModel(Protocol):
    """What the estimate reads of a model (`samplevis.models.Model` has it; memory sits below
    models): its layer table, what a name reads, and one forward pass."""

    def layers_info(self) -> Sequence[LayerRow]: ...

    def reading(self, name: str) -> LayerRead: ...

    def activations(self, images: Any, layer_names: Sequence[str]) -> Mapping[str, Any]: ...


def _size(num_bytes: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if num_bytes < 1000 or unit == "PB":
            return f"{num_bytes:.0f} {unit}" if unit == "bytes" else f"{num_bytes:.1f} {unit}"
        num_bytes /= 1000
    raise AssertionError("unreachable")


# The devices whose free memory the door could not tell, each warned about once a process.
_UNCHECKED: set[str] = set()


def _warn_unchecked(device: devices.Device) -> None:
    if device.tf_name in _UNCHECKED:
        return
    _UNCHECKED.add(device.tf_name)
    warnings.warn(
        f"samplevis cannot tell how much memory {device.name} has free, so runs there start "
        "unchecked; for an NVIDIA GPU install the gpu extra (pip install 'samplevis[gpu]'), or "
        "give the GPU a memory limit (tf.config.set_logical_device_configuration).",
        stacklevel=user_stacklevel(),
    )


def _activation_elements(
    model: LayeredModel, layers: Sequence[str], height: int, width: int
) -> int:
    """Activation elements of one image up to the deepest of `layers`, at the size the network
    sees: its fixed input size, or height x width for a network of any input size (measured at
    PROBE_SIDE px and scaled by area). 0 when the network cannot tell."""
    info = list(model.layers_info())
    names = [row.name for row in info]
    rows_read = [_row_read(model, layer) for layer in layers]
    deepest = max((names.index(row) for row in rows_read if row in names), default=-1)
    if deepest < 0:
        return 0
    rows = info[: deepest + 1]
    if all(row.output_shape and None not in row.output_shape for row in rows):
        return sum(_product(row.output_shape) for row in rows)
    return _probed_elements(model, [row.name for row in rows]) * height * width // PROBE_SIDE**2


def _row_read(model: LayeredModel, name: str) -> str:
    """The row of `model.layers_info()` that `name` reads (a token layer's, for its class
    token); `name` itself when it reads none."""
    try:
        return model.reading(name).layer
    except ValueError:
        return name


def _probed_elements(model: LayeredModel, names: list[str]) -> int:
    """Activation elements of one PROBE_SIDE px image at `names`, by a forward pass."""
    import numpy as np

    probe = np.full([1, PROBE_SIDE, PROBE_SIDE, 3], 0.5, np.float32)
    try:
        outputs = model.activations(probe, names)
    except (ValueError, TypeError):  # a layer the extractor cannot read (a Keras input)
        return 0
    return sum(int(np.asarray(v).size) for v in outputs.values())


def _product(shape: Sequence[int]) -> int:
    total = 1
    for dim in shape:
        total *= int(dim)
    return total


def needed_bytes(
    model: LayeredModel, layers: Sequence[str], height: int, width: int, batch: int
) -> int:
    """Bytes a compiled step on `batch` images of height x width px (a spectral state) holds, up
    to the deepest of the objective's `layers` of `model`."""
    state = batch * 2 * 3 * height * (width // 2 + 2)
    image = batch * height * width * 3
    activations = batch * _activation_elements(model, layers, height, width)
    return BYTES * (STATE_COPIES * state + IMAGE_COPIES * image + ACTIVATION_COPIES * activations)


def check_fits(
    model: LayeredModel,
    layers: Sequence[str],
    height: int,
    width: int,
    batch: int,
    *,
    batch_option: str = "batch",
    size_option: str = "size",
) -> None:
    """Raise a MemoryLimitError, before any work, when a run on `batch` images of height x width
    px cannot fit in the memory available; it names `size_option` and `batch_option` (options
    as `checks.OptionMessage` names them, so a command line says its flags)."""
    needed = needed_bytes(model, layers, height, width, batch)
    device = devices.work_device()
    if device.free is None:
        _warn_unchecked(device)
        return
    available = device.free
    if needed <= available:
        return
    side = _largest_side(model, layers, batch, available)
    fits = f"about {side} px fits at this batch" if side else "no size fits at this batch"
    raise MemoryLimitError(
        size_option,
        "this run needs about {needed_text} of memory ({height}x{width} px images, "
        "batch {count}) but {device} has {available_text} available; lower "
        f"{{{size_option}}} (the image side; {fits}) or {{{batch_option}}}.",
        needed=needed,
        available=available,
        device=device.name,
        height=height,
        width=width,
        count=batch,
    )


def _largest_side(model: LayeredModel, layers: Sequence[str], batch: int, available: int) -> int:
    """The largest square side (a multiple of 8 px, at least 8) whose run fits, or 0."""
    low, high = 0, 1 << 20
    while high - low > 8:
        middle = (low + high) // 2 // 8 * 8
        if middle and needed_bytes(model, layers, middle, middle, batch) <= available:
            low = middle
        else:
            high = middle
    return low


def out_of_memory_error(
    error: Exception,
    height: int,
    width: int,
    batch: int,
    *,
    size_option: str = "size",
    batch_option: str = "batch",
) -> MemoryLimitError:
    """The error for TensorFlow's out-of-memory `error` during a run that `check_fits` let start
    (another process may have taken the memory since): it names the device that ran out."""
    device = devices.device_that_ran_out(str(error))
    available = device.free
    now = "" if available is None else "; {available_text} available now"
    return MemoryLimitError(
        size_option,
        "{device} ran out of memory during the run ({height}x{width} px images, "
        f"batch {{count}}{now}): lower "
        f"{{{size_option}}} (the image side) or {{{batch_option}}}, or free memory.",
        needed=0,
        available=0 if available is None else available,
        device=device.name,
        height=height,
        width=width,
        count=batch,
    )
