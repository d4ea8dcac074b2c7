"""The facet search: the seeds, then rounds that look for the facets the seeds missed.

Fresh seeds of the optimizer land in the facet with the widest basin of attraction, not in every
facet a unit answers to (a unit that fires on dogs may fire on cats, "albeit not as much"). The
rounds take turns between two searches, each a batch of starts polished on the objective alone,
so that no search term shapes a shown image:

- **deflation** (odd rounds) climbs fresh starts on the objective minus `strength` times the
  largest cosine similarity of the image's centred, spatially pooled features (`features`) to
  an archive of every image found so far, seeds included, shared by all chains (Farrell et al.,
  SIAM J. Sci. Comput. 2015), then polishes them. A deflation round that finds no new facet
  doubles the strength for the next: its climb fell back into the archived facets.
- **probes** (even rounds) starts from a bank of sinusoidal gratings (`gratings`): those where
  the objective answers through other features than at every image found so far (the
  objective's gradient with respect to the search layer, pooled: `answers`) are polished. A
  facet whose basin is narrow, which every climb from noise misses even when pushed away
  from the others, is reached from a grating that already leans into it.

docs/sampling_designs.md ("The facet search") has both measured on units with a known answer.
An optimum becomes a new facet when it reaches `floor` of the
best facet's activation and its features are at least `distance` (cosine) from every facet's;
otherwise it joins the nearest facet as another of its optima. Rearranged or bent copies of one
pattern pool to nearly the same features, so they stay one facet (docs/sampling_designs.md,
"The facet search", has the distances measured).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf

from samplevis.models import Model
from samplevis.optvis.objectives import Objective
from samplevis.optvis.param.base import ImageParam
from samplevis.runtime.seeds import fold_in

if TYPE_CHECKING:
    from samplevis.optvis.optimize import Renderer

# The archive's rows in the compiled climb: a fixed shape, so every round reuses one program.
ARCHIVE_ROWS = 64
# The probe bank: gratings at these spatial frequencies (cycles per px, from a period of 32 px
# to one of under 3 px) and this many orientations (15 degrees apart), grey at this contrast
# (amplitude about mid-grey). Measured against other banks: docs/sampling_designs.md.
PROBE_FREQUENCIES = (1 / 32, 1 / 16, 3 / 32, 1 / 8, 3 / 16, 1 / 4, 5 / 16, 3 / 8)
PROBE_ANGLES = 12
PROBE_CONTRAST = 0.2
# The searches the rounds take in turn by default.
SEARCHES = ("deflation", "probes")


@dataclasses.dataclass(frozen=True)
class SearchSettings:
    """rounds: search rounds after the seeds; floor: share of the best facet's activation a new
    facet must reach; strength: the deflation's weight, in units of the objective's value at the
    seeds' best optimum; distance: cosine distance of pooled features a new facet must keep
    from every facet; layer: the layer whose pooled features the search compares (and whose
    gradient a probe round reads); climb_steps, polish_steps: optimizer steps of a deflation
    round's steered climb and of its polish (a probe round polishes for both); searches: the
    searches the rounds take in turn ("deflation", "probes")."""

    rounds: int
    floor: float
    strength: float
    distance: float
    layer: str
    climb_steps: int
    polish_steps: int
    searches: tuple[str, ...] = SEARCHES

    def __post_init__(self) -> None:
        unknown = [s for s in self.searches if s not in SEARCHES] or not self.searches
        if unknown:
            raise ValueError(
                f"searches must name some of {SEARCHES} in the order the rounds take them; "
                f"got {self.searches!r}."
            )


@dataclasses.dataclass(frozen=True)
class Facet:
    """One facet: its optima (the best first), each a state (parts [1, ...]) and activation,
    and how the best was found (round 0: the seeds or the photo clusters, k: search round k)."""

    states: tuple  # one state per optimum, each a tuple of parts [1, ...]
    activations: np.ndarray  # float [M], the optima's activations, best first
    features: np.ndarray  # float [D], the best optimum's pooled features (unit length)
    round: int
    cluster: int | None = None  # from photos (sampling.starts.photos): its cluster
    photos: tuple = ()  # that cluster's photos (examples.facets.Example), best first


@dataclasses.dataclass(frozen=True)
class FacetSearch:
    """The facets found, best first, and every optimum the rounds reached."""

    facets: tuple[Facet, ...]
    # per round, its optima's activations, float [C] (round 0: the seeds, or one per photo
    # cluster), and the facet each went to, int [C] (-1: below the floor)
    activations: tuple[np.ndarray, ...]
    facet_of: tuple[np.ndarray, ...]
    interrupted: bool = False
    # photo clusters whose optimum stayed under the floor: (cluster, height), highest first
    below_floor: tuple[tuple[int, float], ...] = ()

    @property
    def best(self) -> float:
        return float(self.facets[0].activations[0]) if self.facets else float("nan")

    def chains(self, num_chains: int) -> np.ndarray:
        """The facet each chain samples, int [C]: facets best first, one chain each in turn,
        the best facets keeping the chains when there are more facets than chains."""
        return np.arange(num_chains) % max(1, min(len(self.facets), num_chains))

    def starts(self, num_chains: int) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
        """The chains' starts (parts [C, ...]) and activations [C]: each chain at an optimum of
        its facet (`chains`), the facet's best first, then its other optima in turn."""
        facet_of = self.chains(num_chains)
        picks = []
        for c, f in enumerate(facet_of):
            turn = int(np.sum(facet_of[:c] == f)) % len(self.facets[f].states)
            picks.append((self.facets[f].states[turn], self.facets[f].activations[turn]))
        parts = tuple(
            np.concatenate([state[i] for state, _ in picks]) for i in range(len(picks[0][0]))
        )
        return parts, np.array([a for _, a in picks], np.float32)


