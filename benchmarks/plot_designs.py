"""docs/pattern_designs.png: each sampling design measured on each benchmark channel as a point of
structural share against activation kept, labelled with its time over `render_vis`'s, from the
table docs/pattern_designs.csv (its rows come from `sampling_targets.py` runs; see
docs/sampling_designs.md, "Patterns that move").

    python benchmarks/plot_designs.py
"""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (the backend first, for machines without a screen)

DOCS = Path(__file__).resolve().parent.parent / "docs"
MARKERS = {"block3a": "o", "block5a": "s", "block6a": "^"}


def main() -> None:
    with open(DOCS / "pattern_designs.csv") as f:
        rows = list(csv.DictReader(f))
    figure, axes = plt.subplots(figsize=(7, 4.5), dpi=100)
    designs = sorted({row["design"] for row in rows}, key=[r["design"] for r in rows].index)
    colours = dict(zip(designs, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    for row in rows:
        x, y = float(row["activation"]), float(row["share"])
        axes.scatter(x, y, color=colours[row["design"]], marker=MARKERS[row["channel"]], s=50)
        axes.annotate(f"{float(row['time']):.1f}x", (x, y), (4, 3), textcoords="offset points")
    for design in designs:
        axes.scatter([], [], color=colours[design], label=design)
    for channel, marker in MARKERS.items():
        axes.scatter([], [], color="grey", marker=marker, label=channel)
    axes.axhline(0.25, color="grey", lw=0.8, ls="--")
    axes.axvline(0.7, color="grey", lw=0.8, ls="--")
    axes.set_xlabel("activation kept (median sample / starts' mean)")
    axes.set_ylabel("structural share")
    axes.set_title("Patterns that move: targets share >= 0.25 at activation >= 0.7", fontsize=10)
    axes.legend(fontsize=7, loc="upper left")
    figure.tight_layout()
    figure.savefig(DOCS / "pattern_designs.png")
    print(DOCS / "pattern_designs.png")


if __name__ == "__main__":
    main()
