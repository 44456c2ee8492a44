"""The HTTP API on Ray Serve: N replicas of the same FastAPI app (:func:`ct1_sim.service.create_app`), one rollout queue.

Two deployments make the application:

- ``ct1-sim`` (the ingress, ``replicas`` copies at ``replica_cpus`` CPUs each): the same app as the single-process
  server (routes, validation, token auth, upload limits, metrics), its trajectory requests batched per replica by
  ``@serve.batch`` (:class:`ServeBatcher`) and every response naming its replica in the ``X-CT1-Replica`` header.
  Each replica loads the trajectory model only.
- ``ct1-rollouts`` (one replica): the rollout job queue (:class:`ct1_sim.service.jobs.RolloutJobs`) with the video
  model. Every ingress replica submits to it and reads from it through a handle, so a job id posted to one replica can
  be polled on any other (Serve's HTTP proxy picks a replica per request; no sticky routing is needed), the job limit
  holds for the whole service, and the video model is loaded once.

Example (what ``ct1-sim serve --ray`` runs):
    >>> with serving(ModelSpec(), ServiceSettings(), replicas=2) as url:   # doctest: +SKIP
    ...     requests.post(f"{url}/v1/trajectories", ...).headers["X-CT1-Replica"]
    'ct1-sim#5r2k1x9q'
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from ray import serve
from ray.serve.handle import DeploymentHandle

from ct1_sim.paths import TRAJECTORY_MODEL, default_model_dir
from ct1_sim.ray_pool import ray_session
from ct1_sim.service.app import create_app
from ct1_sim.service.batcher import Batcher, TrajectoryQuery
from ct1_sim.service.jobs import RolloutJobs
from ct1_sim.service.settings import ServiceSettings
from ct1_sim.world import Prediction, WorldModel

log = logging.getLogger(__name__)

APP_NAME = "ct1-sim"
INGRESS_NAME = "ct1-sim"
ROLLOUTS_NAME = "ct1-rollouts"
#: Requests a replica takes at once beyond ``max_pending`` trajectory requests (job polls, health, metrics), so the
#: app's own limits answer a burst (429) instead of Serve queueing it unseen.
EXTRA_ONGOING = 32


@dataclass(frozen=True)
class ModelSpec:
    """Which models every replica loads. ``trajectory`` / ``video``: model folders, None for the shipped ones (the
    folders must exist at that path on every node that runs a replica); ``with_video=False``: no video model (rollout
    jobs then fail with the reason, as in the single-process server); ``device``: auto | cpu | cuda."""

    trajectory: str | None = None
    video: str | None = None
    with_video: bool = True
    device: str = "auto"

    def check(self) -> None:
        """``FileNotFoundError`` now, on the driver, for a model folder that is not there (a replica that cannot load
        its model would otherwise be retried by Serve before the deployment fails)."""
        folder = Path(self.trajectory) if self.trajectory is not None else default_model_dir(TRAJECTORY_MODEL)
        if not (folder / "config.json").is_file():
            raise FileNotFoundError(f"no trajectory model at {folder} (no config.json)")
        if self.with_video and self.video is not None and not (Path(self.video) / "model_index.json").is_file():
            raise FileNotFoundError(f"no video pipeline at {self.video} (no model_index.json)")

    def load(self, video: bool) -> WorldModel:
        """The world model, with the video model only when ``video`` (and :attr:`with_video`)."""
        return WorldModel.from_pretrained(self.trajectory, self.video, device=self.device,
                                          with_video=video and self.with_video)


class ServeBatcher(Batcher):
    """Trajectory requests of one replica batched by ``@serve.batch``: up to ``settings.max_batch`` queries per model
    call, waiting ``settings.batch_window_ms`` for more once one is queued (0: only those that queued while the model
    was busy), one batch at a time; admission (``max_pending``), counters and the one-by-one fallback are
    :class:`Batcher`'s, as in the single-process server."""

    def __init__(self, world: WorldModel, settings: ServiceSettings) -> None:
        super().__init__(world, settings.max_pending)
        self._batched.set_max_batch_size(settings.max_batch)
        self._batched.set_batch_wait_timeout_s(settings.batch_window_ms / 1000)
        self._running = 0  # queries in the batch being answered

    @property
    def queued(self) -> int:
        return self.pending - self._running

    async def _enqueue(self, query: TrajectoryQuery) -> Prediction:
        result = await self._batched(query)
        if isinstance(result, Exception):
            raise result
        return result

    @serve.batch(max_batch_size=16, batch_wait_timeout_s=0.0)  # both set per instance from the settings
    async def _batched(self, queries: list[TrajectoryQuery]) -> list[Prediction | Exception]:
        self._running += len(queries)
        try:
            return await self.run_batch(queries)
        finally:
            self._running -= len(queries)


