"""Facets' log-masses on the built-in EfficientNet-Lite0: the Laplace estimate at each chain's
optimized start as it was (no Newton steps, 4 probes) and as it is (Newton's steps to the mass
target's mode first), each with its jackknife error bar, from independent probe seeds.

    python benchmarks/facet_masses.py                      # block6a_expand_activation:301
    python benchmarks/facet_masses.py --quick              # block3a, 64 px, 2 chains, 8 steps
    python benchmarks/facet_masses.py --temperature 0.0067 --prior-weight 2.161  # no render

It runs a default `render` (num_results 4, the README's other options), then estimates the mass
of each chain's start's facet again at that run's T and lam, from the same starts (same seed),
`--seeds` times per estimator with independent probes. A row per estimator and chain:

  log Z, error    the first probe seed's estimate, refused or not, and its standard error
                  (the jackknife over the probes, and the gradient term left, in quadrature)
  scatter         the estimate's standard deviation over the probe seeds
  mass            "refused" where the gradient term left exceeds 1 nat and the probes' error
  gradient term   g' H^-1 g / 2 where the estimate was taken; climbed: log pi gained there
                  over the start (0 at the start)
  relative        to the heaviest facet; "without kept prior" the same with the prior of the
                  fine coefficients each facet keeps at its start's values taken out
  s               median seconds per estimate (the estimators alternate: load slows both)

"at start" is the former estimate (no Newton steps, 4 probes), "at the mode" today's. Then
what the run itself printed (relative to the heaviest facet).
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np

from common import QUICK_SIZE, command_line, format_table, machine

OBJECTIVE = "block6a_expand_activation:301"
# --quick: a unit of an early layer, the network run up to it only
QUICK_OBJECTIVE = "block3a_expand_activation:20"


def parse_args() -> argparse.Namespace:
    """The flags."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objective", help=f"default {OBJECTIVE} (--quick: {QUICK_OBJECTIVE})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, default=3, help="independent probe seeds")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--temperature", type=float, help="with --prior-weight: no render, this T (a run's)"
    )
    parser.add_argument("--prior-weight", type=float, help="with --temperature: this lam")
    return parser.parse_args()


def render_options(quick: bool) -> dict:
    """The hmc_opts of the run (and of its starts made again)."""
    chains = 2 if quick else 4
    opts = {"num_results": 4, "num_chains": chains}
    if quick:
        # no facet search: the run's chains start at the optimized starts made again below
        opts.update(
            optimize_steps=8,
            num_burnin_steps=4,
            temperature_steps=4,
            num_results=1,
            search_rounds=0,
            polish_steps=16,  # one compiled block of the polish (its default climbs up to 256)
        )
    return opts


def rendered(model, obj, opts: dict, image_param, seed: int):
    """The run `render` makes of `obj` (its seconds and mass sentence printed)."""
    import samplevis

    start = time.perf_counter()
    result = samplevis.render(
        model, obj, hmc_opts=opts, param_f=image_param, seed=seed, progress=False
    )
    took = f"{time.perf_counter() - start:.0f} s ({dict(result.seconds)})"
    print(f"render: {took}; {result.mass_sentence}")
    return result


def facet_target(model, obj, opts: dict, image_param, seed: int, result, temperature, lam):
    """The run's starts made again (same seed, same phase seeds), and the mass target of their
    facets at T `temperature` and lam `lam`: (facet parameterization, target)."""
    from samplevis.models import as_model
    from samplevis.optvis.objectives import image_objective
    from samplevis.runtime.seeds import as_seed, fold_in
    from samplevis.sampling.density import chain_param, facet_mass
    from samplevis.sampling.options import resolve_options
    from samplevis.sampling.phases.facet_starts import first_log_density
    from samplevis.sampling.starts.chains import find_starts

    resolved, base = resolve_options(opts), as_seed(seed)
    whole = first_log_density(
        as_model(model),
        image_objective(obj),
        image_param(),
        resolved.num_transforms,
        fold_in(base, 1),
    )
    starts = find_starts(
        whole.model,
        whole.objective,
        whole.image_param,
        whole,
        fold_in(base, 0),
        False,
        start=resolved.start,
        init=resolved.init,
        optimize_steps=resolved.optimize_steps,
        start_diversity=resolved.start_diversity,
    )
    if result is not None:
        same = np.allclose(starts.activations, result.init_activations, rtol=1e-4)
        print(f"starts as the run's: {same} ({np.round(starts.activations, 3).tolist()})")
    facet_image = chain_param.chain_parameterization(
        whole.image_param, [s.numpy() for s in starts.state], resolved.cutoff
    )
    assert isinstance(facet_image, chain_param.FacetImage)  # a cutoff, no warp
    target = facet_mass.mass_target(
        dataclasses.replace(whole, image_param=facet_image, prior_weight=lam),
        temperature,
    )
    return facet_image, target


