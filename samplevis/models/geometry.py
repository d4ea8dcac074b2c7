"""Spatial sizes through a Keras layer graph, from the layers' geometry alone.

Whether images are large enough for a layer follows from the windows (kernel or pool size, strides,
dilation, padding), paddings and croppings on every path from the input to it. Computing it before
anything runs keeps the answer independent of how a CPU kernel treats an input smaller than its
window: oneDNN's convolution returns without error on some CPUs and raises on others.

Layers without a window (activations, normalization, merges, reshapes, upsampling) take their output
size from Keras's own `compute_output_shape`; where that cannot say, the size is unknown and
nothing downstream of it is checked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

Size = tuple | None  # (H, W) in px (ints), or None for a tensor without a known spatial size
# The largest side tried when searching for the smallest images that fit; far beyond any network.
LARGEST_SIDE = 1 << 16


@dataclass(frozen=True)
class EmptyOutput:
    """A layer that would output no pixels: `received` (H, W) px reach it; `window` describes it,
    e.g. "5x5 kernel, padding 'valid'"."""

    layer: str
    window: str
    received: tuple[int, int]


class _Empty(Exception):
    def __init__(self, found: EmptyOutput):
        super().__init__(found.layer)
        self.found = found


def first_empty_output(
    inputs: Sequence, outputs: Sequence, height: int, width: int
) -> EmptyOutput | None:
    """The first layer on a path from `inputs` (Keras tensors [B, H, W, C] of a functional model)
    to `outputs` that would output no pixels when the inputs are `height` x `width` px; None when
    every layer on those paths gets at least one pixel (or its size cannot be known)."""
    try:
        _Walk({id(x): (height, width) for x in inputs}).sizes(outputs)
    except _Empty as empty:
        return empty.found
    return None


def smallest_fitting(
    fits: Callable[[int, int], bool], height: int, width: int
) -> tuple[int, int] | None:
    """The smallest (H, W) px with `fits(H, W)`, searched one side at a time with the other side
    at LARGEST_SIDE (every layer's output grows with its input); None if nothing up to that fits.
    `height` x `width` is a size that does not fit."""

    def side(fits_side: Callable[[int], bool], low: int) -> int | None:
        high = max(2 * low, 1)
        while not fits_side(high):
            if high >= LARGEST_SIDE:
                return None
            low, high = high, min(2 * high, LARGEST_SIDE)
        while high - low > 1:  # fits(high) and, unless low is 0, not fits(low)
            middle = (low + high) // 2
            low, high = (low, middle) if fits_side(middle) else (middle, high)
        return high

    low_h = height if not fits(height, LARGEST_SIDE) else 0
    low_w = width if not fits(LARGEST_SIDE, width) else 0
    found_h = side(lambda h: fits(h, LARGEST_SIDE), low_h)
    found_w = side(lambda w: fits(LARGEST_SIDE, w), low_w)
    if found_h is None or found_w is None or not fits(found_h, found_w):
        return None
    return found_h, found_w


def _window(layer) -> tuple[tuple, tuple, tuple, str, str] | None:
    """(size, strides, dilation, padding, description) of a 2-D convolution or pooling window in
    channels-last layout; None for other layers."""
    import keras

    if getattr(layer, "data_format", "channels_last") != "channels_last":
        return None
    if isinstance(
        layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D)
    ):
        size, dilation, what = tuple(layer.kernel_size), tuple(layer.dilation_rate), "kernel"
    elif isinstance(layer, (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)):
        size, dilation, what = tuple(layer.pool_size), (1, 1), "pool"
    else:
        return None
    strides = tuple(layer.strides)
    if len(size) != 2 or len(strides) != 2 or len(dilation) != 2:
        return None
    words = [f"{size[0]}x{size[1]} {what}"]
    if strides != (1, 1):
        words.append(f"strides {strides[0]}x{strides[1]}")
    if dilation != (1, 1):
        words.append(f"dilation {dilation[0]}x{dilation[1]}")
    words.append(f"padding {layer.padding!r}")
    return size, strides, dilation, layer.padding, ", ".join(words)


def _through_window(received: tuple, window: tuple) -> Size:
    """Output (H, W) of a window layer, as Keras and TensorFlow define it; None for a padding
    mode this does not know."""
    size, strides, dilation, padding, _ = window
    out = []
    for n, k, s, d in zip(received, size, strides, dilation):
        if padding == "valid":
            out.append((n - d * (k - 1) - 1) // s + 1)
        elif padding == "same":
            out.append((n - 1) // s + 1)
        else:
            return None
    return tuple(out)


def _padded(layer, received: tuple) -> Size:
    """Output (H, W) of ZeroPadding2D and Cropping2D (channels last); None for other layers."""
    import keras

    if getattr(layer, "data_format", "channels_last") != "channels_last":
        return None
    if isinstance(layer, keras.layers.ZeroPadding2D):
        (top, bottom), (left, right) = layer.padding
        return received[0] + top + bottom, received[1] + left + right
    if isinstance(layer, keras.layers.Cropping2D):
        (top, bottom), (left, right) = layer.cropping
        return received[0] - top - bottom, received[1] - left - right
    return None


class _Walk:
    """Spatial sizes of the tensors of one functional graph, given those of its inputs."""

    def __init__(self, known: dict[int, Size]):
        self.known = dict(known)  # id(Keras tensor) -> Size

    def sizes(self, tensors: Sequence) -> list[Size]:
        """The sizes of `tensors`, their ancestors' first (with a stack: graphs are deep)."""
        stack = list(tensors)
        while stack:
            tensor = stack[-1]
            if id(tensor) in self.known:
                stack.pop()
                continue
            parents = _parents(tensor)
            missing = [p for p in parents if id(p) not in self.known]
            if missing:
                stack.extend(missing)
                continue
            stack.pop()
            self.known[id(tensor)] = self._size(tensor, parents)
        return [self.known[id(t)] for t in tensors]

    def _size(self, tensor, parents: list) -> Size:
        history = getattr(tensor, "_keras_history", None)
        if history is None or not parents:  # an input of another graph, or a constant
            return _static(tensor)
        layer, received = history.operation, [self.known[id(p)] for p in parents]
        if len(parents) == 1 and received[0] is not None and None not in received[0]:
            window = _window(layer)
            out = _through_window(received[0], window) if window else _padded(layer, received[0])
            if out is not None:
                if min(out) < 1:
                    raise _Empty(
                        EmptyOutput(
                            layer.name,
                            window[-1] if window else f"cropping {layer.cropping}",
                            received[0],
                        )
                    )
                return out
        nested = _nested_outputs(layer)
        if nested is not None:
            inner_inputs, inner_outputs = nested
            if len(inner_inputs) != len(received):
                return None
            walk = _Walk({id(x): size for x, size in zip(inner_inputs, received)})
            return walk.sizes([inner_outputs[history.tensor_index]])[0]
        return _keras_output_size(layer, parents, received, history.tensor_index)


def _parents(tensor) -> list:
    """The Keras tensors the layer that made `tensor` was called on (none for an input)."""
    history = getattr(tensor, "_keras_history", None)
    if history is None:
        return []
    nodes = getattr(history.operation, "_inbound_nodes", [])
    if history.node_index >= len(nodes):
        return []
    return list(nodes[history.node_index].input_tensors)


def _static(tensor) -> Size:
    """(H, W) of a rank-4 tensor whose spatial size is fixed in the graph; None otherwise."""
    shape = tuple(tensor.shape)
    if len(shape) == 4 and shape[1] is not None and shape[2] is not None:
        return shape[1], shape[2]
    return None


def _nested_outputs(layer) -> tuple[list, list] | None:
    """(inputs, outputs) of a functional model used as a layer; None for other layers."""
    import keras

    if not isinstance(layer, keras.Model):
        return None
    try:
        return list(layer.inputs), list(layer.outputs)
    except (AttributeError, ValueError, TypeError):  # a subclassed model has no graph to walk
        return None


def _keras_output_size(layer, parents: list, received: list[Size], index: int) -> Size:
    """(H, W) of output `index` of a layer without a window, from its `compute_output_shape` given
    the sizes its inputs have; None when the layer cannot say or its output is not [B, H, W, C]."""
    shapes = []
    for parent, size in zip(parents, received):
        shape = tuple(parent.shape)
        if len(shape) == 4:
            if size is None or None in size:
                return None
            shape = (shape[0], *size, shape[3])
        shapes.append(shape)
    try:
        out = layer.compute_output_shape(shapes[0] if len(shapes) == 1 else shapes)
    except Exception:  # noqa: BLE001 layers raise anything for shapes they do not expect
        return None
    if isinstance(out, list) or (isinstance(out, tuple) and out and isinstance(out[0], tuple)):
        out = out[index] if index < len(out) else None
    if not isinstance(out, tuple) or len(out) != 4 or not all(isinstance(d, int) for d in out[1:3]):
        return None
    return out[1], out[2]


@dataclass(frozen=True)
class ReceptiveField:
    """Which input pixels a position of a layer sees, per axis (rows, then columns): position i
    sees pixels [start + i * jump, start + i * jump + size) of the input (start may be negative,
    and the window may run past the input's far side: that part is padding)."""

    start: tuple[int, int]
    jump: tuple[int, int]
    size: tuple[int, int]

    def box(self, row: int, col: int, height: int, width: int) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) px, right and bottom exclusive, of what position (row,
        col) sees of a `height` x `width` px input, clipped to it."""
        top = self.start[0] + row * self.jump[0]
        left = self.start[1] + col * self.jump[1]
        return (
            max(left, 0),
            max(top, 0),
            min(left + self.size[1], width),
            min(top + self.size[0], height),
        )


_INPUT_FIELD = ReceptiveField((0, 0), (1, 1), (1, 1))


def receptive_field(
    inputs: Sequence, output: object, height: int, width: int
) -> ReceptiveField | None:
    """The receptive field of the positions of `output` (a Keras tensor [B, H', W', C] of a
    functional model with `inputs`) for `height` x `width` px inputs, from the windows (kernel or
    pool size, strides, dilation, padding), paddings and croppings on every path to it; None when
    a layer on the way changes the spatial size in a way this does not know (upsampling,
    reshapes, nested models).

    Where paths merge (a residual add, a concatenation) the field is the union of theirs. A
    tensor broadcast over all positions (squeeze-excite's pooled scale, [B, 1, 1, C]) is left
    out: it is the same for every position, so it does not say which part of the image a
    position sees."""
    walk = _Walk({id(x): (height, width) for x in inputs})
    fields: dict[int, ReceptiveField | None] = {id(x): _INPUT_FIELD for x in inputs}
    stack = [output]
    while stack:
        tensor = stack[-1]
        if id(tensor) in fields:
            stack.pop()
            continue
        parents = _parents(tensor)
        missing = [p for p in parents if id(p) not in fields]
        if missing:
            stack.extend(missing)
            continue
        stack.pop()
        fields[id(tensor)] = _field(tensor, parents, fields, walk) if parents else None
    return fields[id(output)]


def _field(tensor, parents: list, fields: dict, walk: _Walk) -> ReceptiveField | None:
    """The field of `tensor` from those of its `parents` (all known)."""
    layer = tensor._keras_history.operation
    try:
        out_size, *sizes = walk.sizes([tensor, *parents])
    except _Empty:
        return None
    if out_size is None or None in out_size:
        return None
    if len(parents) == 1 and fields[id(parents[0])] is not None and sizes[0] is not None:
        field, received = fields[id(parents[0])], sizes[0]
        window = _window(layer)
        if window is not None:
            return _through(field, window, received, out_size)
        shift = _shift(layer)
        if shift is not None:
            return ReceptiveField(
                _pair([a + s * j for a, s, j in zip(field.start, shift, field.jump)]),
                field.jump,
                field.size,
            )
    # a layer that keeps the spatial size (activation, normalization, a merge): the union of
    # the fields of the parents of that size
    found = [fields[id(p)] for p, size in zip(parents, sizes) if size == out_size]
    same = [f for f in found if f is not None]
    if not same or len(same) < len(found) or len({f.jump for f in same}) > 1:
        return None
    broadcast = all(size == out_size or size == (1, 1) for size in sizes)
    if not broadcast:
        return None
    starts = [min(f.start[axis] for f in same) for axis in (0, 1)]
    ends = [max(f.start[axis] + f.size[axis] for f in same) for axis in (0, 1)]
    return ReceptiveField(_pair(starts), same[0].jump, _pair([e - s for e, s in zip(ends, starts)]))


def _through(field: ReceptiveField, window: tuple, received: tuple, out: tuple) -> ReceptiveField:
    """The field after a convolution or pooling window, as TensorFlow pads: 'same' puts the
    smaller half of the padding before the image."""
    size, strides, dilation, padding, _ = window
    start, jump, extent = [], [], []
    for axis in (0, 1):
        k, s, d, n = size[axis], strides[axis], dilation[axis], received[axis]
        before = 0
        if padding == "same":
            before = max((out[axis] - 1) * s + d * (k - 1) + 1 - n, 0) // 2
        start.append(field.start[axis] - before * field.jump[axis])
        jump.append(field.jump[axis] * s)
        extent.append(field.size[axis] + d * (k - 1) * field.jump[axis])
    return ReceptiveField(_pair(start), _pair(jump), _pair(extent))


def _pair(values: Sequence[int]) -> tuple[int, int]:
    return int(values[0]), int(values[1])


def _shift(layer) -> tuple[int, int] | None:
    """How far ZeroPadding2D (negative) and Cropping2D (positive) move position 0 along rows and
    columns, in the positions of their input; None for other layers."""
    import keras

    if getattr(layer, "data_format", "channels_last") != "channels_last":
        return None
    if isinstance(layer, keras.layers.ZeroPadding2D):
        (top, _), (left, _) = layer.padding
        return -top, -left
    if isinstance(layer, keras.layers.Cropping2D):
        (top, _), (left, _) = layer.cropping
        return top, left
    return None
