"""Camera-controlled video: seconds for 16 frames at 256x448 (issue 16's bar: <= 5 s on 2 cores) with the share of
each stage (depth, cache render + condition, denoise, MP4 encode), a 20-s rollout (101 frames; bar <= 30 s), the time
to the first streamed frame (bar <= 1 s), and the denoiser's FLOPs against this machine's measured matmul peak."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np
import torch
from harness import emit_json, matmul_flops, print_table
from torch.utils.flop_counter import FlopCounterMode

from ct1_sim.geometry import CameraTrajectory, intrinsics_from_fov
from ct1_sim.media import mp4_bytes
from ct1_sim.paths import VIDEO_MODEL, default_model_dir
from ct1_sim.video import build_pipeline
from ct1_sim.video.loading import load_video_pipeline

REPO = Path(__file__).resolve().parents[1]


def turning_path(num: int = 16, seconds: float = 3.0) -> CameraTrajectory:
    """A left-bending drive at 8 m/s: ``num`` poses over ``seconds``."""
    t = np.linspace(0, seconds, num)
    yaw = 0.35 * t / 3.0
    c2w = np.tile(np.eye(4), (num, 1, 1))
    c2w[:, 0, 3], c2w[:, 2, 3] = -1.5 * (t / 3.0) ** 2, 8.0 * t
    c2w[:, 0, 0] = c2w[:, 2, 2] = np.cos(yaw)
    c2w[:, 0, 2], c2w[:, 2, 0] = -np.sin(yaw), np.sin(yaw)
    return CameraTrajectory(c2w=c2w, K=intrinsics_from_fov(448, 256, 64.0), image_size=(448, 256),
                            timestamps_us=(t * 1e6).astype(np.int64))


class _StageTimer:
    """Wall time spent inside a module's forward, via hooks."""

    def __init__(self, module: torch.nn.Module) -> None:
        self.seconds = 0.0
        self._t0 = 0.0
        module.register_forward_pre_hook(lambda *_: setattr(self, "_t0", time.perf_counter()))
        module.register_forward_hook(lambda *_: setattr(self, "seconds", self.seconds + time.perf_counter() - self._t0))


def run(quick: bool = False) -> dict[str, float]:
    shipped = default_model_dir(VIDEO_MODEL)
    pipe = load_video_pipeline(shipped, device="cpu") if (shipped / "model_index.json").is_file() else build_pipeline()
    pipe.set_progress_bar_config(disable=True)
    image = np.random.default_rng(0).integers(0, 255, size=(256, 448, 3), dtype=np.uint8)
    traj = turning_path()
    depth_t, denoise_t = _StageTimer(pipe.depth_net), _StageTimer(pipe.denoiser)
    stamps: dict[str, float] = {}

    def video() -> float:
        depth_t.seconds = denoise_t.seconds = 0.0
        t0 = time.perf_counter()
        out = pipe(image, traj, generator=torch.Generator().manual_seed(0), output_type="np").frames
        total = time.perf_counter() - t0
        t1 = time.perf_counter()
        mp4_bytes((out[0] * 255).round().astype(np.uint8))
        encode = time.perf_counter() - t1
        spent = {"depth": depth_t.seconds, "denoise": denoise_t.seconds,
                 "cache render + condition": total - depth_t.seconds - denoise_t.seconds, "encode (MP4)": encode}
        stamps.update({k: stamps.get(k, 0.0) + v for k, v in spent.items()})
        return total + encode

    video()  # warm-up
    stamps.clear()
    runs = 2 if quick else 5
    total = statistics.median([video() for _ in range(runs)])
    t0 = time.perf_counter()
    for j, _frame in pipe.stream(image, traj, generator=torch.Generator().manual_seed(0)):
        if j == 1:
            first_frame_s = time.perf_counter() - t0
            break
    long = turning_path(101, 20.0)
    t0 = time.perf_counter()
    pipe(image, long, generator=torch.Generator().manual_seed(0), output_type="np")
    rollout_s = time.perf_counter() - t0
    n = 4
    with FlopCounterMode(display=False) as counter:
        cond = pipe.denoiser.prepare_condition(torch.zeros(n, 3, 256, 448), torch.ones(n, 1, 256, 448),
                                               torch.zeros(n, 6, 256 // pipe.denoiser.config.fold, 448 // pipe.denoiser.config.fold))
        pipe.denoiser(torch.zeros(n, 3, 256, 448), torch.full((n,), 500), cond)
    flops_per_frame_step = counter.get_total_flops() / n
    steps = 4 * 15  # default 4 DDIM steps x 15 generated frames
    peak = matmul_flops()
    denoise_s = stamps["denoise"] / runs
    rows = [[stage, seconds / runs, 100 * seconds / runs / total] for stage, seconds in stamps.items()]
    print_table("video: 16 frames at 256x448, default settings (median of runs)", ["stage", "seconds", "% of total"], rows)
    print(f"total {total:.2f} s per 16-frame video (bar 5 s); first streamed frame {first_frame_s:.2f} s (bar 1 s); "
          f"20-s rollout (101 frames) {rollout_s:.1f} s (bar 30 s); denoiser {flops_per_frame_step * steps / 1e9:.1f} GFLOP per "
          f"video = {flops_per_frame_step * steps / denoise_s / 1e9:.1f} GFLOP/s vs measured matmul peak {peak / 1e9:.1f} GFLOP/s")
    figures = {"seconds_per_video": total, "within_5s_bar": total <= 5.0, "first_frame_s": first_frame_s,
               "rollout_20s_seconds": rollout_s, "denoise_gflop_per_video": flops_per_frame_step * steps / 1e9,
               "denoise_share_of_peak": flops_per_frame_step * steps / denoise_s / peak,
               **{f"share_{k.split()[0]}": v / runs / total for k, v in stamps.items()}}
    emit_json("video", figures)
    return figures


if __name__ == "__main__":
    run()
