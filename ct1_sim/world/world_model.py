"""``WorldModel``: the one façade the CLI (and later the HTTP service, the ROS bridge and replay) call.

image + instruction (+ speed) -> K camera trajectories with maneuver labels; ``rollout`` adds the future video
once a video model is shipped (until then it raises a clear error instead of faking frames).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable
from typing import Any

import numpy as np

import torch

from ct1_sim.geometry import CameraTrajectory
from ct1_sim.metrics import classify_maneuver
from ct1_sim.paths import TRAJECTORY_MODEL, VIDEO_MODEL, default_model_dir

log = logging.getLogger(__name__)


@dataclass
class Prediction:
    """K trajectories (metres, relative to the current OpenCV camera, at the clip spec's times) and their labels."""

    trajectories: list[CameraTrajectory]
    maneuvers: list[str]


@dataclass
class Rollout:
    """Trajectories and the generated future video that follows ``trajectories[chosen]``."""

    trajectories: list[CameraTrajectory]
    maneuvers: list[str]
    chosen: int
    frames: np.ndarray  # uint8 (T,H,W,3) RGB; frame 0 is the input image at the video's size
    fps: float  # frames per second of ``frames`` (the clip spec's pose rate)


class WorldModel:
    """Loads whatever models exist and says clearly what is missing."""

    def __init__(self, trajectory_model: Any | None, video_model: Any | None = None) -> None:
        self.trajectory_model = trajectory_model
        self.video_model = video_model

    @classmethod
    def from_pretrained(
        cls, trajectory: str | Path | None = None, video: str | Path | None = None, device: str = "auto", dtype: str = "float32"
    ) -> WorldModel:
        """Load the shipped models (or the folders given). A missing trajectory model is an error naming the path."""
        from ct1_sim.trajectory import CT1TrajectoryModel

        traj_dir = Path(trajectory) if trajectory is not None else default_model_dir(TRAJECTORY_MODEL)
        model = CT1TrajectoryModel.from_pretrained(traj_dir, device=device, dtype=dtype)
        video_dir = Path(video) if video is not None else default_model_dir(VIDEO_MODEL)
        if (video_dir / "config.json").is_file():
            log.warning("%s exists but this ct1-sim has no video pipeline yet; rollouts are unavailable", video_dir)
        return cls(model, None)

    def predict(self, image: Any, instruction: str, num_samples: int = 8, seed: int | None = None, speed: float | None = None) -> Prediction:
        """K plausible trajectories for ``image`` (RGB uint8 HxWx3 or PIL) and ``instruction``; ``speed`` in m/s when known."""
        if self.trajectory_model is None:
            raise RuntimeError("no trajectory model loaded; use WorldModel.from_pretrained()")
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        trajectories = self.trajectory_model.sample(image, instruction, num_samples=num_samples, generator=generator, speed=speed)
        return Prediction(trajectories, [classify_maneuver(t) for t in trajectories])

    def rollout(
        self,
        image: Any,
        instruction_or_trajectory: str | CameraTrajectory,
        num_frames: int = 16,
        num_samples: int = 8,
        seed: int | None = None,
        speed: float | None = None,
        progress: Callable[[float], None] | None = None,
    ) -> Rollout:
        """Trajectories + the future video that follows the chosen one.

        ``instruction_or_trajectory``: an instruction (K trajectories are sampled and the most typical one, the
        medoid, is rendered) or a ``CameraTrajectory`` (rendered as given, made relative to its first pose).
        ``progress`` is called with the fraction done (0-1).
        """
        if self.video_model is None:
            raise RuntimeError(
                "no video model is loaded (expected model/ct1-video-tiny); ct1-sim can only predict trajectories: use predict()"
            )
        raise NotImplementedError  # replaced when the video pipeline lands
