"""The facet search's designs: how one round makes its optima, each design a class with the
two methods of `SearchDesign`, registered by name in `DESIGNS`.

Every design polishes its optima on the objective alone, so that no search term shapes a shown
image:

- **deflation** (`Deflation`) climbs fresh starts on the objective minus `strength` times the
  largest cosine similarity of the image's centred, spatially pooled features
  (`search_layer.pooled`) to an archive of every image found so far, seeds included, shared by
  all chains (Farrell et al., SIAM J. Sci. Comput. 2015), then polishes them. A deflation round
  that leads no facet doubles the strength for the next: its climb fell back into the archived
  facets.
- **probes** (`Probes`) starts from a bank of sinusoidal gratings (`gratings`): those where the
  objective answers through other features than at every image found so far (the objective's
  gradient with respect to the search layer, pooled: `answers`) are polished. A facet whose
  basin is narrow, which every climb from noise misses even when pushed away from the others,
  is reached from a grating that already leans into it.

docs/sampling_designs.md ("The facet search") has both measured on units with a known answer.
A new design is one class that takes a `SearchContext` and one name in `DESIGNS`.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol

import numpy as np
import tensorflow as tf

from samplevis.models import Model
from samplevis.optvis.objectives import Objective
from samplevis.optvis.param.base import ImageParam
from samplevis.runtime.seeds import fold_in
from samplevis.runtime.tracing import expected_retracing
from samplevis.sampling.starts.search_layer import features, pooled

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
# How often (optimizer steps) a round's polish asks whether every chain has come within a new
# facet's distance of a facet found: such a round can only join facets found, and ends there
# (docs/sampling_designs.md, "When a round's polish ends").
HEADED_CHECK_STEPS = 32


@dataclasses.dataclass(frozen=True, eq=False)
class SearchContext:
    """What every design of one search reads: the unit (`model`, `objective`), the chains'
    parameterization, the layer whose features the search compares and the distance a new
    facet keeps, the optimizer steps of a round's climb and of its polish, the deflation's
    `strength` in units of `best` (the objective's value at the best optimum the search starts
    from), the polisher (a Renderer of `searchable(objective)`, whose program the deflation's
    climbs share), the climbs' optimizer, and whether to show progress bars."""

    model: Model
    objective: Objective
    image_param: ImageParam
    layer: str
    distance: float
    climb_steps: int
    polish_steps: int
    strength: float
    best: float
    polisher: Renderer
    optimizer: object = None
    progress: bool = False

    def polish(
        self,
        state: tuple[np.ndarray, ...],
        steps: int,
        seed: tf.Tensor,
        label: str | None,
        archive: Archive | None = None,
    ) -> tuple[np.ndarray, ...]:
        """`state` (parts [C, ...]) climbed `steps` steps on the objective alone, in the
        polisher's program (a deflation's climb may have left it on another objective of its
        structure); `label`, if given, labels a progress bar. Given the `archive`, the climb
        ends once every chain has headed into a facet found (`headed_into`)."""
        self.polisher.use(searchable(self.model, self.objective, self.layer))
        until = None if archive is None else self.headed_into(archive)
        state, _ = self.polisher.climb(
            state, steps, seed, label if self.progress else None, until=until
        )
        return state

    def headed_into(self, archive: Archive) -> Callable[[tuple[np.ndarray, ...], int], bool]:
        """Whether a climb's state (parts [C, ...]), after its first `steps`, has every chain
        within `distance` of an optimum of a facet found, asked every HEADED_CHECK_STEPS steps
        (its features are a pass of the network up to the search layer): such a round can only
        join facets found."""
        known = archive.features[archive.in_facet]

        def headed(state: tuple[np.ndarray, ...], steps: int) -> bool:
            if steps % HEADED_CHECK_STEPS or not len(known):
                return False
            images = self.image_param.to_image(tuple(tf.constant(p) for p in state)).numpy()
            nearest = np.max(features(self.model, images, self.layer) @ known.T, axis=1)
            return bool(np.all(1.0 - nearest < self.distance))

        return headed


@dataclasses.dataclass(frozen=True)
class Archive:
    """Every optimum the search has reached so far: its state (parts [N, ...]), its pooled
    features (float [N, D], `search_layer.features`) and whether it joined a facet when its
    round was sorted (bool [N]; the others stayed under the floor)."""

    states: tuple[np.ndarray, ...]
    features: np.ndarray
    in_facet: np.ndarray


class SearchDesign(Protocol):
    """One way to make a search round's optima: where its climbs start and what they climb."""

    def round(self, k: int, archive: Archive, seed: tf.Tensor) -> tuple[np.ndarray, ...] | None:
        """Round k's optima (parts [C, ...], one per chain) polished on the objective alone,
        from starts that lean away from `archive`; `seed` is the search's (int32 [2]). None
        where the design has no start left: the round then deflates."""
        ...

    def after_round(self, leads: bool) -> None:
        """Hear how the round went: `leads`, whether one of its optima now leads a facet."""
        ...


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


def searchable(model: Model, objective: Objective, layer: str) -> Objective:
    """`objective` as a search compiles it: `deflated` with an empty archive at no weight, so
    that its value and gradient are the objective's and every climb of the search (the starts
    included) runs one program, the deflation's taking other archives and weights."""
    empty = np.zeros([0, model.feature_shape(layer)[-1]], np.float32)
    return dataclasses.replace(deflated(objective, layer, empty, 0.0), name=objective.name)


