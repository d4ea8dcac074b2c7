"""Several `samplevis atlas` processes writing into one folder, as two terminals or a scheduler's
array of jobs run them: they end with the union of their work, runs of the same channels share
them, a run with other settings is told, and a run killed with SIGKILL (even mid-save) leaves a
whole index that the next run finishes; and a run without Ray imports neither Ray nor the
atlas's cluster module."""

import functools
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
from PIL import Image

import samplevis
from samplevis import cli
from samplevis.atlas.files import write_channel
from samplevis.atlas.results import ChannelResult, Settings
from samplevis.atlas.sharing import CLAIMS_JSON, SharedAtlas
from samplevis.runtime.folder_lock import folder_lock

from atlas_models import ANGLES, gabor_net

TESTS = Path(__file__).resolve().parents[1]  # where the test helpers are
ROOT = TESTS.parent
LAYER = "gabor_relu"
CHANNELS = list(range(len(ANGLES)))
STEPS, SIZE = 16, 32
FLAGS = ["--model", "atlas_models:gabor_net", "--layers", LAYER, "--size", str(SIZE)]
FLAGS += ["--batch", "1"]
POSIX = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is a POSIX signal")


def env() -> dict:
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return dict(os.environ, PYTHONPATH=path, TF_CPP_MIN_LOG_LEVEL="3")


def start(out: Path, *flags: str, log: Path) -> subprocess.Popen:
    """`samplevis atlas` with FLAGS and `flags` into `out`, its stderr into `log`."""
    with open(log, "wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-c", "import sys; from samplevis.cli import main; sys.exit(main())"]
            + ["atlas", *FLAGS, *flags, "--out", str(out)],
            cwd=TESTS,  # where atlas_models is found
            env=env(),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


# `samplevis atlas` once per (flags, out folder, log) of the JSON list in argv[1], one after
# another in this one process, each run's stderr into its log; stops at a run that fails; then
# prints the modules of Ray and of the cluster's side of the atlas that the runs imported.
IN_TURN = """
import contextlib, json, sys
from samplevis.cli import main
for flags, out, log in json.loads(sys.argv[1]):
    with open(log, "w") as stderr, contextlib.redirect_stderr(stderr):
        status = main(["atlas", *flags, "--out", out])
    if status:
        sys.exit(status)
print(sorted(m for m in sys.modules if m in ("ray", "samplevis.atlas.cluster") or m[:4] == "ray."))
"""


def start_in_turn(runs: list[tuple[list[str], Path, Path]], log: Path) -> subprocess.Popen:
    """One process running `samplevis atlas` with FLAGS and each `flags` into its `out` in turn,
    each run's stderr into its own log, the process's own (TensorFlow's) into `log` and its
    output into `log` with the suffix .out."""
    plan = [([*FLAGS, *flags], str(out), str(run_log)) for flags, out, run_log in runs]
    with open(log, "wb") as stderr, open(log.with_suffix(".out"), "wb") as stdout:
        return subprocess.Popen(
            [sys.executable, "-c", IN_TURN, json.dumps(plan)],
            cwd=TESTS,  # where atlas_models is found
            env=env(),
            stdout=stdout,
            stderr=stderr,
        )


def wait_until(done, process: subprocess.Popen, log: Path, what: str) -> None:
    deadline = time.monotonic() + 300
    while not done():
        assert process.poll() is None, f"ended before {what}: {log.read_text()}"
        assert time.monotonic() < deadline, f"never got to {what}: {log.read_text()}"
        time.sleep(0.1)


