"""docs/walk_designs.png: each design of the walk between basins measured on one channel, as a
point of new patterns per second (a whole `render` call) against the samples' median
activation over `render_vis`'s at 512 steps, labelled with its new patterns of 40 and its
speed over multi-seed `render_vis` at equal activation, from the table docs/walk_designs.csv
(its rows come from `sampling_targets.py --designs FILE --csv docs/walk_designs.csv` runs; see
docs/sampling_designs.md, "The walk").

    python benchmarks/plot_walk.py
"""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (the backend first, for machines without a screen)

DOCS = Path(__file__).resolve().parent.parent / "docs"


def main() -> None:
    with open(DOCS / "walk_designs.csv") as f:
        rows = list(csv.DictReader(f))
    figure, axes = plt.subplots(figsize=(8, 5), dpi=100)
    for row in rows:
        x, y = float(row["high"]), float(row["new_per_second"])
        axes.scatter(x, y, s=40)
        axes.annotate(
            f"{row['design']} ({row['new']}/40, {float(row['fast_x']):.2f}x)",
            (x, y),
            textcoords="offset points",
            xytext=(5, 4),
            fontsize=8,
        )
    axes.axvline(0.85, color="grey", linestyle=":", linewidth=1)
    axes.set_xlabel("median sample activation / render_vis's at 512 steps (target >= 0.85)")
    axes.set_ylabel("new patterns per second of render")
    axes.set_title(", ".join(sorted({row["objective"] for row in rows})))
    figure.tight_layout()
    figure.savefig(DOCS / "walk_designs.png")
    print(DOCS / "walk_designs.png")


if __name__ == "__main__":
    main()
