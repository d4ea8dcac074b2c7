"""Whether the draws' tests name the chains that drift and only those: designs side by side on
chains whose answer is known (stationary AR(1) chains, the same with a planted climb or jump)
and on the README unit's own chains, long enough to see whether a chain named at its first 10
draws was drifting.

    python benchmarks/draws_tests.py                              # simulated chains only
    python benchmarks/draws_tests.py --runs OUT --seeds 0 1 2 3 4  # + the README unit's chains
    python benchmarks/draws_tests.py --quick                      # every code path, fast

Each design names a chain of 10 draws, after the 10 burn-in states at the draws' density and
spacing (the closing window's 20 steps, a draw every second step as `render` keeps them), by
split R-hat and a trend of its activation over the draws:

  today     limits of independent draws (R-hat one time in 300, |trend| 2.94 with its error
            widened by the ESS of the 10 draws), as before `mcmc/stationarity.py`
  own rho   AR(1) limits at each chain's lag-1 autocorrelation, measured over the closing
            window and the draws as one series about one line, mapped back through its bias
  pooled    the same with one autocorrelation per run of 4 chains (their mean)
  every 2nd today's tests on every second draw (10 draws over 20; twice the sampling)
  kept      `mcmc.stationarity`: the autocorrelation measured over the closing window and the
            draws, each about its own line; the limits of the slowest autocorrelation that
            measurement does not rule out (benchmarks/draws_calibration.py: the grouped limits
            of chains measured alike before 421c688)

Printed: the share of stationary chains named (target 1/300, and the chance that 20 chains all
pass, as the README command's seeds 0-4 have 20), the share of chains named with a planted climb
(in standard deviations over the draws) or a jump half way through, and with --runs, per seed
of `render` on the README unit with 100 draws (starts kept in OUT, the draws' activations saved
there): the chains named at their first 10 draws and in later windows of 10 (each after the 20
draws before it), where the chain had been sampling its density for 20-90 draws, and at their
first 40 draws by the kept tests, with each chain's ESS; and the kept tests on simulated chains
of 40 draws.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np

from samplevis.sampling.mcmc import stationarity
from samplevis.sampling.mcmc.diagnostics import ess_per_chain
from samplevis.sampling.mcmc.stationarity import FALSE_ALARM, split_rhat_per_chain

from common import command_line, format_table, machine

# the closing window at the draws' spacing, the README's draws, chains per run
BEFORE, DRAWS, GROUP = 10, 10, 4
STRIDE = 2  # burn-in steps per draw (`num_steps_between_results` 1)
README_UNIT = "block6a_expand_activation:301"
TODAY_TREND = 2.94  # the normal's two-sided quantile at 1 / 300


def ar1(rho: float, length: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """[length, count] stationary AR(1) chains of unit variance."""
    x = np.zeros((length + 50, count))
    x[0] = rng.standard_normal(count)
    for t in range(1, len(x)):
        x[t] = rho * x[t - 1] + np.sqrt(1 - rho**2) * rng.standard_normal(count)
    return x[50:]


def detrended(x: np.ndarray) -> np.ndarray:
    i = np.arange(len(x)) - (len(x) - 1) / 2
    c = x - x.mean(axis=0)
    return c - np.outer(i, i @ c / (i @ i))


def lag1(x: np.ndarray) -> np.ndarray:
    r = detrended(x)
    return np.sum(r[1:] * r[:-1], axis=0) / np.sum(r * r, axis=0)


def today(before: np.ndarray, draws: np.ndarray) -> np.ndarray:
    n = len(draws)
    i = np.arange(n) - (n - 1) / 2
    c = draws - draws.mean(axis=0)
    slope = i @ c / (i @ i)
    r = c - np.outer(i, slope)
    ess = np.clip(np.nan_to_num(ess_per_chain(r), nan=1.0), 1.0, n)
    z = slope / np.sqrt(np.sum(r**2, axis=0) / (n - 2) / (i @ i) * n / ess)
    return (np.abs(z) > TODAY_TREND) | (split_rhat_per_chain(draws) > iid_rhat_limit(n))


_IID: dict[int, float] = {}


def iid_rhat_limit(n: int) -> float:
    """Split R-hat that n independent draws exceed one time in 300 (today's limit)."""
    if n not in _IID:
        null = split_rhat_per_chain(np.random.default_rng(0).standard_normal((n, 6000)))
        _IID[n] = max(1.05, float(np.quantile(null, 1 - FALSE_ALARM)))
    return _IID[n]


class PlugIn:
    """AR(1) limits at an autocorrelation measured over the window and the draws as one series
    (mapped back through its bias); `pooled` takes one per run of GROUP chains."""

    GRID = np.linspace(0, 0.95, 20)

    def __init__(self, pooled: bool, sims: int) -> None:
        self.pooled = pooled
        rng = np.random.default_rng(0)
        i = np.arange(DRAWS) - (DRAWS - 1) / 2
        lags = np.abs(np.subtract.outer(np.arange(DRAWS), np.arange(DRAWS)))
        self.factor = np.array([i @ (r**lags) @ i for r in self.GRID]) / (i @ i) ** 2
        mean, trend, rhat = [], [], []
        for r in self.GRID:
            x = ar1(r, BEFORE + DRAWS, sims, rng)
            mean.append(lag1(x).mean())
            trend.append(np.quantile(np.abs(self.z(x[BEFORE:], np.full(sims, r))), 1 - FALSE_ALARM))
            rhat.append(np.quantile(split_rhat_per_chain(x[BEFORE:]), 1 - FALSE_ALARM))
        self.mean = np.maximum.accumulate(mean)
        self.trend = np.maximum.accumulate(trend)
        self.rhat = np.maximum.accumulate(rhat)

    def z(self, draws: np.ndarray, rho: np.ndarray) -> np.ndarray:
        n = len(draws)
        i = np.arange(n) - (n - 1) / 2
        c = draws - draws.mean(axis=0)
        slope = i @ c / (i @ i)
        var = np.sum((c - np.outer(i, slope)) ** 2, axis=0) / (n - 2)
        return slope / np.sqrt(var * np.interp(rho, self.GRID, self.factor))

    def __call__(self, before: np.ndarray, draws: np.ndarray) -> np.ndarray:
        measured = lag1(np.concatenate([before, draws]))
        if self.pooled:
            measured = np.repeat(measured.reshape(-1, GROUP).mean(axis=1), GROUP)
        rho = np.interp(measured, self.mean, self.GRID)
        return (np.abs(self.z(draws, rho)) > np.interp(rho, self.GRID, self.trend)) | (
            split_rhat_per_chain(draws) > np.interp(rho, self.GRID, self.rhat)
        )


def thinned(before: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Today's tests on every second of 2 * DRAWS steps."""
    return today(before, steps[::2])


def kept(before: np.ndarray, draws: np.ndarray) -> np.ndarray:
    rhat_limits, trend_limits = stationarity.limits(before, draws)
    return (split_rhat_per_chain(draws) > rhat_limits) | (
        np.abs(stationarity.trend_per_chain(draws)) > trend_limits
    )


def named(design, series: np.ndarray, thin: bool) -> float:
    """The share of chains `design` names; `series` holds BEFORE + 2 * DRAWS steps."""
    draws = series[BEFORE:] if thin else series[BEFORE : BEFORE + DRAWS]
    return float(np.mean(design(series[:BEFORE], draws)))


def simulated(designs: dict, chains: int, rng: np.random.Generator) -> None:
    rows = []
    for rho in (0.0, 0.3, 0.5, 0.6, 0.7, 0.8):
        x = ar1(rho, BEFORE + 2 * DRAWS, chains, rng)
        shares = [named(f, x, name == "every 2nd") for name, f in designs.items()]
        rows.append([f"stationary, rho {rho}"] + [f"{s:.3f} ({(1 - s) ** 20:.2f})" for s in shares])
    base = ar1(0.6, BEFORE + 2 * DRAWS, chains, rng)
    t = np.arange(BEFORE + 2 * DRAWS)[:, None]
    for climb in (4, 8, 16):
        # the same slope per step through the window and every step after it
        x = base + climb * (t - BEFORE) / DRAWS
        rows.append(
            [f"climb {climb} sd over the draws"]
            + [f"{named(f, x, name == 'every 2nd'):.2f}" for name, f in designs.items()]
        )
    for climb in (8, 16):
        # a climb that begins with the draws, after a settled window
        x = base + climb * np.clip(t - BEFORE, 0, None) / DRAWS
        rows.append(
            [f"climb {climb} sd from the draws on"]
            + [f"{named(f, x, name == 'every 2nd'):.2f}" for name, f in designs.items()]
        )
    for jump in (2, 4, 8):
        x = base + jump * (t >= BEFORE + DRAWS // 2)
        rows.append(
            [f"jump {jump} sd half way"]
            + [f"{named(f, x, name == 'every 2nd'):.2f}" for name, f in designs.items()]
        )
    print(f"Named: the share of {chains} chains (stationary ones: and the chance that 20 all pass)")
    print(format_table(["chains", *designs], rows))


def least(before: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """The least limits on every chain, whatever its autocorrelation: split R-hat over
    `rhat_limit(n)` or |trend| over the least autocorrelated chains' trend limit (the bar of
    independent draws)."""
    n = len(draws)
    return (split_rhat_per_chain(draws) > stationarity.rhat_limit(n)) | (
        np.abs(stationarity.trend_per_chain(draws)) > stationarity.null_limits(n, 0).trend[0]
    )


def forty(chains: int, rng: np.random.Generator) -> None:
    """Over 40 draws, the kept tests and the least limits: settled chains named (up to and past
    the simulated autocorrelations' end, 0.85; with the chance that 12 all pass, as 3 seeds of 4
    chains), and chains of autocorrelation 0.6 with a climb or a jump."""
    n = 4 * DRAWS
    t = np.arange(BEFORE + n)[:, None]
    tests = {"kept": kept, "least limits": least}
    rows = []
    for rho in (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9):
        x = ar1(rho, BEFORE + n, chains, rng)
        shares = [np.mean(f(x[:BEFORE], x[BEFORE:])) for f in tests.values()]
        rows.append([f"stationary, rho {rho}"] + [f"{s:.3f} ({(1 - s) ** 12:.2f})" for s in shares])
    base = ar1(0.6, BEFORE + n, chains, rng)
    climb = base + 8 * np.clip(t - BEFORE, 0, None) / n
    jump = base + 4 * (t >= BEFORE + n // 2)
    for name, x in (("climb 8 sd from the draws on", climb), ("jump 4 sd half way", jump)):
        rows.append([name] + [f"{np.mean(f(x[:BEFORE], x[BEFORE:])):.2f}" for f in tests.values()])
    print(
        f"Over {n} draws: the share of {chains} chains named (stationary ones: and the chance "
        f"that 12 all pass); the least limits: split R-hat {stationarity.rhat_limit(n):.2f}, "
        f"trend {stationarity.null_limits(n, 0).trend[0]:.2f}"
    )
    print(format_table(["chains", *tests], rows))


def long_runs(folder: str, seeds: list[int], draws: int) -> dict[int, dict[str, np.ndarray]]:
    """Per seed, the README unit's activations over burn-in and `draws` draws (made once and
    kept in `folder`)."""
    from draws_at_target import reuse_starts

    os.makedirs(folder, exist_ok=True)
    out: dict[int, dict[str, np.ndarray]] = {}
    seed_of: dict[str, int] = {}
    model = None
    for seed in seeds:
        path = os.path.join(folder, f"activations_{draws}_seed{seed}.npz")
        if not os.path.exists(path):
            import samplevis
            from samplevis import zoo

            if model is None:
                reuse_starts(folder, README_UNIT, seed_of)
                model = zoo.efficientnet_lite0()
            seed_of["seed"] = seed
            began = time.perf_counter()
            result = samplevis.render(
                model, README_UNIT, hmc_opts=dict(num_results=draws), seed=seed, progress=False
            )
            print(f"seed {seed}: {draws} draws in {time.perf_counter() - began:.0f} s")
            np.savez(path, draws=result.activations, burnin=result.burnin_activations)
        with np.load(path) as saved:
            out[seed] = {k: saved[k].astype(np.float64) for k in saved}
    return out


def window(burnin: np.ndarray) -> np.ndarray:
    """[BEFORE, C]: the last burn-in states at the draws' spacing, the last one STRIDE steps
    before the first draw."""
    return burnin[::-1][: STRIDE * BEFORE : STRIDE][::-1]


def real(designs: dict, runs: dict[int, dict[str, np.ndarray]]) -> None:
    rows = []
    for seed, run in runs.items():
        d, b = run["draws"], run["burnin"]
        first = [
            np.flatnonzero(f(window(b), d[: 2 * DRAWS if n == "every 2nd" else DRAWS]))
            for n, f in designs.items()
        ]
        later = []
        for name, f in designs.items():
            span = 2 * DRAWS if name == "every 2nd" else DRAWS
            starts = range(BEFORE, len(d) - span + 1, DRAWS)
            hits = sum(int(f(d[k - BEFORE : k], d[k : k + span]).sum()) for k in starts)
            later.append(f"{hits}/{len(starts) * d.shape[1]}")
        rows.append([seed, *(str(c.tolist()) for c in first), *later])
    longer = []
    for seed, run in runs.items():
        d, b = run["draws"][:40], run["burnin"]
        ess = ", ".join(f"{e:.1f}" for e in ess_per_chain(d))
        longer.append([seed, str(np.flatnonzero(kept(window(b), d)).tolist()), ess])
    print("The README unit's chains: named at their first draws, and in later windows")
    print(
        format_table(
            ["seed", *(f"first: {n}" for n in designs), *(f"later: {n}" for n in designs)], rows
        )
    )
    print("Their first 40 draws by the kept tests: chains named, and each chain's ESS")
    print(format_table(["seed", "named", "ESS per chain"], longer))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", default=None, help="folder for the README unit's long runs")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--draws", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="a smoke run; figures mean nothing")
    args = parser.parse_args()
    print(command_line())
    print(machine())
    sims = 300 if args.quick else 6000
    designs = {
        "today": today,
        "own rho": PlugIn(pooled=False, sims=sims),
        "pooled": PlugIn(pooled=True, sims=sims),
        "every 2nd": thinned,
        "kept": kept,
    }
    simulated(designs, 400 if args.quick else 4000, np.random.default_rng(123))
    forty(400 if args.quick else 4000, np.random.default_rng(124))
    if args.runs:
        real(designs, long_runs(args.runs, args.seeds, args.draws))


if __name__ == "__main__":
    main()
