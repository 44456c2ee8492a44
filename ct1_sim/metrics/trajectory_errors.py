"""Trajectory errors in metres and degrees (camera centres, OpenCV camera-to-world poses).

Every function compares paths made relative to their own first pose (``relative=True``), which is what
callers need: model outputs are relative to the current camera, ground truth is absolute.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from ct1_sim.geometry import geodesic_angle
from ct1_sim.metrics._inputs import SampleSet, TrajectoryLike, as_c2w, pair, samples_list, time_step


def _distances(pred: TrajectoryLike, gt: TrajectoryLike, relative: bool) -> np.ndarray:
    a, b = pair(pred, gt, relative)
    return np.linalg.norm(a[:, :3, 3] - b[:, :3, 3], axis=-1)


def ade(pred: TrajectoryLike, gt: TrajectoryLike, relative: bool = True) -> float:
    """Average displacement error (m): mean distance between corresponding camera centres."""
    return float(_distances(pred, gt, relative).mean())


def fde(pred: TrajectoryLike, gt: TrajectoryLike, relative: bool = True) -> float:
    """Final displacement error (m): distance between the last camera centres."""
    return float(_distances(pred, gt, relative)[-1])


def min_ade(samples: SampleSet, gt: TrajectoryLike, relative: bool = True) -> float:
    """minADE@K (m): the best ADE over K samples."""
    return min(ade(s, gt, relative) for s in samples_list(samples))


def min_fde(samples: SampleSet, gt: TrajectoryLike, relative: bool = True) -> float:
    """minFDE@K (m): the best FDE over K samples."""
    return min(fde(s, gt, relative) for s in samples_list(samples))


def rotation_error_deg(pred: TrajectoryLike, gt: TrajectoryLike, relative: bool = True) -> float:
    """Mean geodesic angle (deg) between corresponding camera orientations."""
    a, b = pair(pred, gt, relative)
    return float(np.degrees(geodesic_angle(a[:, :3, :3], b[:, :3, :3])).mean())


def jerk(traj: TrajectoryLike, dt_s: float | None = None) -> float:
    """Mean norm (m/s^3) of the third time derivative of the camera centre (finite differences).

    Needs at least 4 poses; ``dt_s`` is required for arrays (timestamps are used for trajectories, which
    must be uniformly spaced).
    """
    c2w = as_c2w(traj)
    if len(c2w) < 4:
        raise ValueError(f"jerk needs at least 4 poses, got {len(c2w)}")
    t = time_step(traj, dt_s)
    steps = np.diff(t)
    if np.ptp(steps) > 1e-3 * steps.mean():
        raise ValueError("jerk needs uniformly spaced poses; resample the trajectory first")
    h = steps.mean()
    third = np.diff(c2w[:, :3, 3], n=3, axis=0) / h**3
    return float(np.linalg.norm(third, axis=-1).mean())


def l2_at(
    pred: TrajectoryLike,
    gt: TrajectoryLike,
    seconds: float,
    dt_s: float | None = None,
    mode: Literal["at", "average"] = "at",
) -> float:
    """nuScenes open-loop planning L2 (m) at a horizon of ``seconds`` after the first pose.

    ``mode="at"``: the error at that time, interpolated linearly between poses (UniAD's convention);
    ``mode="average"``: the mean error over poses up to that time (ST-P3 / VAD's convention, which the
    VAD-Base 0.41 / 0.70 / 1.05 m figures use).
    """
    d = _distances(pred, gt, True)
    t = time_step(pred, dt_s)
    if seconds < 0 or seconds > t[-1] + 1e-9:
        raise ValueError(f"horizon {seconds}s is outside the trajectory's 0..{t[-1]:.3f}s")
    if mode == "at":
        return float(np.interp(seconds, t, d))
    if mode == "average":
        upto = (t > 1e-9) & (t <= seconds + 1e-9)
        return float(d[upto].mean()) if upto.any() else 0.0
    raise ValueError(f"mode must be 'at' or 'average', got {mode!r}")