def pooled(features: tf.Tensor) -> tf.Tensor:
    """Centred, spatially pooled, unit-length features [B, D] of a layer's [B, H, W, D] (or
    [B, D])."""
    f = tf.reduce_mean(features, [1, 2]) if len(features.shape) == 4 else features
    f = f - tf.reduce_mean(f, axis=1, keepdims=True)
    return f / (tf.norm(f, axis=1, keepdims=True) + 1e-8)


def deflated(objective: Objective, layer: str, archive: np.ndarray, strength: float) -> Objective:
    """`objective` minus `strength` times each image's largest cosine similarity of its pooled
    `layer` features to the archive's rows [K, D] (rows of zeros are empty), shape [B]."""
    rows = np.zeros([ARCHIVE_ROWS, archive.shape[1]], np.float32)
    kept = archive[-ARCHIVE_ROWS:]
    rows[: len(kept)] = kept
    valid = np.zeros([ARCHIVE_ROWS], np.float32)
    valid[: len(kept)] = 1.0
    split = len(objective.params)

    def fn(T, params):
        value = objective(T, params[:split]) if split else objective(T)
        rows_, valid_, weight = params[split:]
        cosine = tf.matmul(pooled(T(layer)), rows_, transpose_b=True)
        cosine = tf.where(valid_[None, :] > 0, cosine, -tf.ones_like(cosine))
        return value - weight * tf.reduce_max(cosine, axis=1)

    return Objective(
        fn,
        objective.layers | {layer},
        f"({objective.name} - deflation({layer}))",
        (*objective.params, rows, valid, np.float32(strength)),
        ("deflated", objective.structure, layer, rows.shape),
    )


def upstream_layer(model: Model, layer: str) -> str:
    """The layer whose features `layer`'s units are one convolution away from: the input of the
    nearest Conv2D, DepthwiseConv2D or Dense at or before `layer` along single-input layers
    (batch norms, activations); `layer` itself where that path ends first (an addition, the
    model's input) or the model is no Keras graph.

    A unit's facets differ in which upstream features it sums; in its own layer they are one
    channel among hundreds and pool to nearly the same vector (docs/sampling_designs.md, "The
    facet search")."""
    import keras

    try:
        current = model.keras_model.get_layer(layer)
        for _ in range(64):  # a path of single-input layers; real ones are a few long
            source = current.input
            if isinstance(source, (list, tuple)):
                return layer
            previous = source._keras_history[0]
            convolutions = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.Dense)
            if isinstance(current, convolutions):
                name = previous.name
                return name if name in model.layer_names else layer
            if isinstance(previous, keras.layers.InputLayer):
                return layer
            current = previous
    except (AttributeError, ValueError):
        pass
    return layer


