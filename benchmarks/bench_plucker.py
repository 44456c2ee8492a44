"""Plücker embedding: vectorised numpy vs a plain per-pixel loop (the reference the tests use)."""

from __future__ import annotations

import numpy as np
from harness import emit_json, print_table, time_call

from ct1_sim.geometry import CameraTrajectory, intrinsics_from_fov


def _trajectory(num_poses: int) -> CameraTrajectory:
    c2w = np.tile(np.eye(4), (num_poses, 1, 1))
    c2w[:, 2, 3] = np.linspace(0, 20, num_poses)
    ts = np.arange(num_poses, dtype=np.int64) * 200_000
    return CameraTrajectory(c2w=c2w, K=intrinsics_from_fov(448, 256, 64), image_size=(448, 256), timestamps_us=ts)


def _per_pixel(traj: CameraTrajectory, h: int, w: int) -> np.ndarray:
    K = traj.with_image_size(w, h).K
    out = np.zeros((len(traj), 6, h, w), dtype=np.float32)
    for t in range(len(traj)):
        R, o = traj.rotations[t], traj.positions[t]
        for v in range(h):
            for u in range(w):
                d = R @ np.array([(u + 0.5 - K[0, 2]) / K[0, 0], (v + 0.5 - K[1, 2]) / K[1, 1], 1.0])
                d /= np.linalg.norm(d)
                out[t, :3, v, u] = np.cross(o, d)
                out[t, 3:, v, u] = d
    return out


def run(quick: bool = False) -> dict[str, float]:
    num_poses, h, w = (4, 32, 56) if quick else (16, 64, 112)
    traj = _trajectory(num_poses)
    ours = time_call(lambda: traj.plucker(h, w), repeat=5)
    loop = time_call(lambda: _per_pixel(traj, h, w), repeat=1, warmup=0)
    full = time_call(lambda: traj.plucker(256, 448), repeat=3)
    rows = [
        (f"{num_poses}x{h}x{w}", "numpy (ours)", ours * 1e3),
        (f"{num_poses}x{h}x{w}", "per-pixel loop", loop * 1e3),
        (f"{num_poses}x256x448", "numpy (ours)", full * 1e3),
    ]
    print_table("Plücker embedding", ["poses x H x W", "implementation", "ms"], rows)
    figures = {"speedup_vs_loop": loop / ours, "ms_full_res_256x448": full * 1e3}
    emit_json("plucker", figures)
    return figures
