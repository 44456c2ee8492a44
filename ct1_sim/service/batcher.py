"""Micro-batching of trajectory requests: concurrent requests become one batched model call."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ct1_sim.world import Prediction, WorldModel

log = logging.getLogger(__name__)


class Overloaded(RuntimeError):
    """Too many trajectory requests are pending; the caller should retry later (HTTP 429)."""


@dataclass
class TrajectoryQuery:
    """One request: RGB uint8 image ``(H,W,3)``, instruction, K, seed, ego speed (m/s) or None."""

    image: np.ndarray
    instruction: str
    num_samples: int
    seed: int | None
    speed: float | None
    future: asyncio.Future = field(default=None)  # type: ignore[assignment]


class TrajectoryBatcher:
    """Collects queries for ``window_s`` after the first arrives, plus every query already waiting (those that
    came while the previous batch ran), up to ``max_batch``; groups them by K and runs each group as one
    :meth:`WorldModel.predict_batch` call on a worker thread. With ``window_s = 0`` an idle service answers a
    lone request at once and a busy one still batches what queued up meanwhile. At most
    ``max_pending`` queries wait or run at once; :meth:`submit` refuses more with :class:`Overloaded`."""

    def __init__(self, world: WorldModel, max_batch: int, window_s: float, max_pending: int = 64) -> None:
        self.world = world
        self.max_batch, self.window_s, self.max_pending = max_batch, window_s, max_pending
        self.pending = 0  # queries submitted and not yet answered
        self._queue: asyncio.Queue[TrajectoryQuery] | None = None
        self._task: asyncio.Task | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ct1-trajectories")
        self.batches = 0  # model calls made
        self.batched_queries = 0  # queries they answered (mean batch size = batched_queries / batches)

    @property
    def queued(self) -> int:
        """Queries waiting for the model (submitted, not yet taken into a batch)."""
        return self._queue.qsize() if self._queue is not None else 0

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def submit(self, query: TrajectoryQuery) -> Prediction:
        """Queue ``query`` and wait for its prediction; :class:`Overloaded` when ``max_pending`` are pending."""
        assert self._queue is not None, "batcher not started"
        if self.pending >= self.max_pending:
            raise Overloaded(f"{self.pending} trajectory requests are already pending (limit {self.max_pending}); retry in a moment")
        self.pending += 1
        try:
            query.future = asyncio.get_running_loop().create_future()
            await self._queue.put(query)
            return await query.future
        finally:
            self.pending -= 1

    async def _run(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            deadline = loop.time() + self.window_s
            while len(batch) < self.max_batch:
                timeout = deadline - loop.time()
                if timeout <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), timeout))
                except TimeoutError:
                    break
            while len(batch) < self.max_batch and not self._queue.empty():  # arrived while the model was busy
                batch.append(self._queue.get_nowait())
            groups: dict[int, list[TrajectoryQuery]] = {}
            for q in batch:
                if q.future.done():  # its request was cancelled while queued: skip it
                    continue
                groups.setdefault(q.num_samples, []).append(q)
            for group in groups.values():
                await self._answer(loop, group)

    async def _answer(self, loop: asyncio.AbstractEventLoop, group: list[TrajectoryQuery]) -> None:
        """Run ``group`` as one model call; if it fails, run its queries one by one so that a single bad query
        fails only its own request."""
        try:
            results = await loop.run_in_executor(self._executor, self._predict, group)
        except Exception as err:  # noqa: BLE001 - every waiting request must get an answer
            if len(group) > 1:
                log.warning("batched prediction of %d queries failed (%s); retrying them one by one", len(group), err)
                for q in group:
                    await self._answer(loop, [q])
                return
            log.exception("prediction failed")
            if not group[0].future.done():
                group[0].future.set_exception(err)
            return
        self.batches += 1
        self.batched_queries += len(group)
        for q, result in zip(group, results, strict=True):
            if not q.future.done():
                q.future.set_result(result)

    def _predict(self, group: list[TrajectoryQuery]) -> list[Any]:
        return self.world.predict_batch([q.image for q in group], [q.instruction for q in group], group[0].num_samples,
                                        [q.seed for q in group], [q.speed for q in group])
