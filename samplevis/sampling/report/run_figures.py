"""A sample run's figures for the gallery, read from its diagnostics.json alone (the run's record,
`sampling.report.run_json`): each sample's caption (its activation) and a table of each chain's
figures. A file of an older version, without some keys, gives what it has; a value it lacks shows
as '-'."""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Callable, Sequence
from typing import Any

from samplevis.sampling.report.run_json import per_chain, per_sample


def number(value: Any, spec: str | None = None) -> str:
    """`value` formatted by `spec` (None: 3 significant digits, trailing zeros kept, so that a
    column's figures line up: 1.30, 0.00222, 123); '-' for what is not a finite number (null in
    the file)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "-"
    if spec is not None:
        return format(value, spec)
    if value == 0 or abs(value) >= 1e5:
        return f"{value:.3g}"
    return f"{value:.{max(0, 2 - math.floor(math.log10(abs(value))))}f}"


@dataclasses.dataclass(frozen=True)
class Captions:
    """What a run's strips say under each image: activations [N][C] (empty when the file lacks
    them), the starts' activations [C]."""

    activations: list[list[Any]]
    starts: list[Any]

    def start(self, chain: int) -> str:
        """'1.09 · start'; 'start' without the starts' activations."""
        value = number(self.starts[chain]) if chain < len(self.starts) else "-"
        return "start" if value == "-" else f"{value} · start"

    def _at(self, rows: list[list[Any]], sample: int, chain: int) -> Any:
        return rows[sample][chain] if sample < len(rows) else None

    def value(self, sample: int, chain: int) -> Any:
        """The sample's activation as the file has it (None where it lacks it)."""
        return self._at(self.activations, sample, chain)

    def sample(self, sample: int, chain: int) -> str:
        """'0.91': the sample's activation ('sample 4' when the file lacks it)."""
        value = number(self._at(self.activations, sample, chain))
        return value if value != "-" else f"sample {sample}"

    def title(self, sample: int, chain: int) -> str:
        """The sample's figures in full, shown on hovering."""
        text = f"chain {chain}, sample {sample}"
        activation = self._at(self.activations, sample, chain)
        if number(activation) != "-":
            text += f": activation {number(activation, '.4g')}"
            start = self.starts[chain] if chain < len(self.starts) else None
            if number(start) != "-" and start:
                text += f" ({activation / start:.2f} of the start's)"
        return text


def captions(report: dict, num_chains: int) -> Captions:
    """The captions of a run of `num_chains` chains, from its report (a dict read from JSON)."""
    return Captions(
        per_sample(report, "activations", num_chains),
        per_chain(report, "init_activations", num_chains) or [],
    )


def _column(
    values: Sequence[Any] | None, spec: str | None | Callable[[Any], str]
) -> list[str] | None:
    """A table column: `values` formatted by `spec` (as `number`, or a function); None when
    there are none, or none is a number."""
    if values is None:
        return None
    cells = [spec(v) if callable(spec) else number(v, spec) for v in values]
    return None if all(cell == "-" for cell in cells) else cells


def _medians(rows: list[list[Any]], num_chains: int) -> list[Any] | None:
    if not rows:
        return None
    per_chain = [[row[c] for row in rows if number(row[c]) != "-"] for c in range(num_chains)]
    return [statistics.median(values) if values else None for values in per_chain]


def _nats(value: Any) -> str:
    """A log-mass: 0.1 nat apart below 10 nats from the heaviest, whole nats beyond."""
    return number(value, ".1f" if number(value) != "-" and abs(value) < 10 else ".0f")


def _with_errors(report: dict, num_chains: int) -> list[str] | None:
    """Each chain's log-mass with its standard error ("-3.2 ± 0.4"; the log-mass alone in a
    file without errors), None when the file has no log-masses."""
    masses = per_chain(report, "log_masses", num_chains)
    if masses is None:
        return None
    errors = per_chain(report, "log_mass_errors", num_chains) or [None] * num_chains
    return [
        _nats(m) + (f" ± {e:.2g}" if number(m) != "-" and number(e) != "-" else "")
        for m, e in zip(masses, errors)
    ]


