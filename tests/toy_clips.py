"""A toy clip store for trajectory-model tests: the image's colour tells which way the road goes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ct1_sim.data import Clip, ClipStore
from ct1_sim.geometry import CameraTrajectory, intrinsics_from_fov

MANEUVER_TEXT = {"straight": "go straight", "turn_left": "turn left at the intersection", "turn_right": "turn right at the intersection"}


def arc_path(maneuver: str, speed: float, num_poses: int = 16, rate_hz: float = 5.0) -> np.ndarray:
    """Camera-to-world poses (OpenCV) driving at ``speed`` m/s, turning 90 deg over the clip for turns."""
    t = np.arange(num_poses) / rate_hz
    s = speed * t
    c2w = np.tile(np.eye(4), (num_poses, 1, 1))
    if maneuver == "straight":
        c2w[:, 2, 3] = s
        return c2w
    sign = -1.0 if maneuver == "turn_left" else 1.0  # left = towards -x in OpenCV
    radius = speed * t[-1] / (np.pi / 2)
    yaw = s / radius
    c2w[:, 0, 3] = sign * radius * (1 - np.cos(yaw))
    c2w[:, 2, 3] = radius * np.sin(yaw)
    for i, a in enumerate(yaw):
        c, si = np.cos(a), np.sin(a)
        c2w[i, :3, :3] = np.array([[c, 0, sign * si], [0, 1, 0], [-sign * si, 0, c]])
    return c2w


def make_toy_store(path: Path, clips_per_split: dict[str, int], size: tuple[int, int] = (112, 64), seed: int = 0) -> ClipStore:
    """Clips whose maneuver is drawn in the image: a bright band on the side the road turns to."""
    rng = np.random.default_rng(seed)
    store = ClipStore.create(path)
    w, h = size
    for split, n in clips_per_split.items():
        for i in range(n):
            maneuver = ("straight", "turn_left", "turn_right")[i % 3]
            speed = float(rng.uniform(5, 12))
            frame = np.full((h, w, 3), 90, np.uint8)
            frame[h // 2 :] = 60  # road
            if maneuver == "turn_left":
                frame[h // 2 :, : w // 3] = 220
            elif maneuver == "turn_right":
                frame[h // 2 :, 2 * w // 3 :] = 220
            else:
                frame[h // 2 :, w // 3 : 2 * w // 3] = 220
            frames = np.repeat(frame[None], 16, axis=0)
            traj = CameraTrajectory(c2w=arc_path(maneuver, speed), K=intrinsics_from_fov(w, h, 64.0), image_size=(w, h),
                                    timestamps_us=np.arange(16, dtype=np.int64) * 200_000)
            meta = {"source": "toy", "scene": f"{split}-{i}", "maneuver": maneuver, "split": split, "speed_mps": speed}
            store.append(Clip(id=f"{split}-{i:04d}", frames=frames, trajectory=traj, instruction=MANEUVER_TEXT[maneuver], meta=meta))
    return store
