"""Short runs of each entry point on the stripes and Gabor networks, for the tests that a call
and its seed fix the result whatever ran before in the process (tests/test_repeatable.py).

`first_runs(folder)` makes the runs a test repeats, each on a model of its own built here; run
in a fresh process (`python repeat_runs.py FOLDER`) it writes them to FOLDER/first.npz, the
result that the same calls must give in a process that made other runs before."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import samplevis
from samplevis import objectives, param

from conftest import either_stripes_keras_model, gabor_keras_model
from stripes import PHOTO_RUN, SIDE, stripes_folder

# Short runs: what is compared is every pixel, not how good the images are.
SEARCH_RUN = dict(
    num_results=2,
    num_burnin_steps=4,
    optimize_steps=16,
    polish_steps=16,
    search_rounds=1,
    num_leapfrog_steps=4,
    block_steps=2,
)
ATLAS = dict(steps=8, size=40, batch=4, seed=0, progress=False)


def models() -> dict[str, samplevis.Model]:
    """The networks the runs use, one object each, as a user keeps one model in a notebook."""
    return {
        "stripes": samplevis.Model(either_stripes_keras_model(), name="either48"),
        "gabor": samplevis.Model(gabor_keras_model(), name="gabor"),
    }


def photos(folder: Path) -> Path:
    """The stripes files (made once in `folder`)."""
    images = folder / "images"
    if not images.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        stripes_folder(images)
    return images


def photo_run(model: samplevis.Model, folder: Path, unit: str, tag: str) -> dict:
    """dataset_examples of `unit` over the stripes files, then render from them."""
    found = samplevis.dataset_examples(
        model, unit, images=photos(folder), top=6, out=folder / f"examples_{tag}", progress=False
    )
    result = samplevis.render(
        model,
        unit,
        hmc_opts=dict(PHOTO_RUN, init=found, polish_steps=SEARCH_RUN["polish_steps"]),
        param_f=param.image(SIDE, batch=2),
        seed=0,
        progress=False,
    )
    ranked = np.array([value for _, value, _ in found.ranked(unit)], np.float64)
    return {
        "examples": ranked,
        "facets": np.stack([f.image for f in result.facets]),
        "draws": np.asarray(result.images),
    }


def search_run(model: samplevis.Model, unit: str) -> dict:
    """render without photos: the seeds, a search round, the polish and the chains."""
    result = samplevis.render(
        model,
        unit,
        hmc_opts=SEARCH_RUN,
        param_f=lambda: param.image(SIDE, batch=2),
        seed=0,
        progress=False,
    )
    return {"facets": np.stack([f.image for f in result.facets]), "draws": result.images}


def render_vis_run(model: samplevis.Model, objective: objectives.Objective) -> dict:
    (images,) = samplevis.render_vis(
        model, objective, param.image(SIDE, batch=2), thresholds=(24,), seed=0, progress=False
    )
    return {"images": images}


def atlas_run(model: samplevis.Model, folder: Path, channels: str, tag: str) -> dict:
    result = samplevis.atlas(
        model, "gabor_relu", channels=channels, out=folder / f"atlas_{tag}", **ATLAS
    )
    from PIL import Image

    files = sorted((result.out / "gabor_relu").glob("*.png"))
    return {"images": np.stack([np.asarray(Image.open(f)) for f in files])}


def first_runs(folder: Path, made: dict[str, samplevis.Model] | None = None) -> dict:
    """The runs the tests repeat: {name: array}."""
    made = made or models()
    runs = {
        "photos": photo_run(made["stripes"], folder, "mix:0", "first"),
        "search": search_run(made["gabor"], "gabor_relu:0"),
        "render_vis": render_vis_run(made["gabor"], objectives.channel("gabor_relu", 0)),
        "atlas": atlas_run(made["gabor"], folder, "0-1", "first"),
    }
    return {f"{run}/{key}": value for run, values in runs.items() for key, value in values.items()}


def other_runs(folder: Path, made: dict[str, samplevis.Model]) -> None:
    """Runs of other units and objectives on the same model objects."""
    photo_run(made["stripes"], folder, "mix:1", "other")
    search_run(made["gabor"], "gabor_relu:2")
    render_vis_run(made["gabor"], objectives.channel("gabor_relu", 3) - objectives.L1())
    atlas_run(made["gabor"], folder, "2-3", "other")


if __name__ == "__main__":
    out = Path(sys.argv[1])
    np.savez(out / "first.npz", **first_runs(out))
