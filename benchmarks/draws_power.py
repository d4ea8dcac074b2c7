"""What the draws' tests catch: their power at the run's draws and autocorrelation, simulated
with the run's own tests (`mcmc/power.py`: `stationarity.limits`, `split_rhat_per_chain` and
`trend_per_chain`, as `diagnostics.diagnose` calls them).

    python benchmarks/draws_power.py                # 10, 20, 40 and 80 draws; a few minutes
    python benchmarks/draws_power.py --draws 10 40 --quick

Every chain is stationary AR(1) noise of unit variance at lag-1 autocorrelation rho, after a
window of 10 states at the draws' density (the README run's 20 steps, a draw every second
step), plus a planted drift over the draws (`power.planted`):

  settled       no drift: the share named (target: at most 0.01 at every autocorrelation up to
                the limits' last, 0.9; the binomial spread of a share of 0.01 among 4000
                chains is 0.0016)
  steady k sd   a straight climb of k standard deviations over the draws, begun before the
                window: the share named, and the least k named 4 times in 5 (`caught_size`,
                what a passing run states)
  settling      an exponential approach, falling k sd over the draws: the least k named 4 in 5
  random walk   Gaussian steps of spread k over the draws: the share named at k = 8 and 64
  draws for 2   the fewest draws (doubling, at most 320) at which a 2 sd steady drift is named
                4 times in 5 (`draws_to_catch`): where a run may call its chains stationary
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from samplevis.sampling.mcmc import power

from common import command_line, format_table, machine

BEFORE = 10
RHOS = (0.0, 0.3, 0.6, 0.85, 0.9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--draws", type=int, nargs="+", default=[10, 20, 40, 80])
    parser.add_argument("--quick", action="store_true", help="one autocorrelation, no ladder")
    args = parser.parse_args()
    print(command_line())
    print(machine())
    rhos = (0.6,) if args.quick else RHOS
    count = 500 if args.quick else 4000
    rows = []
    for rho in rhos:
        for n in args.draws:

            def rate(kind: str, size: float, n: int = n, rho: float = rho) -> str:
                return f"{power.named_rate(kind, size, rho, n, BEFORE, count, seed=99):.3f}"

            def least(kind: str, n: int = n, rho: float = rho) -> str:
                return f"{power.caught_size(rho, n, BEFORE, kind):.1f}"

            ladder = "-" if args.quick else power.draws_to_catch(rho, n, BEFORE)
            rows.append(
                [
                    f"{rho:.2f}",
                    n,
                    rate("steady", 0.0),
                    rate("steady", 2.0),
                    rate("steady", 4.0),
                    rate("steady", 8.0),
                    least("steady"),
                    least("settling"),
                    rate("random walk", 8.0),
                    rate("random walk", 64.0),
                    "> 320" if ladder is None else ladder,
                ]
            )
    print(
        format_table(
            [
                "rho",
                "draws",
                "settled",
                "steady 2 sd",
                "4 sd",
                "8 sd",
                "steady caught 4/5 (sd)",
                "settling caught (sd)",
                "walk 8",
                "walk 64",
                "draws for 2 sd",
            ],
            rows,
        )
    )
    print(
        f"shares named among {count} chains each (seed 99); the least sizes on a grid 26 % "
        f"apart, {power.SIMULATED_CHAINS} chains a size; a run says 'stationary' only where the "
        f"steady size is at most {power.STATIONARY_SIZE:.0f}"
    )


if __name__ == "__main__":
    main()
