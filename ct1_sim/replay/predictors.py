"""A baseline "world model" for replay: straight ahead at the true current speed (no image, no instruction).

Useful as a floor for the learned model's numbers and as a fast, deterministic predictor in tests and benchmarks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ct1_sim.formats.defaults import DEFAULT_HFOV_DEG
from ct1_sim.geometry import CameraTrajectory, intrinsics_from_fov
from ct1_sim.metrics import classify_maneuver
from ct1_sim.trajectory.baselines import constant_velocity
from ct1_sim.world.world_model import Prediction

NUM_POSES, RATE_HZ = 16, 5.0


class ConstantVelocityWorld:
    """``predict`` returns K identical straight paths (OpenCV +z) at ``speed`` m/s, 16 poses at 5 Hz; no video."""

    video_model = None

    def predict(self, image: Any, instruction: str, num_samples: int = 8, seed: int | None = None, speed: float | None = None) -> Prediction:
        h, w = np.asarray(image).shape[:2]
        c2w = constant_velocity(float(speed or 0.0), NUM_POSES, RATE_HZ)
        ts = np.round(np.arange(NUM_POSES) * 1e6 / RATE_HZ).astype(np.int64)
        traj = CameraTrajectory(c2w=c2w, K=intrinsics_from_fov(w, h, DEFAULT_HFOV_DEG), image_size=(w, h), timestamps_us=ts)
        return Prediction([traj] * num_samples, [classify_maneuver(traj)] * num_samples)

    def rollout(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the constant-velocity baseline has no video model; run replay without --video")
