"""Reading legacy torch state-dict files without torch."""

import pickle
import struct
import zipfile

import numpy as np
import pytest

from samplevis.zoo.torch_pickle import MAGIC_NUMBER, PROTOCOL_VERSION, load_legacy_state_dict

# --- a minimal writer of the legacy format, so the test owns its known answers -------------------


def _value(v) -> bytes:
    """Pickle opcodes of a plain value (no PROTO header, no STOP)."""
    return pickle.dumps(v, protocol=2)[2:-1]


def _global(module: str, name: str) -> bytes:
    return pickle.GLOBAL + f"{module}\n{name}\n".encode()


def _tensor(storage_type: str, key: str, numel: int, offset: int, size, stride) -> bytes:
    persistent_id = (
        pickle.MARK
        + _value("storage")
        + _global("torch", storage_type)
        + _value(key)
        + _value("cpu")
        + _value(numel)
        + pickle.NONE
        + pickle.TUPLE
        + pickle.BINPERSID
    )
    args = (
        pickle.MARK
        + persistent_id
        + _value(offset)
        + _value(tuple(size))
        + _value(tuple(stride))
        + pickle.NEWFALSE
        + _global("collections", "OrderedDict")
        + pickle.EMPTY_TUPLE
        + pickle.REDUCE
        + pickle.TUPLE
    )
    return _global("torch._utils", "_rebuild_tensor_v2") + args + pickle.REDUCE


def _state_dict_pickle(entries: dict[str, bytes]) -> bytes:
    body = _global("collections", "OrderedDict") + pickle.EMPTY_TUPLE + pickle.REDUCE
    body += pickle.MARK
    for name, tensor in entries.items():
        body += _value(name) + tensor
    body += pickle.SETITEMS
    return pickle.PROTO + bytes([2]) + body + pickle.STOP


def _write_legacy(path, entries: dict[str, bytes], storages: dict[str, np.ndarray]) -> None:
    with open(path, "wb") as f:
        f.write(pickle.dumps(MAGIC_NUMBER, protocol=2))
        f.write(pickle.dumps(PROTOCOL_VERSION, protocol=2))
        f.write(
            pickle.dumps(
                {
                    "protocol_version": PROTOCOL_VERSION,
                    "little_endian": True,
                    "type_sizes": {"short": 2, "int": 4, "long": 4},
                },
                protocol=2,
            )
        )
        f.write(_state_dict_pickle(entries))
        f.write(pickle.dumps(list(storages), protocol=2))
        for data in storages.values():
            f.write(struct.pack("<q", data.size))
            f.write(data.astype(data.dtype.newbyteorder("<")).tobytes())


@pytest.fixture
def known_file(tmp_path):
    """A legacy file with known tensors: plain, transposed view, offset view, scalar, float64."""
    shared = np.arange(12, dtype=np.float32) * 0.5 - 1.0
    storages = {
        "s0": shared,
        "s1": np.array([3.25, -7.5], np.float64),
        "s2": np.array([42], np.int64),
        "s3": np.array([1.5, -2.0, 0.25], np.float16),
    }
    entries = {
        "conv.weight": _tensor("FloatStorage", "s0", 12, 0, (2, 3, 2), (6, 2, 1)),
        "conv.weight_t": _tensor("FloatStorage", "s0", 12, 0, (3, 2), (1, 3)),
        "tail": _tensor("FloatStorage", "s0", 12, 8, (4,), (1,)),
        "double": _tensor("DoubleStorage", "s1", 2, 0, (2,), (1,)),
        "bn.num_batches_tracked": _tensor("LongStorage", "s2", 1, 0, (), ()),
        "half": _tensor("HalfStorage", "s3", 3, 0, (3,), (1,)),
    }
    path = tmp_path / "known.pth"
    _write_legacy(path, entries, storages)
    return path, shared


