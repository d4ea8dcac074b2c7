"""Files written whole or not at all (`atomic_path`, `write_bytes`) and JSON (`write_json`): the
bytes go to a temporary file in the same directory, which then replaces the target in one step,
so an interrupted run never leaves a truncated file. On the ground floor, so that runtime's folder
locks and claims write with it; `samplevis.io` writes images with it.
"""

from __future__ import annotations

import contextlib
import glob
import json
import math
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it replaces `path`, on error it is removed.

    Args:
        path: the file to write; its folder is created if missing.

    Yields:
        The temporary path to write.

    Raises:
        IsADirectoryError: `path` is a folder.
    """
    path = as_path(path)
    if path.is_dir():
        raise IsADirectoryError(
            f"{path} is a folder; give a file path inside it, e.g. "
            f"{path / ('image' + (path.suffix or '.png'))}."
        )
    make_folder(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes files private; give the usual mode
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def partial_writes(path: str | os.PathLike) -> list[Path]:
    """The temporary files that writes of `path` stopped midway (a SIGKILL, a power loss) left
    beside it; `path` itself is whole (see `atomic_path`).

    Args:
        path: the file.

    Returns:
        Their paths, sorted.
    """
    path = Path(path)
    return sorted(path.parent.glob(f".{glob.escape(path.name)}.*.part"))


def as_path(path: object) -> Path:
    """`path` as a Path; anything else is most likely the data given first (Lucid's order).

    Args:
        path: a str or os.PathLike.

    Returns:
        The Path.

    Raises:
        TypeError: `path` is not a path.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"the file path comes first, then the data, e.g. save_png('a.png', image); "
            f"got a {type(path).__name__} as the path."
        )
    return Path(path)


def make_folder(folder: Path) -> None:
    """Create `folder` and its parents.

    Args:
        folder: the folder.

    Raises:
        NotADirectoryError: a file in the way, named.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        in_the_way = next(p for p in [folder, *folder.parents] if p.exists() and not p.is_dir())
        raise NotADirectoryError(
            f"cannot write into {folder}: {in_the_way} is a file, not a "
            "folder. Choose another folder."
        ) from None


def check_suffix(path: str | os.PathLike, suffix: str, *others: str) -> None:
    """Refuse a file name whose suffix promises another format than the bytes written.

    Args:
        path: the file name.
        suffix: the suffix of the format written, e.g. ".png".
        *others: other suffixes that are as good.

    Raises:
        ValueError: `path` ends in another suffix.
    """
    path = as_path(path)
    if path.suffix.lower() not in (suffix, *others):
        raise ValueError(
            f"this writes {suffix[1:].upper()} data; name the file with {suffix}, "
            f"e.g. {path.with_suffix(suffix)}; got {path}."
        )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` atomically.

    Args:
        path: the file; its folder is created if missing.
        data: the bytes.

    Returns:
        The path.
    """
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def json_value(value: Any) -> Any:
    """`value` as a JSON value: numpy scalars and arrays as numbers and lists, and NaN and
    infinities as None: JSON has no token for them, and strict readers (JavaScript, jq) reject
    Python's.

    Args:
        value: a number, string, bool, None, numpy value, or a list, tuple or dict of them.

    Returns:
        The JSON value.

    Raises:
        TypeError: what JSON cannot hold.
    """
    if isinstance(value, np.ndarray):
        value = value.tolist()
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {k: json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if value is None or isinstance(value, (str, int)):  # bool is an int
        return value
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def json_text(obj: object, indent: int | None = None) -> str:
    """`obj` as standard JSON text: numpy scalars and arrays as numbers and lists, NaN and
    infinities as null.

    Args:
        obj: what `json_value` takes.
        indent: as `json.dumps`'s.

    Returns:
        The text.

    Examples:
        >>> json_text({"a": np.float32(0.5), "b": float("nan")})
        '{"a": 0.5, "b": null}'
    """
    return json.dumps(json_value(obj), indent=indent, allow_nan=False)


def write_json(path: str | os.PathLike, obj: object) -> Path:
    """Write `obj` as indented standard JSON to a .json path, atomically: numpy scalars and
    arrays become numbers and lists, NaN and infinities become null.

    Args:
        path: a .json path.
        obj: what `json_value` takes.

    Returns:
        The path.
    """
    check_suffix(path, ".json")
    return write_bytes(path, (json_text(obj, indent=2) + "\n").encode())
