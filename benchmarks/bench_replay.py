"""Trajectory-only replay of the nuScenes test fixture with the shipped ct1-tiny: keyframes/s in one process vs
Ray with 2 workers (actors that each load the model once), with their start-up (model load; Ray start and the
actors' model loads) and without it ("replay only": keyframes over the scene-replay time, summed over scenes in
one process, the slowest worker's with Ray — the fixture has 2 scenes, one per worker)."""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from harness import emit_json, print_table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ct1_sim.replay import NuScenesSource, ReplaySettings, WorldSpec, read_table, run_replay  # noqa: E402
from tests.nuscenes_fixture import VERSION, write_fixture  # noqa: E402


def run(quick: bool = False) -> dict[str, float]:
    tmp = Path(tempfile.mkdtemp(prefix="ct1-bench-replay-"))
    settings = ReplaySettings(num_samples=4 if quick else 8)
    try:
        write_fixture(tmp / "nus", gap=False, jump=False)
        source = NuScenesSource(str(tmp / "nus"), VERSION)
        t0 = time.perf_counter()
        world = WorldSpec().build()
        load_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        one = run_replay(source, tmp / "one", settings, world=world, report=False)
        warm_s = time.perf_counter() - t1
        single_s = time.perf_counter() - t0
        keyframes = len(read_table(tmp / "one" / "keyframes.zarr")["scene"])
        t0 = time.perf_counter()
        two = run_replay(source, tmp / "ray", settings, workers=2, report=False)
        ray_s = time.perf_counter() - t0
        scene_s_one = sum(s["timing"]["total_s"] for s in one["scenes"])
        scene_s_ray = max(s["timing"]["total_s"] for s in two["scenes"])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    figures = {"keyframes": keyframes, "samples": settings.num_samples, "model_load_s": load_s,
               "kf_per_s_single": keyframes / single_s, "kf_per_s_single_warm": keyframes / warm_s,
               "kf_per_s_ray2": keyframes / ray_s, "ray2_over_single": single_s / ray_s,
               "kf_per_s_replay_only_single": keyframes / scene_s_one, "kf_per_s_replay_only_ray2": keyframes / scene_s_ray,
               "ray2_over_single_replay_only": scene_s_one / scene_s_ray}
    print_table(f"Replay of the fixture ({keyframes} keyframes in 2 scenes, K={settings.num_samples}, trajectories only)",
                ["what", "value"], [
                    ("keyframes/s, 1 process incl. model load", figures["kf_per_s_single"]),
                    ("keyframes/s, 1 process, model loaded", figures["kf_per_s_single_warm"]),
                    ("keyframes/s, Ray 2 workers incl. start-up", figures["kf_per_s_ray2"]),
                    ("speed-up Ray 2 workers / 1 process (incl. start-up)", figures["ray2_over_single"]),
                    ("keyframes/s replay only, 1 process", figures["kf_per_s_replay_only_single"]),
                    ("keyframes/s replay only, Ray 2 workers", figures["kf_per_s_replay_only_ray2"]),
                    ("speed-up replay only", figures["ray2_over_single_replay_only"]),
                ])
    emit_json("replay", figures)
    return figures