def test_known_tensors_come_back_exactly_with_names_shapes_and_dtypes(known_file):
    path, shared = known_file
    state = load_legacy_state_dict(path)
    assert list(state) == [
        "conv.weight",
        "conv.weight_t",
        "tail",
        "double",
        "bn.num_batches_tracked",
        "half",
    ]
    np.testing.assert_array_equal(state["conv.weight"], shared.reshape(2, 3, 2))
    assert state["conv.weight"].dtype == np.float32
    np.testing.assert_array_equal(state["double"], [3.25, -7.5])
    assert state["double"].dtype == np.float64
    assert state["bn.num_batches_tracked"].shape == ()
    assert int(state["bn.num_batches_tracked"]) == 42
    np.testing.assert_array_equal(state["half"], np.array([1.5, -2.0, 0.25], np.float16))


def test_strided_and_offset_views_of_one_storage_are_rebuilt(known_file):
    path, shared = known_file
    state = load_legacy_state_dict(path)
    # size (3, 2) with stride (1, 3) is the transpose of the first six elements as (2, 3).
    np.testing.assert_array_equal(state["conv.weight_t"], shared[:6].reshape(2, 3).T)
    np.testing.assert_array_equal(state["tail"], shared[8:12])
    assert state["conv.weight_t"].flags["C_CONTIGUOUS"]


def test_zip_format_file_is_refused_with_a_hint_to_resave(tmp_path):
    path = tmp_path / "new_format.pth"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", b"")
    with pytest.raises(ValueError, match="zip-format.*_use_new_zipfile_serialization=False"):
        load_legacy_state_dict(path)


def test_file_without_the_magic_number_is_refused(tmp_path):
    path = tmp_path / "plain.pkl"
    path.write_bytes(pickle.dumps({"a": 1}, protocol=2))
    with pytest.raises(ValueError, match="magic number"):
        load_legacy_state_dict(path)


@pytest.mark.parametrize("cut", [1, 10, 60])
def test_truncated_file_raises_a_clear_error(known_file, tmp_path, cut):
    path, _ = known_file
    data = path.read_bytes()
    short = tmp_path / "short.pth"
    short.write_bytes(data[:-cut])
    with pytest.raises(ValueError, match="truncated"):
        load_legacy_state_dict(short)


def test_file_ending_inside_the_state_dict_pickle_is_reported_as_truncated(known_file, tmp_path):
    path, _ = known_file
    data = path.read_bytes()
    short = tmp_path / "short.pth"
    short.write_bytes(data[:200])
    with pytest.raises(ValueError, match="truncated"):
        load_legacy_state_dict(short)


def test_globals_outside_the_allow_list_are_refused_not_executed(tmp_path):
    marker = tmp_path / "was_run"
    payload = (
        pickle.PROTO
        + bytes([2])
        + _global("os", "system")
        + _value(f"touch {marker}")
        + pickle.TUPLE1
        + pickle.REDUCE
        + pickle.STOP
    )
    path = tmp_path / "evil.pth"
    with open(path, "wb") as f:
        f.write(pickle.dumps(MAGIC_NUMBER, protocol=2))
        f.write(pickle.dumps(PROTOCOL_VERSION, protocol=2))
        f.write(pickle.dumps({"little_endian": True}, protocol=2))
        f.write(payload)
    with pytest.raises(pickle.UnpicklingError, match="refusing to load global os.system"):
        load_legacy_state_dict(path)
    assert not marker.exists()


def test_packaged_efficientnet_lite0_weights_have_the_expected_parameters():
    from samplevis.zoo.efficientnet_lite0 import packaged_weights_path

    state = load_legacy_state_dict(packaged_weights_path())
    # 2 stem + 16 blocks (block 0 without expansion) + head: 296 entries in the file.
    assert len(state) == 296
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert state["_blocks.0._depthwise_conv.weight"].shape == (32, 1, 3, 3)
    assert state["_blocks.15._project_conv.weight"].shape == (320, 1152, 1, 1)
    assert state["_conv_head.weight"].shape == (1280, 320, 1, 1)
    assert state["_fc.weight"].shape == (1000, 1280)
    assert state["_fc.weight"].dtype == np.float32
    assert np.all(state["_bn0.running_var"] >= 0)
