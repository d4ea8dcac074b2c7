"""The notebooks in notebooks/ run from top to bottom and produce what they say they do.

Each has a cell tagged "parameters"; the tests replace it with the small settings below. The
notebooks a test process runs share one kernel, each run after its names are cleared: a kernel of
their own would start Python and import TensorFlow again for each.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import imageio.v3 as iio
import nbclient
import nbformat
import pytest
from nbclient.util import run_sync

from samplevis.sampling.mcmc.stationarity import RHAT_LIMIT

from conftest import gif_seconds

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

SMALL = {
    # an early layer's channel: each of the notebook's programs runs the network up to it only
    "quickstart.ipynb": """
LAYER, CHANNEL = "block2b_add", 12
SIZE = 64
THRESHOLDS = (8, 16)
# T from the equipartition rule (temperature_steps=0): adapting it costs a second program, and
# tests/sampling/test_sampling_temperature.py checks the adaptation; each chain at its own start
# (search_rounds=0): the facet search's programs are the sampling notebook's to run; one block
# of the polish (polish_steps=16): after 16 steps of optimization it climbs up to its 256
HMC_OPTS = dict(num_chains=2, num_results=4, num_burnin_steps=4, num_leapfrog_steps=2,
                num_steps_between_results=0, temperature_steps=0, optimize_steps=16,
                search_rounds=0, polish_steps=16)
""",
    # an early layer's channels (block2b_add, 24 of them): each of the notebook's programs runs
    # the network only up to the layer it reads (the goldfish logit's, all of it)
    "lucid_tutorial.ipynb": """
LAYER = "block2b_add"
CHANNEL, OTHER = 12, 20
SIZE = 64
STEPS = 16
BATCH = 3
CHANNELS = range(3)
PROGRESS = False
""",
    # an early layer's channel, one crop a step: the network runs up to the layer only, on one
    # 224 px crop
    "maco.ipynb": """
LAYER, CHANNEL = "block2b_add", 10
SIZE = 64
STEPS = 4
CROPS = 1
""",
    # an early layer's channel (the benchmarks' quick unit), and a unit of two of its channels
    # for the photos' facets (the logits' is the whole network): the network is run up to the
    # layer only, so each gradient costs less than at a later layer; 32 px images, a quarter of
    # the pixels of 64. One block of the polish (polish_steps=16) for the starts and each search
    # round's climb: the same program as up to 256 steps, run once
    "sampling.ipynb": """
LAYER, CHANNEL = "block2a_expand_activation", 20
SIZE = 32
NUM_CHAINS = 2
NUM_RESULTS = 4
HMC_OPTS = dict(num_burnin_steps=4, num_leapfrog_steps=2, num_steps_between_results=0,
                temperature_steps=0, num_transforms=1, polish_steps=16)
TARGET_RATIOS = (0.5, 0.9)
CUTOFFS = (1 / 16, None)
NUM_OPTIMIZED = 4
OPTIMIZE_STEPS = 16
PHOTO_UNIT = "max(block2a_expand_activation:20, 0.7 * block2a_expand_activation:30)"
PHOTOS_FOLDER = None
PHOTOS = ("chelsea", "coffee", "astronaut", "rocket")
PHOTO_CLUSTERS = 2
PROGRESS = False
""",
    # an early layer's neuron: the network runs up to the layer only, and its receptive field
    # leaves the border clear in fewer steps
    "transparency.ipynb": """
