"""Quieting TensorFlow's retracing warning where retracing is by design."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import tensorflow as tf


class _ExpectedRetracing(logging.Filter):
    """Drops TensorFlow's retracing warning for one function's qualified name."""

    def __init__(self, qualname: str):
        super().__init__()
        self.qualname = qualname

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (self.qualname in message and "retracing" in message)


@contextlib.contextmanager
def expected_retracing(qualname: str) -> Iterator[None]:
    """Within the block, no retracing warning for the function `qualname` (as TensorFlow names
    it, e.g. "Renderer._steps_fn"). TensorFlow counts traces across instances of one Python
    function, so many compiled programs, each traced once, read to it as retracing."""
    logger, quiet = tf.get_logger(), _ExpectedRetracing(qualname)
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)
