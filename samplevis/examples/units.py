"""Units whose examples are collected: a channel, a neuron (a channel at one position), a
direction in a layer's channels, or any other objective; and one compiled pass that scores a
batch of images for all of them.

A spatial unit has a map over the layer's positions (the channel, or the activations' dot product
with the direction): its value for an image is the map's mean, as `objectives.channel` and
`objectives.direction` define it, and the map's largest position is the one whose receptive field
shows what drove it. A neuron's value is its map at its own position. Other objectives give a value
only, and their examples the whole image.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from samplevis.models import Model
from samplevis.models.tokens import HEADS
from samplevis.optvis.objectives import Objective, as_objective

CHANNEL, NEURON, DIRECTION, OBJECTIVE = "channel", "neuron", "direction", "objective"


@dataclass(frozen=True, eq=False)
class Unit:
    """One unit: `kind` is CHANNEL, NEURON, DIRECTION or OBJECTIVE; `name` says it as text
    ('block4c_add:12', 'block4c_add:12@(3,4)', an objective's name)."""

    name: str
    kind: str
    layer: str | None = None
    channel: int | None = None
    position: tuple[int | None, int | None] | None = None  # a neuron's (x, y); None: the centre
    vector: np.ndarray | None = None
    cossim_pow: float = 0.0
    objective: Objective | None = field(default=None, repr=False)

    def describe(self) -> dict:
        """The unit as JSON-ready fields (without a direction's vector, which can be long)."""
        out: dict = {"unit": self.name, "kind": self.kind}
        if self.layer is not None:
            out["layer"] = self.layer
        if self.channel is not None:
            out["channel"] = self.channel
        if self.position is not None:
            out["x"], out["y"] = self.position
        return out


def layer_units(model: Model, layer: str) -> list[Unit]:
    """Every channel of `layer`, as CHANNEL units."""
    reading, shape = model.reading(layer), model.feature_shape(layer)
    if reading.view == HEADS:
        raise ValueError(
            f"{layer!r} holds attention heads, whose channels are no units of the layer; rank "
            f"one head's output with objectives.head({reading.layer!r}, h)."
        )
    if not shape or shape[-1] is None:
        raise ValueError(
            f"layer {layer!r} of model {model.name!r} gives shape {shape}, without a channel "
            "axis to rank; choose a convolutional, dense or token layer."
        )
    return [Unit(f"{layer}:{c}", CHANNEL, layer, c) for c in range(int(shape[-1]))]


def as_unit(obj: object) -> Unit:
    """A unit from a 'layer:channel' string or an objective: `objectives.channel`, `neuron`,
    `direction` and `direction_neuron` (without `batch=`) keep their map over positions, other
    objectives give a value only."""
    objective = as_objective(obj)
    structure: Any = objective.structure
    kind = structure[0] if isinstance(structure, tuple) and structure else None
    batch = structure[-1] if isinstance(structure, tuple) and len(structure) > 1 else None
    params = [np.asarray(p) for p in objective.params]
    if batch is None and kind == "channel":
        layer, channel = structure[1], int(params[0])
        return Unit(f"{layer}:{channel}", CHANNEL, layer, channel)
    if batch is None and kind == "neuron":
        layer, given = structure[1], structure[2]
        channel, position = int(params[0]), _position(given, params[1:])
        return Unit(f"{layer}:{channel}@{_at(position)}", NEURON, layer, channel, position)
    if batch is None and kind in ("direction", "direction_neuron"):
        layer, vector, cossim_pow = structure[1], params[0].astype(np.float32), structure[-2]
        at = _position(structure[3], params[1:]) if kind == "direction_neuron" else None
        # the name says the vector's length only: a digest tells two directions apart
        digest = hashlib.sha1(vector.tobytes()).hexdigest()[:8]
        name = f"{objective.name}#{digest}"
        return Unit(name, DIRECTION, layer, None, at, vector, float(cossim_pow))
    return Unit(objective.name, OBJECTIVE, objective=objective)


def _position(given: tuple[bool, bool], values: Sequence[np.ndarray]) -> tuple:
    found = iter(int(v) for v in values)
    return tuple(next(found) if g else None for g in given)


def _at(position: tuple) -> str:
    x, y = position
    return f"({'centre' if x is None else x},{'centre' if y is None else y})"


def layers_read(units: Sequence[Unit]) -> tuple[str, ...]:
    """The layers `units` read, in order of first use."""
    names: list[str] = []
    for unit in units:
        read = [unit.layer] if unit.layer else sorted(unit.objective.layers)  # type: ignore[union-attr]
        names += [n for n in read if n not in names]
    return tuple(names)


CACHED = 4  # scoring programs kept per model (in `model.renderers`)


def cached_scorer(model: Model, units: Sequence[Unit]) -> Callable:
    """`scorer(model, units)`, the one made before for equal units if the model still keeps it
    (with its other compiled programs, at most CACHED of these): a call over another folder
    then does not trace the network again. Units of plain objectives are not kept."""
    if any(u.kind == OBJECTIVE for u in units):
        return scorer(model, units)
    key = (
        "examples.scorer",
        tuple(
            (u.name, u.kind, u.layer, u.channel, u.position, u.cossim_pow)
            + (() if u.vector is None else (u.vector.tobytes(),))
            for u in units
        ),
    )
    found = model.renderers.get(key)
    if found is None:
        found = model.renderers[key] = scorer(model, units)
        kept = [k for k in model.renderers if isinstance(k, tuple) and k[:1] == key[:1]]
        for old in kept[:-CACHED]:
            del model.renderers[old]
    model.renderers.move_to_end(key)
    return found  # type: ignore[return-value]


def scorer(model: Model, units: Sequence[Unit]) -> Callable:
    """A compiled function of images uint8 [B, H, W, 3] (already the network's input size) giving
    each unit's value float32 [B, U] and its map's largest position int32 [B, U, 2] (row, column;
    -1 for units without a map, a neuron's own position for neurons)."""
    import tensorflow as tf

    from samplevis.optvis.objectives import with_layers

    units = list(units)
    objectives = {
        i: with_layers(u.objective, lambda n: model.features(tf.zeros((1, 64, 64, 3)), n)[n])
        for i, u in enumerate(units)
        if u.objective is not None
    }
    read = layers_read([u for u in units if u.kind != OBJECTIVE])
    read += tuple(n for o in objectives.values() for n in sorted(o.layers) if n not in read)
    channel_groups = _channel_groups(units)

    def score(pixels):
        images = tf.cast(pixels, tf.float32) / 255.0
        features = model.features(images, read) if read else {}
        batch = tf.shape(images)[0]
        # blocks of columns [B, n] and [B, n, 2], in the order of `order`'s units: a layer's
        # channels are one block, so a whole layer costs a few ops, not a few per channel
        values, positions, order = [], [], []
        for layer, members in channel_groups.items():
            acts = features[layer]
            picked = _all_or_gathered(acts, _channels(units, members))
            if len(acts.shape) == 4:
                mean, where = _mean_and_argmax(picked)
            else:  # a dense layer, or tokens off a grid: the (mean) value, without a position
                axes = list(range(1, len(acts.shape) - 1))
                mean = tf.reduce_mean(picked, axis=axes) if axes else picked
                where = tf.fill([batch, len(members), 2], -1)
            values.append(mean)
            positions.append(where)
            order += members
        grouped = set(order)
        for i, unit in enumerate(units):
            if i in grouped:
                continue
            value, where = _single(unit, objectives.get(i), features, images)
            values.append(value[:, None])
            positions.append(where[:, None])
            order.append(i)
        values, positions = tf.concat(values, axis=1), tf.concat(positions, axis=1)
        if order != list(range(len(units))):
            back = np.argsort(order)
            values, positions = tf.gather(values, back, axis=1), tf.gather(positions, back, axis=1)
        return values, positions

    return tf.function(score, autograph=False, reduce_retracing=True)


def _single(unit: Unit, objective: Objective | None, features: dict, images) -> tuple:
    """One unit's value [B] and position [B, 2] (-1s without one)."""
    import tensorflow as tf

    none = tf.fill([tf.shape(images)[0], 2], -1)
    if objective is not None:
        value = objective(lambda n: features[n] if n != "input" else images)
        return tf.cast(value, tf.float32), none
    acts = features[unit.layer]
    if len(acts.shape) != 4:
        from samplevis.optvis.objectives.algebra import _no_positions

        raise ValueError(_no_positions(str(unit.layer), tuple(acts.shape)))
    if unit.vector is not None:
        unit_map = _direction_map(acts, unit.vector, unit.cossim_pow)
    else:
        unit_map = acts[..., unit.channel]
    if unit.position is None:
        mean, where = _mean_and_argmax(unit_map[..., None])
        return mean[:, 0], where[:, 0]
    row, col = _resolved(unit.position, unit_map.shape)
    return unit_map[:, row, col], tf.tile(
        tf.constant([[row, col]], tf.int32), [tf.shape(acts)[0], 1]
    )


def _channel_groups(units: Sequence[Unit]) -> dict[str, list[int]]:
    """{layer: indices of the CHANNEL units reading it}: a layer's channels are scored at once."""
    groups: dict[str, list[int]] = {}
    for i, unit in enumerate(units):
        if unit.kind == CHANNEL:
            groups.setdefault(unit.layer, []).append(i)  # type: ignore[arg-type]
    return groups


def _channels(units: Sequence[Unit], members: list[int]) -> list[int]:
    return [int(units[i].channel) for i in members]  # type: ignore[arg-type]


def _all_or_gathered(acts, channels: list[int]):
    import tensorflow as tf

    if channels == list(range(acts.shape[-1])):
        return acts
    return tf.gather(acts, channels, axis=-1)


def _mean_and_argmax(maps) -> tuple:
    """Spatial mean [B, U] and (row, column) of the largest value [B, U, 2] of maps
    [B, H, W, U]."""
    import tensorflow as tf

    width = tf.shape(maps)[2]
    flat = tf.reshape(maps, [tf.shape(maps)[0], -1, tf.shape(maps)[3]])
    where = tf.argmax(flat, axis=1, output_type=tf.int32)
    return tf.reduce_mean(flat, axis=1), tf.stack([where // width, where % width], axis=-1)


def _direction_map(acts, vector: np.ndarray, cossim_pow: float):
    """objectives.direction's value at every position [B, H, W]."""
    import tensorflow as tf

    if acts.shape[-1] != vector.shape[0]:
        raise ValueError(
            f"direction vector has {vector.shape[0]} entries but its layer has "
            f"{acts.shape[-1]} channels; give one weight per channel."
        )
    v = tf.constant(vector)
    dot = tf.reduce_sum(acts * v, axis=-1)
    if cossim_pow == 0:
        return dot
    eps = 1e-4  # Lucid's _dot_cossim epsilon, as objectives.direction uses it
    cos = dot / (eps + tf.norm(acts, axis=-1)) / (eps + tf.norm(v))
    return dot * tf.maximum(0.1, cos) ** cossim_pow


def _resolved(position: tuple, shape) -> tuple[int, int]:
    """(row, column) of a neuron's (x, y), None being the centre as objectives.neuron takes it."""
    x, y = position
    height, width = shape[1], shape[2]
    row, col = height // 2 if y is None else y, width // 2 if x is None else x
    if not (0 <= row < height and 0 <= col < width):
        raise ValueError(
            f"neuron position (x={col}, y={row}) is outside its layer's {width}x{height} "
            "feature map."
        )
    return row, col
