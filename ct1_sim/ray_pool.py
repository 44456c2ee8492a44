"""One way to use Ray: start a local Ray (or attach to a cluster), run work items on a pool of actors, shut down.

:class:`RayActorPool` starts Ray when it is not running (``num_cpus=workers`` locally, or ``address=`` of a
cluster) and shuts it down on exit only if it started it; it builds one actor per worker from a class and its
arguments (each holds what is expensive to load: a model, a GL context, dataset tables) and hands the next item to
whichever actor is free (``ray.util.ActorPool``). An error raised in an actor, also while it is being built, comes
back as the original exception (a bad model folder is the same ``ValueError`` as without Ray).

Example:
    >>> with RayActorPool(SceneWorker, (spec,), workers=4, max_actors=len(scenes)) as pool:   # doctest: +SKIP
    ...     for result in pool.map_unordered("run", scenes):
    ...         write(result)

:func:`ray_session` is the same start / attach / shut-down rule on its own, for users of Ray that are not an actor
pool (the Ray Serve deployment of the HTTP service).
"""

from __future__ import annotations

import logging
import math
import socket
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, Self

log = logging.getLogger(__name__)

#: Seconds to wait for a TCP answer from a cluster address before refusing it (Ray itself waits ~2 minutes).
ADDRESS_PROBE_S = 5.0


def check_ray_address(address: str) -> None:
    """``ValueError`` naming ``address`` when nothing answers there, at once instead of after Ray's own ~2-minute
    wait (which ends the process). ``auto`` (find the cluster of this machine) is left to Ray, which says quickly when
    there is none."""
    if address in ("auto", "local"):
        return
    target = address.removeprefix("ray://").rsplit("/", 1)[0]
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"--ray-address {address!r} is not HOST:PORT (a cluster's GCS, e.g. 10.0.0.5:6379), "
                         "ray://HOST:PORT (its Ray Client server, usually 10001) or auto")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=ADDRESS_PROBE_S):
            pass
    except OSError as err:
        reason = "no answer" if isinstance(err, TimeoutError) else (err.strerror or str(err))
        raise ValueError(f"--ray-address {address}: no Ray cluster answers there ({reason}); start one with "
                         "`ray start --head` and pass the address it prints, or auto on its head node") from None


@contextmanager
def ray_session(address: str | None = None, num_cpus: float | None = None) -> Iterator[bool]:
    """Ray for the block: attached to the cluster at ``address``, or a local Ray with ``num_cpus`` CPUs when
    ``address`` is None; when Ray is already running in this process it is used as it is. Yields whether this
    block started Ray; only then is it shut down at the end."""
    import ray

    if address is not None:
        check_ray_address(address)
    started = False
    if not ray.is_initialized():
        if address is not None:
            try:
                ray.init(address=address, log_to_driver=False)
            except ConnectionError as err:
                if not address.startswith("ray://"):
                    raise
                raise ConnectionError(f"--ray-address {address}: {err}; a cluster with token authentication (what `ray start` "
                                      "sets up by default in Ray 2.60) needs RAY_AUTH_MODE=token and its token here "
                                      "(~/.ray/auth_token or RAY_AUTH_TOKEN)") from None
        else:
            # a Ray of its own, also where `ray start` left one on this machine: a bare ray.init() would
            # attach to that one (and refuse num_cpus)
            ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
        started = True
    try:
        yield started
    finally:
        if started:
            ray.shutdown()