def together(
    tmp_path: Path, plan: dict[Path, list[list[str]]]
) -> tuple[dict[Path, list[str]], list[str]]:
    """({out: the stderr of each run into it}, each process's output) for `samplevis atlas` runs
    into the folders of `plan`, those into one folder run at the same time: process i runs
    `plan[out][i]` into each `out` in turn (two processes, not one per run, since each starts
    TensorFlow). Each folder's lock is held here until every process waits for it, so that its
    runs start together."""
    count = len(next(iter(plan.values())))
    logs = {out: [tmp_path / f"{out.name}{i}.log" for i in range(count)] for out in plan}
    for log in (log for out_logs in logs.values() for log in out_logs):
        log.touch()  # read before its run starts
    process_logs = [tmp_path / f"process{i}.log" for i in range(count)]
    held = {out: folder_lock(out) for out in plan}
    for lock in held.values():
        lock.__enter__()
    runs: list[subprocess.Popen] = []
    try:
        runs = [
            start_in_turn([(plan[out][i], out, logs[out][i]) for out in plan], process_logs[i])
            for i in range(count)
        ]
        for out in plan:
            waiting = f"waiting for the lock on {out}, held by pid {os.getpid()} on host"
            for run, log, process_log in zip(runs, logs[out], process_logs):
                done = functools.partial(said, waiting, log)
                wait_until(done, run, process_log, f"the lock on {out}")
            held.pop(out).__exit__(None, None, None)
    except BaseException:
        for run in runs:
            run.kill()
        raise
    finally:
        for lock in held.values():
            lock.__exit__(None, None, None)
    statuses = [run.wait(timeout=600) for run in runs]
    stderrs = {out: [log.read_text() for log in out_logs] for out, out_logs in logs.items()}
    assert statuses == [0] * count, (stderrs, [log.read_text() for log in process_logs])
    return stderrs, [log.with_suffix(".out").read_text() for log in process_logs]


def said(text: str, log: Path) -> bool:
    return text in log.read_text()


def rendered(stderr: str) -> int:
    return int(re.search(r"samplevis: atlas: rendered (\d+) channel", stderr).group(1))


def check_whole_atlas(out: Path) -> None:
    """atlas.json and the page list every channel once; every PNG is whole; no run is left in
    the folder's claims, and no temporary file beside the index."""
    written = json.loads((out / "atlas.json").read_text())
    assert [(e["layer"], e["channel"]) for e in written["channels"]] == [
        (LAYER, c) for c in CHANNELS
    ]
    page = (out / "index.html").read_text()
    data = re.search(r'<script type="application/json" id="atlas-data">(.*?)</script>', page)
    assert [(e["layer"], e["channel"]) for e in json.loads(data.group(1))] == [
        (LAYER, c) for c in CHANNELS
    ]
    for entry in written["channels"]:
        assert entry["steps_asked"] == STEPS and entry["size"] == SIZE
        with Image.open(out / entry["files"][0]) as image:
            image.load()  # decodes the whole file: a truncated one raises
            assert image.size == (SIZE, SIZE)
    assert not (out / CLAIMS_JSON).exists()
    assert not [p for p in out.rglob("*.part")]


class TwoFolders(NamedTuple):
    """Each folder two processes wrote at once, with each run's stderr; and each process's last
    line of output: the Ray modules it imported."""

    other: tuple[Path, list[str]]
    same: tuple[Path, list[str]]
    modules: list[str]


@pytest.fixture(scope="module")
def two_folders(tmp_path_factory) -> TwoFolders:
    """Two processes writing atlases at once: into "other", one channels 0-2 and the other 3-5;
    then into "same", both every channel."""
    root = tmp_path_factory.mktemp("together")
    other, same = root / "other", root / "same"
    steps = ["--steps", str(STEPS)]
    plan = {other: [[*steps, "--channels", "0-2"], [*steps, "--channels", "3-5"]]}
    stderrs, outputs = together(root, {**plan, same: [steps, steps]})
    modules = [output.strip().splitlines()[-1] for output in outputs]
    return TwoFolders((other, stderrs[other]), (same, stderrs[same]), modules)


@pytest.mark.slow  # two processes start TensorFlow
def test_two_runs_of_other_channels_into_one_folder_end_with_both_in_the_index(two_folders):
    out, (first, second) = two_folders.other
    check_whole_atlas(out)
    assert (rendered(first), rendered(second)) == (3, 3), (first, second)


@pytest.mark.slow  # two processes start TensorFlow
def test_two_runs_of_the_same_channels_share_them(two_folders):
    out, (first, second) = two_folders.same
    check_whole_atlas(out)
    batch = 1
    # each channel by one of them, but for at most a batch each rendered twice
    assert len(CHANNELS) <= rendered(first) + rendered(second) <= len(CHANNELS) + 2 * batch
    assert f"rendered by another run into {out}" in first + second


