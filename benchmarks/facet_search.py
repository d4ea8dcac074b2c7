"""Facet searches side by side on two-facet units whose second facet fresh seeds miss.

A two-facet unit is max(a_A / m_A, a_B / m_B): a_f the spatial mean of the layer's activations
along facet f's weights (one channel, or a mixed-sign direction of several), m_f the median of
256-step `render_vis` optima of facet f alone (batch 4, seed 1; cached in a JSON next to the
output). Both facets have height 1 by construction; B is the facet seeds miss. An image's facet is
the one it excites more, its height that maximum. Every design starts from a round of seeds and
polishes every shown image on the unit alone, so no search term shapes it:

- seeds: more fresh seeds, 256 steps each (the baseline);
- deflation: a climb from fresh noise on `unit - lam * max cosine similarity of the image's
  centred, spatially pooled features (a layer upstream of the unit) to an archive of every earlier
  found image's`, 128 steps, then 128 steps of polish on the unit;
- ablation: the unit's upstream pathways that carry the facets found so far (the upstream layer's
  channels with the largest attribution, activation x gradient, at the found images) are cut
  (set to zero in front of the unit's own 1x1 conv) for a 128-step climb, then 128 steps of polish
  on the intact unit;
- annealing: 16 cheap particles at 64 px climb 64 steps with noise added to their state every 16
  (shrinking), the 4 most different of the high ones (greedy farthest points in the pooled
  features) are upsampled to 128 px and polished 128 steps.
- zdeflation: deflation with the pooled features z-scored per channel by 16 prior images'
  (1/f noise) instead of centred per image;
- library: `render`'s own search (sampling.starts.search) at its defaults: rounds of
  deflation and of probes in turn;
- probes: the library's probe rounds alone: the gratings where the unit answers through other
  upstream features (its pooled gradient) than at every image found so far, polished on the
  unit for a round's steps;
- kinds: the library's search once, every optimum it reached kept, then sorted into facets by
  each rule of `RULES` in turn (the seed's case: which rule reports the weaker facet and no
  weaker copy of a facet found).

`--weights B0.7` weighs facet B down (the unit answers to it "albeit not as much"), `A0.7` the
facet the seeds land in.

Prints, per pair and design, each round's images in facet B and their heights, and seconds as a
ratio to one seed round's (256 steps, batch 4, in this process). Saves a grid per pair and design.

    python benchmarks/facet_search.py --out out/facet_search
    python benchmarks/facet_search.py --pairs block6a --designs deflation --rounds 1
    python benchmarks/facet_search.py --pairs block4c block5c block6a --designs kinds \
        --weights B0.7 B0.5 A0.7
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np
import tensorflow as tf

from common import command_line, format_table, machine

STEPS_SEED = 256  # render_vis's steps for a seed and for the medians m_f
STEPS_CLIMB = 128  # a steered climb
STEPS_POLISH = 128  # polish on the unit alone
BATCH = 4
SIZE = 128
# --quick: the images' side, the smallest tried at which the deflation round still reaches B at
# the earliest pair (at common.QUICK_SIZE, 64 px, none of its images is in B)
QUICK_SIDE = 96
TOP_UPSTREAM = 8  # upstream channels cut per found facet image set, per ablation round
ARCHIVE = 64  # archive rows the deflated objective holds (unused rows masked)
# The rules `--designs kinds` sorts one search's optima by: (name, facet floor, distance, kind
# floor, kind distance). Two more were measured and lost (a lower floor alone; weaker facets
# told by the unit's pooled gradient): docs/sampling_designs.md, "Weaker facets", and
# `git show eaa6dd8:benchmarks/facet_search.py`.
RULES = (
    ("today: floor 0.8", 0.8, 0.3, None, None),
    ("floor 0.5, stricter distance 0.5 (render's)", 0.8, 0.3, 0.5, 0.5),
)


@dataclass(frozen=True)
class Pair:
    """A two-facet unit: `layer`, facets A (what seeds find) and B (what they miss) as
    {channel: weight}; `upstream` feeds the unit's 1x1 conv (`layer` minus '_activation')."""

    name: str
    layer: str
    facet_a: dict
    facet_b: dict
    upstream: str


