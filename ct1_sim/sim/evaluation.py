"""``sim eval``'s episodes: every policy on the same seeded episodes, in one process or on a pool of Ray actors.

Episode ``i`` is town ``i mod towns`` of the split, reset with seed ``seed + i``: episodes are independent, so
:func:`run_evaluation` gives the same records whichever process drives them, and it returns them in episode order.
An :class:`EpisodeWorker` (one in-process, or one per Ray actor through :class:`ct1_sim.ray_pool.RayActorPool`)
builds its policies and their environments once and drives every policy on the episodes it is handed. Bird's-eye
plots of the first failed episodes come back as PNG bytes (an actor on another machine shares no disk) and are
written by the caller, atomically.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ct1_sim.ray_pool import RayActorPool
from ct1_sim.sim.env import check_world
from ct1_sim.sim.episode import EpisodeRecord, plot_record, run_episode

log = logging.getLogger(__name__)


#: An episode whose PDMS is below this, or with a failed maneuver, counts as failed (and gets a bird's-eye plot).
FAILED_PDMS = 0.95


def failed(summary: dict[str, Any]) -> bool:
    """Whether an episode's ``summary`` counts as failed: PDMS below :data:`FAILED_PDMS` or a failed maneuver."""
    return summary["pdms"] < FAILED_PDMS or any(m["success"] is False for m in summary["maneuvers"])


@dataclass(frozen=True)
class EvalSpec:
    """What an evaluation drives: ``policies`` (names for :func:`~ct1_sim.sim.policies.make_policy`) in ``world``
    (procedural | neural; the neural one renders with the video model in ``video_model`` on ``device``), towns
    ``0..towns-1`` of ``split``, episode ``i`` seeded ``seed + i`` with time limit ``seconds`` (None: the route's);
    ``camera`` True/False renders the camera for every policy, None only for those that look at it."""

    policies: tuple[str, ...]
    world: str = "procedural"
    split: str = "test"
    towns: int = 50
    seed: int = 0
    seconds: float | None = None
    camera: bool | None = None
    video_model: str | None = None
    device: str = "auto"
    #: the ct1 policy's trajectory model folder (None: the shipped one)
    trajectory_model: str | None = None
    #: how far before its junction (m) a maneuver is announced (None: each policy's own ``announce_m``)
    announce_m: float | None = None

    def __post_init__(self) -> None:
        check_world(self.world)
        if not self.policies:
            raise ValueError("--policies names no policy; e.g. --policies expert,constant-velocity")
        if len(set(self.policies)) != len(self.policies):
            raise ValueError(f"--policies names a policy twice: {','.join(self.policies)}")

    def options(self, i: int) -> dict[str, Any]:
        """Reset options of episode ``i``."""
        return {"town": i % self.towns} | ({"seconds": self.seconds} if self.seconds is not None else {})

    def looks(self, policy: Any) -> bool:
        """Whether ``policy``'s environment renders the camera."""
        if self.world == "neural":
            return True
        return self.camera if self.camera is not None else bool(getattr(policy, "needs_camera", False))


class EpisodeWorker:
    """Holds one instance of every policy of ``spec`` and its environment (built once) and drives episodes.

    ``threads``: torch threads for this process (a Ray actor is given one CPU; None leaves torch as it is).
    """

    def __init__(self, spec: EvalSpec, threads: int | None = None) -> None:
        from ct1_sim.sim.env import DRIVING_DT_S, announce_m_for, camera_period_for, make_world_env
        from ct1_sim.sim.neural import load_world_video
        from ct1_sim.sim.policies import make_policy

        if threads is not None and "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(threads)
        self.spec = spec
        self.policies = [make_policy(name, trajectory_model=spec.trajectory_model) for name in spec.policies]
        video = load_world_video(spec.video_model, spec.device) if spec.world == "neural" else None  # one for every env
        self.envs: dict[str, Any] = {}
        try:
            for p in self.policies:
                kwargs = {"action_type": p.action_type, "split": spec.split, "num_towns": spec.towns,
                          "camera": spec.looks(p), "announce_m": announce_m_for(p, spec.announce_m)}
                if spec.world == "procedural":  # render only the frames the policy looks at (same drive, less work)
                    kwargs["camera_period_s"] = camera_period_for(p, DRIVING_DT_S)
                self.envs[p.name] = make_world_env(spec.world, video, **kwargs)
        except BaseException:
            self.close()
            raise
        self._last: dict[str, int] = {}  # the episode each policy's environment holds now

    def run(self, i: int) -> tuple[int, list[EpisodeRecord]]:
        """Drive every policy on episode ``i``; ``(i, records in policy order)``."""
        records = []
        for policy in self.policies:
            records.append(run_episode(self.envs[policy.name], policy, seed=self.spec.seed + i, options=self.spec.options(i)))
            self._last[policy.name] = i
        return i, records

    def plot(self, item: tuple[int, EpisodeRecord]) -> tuple[int, str, bytes]:
        """The bird's-eye plot (PNG bytes) of episode ``i``'s ``record``: ``(i, policy, png)``. The environment is
        reset to that episode first unless it still holds it (a reset with the same seed and options rebuilds the
        same town and route)."""
        i, record = item
        env = self.envs[record.policy]
        if self._last.get(record.policy) != i:
            env.reset(seed=self.spec.seed + i, options=self.spec.options(i))
            self._last[record.policy] = i
        with tempfile.TemporaryDirectory(prefix="ct1-sim-plot-") as tmp:
            path = plot_record(Path(tmp) / "bev.png", env, record)
            return i, record.policy, path.read_bytes()

    def close(self) -> None:
        for env in self.envs.values():
            env.close()
        self.envs = {}


