"""SampleResult.plot_trace and plot_grid draw what the result holds, on a result of known numbers."""

import sys

import numpy as np
import pytest

import samplevis
from samplevis.sampling.options import resolve_options
from samplevis.sampling.report.result import SampleResult

pytest.importorskip("matplotlib", reason="pip install 'samplevis[plot]'")

C, N, H, W = 3, 4, 8, 10
TUNING, BURNIN, THIN = 6, 4, 2  # steps of burn-in adapting T and after; 2 discarded between samples


def known_result(tuning: int = TUNING, burnin: int = BURNIN, kept: int = N) -> SampleResult:
    """A result whose chain c has activation 10 c + (step / 100) at every step, and whose
    images are flat grey at level (c + 1) / 10 (starts) or (c + 1) / 10 + (i + 1) / 100."""
    steps_per_sample = THIN + 1
    chain = 10.0 * np.arange(C)
    burnin_steps = np.arange(1, tuning + burnin + 1)[:, None]
    sample_steps = tuning + burnin + steps_per_sample * np.arange(1, kept + 1)[:, None]
    level = (np.arange(C) + 1) / 10
    images = (
        level[None, :, None, None, None] + (np.arange(kept) + 1)[:, None, None, None, None] / 100
    )
    return SampleResult(
        images=np.broadcast_to(images, (kept, C, H, W, 3)).astype(np.float32),
        activations=(chain + sample_steps / 100).astype(np.float32),
        init_images=np.broadcast_to(level[:, None, None, None], (C, H, W, 3)).astype(np.float32),
        init_activations=chain.astype(np.float32),
        prior_activation=0.0,
        burnin_activations=(chain + burnin_steps / 100).astype(np.float32),
        tuning_steps=tuning,
        trace={},
        diagnostics=None,
        temperature=0.5,
        chain_temperatures=np.full(C, 0.5),
        temperatures=np.zeros([1 if tuning else 0, C]),
        prior_weight=1.0,
        interrupted=False,
        seed=np.zeros(2, np.int32),
        options=resolve_options(dict(num_steps_between_results=THIN)),
        burnin_trace={},
        log_masses=np.zeros(C),
        cutoff=1 / 16,
        num_moving=6,
        rule_temperature=1.0,
        temperature_shares=np.zeros([1, C]),
    )


def spans(ax) -> list[tuple[float, float]]:
    """The x extent of each shaded phase (axvspan rectangles), in order."""
    return [(round(p.get_x(), 6), round(p.get_x() + p.get_width(), 6)) for p in ax.patches]


def test_trace_draws_one_line_per_chain_through_every_step_of_every_phase():
    result = known_result()
    figure = samplevis.plot_trace(result)
    assert len(figure.axes) == 1
    ax = figure.axes[0]
    lines = ax.get_lines()
    assert len(lines) == C and [line.get_label() for line in lines] == [
        "chain 0",
        "chain 1",
        "chain 2",
    ]
    end = TUNING + BURNIN + (THIN + 1) * N
    for c, line in enumerate(lines):
        x, y = line.get_data()
        # the start at step 0, every tuning and burn-in step, then every third step (thinning)
        expected_x = [
            0,
            *range(1, TUNING + BURNIN + 1),
            *range(TUNING + BURNIN + THIN + 1, end + 1, THIN + 1),
        ]
        np.testing.assert_array_equal(x, expected_x)
        np.testing.assert_allclose(y, 10 * c + np.array(expected_x) / 100, rtol=1e-6)
    assert spans(ax) == [(0, TUNING), (TUNING, TUNING + BURNIN), (TUNING + BURNIN, end)]
    assert [t.get_text() for t in ax.texts] == ["burn-in, adapting T", "burn-in", "sampling"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["chain 0", "chain 1", "chain 2"]


def test_trace_leaves_out_phases_the_run_did_not_have():
    ax = samplevis.plot_trace(known_result(tuning=0)).axes[0]
    assert [t.get_text() for t in ax.texts] == ["burn-in", "sampling"]
    assert spans(ax) == [(0, BURNIN), (BURNIN, BURNIN + (THIN + 1) * N)]
    stopped = samplevis.plot_trace(known_result(kept=0)).axes[0]  # interrupted during burn-in
    assert [t.get_text() for t in stopped.texts] == ["burn-in, adapting T", "burn-in"]
    assert len(stopped.get_lines()[0].get_xdata()) == 1 + TUNING + BURNIN


def test_trace_draws_into_a_given_axes_and_saves_as_png(tmp_path):
    from matplotlib.figure import Figure

    figure = Figure()
    left, right = figure.subplots(1, 2)
    assert samplevis.plot_trace(known_result(), ax=right) is figure
    assert len(right.get_lines()) == C and not left.get_lines()
    figure.savefig(tmp_path / "trace.png")
    assert (tmp_path / "trace.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_grid_shows_a_row_per_chain_with_its_start_first():
    result = known_result()
    figure = samplevis.plot_grid(result)
    assert len(figure.axes) == 1
    ax = figure.axes[0]
    assert len(ax.images) == 1
    shown = np.asarray(ax.images[0].get_array())
    np.testing.assert_array_equal(shown, result.grid(with_init=True))
    pad = 2
    assert shown.shape == (C * (H + pad) + pad, (N + 1) * (W + pad) + pad, 3)
    # the first column holds each chain's start (grey (c + 1) / 10), then its samples in order
    for c in range(C):
        top = pad + c * (H + pad)
        row = shown[top + H // 2, pad + W // 2 :: W + pad, 0]
        np.testing.assert_allclose(row, (c + 1) / 10 + np.arange(N + 1) / 100, atol=1e-6)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["start", "1", "2", "3", "4"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["chain 0", "chain 1", "chain 2"]


def test_plots_without_matplotlib_name_the_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r"pip install 'samplevis\[plot\]'"):
        samplevis.plot_trace(known_result())
    with pytest.raises(ImportError, match=r"pip install 'samplevis\[plot\]'"):
        samplevis.plot_grid(known_result())