PAIRS = {
    "block6a": Pair("block6a", "block6a_expand_activation", {50: 1.0}, {301: 1.0}, "block5c_add"),
    "block4c": Pair("block4c", "block4c_expand_activation", {31: 1.0}, {200: 1.0}, "block4b_add"),
    # other layers: which channel seeds land in was measured (docs/sampling_designs.md)
    "block3b": Pair(
        "block3b", "block3b_expand_activation", {200: 1.0}, {40: 1.0}, "block3a_project_bn"
    ),
    "block5c": Pair("block5c", "block5c_expand_activation", {500: 1.0}, {100: 1.0}, "block5b_add"),
    # the last blocks: a screen of 8 channels per layer (seeds landed in A, 4 of 4)
    "block6d": Pair("block6d", "block6d_expand_activation", {586: 1.0}, {729: 1.0}, "block6c_add"),
    "block7a": Pair("block7a", "block7a_expand_activation", {318: 1.0}, {623: 1.0}, "block6d_add"),
    # one real channel as both facets: the README's unit, where a facet kept under the floor of
    # the best is a weaker copy (`--designs kinds`: which rule keeps none)
    "block6a-301": Pair(
        "block6a-301", "block6a_expand_activation", {301: 1.0}, {301: 1.0}, "block5c_add"
    ),
    # missed facets that are directions of the layer (mixed-sign combinations of channels)
    "block6a-dir": Pair(
        "block6a-dir",
        "block6a_expand_activation",
        {50: 1.0},
        {301: 1.0, 412: 0.7, 97: -0.5},
        "block5c_add",
    ),
    "block4c-dir": Pair(
        "block4c-dir",
        "block4c_expand_activation",
        {31: 1.0},
        {200: 1.0, 77: 0.7, 5: -0.5},
        "block4b_add",
    ),
}


def weights_of(facet: dict, channels: int) -> np.ndarray:
    """float32 [channels]: a facet's weights ({channel: weight}), zero elsewhere."""
    w = np.zeros([channels], np.float32)
    for c, v in facet.items():
        w[c] = v
    return w


def facet_values(acts: tf.Tensor, weights: tf.Tensor, medians: tf.Tensor) -> tf.Tensor:
    """[B, 2]: each image's two facets, the layer's spatial mean along each facet's weights
    [2, C] over its median [2]."""
    return tf.einsum("bc,fc->bf", tf.reduce_mean(acts, [1, 2]), weights) / medians


def unit_objective(layer: str, weights: np.ndarray, medians: np.ndarray):
    from samplevis.optvis.objectives import Objective

    def fn(T, p):
        return tf.reduce_max(facet_values(T(layer), p[0], p[1]), axis=1)

    return Objective(fn, frozenset({layer}), f"unit({layer})", (weights, medians), ("unit", layer))


def _pooled(x: tf.Tensor) -> tf.Tensor:
    """Centred, spatially pooled, unit-length features [B, C]."""
    f = tf.reduce_mean(x, [1, 2])
    f = f - tf.reduce_mean(f, axis=1, keepdims=True)
    return f / (tf.norm(f, axis=1, keepdims=True) + 1e-8)


def _scored(x: tf.Tensor, mean: tf.Tensor, sd: tf.Tensor) -> tf.Tensor:
    """Spatially pooled features z-scored by prior images' (mean, sd per channel), unit length."""
    f = (tf.reduce_mean(x, [1, 2]) - mean) / sd
    return f / (tf.norm(f, axis=1, keepdims=True) + 1e-8)


def deflated_objective(layer: str, feature_layer: str, w, m, archive, valid, lam, prior=None):
    """The unit minus lam times the largest cosine to the archive's rows; features centred per
    image (prior None) or z-scored by prior images' per-channel (mean, sd)."""
    from samplevis.optvis.objectives import Objective

    z = prior is not None
    extra = tuple(prior) if z else ()

    def fn(T, p):
        unit = tf.reduce_max(facet_values(T(layer), p[0], p[1]), axis=1)
        x = T(feature_layer)
        f = _scored(x, p[5], p[6]) if z else _pooled(x)
        cos = tf.matmul(f, p[2], transpose_b=True)  # [B, K]
        cos = tf.where(p[3][None, :] > 0, cos, -tf.ones_like(cos))
        return unit - p[4] * tf.reduce_max(cos, axis=1)

    return Objective(
        fn,
        frozenset({layer, feature_layer}),
        f"deflated({layer}, {feature_layer})",
        (w, m, archive, valid, np.float32(lam), *extra),
        ("deflated", layer, feature_layer, archive.shape, z),
    )


