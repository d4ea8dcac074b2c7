"""Model factories for the atlas tests, importable by Ray workers (the tests put this folder on
their PYTHONPATH)."""

import functools
import os
import signal
import threading
import time

ANGLES = (0.0, 30.0, 60.0, 90.0, 120.0, 150.0)  # six Gabor channels
KILL_AFTER = 2.0  # seconds after a worker has loaded the model: it is rendering its first batch


@functools.cache
def gabor_net():
    """The Gabor model of conftest with six orientations; one instance per process, so that
    every atlas of a test process reuses its compiled programs."""
    from samplevis import Model

    from conftest import gabor_keras_model

    return Model(gabor_keras_model(angles=ANGLES), name="gabor_net")


def gabor_net_killed_once(marker: str):
    """`gabor_net()`; the first Ray actor to load it (the one that creates `marker`) is killed
    with SIGKILL KILL_AFTER seconds later, in the middle of its first batch."""
    import ray

    model = gabor_net()
    if ray.is_initialized() and ray.get_runtime_context().get_actor_id():
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return model
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        threading.Thread(target=_kill_later, daemon=True).start()
    return model


def _kill_later() -> None:
    time.sleep(KILL_AFTER)
    os.kill(os.getpid(), signal.SIGKILL)
