"""The samplevis command as a user's shell runs it: a fresh process, a terminal or a pipe."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
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
        "import sys; from samplevis.cli import main; sys.exit(main())",
        *args,
    ]


def fresh_shell_env() -> dict:
    """The environment of a user who has set nothing for TensorFlow."""
    env = dict(os.environ)
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    return env


@pytest.mark.slow
def test_commands_start_without_tensorflows_log_and_verbose_shows_it():
    quiet = subprocess.run(
        command("layers", "--model", GABOR),
        cwd=TESTS,
        env=fresh_shell_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert quiet.returncode == 0
    assert quiet.stdout == GABOR_TABLE
    assert quiet.stderr == ""  # no "E0000 ... cuInit", oneDNN notice or absl warning
    verbose = subprocess.run(
        command("layers", "--model", GABOR, "--verbose"),
        cwd=TESTS,
        env=fresh_shell_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert verbose.returncode == 0 and verbose.stdout == GABOR_TABLE


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
