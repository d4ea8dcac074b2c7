"""Which channels an atlas renders: the arguments checked, the layers and channels chosen, and
the batches left to render once a resumed run's finished channels are skipped."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from samplevis.models import Model


import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from samplevis.atlas.files import entries_by_channel, is_done, layer_counts
from samplevis.atlas.results import Settings
from samplevis.runtime.checks import OptionError, is_int

ALL = "all"  # `layers="all"`: every activation layer of the model's catalogue
# Layer types (Keras classes and TensorFlow op types of frozen graphs) whose outputs are the units
# an atlas shows for `layers="all"`; the class output (Softmax) is left out.
ACTIVATION_KINDS = frozenset(
    {
        "Activation",
        "ReLU",
        "LeakyReLU",
        "ELU",
        "PReLU",
        "Relu",
        "Relu6",
        "Elu",
        "Selu",
        "LeakyRelu",
        "Sigmoid",
        "Tanh",
    }
)


def parse_channels(channels: object) -> list[int] | None:
    """Channel indices from None (every channel), an int, a range or list of ints, or a string
    such as "0-63" or "0-7,12,40-47" (ranges include both ends); sorted, without repeats."""
    if channels is None:
        return None
    example = "e.g. '0-63', '0-7,12' or [0, 5, 9]"
    if isinstance(channels, str):
        found: set[int] = set()
        for part in channels.split(","):
            match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
            if not match or (match.group(2) and int(match.group(2)) < int(match.group(1))):
                raise OptionError(
                    "channels",
                    "{channels} must be channel numbers and ranges "
                    "'first-last', {example}; got {got!r}.",
                    example=example,
                    got=channels,
                )
            first = int(match.group(1))
            found.update(range(first, int(match.group(2) or first) + 1))
        return sorted(found)
    values: list | None
    try:
        values = [channels] if is_int(channels) else list(channels)  # type: ignore[call-overload]  # any iterable, checked below
    except TypeError:
        values = None
    if not values or not all(is_int(c) and c >= 0 for c in values):
        raise OptionError(
            "channels",
            "{channels} must be channel indices >= 0, {example}; got {got!r}.",
            example=example,
            got=channels,
        )
    return sorted(set(int(c) for c in values))


def activation_layers(model: Model) -> list[str]:
    """The layers `layers="all"` stands for: every layer of the catalogue (`layers_info`) whose
    type is an activation (ReLU, Activation, …) or that applies one itself (a convolution's
    fused ReLU, a ViT MLP's Dense(gelu)), input to output; softmax is the class output."""
    return [
        info.name
        for info in model.layers_info()
        if info.kind in ACTIVATION_KINDS or info.activation not in (None, "softmax")
    ]


def chosen_layers(model: Model, layers: str | Sequence[str]) -> list[str]:
    """The layer names asked for, checked against the model (an unknown one raises naming the
    closest)."""
    if isinstance(layers, str):
        layers = [layers]
    try:
        names = list(layers)
    except TypeError:
        names = []
    if not names or not all(isinstance(n, str) for n in names):
        raise OptionError(
            "layers",
            "{layers} must be a layer name, a list of them or 'all'; got {got!r}.",
            got=layers,
        )
    if ALL in names:
        found = activation_layers(model)
        if not found:
            raise OptionError(
                "layers",
                "{layers=all} found no activation layer (ReLU, "
                "Activation, …) in model {model!r}; name the layers instead.",
                all=ALL,
                model=model.name,
            )
        names = [m for n in names for m in (found if n == ALL else [n])]
    names = list(dict.fromkeys(names))
    model.check_layers(names)
    return names


def channel_counts(model: Model, layers: Sequence[str]) -> dict[str, int]:
    counts: dict[str, int | None] = {info.name: info.channels for info in model.layers_info()}
    for layer in layers:
        if layer not in counts:  # a token layer's class token, say
            shape = model.feature_shape(layer)
            counts[layer] = shape[-1] if shape else None
        if not counts.get(layer):
            raise ValueError(
                f"layer {layer!r} of model {model.name!r} has no channel axis to "
                "render; choose a convolutional, dense or token layer"
                + (
                    " (one attention head renders with objectives.head)."
                    if layer.endswith("/heads")
                    else "."
                )
            )
    return {layer: int(counts[layer] or 0) for layer in layers}


def check_channels(
    spec: object, wanted: list[int] | None, counts: Mapping[str, int]
) -> dict[str, list]:
    """{layer: channels to render}; channels beyond a layer's count are an error naming it."""
    chosen = {}
    for layer, count in counts.items():
        if wanted is not None and wanted[-1] >= count:
            raise OptionError(
                "channels",
                "{channels=spec} reaches channel {last}, but layer "
                "{layer!r} has {count} channels (valid: 0-{top}); give channels "
                "within that range, e.g. {channels=valid}.",
                spec=str(spec),
                last=wanted[-1],
                layer=layer,
                count=count,
                top=count - 1,
                valid=f"0-{count - 1}",
            )
        chosen[layer] = list(range(count)) if wanted is None else wanted
    return chosen


def hmc_options(hmc_opts: Mapping[str, Any] | None) -> dict:
    if hmc_opts is not None and not isinstance(hmc_opts, Mapping):
        raise TypeError(f"hmc_opts must be a dict of samplevis.render options; got {hmc_opts!r}.")
    return dict(hmc_opts or {})


def check_samples(settings: Settings) -> None:
    """Samples start from a channel's image as an RGB `param.image`: not from an RGBA one."""
    if settings.samples and settings.alpha:
        raise OptionError(
            "samples",
            "{samples} start the sampler from each channel's image, and it samples RGB images: "
            "{alpha=True} renders RGBA ones. Give {samples=0} with {alpha=True}, or leave out "
            "{alpha=True} to sample.",
        )


def check_cluster(cluster: object) -> None:
    if not (cluster is None or cluster is True or isinstance(cluster, str)):
        raise TypeError(
            f"cluster must be None (this process), True or 'local' (a local Ray "
            f"cluster) or a Ray address such as 'auto'; got {cluster!r}."
        )
    if cluster is not None:
        try:
            import ray  # noqa: F401  (only to fail here, before any work)
        except ImportError:
            raise ImportError("cluster= needs Ray: pip install 'samplevis[ray]'.") from None


def model_and_factory(model: object) -> tuple[Any, Callable | None]:
    """(the samplevis.Model, the function that made it, or None when given a model)."""
    import keras

    from samplevis.models import Model, as_model

    if isinstance(model, (Model, keras.Model)):
        return as_model(model), None
    if not callable(model):
        raise TypeError(
            f"model must be a samplevis.Model, a keras.Model or a function of no "
            f"arguments returning one (e.g. zoo.efficientnet_lite0); got "
            f"{type(model).__name__}."
        )
    return as_model(model()), model


def positive(name: str, value: object, low: int = 1) -> int:
    if not is_int(value) or value < low:
        raise OptionError(
            name, f"{{{name}}} must be an int >= {{low}}; got {{got!r}}.", low=low, got=value
        )
    return int(value)


@dataclasses.dataclass
class Plan:
    """The channels of a call: those done already (atlas.json entries by (layer, channel)), those
    left to render ({layer: channels}) and their batches, and every layer's channel count, in
    page order."""

    entries: dict
    todo: dict
    jobs: list
    total: int
    skipped: int
    layers: dict


def plan_channels(
    chosen: Mapping[str, list[int]],
    counts: Mapping[str, int],
    settings: Settings,
    out: Path,
    previous: Mapping,
) -> Plan:
    entries = entries_by_channel(previous)
    todo = {
        layer: [
            c
            for c in channels
            if not ((layer, c) in entries and is_done(entries[(layer, c)], settings, out))
        ]
        for layer, channels in chosen.items()
    }
    jobs = [
        (layer, cs[i : i + settings.batch])
        for layer, cs in todo.items()
        for i in range(0, len(cs), settings.batch)
    ]
    total = sum(len(cs) for cs in chosen.values())
    # layers of an earlier run stay in the atlas, before those of this one
    layers = {**layer_counts(previous), **counts}
    skipped = total - sum(len(cs) for cs in todo.values())
    return Plan(entries, todo, jobs, total, skipped, layers)