LAYER, CHANNEL = "block2b_add", 5
SIZE = 64
STEPS = 32
""",
}
# a printed figure; a split R-hat is inf where a chain's halves each hold one value, and those
# values differ (a chain that moved once in 4 draws)
NUMBER = r"(-?[\d.]+(?:e[-+]?\d+)?|nan|-?inf)"


def parameter_cell(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    cells = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "a notebook run with other settings has one cell tagged 'parameters'"
    return cells[0]


def run(
    name: str, cwd: Path, parameters: str | None = None, kernel: object | None = None
) -> nbformat.NotebookNode:
    """The notebook `name` executed in the folder `cwd`, its parameter cell replaced by
    `parameters`: in a kernel of its own, or in `kernel` (see `kernel`) after its names are
    cleared."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    if parameters is not None:
        parameter_cell(notebook).source = parameters.strip()
    if kernel is not None:
        # no name of the notebook run before is left, and the files go into this one's folder
        prelude = nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_code_cell(f"%reset -f\n%cd -q {str(cwd)!r}")]
        )
        execute(nbclient.NotebookClient(prelude, km=kernel, timeout=60))
    # A cell that raises fails the run with the cell's traceback.
    client = nbclient.NotebookClient(
        notebook, timeout=600, km=kernel, resources={"metadata": {"path": str(cwd)}}
    )
    execute(client)
    return notebook


def execute(client: nbclient.NotebookClient) -> None:
    """Run the client's notebook; close its connection to a kernel it does not own."""
    try:
        client.execute()
    finally:
        if not client.owns_km and client.kc is not None:
            client.kc.stop_channels()


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """One kernel for the notebooks that a test process runs, each after the one before: each
    kernel of its own would import TensorFlow again (`run` clears the names a notebook
    leaves)."""
    owner = nbclient.NotebookClient(nbformat.v4.new_notebook(), kernel_name="python3")
    owner.km = owner.create_kernel_manager()
    owner.start_new_kernel(cwd=str(tmp_path_factory.mktemp("kernel")))
    yield owner.km
    run_sync(owner.km.shutdown_kernel)(now=True)


def outputs(notebook: nbformat.NotebookNode, output_type: str) -> list:
    return [
        o
        for cell in notebook.cells
        if cell.cell_type == "code"
        for o in cell.outputs
        if o.output_type == output_type
    ]


def printed(notebook: nbformat.NotebookNode) -> str:
    return "".join(o.text for o in outputs(notebook, "stream") if o.name == "stdout")


def pictures(notebook: nbformat.NotebookNode) -> int:
    """How many PNGs the notebook showed (images and matplotlib figures)."""
    return sum(
        "image/png" in o.data
        for kind in ("display_data", "execute_result")
        for o in outputs(notebook, kind)
    )


def page(notebook: nbformat.NotebookNode, path: Path) -> str:
    """The executed notebook as the HTML page nbconvert exports, written to `path` (to open in
    a browser); its text."""
    import nbconvert

    body, _ = nbconvert.HTMLExporter().from_notebook_node(notebook)
    path.write_text(body)
    return body


def shown_inline(html: str) -> list[str]:
    """The results a page shows as the gallery does (`pages.gallery_html`'s blocks), in order."""
    return re.findall(r'<div class="samplevis-gallery">.*?</section>\s*</div>', html, re.S)


def numbers(text: str) -> list[float]:
    return [float(x) for x in re.findall(NUMBER, text)]


def assigned(source: str) -> set[str]:
    """The names a cell assigns."""
    return {
        name.id
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Assign)
        for target in node.targets
        for name in ast.walk(target)
        if isinstance(name, ast.Name)
    }


def test_every_notebook_is_tested():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == [
        "lucid_tutorial.ipynb",
        "maco.ipynb",
        "quickstart.ipynb",
        "sampling.ipynb",
        "transparency.ipynb",
    ]


def test_notebooks_are_committed_without_outputs():
    for path in NOTEBOOKS.glob("*.ipynb"):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path.name


def test_small_settings_set_every_parameter():
    for name, small in SMALL.items():
        cell = parameter_cell(nbformat.read(NOTEBOOKS / name, as_version=4))
        assert assigned(small) == assigned(cell.source), name


