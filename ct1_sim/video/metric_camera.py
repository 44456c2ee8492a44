"""Metric camera control: where each frame of a video was taken from, by PnP against frame 0 lifted with true depth.

Frame 0's corners with a rendered depth (sky and beyond ``MAX_DEPTH_M`` left out) are lifted into 3D in its camera
frame (OpenCV axes, metres) and tracked through the video (pyramidal Lucas-Kanade, forward-backward checked, as the
CamI2V estimator in :mod:`ct1_sim.video.camera_estimation`); each frame's camera is solved from its live tracks by
PnP + RANSAC with the known intrinsics, then refined on the inliers (Levenberg-Marquardt).
Since the 3D points are metric, so is the recovered camera: errors are degrees and metres against the camera the
video was asked to follow. Run on the true frames, the same estimator gives the floor. A frame with fewer than
``MIN_INLIERS`` inliers is a failure (not localised).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ct1_sim.video.camera_estimation import track_corners

MIN_INLIERS = 15
MAX_DEPTH_M = 150.0
REPROJECTION_PX = 2.0
#: Corners whose 3x3 depth neighbourhood spans more than this relative range sit on a depth edge and are left out.
EDGE_TOLERANCE = 0.05


@dataclass
class MetricCameraErrors:
    """Per frame 1..T-1: ``rotation_deg``, ``position_m`` (NaN where the frame failed) and ``failed`` flags."""

    rotation_deg: np.ndarray
    position_m: np.ndarray
    failed: np.ndarray


def pnp_camera_errors(frames: np.ndarray, depth0_m: np.ndarray, K: np.ndarray, c2w_rel: np.ndarray, seed: int = 0) -> MetricCameraErrors:
    """Camera errors of ``frames (T,H,W,3)`` uint8 (frame 0 the real first frame) against ``c2w_rel (T,4,4)`` (relative
    to frame 0), with ``depth0_m (H,W)`` the true depth of frame 0 (m along the optical axis, 0 = sky) and pixel
    intrinsics ``K``."""
    cv2.setRNGSeed(seed)
    gray = [cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY) for f in frames]
    points, alive = track_corners(gray)
    T = len(frames)
    rot = np.full(T - 1, np.nan)
    pos = np.full(T - 1, np.nan)
    failed = np.ones(T - 1, bool)
    uv0 = points[0].astype(np.float64)
    h, w = depth0_m.shape
    depth = np.asarray(depth0_m, np.float64)
    rows, cols = np.clip(uv0[:, 1].astype(int), 0, h - 1), np.clip(uv0[:, 0].astype(int), 0, w - 1)
    d = depth[rows, cols]
    # corners sit on edges, often depth edges: keep those whose 3x3 neighbourhood has one depth (within 5 %)
    padded = np.pad(depth, 1, mode="edge")
    near = np.stack([padded[rows + dy, cols + dx] for dy in range(3) for dx in range(3)])
    flat = (near.max(axis=0) <= near.min(axis=0) * (1 + EDGE_TOLERANCE)) & (near.min(axis=0) > 0)
    has_depth = flat & (d > 0) & (d < MAX_DEPTH_M)
    Kf = np.asarray(K, np.float64)
    pts0 = np.stack([(uv0[:, 0] - Kf[0, 2]) / Kf[0, 0] * d, (uv0[:, 1] - Kf[1, 2]) / Kf[1, 1] * d, d], axis=1)
    for j in range(1, T):
        use = alive[j] & has_depth
        if use.sum() < MIN_INLIERS:
            continue
        obj, img = pts0[use], points[j][use].astype(np.float64)
        ok, rvec, tvec, inliers = cv2.solvePnPRansac(obj, img, Kf, None, iterationsCount=500, reprojectionError=REPROJECTION_PX,
                                                     confidence=0.999, flags=cv2.SOLVEPNP_EPNP)
        if not ok or inliers is None or len(inliers) < MIN_INLIERS:
            continue
        idx = inliers[:, 0]
        rvec, tvec = cv2.solvePnPRefineLM(obj[idx], img[idx], Kf, None, rvec, tvec)
        R = cv2.Rodrigues(rvec)[0]
        centre = -R.T @ tvec[:, 0]
        true = c2w_rel[j]
        dR = true[:3, :3].T @ R.T
        rot[j - 1] = np.degrees(np.arccos(np.clip((np.trace(dR) - 1) / 2, -1, 1)))
        pos[j - 1] = float(np.linalg.norm(centre - true[:3, 3]))
        failed[j - 1] = False
    return MetricCameraErrors(rot, pos, failed)