def unit_from_upstream(keras_model, layer: str) -> Callable[[tf.Tensor], tf.Tensor]:
    """The unit's layer as a function of its upstream layer: conv, batch norm, ReLU6."""
    stem = layer.removesuffix("_activation")
    conv, bn, act = (keras_model.get_layer(f"{stem}{s}") for s in ("_conv", "_bn", "_activation"))
    return lambda x: act(bn(conv(x), training=False))


def ablated_objective(pair: Pair, through, w, m, mask):
    from samplevis.optvis.objectives import Objective

    def fn(T, p):
        acts = through(T(pair.upstream) * p[2])
        return tf.reduce_max(facet_values(acts, p[0], p[1]), axis=1)

    return Objective(
        fn,
        frozenset({pair.upstream}),
        f"ablated({pair.layer})",
        (w, m, mask),
        ("ablated", pair.layer, pair.upstream),
    )


def _last(images: object) -> np.ndarray:
    assert isinstance(images, list)  # render's images, return_state=False
    return images[-1]


def _state(rendering: object) -> tuple:
    from samplevis.optvis.optimize import Rendering

    assert isinstance(rendering, Rendering)  # return_state=True
    return rendering.state


@dataclass
class Found:
    images: list  # one [4, H, W, 3] per round
    values: list  # one [4, 2] per round
    seconds: list  # per round


def values_of(model, pair: Pair, w, m, images: np.ndarray) -> np.ndarray:
    """[B, 2]: each of `images`' two facet values (`facet_values`) at `pair`'s layer of `model`,
    along the weights `w` [2, C] over the medians `m` [2]."""
    acts = model.features(tf.constant(images), [pair.layer])[pair.layer]
    return facet_values(acts, tf.constant(w), tf.constant(m)).numpy()


def medians(model, pair: Pair, cache: Path) -> np.ndarray:
    """m_A, m_B: median of 256-step optima of each facet alone (batch 4, seed 1), cached."""
    from samplevis import param
    from samplevis.optvis.optimize import Renderer

    known = json.loads(cache.read_text()) if cache.exists() else {}
    channels = model.keras_model.get_layer(pair.layer).output.shape[-1]
    out = []
    for facet in (pair.facet_a, pair.facet_b):
        key = f"{pair.layer}:{json.dumps({str(k): v for k, v in sorted(facet.items())})}"
        if STEPS_SEED != 256:  # a --quick run's medians are not the real ones
            key = f"{STEPS_SEED} steps, {SIZE} px: {key}"
        if key not in known:
            w = np.stack([weights_of(facet, channels)] * 2)
            obj = unit_objective(pair.layer, w, np.ones([2], np.float32))
            r = Renderer(model, obj, param.image(SIZE, batch=BATCH))
            images = _last(r.run((STEPS_SEED,), seed=1, progress=False))
            known[key] = float(
                np.median(values_of(model, pair, w, np.ones(2, np.float32), images)[:, 0])
            )
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(json.dumps(known, indent=1))
        out.append(known[key])
    return np.array(out, np.float32)