#: ``on_episode(i, record)``: called for every finished episode (in episode order in one process, as they finish
#: on Ray); ``on_plot(i, policy, png)``: for every failure plot, in episode order per policy.
EpisodeCallback = Callable[[int, EpisodeRecord], None]
PlotCallback = Callable[[int, str, bytes], None]


@dataclass
class Evaluation:
    """What :func:`run_evaluation` drove: the records per policy (in ``spec.policies`` order), each list in episode
    order, and the Ray actors that drove them (0: this process)."""

    records: dict[str, list[EpisodeRecord]]
    actors: int = 0


def run_evaluation(spec: EvalSpec, episodes: int, *, plots: int = 5, workers: int = 1, ray_address: str | None = None,
                   gpus_per_worker: float = 0, on_episode: EpisodeCallback | None = None,
                   on_plot: PlotCallback | None = None) -> Evaluation:
    """Drive every policy of ``spec`` on episodes ``0..episodes-1``; their records per policy, in episode order.

    ``workers`` > 1 drives them on that many local Ray actors; ``ray_address`` on a running Ray cluster
    (``workers`` actors there, or 0: one per CPU of the cluster), each with ``gpus_per_worker`` GPUs reserved (see
    :class:`~ct1_sim.ray_pool.RayActorPool`). The first ``plots`` failed episodes of each policy (:func:`failed`)
    get a bird's-eye plot, handed to ``on_plot``.
    """
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    if workers < 0 or (workers == 0 and ray_address is None):
        raise ValueError(f"--workers must be >= 1 (0 only with --ray-address: one per CPU of the cluster), got {workers}")
    if workers <= 1 and ray_address is None:
        if gpus_per_worker:
            raise ValueError("--gpus-per-worker applies to Ray actors (--workers N > 1 or --ray-address); "
                             "one process uses --device as it is")
        return Evaluation(_run_here(spec, episodes, plots, on_episode, on_plot))
    if spec.world == "neural" and spec.device != "cpu" and not gpus_per_worker:
        raise ValueError("--world neural on Ray actors needs --device cpu, or --gpus-per-worker G: without it Ray "
                         "reserves no GPU for the actors; or run in one process (--workers 1)")
    return _run_ray(spec, episodes, plots, workers, ray_address, gpus_per_worker, on_episode, on_plot)


def _by_policy(spec: EvalSpec, results: Iterable[tuple[int, list[EpisodeRecord]]]) -> dict[str, list[EpisodeRecord]]:
    ordered = sorted(results, key=lambda r: r[0])
    return {name: [records[k] for _, records in ordered] for k, name in enumerate(spec.policies)}


def _to_plot(records: dict[str, list[EpisodeRecord]], plots: int) -> list[tuple[int, EpisodeRecord]]:
    """The first ``plots`` failed episodes of every policy, ``(i, record)`` in policy then episode order."""
    chosen = []
    for runs in records.values():
        chosen += [(i, r) for i, r in enumerate(runs) if failed(r.summary)][:plots]
    return chosen


def _run_here(spec: EvalSpec, episodes: int, plots: int, on_episode: EpisodeCallback | None,
              on_plot: PlotCallback | None) -> dict[str, list[EpisodeRecord]]:
    worker = EpisodeWorker(spec)
    drawn = dict.fromkeys(spec.policies, 0)
    results = []
    try:
        for i in range(episodes):  # every policy drives episode i before the next town is built
            results.append(worker.run(i))
            for record in results[-1][1]:
                if on_episode is not None:
                    on_episode(i, record)
                if failed(record.summary) and drawn[record.policy] < plots:  # plotted while its env holds it
                    drawn[record.policy] += 1
                    png = worker.plot((i, record))
                    if on_plot is not None:
                        on_plot(*png)
    finally:
        worker.close()
    return _by_policy(spec, results)


def _run_ray(spec: EvalSpec, episodes: int, plots: int, workers: int, ray_address: str | None, gpus_per_worker: float,
             on_episode: EpisodeCallback | None, on_plot: PlotCallback | None) -> Evaluation:
    with RayActorPool(EpisodeWorker, (spec,), {"threads": 1}, workers=workers, address=ray_address,
                      max_actors=episodes, num_gpus=gpus_per_worker) as pool:  # every actor has built its policies and environments here
        actors = len(pool)
        log.info("driving %d episodes on %d Ray actors", episodes, actors)
        results = []
        for i, records in pool.map_unordered("run", range(episodes)):
            results.append((i, records))
            if on_episode is not None:
                for record in records:
                    on_episode(i, record)
        by_policy = _by_policy(spec, results)
        pngs = {(i, name): png for i, name, png in pool.map_unordered("plot", _to_plot(by_policy, plots))}
        try:
            pool.call_all("close")
        except Exception:  # the results are in; a failing close only leaks an actor's env
            log.warning("closing the actors' environments failed", exc_info=True)
    if on_plot is not None:
        for i, record in _to_plot(by_policy, plots):
            on_plot(i, record.policy, pngs[(i, record.policy)])
    return Evaluation(by_policy, actors)