def features(model: Model, images: np.ndarray, layer: str) -> np.ndarray:
    """Pooled features [B, D] of images [B, H, W, 3] in [0, 1] (see `pooled`)."""
    return pooled(model.features(tf.constant(images, tf.float32), [layer])[layer]).numpy()


def gratings(height: int, width: int) -> np.ndarray:
    """The probe bank: grey sinusoidal gratings float32 [N, height, width, 3] in (0, 1), at
    PROBE_FREQUENCIES and PROBE_ANGLES orientations, frequencies first."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    bank = []
    for frequency in PROBE_FREQUENCIES:
        for k in range(PROBE_ANGLES):
            angle = np.pi * k / PROBE_ANGLES
            wave = np.sin(2 * np.pi * frequency * (x * np.cos(angle) + y * np.sin(angle)))
            bank.append(np.repeat((0.5 + PROBE_CONTRAST * wave)[..., None], 3, axis=-1))
    return np.stack(bank).astype(np.float32)


def answers(
    model: Model, objective: Objective, images: np.ndarray, layer: str, batch: int
) -> tuple[np.ndarray, np.ndarray]:
    """The objective's values [N] at images [N, H, W, 3] in [0, 1], and its gradient with
    respect to `layer`'s features, spatially pooled and of unit length [N, D]: which of the
    layer's features the objective answers through at each image. Computed `batch` images
    at a time (the objective's batch; the last batch padded)."""
    values, grads = [], []
    names = sorted(objective.layers | {layer})
    for start in range(0, len(images), batch):
        chunk = images[start : start + batch]
        padded = np.concatenate([chunk, np.repeat(chunk[-1:], batch - len(chunk), 0)])
        with tf.GradientTape() as tape:
            x = tf.constant(padded, tf.float32)
            tape.watch(x)
            found = model.features(x, names)
            value = objective(found.__getitem__)
        gradient = tape.gradient(value, found[layer])
        if gradient is None:  # the objective does not read this layer's path
            gradient = tf.zeros_like(found[layer])
        pooled_ = tf.reduce_mean(gradient, [1, 2]) if len(gradient.shape) == 4 else gradient
        values.append(value.numpy()[: len(chunk)])
        grads.append(pooled_.numpy()[: len(chunk)])
    g = np.concatenate(grads)
    return np.concatenate(values), g / (np.linalg.norm(g, axis=1, keepdims=True) + 1e-12)


def probe_picks(values: np.ndarray, novelty: np.ndarray, used: set[int], count: int) -> np.ndarray:
    """The `count` probes to polish, int [count]: not used before, the objective above 0 there,
    the most novel first (ties: the highest value first); fewer when fewer qualify."""
    ok = [i for i in range(len(values)) if i not in used and values[i] > 0]
    ranked = sorted(ok, key=lambda i: (-novelty[i], -values[i]))
    return np.array(ranked[:count], np.int64)


def sort_into_facets(
    facets: list[Facet],
    states: tuple[np.ndarray, ...],
    activations: np.ndarray,
    feats: np.ndarray,
    round_: int,
    floor: float,
    distance: float,
) -> tuple[list[Facet], np.ndarray]:
    """Add one round's optima (parts [B, ...], activations [B], features [B, D]) to `facets`:
    the highest first, each a new facet when it reaches `floor` of the best activation and is
    `distance` from every facet's features, else another optimum of the nearest facet (or
    dropped, -1, below the floor). Returns the facets, best first, and each optimum's facet."""
    facets = list(facets)
    facet_of = np.full([len(activations)], -1)
    for i in np.argsort(-activations):
        best = max([activations[i], *(f.activations[0] for f in facets)])
        one = tuple(part[i : i + 1] for part in states)
        if activations[i] < floor * best or not np.isfinite(activations[i]):
            continue
        gaps = [1.0 - float(feats[i] @ f.features) for f in facets]
        if not facets or min(gaps) >= distance:
            facets.append(Facet((one,), np.array([activations[i]]), feats[i], round_))
            facet_of[i] = len(facets) - 1
            continue
        near = int(np.argmin(gaps))
        f = facets[near]
        merged = sorted(
            zip((*f.states, one), (*f.activations, activations[i])), key=lambda p: -p[1]
        )
        if merged[0][1] > f.activations[0]:  # a better optimum leads the facet
            facets[near] = dataclasses.replace(
                f,
                states=tuple(s for s, _ in merged),
                activations=np.array([a for _, a in merged]),
                features=feats[i],
                round=round_,
            )
        else:
            facets[near] = dataclasses.replace(
                f, states=tuple(s for s, _ in merged), activations=np.array([a for _, a in merged])
            )
        facet_of[i] = near
    order = sorted(range(len(facets)), key=lambda k: -facets[k].activations[0])
    # facets that fell below the floor of a better one found since are dropped
    top = facets[order[0]].activations[0] if facets else 0.0
    order = [k for k in order if facets[k].activations[0] >= floor * top]
    rank = {old: new for new, old in enumerate(order)}
    return [facets[k] for k in order], np.array([rank.get(int(k), -1) for k in facet_of])


class Probes:
    """The probe rounds' bank of gratings (at the image's size), what the objective answers
    through at each (`answers`, computed at the first probe round) and the probes used."""

    def __init__(self, model: Model, objective: Objective, image_param: ImageParam, layer: str):
        self.model, self.objective = model, objective
        self.image_param, self.layer = image_param, layer
        self.used: set[int] = set()
        self.bank: np.ndarray | None = None
        self.values = self.directions = np.zeros([0])

    def round(
        self,
        found: list[np.ndarray],
        polisher: Renderer,
        steps: int,
        seed: tf.Tensor,
        progress: str | None = None,
    ) -> tuple[np.ndarray, ...] | None:
        """One probe per chain, the most novel against every optimum `found` so far (parts
        [N, ...]), polished `steps` steps with `polisher` (a Renderer of the objective; a
        progress bar labelled `progress`, if given): the state reached (parts [C, ...]); None
        where the parameterization takes no image or no probe is left with the objective above
        0."""
        param, batch = self.image_param, self.image_param.batch
        if param.channels != 3 or not hasattr(param, "state_for"):  # a CPPN has no state
            return None  # for a given image, an RGBA image no grey probe
        if self.bank is None:
            self.bank = gratings(param.height, param.width)
            self.values, self.directions = answers(
                self.model, self.objective, self.bank, self.layer, batch
            )
        images = np.concatenate(
            [
                param.to_image(tuple(tf.constant(p[i : i + batch]) for p in found)).numpy()
                for i in range(0, len(found[0]), batch)
            ]
        )
        _, archive = answers(self.model, self.objective, images, self.layer, batch)
        novelty = 1.0 - np.max(self.directions @ archive.T, axis=1)
        picks = probe_picks(self.values, novelty, self.used, batch)
        if not len(picks):
            return None
        self.used.update(int(i) for i in picks)
        picks = np.resize(picks, batch)  # fewer than the chains: again from the first
        start = tuple(np.asarray(p) for p in param.state_for(tf.constant(self.bank[picks])))
        state, _ = polisher.climb(start, steps, seed, progress)
        return state


def search_facets(
    model: Model,
    objective: Objective,
    image_param: ImageParam,
    seeds: tuple[np.ndarray, ...],
    activation: Callable[[tuple[np.ndarray, ...]], np.ndarray],
    settings: SearchSettings,
    seed: tf.Tensor,
    optimizer: object = None,
    progress: bool = False,
    *,
    start: FacetSearch | None = None,
) -> FacetSearch:
    """The facets of `objective` from the seeds' optimized states (parts [C, ...]), or from the
    facets of `start` (photo clusters, `seeds` then unused), and `settings.rounds` rounds of C
    starts each, climbed with the compiled optimizer (`optimizer`, as the seeds) and polished
    on `objective`; `activation` measures a state's optima [C] as the seeds' were. Ctrl-C ends
    the search with the facets found."""
    from samplevis.models import ResizeWarning
    from samplevis.optvis.optimize import Renderer, Rendering

    to_image = image_param.to_image
    if start is None:
        found = [np.asarray(s) for s in seeds]
        values = np.asarray(activation(tuple(found)), np.float64)
        feats = features(
            model, to_image(tuple(tf.constant(s) for s in found)).numpy(), settings.layer
        )
        facets, facet_of = sort_into_facets(
            [], tuple(found), values, feats, 0, settings.floor, settings.distance
        )
        below: tuple[tuple[int, float], ...] = ()
    else:
        facets, facet_of, below = list(start.facets), start.facet_of[0], start.below_floor
        values = start.activations[0]
        found = [np.concatenate(parts) for parts in zip(*(f.states[0] for f in facets))]
        feats = np.stack([f.features for f in facets])
    rows, all_values, all_facets = [feats], [values], [facet_of]
    if settings.rounds == 0 or not facets:
        return FacetSearch(tuple(facets), tuple(all_values), tuple(all_facets), below_floor=below)
    # the penalty's scale: a cosine of 1 costs `strength` times the best optimum's value
    weight = settings.strength * max(float(np.max(values)), 1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResizeWarning)  # render has said it
        climber = Renderer(
            model,
            deflated(objective, settings.layer, np.concatenate(rows), weight),
            image_param,
            optimizer,
        )
        polisher = Renderer.cached(model, objective, image_param, optimizer)
    interrupted = False
    probing = Probes(model, objective, image_param, settings.layer)
    try:
        for k in range(1, settings.rounds + 1):
            state = None
            if settings.searches[(k - 1) % len(settings.searches)] == "probes":
                state = probing.round(
                    found,
                    polisher,
                    settings.climb_steps + settings.polish_steps,
                    fold_in(seed, k),
                    f"facet search round {k}: polish the probes" if progress else None,
                )
            deflating = state is None  # a deflation round, or no probe to start from
            if state is None:
                target = deflated(objective, settings.layer, np.concatenate(rows), weight)
                rendering = climber.run(
                    (settings.climb_steps,),
                    seed=fold_in(seed, k),
                    objective=target,
                    progress=progress,
                    return_state=True,
                )
                assert isinstance(rendering, Rendering)  # return_state=True
                if rendering.interrupted:
                    raise KeyboardInterrupt
                state, _ = polisher.climb(
                    rendering.state,
                    settings.polish_steps,
                    fold_in(seed, 100 + k),
                    f"facet search round {k}: polish" if progress else None,
                )
            found = [np.concatenate([f, s]) for f, s in zip(found, state)]
            values = np.asarray(activation(state), np.float64)
            feats = features(
                model, to_image(tuple(tf.constant(s) for s in state)).numpy(), settings.layer
            )
            facets, facet_of = sort_into_facets(
                facets, state, values, feats, k, settings.floor, settings.distance
            )
            rows.append(feats)
            all_values.append(values)
            all_facets.append(facet_of)
            if deflating and not any(f.round == k for f in facets):
                weight *= 2  # the climb fell back into known facets: push harder

    except KeyboardInterrupt:
        interrupted = True
    # earlier rounds' facet indices follow the final ranking: recompute from the features
    finals = np.stack([f.features for f in facets])
    ranked = [
        np.where(f >= 0, np.argmax(r @ finals.T, axis=1), -1) for r, f in zip(rows, all_facets)
    ]
    if start is not None:  # round 0's optima are the photo clusters: each its cluster's facet
        now = {f.cluster: k for k, f in enumerate(facets) if f.cluster is not None}
        ranked[0] = np.array([now.get(c, -1) for c in range(len(start.facet_of[0]))])
    return FacetSearch(tuple(facets), tuple(all_values), tuple(ranked), interrupted, below)
