"""A baseline "world model" for replay: straight ahead at the true current speed (no image, no instruction).

A floor for the learned model's numbers, and a fast, deterministic predictor for tests and benchmarks. It imports
no torch, so replaying with it starts quickly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ct1_sim.clip_spec import HFOV_DEG, NUM_POSES, RATE_HZ, pose_timestamps_us
from ct1_sim.geometry import CameraTrajectory, intrinsics_from_fov
from ct1_sim.metrics import classify_maneuver


@dataclass
class BaselinePrediction:
    """Same fields as :class:`ct1_sim.world.Prediction`."""

    trajectories: list[CameraTrajectory]
    maneuvers: list[str]


class ConstantVelocityWorld:
    """``predict`` returns K identical straight paths along the camera's +z axis at ``speed`` m/s, 16 poses at
    5 Hz (metres, relative to the current camera); there is no video model."""

    video_model = None

    def predict(self, image: Any, instruction: str, num_samples: int = 8, seed: int | None = None,
                speed: float | None = None) -> BaselinePrediction:
        h, w = np.asarray(image).shape[:2]
        c2w = np.tile(np.eye(4), (NUM_POSES, 1, 1))
        c2w[:, 2, 3] = float(speed or 0.0) * np.arange(NUM_POSES) / RATE_HZ
        ts = pose_timestamps_us(NUM_POSES, RATE_HZ)
        traj = CameraTrajectory(c2w=c2w, K=intrinsics_from_fov(w, h, HFOV_DEG), image_size=(w, h), timestamps_us=ts)
        return BaselinePrediction([traj] * num_samples, [classify_maneuver(traj)] * num_samples)

    def rollout(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the constant-velocity baseline has no video model; run replay without --video")