class Search:
    """One pair's renderers and the designs' rounds."""

    def __init__(self, model, pair: Pair, m: np.ndarray, weights: np.ndarray | None = None):
        from samplevis import param
        from samplevis.optvis.optimize import Renderer

        self.model, self.pair = model, pair
        channels = model.keras_model.get_layer(pair.layer).output.shape[-1]
        self.w = np.stack([weights_of(pair.facet_a, channels), weights_of(pair.facet_b, channels)])
        # the unit max(s_A a_A / m_A, s_B a_B / m_B): each facet's weight s_f divides its median
        self.m_weights = np.ones(2, np.float32) if weights is None else weights
        self.m = (m / self.m_weights).astype(np.float32)
        self.param = param.image(SIZE, batch=BATCH)
        self.unit = Renderer(model, unit_objective(pair.layer, self.w, m), self.param)
        self.unit.run((16,), seed=0, progress=False)  # traced before anything is timed

    def seed_round(self, seed: int) -> np.ndarray:
        return _last(self.unit.run((STEPS_SEED,), seed=seed, progress=False))

    def polish(self, state, seed: int) -> np.ndarray:
        self.unit.climb(state, STEPS_POLISH, seed)
        return self.unit.image()

    def values(self, images: np.ndarray) -> np.ndarray:
        return values_of(self.model, self.pair, self.w, self.m, images)

    def features(self, images: np.ndarray) -> np.ndarray:
        x = self.model.features(tf.constant(images), [self.pair.upstream])[self.pair.upstream]
        return _pooled(x).numpy()


def run_seeds(search: Search, rounds: int, first: np.ndarray) -> Found:
    found = Found([first], [search.values(first)], [0.0])
    for k in range(1, rounds + 1):
        start = time.perf_counter()
        images = search.seed_round(1000 + k)
        found.seconds.append(time.perf_counter() - start)
        found.images.append(images)
        found.values.append(search.values(images))
    return found


def prior_stats(search: Search) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and sd of the upstream layer's pooled features over 16 prior images
    (the spectral state at std 1: 1/f noise)."""
    from samplevis import param
    from samplevis.optvis.param.base import normal_state

    image = param.image(SIZE, batch=16)
    state = normal_state(image.state_shapes, tf.constant([7, 7]), 1.0)
    x = search.model.features(image.to_image(state), [search.pair.upstream])[search.pair.upstream]
    f = tf.reduce_mean(x, [1, 2]).numpy()
    return f.mean(0).astype(np.float32), (f.std(0) + 1e-3 * f.std(0).mean() + 1e-6).astype(
        np.float32
    )


def run_deflation(
    search: Search, rounds: int, first: np.ndarray, lam: float, z: bool = False
) -> Found:
    from samplevis.optvis.optimize import Renderer

    pair = search.pair
    prior = prior_stats(search) if z else None

    def feats(images: np.ndarray) -> np.ndarray:
        if prior is None:
            return search.features(images)
        x = search.model.features(tf.constant(images), [pair.upstream])[pair.upstream]
        return _scored(x, prior[0], prior[1]).numpy()

    dims = search.model.keras_model.get_layer(pair.upstream).output.shape[-1]
    archive = np.zeros([ARCHIVE, dims], np.float32)
    valid = np.zeros([ARCHIVE], np.float32)

    def objective():
        return deflated_objective(
            pair.layer, pair.upstream, search.w, search.m, archive, valid, lam
        )

    renderer = Renderer(search.model, objective(), search.param)
    renderer.run((16,), seed=0, progress=False)
    found = Found([first], [search.values(first)], [0.0])
    filled = 0
    for k in range(1, rounds + 1):
        start = time.perf_counter()
        for f in feats(np.concatenate(found.images[-1:])):
            archive[filled % ARCHIVE], valid[filled % ARCHIVE] = f, 1.0
            filled += 1
        rendering = renderer.run(
            (STEPS_CLIMB,), seed=2000 + k, objective=objective(), progress=False, return_state=True
        )
        images = search.polish(_state(rendering), 3000 + k)
        found.seconds.append(time.perf_counter() - start)
        found.images.append(images)
        found.values.append(search.values(images))
    return found


def _attribution(search: Search, through, images: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per upstream channel, the mean over `images` of spatial mean(activation x gradient) of
    the unit (through the current cut) [Cu]."""
    pair = search.pair
    x = search.model.features(tf.constant(images), [pair.upstream])[pair.upstream]
    with tf.GradientTape() as tape:
        tape.watch(x)
        acts = through(x * mask)
        unit = tf.reduce_sum(tf.reduce_max(facet_values(acts, search.w, search.m), axis=1))
    g = tape.gradient(unit, x)
    return tf.reduce_mean(x * g, [0, 1, 2]).numpy()


