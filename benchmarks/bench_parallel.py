"""Parallel efficiency of the Ray paths: scenario rendering, nuScenes curation, replay and simulator eval.

For each path the same actor class the command uses (:class:`ct1_sim.ray_pool.RayActorPool`, one CPU per actor,
one thread each) works through the same items, once with 1 actor and once with 2, in one Ray session started
before any timing. Each actor first does one warm-up item (its GL context, dataset tables or model load: start-up,
not throughput), then the timed items follow. Efficiency = throughput with 2 actors / (2 x throughput with 1);
the bar (issue 19) is >= 85 %. On a 2-core machine, anything else running takes from the second actor: run this
on a quiet machine (the load average is printed).

Run: ``.venv/bin/python benchmarks/run.py parallel`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import emit_json, print_table

REPO = Path(__file__).resolve().parents[1]


def _timed(cls: type, args: tuple, kwargs: dict, method: str, warm: list[Any], items: list[Any], workers: int) -> float:
    """Items/s of ``method`` over ``items`` on ``workers`` actors, after one warm-up item per actor."""
    from ct1_sim.ray_pool import RayActorPool

    with RayActorPool(cls, args, kwargs, workers=workers) as pool:
        for actor_item in zip(pool.actors, warm[:workers], strict=True):  # one warm-up item on each actor
            pool._get(actor_item[0].call.remote(method, actor_item[1]))
        t0 = time.perf_counter()
        for _ in pool.map_unordered(method, items):
            pass
        return len(items) / (time.perf_counter() - t0)


def _scenario_tasks(n: int, start: int) -> list[Any]:
    from ct1_sim.data.scenarios.parallel import plan_tasks
    from ct1_sim.data.scenarios.spec import load_spec

    return [task for task, _ in plan_tasks([load_spec(REPO / "scenarios" / "urban.yaml")], n, start=start)]


def _render(tmp: Path, n: int, workers: int) -> float:
    from ct1_sim.data import ClipStore
    from ct1_sim.data.scenarios.parallel import _RayRenderer

    store = ClipStore.open_or_create(tmp / f"render-{workers}.zarr")
    return _timed(_RayRenderer, (str(store.path), 0), {}, "render", _scenario_tasks(2, 1000), _scenario_tasks(n, 0), workers)


def _curate(tmp: Path, dataroot: Path, version: str, names: list[str], workers: int) -> float:
    from ct1_sim.data import ClipStore
    from ct1_sim.data.nuscenes.pipeline import _SceneCurator

    store = ClipStore.open_or_create(tmp / f"curated-{workers}.zarr")
    options = {"whole_scene": False, "size": None, "exclude_tags": ()}
    return _timed(_SceneCurator, (str(dataroot), version, str(store.path), options), {}, "curate", names[:2], names[2:], workers)


def _replay(source_store: Path, workers: int) -> float:
    from ct1_sim.replay.runner import WorldSpec, _SceneWorker
    from ct1_sim.replay.scene import ReplaySettings
    from ct1_sim.replay.sources import ClipStoreSource

    source = ClipStoreSource(str(source_store))
    names = source.scene_names()
    return _timed(_SceneWorker, (WorldSpec(), source, ReplaySettings()), {}, "run", names[:2], names[2:], workers)


def _sim(episodes: int, seconds: float, workers: int) -> float:
    from ct1_sim.sim.evaluation import EpisodeWorker, EvalSpec

    spec = EvalSpec(policies=("expert",), towns=4, seconds=seconds, camera=True)
    return _timed(EpisodeWorker, (spec,), {"threads": 1}, "run", [100, 101], list(range(episodes)), workers)


def run(quick: bool = False) -> dict:
    import ray

    from ct1_sim.data.scenarios.nuscenes_export import VERSION, export_nuscenes
    from ct1_sim.data.scenarios.spec import load_spec

    os.environ.setdefault("LP_NUM_THREADS", "1")  # llvmpipe: one rasteriser thread per process (the actors' setting)
    n = 6 if quick else 24
    load = os.getloadavg()[0]
    rows, figures = [], {}
    with tempfile.TemporaryDirectory(prefix="ct1-bench-parallel-") as tmp_name:
        tmp = Path(tmp_name)
        dataroot = export_nuscenes([load_spec(REPO / "scenarios" / "suburban.yaml")], n + 2, tmp / "nuscenes")
        from ct1_sim.data.nuscenes import NuScenesReader

        names = NuScenesReader(dataroot, VERSION).scene_names
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            jobs = {
                "scenario rendering (clips)": lambda w: _render(tmp, n, w),
                "nuScenes curation (scenes)": lambda w: _curate(tmp, dataroot, VERSION, names, w),
                "replay (1-keyframe scenes)": lambda w: _replay(tmp / "render-1.zarr", w),
                "sim eval (expert episodes, camera)": lambda w: _sim(4 if quick else 12, 6.0 if quick else 20.0, w),
            }
            for name, job in jobs.items():
                one, two = job(1), job(2)
                eff = two / (2 * one)
                rows.append((name, one, two, 100 * eff))
                figures[name.split(" (")[0].replace(" ", "_")] = {"one_per_s": round(one, 3), "two_per_s": round(two, 3),
                                                                  "efficiency": round(eff, 3)}
        finally:
            ray.shutdown()
    print_table("Ray paths: 1 vs 2 actors (1 CPU, 1 thread each; Ray started and actors warmed up first)",
                ["path", "items/s, 1 actor", "items/s, 2 actors", "efficiency %"], rows)
    print(f"load average (1 min) at the start: {load:.1f} on {os.cpu_count()} cores; bar: efficiency >= 85 %")
    figures["load_average"] = round(load, 1)
    emit_json("parallel", figures)
    return figures