def estimates_timed(target, facet_image, lam: float, seed: int, seeds: int):
    """Each estimator's estimates from `seeds` probe seeds, and its seconds per estimate, the
    estimators alternating: ({name: [estimate]}, {name: [s]})."""
    from samplevis.runtime.seeds import as_seed, fold_in
    from samplevis.sampling.density import facet_mass

    base = as_seed(seed)
    compiled = facet_mass.CompiledLogProb(target)
    state = facet_image.init(None)
    compiled(*state), compiled.value_and_gradient(*state)  # traced before any timing
    estimators = {
        "at start": lambda s: facet_mass.facet_log_mass_estimate(
            target, lam, s, 4, compiled, newton_steps=0
        ),
        "at the mode": lambda s: facet_mass.facet_log_mass_estimate(
            target, lam, s, log_prob=compiled
        ),
    }
    runs: dict[str, list] = {name: [] for name in estimators}
    seconds: dict[str, list[float]] = {name: [] for name in estimators}
    for k in range(seeds):
        for name, estimate in estimators.items():  # alternating: load slows both alike
            begin = time.perf_counter()
            runs[name].append(estimate(fold_in(base, 100 + k)))
            seconds[name].append(time.perf_counter() - begin)
    return runs, seconds


def print_masses(runs: dict, seconds: dict, fixed: np.ndarray, chains: int, seeds: int) -> None:
    """The table of log-masses, a row per estimator and chain."""
    rows = []
    for name, estimates in runs.items():
        unchecked = np.stack([e.unchecked for e in estimates])  # [seeds, C]
        spread = unchecked.std(axis=0, ddof=1) if len(estimates) > 1 else np.full(chains, np.nan)
        first = estimates[0]
        relative = first.unchecked - np.nanmax(first.unchecked)
        moving = relative + fixed - np.nanmax(relative + fixed)
        for c in range(chains):
            rows.append(
                [
                    f"{name}, chain {c}",
                    f"{first.unchecked[c]:.1f}",
                    f"{first.unchecked_error[c]:.2g}",
                    f"{spread[c]:.2g}",
                    "refused" if first.refused[c] else "kept",
                    f"{first.gradient_term[c]:.1f}",
                    f"{first.climbed[c]:.1f}",
                    f"{relative[c]:.1f}",
                    f"{moving[c]:.1f}",
                    f"{np.median(seconds[name]):.1f}",
                ]
            )
    headers = [
        "estimate",
        "log Z",
        "error",
        "scatter",
        "mass",
        "gradient term",
        "climbed",
        "relative",
        "without kept prior",
        "s",
    ]
    print(format_table(headers, rows))
    print(
        f"log Z, error, gradient term, climbed: the first probe seed's (nats); scatter: over "
        f"{seeds} probe seeds; relative: to the heaviest facet; s: median seconds"
    )


def main() -> None:
    args = parse_args()

    from samplevis import param, zoo
    from samplevis.cli.shell import objective
    from samplevis.sampling.options import DEFAULT_IMAGE_SIZE

    size = QUICK_SIZE if args.quick else DEFAULT_IMAGE_SIZE
    opts = render_options(args.quick)
    chains = opts["num_chains"]
    default = QUICK_OBJECTIVE if args.quick else OBJECTIVE
    model, obj = zoo.efficientnet_lite0(), objective(args.objective or default)

    def image_param():
        return param.image(size, batch=chains)

    print(command_line())
    print(machine())
    result = None
    if args.temperature is None or args.prior_weight is None:
        result = rendered(model, obj, opts, image_param, args.seed)
        temperature, lam = result.temperature, result.prior_weight
    else:
        temperature, lam = args.temperature, args.prior_weight
    facet_image, target = facet_target(
        model, obj, opts, image_param, args.seed, result, temperature, lam
    )
    fixed = 0.5 * lam * facet_image.fixed_squared_norm()
    print(f"prior of the coefficients a facet keeps, lam |fixed|^2 / 2: {np.round(fixed, 1)}")
    runs, seconds = estimates_timed(target, facet_image, lam, args.seed, args.seeds)
    print(f"T {temperature:.4g}, lam {lam:.4g}, {facet_image.num_moving} moving coefficients")
    print(f"the prior of the coefficients each facet keeps: {np.round(fixed, 1).tolist()}")
    print_masses(runs, seconds, fixed, chains, args.seeds)
    if result is not None:
        print(f"render's log-masses (relative): {np.round(result.log_masses, 1).tolist()}")
        print(f"render's errors: {np.round(result.log_mass_errors, 2).tolist()}")


if __name__ == "__main__":
    main()
