"""TensorFlow started without its start-up log, whichever command imports it and whenever.

TensorFlow's C++ libraries log as they load (CUDA probing, oneDNN notices, the CPU feature
guard), each library with its own copy of the logger, and the logger writes before it reads
TF_CPP_MIN_LOG_LEVEL: only dropping what reaches file descriptor 2 during the import keeps those
lines out. Level 3, set before the import, keeps out what it logs later (a failed cuInit on
machines without a GPU is logged as an ERROR).
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any


@contextlib.contextmanager
def stderr_discarded() -> Iterator[None]:
    """Within the block, what anything writes to file descriptor 2 (C++ code too) is dropped."""
    sys.stderr.flush()
    kept = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(kept, 2)
        os.close(kept)
        os.close(null)


class _QuietLoader(importlib.abc.Loader):
    """TensorFlow's own loader, run with its log level at 3 and file descriptor 2 dropped."""

    def __init__(self, loader: importlib.abc.Loader):
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        with stderr_discarded():
            self.loader.exec_module(module)

    def __getattr__(self, name: str) -> Any:  # resources, source: the package's own loader's
        return getattr(self.loader, name)


class QuietTensorFlow(importlib.abc.MetaPathFinder):
    """An import hook: the first `import tensorflow` after `on()` goes through `_QuietLoader`.
    It takes itself off the import path once used, or at `off()`."""

    def on(self) -> None:
        if "tensorflow" not in sys.modules and self not in sys.meta_path:
            sys.meta_path.insert(0, self)

    def off(self) -> None:
        if self in sys.meta_path:
            sys.meta_path.remove(self)

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "tensorflow":
            return None
        self.off()  # before asking the other finders, which would otherwise ask this one again
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


@contextlib.contextmanager
def quiet_tensorflow() -> Iterator[QuietTensorFlow]:
    """Within the block, TensorFlow, if imported, starts without its log; `off()` on what it
    yields (for --verbose) lets the log through. Nothing changes once TensorFlow is imported."""
    hook = QuietTensorFlow()
    hook.on()
    try:
        yield hook
    finally:
        hook.off()
