"""Rollout jobs: a bounded queue served by one worker thread; status, progress and the finished MP4 in memory.

:class:`JobQueue` runs any work; :class:`RolloutJobs` is the service's rollout queue over it (what the HTTP routes
call, with awaitable methods so that the same routes can call it in another process: one queue for all Ray Serve
replicas, :mod:`ct1_sim.service.ray_serve`).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ct1_sim.media import mp4_bytes
from ct1_sim.service.responses import prediction_json
from ct1_sim.world import WorldModel

log = logging.getLogger(__name__)


class QueueFull(RuntimeError):
    """The job queue is at capacity (HTTP 429)."""


@dataclass
class Job:
    """A rollout job. ``status``: queued | running | done | failed; ``progress`` 0-1."""

    id: str
    status: str = "queued"
    progress: float = 0.0
    error: str | None = None
    result: dict[str, Any] | None = None
    video: bytes | None = None
    created: float = field(default_factory=time.time)

    def public(self) -> dict[str, Any]:
        out = {"id": self.id, "status": self.status, "progress": round(self.progress, 3), "error": self.error}
        if self.result is not None:
            out["result"] = self.result
        if self.video is not None:
            out["video"] = f"/v1/jobs/{self.id}/video.mp4"
        return out


class JobQueue:
    """At most ``capacity`` jobs queued or running; the newest ``keep`` finished jobs stay readable."""

    def __init__(self, capacity: int, keep: int) -> None:
        self.capacity, self.keep = capacity, keep
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._queue: queue.Queue[tuple[Job, Callable[[Job], None]]] = queue.Queue()
        self._lock = threading.Lock()
        self._active = 0
        self._thread = threading.Thread(target=self._work, name="ct1-rollouts", daemon=True)
        self._thread.start()

    def submit(self, work: Callable[[Job], None]) -> Job:
        """Queue ``work(job)``; raises :class:`QueueFull` at capacity."""
        with self._lock:
            if self._active >= self.capacity:
                raise QueueFull(f"{self._active} rollout jobs are queued or running (limit {self.capacity}); retry later")
            job = Job(id=uuid.uuid4().hex)
            self._jobs[job.id] = job
            self._active += 1
            self._prune()
        self._queue.put((job, work))
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    @property
    def active(self) -> int:
        return self._active

    def _prune(self) -> None:
        finished = [j for j in self._jobs.values() if j.status in ("done", "failed")]
        for job in finished[: max(0, len(finished) - self.keep)]:
            del self._jobs[job.id]

    def _work(self) -> None:
        while True:
            job, work = self._queue.get()
            job.status = "running"
            try:
                work(job)
                job.status, job.progress = "done", 1.0
            except Exception as err:  # noqa: BLE001 - a failed job reports its error, the worker goes on
                log.warning("rollout job %s failed: %s", job.id, err)
                job.status, job.error = "failed", str(err)
            finally:
                with self._lock:
                    self._active -= 1


class RolloutJobs:
    """Rollouts of ``world`` (trajectories + the future video) as jobs of a :class:`JobQueue`: at most ``capacity``
    queued or running, the newest ``keep`` finished ones readable. Every method is awaitable and takes and returns
    plain data (arrays, trajectories, dicts, bytes), so a caller may hold this object or a handle to it elsewhere."""

    def __init__(self, world: WorldModel, capacity: int, keep: int) -> None:
        self.world = world
        self.queue = JobQueue(capacity, keep)

    async def submit(self, image: Any, target: Any, samples: int, seed: int | None, speed: float | None,
                     num_frames: int) -> dict[str, Any]:
        """Queue a rollout of RGB uint8 ``image`` along ``target`` (an instruction, or a ``CameraTrajectory`` to
        follow); the job's public status. :class:`QueueFull` at capacity."""
        world = self.world
        if world.video_model is None:
            log.warning("rollout requested but no video model is loaded; the job will fail with the reason")

        def work(job: Job) -> None:
            def progress(fraction: float) -> None:
                job.progress = min(0.99, 0.1 + 0.9 * fraction)

            # the world model samples under its trajectory lock and renders under its video lock, so trajectory
            # requests keep being served while this video renders
            result = world.rollout(image, target, num_samples=samples, seed=seed, speed=speed, num_frames=num_frames, progress=progress)
            job.video = mp4_bytes(result.frames, fps=result.fps)
            job.result = {"chosen": result.chosen, "fps": result.fps, "frames": len(result.frames), **prediction_json(result)}

        return self.queue.submit(work).public()

    async def status(self, job_id: str) -> dict[str, Any] | None:
        """The job's public status (id, status, progress, error, result when done), None when unknown."""
        job = self.queue.get(job_id)
        return None if job is None else job.public()

    async def video(self, job_id: str) -> bytes | None:
        """The finished job's MP4; None when the job is unknown or has no video (yet)."""
        job = self.queue.get(job_id)
        return None if job is None else job.video

    async def info(self) -> dict[str, Any]:
        """``active``: jobs queued or running; ``video_model``: whether rollouts can render."""
        return {"active": self.queue.active, "video_model": self.world.video_model is not None}
