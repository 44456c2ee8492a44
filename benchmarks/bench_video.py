"""Camera-controlled video: seconds for 16 frames at 256x448 (the issue's budget: <= 10 s on 2 cores), the share of
each stage (depth, warp, denoise, MP4 encode), and the denoiser's FLOPs against this machine's measured matmul peak."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np
import torch
from harness import emit_json, matmul_flops, print_table
from torch.utils.flop_counter import FlopCounterMode

from ct1_sim.geometry import CameraTrajectory, intrinsics_from_fov
from ct1_sim.video import build_pipeline
from ct1_sim.media import mp4_bytes
from ct1_sim.video.loading import load_video_pipeline

REPO = Path(__file__).resolve().parents[1]


def _turning_path() -> CameraTrajectory:
    t = np.arange(16) / 5.0
    yaw = 0.35 * t / t[-1]
    c2w = np.tile(np.eye(4), (16, 1, 1))
    c2w[:, 0, 3], c2w[:, 2, 3] = -1.5 * (t / t[-1]) ** 2, 8.0 * t
    c2w[:, 0, 0] = c2w[:, 2, 2] = np.cos(yaw)
    c2w[:, 0, 2], c2w[:, 2, 0] = -np.sin(yaw), np.sin(yaw)
    return CameraTrajectory(c2w=c2w, K=intrinsics_from_fov(448, 256, 64.0), image_size=(448, 256),
                            timestamps_us=(t * 1e6).astype(np.int64))


def run(quick: bool = False) -> dict[str, float]:
    shipped = REPO / "model" / "ct1-video-tiny"
    pipe = load_video_pipeline(shipped, device="cpu") if (shipped / "model_index.json").is_file() else build_pipeline()
    pipe.set_progress_bar_config(disable=True)
    image = np.random.default_rng(0).integers(0, 255, size=(256, 448, 3), dtype=np.uint8)
    traj = _turning_path()
    stamps: dict[str, float] = {}

    def video() -> np.ndarray:
        last = time.perf_counter()
        spent = {"depth": 0.0, "warp": 0.0, "denoise": 0.0}

        def cb(stage: str, _fraction: float) -> None:
            nonlocal last
            now = time.perf_counter()
            spent[stage] += now - last
            last = now

        t0 = time.perf_counter()
        out = pipe(image, traj, generator=torch.Generator().manual_seed(0), output_type="np", callback=cb).frames
        spent["condition + outputs"] = time.perf_counter() - t0 - sum(spent.values())
        frames = (out[0] * 255).round().astype(np.uint8)
        t1 = time.perf_counter()
        mp4_bytes(frames)
        spent["encode (MP4)"] = time.perf_counter() - t1
        stamps.update({k: stamps.get(k, 0.0) + v for k, v in spent.items()})
        return frames

    video()  # warm-up
    stamps.clear()
    runs = 2 if quick else 5
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        video()
        times.append(time.perf_counter() - t0)
    total = statistics.median(times)
    n = len(traj) - 1
    with FlopCounterMode(display=False) as counter:
        cond, base = pipe.denoiser.prepare_condition(torch.zeros(n, 3, 256, 448), torch.ones(n, 1, 256, 448), torch.zeros(n, 6, 64, 112))
        pipe.denoiser(torch.zeros(n, 3, 256, 448), torch.full((n,), 500), cond, base)
    flops = counter.get_total_flops()  # one denoiser pass per default DDIM step (1)
    peak = matmul_flops()
    denoise_s = stamps["denoise"] / runs
    rows = [[stage, seconds / runs, 100 * seconds / runs / total] for stage, seconds in stamps.items()]
    print_table("video: 16 frames at 256x448, default steps (median of runs)", ["stage", "seconds", "% of total"], rows)
    print(f"total {total:.2f} s per 16-frame video (budget 10 s); denoiser {flops / 1e9:.1f} GFLOP = "
          f"{flops / denoise_s / 1e9:.1f} GFLOP/s vs measured matmul peak {peak / 1e9:.1f} GFLOP/s")
    figures = {"seconds_per_video": total, "within_10s_budget": total <= 10.0, "denoise_gflop": flops / 1e9,
               "denoise_share_of_peak": flops / denoise_s / peak,
               **{f"share_{k.split()[0]}": v / runs / total for k, v in stamps.items()}}
    emit_json("video", figures)
    return figures


if __name__ == "__main__":
    run()
