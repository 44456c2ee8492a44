"""Estimate the camera path of a video from its pixels (for CamI2V-style camera-control metrics).

A small two-view-initialised structure-from-motion with the known intrinsics (OpenCV): corners of frame 0 tracked
through the video with pyramidal Lucas-Kanade (forward-backward checked), an essential matrix between frame 0 and
the frame with the best parallax x track count (RANSAC, then ``recoverPose``), triangulation of its inliers into
frame-0 coordinates, and PnP (RANSAC) of every other frame against those points; when fewer than ``RESEED_BELOW``
of them are still tracked (fast motion, turns), new corners are tracked from a recent localised frame and
triangulated between two localised frames, and PnP goes on against them. The path is known up to one global scale (the reference
baseline is 1), which the CamI2V metrics divide out. Frames where PnP fails hold the previous pose and are counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MIN_MATCHES = 12
#: Re-seed the structure when fewer of its points are still tracked in the next frame.
RESEED_BELOW = 40


@dataclass
class EstimatedPath:
    """``c2w (T,4,4)`` relative to frame 0 (OpenCV axes, arbitrary global scale) and the frames that failed."""

    c2w: np.ndarray
    failed: list[int]


def track_corners(gray: list[np.ndarray], start: int = 0, max_corners: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Corners of frame ``start`` tracked forward with pyramidal Lucas-Kanade (forward-backward checked).

    Returns ``points (T,N,2)`` pixel positions and ``alive (T,N)`` (False before ``start``; a lost track stays lost).
    """
    p0 = cv2.goodFeaturesToTrack(gray[start], maxCorners=max_corners, qualityLevel=0.003, minDistance=4, blockSize=5)
    T = len(gray)
    if p0 is None:
        return np.zeros((T, 0, 2), np.float32), np.zeros((T, 0), bool)
    p0 = p0.reshape(-1, 2).astype(np.float32)
    points = np.zeros((T, len(p0), 2), np.float32)
    alive = np.zeros((T, len(p0)), bool)
    points[start], alive[start] = p0, True
    lk = {"winSize": (21, 21), "maxLevel": 4, "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01)}
    for j in range(start + 1, T):
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
    gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    points, alive = track_corners(gray)
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

    # every other frame: PnP against the current structure; when too few of its tracks survive, re-seed it from
    # new corners triangulated between two already-localised frames
    localised = np.zeros(T, bool)
    localised[[0, best]] = True
    failed, seg_start, reseeded_at = [], 0, -1
    j = 1
    while j < T:
        if j == best:
            j += 1
            continue
        use = alive[j] & ~np.isnan(structure[:, 0])
        if use.sum() < RESEED_BELOW and reseeded_at != j:
            reseeded_at = j
            a, b = max(seg_start, j - 5), j - 1
            if a < b and localised[a] and localised[b]:
                points, alive, structure = _reseed(gray, K, c2w, a, b)
                seg_start = a
                continue
        ok = False
        if use.sum() >= MIN_MATCHES:
            obj = structure[use]
            img = points[j, use].astype(np.float64)
            ok, rvec, tvec, inliers = cv2.solvePnPRansac(obj, img, K, None, iterationsCount=200, reprojectionError=2.0,
                                                         confidence=0.999, flags=cv2.SOLVEPNP_ITERATIVE)
            ok = bool(ok) and inliers is not None and len(inliers) >= MIN_MATCHES // 2
        if ok:
            c2w[j] = _pose(cv2.Rodrigues(rvec)[0], tvec)
            localised[j] = True
        else:
            failed.append(j)
            c2w[j] = c2w[j - 1]
        j += 1
    return EstimatedPath(c2w, failed)


def _reseed(gray: list[np.ndarray], K: np.ndarray, c2w: np.ndarray, a: int, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """New tracks from frame ``a`` and their 3D points (frame-0 coordinates) triangulated between the localised
    frames ``a`` and ``b``; points behind either camera or reprojecting worse than 2 px are left out (NaN)."""
    points, alive = track_corners(gray, a)
    structure = np.full((points.shape[1], 3), np.nan)
    ids = np.flatnonzero(alive[b])
    if len(ids) < MIN_MATCHES:
        return points, alive, structure
    w2c_a, w2c_b = np.linalg.inv(c2w[a]), np.linalg.inv(c2w[b])
    X = cv2.triangulatePoints(K @ w2c_a[:3], K @ w2c_b[:3], points[a, ids].T.astype(np.float64), points[b, ids].T.astype(np.float64))
    X = (X[:3] / X[3]).T
    good = np.ones(len(ids), bool)
    for w2c, frame in ((w2c_a, a), (w2c_b, b)):
        cam = (w2c[:3, :3] @ X.T + w2c[:3, 3:]).T
        uv = (K @ cam.T).T
        err = np.linalg.norm(uv[:, :2] / np.clip(uv[:, 2:], 1e-9, None) - points[frame, ids], axis=1)
        good &= (cam[:, 2] > 0.1) & (err < 2.0)
    structure[ids[good]] = X[good]
    return points, alive, structure
