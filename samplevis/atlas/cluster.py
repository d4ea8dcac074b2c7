"""Running an atlas's batches on Ray actors that each load the model once. Imported only when
`atlas(..., cluster=...)` (`samplevis atlas --ray`) asks for Ray."""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from samplevis.atlas.batches import LayerRenderers
from samplevis.atlas.results import ChannelResult, Settings

RAY_RETRIES = 3  # restarts of a dead Ray worker, and retries of a batch whose worker died or failed


class AtlasWorker:
    """A Ray actor: loads the model once, then renders the batches it is sent."""

    def __init__(self, model_factory: Callable, settings: Settings):
        import ray

        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU")
        if cpus:  # as many TensorFlow threads as the actor was given CPUs, not the node's count
            import tensorflow as tf

            threads = max(1, int(cpus))
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        from samplevis.models import as_model

        self.renderers = LayerRenderers(as_model(model_factory()), settings)

    def ready(self) -> bool:
        return True

    def render(self, layer: str, channels: list[int]) -> list[ChannelResult]:
        return self.renderers.render_batch(layer, channels)


class RayPool:
    """Batches as calls to Ray actors, one model per actor, each kept busy with one batch.

    A batch whose actor dies goes back to the queue, so the next free actor takes it, while Ray
    restarts the dead one (up to RAY_RETRIES times; it rejoins once it answers). A batch is
    retried up to RAY_RETRIES times, then its error is raised.
    """

    def __init__(
        self,
        model_factory: Callable,
        settings: Settings,
        cluster: bool | str,
        workers: int | None,
        worker_options: Mapping[str, Any],
        jobs: int,
    ):
        import ray

        self.ray = ray
        self.started = not ray.is_initialized()
        if self.started:
            address = None if cluster is True or cluster == "local" else str(cluster)
            ray.init(
                address=address,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.WARNING,
            )  # no INFO lines around the progress bar
        options = {"num_cpus": 1, **worker_options}
        if workers is None:
            resource, each = (
                ("GPU", options["num_gpus"])
                if options.get("num_gpus")
                else ("CPU", options["num_cpus"])
            )
            workers = max(1, int(ray.cluster_resources().get(resource, 1) // max(each, 1e-9)))
        actor = ray.remote(max_restarts=RAY_RETRIES, max_task_retries=0)(AtlasWorker)
        self.actors: list[Any] = [
            actor.options(**options).remote(model_factory, settings)
            for _ in range(max(1, min(workers, jobs)))
        ]

    def run(self, jobs: Iterable[tuple[str, list[int]]]) -> Iterator[list[ChannelResult]]:
        ray = self.ray
        fresh = iter(jobs)  # taken one at a time, as an actor comes free (the atlas claims each)
        queue: collections.deque = collections.deque()  # batches to retry, before fresh ones
        idle: list[Any] = list(self.actors)
        pending: dict[Any, tuple] = {}
        deaths: collections.Counter = collections.Counter()
        while True:
            while len(queue) < len(idle):
                job = next(fresh, None)
                if job is None:
                    break
                queue.append((job, 0))
            if not queue and not any(kind == "batch" for kind, *_ in pending.values()):
                return
            while idle and queue:
                (layer, channels), tries = queue.popleft()
                actor = idle.pop()
                pending[actor.render.remote(layer, channels)] = (
                    "batch",
                    actor,
                    (layer, channels),
                    tries,
                )
            if not pending:
                raise RuntimeError(
                    "every Ray worker of the atlas died; see the workers' logs "
                    "(ray logs) for why, e.g. out of memory."
                )
            [ref], _ = ray.wait(list(pending), num_returns=1)
            kind, actor, job, tries = pending.pop(ref)
            try:
                results = ray.get(ref)
            except ray.exceptions.RayActorError as err:
                if kind == "batch":
                    if tries >= RAY_RETRIES:
                        raise RuntimeError(
                            f"channels {job[1]} of layer {job[0]!r} lost their Ray "
                            f"worker {tries + 1} times (out of memory?); see the "
                            "workers' logs (ray logs)."
                        ) from err
                    queue.appendleft((job, tries + 1))
                deaths[actor] += 1
                if deaths[actor] <= RAY_RETRIES:  # Ray restarts it; it rejoins when it answers
                    pending[actor.ready.remote()] = ("ready", actor, None, 0)
                continue
            except ray.exceptions.RayTaskError as err:
                if tries >= RAY_RETRIES:
                    raise err.as_instanceof_cause() from None
                queue.appendleft((job, tries + 1))
                results = None
            idle.append(actor)
            if kind == "batch" and results is not None:
                yield results

    def close(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor, no_restart=True)
        if self.started:
            self.ray.shutdown()
