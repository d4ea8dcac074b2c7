"""One examples record saved row by row from several processes: the rows, and the work of one
process. It imports the examples' index and top-k modules only, not TensorFlow, so that each
spawned process starts in a fraction of a second."""

import numpy as np

from samplevis.examples import examples_json, topk

RUN = {"model": "m", "images": "x", "input": [8, 8], "top": 4, "units": ["a", "b", "c"]}


def record_values() -> tuple[np.ndarray, list[str], np.ndarray]:
    """80 files' values of 3 units, the files' names and their boxes."""
    rng = np.random.default_rng(1)
    return (
        rng.normal(size=(80, 3)),
        [f"f{i}.png" for i in range(80)],
        rng.integers(0, 9, (80, 3, 4)),
    )


def save_rows(out: str, rows: list[int], barrier) -> None:
    """A process that saves its rows of `record_values()` into `out` one at a time (each save
    holds one row only, so a save that overwrote another's would lose that row for good),
    starting when every process is ready."""
    values, names, boxes = record_values()
    barrier.wait()
    for i in rows:
        top = topk.merge(topk.empty(3, 4), topk.of_batch(values[[i]], [names[i]], boxes[[i]]))
        examples_json.save(
            out,
            examples_json.Record(RUN, [{"unit": u} for u in "abc"], top, frozenset([names[i]])),
        )