def run_ablation(search: Search, rounds: int, first: np.ndarray) -> Found:
    from samplevis.optvis.optimize import Renderer

    pair = search.pair
    through = unit_from_upstream(search.model.keras_model, pair.layer)
    dims = search.model.keras_model.get_layer(pair.upstream).output.shape[-1]
    mask = np.ones([dims], np.float32)
    renderer = Renderer(
        search.model, ablated_objective(pair, through, search.w, search.m, mask), search.param
    )
    renderer.run((16,), seed=0, progress=False)
    found = Found([first], [search.values(first)], [0.0])
    for k in range(1, rounds + 1):
        start = time.perf_counter()
        score = _attribution(search, through, np.concatenate(found.images), np.ones_like(mask))
        score[mask == 0] = -np.inf
        mask[np.argsort(-score)[:TOP_UPSTREAM]] = 0.0
        rendering = renderer.run(
            (STEPS_CLIMB,),
            seed=2000 + k,
            objective=ablated_objective(pair, through, search.w, search.m, mask),
            progress=False,
            return_state=True,
        )
        images = search.polish(_state(rendering), 3000 + k)
        found.seconds.append(time.perf_counter() - start)
        found.images.append(images)
        found.values.append(search.values(images))
    return found


def _farthest(features: np.ndarray, heights: np.ndarray, count: int) -> list[int]:
    """Greedy farthest points (cosine) among images at >= half the best height, best first."""
    ok = np.flatnonzero(heights >= 0.5 * heights.max())
    chosen = [int(ok[np.argmax(heights[ok])])]
    while len(chosen) < min(count, len(ok)):
        sims = features[ok] @ features[chosen].T
        chosen.append(int(ok[np.argmin(sims.max(axis=1))]))
    while len(chosen) < count:  # too few high ones: the next highest
        rest = [i for i in np.argsort(-heights) if i not in chosen]
        chosen.append(int(rest[0]))
    return chosen


def run_annealing(search: Search, rounds: int, first: np.ndarray) -> Found:
    from samplevis import param
    from samplevis.optvis.optimize import Renderer

    small = param.image(64, batch=16)
    renderer = Renderer(search.model, search.unit.objective, small)
    renderer.run((16,), seed=0, progress=False)
    found = Found([first], [search.values(first)], [0.0])
    for k in range(1, rounds + 1):
        start = time.perf_counter()
        rendering = renderer.run((16,), seed=4000 + k, progress=False, return_state=True)
        state = _state(rendering)
        for j, sigma in enumerate((0.5, 0.25, 0.1)):
            rng = np.random.default_rng([k, j])
            noisy = tuple(
                s + sigma * rng.standard_normal(s.shape).astype(np.float32) for s in state
            )
            state, _ = renderer.climb(noisy, 16, 5000 + 10 * k + j)
        renderer.restore(state)
        images = renderer.image()
        big = tf.image.resize(images, [SIZE, SIZE]).numpy().clip(1e-3, 1 - 1e-3)
        heights = search.values(big).max(axis=1)
        pick = _farthest(search.features(big), heights, BATCH)
        start_state = tuple(np.asarray(s) for s in search.param.state_for(tf.constant(big[pick])))
        images = search.polish(start_state, 3000 + k)
        found.seconds.append(time.perf_counter() - start)
        found.images.append(images)
        found.values.append(search.values(images))
    return found


def _distances(search: Search, found: Found, k: int) -> str:
    """Round k's images' cosine distance (pooled upstream features) to the nearest image of
    earlier rounds, in facet A and in facet B ("—" for round 0: to the other seeds)."""
    images = found.images[k]
    earlier = np.concatenate(found.images[:k]) if k else images
    f, g = search.features(images), search.features(earlier)
    d = 1 - f @ g.T
    if not k:
        d = d + 2 * np.eye(len(images))  # not to itself
    nearest = d.min(axis=1)
    in_b = found.values[k][:, 1] > found.values[k][:, 0]
    a = " ".join(f"{v:.2f}" for v in nearest[~in_b]) or "—"
    b = " ".join(f"{v:.2f}" for v in nearest[in_b]) or "—"
    return f"{a} / {b}"


