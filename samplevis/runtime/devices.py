"""The device a run's tensors live on, and how much memory it has free: the host's from psutil on
any platform; a GPU's from NVIDIA's management library (the `gpu` extra, nvidia-ml-py), else
from the memory limit TensorFlow was given for it, else unknown.

Each question to the platform (psutil, pynvml, TensorFlow's device list) is one small function
below, so that a test can substitute it; `device` puts their answers together.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

HOST = "CPU:0"
MIB = 2**20  # bytes: TensorFlow's logical device memory limits are in MiB


@dataclass(frozen=True)
class Device:
    """A device that runs work: `tf_name` as `tf.device` says it ("CPU:0", "GPU:1"), `name` as
    a message says it ("the machine", "GPU:0 (NVIDIA Tesla T4)"), `free` the bytes a new
    allocation there can have now, None when it cannot be told."""

    tf_name: str
    name: str
    free: int | None


def work_device() -> Device:
    """The device TensorFlow places a run's work on: the first visible GPU, else the host."""
    return device(default_placement())


def device(tf_name: str) -> Device:
    """The `Device` of `tf_name` ("CPU:0", "GPU:0", ...), with its free memory: the least of what
    NVML and TensorFlow's memory limit allow, None when neither can tell."""
    kind, _, index_text = tf_name.partition(":")
    if kind == "CPU":
        return Device(tf_name, "the machine", host_free())
    index = int(index_text or 0)
    position, model = physical_gpu(index) if kind == "GPU" else (None, "")
    name = f"{tf_name} ({model})" if model else tf_name
    in_use = tensorflow_in_use(tf_name)
    allowed = []
    nvml = nvml_memory(position, model) if position is not None else None
    if nvml is not None:
        # TensorFlow keeps the device memory it has taken (all of it, unless memory growth is
        # on): what this process holds and TensorFlow's tensors do not use is free for the run.
        unused, held = nvml
        allowed.append(unused + max(held - in_use, 0))
    limit = tensorflow_limit(index) if kind == "GPU" else None
    if limit is not None:
        allowed.append(max(limit - in_use, 0))
    return Device(tf_name, name, min(allowed) if allowed else None)


def device_that_ran_out(message: str) -> Device:
    """The device a TensorFlow out-of-memory `message` names ("OOM when allocating tensor ... on
    /job:localhost/replica:0/task:0/device:GPU:0 by allocator ..."), else the work's device."""
    found = re.search(r"OOM when allocating.*?/device:([A-Z_]+):(\d+)", message, re.DOTALL)
    return device(f"{found[1]}:{found[2]}") if found else work_device()


# The platform queries, one question each.


def host_free() -> int:
    """Bytes a new allocation on the host can have now, without swapping (psutil's `available`,
    on Linux, macOS and Windows alike)."""
    import psutil

    return int(psutil.virtual_memory().available)


def default_placement() -> str:
    """The device TensorFlow places work on when no `tf.device` says otherwise: "GPU:0" when a
    GPU is visible, else "CPU:0"."""
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    return gpus[0].name.removeprefix("/device:") if gpus else HOST


def physical_gpu(index: int) -> tuple[int | None, str]:
    """(the position among all physical GPUs, as CUDA numbers them, of the GPU under visible
    logical GPU `index`, or None; the product name TensorFlow reports for it, e.g. "NVIDIA Tesla
    T4", or "")."""
    import tensorflow as tf

    found = _logical_gpu(index)
    if found is None:
        return None, ""
    physical = found[0]
    position = tf.config.list_physical_devices("GPU").index(physical)
    try:
        details = tf.config.experimental.get_device_details(physical)
    except ValueError:
        details = {}
    return position, str(details.get("device_name", ""))


def tensorflow_in_use(tf_name: str) -> int:
    """Bytes TensorFlow's tensors use on `tf_name` now (0 where it keeps no count)."""
    import tensorflow as tf

    try:
        return int(tf.config.experimental.get_memory_info(tf_name)["current"])
    except (ValueError, KeyError):
        return 0


def tensorflow_limit(index: int) -> int | None:
    """Bytes TensorFlow may use on visible GPU `index`: the memory limit its logical device was
    configured with (`tf.config.set_logical_device_configuration`), or None when it has none:
    TensorFlow reports no free or total memory of a device."""
    found = _logical_gpu(index)
    limit = getattr(found[1], "memory_limit", None) if found else None
    return int(limit * MIB) if limit else None


def nvml_memory(position: int, model: str) -> tuple[int, int] | None:
    """(bytes free, bytes this process holds) on the GPU CUDA numbers `position`, by NVIDIA's
    management library, or None when it is not installed, finds no driver, or its device there
    is not `model`."""
    try:
        import pynvml
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        return None
    try:
        handle = _nvml_handle(pynvml, position)
        found = pynvml.nvmlDeviceGetName(handle)
        found = found.decode() if isinstance(found, bytes) else str(found)
        if model and found != model:
            return None  # the visible order differs from NVML's: another device's memory
        info = pynvml.nvmlDeviceGetMemoryInfo(handle)
        used = {p.pid: p.usedGpuMemory for p in pynvml.nvmlDeviceGetComputeRunningProcesses(handle)}
        # where NVML cannot see this process (in a container it lists the host's process ids),
        # all memory in use counts as this process's: the door then lets a doubtful run go.
        held = used.get(os.getpid()) or int(info.total) - int(info.free)
        return int(info.free), int(held)
    except (pynvml.NVMLError, ValueError, IndexError):
        return None
    finally:
        pynvml.nvmlShutdown()


def _nvml_handle(pynvml, position: int):
    """NVML's handle of the GPU CUDA numbers `position`: CUDA_VISIBLE_DEVICES (indices or UUIDs)
    hides and reorders GPUs for CUDA, not for NVML."""
    visible = [e.strip() for e in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if e]
    entry = visible[position] if visible else str(position)
    if entry.startswith(("GPU-", "MIG-")):
        return pynvml.nvmlDeviceGetHandleByUUID(entry)
    return pynvml.nvmlDeviceGetHandleByIndex(int(entry))


def _logical_gpu(index: int):
    """(the physical GPU, its `LogicalDeviceConfiguration` or None) of visible logical GPU
    `index`, or None: a physical GPU split into several logical ones counts once per part."""
    import tensorflow as tf

    seen = 0
    for physical in tf.config.get_visible_devices("GPU"):
        configs = tf.config.get_logical_device_configuration(physical) or [None]
        if index < seen + len(configs):
            return physical, configs[index - seen]
        seen += len(configs)
    return None
