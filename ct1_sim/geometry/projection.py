"""Pinhole projection of world points into a camera (numpy only)."""

from __future__ import annotations

import numpy as np

from ct1_sim.geometry.trajectory import CameraTrajectory, invert_rigid


def project_points(points_world: np.ndarray, c2w: np.ndarray, K: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project ``(N,3)`` world points into a camera ``c2w (4,4)`` (OpenCV axes) with pixel intrinsics ``K``.

    Returns ``(uv (N,2) pixels, z (N,) metres along the optical axis)``; points with ``z <= 0`` are behind
    the camera and their ``uv`` is NaN.
    """
    pts = np.asarray(points_world, dtype=np.float64).reshape(-1, 3)
    w2c = invert_rigid(np.asarray(c2w, dtype=np.float64))
    cam = pts @ w2c[:3, :3].T + w2c[:3, 3]
    z = cam[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        uv = (cam @ np.asarray(K, dtype=np.float64).T)[:, :2] / z[:, None]
    uv[z <= 1e-6] = np.nan
    return uv, z


def ground_track(trajectory: CameraTrajectory, camera_height_m: float) -> np.ndarray:
    """Points on a flat ground below each camera centre, in the first camera's frame ``(T,3)`` (m).

    The first camera's y axis points down (OpenCV), so the ground lies at ``y = camera_height_m``.
    """
    rel = trajectory.relative_to_first().positions.copy()
    rel[:, 1] += camera_height_m
    return rel