@pytest.mark.slow
def test_quickstart_optimizes_and_samples(tmp_path, kernel):
    notebook = run("quickstart.ipynb", tmp_path, SMALL["quickstart.ipynb"], kernel)
    text = "".join(o.get("text", "") for o in outputs(notebook, "stream"))
    assert "Closest layer names: block5c_add" in text  # the misspelt layer's error
    assert "(4, 2, 64, 64, 3)" in text
    # chains this short drift, as the notebook says; render warns only when one's R-hat is over
    # its limit, and no limit is under RHAT_LIMIT
    worst_rhat = float(re.search(r"split R-hat per chain <= ([\d.]+)", text)[1])
    if "were still drifting" in text:
        assert worst_rhat > RHAT_LIMIT
    images = [o for o in outputs(notebook, "display_data") if "image/png" in o.data]
    # the optimized images, them beside the top photos' crops, the samples and their std map
    assert len(images) == 4
    assert "top photos of block2b_add:12: " in text
    assert iio.imread(tmp_path / "examples.png").shape[:2] == (2 + 64 + 2, 2 + 4 * (64 + 2))
    assert len(json.loads((tmp_path / "examples/examples.json").read_text())["files_read"]) == 8
    assert iio.imread(tmp_path / "std.png").shape == (2 + 64 + 2, 2 + 2 * (64 + 2), 3)
    assert gif_seconds(tmp_path / "samples.gif") == 4 / 4  # one frame per sample, at 4 fps
    assert iio.imread(tmp_path / "optimized.png").shape[2] in (3, 4)
    # the examples' crops and the run, shown as the gallery shows them, their images inline;
    # the run saved for `samplevis gallery`
    examples_block, run_block = shown_inline(page(notebook, tmp_path / "quickstart.html"))
    assert examples_block.count('src="data:image/png;base64,') == 3  # top=3 crops
    assert "<h2>channel('block2b_add', 12)</h2>" in run_block
    assert run_block.count("<b>chain ") == 2 and 'src="data:image/gif;base64,' in run_block
    assert (tmp_path / "run/index.html").is_file() and (tmp_path / "run/diagnostics.json").is_file()


@pytest.mark.slow
def test_lucid_tutorial_renders_each_topic(tmp_path, kernel):
    notebook = run("lucid_tutorial.ipynb", tmp_path, SMALL["lucid_tutorial.ipynb"], kernel)
    text = printed(notebook)
    assert "1 (1, 64, 64, 3)" in text  # one threshold, one image of SIZE px
    # every rendering is shown: a neuron, the algebra, the kinds of objective, the transforms,
    # the parameterizations, the direction, the interpolation, diversity and the Renderer
    assert pictures(notebook) == 9

    # the algebra's batch: channel 12, channel 20, both, minus channel 12
    first = numbers(re.search(r"channel 12 \(CHANNEL\) per image: \[(.*)\]", text)[1])
    other = numbers(re.search(r"channel 20 \(OTHER\) per image: \[(.*)\]", text)[1])
    assert first[0] > first[1] and other[1] > other[0]
    assert min(first) == first[3]  # the negated objective turned the channel down most
    # the class_logit image scores highest on its class
    scores = numbers(re.search(r"goldfish score of each image: \[(.*)\]", text)[1])
    assert max(scores) == scores[3]

    # verbose prints the direction objective at each threshold, and it rises
    steps = re.findall(
        r"step (\d+): direction\('block2b_add', vec\[24\], cossim_pow=1\) " + NUMBER, text
    )
    assert [int(s) for s, _ in steps] == [1, 8, 16]  # thresholds (1, STEPS // 2, STEPS)
    values = [float(v) for _, v in steps]
    assert values[0] < values[1] < values[2]

    # the interpolation moves from the first channel to the second
    start = numbers(re.search(r"channel 12 along the sequence: \[(.*)\]", text)[1])
    end = numbers(re.search(r"channel 20 along the sequence: \[(.*)\]", text)[1])
    assert len(start) == 3 and start[0] > start[-1] and end[-1] > end[0]

    # the diversity term makes the batch's styles less alike
    without = float(re.search(r"style similarity without diversity: " + NUMBER, text)[1])
    with_ = float(re.search(r"style similarity with diversity: +" + NUMBER, text)[1])
    assert 0 < with_ < without <= 1

    # one Renderer: no compiling after the first channel, and each channel gained
    first_count = re.search(r"compiled (\d+) times for the first channel", text)[1]
    assert re.search(r"compiled (\d+) times for 3 channels", text)[1] == first_count
    own = numbers(re.search(r"each image's own channel: \[(.*)\]", text)[1])
    assert len(own) == 3 and min(own) > 0


