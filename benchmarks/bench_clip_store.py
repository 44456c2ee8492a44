"""ClipStore write/read throughput (MB/s of raw frames) vs raw ``numpy.save`` / ``numpy.load``."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
from harness import emit_json, print_table, time_call

from ct1_sim.data import Clip, ClipStore
from ct1_sim.geometry import CameraTrajectory, intrinsics_from_fov


def _frames(num_frames: int, rng: np.random.Generator) -> np.ndarray:
    """Frames with smooth content plus noise (rendered scenes compress, but not to nothing)."""
    h, w = 256, 448
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([(xx * 255 // w), (yy * 255 // h), ((xx + yy) * 127 // (w + h))], axis=-1)
    noise = rng.integers(0, 24, size=(num_frames, h, w, 3))
    return (base[None] + noise).clip(0, 255).astype(np.uint8)


def run(quick: bool = False) -> dict[str, float]:
    rng = np.random.default_rng(0)
    num_clips, t = (3, 16) if quick else (8, 16)
    frames = _frames(t, rng)
    ts = np.arange(t, dtype=np.int64) * 200_000
    traj = CameraTrajectory(c2w=np.tile(np.eye(4), (t, 1, 1)), K=intrinsics_from_fov(448, 256, 64), image_size=(448, 256), timestamps_us=ts)
    meta = {"source": "bench", "scene": "s", "maneuver": "straight", "split": "train"}
    mb = num_clips * frames.nbytes / 1e6
    tmp = Path(tempfile.mkdtemp(prefix="ct1-bench-"))
    counter = iter(range(10**6))

    def write_store() -> None:
        store = ClipStore.create(tmp / f"s{next(counter)}.zarr")
        for i in range(num_clips):
            store.append(Clip(id=f"c{i}", frames=frames, trajectory=traj, instruction="go", meta=meta))

    def write_npy() -> None:
        d = tmp / f"n{next(counter)}"
        d.mkdir()
        for i in range(num_clips):
            np.save(d / f"c{i}.npy", frames)

    try:
        w_store = time_call(write_store, repeat=3)
        w_npy = time_call(write_npy, repeat=3)
        store = ClipStore.open(next(tmp.glob("s*.zarr")))
        npy_dir = next(tmp.glob("n*"))
        r_store = time_call(lambda: [c.frames for c in store], repeat=3)
        r_npy = time_call(lambda: [np.load(p) for p in sorted(npy_dir.glob("*.npy"))], repeat=3)
        disk_store = sum(p.stat().st_size for p in (store.path / "clips").rglob("*") if p.is_file()) / 1e6
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rows = [
        ("ClipStore (zarr v3, blosc-lz4)", mb / w_store, mb / r_store, disk_store),
        ("numpy.save / numpy.load", mb / w_npy, mb / r_npy, mb),
    ]
    print_table(f"ClipStore throughput, {num_clips} clips x {t} frames 448x256", ["writer", "write MB/s", "read MB/s", "disk MB"], rows)
    figures = {
        "write_MBps": mb / w_store,
        "read_MBps": mb / r_store,
        "write_ratio_vs_npy": w_npy / w_store,
        "read_ratio_vs_npy": r_npy / r_store,
        "disk_ratio_vs_npy": disk_store / mb,
    }
    emit_json("clip_store", figures)
    return figures
