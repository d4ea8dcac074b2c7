"""docs/pattern_designs.png: each sampling design measured on each benchmark channel as a point of
structural share (left) and registered share (right, where measured) against activation kept,
labelled with its time over `render_vis`'s where measured, from the table
docs/pattern_designs.csv (its rows come from `sampling_targets.py` runs; see
docs/sampling_designs.md, "The chain's state").

    python benchmarks/plot_designs.py
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (the backend first, for machines without a screen)

DOCS = Path(__file__).resolve().parent.parent / "docs"
MARKERS = {"block3a": "o", "block5a": "s", "block6a": "^"}
# the range over the benchmark channels of each share of a copy bent by 2 px (docs/sampling_designs.md)
BENT_2PX = {"share": (0.57, 0.74), "registered": (0.10, 0.18)}


def main() -> None:
    # no flags: the parser answers --help with the docstring
    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args()
    with open(DOCS / "pattern_designs.csv") as f:
        rows = list(csv.DictReader(f))
    figure, (plain, registered) = plt.subplots(1, 2, figsize=(13, 4.8), dpi=100, sharex=True)
    designs = sorted({row["design"] for row in rows}, key=[r["design"] for r in rows].index)
    colours = {design: plt.get_cmap("tab20")(i % 20) for i, design in enumerate(designs)}
    for axes, column in ((plain, "share"), (registered, "registered")):
        for row in rows:
            if not row[column]:
                continue
            x, y = float(row["activation"]), float(row[column])
            colour, marker = colours[row["design"]], MARKERS[row["channel"]]
            axes.scatter(x, y, color=colour, marker=marker, s=50)
            if row["time"]:
                axes.annotate(
                    f"{float(row['time']):.1f}x", (x, y), (4, 3), textcoords="offset points"
                )
        axes.axvline(0.7, color="grey", lw=0.8, ls="--")
        axes.set_xlabel("activation kept (median sample / starts' mean)")
    # what each share gives copies of the references bent by 2 px (sampling_targets.py's columns)
    plain.axhspan(*BENT_2PX["share"], color="red", alpha=0.12, label="a copy bent by 2 px")
    registered.axhspan(*BENT_2PX["registered"], color="red", alpha=0.12)
    plain.axhline(0.25, color="grey", lw=0.8, ls="--")
    plain.set_ylabel("structural share")
    registered.set_ylabel("registered share (bends taken out)")
    plain.set_title("Structural share: targets >= 0.25 at activation >= 0.7", fontsize=10)
    registered.set_title("The same runs once bends are taken out", fontsize=10)
    for design in designs:
        plain.scatter([], [], color=colours[design], label=design)
    for channel, marker in MARKERS.items():
        plain.scatter([], [], color="grey", marker=marker, label=channel)
    figure.tight_layout(rect=(0, 0, 0.8, 1))
    figure.legend(*plain.get_legend_handles_labels(), fontsize=7, loc="center right")
    figure.savefig(DOCS / "pattern_designs.png")
    print(DOCS / "pattern_designs.png")


if __name__ == "__main__":
    main()