def save_grid(found: Found, path: Path, title: str) -> None:
    """One row per round: each image labelled with its facet (A / B) and height."""
    from PIL import Image, ImageDraw

    rows = len(found.images)
    pad, label = 4, 14
    cell = SIZE + pad
    sheet = Image.new("RGB", (BATCH * cell + pad, rows * (cell + label) + label + pad), "white")
    draw = ImageDraw.Draw(sheet)
    draw.text((pad, 2), title, fill="black")
    for r, (images, values) in enumerate(zip(found.images, found.values)):
        y = label + r * (cell + label)
        for i in range(BATCH):
            x = pad + i * cell
            tile = Image.fromarray((np.clip(images[i], 0, 1) * 255).astype(np.uint8))
            sheet.paste(tile, (x, y + label))
            facet = "AB"[int(np.argmax(values[i]))]
            name = "seeds" if r == 0 else f"round {r}"
            draw.text((x, y + 1), f"{name} {facet} {values[i].max():.2f}", fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)


def run_library(
    search: Search, rounds: int, first: np.ndarray, searches: tuple[str, ...] | None = None
) -> Found:
    """`render`'s facet search with its defaults (features of the input of the unit's
    convolution, strength 1, floor 0.8, distance 0.3; `searches` in turn, default the
    library's), from the seeds' round; prints the facets it keeps."""
    from samplevis.sampling.options import DEFAULTS
    from samplevis.sampling.starts import designs, search_layer
    from samplevis.sampling.starts import search as facet_search

    image = search.param
    state = tuple(np.asarray(s) for s in image.state_for(tf.constant(first)))

    def activation(parts):
        images = image.to_image(tuple(tf.constant(p) for p in parts)).numpy()
        return search.values(images).max(axis=1)

    settings = facet_search.SearchSettings(
        rounds=rounds,
        floor=DEFAULTS["facet_floor"],
        strength=DEFAULTS["search_strength"],
        distance=DEFAULTS["facet_distance"],
        layer=search_layer.upstream_layer(search.model, search.pair.layer),
        climb_steps=STEPS_CLIMB,
        polish_steps=STEPS_POLISH,
        searches=searches or designs.SEARCHES,
    )
    start = time.perf_counter()
    result = facet_search.search_facets(
        search.model, search.unit.objective, image, state, activation, settings, tf.constant([0, 9])
    )
    seconds = time.perf_counter() - start
    optima = [
        image.to_image(tuple(tf.constant(np.repeat(p, BATCH, 0)) for p in f.states[0])).numpy()[0]
        for f in result.facets[:BATCH]
    ]
    row = np.stack(optima + [np.full_like(first[0], 0.5)] * (BATCH - len(optima)))
    for f, v in zip(result.facets, search.values(row)):
        print(
            f"#   library facet: round {f.round}, height {v.max():.2f} in "
            f"{'AB'[int(np.argmax(v))]}, {len(f.states)} optima"
        )
    # the second row: the facets kept, best first (grey: none)
    found = Found([first, row], [search.values(first), search.values(row)], [0.0, seconds])
    print(f"#   library facet_of per round: {[f.tolist() for f in result.facet_of]}")
    return found


