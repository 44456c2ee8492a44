"""Accept ``CameraTrajectory`` objects or plain ``(T,4,4)`` arrays in every metric."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Union

import numpy as np

from ct1_sim.geometry import CameraTrajectory, invert_rigid

TrajectoryLike = Union[CameraTrajectory, np.ndarray]
SampleSet = Union[Sequence[TrajectoryLike], np.ndarray]


def as_c2w(traj: TrajectoryLike, name: str = "trajectory") -> np.ndarray:
    """``(T,4,4)`` float64 camera-to-world matrices."""
    c2w = traj.c2w if isinstance(traj, CameraTrajectory) else np.asarray(traj, dtype=np.float64)
    if c2w.ndim != 3 or c2w.shape[1:] != (4, 4):
        raise ValueError(f"{name} must be a CameraTrajectory or a (T,4,4) array, got shape {c2w.shape}")
    return c2w


def relative(c2w: np.ndarray) -> np.ndarray:
    """Poses relative to the first one: ``inv(c2w_0) @ c2w_i``."""
    return invert_rigid(c2w[0]) @ c2w


def pair(pred: TrajectoryLike, gt: TrajectoryLike, make_relative: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Both paths as arrays of equal length (relative to their own first pose unless told otherwise)."""
    a, b = as_c2w(pred, "pred"), as_c2w(gt, "gt")
    if len(a) != len(b):
        raise ValueError(f"pred has {len(a)} poses but gt has {len(b)}; resample one to the other's timestamps")
    return (relative(a), relative(b)) if make_relative else (a, b)


def samples_list(samples: SampleSet) -> list[TrajectoryLike]:
    """K trajectories from a sequence or a ``(K,T,4,4)`` array."""
    if isinstance(samples, np.ndarray):
        if samples.ndim != 4:
            raise ValueError(f"samples must be (K,T,4,4), got shape {samples.shape}")
        return list(samples)
    out = list(samples)
    if not out:
        raise ValueError("need at least one sample")
    return out


def time_step(traj: TrajectoryLike, dt_s: float | None) -> np.ndarray:
    """Seconds of each pose ``(T,)``: from timestamps, or ``i * dt_s`` for arrays."""
    if isinstance(traj, CameraTrajectory):
        return traj.times_s
    if dt_s is None or dt_s <= 0:
        raise ValueError("a (T,4,4) array has no timestamps: pass dt_s (seconds between poses)")
    return np.arange(len(as_c2w(traj))) * float(dt_s)
