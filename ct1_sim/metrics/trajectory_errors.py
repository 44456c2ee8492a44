"""Trajectory errors of predicted camera paths: ADE / FDE / minADE@K / minFDE@K (m), rotation error (deg),
jerk (m/s^3) and nuScenes-style open-loop L2 at a horizon (m); the medoid of a sample set.

Positions are camera centres (the translation of each camera-to-world pose, OpenCV axes, metres). With
``relative=True`` (the default) both paths are first re-expressed relative to their own first pose,
``inv(c2w_0) @ c2w_i``: model outputs are relative to the current camera while ground truth is usually
absolute (world or nuScenes global frame), so this is what every caller needs. Pass ``relative=False`` only
when both paths already share one world frame.

Means run over all ``T`` poses, frame 0 included (after relative alignment its error is 0 by construction,
so ``ADE = sum_i d_i / T``), matching ``ct1_sim.trajectory.evaluation``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from ct1_sim.geometry import geodesic_angle
from ct1_sim.metrics._inputs import (
    SampleSet,
    TrajectoryLike,
    as_c2w,
    pair,
    relative,
    samples_list,
    shared_times,
    times_of,
)


def _distances(pred: TrajectoryLike, gt: TrajectoryLike, relative: bool) -> np.ndarray:
    a, b = pair(pred, gt, relative)
    return np.linalg.norm(a[:, :3, 3] - b[:, :3, 3], axis=-1)  # (T,)


def ade(pred: TrajectoryLike, gt: TrajectoryLike, relative: bool = True) -> float:
    """Average displacement error (m): mean over the ``T`` poses of ``|c_pred_i - c_gt_i|`` (camera centres).

    ``relative=True`` first makes each path relative to its own frame 0 (see the module docstring).
    """
    return float(_distances(pred, gt, relative).mean())


def fde(pred: TrajectoryLike, gt: TrajectoryLike, relative: bool = True) -> float:
    """Final displacement error (m): ``|c_pred_last - c_gt_last|``, paths relative to frame 0 by default."""
    return float(_distances(pred, gt, relative)[-1])


def min_ade(samples: SampleSet, gt: TrajectoryLike, relative: bool = True) -> float:
    """minADE@K (m): the smallest :func:`ade` over K sampled paths (sequence or ``(K,T,4,4)`` array)."""
    return min(ade(s, gt, relative) for s in samples_list(samples))


def min_fde(samples: SampleSet, gt: TrajectoryLike, relative: bool = True) -> float:
    """minFDE@K (m): the smallest :func:`fde` over K sampled paths (sequence or ``(K,T,4,4)`` array)."""
    return min(fde(s, gt, relative) for s in samples_list(samples))


def rotation_error_deg(pred: TrajectoryLike, gt: TrajectoryLike, relative: bool = True) -> float:
    """Mean over the ``T`` poses of the geodesic angle (deg, in [0, 180]) between camera orientations,
    ``arccos((tr(R_gt^T R_pred) - 1) / 2)``, with both paths relative to their frame 0 by default."""
    a, b = pair(pred, gt, relative)
    return float(np.degrees(geodesic_angle(b[:, :3, :3], a[:, :3, :3])).mean())


def jerk(traj: TrajectoryLike, dt_s: float | None = None) -> float:
    """Mean norm (m/s^3) of the third time derivative of the camera centre (a smoothness measure).

    The derivative is ``6 x`` the third divided difference of consecutive positions, which equals
    ``Δ³c / dt³`` for evenly spaced poses and is exact for cubic motion at any spacing. Times come from
    a ``CameraTrajectory``'s timestamps; a ``(T,4,4)`` array needs ``dt_s`` (s). Needs ``T >= 4`` poses.
    Invariant to the world frame, so no relative alignment is needed.
    """
    c2w = as_c2w(traj)
    if len(c2w) < 4:
        raise ValueError(f"jerk needs at least 4 poses, got {len(c2w)} (a third derivative spans 4 poses)")
    t = times_of(traj, dt_s)
    p = c2w[:, :3, 3]  # (T,3)
    d1 = np.diff(p, axis=0) / np.diff(t)[:, None]  # (T-1,3) first divided differences
    d2 = np.diff(d1, axis=0) / (t[2:] - t[:-2])[:, None]  # (T-2,3)
    d3 = np.diff(d2, axis=0) / (t[3:] - t[:-3])[:, None]  # (T-3,3)
    return float(np.linalg.norm(6.0 * d3, axis=-1).mean())


def l2_at(
    pred: TrajectoryLike,
    gt: TrajectoryLike,
    seconds: float,
    dt_s: float | None = None,
    mode: Literal["at", "average"] = "at",
) -> float:
    """Open-loop planning L2 (m) at a horizon of ``seconds`` after the first pose, paths relative to frame 0.

    - ``mode="at"``: the distance between the two camera centres at that time, each path interpolated
      linearly between its poses. This is UniAD's default protocol (UniAD, CVPR 2023).
    - ``mode="average"``: the mean distance over the poses with ``0 < t <= seconds``. This is the ST-P3 / VAD
      protocol (ST-P3's evaluation averages the first ``2 * seconds`` waypoints; UniAD added it as a "legacy"
      option in PR #173); VAD-Base's 0.41 / 0.70 / 1.05 m at 1/2/3 s use it.

    The two differ a lot at 2-3 s (UniAD: 0.96 m "at" vs 0.64 m "average" at 2 s, UniAD issue #166), so
    compare numbers only within one mode.
    nuScenes planners average over 2 Hz waypoints in 2-D bird's-eye view; here every pose counts (5 Hz for
    the 16-pose clips) and the distance is 3-D. Times come from gt's (else pred's) timestamps, or
    ``i * dt_s`` for arrays.
    """
    if mode not in ("at", "average"):
        raise ValueError(f"mode must be 'at' or 'average', got {mode!r}")
    a, b = pair(pred, gt, True)
    t = shared_times(pred, gt, dt_s)
    if not 0.0 <= seconds <= t[-1] + 1e-9:
        raise ValueError(f"horizon {seconds} s is outside the trajectory's 0..{t[-1]:.3f} s")
    if mode == "at":
        here = [np.array([np.interp(seconds, t, x[:, axis, 3]) for axis in range(3)]) for x in (a, b)]
        return float(np.linalg.norm(here[0] - here[1]))
    upto = (t > 1e-9) & (t <= seconds + 1e-9)
    if not upto.any():
        raise ValueError(f"no pose lies in (0, {seconds}] s; use a horizon of at least one pose step")
    return float(np.linalg.norm(a[upto, :3, 3] - b[upto, :3, 3], axis=-1).mean())


def medoid_index(samples: SampleSet) -> int:
    """Index of the most typical of K sampled paths (sequence or ``(K,T,4,4)`` array): the medoid, whose summed
    :func:`ade` (m) to all the others is smallest; paths relative to their frame 0. Ties go to the lowest index."""
    paths = np.stack([relative(as_c2w(s))[:, :3, 3] for s in samples_list(samples)])  # (K,T,3) camera centres
    mean_dist = np.linalg.norm(paths[:, None] - paths[None], axis=-1).mean(-1)  # (K,K)
    return int(mean_dist.sum(1).argmin())