def run_kinds(search: Search, rounds: int, first: np.ndarray) -> list[list]:
    """`render`'s search once from the seeds' round, every optimum it reaches recorded (its
    activation callback sees each round's), then each of RULES sorting them into facets; rows
    of (rule, facets kept as facet/height, the weaker facet's best optimum reached, the weaker
    facet reported, weaker copies)."""
    from samplevis.sampling.options import DEFAULTS
    from samplevis.sampling.starts import search as facet_search
    from samplevis.sampling.starts import search_layer

    image = search.param
    state = tuple(np.asarray(s) for s in image.state_for(tf.constant(first)))
    reached: list[np.ndarray] = []

    def activation(parts):
        images = image.to_image(tuple(tf.constant(p) for p in parts)).numpy()
        reached.append(images)
        return search.values(images).max(axis=1)

    layer = search_layer.upstream_layer(search.model, search.pair.layer)
    settings = facet_search.SearchSettings(
        rounds=rounds,
        floor=1.0,  # every rule sorts the optima below: the search's own sort is not read
        strength=DEFAULTS["search_strength"],
        distance=DEFAULTS["facet_distance"],
        layer=layer,
        climb_steps=STEPS_CLIMB,
        polish_steps=STEPS_POLISH,
    )
    facet_search.search_facets(
        search.model, search.unit.objective, image, state, activation, settings, tf.constant([0, 9])
    )
    feats = [search_layer.features(search.model, images, layer) for images in reached]
    values = [search.values(images) for images in reached]
    weaker = int(np.argmin(search.m_weights))  # the facet weighed down (0: A, 1: B)
    # the best optimum the search reached in the weaker facet, as a share of the best optimum
    every = np.concatenate(values)
    in_weaker = every[np.argmax(every, axis=1) == weaker].max(axis=1)
    weaker_reached = f"{in_weaker.max() / every.max():.2f}" if len(in_weaker) else "no"
    rows = []
    for name, floor, distance, kind_floor, kind_distance in RULES:
        facets: list = []
        for k, (images, v) in enumerate(zip(reached, values)):
            parts = tuple(np.asarray(p) for p in image.state_for(tf.constant(images)))
            facets, _ = facet_search.sort_into_facets(
                facets,
                parts,
                v.max(axis=1),
                feats[k],
                k,
                floor,
                distance,
                kind_floor,
                kind_distance,
            )
        shown = []
        for f in facets:
            v = search.values(
                image.to_image(
                    tuple(tf.constant(np.repeat(p, BATCH, 0)) for p in f.states[0])
                ).numpy()[:1]
            )[0]
            shown.append((int(np.argmax(v)), float(v.max())))
        top = max(h for _, h in shown)
        said = "; ".join(f"{'AB'[f]} {h / top:.2f}" for f, h in shown)
        found = [h / top for f, h in shown if f == weaker]
        # a facet under the floor of the best whose facet of the unit a higher facet shows
        copies = sum(h / top < 0.8 and any(g == f and j > h for g, j in shown) for f, h in shown)
        rows.append([name, said, weaker_reached, f"{max(found):.2f}" if found else "no", copies])
    return rows


def _run(design: str, search: Search, args: argparse.Namespace, first: np.ndarray) -> Found:
    if design == "seeds":
        return run_seeds(search, args.rounds, first)
    if design == "deflation":
        return run_deflation(search, args.rounds, first, args.lam)
    if design == "ablation":
        return run_ablation(search, args.rounds, first)
    if design == "zdeflation":
        return run_deflation(search, args.rounds, first, args.lam, z=True)
    if design == "library":
        return run_library(search, args.rounds, first)
    if design == "probes":
        return run_library(search, args.rounds, first, searches=("probes",))
    return run_annealing(search, args.rounds, first)