def chain_table(report: dict, num_chains: int) -> tuple[tuple[tuple[str, ...], ...], str]:
    """(rows of a table, a note under it): a row per chain (after the header) of the figures
    the report has, and the run's own figures; no rows for a report without chains."""
    if not num_chains:
        return (), ""
    diagnostics = report.get("diagnostics")
    columns = [
        ("start activation", _column(per_chain(report, "init_activations", num_chains), None)),
        (
            "median sample",
            _column(_medians(per_sample(report, "activations", num_chains), num_chains), None),
        ),
        ("gain kept", _column(per_chain(report, "gain_ratios", num_chains), ".2f")),
        ("T", _column(per_chain(report, "chain_temperatures", num_chains), None)),
        ("patterns moved", _column(per_chain(report, "structural_shares", num_chains), ".2f")),
        ("facet log-mass", _column(_with_errors(report, num_chains), str)),
        ("acceptance", _column(per_chain(diagnostics, "accept_prob", num_chains), ".2f")),
        ("split R-hat", _column(per_chain(diagnostics, "rhat", num_chains), ".2f")),
        ("ESS", _column(per_chain(diagnostics, "ess", num_chains), ".1f")),
        ("bulk ESS", _column(per_chain(diagnostics, "ess_bulk", num_chains), ".1f")),
        ("tail ESS", _column(per_chain(diagnostics, "ess_tail", num_chains), ".1f")),
        ("E-BFMI", _column(per_chain(diagnostics, "e_bfmi", num_chains), ".2f")),
        ("divergences", _column(per_chain(diagnostics, "divergences", num_chains), "d")),
    ]
    shown = [(header, cells) for header, cells in columns if cells is not None]
    if not shown:
        return (), ""
    rows = [("chain", *(header for header, _ in shown))]
    rows += [(str(c), *(cells[c] for _, cells in shown)) for c in range(num_chains)]
    return tuple(rows), _run_note(report, diagnostics)


def _run_note(report: dict, diagnostics: Any) -> str:
    """The run's own figures, for under the table: the samples' share of the starts'
    activation, R-hat across chains, the steps and the seconds."""
    parts = []
    if number(report.get("activation_ratio")) != "-":
        parts.append(f"samples keep {report['activation_ratio']:.2f} of the starts' activation")
    if isinstance(diagnostics, dict):
        within = _within_facets(diagnostics)
        if within:
            parts.append(within)
        if number(diagnostics.get("num_steps")) != "-":
            parts.append(f"{diagnostics['num_steps']} sampling steps per chain")
    seconds = report.get("seconds")
    if isinstance(seconds, dict) and seconds:
        parts.append(
            "seconds: " + ", ".join(f"{phase} {number(s, '.0f')}" for phase, s in seconds.items())
        )
    return "; ".join(parts)


def _within_facets(diagnostics: dict) -> str | None:
    """The record's R-hat among the chains of each facet that has two or more, in words."""
    from samplevis.sampling.report.diagnostics_line import facets_rhat_sentence
    from samplevis.sampling.report.run_json import diagnostics_from_dict

    try:
        return facets_rhat_sentence(diagnostics_from_dict(diagnostics))
    except (KeyError, TypeError, ValueError):  # a record of another version
        return None


def off_target(report: dict) -> dict[int, str]:
    """The chains whose draws are not from the density the run states, each with why (the
    record's "chains_off_target"); empty for a record without them (every chain at its target,
    or a file from before they were recorded)."""
    found = report.get("chains_off_target")
    if not isinstance(found, list):
        return {}
    return {
        entry["chain"]: str(entry.get("why", ""))
        for entry in found
        if isinstance(entry, dict) and isinstance(entry.get("chain"), int)
    }


def facet_note(index: int, record: dict) -> str:
    """A facet's row's line: 'facet 1: height 0.91 of the best, found by search round 2,
    log-mass -3.2 ± 0.4 nats; chains 2, 3', then what varied between its draws and, where its
    std map is left out, why (a height, finding or sentence the record lacks left out)."""
    height = number(record.get("height"), ".2f")
    said = [f"height {height} of the best"] if height != "-" else []
    if isinstance(found := record.get("found"), str):
        if found.startswith("photos"):
            said.append(f"from {found}")
        else:
            said.append(f"found by {found}" if found != "seed" else "found by the seeds")
    mass, error = record.get("log_mass"), record.get("log_mass_error")
    if number(mass) == "-":
        said.append("log-mass not measured")
    else:
        said.append(
            f"log-mass {_nats(mass)}"
            + (f" ± {error:.2g}" if number(error) != "-" else "")
            + " nats"
        )
    chains = ", ".join(str(c) for c in record["chains"])
    text = f"facet {index}: {', '.join(said)}" if said else f"facet {index}"
    if not chains:
        return text + "; no chain sampled it (more facets than chains)"
    text += f"; chain{'s' if len(record['chains']) != 1 else ''} {chains}"
    sentences = [record.get("varied")]
    if not isinstance(record.get("std_overlay"), str):  # why the row shows no std map
        sentences.append(record.get("std_note"))
    return ". ".join([text, *(s[0].upper() + s[1:] for s in sentences if isinstance(s, str) and s)])


def kind_note(kind: int, records: list[dict]) -> str:
    """A kind's line: how strongly the unit answers to it (its best facet's height, its photos'
    height) and how many facets show it, e.g. 'The unit answers to this kind at 0.71 of the
    best, to its photos at 0.84: 4 facets, best first.' (kind 0: 'The kind the unit answers to
    most: ...')."""
    height = number(records[0].get("height"), ".2f")
    photos = number(records[0].get("photos_height"), ".2f")
    many = f"{len(records)} facet{'s' if len(records) != 1 else ''}"
    if kind == 0:
        said = "The kind the unit answers to most"
    else:
        said = f"The unit answers to this kind at {height} of the best"
        said += f", to its photos at {photos}" if photos != "-" else ""
    return f"{said}: {many}, best first."
