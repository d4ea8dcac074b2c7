"""How the draws' tests' limits are calibrated: designs side by side on one simulation, each
judged by how often it names settled chains at every autocorrelation a run meets and by the
drifts it still catches.

    python benchmarks/draws_calibration.py            # 10, 20, 40 and 80 draws; a few minutes
    python benchmarks/draws_calibration.py --draws 10 40 --quick

Settled chains are stationary AR(1) chains of unit variance after a window of 10 states at the
draws' density (the README run's), as `mcmc/power.py` plants them. A chain is named when its
split R-hat or its trend (`stationarity.trend_per_chain`) exceeds its limit; the designs set
the limits from the same simulated settled chains (20000 per autocorrelation, seed 0), and
differ in how a chain's measured lag-1 autocorrelation (`stationarity.lag1`, over the window
and the draws) picks its limits:

  pooled 0.85   chains of autocorrelation 0-0.85 pooled, grouped by the autocorrelation
                measured on them (20 groups); each group's 1-in-300 quantiles (before)
  pooled 0.95   the same over 0-0.95
  worst cell    grouped alike over 0-0.9, but each group's limit is the largest of the
                1-in-300 quantiles of the chains of each true autocorrelation that land in it
                (cells of at least 200 chains): conservative for every autocorrelation
  matched       grouped alike over 0-0.9; each group's quantile level lowered (from 1 in 100,
                a step of 1.25 at a time, in the group where the worst autocorrelation's named
                chains gather) until no autocorrelation's chains are named more than 0.6 %
  HAC           the trend over a Newey-West standard error (Bartlett, 4 lags, autocovariances
                from the window and the draws, each about its own line), one limit: the largest
                1-in-300 quantile over 0-0.9; split R-hat as in "worst cell"
  slowest       `mcmc.stationarity` (kept): each autocorrelation's own 1-in-400 quantiles over
                0-0.9; a chain measured at r gets those of the slowest autocorrelation whose
                settled chains measure r or lower at least 1 time in 40

Printed per design and draws: the share of fresh settled chains named (4000 each, seed 99;
target at most 0.01 at every autocorrelation; its binomial spread at 0.01 is 0.0016), the least
steady drift named 4 times in 5 at 0.3, 0.6 and 0.85 (sd over the draws, on `power`'s grid 26 %
apart, 1000 chains a size) and the share of random walks of spread 64 named at 0.6.

Then the pooled test (`power.pooled_trend`: the chains' trends summed over their settled
spread, limit 2.94), on runs of 4 chains, two designs of the spread that scales the sum:

  own measurement   each chain's trend spread where its own measurement reads (settled chains
                    of 0-0.85 grouped by measured autocorrelation, 20 groups; before)
  joint (kept)      one spread for the run's chains: that at the slowest autocorrelation their
                    joint measurement (`stationarity.joint_lag1`) does not rule out (1 in 40)

Printed per design and draws: the share of settled runs named (2000 runs each, seed 7; target
at most 0.01) at each autocorrelation, and of runs whose 4 chains all fall 3 or 6 sd over the
draws at 0.6 and 0.85 (500 runs each, seed 6).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Callable
from statistics import NormalDist

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np

from samplevis.sampling.mcmc import power, stationarity

from common import command_line, format_table, machine

BEFORE = 10
ALPHA = 1 / 300
BINS = 20
MIN_CELL = 200
MATCHED = 0.006  # the most any autocorrelation's simulated chains are named, 'matched'
HAC_LAGS = 4
SETTLED_RHOS = (0.0, 0.3, 0.6, 0.8, 0.85, 0.9)
POWER_RHOS = (0.3, 0.6, 0.85)
GRID = np.round(np.arange(0.0, 0.951, 0.05), 2)  # every design's autocorrelations are among these


@dataclasses.dataclass
class Stats:
    """Per chain: measured lag-1 autocorrelation, split R-hat, trend, HAC trend, and whether
    the kept design (`mcmc.stationarity`) names it (fresh chains only)."""

    found: np.ndarray
    rhat: np.ndarray
    trend: np.ndarray
    hac: np.ndarray
    kept: np.ndarray

    def take(self, keep: np.ndarray) -> Stats:
        return Stats(*(getattr(self, f.name)[keep] for f in dataclasses.fields(self)))


def hac_trend(before: np.ndarray, draws: np.ndarray, lags: int = HAC_LAGS) -> np.ndarray:
    """The least-squares slope of draws [n, C] over a Newey-West standard error [C]: Bartlett
    weights over `lags` lags of autocovariances pooled over `before` and the draws, each about
    its own line."""
    n = draws.shape[0]
    index = np.arange(n) - (n - 1) / 2
    s = index @ index
    slope = index @ (draws - draws.mean(axis=0)) / s
    gamma = np.zeros((lags + 1, *draws.shape[1:]))
    values = 0
    for part in (before, draws):
        if part.shape[0] >= 3:
            e = stationarity.detrended(part)
            values += part.shape[0]
            for lag in range(lags + 1):
                gamma[lag] += np.sum(e[lag:] * e[: len(e) - lag], axis=0)
    gamma /= values
    v = gamma[0] * s
    for lag in range(1, min(lags, n - 1) + 1):
        v = v + 2 * (1 - lag / (lags + 1)) * gamma[lag] * np.sum(index[lag:] * index[:-lag])
    v = np.maximum(v, 1e-3 * gamma[0] * s)
    with np.errstate(invalid="ignore", divide="ignore"):
        return slope / np.sqrt(v / s**2)


def stats(before: np.ndarray, draws: np.ndarray, kept: bool = False) -> Stats:
    rhat = stationarity.split_rhat_per_chain(draws)
    trend = stationarity.trend_per_chain(draws)
    named = np.zeros(draws.shape[1], bool)
    if kept:
        rhat_limits, trend_limits = stationarity.limits(before, draws)
        with np.errstate(invalid="ignore"):
            named = (rhat > rhat_limits) | (np.abs(trend) > trend_limits)
    return Stats(
        found=stationarity.lag1(before, draws),
        rhat=rhat,
        trend=trend,
        hac=hac_trend(before, draws),
        kept=named,
    )


def simulate(n: int, count: int) -> dict[float, Stats]:
    """Settled chains of every autocorrelation on GRID: the designs' common simulation."""
    rng = np.random.default_rng(0)
    out = {}
    for rho in GRID:
        series = stationarity.ar1(float(rho), BEFORE + n, count, rng)
        st = stats(series[:BEFORE], series[BEFORE:])
        out[float(rho)] = st.take(np.isfinite(st.found))
    return out