class RemoteRollouts:
    """:class:`RolloutJobs`' awaitable methods, run by the ``ct1-rollouts`` deployment through its handle."""

    def __init__(self, handle: DeploymentHandle) -> None:
        self.handle = handle

    async def submit(self, *args: Any) -> dict[str, Any]:
        return await self.handle.submit.remote(*args)

    async def status(self, job_id: str) -> dict[str, Any] | None:
        return await self.handle.status.remote(job_id)

    async def video(self, job_id: str) -> bytes | None:
        return await self.handle.video.remote(job_id)

    async def info(self) -> dict[str, Any]:
        return await self.handle.info.remote()


def replica_threads(cpus: float) -> int:
    """Threads of a replica that reserves ``cpus`` CPUs (at least 1): its sampling lanes (one single-threaded ONNX
    Runtime run each). A query's floats depend on this count in their last bits (it decides how a batch, or a lone
    query's samples, are split over the lanes): a single-process server gives the same JSON when it runs with as many
    threads (``OMP_NUM_THREADS``)."""
    return max(1, math.floor(cpus))


@serve.ingress()
class TrajectoryReplica:
    """One ingress replica: the trajectory model and the app over it (built by Serve after the constructor), sampling
    with :func:`replica_threads` threads."""

    def __init__(self, spec: ModelSpec, settings: ServiceSettings, rollouts: DeploymentHandle, threads: int) -> None:
        import torch

        torch.set_num_threads(threads)  # the sampling lanes (and torch's own ops) follow this count
        self.world = spec.load(video=False)
        self.settings, self.rollouts = settings, RemoteRollouts(rollouts)
        context = serve.get_replica_context()
        self.replica = f"{context.deployment}#{context.replica_tag}"

    def __serve_build_asgi_app__(self) -> FastAPI:
        return create_app(self.world, self.settings, batcher=ServeBatcher(self.world, self.settings),
                          rollouts=self.rollouts, replica=self.replica)


class RolloutQueue(RolloutJobs):
    """The service's one rollout queue, with the world model (trajectory + video) it renders with."""

    def __init__(self, spec: ModelSpec, settings: ServiceSettings) -> None:
        super().__init__(spec.load(video=True), settings.max_jobs, settings.keep_finished_jobs)


def build_app(spec: ModelSpec, settings: ServiceSettings, replicas: int, replica_cpus: float = 1.0,
              rollout_cpus: float = 0.0) -> serve.Application:
    """The Serve application: ``replicas`` ingress replicas at ``replica_cpus`` CPUs each over one rollout queue at
    ``rollout_cpus`` CPUs (0: it shares the CPUs; it renders only while a job runs)."""
    if replicas < 1:
        raise ValueError(f"--replicas must be >= 1, got {replicas}")
    if replica_cpus < 0 or rollout_cpus < 0:
        raise ValueError(f"CPUs per replica must be >= 0, got {replica_cpus} and {rollout_cpus}")
    rollouts = serve.deployment(RolloutQueue, name=ROLLOUTS_NAME, num_replicas=1, max_ongoing_requests=256,
                                ray_actor_options={"num_cpus": rollout_cpus})
    ingress = serve.deployment(TrajectoryReplica, name=INGRESS_NAME, num_replicas=replicas,
                               max_ongoing_requests=settings.max_pending + EXTRA_ONGOING,
                               ray_actor_options={"num_cpus": replica_cpus})
    return ingress.bind(spec, settings, rollouts.bind(spec, settings), replica_threads(replica_cpus))


@contextmanager
def serving(spec: ModelSpec, settings: ServiceSettings, *, replicas: int, host: str = "127.0.0.1", port: int = 8000,
            address: str | None = None, replica_cpus: float = 1.0, rollout_cpus: float = 0.0) -> Iterator[str]:
    """The service on Ray Serve for the block; yields its base URL once every replica is up.

    ``address`` None starts a local Ray sized for the replicas and shuts it down at the end; otherwise the application
    is deployed on that running cluster (``auto``, ``HOST:6379``, ``ray://HOST:10001``) and deleted from it at the end.
    The HTTP proxy runs on the head node and listens on ``host:port``. Serve's HTTP options are the cluster's: where
    Serve already runs there, its host and port stay (Ray logs a warning) and the URL is theirs."""
    if replicas < 1:
        raise ValueError(f"--replicas must be >= 1, got {replicas}")
    spec.check()
    app = build_app(spec, settings, replicas, replica_cpus, rollout_cpus)
    with ray_session(address, num_cpus=max(1, math.ceil(replicas * replica_cpus + rollout_cpus))) as started:
        serve.start(http_options={"host": host, "port": port}, proxy_location="HeadOnly")
        try:
            serve.run(app, name=APP_NAME, route_prefix="/")  # returns once every replica is constructed
            log.info("ct1-sim on Ray Serve: %d replicas on http://%s:%d", replicas, host, port)
            yield f"http://{host}:{port}"
        finally:
            if started and address is None:  # our own Ray: Serve goes with it
                serve.shutdown()
            else:  # a cluster: only this application leaves it
                serve.delete(APP_NAME)