@pytest.mark.slow  # the processes of the tests above
def test_an_atlas_in_this_process_imports_neither_ray_nor_the_cluster_module(two_folders):
    # each process ran two atlases, as the command runs them without --ray, in a fresh
    # interpreter: this one may have imported Ray for the cluster's tests
    assert two_folders.modules == ["[]", "[]"]


@POSIX
@pytest.mark.slow  # a process starts TensorFlow
def test_a_run_with_other_settings_is_told_while_another_writes_and_goes_on_once_it_is_killed(
    tmp_path, capsys
):
    out = tmp_path / "atlas"
    # a run that renders channel 0 for as long as the test needs
    long_log = tmp_path / "long.log"
    long = start(out, "--channels", "0", "--steps", "100000", log=long_log)
    try:

        def claimed() -> bool:
            try:
                runs = json.loads((out / CLAIMS_JSON).read_text())["runs"]
            except (OSError, ValueError):
                return False
            return any(run["units"] == [[LAYER, 0]] for run in runs)

        wait_until(claimed, long, long_log, "its claim on channel 0")
        capsys.readouterr()
        # the other run, in this process
        assert cli.main(["atlas", *FLAGS, "--steps", str(STEPS), "--out", str(out)]) == 2
        told = capsys.readouterr().err
        assert f"{out} is being written by another atlas run, pid {long.pid} on host " in told
        assert (
            "with --steps 100000; this call asks for --steps 16. Give the same settings to "
            "share its work, wait until it ends, or give another --out folder."
        ) in told
        assert not (out / "atlas.json").exists()
    finally:
        long.send_signal(signal.SIGKILL)
        long.wait(timeout=60)
    # the killed run's claim on channel 0 holds no more, nor does the lock it held
    with pytest.warns(UserWarning, match=rf"pid {long.pid} .* has stopped without finishing 1 "):
        again = samplevis.atlas(
            gabor_net(), LAYER, steps=STEPS, size=SIZE, batch=1, out=out, progress=False
        )
    assert (again.rendered, again.others, again.missing) == (len(CHANNELS), 0, 0)
    check_whole_atlas(out)


# Takes the folder's lock, claims channels 3-5 as an atlas run does, and starts writing a new
# atlas.json the way every save does (a temporary file, then a rename); stops halfway and
# waits to be killed.
KILLED_MID_SAVE = """
import json, sys, time
from pathlib import Path
from samplevis import io
from samplevis.runtime import claims
from samplevis.runtime.folder_lock import folder_lock

out, claims_file = Path(sys.argv[1]), sys.argv[2]
with folder_lock(out):
    run = claims.Run.this(json.loads(sys.argv[3])).holding([["gabor_relu", c] for c in (3, 4, 5)])
    claims.write_runs(out / claims_file, {run.id: run})
    text = (out / "atlas.json").read_text().replace('"channels": [', '"channels": [{}, ')
    with io.atomic_path(out / "atlas.json") as part:
        with open(part, "w") as file:
            file.write(text[: len(text) // 2])
            file.flush()
            print("writing", flush=True)
            time.sleep(600)
"""


