"""The samplevis command as a user's shell runs it: a fresh process, a terminal or a pipe, a
scheduler that stops it with SIGTERM."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

TESTS = Path(__file__).parents[1]  # where the test helpers are
GABOR = "conftest:gabor_keras_model"  # found in the folder the command runs in
GABOR_TABLE = """\
layer       type                    output shape  channels
gabor       Conv2D                  ?x?x4         4
gabor_relu  ReLU                    ?x?x4         4
pool        GlobalAveragePooling2D  4             4
"""

# More layers than a pipe holds (64 KiB on Linux) plus both ends' buffers: the command is still
# writing when its reader goes.
WIDE_PY = """
import keras


def build():
    inputs = keras.Input((None, None, 3))
    names = [f"branch_{i:03d}_" + "of_a_network_whose_layer_table_is_longer_than_a_pipe_holds_" * 2
             for i in range(800)]
    branches = [keras.layers.Identity(name=name)(inputs) for name in names]
    return keras.Model(inputs, keras.layers.Concatenate(name="joined")(branches))
"""


def command(*args: str) -> list[str]:
    """The `samplevis` console script's command line, run by this test's Python."""
    return [
        sys.executable,
        "-c",
        "from samplevis.cli.process import run; run()",
        *args,
    ]


def fresh_shell_env() -> dict:
    """The environment of a user who has set nothing for TensorFlow."""
    env = dict(os.environ)
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    return env


# What TensorFlow and absl log as they start: "I0000 00:00:17... port.cc:153] oneDNN custom
# operations are on", "WARNING: All log messages before absl::InitializeLog()", the CPU feature
# guard, CUDA probing.
TENSORFLOW_LOG = re.compile(
    r"^[IWEF]\d{4} |absl|oneDNN|cuda|cpu_feature_guard|TF_ENABLE_ONEDNN_OPTS", re.I | re.M
)
POSIX = pytest.mark.skipif(sys.platform == "win32", reason="Windows ends a process on SIGTERM")
# A sample run small enough for a test, long enough to be stopped mid-sampling: 4 burn-in steps,
# then blocks of 2 steps keeping the second (1 discarded between kept samples).
# The chains start at given images (no optimization to trace before the sampling is reached).
SAMPLE_FLAGS = (
    "--objective gabor_relu:1 --size 32 --num-chains 2 --polish-steps 0 --temperature 0.1 "
    "--num-burnin-steps 4 --block-steps 2 --num-steps-between-results 1 --num-results 5000 "
    # a step in state units that accepts without burn-in to adapt it, so the draws differ
    "--mass identity"
).split()
BURNIN = 4


def run(*args: str, cwd: Path = TESTS) -> subprocess.CompletedProcess:
    """The command run to its end, its output captured."""
    return subprocess.run(
        command(*args), cwd=cwd, env=fresh_shell_env(), capture_output=True, text=True, timeout=300
    )


def stopped(args: list[str], signum: int, progress: re.Pattern, after: int, cwd: Path = TESTS):
    """(exit status, stderr) of the command `args`, sent `signum` once its progress bar (the
    first group of `progress` in its stderr) has passed `after` steps."""
    process = subprocess.Popen(
        command(*args),
        cwd=cwd,
        env=fresh_shell_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.extend(iter(process.stderr.read1, b"")))
    reader.start()
    deadline = time.monotonic() + 240
    try:
        while not any(int(m) > after for m in progress.findall(b"".join(chunks).decode())):
            assert process.poll() is None, b"".join(chunks).decode()
            assert time.monotonic() < deadline, "the command never got that far"
            time.sleep(0.1)
        process.send_signal(signum)
        status = process.wait(timeout=120)
    finally:
        process.kill()
        reader.join()
    return status, b"".join(chunks).decode()


@pytest.fixture(scope="module")
def stopped_sample(tmp_path_factory):
    """(folder, exit status, stderr) of `samplevis sample`, sent SIGTERM while sampling."""
    folder = tmp_path_factory.mktemp("stopped")
    r = np.arange(32)
    starts = []
    for c in range(2):  # diagonal gratings 6 px apart, which channel 1 (45 degrees) answers
        grating = np.where((r[:, None] + r[None, :] + 3 * c) % 6 < 3, 255, 0).astype(np.uint8)
        starts.append(str(folder / f"start_{c}.png"))
        Image.fromarray(np.repeat(grating[:, :, None], 3, axis=2)).save(starts[-1])
    out = folder / "run"
    status, stderr = stopped(
        ["sample", "--model", GABOR, *SAMPLE_FLAGS, "--init", *starts, "--out", str(out)],
        signal.SIGTERM,
        re.compile(r"sampling:\s*\d+%\|[^|]*\|\s*(\d+)/"),
        BURNIN + 2,  # two sampling blocks or more done: std.png needs 2 samples
    )
    return out, status, stderr


@POSIX
@pytest.mark.slow
def test_sigterm_mid_sampling_writes_the_samples_so_far_whole_and_exits_143(stopped_sample):
    out, status, stderr = stopped_sample
    assert status == 143, stderr
    assert "samplevis: stopped by SIGTERM; wrote the samples drawn so far." in stderr
    report = json.loads((out / "diagnostics.json").read_text())
    assert report["interrupted"] is True
    samples = sorted(out.glob("sample_chain0_*.png"))
    drawn = report["diagnostics"]["num_results"]
    assert 2 <= len(samples) == drawn < 5000, stderr  # stopped, but after a sampling block
    assert sorted(out.glob("sample_chain1_*.png")) == [
        out / p.name.replace("chain0", "chain1") for p in samples
    ]
    for path in [*samples, out / "starts.png", out / "std.png"]:
        with Image.open(path) as image:
            image.load()  # decodes the whole file: a truncated one raises
            assert image.format == "PNG"
    with Image.open(out / "samples.gif") as gif:
        assert gif.n_frames == drawn
        gif.seek(drawn - 1)
        gif.load()
    assert (out / "starts.png").stat().st_size > 0


@pytest.fixture(scope="module")
def stopped_optimize(tmp_path_factory):
    """(folder, exit status, stderr) of `samplevis optimize` at 32 px, sent SIGHUP once its
    progress bar has passed its first step."""
    out = tmp_path_factory.mktemp("hung_up")
    status, stderr = stopped(
        ["optimize", "--model", GABOR, "--objective", "gabor_relu:1", "--size", "32"]
        + ["--steps", "100000", "--out", str(out)],
        signal.SIGHUP,
        re.compile(r"render[^:]*:\s*\d+%\|[^|]*\|\s*(\d+)/"),
        0,
    )
    return out, status, stderr


@POSIX
@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="the platform has no SIGHUP")
@pytest.mark.slow
def test_sighup_mid_optimize_writes_the_images_so_far_and_exits_129(stopped_optimize):
    out, status, stderr = stopped_optimize
    assert status == 129, stderr
    match = re.search(r"stopped by SIGHUP at step (\d+) of 100000; wrote the images so far", stderr)
    assert match, stderr
    written = sorted(p.name for p in out.rglob("*.png"))
    assert written == [f"channel__gabor_relu___1_{int(match.group(1)):04d}_0.png"]
    with Image.open(next(out.rglob("*.png"))) as image:
        image.load()
        assert image.size == (32, 32)


# Several commands run one after another in one process, each as `run` runs one: before each,
# a NUL line on stdout and on stderr; after the last, a NUL line on stdout, then their statuses.
COMMANDS_PY = """
import atexit, json, os, sys

