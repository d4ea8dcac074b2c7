"""Figures of a `SampleResult`: the activation's trace over the run's phases, and the samples.

matplotlib is an optional extra (`pip install 'samplevis[plot]'`), imported only here. The
figures are `matplotlib.figure.Figure`s made without pyplot, so nothing global (backend,
current figure) changes: a notebook shows one returned as the cell's value, `fig.savefig`
writes it (PNG through Agg, no display needed), and `ax=` draws into a pyplot axes instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from samplevis.sampling.report import pictures

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from samplevis.optvis.processing_check import ProcessingCheck
    from samplevis.sampling.report.run import Run

# Shading of the phases, light enough for the chains' lines to read over it.
PHASE_COLORS = {"burn-in, adapting T": "#fde2c4", "burn-in": "#e3e3e3", "sampling": "#d4ecd4"}


def _figure(ax: Axes) -> Figure:
    """The Figure `ax` draws in (a subfigure's own Figure)."""
    figure = ax.figure
    return figure if figure is figure.figure else figure.figure


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            "the plots need matplotlib: pip install 'samplevis[plot]' (or pip install matplotlib)."
        ) from None
    if ax is not None:
        return ax
    return Figure(figsize=figsize, layout="constrained").add_subplot()


def phases(result: Run) -> list[tuple[str, float, float]]:
    """(name, first step, last step) of each phase the run went through, in MCMC steps from
    the chains' starts at 0; phases without steps are left out."""
    tuning = result.tuning_steps
    burnin = result.burnin_activations.shape[0]
    sampling = result.activations.shape[0] * _steps_per_sample(result)
    spans = [
        ("burn-in, adapting T", 0, tuning),
        ("burn-in", tuning, burnin),
        ("sampling", burnin, burnin + sampling),
    ]
    return [(name, float(start), float(end)) for name, start, end in spans if end > start]


def _steps_per_sample(result: Run) -> int:
    return result.options.num_steps_between_results + 1


def trace_steps(result: Run) -> tuple[np.ndarray, np.ndarray]:
    """(steps [S], activations [S, C]): each chain's start at step 0, every step of burn-in, then each kept sample at the step it was drawn."""
    burnin = result.burnin_activations.shape[0]
    kept = result.activations.shape[0]
    steps = np.concatenate(
        [
            np.arange(burnin + 1),
            burnin + _steps_per_sample(result) * np.arange(1, kept + 1),
        ]
    ).astype(np.float64)
    values = np.concatenate(
        [result.init_activations[None], result.burnin_activations, result.activations]
    ).astype(np.float64)
    return steps, values


def plot_trace(result: Run, ax: Axes | None = None) -> Figure:
    """Each chain's activation (one line per chain) over the MCMC steps: its start at step
    0, burn-in adapting T, burn-in at the frozen T and sampling, each phase shaded and named at
    the top.

    Args:
        result: a run, as `samplevis.render` returns it (a `SampleResult`).
        ax: a Matplotlib Axes to draw into; None: a new Figure's.

    Returns:
        The Figure (of `ax` when given).

    Examples:
        ```python
        result = samplevis.render(model, obj, hmc_opts=dict(num_results=10), seed=0)
        samplevis.plot_trace(result).savefig("trace.png")
        ```
    """
    ax = _axes(ax, (8.0, 3.5))
    for name, start, end in phases(result):
        ax.axvspan(start, end, color=PHASE_COLORS[name], zorder=0, label="_" + name)
        ax.text(
            (start + end) / 2,
            1.0,
            name,
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize=9,
        )
    steps, values = trace_steps(result)
    for c in range(values.shape[1]):
        ax.plot(steps, values[:, c], linewidth=1.0, label=f"chain {c}")
    ax.set_xlim(steps[0], max(steps[-1], 1.0))
    ax.set_xlabel("MCMC step (0: the optimized starts)")
    ax.set_ylabel("activation")
    ax.legend(loc="best", fontsize=8, ncols=min(values.shape[1], 4))
    temperatures = np.unique(result.chain_temperatures)
    shown = (
        f"T = {result.temperature:.3g}"
        if len(temperatures) == 1
        else f"T = {temperatures.min():.3g} to {temperatures.max():.3g}"
    )
    ax.set_title(f"activation per chain, {shown}", pad=16)
    return _figure(ax)


def plot_grid(result: Run, ax: Axes | None = None) -> Figure:
    """`pictures.grid` as a Figure: a row per chain (labelled), its start in the first column,
    then its samples in order.

    Args:
        result: a run, as `samplevis.render` returns it (a `SampleResult`).
        ax: a Matplotlib Axes to draw into; None: a new Figure's.

    Returns:
        The Figure (of `ax` when given).

    Examples:
        ```python
        result = samplevis.render(model, obj, hmc_opts=dict(num_results=10), seed=0)
        samplevis.plot_grid(result).savefig("grid.png")
        ```
    """
    image = pictures.grid(result, with_init=True)
    height, width = image.shape[:2]
    # About 2 inches per 128 px tile; tiny images get a readable minimum.
    scale = max(1.0, 300.0 / width)
    ax = _axes(ax, (width * scale / 64.0 + 1.0, height * scale / 64.0 + 0.8))
    ax.imshow(image, interpolation="nearest")
    tile_h, tile_w = result.init_images.shape[1:3]
    columns = result.activations.shape[0] + 1
    every = max(1, columns // 12)  # at most about a dozen column labels
    shown = range(0, columns, every)
    pad = 2  # samplevis.io.grid's default gap
    ax.set_xticks(
        [pad + j * (tile_w + pad) + tile_w / 2 for j in shown],
        ["start" if j == 0 else str(j) for j in shown],
    )
    ax.set_yticks(
        [pad + c * (tile_h + pad) + tile_h / 2 for c in range(result.num_chains)],
        [f"chain {c}" for c in range(result.num_chains)],
    )
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xlabel("sample")
    return _figure(ax)


def plot_processing(check: ProcessingCheck, i: int = 0, ax: Axes | None = None) -> Figure:
    """A small figure of Geirhos et al.'s check of image `i` (a facet's optimum at 0): layers
    across, input first, the Spearman correlation of its channel means with its photos' (solid)
    and with the other photos' (dashed) up; where the solid line is above, the layer processes
    it like its photos. Returns the Figure (of `ax` when given)."""
    ax = _axes(ax, (2.6, 1.6))
    x = np.arange(len(check.layers))
    ax.plot(x, check.to_photos[i], color="#1f77b4", linewidth=1.5, label="its photos")
    ax.plot(x, check.to_others[i], color="#d62728", linewidth=1.2, linestyle="--", label="others")
    ax.set_ylim(min(-0.1, float(np.nanmin([*check.to_photos[i], *check.to_others[i], 0]))), 1.0)
    ticks = sorted({0, len(x) - 1})
    ax.set_xticks(ticks, [check.layers[t] for t in ticks], fontsize=5)
    ax.tick_params(axis="y", labelsize=5, length=2)
    ax.set_xlabel("layers, input first", fontsize=6, labelpad=1)
    ax.set_ylabel("alike (Spearman)", fontsize=6, labelpad=1)
    ax.legend(loc="lower right", fontsize=5, frameon=False)
    return _figure(ax)
