"""When a facet-search round's polish can end: how its chains come to the facets found before it.

For each unit and seed this runs `samplevis.render`'s starts and facet search at their defaults
(and stops it there, as Ctrl-C would), with every round's polish run to its full steps (the end
`designs.SearchContext.headed_into` would call is recorded, not taken), and the chains' state
read every 16 steps. Per round it prints where the polish would end (the first check, every
`designs.HEADED_CHECK_STEPS` steps, at which every chain is within `facet_distance` of an
optimum of a facet found before the round), what the round's optima became (a facet they lead, one they
joined, or under the floor), and each chain's activation at that step over its activation at
the polish's end: what ending there gives up.

    python benchmarks/polish_ends.py                          # the README's unit, seeds 0 1 2
    python benchmarks/polish_ends.py --units block6a block5c block4c --seeds 0 1
    python benchmarks/polish_ends.py --quick                  # a smoke run: block3b, one round

The planted units are facet_search.py's two-facet pairs (B the facet fresh seeds miss).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np
import tensorflow as tf

from common import QUICK_SIZE, command_line, format_table, machine

README_UNIT = ("block6a_expand_activation", 301)


def unit_of(model, name: str, out: Path, quick: bool = False):
    """The README's unit, or a planted two-facet pair of facet_search.py by name (its medians
    1 where `quick`)."""
    from samplevis import objectives

    if name == "readme":
        return objectives.channel(*README_UNIT)
    from facet_search import PAIRS, medians, unit_objective, weights_of

    pair = PAIRS[name]
    channels = model.keras_model.get_layer(pair.layer).output.shape[-1]
    weights = np.stack([weights_of(pair.facet_a, channels), weights_of(pair.facet_b, channels)])
    found = np.ones(2) if quick else medians(model, pair, out / "medians.json")
    return unit_objective(pair.layer, weights, np.asarray(found, np.float32))


def recorded_search(model, unit, seed: int, hmc_opts: dict, size: int | None = None):
    """Run `render` up to the end of its search (its images `size` px, or render's default) with
    every polish recorded whole: returns the FacetSearch, its settings, and per round (round,
    archive, the states every 16 steps)."""
    import samplevis
    from samplevis import param
    from samplevis.optvis.renderer import Renderer
    from samplevis.sampling.starts import designs
    from samplevis.sampling.starts import search as search_lib

    rounds: list[dict] = []
    found: list = []
    climb, search_facets = Renderer.climb, search_lib.search_facets
    design_rounds = {cls: cls.round for cls in (designs.Deflation, designs.Probes)}

    def recording_climb(self, state, steps, seed=None, progress=None, until=None):
        snapshots, steps_fn = [tuple(np.asarray(s) for s in state)], self.compiled_steps

        def step(*args):
            out = steps_fn(*args)
            snapshots.append(self.snapshot())
            return out

        self.compiled_steps = step
        try:  # every 16 steps, never ended early: `until` is asked and ignored
            return climb(
                self, state, steps, seed, progress, (lambda s, n: False) if until else None
            )
        finally:
            self.compiled_steps = steps_fn
            if until is not None:
                rounds[-1].update(snapshots=snapshots, image_param=self.image_param)

    def recording_round(cls):
        def round_(self, k, archive, seed):
            rounds.append(dict(round=k, archive=archive))
            return design_rounds[cls](self, k, archive, seed)

        return round_

    def recording_search(*args, **kwargs):
        found.append((search_facets(*args, **kwargs), args[5]))
        raise KeyboardInterrupt  # as Ctrl-C: the run ends with the search

    wrapped = [
        (Renderer, "climb", climb, recording_climb),
        (search_lib, "search_facets", search_facets, recording_search),
        *(
            (cls, "round", original, recording_round(cls))
            for cls, original in design_rounds.items()
        ),
    ]
    try:
        for owner, name, _, wrapper in wrapped:
            setattr(owner, name, wrapper)
        chains = hmc_opts.get("num_chains")
        param_f = None if size is None else param.image(size, batch=chains)
        samplevis.render(model, unit, hmc_opts=hmc_opts, seed=seed, progress=False, param_f=param_f)
    except KeyboardInterrupt:
        pass
    finally:
        for owner, name, original, _ in wrapped:
            setattr(owner, name, original)
    result, settings = found[0]
    return result, settings, rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", nargs="+", help="readme or pair names (default readme)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=Path("out/facet_search"))
    parser.add_argument("--quick", action="store_true", help="a smoke run: one round, few steps")
    args = parser.parse_args()
    # --quick: the pair of the earliest layer, the network run up to it only
    args.units = args.units or ["block3b" if args.quick else "readme"]
    import samplevis
    from samplevis.sampling.starts import designs, search_layer

    print(f"command: {command_line()}")
    print(f"machine: {machine()}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    model = samplevis.zoo.efficientnet_lite0()
    hmc_opts = dict(num_results=2)
    size = None
    if args.quick:  # a 32-step polish: one check; 64 px images (render's default is 128)
        hmc_opts.update(optimize_steps=64, search_rounds=1, num_chains=2)
        size = QUICK_SIZE
    rows = []
    for name in args.units:
        unit = unit_of(model, name, args.out, args.quick)
        for seed in args.seeds:
            result, settings, rounds = recorded_search(model, unit, seed, hmc_opts, size)
            for r in rounds:
                k, snapshots = r["round"], r.get("snapshots", [])
                if not snapshots:
                    continue
                feats, values = [], []
                for state in snapshots:
                    images = r["image_param"].to_image(tuple(tf.constant(p) for p in state))
                    feats.append(search_layer.features(model, images.numpy(), settings.layer))
                    values.append(unit(model.features(images, sorted(unit.layers)).__getitem__))
                known = r["archive"].features[r["archive"].in_facet]
                distance = 1 - np.max(np.stack(feats) @ known.T, axis=2)  # [T, C]
                steps = 16 * (len(snapshots) - 1)
                every = designs.HEADED_CHECK_STEPS
                checks = [t for t in range(1, len(snapshots)) if (16 * t) % every == 0]
                end = next((t for t in checks if np.all(distance[t] < settings.distance)), None)
                final = result.facet_of[k]
                became = [
                    "under" if f < 0 else ("leads" if result.facets[f].round == k else "joins")
                    for f in final
                ]
                kept = (
                    "-"
                    if end is None
                    else ", ".join(
                        f"{v:.2f}" for v in np.asarray(values[end]) / np.asarray(values[-1])
                    )
                )
                rows.append(
                    [
                        name,
                        seed,
                        k,
                        f"{'-' if end is None else 16 * end} / {steps}",
                        ", ".join(became),
                        kept,
                    ]
                )
                print(" | ".join(str(x) for x in rows[-1]), flush=True)
    print()
    headers = ["unit", "seed", "round", "ends at / steps", "its optima", "activation kept there"]
    print(format_table(headers, rows))
    print(f"machine at end: {machine()}")


if __name__ == "__main__":
    main()