from samplevis.cli.command_line import main


def end():  # as `samplevis.cli.process.run` ends: after every other exit handler, no teardown
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def mark(*streams):
    for stream in streams:
        stream.flush()
        stream.buffer.write(b"\\0\\n")
        stream.flush()


atexit.register(end)
statuses = []
for args in json.loads(sys.argv[1]):
    mark(sys.stdout, sys.stderr)
    statuses.append(main(args))
mark(sys.stdout)
print(json.dumps(statuses))
"""


def run_in_one_process(commands: dict[str, list[str]], cwd: Path = TESTS) -> dict:
    """{name: (exit status, stdout, stderr)} of each of `commands`, run in that order in one
    fresh process: TensorFlow starts in the first that imports it."""
    done = subprocess.run(
        [sys.executable, "-c", COMMANDS_PY, json.dumps(list(commands.values()))],
        cwd=cwd,
        env=fresh_shell_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    before, *outs, statuses = done.stdout.split("\0\n")
    before_err, *errs = done.stderr.split("\0\n")
    assert before == before_err == "", done.stderr  # nothing before the first command
    return dict(zip(commands, zip(json.loads(statuses), outs, errs)))


@pytest.mark.slow
def test_every_command_is_quiet_unless_verbose(stopped_sample, request, tmp_path):
    out, _, sample_stderr = stopped_sample
    gallery_folder = tmp_path / "gallery"
    shutil.copytree(out, gallery_folder / "run")
    runs = {
        "sample": sample_stderr,
        "--help": run("--help").stderr,
        "optimize --help": run("optimize", "--help").stderr,
    }
    if hasattr(signal, "SIGHUP"):  # optimize in a process of its own, stopped by SIGHUP
        runs["optimize (stopped)"] = request.getfixturevalue("stopped_optimize")[2]
    # The gallery starts TensorFlow; layers and optimize start it in processes of their own
    # here (the piped test, the SIGHUP test) and atlas loads its network as they do.
    together = run_in_one_process(
        {
            "gallery": ["gallery", str(gallery_folder)],
            "layers": ["layers", "--model", GABOR],
            "optimize": ["optimize", "--model", GABOR, "--objective", "gabor_relu:1"]
            + ["--size", "16", "--steps", "2", "--quiet", "--out", str(tmp_path / "optimize")],
            "atlas": ["atlas", "--model", GABOR, "--layers", "gabor_relu", "--channels", "0"]
            + ["--steps", "2", "--size", "16", "--quiet", "--out", str(tmp_path / "atlas")],
        }
    )
    assert together["layers"] == (0, GABOR_TABLE, "")
    for name, (status, _, stderr) in together.items():
        assert status == 0, stderr
        runs[name] = stderr
    logged = {name: TENSORFLOW_LOG.findall(stderr) for name, stderr in runs.items()}
    assert logged == {name: [] for name in runs}, runs
    page = (gallery_folder / "index.html").read_text()
    assert "The run was interrupted: these are the samples drawn before it stopped." in page
    # the pattern finds what --verbose lets through
    verbose = run("gallery", str(gallery_folder), "--verbose")
    assert verbose.returncode == 0 and TENSORFLOW_LOG.search(verbose.stderr), verbose.stderr


@pytest.mark.slow
def test_output_piped_into_a_reader_that_stops_early_ends_quietly_with_status_0(tmp_path):
    (tmp_path / "wide.py").write_text(WIDE_PY)
    # as `samplevis layers --model wide.py:build | head -1` does
    with subprocess.Popen(
        command("layers", "--model", "wide.py:build"),
        cwd=tmp_path,
        env=fresh_shell_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        first = process.stdout.readline()
        process.stdout.close()
        stderr = process.stderr.read()
        status = process.wait(timeout=300)
    assert first.split() == ["layer", "type", "output", "shape", "channels"]
    assert stderr == ""  # not "samplevis: [Errno 32] Broken pipe"
    assert status == 0


# A network whose module registers an exit handler when the command loads it, as TensorFlow,
# Ray and the progress bars do: the handler writes a file.
HANDLER_PY = """
import atexit
from pathlib import Path

import keras


def build():
    atexit.register(lambda: Path("handled.txt").write_text("ran"))
    inputs = keras.Input((None, None, 3))
    return keras.Model(inputs, keras.layers.Conv2D(2, 3, name="conv")(inputs))
"""


@pytest.mark.slow
def test_the_command_ends_after_every_exit_handler_registered_during_it_with_its_status(tmp_path):
    (tmp_path / "handler.py").write_text(HANDLER_PY)
    done = run("layers", "--model", "handler.py:build", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[:5] == ["layer", "type", "output", "shape", "channels"]
    assert (tmp_path / "handled.txt").read_text() == "ran"
    assert run("layers", "--model", "handler.py:build", "--bogus", cwd=tmp_path).returncode == 2
    assert run("layers", "--help", cwd=tmp_path).returncode == 0
