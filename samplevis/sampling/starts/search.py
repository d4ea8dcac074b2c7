"""The facet search: the seeds, then rounds that look for the facets the seeds missed.

Fresh seeds of the optimizer land in the facet with the widest basin of attraction, not in every
facet a unit answers to (a unit that fires on dogs may fire on cats, "albeit not as much"). The
rounds take turns between the search's designs (sampling.starts.designs: deflation, probes),
each making a batch of optima polished on the objective alone.

An optimum becomes a new facet when it reaches `floor` of the best facet's activation and its
features are at least `distance` (cosine) from every facet's; otherwise it joins the nearest
facet as another of its optima. Rearranged or bent copies of one pattern pool to nearly the same
features, so they stay one facet (docs/sampling_designs.md, "The facet search", has the
distances measured). What the unit answers to less strongly (a dog unit's cats, "albeit not as
much") is a facet too: an optimum from `kind_floor` up to `floor` of the best is one when its
features keep the stricter `kind_distance` from every facet's, so that a weaker copy of a facet
found is not ("Weaker facets" there).

Facets are ordered kinds first (`kinds_first`): every kind's best before a second facet of any
kind, so that the chains, which take the facets in turn, sample every kind before a variant.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from samplevis.models import Model
from samplevis.optvis.objectives import Objective
from samplevis.optvis.param.base import ImageParam
from samplevis.sampling.starts.designs import (
    DESIGNS,
    FALLBACK,
    SEARCHES,
    Archive,
    SearchContext,
    SearchDesign,
    searchable,
)
from samplevis.sampling.starts.search_layer import features


@dataclasses.dataclass(frozen=True)
class SearchSettings:
    """rounds: search rounds after the seeds; floor: share of the best facet's activation a new
    facet must reach at `distance`; kind_floor, kind_distance: the share a weaker facet must
    reach, and the distance it keeps from every facet (docs/sampling_designs.md, "Weaker
    facets"); strength: the deflation's weight, in units of the objective's value at the
    seeds' best optimum; distance: cosine distance of pooled features a new facet must keep
    from every facet; layer: the layer whose pooled features the search compares (and whose
    gradient a probe round reads); climb_steps, polish_steps: optimizer steps of a deflation
    round's steered climb and of its polish (a probe round polishes for both); searches: the
    designs the rounds take in turn (names in sampling.starts.designs.DESIGNS)."""

    rounds: int
    floor: float
    strength: float
    distance: float
    layer: str
    climb_steps: int
    polish_steps: int
    searches: tuple[str, ...] = SEARCHES
    kind_floor: float | None = None  # None: `floor` (no weaker facets)
    kind_distance: float | None = None  # None: `distance`

    def __post_init__(self) -> None:
        unknown = [s for s in self.searches if s not in DESIGNS] or not self.searches
        if unknown:
            raise ValueError(
                f"searches must name some of {tuple(DESIGNS)} in the order the rounds take "
                f"them; got {self.searches!r}."
            )


@dataclasses.dataclass(frozen=True)
class FoundFacet:
    """A facet the search found: its optima (the best first), each a state (parts [1, ...]) and
    activation, and how the best was found (round 0: the seeds or the photo clusters, k: search
    round k)."""

    states: tuple  # one state per optimum, each a tuple of parts [1, ...]
    activations: np.ndarray  # float [M], the optima's activations, best first
    features: np.ndarray  # float [D], the best optimum's pooled features (unit length)
    round: int
    cluster: int | None = None  # from photos (sampling.starts.photos): its cluster
    photos: tuple = ()  # that cluster's photos (examples.clusters.Example), best first
    kind: int | None = None  # from photos: its cluster's kind (examples.clusters.kinds)


def kind_key(facet: FoundFacet, index: int) -> object:
    """What tells facet `index`'s kind: its photos' kind, else the facet itself (a facet of the
    search is a pattern of its own)."""
    return ("kind", facet.kind) if facet.kind is not None else ("facet", index)


def kinds_first(facets: list[FoundFacet]) -> list[int]:
    """The order to show and sample `facets` in, indices: every kind's best facet, highest
    first, then every kind's second, and so on; within a turn, highest first."""
    by_height = sorted(range(len(facets)), key=lambda k: -facets[k].activations[0])
    turn: dict[object, int] = {}
    ranked = []
    for k in by_height:
        key = kind_key(facets[k], k)
        turn[key] = turn.get(key, -1) + 1
        ranked.append((turn[key], -float(facets[k].activations[0]), k))
    return [k for _, _, k in sorted(ranked)]


@dataclasses.dataclass(frozen=True)
class FacetSearch:
    """The facets found, best first, and every optimum the rounds reached."""

    facets: tuple[FoundFacet, ...]
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
        """The facet each chain samples, int [C]: the facets in their order (kinds first:
        `kinds_first`), one chain each in turn, so that every kind has a chain before any has
        a second; the first facets keep the chains when there are more facets than chains."""
        return np.arange(num_chains) % max(1, min(len(self.facets), num_chains))

    def kinds(self) -> np.ndarray:
        """Each facet's kind, int [F], numbered in the facets' order (0: the best facet's): the
        kind of its photos, or a kind of its own for a facet of the search."""
        keys = [kind_key(f, k) for k, f in enumerate(self.facets)]
        order = list(dict.fromkeys(keys))
        return np.array([order.index(key) for key in keys], np.int64)

    def photos_heights(self) -> np.ndarray:
        """How strongly the unit answers to each facet's kind of photo, float [F]: the median
        value of the kind's photos (of its facets' clusters) over that of the best facet's
        kind; NaN for a facet without photos, or where that median is not above 0."""
        kinds = self.kinds()
        medians = np.full(len(self.facets), np.nan)
        for kind in set(kinds.tolist()):
            photos = [e.value for f, k in zip(self.facets, kinds) if k == kind for e in f.photos]
            if photos:
                medians[kinds == kind] = np.median(photos)
        top = medians[0] if len(medians) else np.nan
        return medians / top if top > 0 else np.full(len(medians), np.nan)

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


def sort_into_facets(
    facets: list[FoundFacet],
    states: tuple[np.ndarray, ...],
    activations: np.ndarray,
    feats: np.ndarray,
    round_: int,
    floor: float,
    distance: float,
    kind_floor: float | None = None,
    kind_distance: float | None = None,
) -> tuple[list[FoundFacet], np.ndarray]:
    """Add one round's optima (parts [B, ...], activations [B], features [B, D]) to `facets`:
    the highest first, each a new facet when it reaches `floor` of the best activation and is
    `distance` from every facet's features, or reaches `kind_floor` and is `kind_distance` from
    them (a weaker facet); else another optimum of the nearest facet at `floor` and above, or
    dropped (-1). Facets from photos are kept whatever their height; the others that fell
    below a floor of a better facet found since (`kind_floor`, or `floor` within
    `kind_distance` of a better facet) are dropped. Returns the facets, kinds first
    (`kinds_first`), and each optimum's facet."""
    low = floor if kind_floor is None else min(kind_floor, floor)
    apart = distance if kind_distance is None else max(kind_distance, distance)
    facets = list(facets)
    facet_of = np.full([len(activations)], -1)
    for i in np.argsort(-activations):
        best = max([activations[i], *(f.activations[0] for f in facets)])
        one = tuple(part[i : i + 1] for part in states)
        if activations[i] < low * best or not np.isfinite(activations[i]):
            continue
        gaps = [1.0 - float(feats[i] @ f.features) for f in facets]
        high = activations[i] >= floor * best
        if not facets or min(gaps) >= (distance if high else apart):
            facets.append(FoundFacet((one,), np.array([activations[i]]), feats[i], round_))
            facet_of[i] = len(facets) - 1
            continue
        if not high:
            continue  # a weaker copy of a facet found: no facet, no start
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
    kept = _still_facets(facets, floor, low, apart)
    order = kinds_first([facets[k] for k in kept])
    rank = {kept[old]: new for new, old in enumerate(order)}
    return [facets[kept[k]] for k in order], np.array([rank.get(int(k), -1) for k in facet_of])


def _still_facets(facets: list[FoundFacet], floor: float, low: float, apart: float) -> list[int]:
    """The facets (indices) that are still facets once better ones have been found: those from
    photos, those at `floor` of the best, and those at `low` that keep `apart` from every
    higher facet."""
    top = max((f.activations[0] for f in facets), default=0.0)
    kept = []
    for k in sorted(range(len(facets)), key=lambda k: -facets[k].activations[0]):
        f = facets[k]
        if f.cluster is not None or f.activations[0] >= floor * top:
            kept.append(k)
        elif f.activations[0] >= low * top and all(
            1.0 - float(f.features @ facets[j].features) >= apart
            for j in kept
            if facets[j].activations[0] > f.activations[0]
        ):
            kept.append(k)
    return kept


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
    optima each, made by the designs `settings.searches` in turn with the compiled optimizer
    (`optimizer`, as the seeds) and polished on `objective`; `activation` measures a state's
    optima [C] as the seeds' were. Ctrl-C ends the search with the facets found."""
    to_image = image_param.to_image
    if start is None:
        found = [np.asarray(s) for s in seeds]
        values = np.asarray(activation(tuple(found)), np.float64)
        feats = features(
            model, to_image(tuple(tf.constant(s) for s in found)).numpy(), settings.layer
        )
        facets, facet_of = sort_into_facets([], tuple(found), values, feats, 0, *_rules(settings))
        below: tuple[tuple[int, float], ...] = ()
    else:
        facets, facet_of, below = list(start.facets), start.facet_of[0], start.below_floor
        values = start.activations[0]
        found = [np.concatenate(parts) for parts in zip(*(f.states[0] for f in facets))]
        feats = np.stack([f.features for f in facets])
    rows, all_values, all_facets = [feats], [values], [facet_of]
    if settings.rounds == 0 or not facets:
        return FacetSearch(tuple(facets), tuple(all_values), tuple(all_facets), below_floor=below)
    context = _context(
        model, objective, image_param, settings, float(np.max(values)), optimizer, progress
    )
    # one design object per name for the whole search: a design keeps what its rounds learn
    designs: dict[str, SearchDesign] = {
        name: DESIGNS[name](context) for name in dict.fromkeys((*settings.searches, FALLBACK))
    }
    interrupted = False
    try:
        for k in range(1, settings.rounds + 1):
            design = designs[settings.searches[(k - 1) % len(settings.searches)]]
            archive = Archive(tuple(found), np.concatenate(rows), np.concatenate(all_facets) >= 0)
            state = design.round(k, archive, seed)
            if state is None:  # no start left for this design
                design = designs[FALLBACK]
                state = design.round(k, archive, seed)
                assert state is not None  # the fallback starts from noise
            found = [np.concatenate([f, s]) for f, s in zip(found, state)]
            values = np.asarray(activation(state), np.float64)
            feats = features(
                model, to_image(tuple(tf.constant(s) for s in state)).numpy(), settings.layer
            )
            facets, facet_of = sort_into_facets(facets, state, values, feats, k, *_rules(settings))
            rows.append(feats)
            all_values.append(values)
            all_facets.append(facet_of)
            design.after_round(leads=any(f.round == k for f in facets))
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


def _context(
    model: Model,
    objective: Objective,
    image_param: ImageParam,
    settings: SearchSettings,
    best: float,
    optimizer: object,
    progress: bool,
) -> SearchContext:
    """What the designs' rounds share: the settings, the best value so far (`best`) and the
    polisher, a compiled Renderer of the searchable objective."""
    from samplevis.models import ResizeWarning
    from samplevis.optvis.optimize import Renderer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResizeWarning)  # render has said it
        polisher = Renderer.cached(
            model, searchable(model, objective, settings.layer), image_param, optimizer
        )
    return SearchContext(
        model,
        objective,
        image_param,
        settings.layer,
        settings.distance,
        settings.climb_steps,
        settings.polish_steps,
        settings.strength,
        best,
        polisher,
        optimizer,
        progress,
    )


def _rules(settings: SearchSettings) -> tuple[float, float, float | None, float | None]:
    """`settings`' floors and distances, as `sort_into_facets` takes them."""
    return settings.floor, settings.distance, settings.kind_floor, settings.kind_distance