class Deflation:
    """Deflation rounds: fresh starts climbed `climb_steps` on the deflated objective
    (`deflated`, the archive's features repelling), then polished `polish_steps`; a round that
    leads no facet doubles the weight of the next."""

    def __init__(self, context: SearchContext) -> None:
        self.context = context
        # the penalty's scale: a cosine of 1 costs `strength` times the best optimum's value
        self.weight = context.strength * max(context.best, 1e-6)

    def round(self, k: int, archive: Archive, seed: tf.Tensor) -> tuple[np.ndarray, ...]:
        from samplevis.optvis.optimize import Rendering

        c = self.context
        target = deflated(c.objective, c.layer, archive.features, self.weight)
        # the polisher's program: its objective, `searchable`, has the deflation's structure
        rendering = c.polisher.run(
            (c.climb_steps,),
            seed=fold_in(seed, k),
            objective=target,
            progress=c.progress,
            return_state=True,
        )
        assert isinstance(rendering, Rendering)  # return_state=True
        if rendering.interrupted:
            raise KeyboardInterrupt
        return c.polish(
            rendering.state,
            c.polish_steps,
            fold_in(seed, 100 + k),
            f"facet search round {k}: polish",
            archive,
        )

    def after_round(self, leads: bool) -> None:
        if not leads:
            self.weight *= 2  # the climb fell back into known facets: push harder


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


def answering(
    model: Model, objective: Objective, layer: str
) -> Callable[[tf.Tensor], tuple[tf.Tensor, tf.Tensor]]:
    """A compiled function of images float [B, H, W, 3] in [0, 1]: the objective's values [B]
    and its gradient with respect to `layer`'s features, spatially pooled [B, D] (not yet of
    unit length). Compiled because `answers` calls it on a bank of dozens of images, a batch
    at a time: run eagerly, every call would run the network layer by layer."""
    names = sorted(objective.layers | {layer})

    def answer(x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        with tf.GradientTape() as tape:
            tape.watch(x)
            found = model.features(x, names)
            value = objective(found.__getitem__)
        gradient = tape.gradient(value, found[layer])
        if gradient is None:  # the objective does not read this layer's path
            gradient = tf.zeros_like(found[layer])
        pooled_ = tf.reduce_mean(gradient, [1, 2]) if len(gradient.shape) == 4 else gradient
        return value, pooled_

    return tf.function(answer, autograph=False)


def answers(
    answer: Callable[[tf.Tensor], tuple[tf.Tensor, tf.Tensor]], images: np.ndarray, batch: int
) -> tuple[np.ndarray, np.ndarray]:
    """The objective's values [N] at images [N, H, W, 3] in [0, 1], and its gradient with
    respect to a layer's features, spatially pooled and of unit length [N, D]: which of the
    layer's features the objective answers through at each image (`answer`, from `answering`).
    Computed `batch` images at a time (the objective's batch; the last batch padded)."""
    values, grads = [], []
    for start in range(0, len(images), batch):
        chunk = images[start : start + batch]
        padded = np.concatenate([chunk, np.repeat(chunk[-1:], batch - len(chunk), 0)])
        # a search's probes trace their own function; TensorFlow counts the traces of every
        # search's together and would call that retracing
        with expected_retracing("answering.<locals>.answer"):
            value, pooled_ = answer(tf.constant(padded, tf.float32))
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


class Probes:
    """Probe rounds: the gratings (at the image's size) the objective answers through most
    differently than at every optimum so far, polished `climb_steps + polish_steps` steps; each
    probe is used once. What the objective answers through at each grating (`answers`) is
    computed at the first probe round."""

    def __init__(self, context: SearchContext) -> None:
        self.context = context
        self.used: set[int] = set()
        self.bank: np.ndarray | None = None
        self.values = self.directions = np.zeros([0])
        # compiled at the first probe round, for the bank and every round's optima
        self.answer: Callable[[tf.Tensor], tuple[tf.Tensor, tf.Tensor]] | None = None

    def round(self, k: int, archive: Archive, seed: tf.Tensor) -> tuple[np.ndarray, ...] | None:
        """None where the parameterization cannot start at a grey image (a CPPN, an RGBA
        image) or no probe is left with the objective above 0."""
        c = self.context
        param, batch = c.image_param, c.image_param.batch
        if not param.starts_at_images:
            return None
        if self.answer is None:
            self.answer = answering(c.model, c.objective, c.layer)
        if self.bank is None:
            self.bank = gratings(param.height, param.width)
            self.values, self.directions = answers(self.answer, self.bank, batch)
        images = np.concatenate(
            [
                param.to_image(tuple(tf.constant(p[i : i + batch]) for p in archive.states)).numpy()
                for i in range(0, len(archive.states[0]), batch)
            ]
        )
        _, reached = answers(self.answer, images, batch)
        novelty = 1.0 - np.max(self.directions @ reached.T, axis=1)
        picks = probe_picks(self.values, novelty, self.used, batch)
        if not len(picks):
            return None
        self.used.update(int(i) for i in picks)
        picks = np.resize(picks, batch)  # fewer than the chains: again from the first
        start = tuple(np.asarray(p) for p in param.state_for(tf.constant(self.bank[picks])))
        return c.polish(
            start,
            c.climb_steps + c.polish_steps,
            fold_in(seed, k),
            f"facet search round {k}: polish the probes",
            archive,
        )

    def after_round(self, leads: bool) -> None:
        pass  # every probe is used once whatever the round found


# The designs by name: what `SearchSettings.searches` may name.
DESIGNS: Mapping[str, Callable[[SearchContext], SearchDesign]] = types.MappingProxyType(
    {"deflation": Deflation, "probes": Probes}
)
# The designs the rounds take in turn by default.
SEARCHES = ("deflation", "probes")
# The design of a round whose own design has no start left.
FALLBACK = "deflation"
