"""Rollout jobs: a bounded queue served by one worker thread; status, progress and the finished MP4 in memory."""

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
