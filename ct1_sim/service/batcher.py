"""Micro-batching of trajectory requests: concurrent requests become one batched model call.

:class:`Batcher` is what the app needs of a batcher (admission under a pending limit, counters, the batched model
call with its one-by-one fallback); :class:`TrajectoryBatcher` is the single-process one (its own asyncio queue),
and the Ray Serve deployment has one over ``@serve.batch`` (:mod:`ct1_sim.service.ray_serve`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ct1_sim.world import Prediction, WorldModel

log = logging.getLogger(__name__)

#: How often a batch waiting for requests still being decoded looks again whether any are left (s).
ARRIVING_POLL_S = 0.002


class Overloaded(RuntimeError):
    """Too many trajectory requests are pending; the caller should retry later (HTTP 429)."""


@dataclass
class TrajectoryQuery:
    """One request: the image (RGB uint8 ``(H,W,3)``, or as :meth:`WorldModel.prepare_image` made it ready), instruction,
    K, seed, ego speed (m/s) or None."""

    image: Any
    instruction: str
    num_samples: int
    seed: int | None
    speed: float | None
    future: asyncio.Future = field(default=None)  # type: ignore[assignment]


class Batcher:
    """Admits at most ``max_pending`` queries waiting or running at once (:meth:`submit` refuses more with
    :class:`Overloaded`) and answers batches of them with :meth:`answer` on one worker thread. Subclasses queue the
    admitted queries (:meth:`_enqueue`) and say how many wait (:attr:`queued`)."""

    def __init__(self, world: WorldModel, max_pending: int) -> None:
        self.world, self.max_pending = world, max_pending
        self.pending = 0  # queries submitted and not yet answered
        self.batches = 0  # model calls made
        self.batched_queries = 0  # queries they answered (mean batch size = batched_queries / batches)
        self.model_seconds = 0.0  # wall time spent in the model's batched calls (s), failed ones included
        self.arriving = 0  # requests the app is still reading and decoding (they will submit soon)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ct1-trajectories")

    @property
    def queued(self) -> int:
        """Queries waiting for the model (submitted, not yet taken into a batch)."""
        raise NotImplementedError

    async def start(self) -> None:
        """Called by the app's lifespan on the serving event loop, before the first request."""

    async def stop(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def submit(self, query: TrajectoryQuery) -> Prediction:
        """Queue ``query`` and wait for its prediction; :class:`Overloaded` when ``max_pending`` are pending."""
        if self.pending >= self.max_pending:
            raise Overloaded(f"{self.pending} trajectory requests are already pending (limit {self.max_pending}); retry in a moment")
        self.pending += 1
        try:
            return await self._enqueue(query)
        finally:
            self.pending -= 1

    async def _enqueue(self, query: TrajectoryQuery) -> Prediction:
        raise NotImplementedError

    async def run_batch(self, queries: list[TrajectoryQuery]) -> list[Prediction | Exception]:
        """:meth:`answer` on the worker thread, off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, self.answer, queries)

    def answer(self, queries: list[TrajectoryQuery]) -> list[Prediction | Exception]:
        """Each query's prediction, or the exception that failed it, in order: one
        :meth:`WorldModel.predict_batch` call per K; a failing call is retried query by query so that a single bad
        query fails only its own request."""
        results: list[Prediction | Exception | None] = [None] * len(queries)
        groups: dict[int, list[int]] = {}
        for i, q in enumerate(queries):
            groups.setdefault(q.num_samples, []).append(i)
        for indices in groups.values():
            for i, result in zip(indices, self._answer_group([queries[i] for i in indices]), strict=True):
                results[i] = result
        return results  # type: ignore[return-value]

    def _answer_group(self, group: list[TrajectoryQuery]) -> list[Prediction | Exception]:
        t0 = time.perf_counter()
        try:
            predictions = self.world.predict_batch([q.image for q in group], [q.instruction for q in group], group[0].num_samples,
                                                   [q.seed for q in group], [q.speed for q in group])
        except Exception as err:  # every waiting request must get an answer
            self.model_seconds += time.perf_counter() - t0
            if len(group) > 1:
                log.warning("batched prediction of %d queries failed (%s); retrying them one by one", len(group), err)
                return [result for q in group for result in self._answer_group([q])]
            log.exception("prediction failed")
            return [err]
        self.model_seconds += time.perf_counter() - t0
        self.batches += 1
        self.batched_queries += len(group)
        return list(predictions)


class TrajectoryBatcher(Batcher):
    """Collects queries for ``window_s`` after the first arrives, plus every query already waiting (those that
    came while the previous batch ran), up to ``max_batch``; groups them by K and runs each group as one
    :meth:`WorldModel.predict_batch` call on a worker thread. With ``window_s = 0`` an idle service answers a
    lone request at once and a busy one still batches what queued up meanwhile. At most
    ``max_pending`` queries wait or run at once; :meth:`submit` refuses more with :class:`Overloaded`.

    While the app is still reading and decoding other requests (:attr:`arriving`), a batch waits up to
    ``arriving_wait_s`` for them: under load, the requests answered by one batch come back together and are decoded
    together, so without the wait the first of them to be decoded would start a batch of its own and the batches
    would stay half full."""

    def __init__(self, world: WorldModel, max_batch: int, window_s: float, max_pending: int = 64, arriving_wait_s: float = 0.0) -> None:
        super().__init__(world, max_pending)
        self.max_batch, self.window_s, self.arriving_wait_s = max_batch, window_s, arriving_wait_s
        self._queue: asyncio.Queue[TrajectoryQuery] | None = None
        self._task: asyncio.Task | None = None

    @property
    def queued(self) -> int:
        return self._queue.qsize() if self._queue is not None else 0

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        await super().stop()

    async def _enqueue(self, query: TrajectoryQuery) -> Prediction:
        assert self._queue is not None, "batcher not started"
        query.future = asyncio.get_running_loop().create_future()
        await self._queue.put(query)
        return await query.future

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
            until = loop.time() + self.arriving_wait_s
            while len(batch) < self.max_batch and self.arriving > 0 and loop.time() < until:  # being decoded now
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), min(ARRIVING_POLL_S, until - loop.time())))
                except TimeoutError:
                    continue  # a request that failed validation never comes: look at the count again
            live = [q for q in batch if not q.future.done()]  # a request cancelled while queued is skipped
            if not live:
                continue
            for q, result in zip(live, await self.run_batch(live), strict=True):
                if q.future.done():
                    continue
                if isinstance(result, Exception):
                    q.future.set_exception(result)
                else:
                    q.future.set_result(result)
