"""The diagnostics in plain words say what the figures mean for the run that has them."""

import dataclasses
import math

from samplevis.sampling.mcmc.diagnostics import Diagnostics
from samplevis.sampling.report.explain import explain

HEALTHY = Diagnostics(
    acceptance_rate=(0.8, 0.7),
    accept_prob=(0.78, 0.74),
    burnin_acceptance_rate=(0.7, 0.7),
    step_size=(0.01, 0.02),
    divergences=(0, 0),
    num_steps=30,
    rhat=(1.01, 1.02),
    ess=(9.5, 8.1),
    e_bfmi=(1.1, 0.9),
    scalar="activation",
    num_results=10,
    interrupted=False,
    autocorrelation=(0.1, 0.6),
    rhat_limits=(1.3, 2.5),
)


def sentence(lines: list[str], start: str) -> str:
    found = [line for line in lines if line.startswith(start)]
    assert len(found) == 1, (start, lines)
    return found[0]


def test_a_healthy_run_is_read_figure_by_figure():
    lines = explain(HEALTHY)
    assert sentence(lines, "Split R-hat per chain 1.01, 1.02: ").endswith(
        "Below 1.30, 2.50 they agree. Each limit is what a settled chain exceeds one time in "
        "400 at the slowest autocorrelation from draw to draw that the chain's own measurement "
        "(0.10, 0.60) does not rule out: a chain that moves slowly wanders further over 10 "
        "draws without drifting. Together: no chain was "
        "seen drifting (what the tests can see at these draws: the run's draws line)."
    )
    # two chains of one facet are compared; chains of different facets never are
    shared = dataclasses.replace(HEALTHY, facets=(0, 0), rhat_facets=(1.03,))
    assert "it is not a failure" in sentence(
        explain(shared), "R-hat between the chains of a facet: facet 0 (chains 0, 1) 1.03 ("
    )
    apart = dataclasses.replace(HEALTHY, facets=(0, 1), rhat_facets=(math.nan, math.nan))
    assert not any("R-hat between" in line for line in explain(apart))
    assert "of 10 samples" in sentence(lines, "Effective sample size per chain 9.5, 8.1 ")
    assert "adapted to aim at 0.75" in sentence(
        lines, "Acceptance probability per chain 0.78, 0.74: "
    )
    sentence(lines, "No divergent step in 60: ")
    assert sentence(lines, "E-BFMI per chain 1.10, 0.90: ").endswith("every chain explored well.")
    assert len(lines) == 5


def test_each_problem_is_named_with_its_chains():
    sick = dataclasses.replace(
        HEALTHY, rhat=(7.0, 1.01), e_bfmi=(0.1, 1.0), divergences=(3, 0), acceptance_rate=(0.0, 0.7)
    )
    lines = explain(sick, target_accept_prob=None)
    assert "chain 0 had not settled: the activation was still drifting" in sentence(
        lines, "Split R-hat per chain 7.00, 1.01"
    )
    assert sentence(lines, "E-BFMI per chain 0.10, 1.00").endswith("chain 0 explored slowly.")
    assert sentence(lines, "3 of 60 sampling steps diverged").endswith(
        "more than 1 %, too many: give a smaller step size."
    )
    acceptance = sentence(lines, "Acceptance probability per chain")
    assert "The step size was fixed" in acceptance and "chain 0 took no step at all" in acceptance


def test_missing_figures_are_said_to_be_missing_not_printed_as_nan():
    short = dataclasses.replace(
        HEALTHY,
        num_results=3,
        rhat=(math.nan,) * 2,
        ess=(math.nan,) * 2,
        e_bfmi=(math.nan,) * 2,
    )
    lines = explain(short)
    assert lines[0] == "No split R-hat: it needs 4 samples per chain."
    assert not any("nan" in line for line in lines) and len(lines) == 3
    many = dataclasses.replace(HEALTHY, rhat=tuple(1 + c / 100 for c in range(12)))
    assert sentence(explain(many), "Split R-hat per chain 1.00 to 1.11: ")
    assert explain(dataclasses.replace(HEALTHY, num_steps=0)) == [
        "No sampling step ran, so nothing tells how good the samples are."
    ]