class _Host:
    """The Ray actor: builds the user's object in :meth:`build` (so its errors travel like any task's) and calls it."""

    def __init__(self, cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.cls, self.args, self.kwargs, self.obj = cls, args, kwargs, None

    def build(self) -> None:
        self.obj = self.cls(*self.args, **self.kwargs)

    def call(self, method: str, *args: Any) -> Any:
        return getattr(self.obj, method)(*args)


def _original(err: BaseException) -> BaseException:
    """The exception an actor raised, from Ray's wrapper of it."""
    cause = getattr(err, "cause", None)
    return cause if isinstance(cause, BaseException) else err


class RayActorPool:
    """A pool of Ray actors, each an instance of ``cls(*args, **kwargs)``; a context manager.

    Args:
        cls: the actor class (importable: Ray ships it by reference).
        args, kwargs: its constructor arguments (sent to every actor).
        workers: actors to start (>= 1), or 0 for one per CPU of the cluster at ``address``.
        address: a running Ray cluster (``auto``, ``ray://host:10001``); None starts a local Ray with ``workers`` CPUs.
        max_actors: never more actors than this (the number of work items).
        num_cpus: CPUs Ray reserves for each actor.
        num_gpus: GPUs Ray reserves for each actor: 1 gives each actor a GPU of its own, a fraction (0.5) lets
            actors share one; Ray then sets ``CUDA_VISIBLE_DEVICES`` in the actor to its GPU, so a model built there
            with device ``auto`` or ``cuda`` lands on it. 0 (the default) reserves none: Ray places the actor
            without regard to GPUs (and Ray 2.60 leaves ``CUDA_VISIBLE_DEVICES`` as it is, so a model there may
            still find a GPU, unaccounted). The actors must fit the cluster's GPUs (``ValueError`` naming both
            numbers, not a hang); ``workers=0`` starts as many as fit.
    """

    def __init__(self, cls: type, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None, *, workers: int,
                 address: str | None = None, max_actors: int | None = None, num_cpus: float = 1,
                 num_gpus: float = 0) -> None:
        if workers < 0:
            raise ValueError(f"workers must be >= 0, got {workers}")
        if workers == 0 and address is None:
            raise ValueError("give workers >= 1 for a local Ray, or the address of a Ray cluster")
        if isinstance(num_gpus, bool) or not isinstance(num_gpus, int | float) or not 0 <= num_gpus < math.inf:
            raise ValueError(f"num_gpus (GPUs per actor) must be a finite number >= 0, got {num_gpus!r}")
        self.cls, self.args, self.kwargs = cls, args, dict(kwargs or {})
        self.workers, self.address, self.max_actors, self.num_cpus = workers, address, max_actors, num_cpus
        self.num_gpus = num_gpus
        self.actors: list[Any] = []
        self._ray = ExitStack()  # the Ray session, closed on exit

    def __enter__(self) -> Self:
        import ray

        self._ray.enter_context(ray_session(self.address, self.workers))
        try:
            n = self.workers or int(ray.cluster_resources().get("CPU", 1))
            n = max(1, min(n, self.max_actors) if self.max_actors is not None else n)
            if self.num_gpus:
                n = self._fit_gpus(n, float(ray.cluster_resources().get("GPU", 0)))
            host = ray.remote(num_cpus=self.num_cpus, num_gpus=self.num_gpus)(_Host)
            self.actors = [host.remote(self.cls, self.args, self.kwargs) for _ in range(n)]
            self._get([a.build.remote() for a in self.actors])  # a failing constructor fails here, before any work
            log.info("%d Ray actors of %s ready", n, self.cls.__name__)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.actors = []
        self._ray.close()

    def _fit_gpus(self, n: int, gpus: float) -> int:
        """``n`` actors when ``n * num_gpus`` fit in the cluster's ``gpus`` (with ``workers=0``: as many as fit);
        else ``ValueError``: Ray would leave the actors pending for ever."""
        fit = math.floor(gpus / self.num_gpus + 1e-6)
        if self.workers == 0:
            n = min(n, fit)
        if n == 0 or n > fit:
            raise ValueError(f"{max(n, 1)} Ray actor(s) with {self.num_gpus:g} GPU each need {max(n, 1) * self.num_gpus:g} "
                             f"GPU(s), but the Ray cluster has {gpus:g}: give fewer workers, a fraction of a GPU per "
                             "worker, or no GPUs")
        return n

    def __len__(self) -> int:
        return len(self.actors)

    @staticmethod
    def _get(refs: Any) -> Any:
        import ray

        try:
            return ray.get(refs)
        except ray.exceptions.RayTaskError as err:
            raise _original(err) from None

    def call_all(self, method: str, *args: Any) -> list[Any]:
        """``method(*args)`` on every actor; their results in actor order."""
        return self._get([a.call.remote(method, *args) for a in self.actors])

    def map_unordered(self, method: str, items: Iterable[Any]) -> Iterator[Any]:
        """``method(item)`` for every item, each on the next free actor; results as they finish."""
        import ray
        from ray.util import ActorPool

        results = ActorPool(self.actors).map_unordered(lambda actor, item: actor.call.remote(method, item), list(items))
        try:
            yield from results
        except ray.exceptions.RayTaskError as err:
            raise _original(err) from None
