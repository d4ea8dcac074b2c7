"""Read a legacy (pre-1.6, non-zip) PyTorch state-dict file with numpy only.

The legacy format is a plain concatenation of pickles and raw bytes:

1. magic number (a pickled int), 2. protocol version, 3. system info (a dict),
4. the object itself, where every tensor refers to a storage through a pickle
   persistent id ``("storage", storage_type, key, location, numel, view_metadata)``,
5. the list of storage keys, in the order their data follows,
6. for each key: an int64 element count, then ``count * itemsize`` bytes of raw
   little-endian data.

Only a fixed allow-list of globals is resolved while unpickling; anything else is
refused, so reading a file never runs code named by the file.
"""

from __future__ import annotations

import collections
import os
import pickle
from typing import Any, BinaryIO

import numpy as np

# The constant torch writes first in every legacy file (torch/serialization.py, MAGIC_NUMBER).
MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
# The only legacy protocol version torch ever wrote (torch/serialization.py, PROTOCOL_VERSION).
PROTOCOL_VERSION = 1001

# Storage class name -> little-endian numpy dtype of one element.
_STORAGE_DTYPES: dict[str, np.dtype] = {
    "DoubleStorage": np.dtype("<f8"),
    "FloatStorage": np.dtype("<f4"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


class _StorageType:
    """Stand-in for a ``torch.*Storage`` class: only remembers its element dtype."""

    def __init__(self, name: str):
        self.name = name
        self.dtype = _STORAGE_DTYPES[name]


class _Storage:
    """Stand-in for one storage: flat data filled in after the object pickle is read."""

    def __init__(self, key: str, dtype: np.dtype, numel: int):
        self.key = key
        self.dtype = dtype
        self.numel = numel
        self.data: np.ndarray | None = None


class _StorageView:
    """A storage that is a slice ``[offset, offset + numel)`` of another (old torch files)."""

    def __init__(self, base: _Storage, offset: int, numel: int):
        self.base = base
        self.offset = offset
        self.numel = numel


class _LazyTensor:
    """A tensor whose storage data has not been read yet."""

    def __init__(
        self,
        storage: _Storage | _StorageView,
        offset: int,
        size: tuple[int, ...],
        stride: tuple[int, ...],
    ):
        self.storage = storage
        self.offset = offset
        self.size = tuple(size)
        self.stride = tuple(stride)

    def materialize(self) -> np.ndarray:
        storage, offset = self.storage, self.offset
        if isinstance(storage, _StorageView):
            offset += storage.offset
            storage = storage.base
        flat = storage.data
        if flat is None:
            raise ValueError(
                f"storage {storage.key!r} is used by a tensor but its data was "
                "never written in the file; the file is malformed."
            )
        if not self.size:
            return flat[offset].copy()
        extent = offset + sum((n - 1) * s for n, s in zip(self.size, self.stride)) + 1
        if min(self.size) > 0 and extent > flat.size:
            raise ValueError(
                f"tensor of size {self.size}, stride {self.stride} at offset {offset} "
                f"needs {extent} elements but storage {storage.key!r} has {flat.size}; "
                "the file is malformed."
            )
        strides = tuple(s * flat.itemsize for s in self.stride)
        view = np.lib.stride_tricks.as_strided(flat[offset:], shape=self.size, strides=strides)
        # Copy so every returned array owns contiguous native-order memory.
        return np.ascontiguousarray(view).astype(flat.dtype.newbyteorder("="), copy=False)


def _rebuild_tensor_v2(
    storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None
) -> _LazyTensor:
    return _LazyTensor(storage, storage_offset, size, stride)


def _rebuild_tensor(storage, storage_offset, size, stride) -> _LazyTensor:
    return _LazyTensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None):
    # A Parameter is a tensor for our purposes.
    return data


def _rebuild_parameter_with_state(data, requires_grad=False, backward_hooks=None, state=None):
    return data


_ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
    **{("torch", name): _StorageType(name) for name in _STORAGE_DTYPES},
}


