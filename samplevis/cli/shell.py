"""What every command shares with the shell: exit statuses, UsageError, printing to a reader
that may stop early (`| head`), the --out folder and writes that fall back to a temporary folder,
and the library's errors and warnings said in the command's flags."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from samplevis.models import Model, ResizeWarning
    from samplevis.optvis.objectives import Objective


import contextlib
import os
import sys
import tempfile
import traceback
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

from samplevis.models import ResizeWarning, UnknownLayerError
from samplevis.runtime import signals
from samplevis.runtime.checks import OptionMessage, Spelling

OK = 0
WRITE_FAILED = 1  # the run finished but --out refused its files; they are in a temporary folder
USAGE = 2  # bad input, as argparse exits for a bad flag
INTERRUPTED = 130  # the shell's status after Ctrl-C; what was computed is on disk
# (after SIGTERM or SIGHUP, which stop a command as Ctrl-C does, the CLI exits with 143 or 129)
# samplevis's own warnings come from files in here
PACKAGE_FOLDER = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class UsageError(Exception):
    """Input the command cannot use; the command line prints the message and exits with
    status 2."""


def say(message: str) -> None:
    """Print one of the command's own messages on stderr."""
    print(f"samplevis: {message}", file=sys.stderr)


def stopped() -> str:
    """What stopped the command early, for its messages: 'interrupted' (Ctrl-C) or 'stopped by
    SIGTERM' (a termination signal, see `samplevis.runtime.signals`)."""
    signum = signals.received()
    return "interrupted" if signum is None else f"stopped by {signals.name(signum)}"


def print_out(line: object) -> None:
    """Print `line` on stdout; once its reader has gone (`| head`), print nothing more and carry
    on: the files a command writes matter more than the list of them."""
    try:
        print(line)
    except BrokenPipeError:
        discard(sys.stdout)


def discard(stream: TextIO) -> None:
    """Point `stream`'s file descriptor at /dev/null: what is still buffered, and what comes, is
    dropped without the error a closed pipe raises (also at exit, when Python flushes it)."""
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, stream.fileno())
    finally:
        os.close(null)


def out_folder(spec: str) -> Path:
    """The --out folder, checked before any work so that a bad path fails at once; it is
    created when the first file is written."""
    out = Path(spec)
    existing = next(p for p in (out, *out.parents) if p.exists())
    if not existing.is_dir():
        where = "is a file" if existing == out else f"lies under the file {str(existing)!r}"
        raise UsageError(f"--out {spec!r} {where}; give a folder (it is created if missing).")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(
            f"cannot write in {str(existing)!r} for --out {spec!r}; give another folder."
        )
    return out


def written(write: Callable[[Path], list[Path]], out: Path) -> tuple[list[Path], bool]:
    """(write(out), True); if the disk refuses (full, removed, read-only), (write(a new temporary
    folder), False) instead, so that a finished run is not lost. A termination signal waits
    until the files are written (`signals.held`)."""
    with signals.held():
        try:
            return write(out), True
        except OSError as err:
            rescue = Path(tempfile.mkdtemp(prefix="samplevis-"))
            say(
                f"could not write to {str(out)!r} ({err.strerror or err}); writing to "
                f"{str(rescue)!r} instead."
            )
            return write(rescue), False


def load_model(spec: str, pretrained: bool = True) -> Model:
    """`zoo.load(spec)`; a Keras application whose weights cannot be downloaded is bad input that
    the built-in model avoids."""
    from samplevis.zoo.specs import DEFAULT, load

    try:
        return load(spec, pretrained=pretrained)
    except ConnectionError as err:
        raise UsageError(f"{err} The built-in model needs no network: --model {DEFAULT}.") from None


def objective(spec: str) -> Objective:
    """The objective --objective writes: 'layer:channel', or units composed
    (`objectives.from_text`: 'max(logits:945 / 33.6, 0.6 * logits:498 / 37.9)')."""
    from samplevis.optvis import objectives

    try:
        return objectives.from_text(spec)
    except ValueError as err:
        raise UsageError(f"--objective: {err}") from None


def say_resize(warning: ResizeWarning) -> None:
    """A `models.ResizeWarning` in the command's terms: the --size that fits the network."""
    height, width = warning.input_size
    fix = (
        f"Render at that size: --size {height}."
        if height == width
        else f"The command line renders square images; for {height}x{width} use the Python API: "
        f"param.image({width}, {height})."
    )
    say(f"{warning.problem} {fix}")


@contextlib.contextmanager
def resize_said_once(model: Model, size: int) -> Iterator[None]:
    """Say now, in the command's terms, that `size` px images get resized for `model`, and keep
    the library from warning about it again within the block."""
    resized = model.resize_warning(size, size)
    if resized is not None:
        say_resize(resized)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResizeWarning)
        yield


def slug(text: str) -> str:
    """`text` as part of a file name: letters and digits, the rest '_', at most 80 characters."""
    return "".join(c if c.isalnum() else "_" for c in text).strip("_")[:80]


@contextlib.contextmanager
def warnings_said(spell: Spelling) -> Iterator[None]:
    """Within the block, warnings are recorded; as it ends, samplevis's print as the command's
    own messages, with options named by `spell`, and other libraries' as Python prints them."""
    caught: list[warnings.WarningMessage] = []
    # samplevis's warnings name the first line outside the package (`user_stacklevel`): in a
    # command, a line of what called the command (its script, runpy, a test)
    callers = {frame.filename for frame in traceback.extract_stack()[:-2]}
    try:
        with warnings.catch_warnings(record=True) as caught:
            # The commands say themselves what an interrupted run wrote.
            warnings.filterwarnings(
                "ignore", r"(render(_vis)?|atlas|examples) interrupted", UserWarning
            )
            yield
    finally:
        for warning in caught:
            message = warning.message
            if isinstance(message, ResizeWarning):
                say_resize(message)
            elif isinstance(message, OptionMessage):
                say(message.spelt(spell))
            elif issubclass(warning.category, UserWarning) and (
                warning.filename.startswith(PACKAGE_FOLDER) or warning.filename in callers
            ):
                say(str(message))
            else:
                warnings.showwarning(
                    message, warning.category, warning.filename, warning.lineno, line=warning.line
                )


def explained(err: Exception, spec: str | None, spell: Spelling) -> tuple[int, str]:
    """(exit status, message) for the error a command stopped with; `spec` is its --model."""
    if isinstance(err, OptionMessage):  # library errors about an option: in flags
        return USAGE, err.spelt(spell)
    if isinstance(err, UnknownLayerError):
        # the layers of the model this command loaded, not those of the default one
        return USAGE, f"{err.problem} List all names with `samplevis layers --model {spec}`."
    if isinstance(err, (UsageError, ValueError)):
        return USAGE, str(err)
    return WRITE_FAILED, str(err)  # a disk that refuses a file (full, read-only, removed)
