"""Scenario renderer: frames/s at 448x256 (vs a bare clear + read-back of the same framebuffer) and
clips/min in one process vs Ray with 2 workers."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from harness import emit_json, print_table

from ct1_sim.data.scenarios.clip_spec import ClipSpec
from ct1_sim.data.scenarios.generate import build_scene, camera_path
from ct1_sim.data.scenarios.parallel import render_store
from ct1_sim.data.scenarios.renderer import SceneRenderer
from ct1_sim.data.scenarios.spec import load_spec

REPO = Path(__file__).resolve().parents[1]


def _frames_per_second(renderer: SceneRenderer, frames: int) -> tuple[float, float, int]:
    spec = ClipSpec()
    world, path, traj, *_ = build_scene("bench", "intersection", {"kind": "4way"}, "train", 0)
    renderer.set_world(world.mesh.array(), [m.vertices for m in world.movers])
    times = np.linspace(0, spec.duration_s, frames)
    poses = camera_path(path, times, spec)
    renderer.render(poses[0], spec.K, world.lighting, [m.pose(0.0) for m in world.movers])
    t0 = time.perf_counter()
    for pose, t in zip(poses, times, strict=True):
        renderer.render(pose, spec.K, world.lighting, [m.pose(t) for m in world.movers])
    scene_fps = frames / (time.perf_counter() - t0)

    def bare() -> None:
        renderer.fbo.use()
        renderer.fbo.clear(0.0, 0.0, 0.0, 1.0, depth=1.0)
        renderer.fbo.read_into(renderer._rgba, components=4, attachment=0)  # noqa: SLF001
        renderer.fbo.read_into(renderer._depth, components=1, attachment=1, dtype="f4")  # noqa: SLF001

    bare()
    t0 = time.perf_counter()
    for _ in range(frames):
        bare()
    bare_fps = frames / (time.perf_counter() - t0)
    return scene_fps, bare_fps, len(world.mesh)


def run(quick: bool = False) -> dict[str, float]:
    renderer = SceneRenderer(448, 256)
    scene_fps, bare_fps, triangles = _frames_per_second(renderer, 60 if quick else 300)
    renderer.release()
    specs = [load_spec(REPO / "scenarios" / "urban.yaml")]
    n = 6 if quick else 24
    tmp = Path(tempfile.mkdtemp(prefix="ct1-bench-scen-"))
    try:
        t0 = time.perf_counter()
        render_store(specs, n, tmp / "one.zarr", progress=False)
        single = n / (time.perf_counter() - t0) * 60
        t0 = time.perf_counter()
        render_store(specs, n, tmp / "ray.zarr", workers=2, progress=False)
        ray2 = n / (time.perf_counter() - t0) * 60
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print_table("Scenario rendering, 448x256", ["what", "value"], [
        ("triangles in the scene", triangles),
        ("frames/s, scene + read-back", scene_fps),
        ("frames/s, bare clear + read-back", bare_fps),
        ("clips/min, 1 process (16 frames + depth, written to zarr)", single),
        ("clips/min, Ray 2 workers (incl. Ray start-up)", ray2),
    ])
    figures = {"frames_per_s": scene_fps, "ratio_to_bare_readback": scene_fps / bare_fps, "triangles": triangles,
               "clips_per_min_single": single, "clips_per_min_ray2": ray2, "ray2_speedup": ray2 / single}
    emit_json("scenarios", figures)
    return figures