class _StateDictUnpickler(pickle.Unpickler):
    """Unpickler resolving only allow-listed globals and torch storage persistent ids."""

    def __init__(self, file: BinaryIO):
        super().__init__(file, encoding="latin1")
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load global {module}.{name}: only tensors, storages and "
                f"OrderedDict are allowed in a state dict ({len(_ALLOWED_GLOBALS)} known "
                "globals). Save a plain state_dict() of tensors."
            ) from None

    def persistent_load(self, pid: Any) -> _Storage | _StorageView:
        if not (isinstance(pid, tuple) and len(pid) == 6 and pid[0] == "storage"):
            raise pickle.UnpicklingError(
                f"expected a persistent id ('storage', type, key, location, numel, view), "
                f"got {pid!r}; the file is not a legacy torch state dict."
            )
        _, storage_type, key, _location, numel, view_metadata = pid
        if not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError(f"expected a torch storage class, got {storage_type!r}.")
        if key not in self.storages:
            self.storages[key] = _Storage(key, storage_type.dtype, int(numel))
        storage = self.storages[key]
        if view_metadata is not None:
            _view_key, offset, view_numel = view_metadata
            return _StorageView(storage, int(offset), int(view_numel))
        return storage


def _read_exact(f: BinaryIO, n: int, what: str) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise ValueError(
            f"truncated file: expected {n} bytes for {what}, got {len(data)}. "
            "Re-copy or re-download the file."
        )
    return data


def _load_pickle(f: BinaryIO, what: str, unpickler: _StateDictUnpickler | None = None) -> Any:
    unpickler = unpickler or _StateDictUnpickler(f)
    try:
        return unpickler.load()
    except (EOFError, pickle.UnpicklingError) as e:
        # The C unpickler reports a short read as UnpicklingError("pickle data was truncated").
        if isinstance(e, EOFError) or "truncated" in str(e):
            raise ValueError(
                f"truncated file: it ends inside the {what} pickle. "
                "Re-copy or re-download the file."
            ) from None
        raise


def _materialize(obj: Any) -> Any:
    if isinstance(obj, _LazyTensor):
        return obj.materialize()
    if isinstance(obj, dict):
        return {k: _materialize(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_materialize(v) for v in obj)
    return obj


def load_legacy_state_dict(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a legacy torch ``state_dict`` file into numpy arrays.

    Args:
      path: a file written by ``torch.save(state_dict, path,
        _use_new_zipfile_serialization=False)`` (or by torch < 1.6).

    Returns:
      ``{parameter name: array}`` in file order; arrays keep torch's shapes and
      dtypes (e.g. conv weights are float32 ``[out, in, kh, kw]``).

    Raises:
      ValueError: the file is the zip format, is not a torch file, or is truncated.
      pickle.UnpicklingError: the file names a global outside the allow-list.
    """
    with open(path, "rb") as f:
        head = f.read(4)
        if head.startswith(b"PK\x03\x04"):
            raise ValueError(
                f"{os.fspath(path)!r} is a zip-format torch file (torch >= 1.6); expected the "
                "legacy format. Re-save it with torch.save(obj, path, "
                "_use_new_zipfile_serialization=False)."
            )
        f.seek(0)
        return _read_legacy(f, os.fspath(path))


def _read_legacy(f: BinaryIO, name: str) -> dict[str, np.ndarray]:
    try:
        magic = _StateDictUnpickler(f).load()
    except (pickle.UnpicklingError, EOFError, ValueError, IndexError):
        magic = None
    if magic != MAGIC_NUMBER:
        raise ValueError(
            f"{name!r} does not start with the legacy torch magic number "
            f"{MAGIC_NUMBER:#x}; expected a file written by torch.save."
        )
    version = _load_pickle(f, "protocol version")
    if version != PROTOCOL_VERSION:
        raise ValueError(
            f"{name!r} has torch protocol version {version!r}; expected {PROTOCOL_VERSION}."
        )
    sys_info = _load_pickle(f, "system info")
    if isinstance(sys_info, dict) and not sys_info.get("little_endian", True):
        raise ValueError(
            f"{name!r} was written on a big-endian machine; only little-endian files are supported."
        )
    unpickler = _StateDictUnpickler(f)
    result = _load_pickle(f, "state-dict", unpickler)
    keys = _load_pickle(f, "storage keys")
    for key in keys:
        storage = unpickler.storages.get(key)
        if storage is None:
            raise ValueError(
                f"storage key {key!r} is listed in the file but no tensor uses it; "
                "the file is malformed."
            )
        count = int(np.frombuffer(_read_exact(f, 8, f"the size of storage {key!r}"), "<i8")[0])
        raw = _read_exact(f, count * storage.dtype.itemsize, f"the data of storage {key!r}")
        storage.data = np.frombuffer(raw, dtype=storage.dtype)
    result = _materialize(result)
    if not isinstance(result, dict):
        raise ValueError(
            f"expected a state dict (a mapping of names to tensors), got {type(result).__name__}."
        )
    return dict(result)
