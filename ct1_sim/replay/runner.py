"""``run_replay``: replay scenes in one process or spread over Ray actors, resumably.

Each Ray actor (:class:`ct1_sim.ray_pool.RayActorPool`) loads the world model once and replays whole scenes, the
next scene going to whichever actor is free; the driver writes every finished scene atomically, so a killed run
loses at most the scenes in flight. Nothing is written before the world model has loaded. Keyframe seeds depend only on the scene and keyframe (:func:`keyframe_seed`), so one process
and N workers give the same results.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ct1_sim.ray_pool import RayActorPool
from ct1_sim.replay.scene import ReplaySettings, SceneResult, replay_scene
from ct1_sim.replay.sources import Source
from ct1_sim.replay.storage import ReplayOutput

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorldSpec:
    """How a worker builds its world model: ``predictor`` ``ct1`` (the trajectory model in ``model``, default the
    shipped ct1-tiny, plus the video model in ``video_model`` when given or shipped) or ``constant-velocity`` (a
    baseline: straight ahead at the true current speed)."""

    predictor: str = "ct1"
    model: str | None = None
    video_model: str | None = None
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.predictor not in ("ct1", "constant-velocity"):
            raise ValueError(f"unknown predictor {self.predictor!r}; use ct1 or constant-velocity")

    def describe(self) -> dict[str, Any]:
        return {"predictor": self.predictor, "model": str(Path(self.model).resolve()) if self.model else None,
                "video_model": str(Path(self.video_model).resolve()) if self.video_model else None}

    def build(self) -> Any:
        if self.predictor == "constant-velocity":
            from ct1_sim.replay.predictors import ConstantVelocityWorld

            return ConstantVelocityWorld()
        from ct1_sim.world import WorldModel

        return WorldModel.from_pretrained(self.model, self.video_model, device=self.device)


def check_video_available(world: Any) -> None:
    """Raise the façade's own error now when ``world`` has no video model (instead of failing mid-run)."""
    if getattr(world, "video_model", None) is None:
        import numpy as np

        world.rollout(np.zeros((8, 8, 3), np.uint8), "go straight")  # raises the façade's clear RuntimeError
        raise RuntimeError("the world model has no video model; run replay without --video")


class _SceneWorker:
    """A Ray actor: holds one world model and replays scenes with it."""

    def __init__(self, spec: WorldSpec, source: Source, settings: ReplaySettings) -> None:
        self.world = spec.build()
        if "torch" in sys.modules:  # one thread per actor (Ray reserves one CPU for it)
            sys.modules["torch"].set_num_threads(1)
        self.source, self.settings = source, settings

    def run(self, scene: str) -> SceneResult:
        return replay_scene(self.world, self.source, scene, self.settings)

    def check_video(self) -> None:
        check_video_available(self.world)


def run_replay(
    source: Source,
    out: str | Path,
    settings: ReplaySettings = ReplaySettings(),
    *,
    spec: WorldSpec = WorldSpec(),
    world: Any | None = None,
    workers: int = 0,
    ray_address: str | None = None,
    gpus_per_worker: float = 0,
    report: bool = True,
) -> dict[str, Any]:
    """Replay every scene of ``source`` into ``out`` and return the run summary (per scene and overall).

    ``world`` (an object with ``predict``/``rollout``) is used as it is in one process; otherwise ``spec`` builds
    it (in each Ray actor when ``workers > 1`` or ``ray_address`` is given, with ``gpus_per_worker`` GPUs reserved
    for each: see :class:`~ct1_sim.ray_pool.RayActorPool`). Finished scenes are skipped.
    """
    on_ray = world is None and (workers > 1 or ray_address is not None)
    if gpus_per_worker and not on_ray:
        raise ValueError("--gpus-per-worker applies to Ray workers (--workers N > 1 or --ray-address); "
                         "one process uses --device as it is")
    output = ReplayOutput(out)
    scenes = source.scene_names()
    run_meta = {"source": source.describe(), "settings": settings.__dict__, "world": spec.describe() if world is None else
                {"predictor": type(world).__name__}}
    output.check(run_meta)  # nothing is written before the world model is known to load: a retry is not refused
    todo = [s for s in scenes if not output.is_finished(s)]
    if len(todo) < len(scenes):
        log.info("resuming: %d of %d scenes are already finished in %s", len(scenes) - len(todo), len(scenes), output.root)
    if not todo:
        output.start(run_meta)
    elif on_ray:
        _run_ray(source, output, settings, spec, todo, workers, ray_address, gpus_per_worker, run_meta)
    else:
        world = world if world is not None else spec.build()
        if settings.video:
            check_video_available(world)
        output.start(run_meta)
        for scene in tqdm(todo, desc="replaying scenes", unit="scene"):
            output.write_scene(replay_scene(world, source, scene, settings))
    summary = output.combine(scenes)
    if report:
        from ct1_sim.replay.report import write_report

        write_report(output, scenes)
    return summary


def _run_ray(source: Source, output: ReplayOutput, settings: ReplaySettings, spec: WorldSpec, todo: list[str],
             workers: int, ray_address: str | None, gpus_per_worker: float, run_meta: dict[str, Any]) -> None:
    with RayActorPool(_SceneWorker, (spec, source, settings), workers=workers, address=ray_address,
                      max_actors=len(todo), num_gpus=gpus_per_worker) as pool:  # every actor has built its world model here
        if settings.video:  # fail before any scene runs when the workers' world has no video model
            pool.call_all("check_video")
        output.start(run_meta)
        for result in tqdm(pool.map_unordered("run", todo), total=len(todo),
                           desc=f"replaying scenes (ray, {len(pool)} workers)", unit="scene"):
            output.write_scene(result)
