"""A GPU's memory as NVIDIA's management library tells it: the GPU that CUDA_VISIBLE_DEVICES makes
visible as GPU:i, its free memory and what this process holds; nothing when NVML cannot answer.
NVML itself is substituted (the test machines have no NVIDIA driver), as `pynvml` would answer."""

import os
import sys
import types

import pytest

from samplevis.runtime import devices

GB = 10**9


class FakeNvmlError(Exception):
    pass


def fake_pynvml(gpus, processes, calls):
    """A `pynvml` over `gpus` ({NVML index: (uuid, name, total, free)}) and `processes`
    ({NVML index: {pid: bytes}}), recording its calls in `calls`."""

    def handle_by_index(index):
        calls.append(("index", index))
        if index not in gpus:
            raise FakeNvmlError("Invalid Argument")
        return index

    def handle_by_uuid(uuid):
        calls.append(("uuid", uuid))
        return next(i for i, gpu in gpus.items() if gpu[0] == uuid)

    def memory_info(handle):
        _, _, total, free = gpus[handle]
        return types.SimpleNamespace(total=total, free=free, used=total - free)

    def running(handle):
        used = processes.get(handle, {})
        return [types.SimpleNamespace(pid=p, usedGpuMemory=b) for p, b in used.items()]

    return types.SimpleNamespace(
        NVMLError=FakeNvmlError,
        nvmlInit=lambda: calls.append("init"),
        nvmlShutdown=lambda: calls.append("shutdown"),
        nvmlDeviceGetHandleByIndex=handle_by_index,
        nvmlDeviceGetHandleByUUID=handle_by_uuid,
        nvmlDeviceGetName=lambda handle: gpus[handle][1],
        nvmlDeviceGetMemoryInfo=memory_info,
        nvmlDeviceGetComputeRunningProcesses=running,
    )


GPUS = {
    0: ("GPU-aaaa", "NVIDIA A100-SXM4-40GB", 40 * GB, 30 * GB),
    1: ("GPU-bbbb", "NVIDIA Tesla T4", 16 * GB, 2 * GB),
    3: ("GPU-dddd", "NVIDIA Tesla T4", 16 * GB, 16 * GB),
}


@pytest.fixture
def calls(monkeypatch):
    made = []
    processes = {1: {os.getpid(): 12 * GB, 1: 2 * GB}}
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml(GPUS, processes, made))
    return made


def test_visible_gpu_i_is_the_i_th_of_cuda_visible_devices_with_what_this_process_holds(
    monkeypatch, calls
):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,1")
    assert devices.nvml_memory(1, "NVIDIA Tesla T4") == (2 * GB, 12 * GB)
    assert devices.nvml_memory(0, "NVIDIA Tesla T4") == (16 * GB, 0)
    assert calls == ["init", ("index", 1), "shutdown", "init", ("index", 3), "shutdown"]


def test_gpus_named_by_uuid_and_all_gpus_when_none_are_hidden(monkeypatch, calls):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-bbbb")
    assert devices.nvml_memory(0, "NVIDIA Tesla T4") == (2 * GB, 12 * GB)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    # this process is not among the A100's: all of its memory in use counts as this process's
    assert devices.nvml_memory(0, "NVIDIA A100-SXM4-40GB") == (30 * GB, 10 * GB)


def test_nvml_answers_nothing_for_another_model_a_missing_gpu_or_no_driver(monkeypatch, calls):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert devices.nvml_memory(0, "NVIDIA Tesla T4") is None  # NVML's 0 is the A100
    assert devices.nvml_memory(2, "") is None
    assert calls.count("init") == calls.count("shutdown") == 2

    def no_driver():
        raise FakeNvmlError("NVML Shared Library Not Found")

    monkeypatch.setattr(sys.modules["pynvml"], "nvmlInit", no_driver)
    assert devices.nvml_memory(0, "") is None


def test_without_the_gpu_extra_nvml_answers_nothing(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # `import pynvml` raises ImportError
    assert devices.nvml_memory(0, "") is None
