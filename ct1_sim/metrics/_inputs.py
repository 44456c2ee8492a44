"""Input handling shared by every metric: ``CameraTrajectory`` or ``(T,4,4)`` arrays, sample sets, times.

Every trajectory argument may be a :class:`~ct1_sim.geometry.CameraTrajectory` or a ``(T,4,4)`` array of
camera-to-world poses (OpenCV camera axes, metres). A sample set is a sequence of those or a ``(K,T,4,4)``
array. Times come from a trajectory's timestamps; a bare array needs ``dt_s`` (seconds between poses).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ct1_sim.geometry import CameraTrajectory, invert_rigid

TrajectoryLike = CameraTrajectory | np.ndarray
SampleSet = Sequence[TrajectoryLike] | np.ndarray

#: Two trajectories whose relative timestamps differ by more than this (s) are not compared pose by pose.
TIME_TOLERANCE_S = 1e-3


def as_c2w(traj: TrajectoryLike, name: str = "trajectory") -> np.ndarray:
    """``(T,4,4)`` float64 camera-to-world poses of a trajectory or an array (``ValueError`` on bad shape)."""
    if isinstance(traj, CameraTrajectory):
        return traj.c2w
    c2w = np.asarray(traj, dtype=np.float64)
    if c2w.ndim != 3 or c2w.shape[1:] != (4, 4) or len(c2w) == 0:
        raise ValueError(
            f"{name} must be a CameraTrajectory or a (T,4,4) array with T >= 1, got shape {c2w.shape}"
        )
    if not np.isfinite(c2w).all():
        raise ValueError(f"{name} has NaN or inf poses")
    return c2w


def relative(c2w: np.ndarray) -> np.ndarray:
    """Poses relative to the first one, ``inv(c2w_0) @ c2w_i`` (the first becomes the identity)."""
    return invert_rigid(c2w[0]) @ c2w


def pair(
    pred: TrajectoryLike, gt: TrajectoryLike, make_relative: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Both paths as ``(T,4,4)`` arrays of equal length, each relative to its own first pose by default.

    Raises ``ValueError`` when the lengths differ, or when both carry timestamps whose times since their
    first pose disagree (the poses would be compared at different moments).
    """
    a, b = as_c2w(pred, "pred"), as_c2w(gt, "gt")
    if len(a) != len(b):
        raise ValueError(
            f"pred has {len(a)} poses but gt has {len(b)}; resample one to the other's timestamps"
        )
    if isinstance(pred, CameraTrajectory) and isinstance(gt, CameraTrajectory):
        gap = np.abs(pred.times_s - gt.times_s).max()
        if gap > TIME_TOLERANCE_S:
            raise ValueError(
                f"pred and gt poses are {gap:.3f} s apart at the same index (times since each first pose "
                "differ); resample one to the other's timestamps"
            )
    return (relative(a), relative(b)) if make_relative else (a, b)


def samples_list(samples: SampleSet, name: str = "samples") -> list[TrajectoryLike]:
    """K >= 1 trajectories from a sequence or a ``(K,T,4,4)`` array."""
    if isinstance(samples, CameraTrajectory):
        raise ValueError(
            f"{name} must be a sequence of trajectories or a (K,T,4,4) array, got one CameraTrajectory"
        )
    if isinstance(samples, np.ndarray):
        if samples.ndim != 4 or samples.shape[2:] != (4, 4):
            raise ValueError(f"{name} must be a (K,T,4,4) array, got shape {samples.shape}")
        out: list[TrajectoryLike] = list(samples)
    else:
        out = list(samples)
    if not out:
        raise ValueError(f"{name} is empty: need at least one trajectory")
    return out


def _check_dt(dt_s: float | None) -> float:
    if dt_s is None:
        raise ValueError(
            "a (T,4,4) array has no timestamps: pass dt_s (seconds between poses) or a CameraTrajectory"
        )
    dt = float(dt_s)
    if not np.isfinite(dt) or dt <= 0:
        raise ValueError(f"dt_s must be a positive number of seconds, got {dt_s!r}")
    return dt


def times_of(traj: TrajectoryLike, dt_s: float | None) -> np.ndarray:
    """Seconds since the first pose ``(T,)``: from timestamps, or ``i * dt_s`` for an array.

    A ``CameraTrajectory``'s own timestamps win over ``dt_s``.
    """
    if isinstance(traj, CameraTrajectory):
        return traj.times_s
    return np.arange(len(as_c2w(traj))) * _check_dt(dt_s)


def shared_times(pred: TrajectoryLike, gt: TrajectoryLike, dt_s: float | None) -> np.ndarray:
    """Seconds since the first pose for a compared pair: gt's timestamps, else pred's, else ``i * dt_s``."""
    for traj in (gt, pred):
        if isinstance(traj, CameraTrajectory):
            return traj.times_s
    return times_of(pred, dt_s)