def upper(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(np.quantile(x, 1 - ALPHA)) if len(x) else np.nan


Named = Callable[[Stats], np.ndarray]


def binned(sim: dict[float, Stats], top: float, worst: bool) -> Named:
    """Limits by measured autocorrelation, in groups of the pooled chains of 0..top."""
    kept = {rho: st for rho, st in sim.items() if rho <= top + 1e-9}
    parts = list(kept.values())
    rhos = np.concatenate([np.full(len(st.found), rho) for rho, st in kept.items()])
    found = np.concatenate([st.found for st in parts])
    rhat = np.concatenate([st.rhat for st in parts])
    trend = np.abs(np.concatenate([st.trend for st in parts]))
    groups = np.array_split(np.argsort(found), BINS)
    centres = np.array([np.median(found[g]) for g in groups])
    limits: dict[str, list[float]] = {"rhat": [], "trend": []}
    for g in groups:
        for name, values in (("rhat", rhat[g]), ("trend", trend[g])):
            if worst:
                cells = [values[rhos[g] == r] for r in np.unique(rhos[g])]
                big = [c for c in cells if len(c) >= MIN_CELL] or [values]
                limits[name].append(max(upper(c) for c in big))
            else:
                limits[name].append(upper(values))
    rl = np.maximum(stationarity.RHAT_LIMIT, np.maximum.accumulate(limits["rhat"]))
    tl = np.maximum.accumulate(limits["trend"])

    return by_measurement(centres, rl, tl)


def by_measurement(centres: np.ndarray, rhat: np.ndarray, trend: np.ndarray) -> Named:
    """Names a chain whose split R-hat or |trend| is over the limits `rhat` and `trend` [B] given
    at the measured autocorrelations `centres` [B], read at the chain's own measurement."""

    def named(st: Stats) -> np.ndarray:
        at = np.nan_to_num(st.found)
        with np.errstate(invalid="ignore"):
            return (st.rhat > np.interp(at, centres, rhat)) | (
                np.abs(st.trend) > np.interp(at, centres, trend)
            )

    return named


def matched(sim: dict[float, Stats], top: float, step: float = 1.25) -> Named:
    """Groups by measured autocorrelation; each group's quantile level lowered in turn where
    the worst autocorrelation's named chains gather, until none is named above MATCHED."""
    kept = {rho: st for rho, st in sim.items() if rho <= top + 1e-9}
    which = np.concatenate([np.full(len(st.found), k) for k, st in enumerate(kept.values())])
    found = np.concatenate([st.found for st in kept.values()])
    rhat = np.concatenate([st.rhat for st in kept.values()])
    rhat = np.where(np.isfinite(rhat), rhat, np.inf)
    trend = np.abs(np.concatenate([st.trend for st in kept.values()]))
    groups = np.array_split(np.argsort(found), BINS)
    centres = np.array([np.median(found[g]) for g in groups])
    home = np.empty(len(found), int)
    for b, g in enumerate(groups):
        home[g] = b
    sorted_rhat = [np.sort(rhat[g]) for g in groups]
    sorted_trend = [np.sort(trend[g]) for g in groups]
    level = np.full(BINS, 1 / 100)
    least = 1 / 20000

    def tables() -> tuple[np.ndarray, np.ndarray]:
        def q(values: np.ndarray, a: float) -> float:
            return values[min(len(values) - 1, int(np.ceil((1 - a) * len(values))))]

        rhat_q = [q(sorted_rhat[b], level[b]) for b in range(BINS)]
        trend_q = [q(sorted_trend[b], level[b]) for b in range(BINS)]
        rl = np.maximum(stationarity.RHAT_LIMIT, np.maximum.accumulate(rhat_q))
        return rl, np.maximum.accumulate(trend_q)

    counts = np.bincount(which)
    for _ in range(5000):
        rl, tl = tables()
        named = (rhat > np.interp(found, centres, rl)) | (trend > np.interp(found, centres, tl))
        rate = np.bincount(which, weights=named) / counts
        worst = int(np.argmax(rate))
        if rate[worst] <= MATCHED:
            break
        hot = np.bincount(home[named & (which == worst)], minlength=BINS).astype(float)
        hot[level <= least] = -1
        b = int(np.argmax(hot))
        level[b] = max(least, level[b] / step)
    rl, tl = tables()

    return by_measurement(centres, rl, tl)


def hac(sim: dict[float, Stats], top: float) -> Named:
    rhat_part = binned(sim, top, worst=True)
    limit = max(upper(np.abs(sim[r].hac)) for r in sim if r <= top + 1e-9)

    def named(st: Stats) -> np.ndarray:
        no_trend = dataclasses.replace(st, trend=np.zeros_like(st.trend))
        with np.errstate(invalid="ignore"):
            return rhat_part(no_trend) | (np.abs(st.hac) > limit)

    return named


DESIGNS: dict[str, Callable[[dict[float, Stats]], Named]] = {
    "pooled 0.85 (before)": lambda sim: binned(sim, 0.85, worst=False),
    "pooled 0.95": lambda sim: binned(sim, 0.95, worst=False),
    "worst cell 0.9": lambda sim: binned(sim, 0.9, worst=True),
    "matched 0.9": lambda sim: matched(sim, 0.9),
    "HAC 0.9": lambda sim: hac(sim, 0.9),
}
KEPT = "slowest 0.9 (kept)"


def planted_stats(kind: str, size: float, rho: float, n: int, count: int, seed: int) -> Stats:
    series = power.planted(kind, size, rho, BEFORE, n, count, seed)
    return stats(series[:BEFORE], series[BEFORE:], kept=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--draws", type=int, nargs="+", default=[10, 20, 40, 80])
    parser.add_argument("--quick", action="store_true", help="fewer chains: every code path")
    args = parser.parse_args()
    print(command_line())
    print(machine())
    count, fresh, per_size = (1000, 300, 100) if args.quick else (20000, 4000, 1000)
    rows = []
    for n in args.draws:
        sim = simulate(n, count)
        designs = {name: make(sim) for name, make in DESIGNS.items()}
        designs[KEPT] = lambda st: st.kept
        settled = {rho: planted_stats("steady", 0.0, rho, n, fresh, 99) for rho in SETTLED_RHOS}
        caught = {}
        for rho in POWER_RHOS:
            by_size = [
                planted_stats("steady", float(k), rho, n, per_size, seed=i)
                for i, k in enumerate(power.SIZES)
            ]
            for name, named in designs.items():
                rates = np.array([named(st).mean() for st in by_size])
                hit = np.flatnonzero(rates >= power.POWER)
                caught[name, rho] = f"{power.SIZES[hit[0]]:.1f}" if len(hit) else "inf"
        walk = planted_stats("random walk", 64.0, 0.6, n, fresh, 99)
        for name, named in designs.items():
            rows.append(
                [
                    name,
                    n,
                    *(f"{named(settled[rho]).mean():.4f}" for rho in SETTLED_RHOS),
                    *(caught[name, rho] for rho in POWER_RHOS),
                    f"{named(walk).mean():.3f}",
                ]
            )
        print(f"draws {n}: done", flush=True)
    rows.sort(key=lambda r: ([*DESIGNS, KEPT].index(r[0]), r[1]))
    print(
        format_table(
            [
                "design",
                "draws",
                *(f"settled {rho}" for rho in SETTLED_RHOS),
                *(f"steady caught at {rho} (sd)" for rho in POWER_RHOS),
                "walk 64 at 0.6",
            ],
            rows,
        )
    )
    print(
        f"settled: shares named among {fresh} chains each (seed 99); caught: the least size on "
        f"power's grid named in {power.POWER:.0%} of {per_size} chains; walk: {fresh} chains"
    )
    print_pooled(args.draws, args.quick)


RUN = 4  # chains of a run, as the README's
POOLED_LIMIT = NormalDist().inv_cdf(1 - power.POOLED_FALSE_ALARM / 2)
FALLS = ((3.0, 0.6), (3.0, 0.85), (6.0, 0.6), (6.0, 0.85))


def own_measurement(n: int) -> Callable[[np.ndarray, np.ndarray], float]:
    """The pooled test before: each chain's trend scaled by the spread of settled chains
    measured as autocorrelated as it (0-0.85, 20 groups by measurement)."""
    rng = np.random.default_rng(1)
    found, trend = [], []
    for rho in np.linspace(0.0, 0.85, 18):
        series = stationarity.ar1(float(rho), BEFORE + n, 4000, rng)
        found.append(stationarity.lag1(series[:BEFORE], series[BEFORE:]))
        trend.append(stationarity.trend_per_chain(series[BEFORE:]))
    found_all, trend_all = np.concatenate(found), np.concatenate(trend)
    keep = np.isfinite(found_all) & np.isfinite(trend_all)
    order = np.array_split(np.argsort(found_all[keep]), 20)
    centres = np.array([np.median(found_all[keep][b]) for b in order])
    spread = np.maximum.accumulate([np.std(trend_all[keep][b]) for b in order])

    def pooled(before: np.ndarray, draws: np.ndarray) -> float:
        sd = np.interp(stationarity.lag1(before, draws), centres, spread)
        return float(np.sum(stationarity.trend_per_chain(draws)) / np.sqrt(np.sum(sd**2)))

    return pooled


def pooled_rows(draws: list[int], runs: int) -> list[list]:
    """A row per design and draws: the shares of settled and of falling runs named."""
    rows = []
    for n in draws:
        designs = {
            "own measurement": own_measurement(n),
            "joint (kept)": lambda b, d: power.pooled_trend(b, d)[0],
        }
        settled = {
            rho: power.planted("steady", 0.0, rho, BEFORE, n, runs * RUN, seed=7)
            for rho in SETTLED_RHOS
        }
        falling = {
            case: power.planted("steady", -case[0], case[1], BEFORE, n, runs // 4 * RUN, seed=6)
            for case in FALLS
        }
        for name, named in designs.items():
            rows.append(
                [
                    name,
                    n,
                    *(_share(named, settled[rho]) for rho in SETTLED_RHOS),
                    *(_share(named, falling[case]) for case in FALLS),
                ]
            )
    return rows


def _share(named: Callable[[np.ndarray, np.ndarray], float], series: np.ndarray) -> str:
    """The share of the runs of RUN chains side by side in `series` whose pooled trend is
    beyond the pooled limit."""
    z = [
        named(series[:BEFORE, k : k + RUN], series[BEFORE:, k : k + RUN])
        for k in range(0, series.shape[1], RUN)
    ]
    return f"{np.mean(np.abs(z) > POOLED_LIMIT):.4f}"


def print_pooled(draws: list[int], quick: bool) -> None:
    runs = 200 if quick else 2000
    rows = pooled_rows(draws, runs)
    print()
    print(
        format_table(
            [
                "pooled test",
                "draws",
                *(f"settled {rho}" for rho in SETTLED_RHOS),
                *(f"fall {size:.0f} sd at {rho}" for size, rho in FALLS),
            ],
            rows,
        )
    )
    print(
        f"shares of runs of {RUN} chains named: settled {runs} runs each (seed 7), falling "
        f"{runs // 4} (seed 6)"
    )


if __name__ == "__main__":
    main()