@pytest.mark.slow
def test_maco_notebook_renders_keeps_the_magnitude_and_saves_an_rgba_png(tmp_path, kernel):
    notebook = run("maco.ipynb", tmp_path, SMALL["maco.ipynb"], kernel)
    text = printed(notebook)
    assert "image (64, 64, 3), transparency (64, 64, 3)" in text
    (error,) = numbers(text.split("magnitude kept to a relative ")[1].split()[0])
    assert error < 1e-3
    assert "render_vis: (1, 64, 64, 3)" in text
    assert "spectrum (3, 64, 33) -> image (1, 64, 64, 3)" in text
    assert pictures(notebook) == 2
    rgba = iio.imread(tmp_path / "maco_rgba.png")
    assert rgba.shape == (64, 64, 4) and rgba[..., 3].max() == 255


@pytest.mark.slow
def test_sampling_notebook_samples_sweeps_and_reports(tmp_path, kernel):
    notebook = run("sampling.ipynb", tmp_path, SMALL["sampling.ipynb"], kernel)
    text = printed(notebook)
    assert text.count("(4, 2, 32, 32, 3)") == 2  # from optimized starts, and from the photos
    kept = re.search(r"activation kept: " + NUMBER + r" of the starts', " + NUMBER, text)
    assert float(kept[1]) > 0 and float(kept[2]) > 0
    # the samples, the facets, their std maps, the trace, the sweep's plot and its two grids,
    # the cutoffs' rows, the optimized images and the noise seeds of the unit from photos
    assert pictures(notebook) == 10
    # the unit from photos shown as the gallery shows it: a section per kind of its facets, each
    # facet's optimum beside its photos and draws, inline; then saved, and its gallery page
    (shown,) = shown_inline(page(notebook, tmp_path / "sampling.html"))
    unit = (
        "max(channel('block2a_expand_activation', 20), "
        "(0.7 * channel('block2a_expand_activation', 30)))"
    )
    assert f"<h2>{unit}</h2>" in shown and "<b>facet 0</b>" in shown
    assert (
        "photo " in shown and 'src="data:image/png;base64,' in shown and 'src="facet' not in shown
    )
    assert re.search(r"wrote \d+ files to pepper_theater/, the last diagnostics.json", text)
    gallery = (tmp_path / "pepper_theater/index.html").read_text()
    assert gallery.count("<b>facet ") == shown.count("<b>facet ")
    # the photos' two clusters: each a facet of its own, or a failed climb
    made = re.search(r"(\d) facets?(?: in \d kinds?)? \((\d) from photo clusters", text)
    assert made and "from photos: facet 0 cluster " in text
    assert int(made[2]) + text.count("failed climbs (under 0.5 of the height") == 2
    kinds = re.findall(r"facet \d: kind (\d), height " + NUMBER + r", its kind's photos at", text)
    assert len(kinds) == int(made[2]) and kinds[0] == ("0", "1.00")
    # a line and a row per facet, best first: the best at height 1 (the seeds' or a round's)
    facets = re.findall(
        r"facet (\d+): height " + NUMBER + r", found by (seed|search round \d+)", text
    )
    assert facets and [int(k) for k, _, _ in facets] == list(range(len(facets)))
    assert facets[0][1] == "1.00" and all(float(h) >= 0.5 for _, h, _ in facets)
    assert iio.imread(tmp_path / "facets.png").shape[:2] == (
        2 + len(facets) * (32 + 2),
        2 + 9 * (32 + 2),
    )
    # each chain's basin's log-mass against the heaviest
    assert re.search(r"log-masses of each chain's basin \(nats, relative to the heaviest", text)

    # the cutoffs: the default moves the coarse coefficients of 32 px images, None all of them
    cutoffs = re.findall(
        r"cutoff (\S+): (\d+) coefficients move, (\d+) of (\d+) distinct, "
        r"worst split R-hat (\S+), kept " + NUMBER,
        text,
    )
    assert [c[0] for c in cutoffs] == ["0.0625", "None"]
    assert int(cutoffs[0][1]) < int(cutoffs[1][1]) == 2 * 3 * 32 * 17
    assert all(1 <= int(c[2]) <= int(c[3]) == 8 for c in cutoffs)

    # the per-chain diagnostics, and the chains listed as drifting have an R-hat above the floor
    # of every limit
    chains = re.findall(
        r"chain \d: acceptance "
        + NUMBER
        + r", divergences (\d+), split R-hat "
        + NUMBER
        + r", ESS "
        + NUMBER
        + r" of 4 samples, E-BFMI "
        + NUMBER,
        text,
    )
    assert len(chains) == 2
    for acceptance, divergences, _, ess, _ in chains:
        assert 0 <= float(acceptance) <= 1 and int(divergences) >= 0 and float(ess) > 0
    listed = re.search(r"chains still drifting: \[([\d, ]*)\]", text)[1]
    drifting = [int(c) for c in listed.split(",") if c.strip()]
    assert all(float(chains[c][2]) > RHAT_LIMIT for c in drifting)

    # the sweep: a higher target ratio sets a lower temperature; samples keep activation
    sweep = re.findall(
        r"target ratio ([\d.]+): T = "
        + NUMBER
        + r", kept "
        + NUMBER
        + r" of the gain, diversity "
        + NUMBER,
        text,
    )
    assert [float(r) for r, *_ in sweep] == [0.5, 0.9]
    assert float(sweep[0][1]) > float(sweep[1][1]) > 0
    assert all(float(k) > 0 and float(d) >= 0 for _, _, k, d in sweep)

    # samples against multi-seed optimization: counts within their sets, and the chains differ
    # from each other and each chain's samples from one another
    optimized = re.search(
        r"4 optimized images: mean activation " + NUMBER + r", (\d+) distinct", text
    )
    assert float(optimized[1]) > 0 and 1 <= int(optimized[2]) <= 4
    samples = re.search(
        r"8 samples: mean activation " + NUMBER + r", (\d+) distinct, mean "
        r"feature distance " + NUMBER + " between chains and " + NUMBER,
        text,
    )
    assert float(samples[1]) > 0 and 1 <= int(samples[2]) <= 8
    assert float(samples[3]) > 0 and float(samples[4]) > 0
    assert iio.imread(tmp_path / "optimized.png").shape[:2] == (2 + 32 + 2, 2 + 4 * (32 + 2))

    # ArviZ's summary of the activation and log pi
    summary = outputs(notebook, "execute_result")[-1].data["text/plain"]
    assert "activation" in summary and "target_log_prob" in summary and "r_hat" in summary


@pytest.mark.slow
def test_transparency_notebook_renders_rgba_and_keeps_the_alpha(tmp_path, kernel):
    notebook = run("transparency.ipynb", tmp_path, SMALL["transparency.ipynb"], kernel)
    text = printed(notebook)
    assert "(64, 64, 4)" in text
    centre, border = numbers(re.search(r"mean alpha: centre (\S+), border (\S+)", text)[0])
    assert centre > border  # the neuron's receptive field stays more opaque than the border
    assert "RGBA True" in text  # the PNG keeps the alpha
    assert pictures(notebook) == 2  # the image and its alpha, and what the network sees
    assert iio.imread(tmp_path / "neuron.png").shape == (64, 64, 4)
    assert iio.imread(tmp_path / "seen.png").shape[2] == 3