@POSIX
@pytest.mark.slow  # a process starts TensorFlow
def test_a_run_killed_mid_save_leaves_the_old_index_whole_and_the_next_run_finishes(
    tmp_path, capsys
):
    out = tmp_path / "atlas"
    kept = samplevis.atlas(
        gabor_net(), LAYER, channels="0-2", steps=STEPS, size=SIZE, batch=1, out=out, progress=False
    )
    before = (out / "atlas.json").read_text()
    settings = dict(steps=STEPS, size=SIZE, seed=0, samples=0, param="image", alpha=False)
    saving = subprocess.Popen(
        [sys.executable, "-c", KILLED_MID_SAVE, str(out), CLAIMS_JSON, json.dumps(settings)],
        env=env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert saving.stdout.readline().strip() == "writing"
    finally:
        saving.send_signal(signal.SIGKILL)
        saving.wait(timeout=60)
    assert (out / "atlas.json").read_text() == before  # the old index, whole
    assert len(list(out.glob(".atlas.json.*.part"))) == 1  # the new one, half-written
    assert json.loads((out / CLAIMS_JSON).read_text())["runs"][0]["units"]  # a dead run's claims
    capsys.readouterr()
    # the next run, in this process: the command says the dead run's claims are free
    status = cli.main(["atlas", *FLAGS, "--steps", str(STEPS), "--out", str(out)])
    said = capsys.readouterr().err
    assert status == 0, said
    assert re.search(
        rf"^samplevis: a run into {re.escape(str(out))}, pid {saving.pid} .* has stopped without "
        r"finishing 3 channel\(s\) it had claimed \(killed\?\); they are free to render again\.$",
        said,
        re.M,
    ), said
    assert "waiting for the lock" not in said
    assert "atlas: rendered 3 channels; 3 channels done already." in said
    check_whole_atlas(out)
    assert json.loads((out / "atlas.json").read_text())["channels"][:3] == list(kept.entries)


# ----- two runs' sides of one folder, in this process -------------------------------------------
def finished(run: SharedAtlas, channels: list[int]) -> dict:
    """The entries of `channels` rendered by `run` (flat grey images), their files written."""
    image = np.full((SIZE, SIZE, 3), 0.5, np.float32)
    return {
        (LAYER, c): write_channel(
            run.out, ChannelResult(LAYER, c, image, 1.0, STEPS, 0.1, (0, c)), run.settings
        )
        for c in channels
    }


def test_two_runs_claim_other_batches_and_each_save_keeps_the_others_channels(tmp_path):
    settings = Settings(steps=STEPS, size=SIZE, batch=2, seed=0)
    first, second = (SharedAtlas(tmp_path, "gabor_net", settings) for _ in range(2))
    assert first.join() == {} and second.join() == {}
    assert first.claim(LAYER, CHANNELS, 2) == ([0, 1], [])
    assert second.claim(LAYER, CHANNELS, 2) == ([2, 3], [])  # 0 and 1 are the first run's
    saved = second.save({LAYER: len(ANGLES)}, finished(second, [2, 3]))
    assert [e["channel"] for e in saved] == [2, 3]
    saved = first.save({LAYER: len(ANGLES)}, finished(first, [0, 1]))
    assert [e["channel"] for e in saved] == [0, 1, 2, 3]  # the second run's kept
    # the first run goes on with channels 2-5: the second has finished 2 and 3
    assert first.claim(LAYER, [2, 3, 4, 5], 2) == ([4, 5], [2, 3])
    assert second.claim(LAYER, [4, 5], 2) == ([], [])  # 4 and 5 are the first run's now
    second.leave()
    first.save({LAYER: len(ANGLES)}, finished(first, [4, 5]))
    first.leave()
    written = json.loads((tmp_path / "atlas.json").read_text())
    assert [e["channel"] for e in written["channels"]] == CHANNELS
    assert not (tmp_path / CLAIMS_JSON).exists()


def test_a_run_with_other_steps_than_a_live_run_in_the_folder_stops_naming_both(tmp_path):
    writing = SharedAtlas(tmp_path, "gabor_net", Settings(steps=8, size=SIZE, batch=2, seed=0))
    writing.join()
    late = SharedAtlas(tmp_path, "gabor_net", Settings(steps=16, size=SIZE, batch=4, seed=1))
    with pytest.raises(ValueError) as raised:
        late.join()
    assert str(raised.value) == (
        f"{tmp_path} is being written by another atlas run, {writing.run.process}, with "
        "steps=8, seed=0; this call asks for steps=16, seed=1. Give the same settings to share "
        "its work, wait until it ends, or give another out folder."
    )
    batch_only = SharedAtlas(tmp_path, "gabor_net", Settings(steps=8, size=SIZE, batch=4, seed=0))
    batch_only.join()  # another batch renders the same images
    writing.leave()
    batch_only.leave()
    late.join()  # once the other run has ended, other settings re-render, as for one run
