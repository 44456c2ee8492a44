"""Twin drives: the video model along a drive of the procedural world, frame by frame against the exact render.

A policy drives a test town at 5 Hz (the video model's rate) for ``seconds``; at every step the procedural world
renders the camera (the truth). The video model then generates the whole drive from the first frame along the same
camera path in one autoregressive rollout (its 3D memory carries what it generated), and every generated frame is
compared with the render at the same pose: PSNR per frame (the drift curve) and KID-MobileNetV2 per 4-s window
(does the generation collapse as the drive goes on?). On routes that come back to where they started (a loop round
a block), the frames near the start pose measure whether content seen once is shown the same when it is seen again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ct1_sim.clip_spec import RATE_HZ, pose_timestamps_us
from ct1_sim.geometry import CameraTrajectory
from ct1_sim.metrics import kernel_distance, psnr
from ct1_sim.pretrained.image_features import ImageFeatures
from ct1_sim.sim.env import DrivingEnv
from ct1_sim.sim.policies import make_policy

log = logging.getLogger(__name__)

#: The video model's frame rate (Hz): the clip rate it was trained on; and the KID window (s).
VIDEO_HZ = RATE_HZ
WINDOW_S = 4.0
#: Frames whose camera is within this distance (m) of the first camera count as a revisit.
REVISIT_M = 8.0


@dataclass
class TwinDrive:
    """One drive: the true frames ``(T,H,W,3)`` uint8, the camera path, the generated frames and per-frame PSNR."""

    town_seed: int
    route: str
    truth: np.ndarray
    trajectory: CameraTrajectory
    generated: np.ndarray
    psnr_db: np.ndarray
    revisit: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))


def drive(env: DrivingEnv, policy: Any, seed: int, route: str | None, seconds: float) -> tuple[np.ndarray, CameraTrajectory]:
    """Frames and camera path of ``policy`` driving ``env`` (dt must be 1/VIDEO_HZ) for ``seconds`` from ``reset(seed)``."""
    obs, _ = env.reset(seed=seed, options={"route": route} if route else None)
    policy.reset(env)
    frames, poses = [obs["camera"]], [env.world.camera_pose(env.state)]
    for _ in range(round(seconds * VIDEO_HZ)):
        obs, _, terminated, truncated, _ = env.step(policy.act(obs))
        frames.append(obs["camera"])
        poses.append(env.world.camera_pose(env.state))
        if terminated or truncated:
            break
    spec = env.world.spec
    ts = pose_timestamps_us(len(poses), VIDEO_HZ)
    return np.stack(frames), CameraTrajectory(c2w=np.stack(poses), K=env.world.K, image_size=spec.image_size, timestamps_us=ts)


def twin_drives(video_pipeline: Any, episodes: int = 5, seconds: float = 20.0, seed: int = 0, route: str | None = None,
                policy: str = "expert", num_inference_steps: int = 4) -> list[TwinDrive]:
    """``episodes`` twin drives in the test towns (seeds ``seed..seed+episodes-1``)."""
    env = DrivingEnv(split="test", dt=1.0 / VIDEO_HZ, max_seconds=seconds + 5.0)
    pol = make_policy(policy)
    drives = []
    try:
        for k in range(episodes):
            truth, traj = drive(env, pol, seed + k, route, seconds)
            out = video_pipeline(truth[0], traj, num_inference_steps=num_inference_steps,
                                 generator=torch.Generator().manual_seed(seed + k), output_type="np").frames[0]
            gen = (np.clip(out, 0, 1) * 255).round().astype(np.uint8)
            scores = np.array([psnr(gen[j], truth[j]) for j in range(len(gen))])
            rel = traj.relative_to_first().c2w
            revisit = (np.linalg.norm(rel[:, :3, 3], axis=1) < REVISIT_M) & (np.arange(len(rel)) > 5 * VIDEO_HZ)
            drives.append(TwinDrive(env.town.seed, env.route.text(), truth, traj, gen, scores, revisit))
            log.info("twin drive %d/%d: town %d, %d frames, mean PSNR %.2f dB", k + 1, episodes, env.town.seed, len(gen), scores[1:].mean())
    finally:
        env.close()
    return drives


def drift_summary(drives: list[TwinDrive]) -> dict[str, Any]:
    """Per 4-s window: KID-MobileNetV2 x1000 and PSNR over all drives; PSNR of revisited frames."""
    features = ImageFeatures()
    per = round(WINDOW_S * VIDEO_HZ)
    length = min(len(d.generated) for d in drives)
    windows = []
    for start in range(1, length - per + 2, per):
        idx = slice(start, start + per)
        true = features(np.concatenate([d.truth[idx] for d in drives]))
        gen = features(np.concatenate([d.generated[idx] for d in drives]))
        windows.append({"seconds": [round((start - 1) / VIDEO_HZ, 1), round((start - 1 + per) / VIDEO_HZ, 1)],
                        "KID_x1000": 1000 * kernel_distance(true, gen),
                        "PSNR": float(np.mean([d.psnr_db[idx].mean() for d in drives]))})
    revisits = [d.psnr_db[d.revisit].mean() for d in drives if d.revisit.any()]
    return {"drives": len(drives), "frames": length, "windows": windows,
            "last_over_first_KID": windows[-1]["KID_x1000"] / max(windows[0]["KID_x1000"], 1e-9) if windows else float("nan"),
            "revisit_PSNR": float(np.mean(revisits)) if revisits else None, "revisit_drives": len(revisits),
            "per_drive": [{"town_seed": d.town_seed, "route": d.route, "frames": len(d.generated),
                           "mean_PSNR": float(d.psnr_db[1:].mean())} for d in drives]}
