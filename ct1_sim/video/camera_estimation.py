"""Estimate the camera path of a video from its pixels (for CamI2V-style camera-control metrics).

A small two-view-initialised structure-from-motion with the known intrinsics (OpenCV): corners of frame 0 tracked
through the video with pyramidal Lucas-Kanade (forward-backward checked), an essential matrix between frame 0 and
the frame with the best parallax x track count (RANSAC, then ``recoverPose``), triangulation of its inliers into
frame-0 coordinates, and PnP (RANSAC) of every other frame against those points. The path is known up to one global scale (the reference
baseline is 1), which the CamI2V metrics divide out. Frames where PnP fails hold the previous pose and are counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MIN_MATCHES = 12


@dataclass
class EstimatedPath:
    """``c2w (T,4,4)`` relative to frame 0 (OpenCV axes, arbitrary global scale) and the frames that failed."""

    c2w: np.ndarray
    failed: list[int]


def _tracks(frames: np.ndarray, max_corners: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Corners of frame 0 tracked through the video with pyramidal Lucas-Kanade (forward-backward checked).

    Returns ``points (T,N,2)`` pixel positions and ``alive (T,N)`` (a track, once lost, stays lost).
    """
    gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    p0 = cv2.goodFeaturesToTrack(gray[0], maxCorners=max_corners, qualityLevel=0.003, minDistance=4, blockSize=5)
    T = len(frames)
    if p0 is None:
        return np.zeros((T, 0, 2), np.float32), np.zeros((T, 0), bool)
    p0 = p0.reshape(-1, 2).astype(np.float32)
    points = np.zeros((T, len(p0), 2), np.float32)
    alive = np.zeros((T, len(p0)), bool)
    points[0], alive[0] = p0, True
    lk = {"winSize": (21, 21), "maxLevel": 4, "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01)}
    for j in range(1, T):
        prev = points[j - 1]
        nxt, st, _ = cv2.calcOpticalFlowPyrLK(gray[j - 1], gray[j], prev, None, **lk)
        back, st2, _ = cv2.calcOpticalFlowPyrLK(gray[j], gray[j - 1], nxt, None, **lk)
        h, w = gray[j].shape
        ok = (alive[j - 1] & (st.ravel() == 1) & (st2.ravel() == 1) & (np.linalg.norm(back - prev, axis=1) < 0.5)
              & (nxt[:, 0] >= 0) & (nxt[:, 0] < w) & (nxt[:, 1] >= 0) & (nxt[:, 1] < h))
        points[j] = np.where(ok[:, None], nxt, prev)
        alive[j] = ok
    return points, alive


def _pose(R: np.ndarray, t: np.ndarray) -> np.ndarray:
    """c2w from a world(=frame 0)-to-camera rotation and translation."""
    w2c = np.eye(4)
    w2c[:3, :3], w2c[:3, 3] = R, t.reshape(3)
    return np.linalg.inv(w2c)


def estimate_camera_path(frames: np.ndarray, K: np.ndarray, seed: int = 0) -> EstimatedPath:
    """Camera path of ``frames (T,H,W,3)`` uint8 RGB taken with pixel intrinsics ``K`` (see the module docstring)."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 (T,H,W,3); got {frames.dtype} {frames.shape}")
    cv2.setRNGSeed(seed)
    K = np.asarray(K, dtype=np.float64)
    T = len(frames)
    points, alive = _tracks(frames)
    c2w = np.repeat(np.eye(4)[None], T, axis=0)

    # reference frame: the most parallax (median track motion, capped) times surviving tracks
    best, best_score = None, 0.0
    for j in range(1, T):
        n = int(alive[j].sum())
        if n < 30:
            continue
        flow = float(np.median(np.linalg.norm(points[j, alive[j]] - points[0, alive[j]], axis=1)))
        score = min(flow, 40.0) * np.sqrt(n)
        if flow > 2.0 and score > best_score:
            best, best_score = j, score
    if best is None:
        return EstimatedPath(c2w, list(range(1, T)))

    # two-view initialisation: frame 0 and the reference frame
    ids = np.flatnonzero(alive[best])
    p0 = points[0, ids].astype(np.float64)
    pr = points[best, ids].astype(np.float64)
    E, inl = cv2.findEssentialMat(p0, pr, K, method=cv2.RANSAC, prob=0.999, threshold=1.0)
    if E is None or E.shape != (3, 3):
        return EstimatedPath(c2w, list(range(1, T)))
    _, R, t, inl = cv2.recoverPose(E, p0, pr, K, mask=inl)
    keep = inl.ravel() > 0
    P0 = K @ np.hstack([np.eye(3), np.zeros((3, 1))])
    Pr = K @ np.hstack([R, t])
    X = cv2.triangulatePoints(P0, Pr, p0[keep].T, pr[keep].T)
    X = (X[:3] / X[3]).T  # (N,3) frame-0 camera coordinates, |t_ref| = 1
    zr = (R @ X.T + t).T[:, 2]
    good = (X[:, 2] > 0) & (zr > 0) & (X[:, 2] < 200.0)
    structure = np.full((points.shape[1], 3), np.nan)
    structure[ids[keep][good]] = X[good]
    c2w[best] = _pose(R, t)

    # every other frame: PnP against the triangulated points
    failed = []
    for j in range(1, T):
        if j == best:
            continue
        use = alive[j] & ~np.isnan(structure[:, 0])
        ok = False
        if use.sum() >= MIN_MATCHES:
            obj = structure[use]
            img = points[j, use].astype(np.float64)
            ok, rvec, tvec, inliers = cv2.solvePnPRansac(obj, img, K, None, iterationsCount=200, reprojectionError=2.0,
                                                         confidence=0.999, flags=cv2.SOLVEPNP_ITERATIVE)
            ok = bool(ok) and inliers is not None and len(inliers) >= MIN_MATCHES // 2
        if ok:
            c2w[j] = _pose(cv2.Rodrigues(rvec)[0], tvec)
        else:
            failed.append(j)
            c2w[j] = c2w[j - 1]
    return EstimatedPath(c2w, failed)