def parse_args() -> argparse.Namespace:
    """The flags; --quick sets 8 steps everywhere and images of QUICK_SIDE px."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", nargs="+", default=list(PAIRS), choices=list(PAIRS))
    parser.add_argument(
        "--designs",
        nargs="+",
        default=["seeds", "deflation", "ablation", "annealing"],
        choices=[
            "seeds",
            "deflation",
            "zdeflation",
            "ablation",
            "annealing",
            "library",
            "probes",
            "kinds",
        ],
    )
    parser.add_argument(
        "--weights",
        nargs="+",
        default=["B1"],
        help="the facets' weights, each run in turn: B0.7 weighs the facet seeds miss 0.7, A0.7 "
        "the one they land in (default B1: both 1)",
    )
    parser.add_argument("--rounds", type=int, default=2, help="search rounds after the seeds")
    parser.add_argument("--lam", type=float, default=1.0, help="deflation strength")
    parser.add_argument("--out", type=Path, default=Path("out/facet_search"))
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"8 steps everywhere, {QUICK_SIDE} px images: a smoke run",
    )
    args = parser.parse_args()
    if args.quick:
        global STEPS_SEED, STEPS_CLIMB, STEPS_POLISH, SIZE
        STEPS_SEED = STEPS_CLIMB = STEPS_POLISH = 8
        SIZE = QUICK_SIDE  # the same programs on fewer pixels
    return args


def design_rounds(
    design: str,
    search: Search,
    args: argparse.Namespace,
    first: np.ndarray,
    seed_seconds: float,
    label: str,
) -> list[list]:
    """One design's rounds from the seed round `first`: each printed as a Markdown row (its
    heights, distances and cost), its optima saved as a grid; returns its summary rows."""
    found = _run(design, search, args, first)
    summary = []
    for k in range(1, len(found.values)):
        in_b = found.values[k][:, 1] > found.values[k][:, 0]
        best_b = found.values[k][in_b].max() if in_b.any() else float("nan")
        cost = found.seconds[k] / seed_seconds
        summary.append(
            [label, design, k, f"{int(in_b.sum())} of {BATCH}", f"{best_b:.2f}", f"{cost:.2f}"]
        )
    for k, (values, secs) in enumerate(zip(found.values, found.seconds)):
        in_b = int((values[:, 1] > values[:, 0]).sum())
        heights = " ".join(f"{v.max():.2f}{'*' if v[1] > v[0] else ''}" for v in values)
        cost_text = "—" if k == 0 else f"{secs / seed_seconds:.2f}"
        print(
            f"| {design} | {'seeds' if k == 0 else k} | {in_b} of {BATCH} | "
            f"{heights} | {_distances(search, found, k)} | {cost_text} |"
        )
    pair = search.pair
    save_grid(
        found,
        args.out / f"{label}_{design}.png".replace(" ", "_"),
        f"{pair.layer} {label}: {design}",
    )
    sys.stdout.flush()
    return summary


def weighed_search(model, name: str, m: np.ndarray, weighed: str, args) -> tuple[list, list]:
    """Pair `name` with its facets weighed as `weighed` (B0.7, ...): the seed round, then the
    kinds' rows and each design's rounds, printed as they come; (kinds' rows, summary rows)."""
    pair = PAIRS[name]
    weights = np.ones(2, np.float32)
    weights["AB".index(weighed[0])] = float(weighed[1:])
    search = Search(model, pair, m, weights)
    label = name if weighed == "B1" else f"{name} {weighed}"
    start = time.perf_counter()
    first = search.seed_round(7)
    seed_seconds = time.perf_counter() - start
    print(
        f"\n## {pair.layer} A={pair.facet_a} B={pair.facet_b} (m {m[0]:.3g}, {m[1]:.3g}"
        f"; weights {weights.tolist()}); a seed round {seed_seconds:.1f} s"
    )
    kinds_rows = []
    if "kinds" in args.designs:
        for row in run_kinds(search, args.rounds, first):
            kinds_rows.append([label, *row])
            print(" | ".join(str(x) for x in kinds_rows[-1]), flush=True)
    rounds_designs = [d for d in args.designs if d != "kinds"]
    if rounds_designs:
        print(
            "| design | round | in B | heights (B marked *) | feature distance to "
            "earlier (in A / in B) | cost (seed rounds) |"
        )
        print("|---|---|---|---|---|---|")
    summary = []
    for design in rounds_designs:
        summary += design_rounds(design, search, args, first, seed_seconds, label)
    return kinds_rows, summary


def main() -> None:
    args = parse_args()
    import samplevis

    model = samplevis.zoo.efficientnet_lite0()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    print(f"# {command_line()}\n# commit {commit}; {machine()}")
    kinds_rows, summary = [], []
    for name in args.pairs:
        m = medians(model, PAIRS[name], args.out / "medians.json")
        for weighed in args.weights:
            kinds, rounds = weighed_search(model, name, m, weighed, args)
            kinds_rows += kinds
            summary += rounds
    if kinds_rows:
        print()
        headers = [
            "pair",
            "rule",
            "facets kept (facet, height)",
            "weaker facet reached",
            "weaker facet kept",
            "weaker copies",
        ]
        print(format_table(headers, kinds_rows))
    if summary:
        print()
        headers = ["pair", "design", "round", "in B", "best height in B", "cost (seed rounds)"]
        print(format_table(headers, summary))


if __name__ == "__main__":
    main()
