"""Steering controllers that follow a path (rear-axle reference, world or ego frame, metres, radians).

- :func:`pure_pursuit` steers toward the path point one lookahead distance ahead (the classic geometric
  tracker; used for path actions and model-predicted paths).
- :func:`track_path` adds the path's curvature as feed-forward to heading and lateral-error feedback; it follows
  tight junction turns without cutting the corner (used by the expert, which knows the exact route).
"""

from __future__ import annotations

import numpy as np

from ct1_sim.data.scenarios.ego_motion import curvature


def lookahead_m(speed: float) -> float:
    """Pure-pursuit lookahead (m) at ``speed`` (m/s): 0.9 s of travel, at least 4 m."""
    return max(4.0, 0.9 * speed)


def pure_pursuit(path_xy: np.ndarray, x: float, y: float, yaw: float, speed: float, wheelbase: float) -> float:
    """Steering angle (rad) that puts the rear axle on the arc through the point of ``path_xy (N,2)`` (same frame
    as the pose) one lookahead beyond the point nearest to it (the last point if the path is shorter)."""
    path_xy = np.asarray(path_xy, dtype=float).reshape(-1, 2)
    here = np.array([x, y])
    i = int(np.argmin(np.linalg.norm(path_xy - here, axis=1)))
    s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(path_xy[i:], axis=0), axis=1))])
    j = i + min(int(np.searchsorted(s, lookahead_m(speed))), len(s) - 1)
    dx, dy = path_xy[j] - here
    ld = float(np.hypot(dx, dy))
    if ld < 1e-3:
        return 0.0
    alpha = np.arctan2(dy, dx) - yaw
    return float(np.arctan2(2.0 * wheelbase * np.sin(alpha), ld))


def path_curvature_signed(path_xy: np.ndarray) -> np.ndarray:
    """Signed curvature (1/m, left positive) at each vertex of a polyline resampled evenly."""
    d1 = np.gradient(path_xy, axis=0)
    d2 = np.gradient(d1, axis=0)
    sign = np.sign(d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0])
    return sign * curvature(path_xy)


def track_path(
    path_xy: np.ndarray, s_path: np.ndarray, kappa: np.ndarray, s_now: float, x: float, y: float, yaw: float,
    speed: float, wheelbase: float, preview_s: float = 0.35, natural_freq: float = 1.2, damping: float = 0.9,
) -> float:
    """Steering angle (rad) that follows ``path_xy (N,2)`` (arc lengths ``s_path``, signed curvature ``kappa``) from
    arc length ``s_now``: the curvature ``preview_s`` s ahead (the steering needs time to turn), plus feedback on
    the lateral and heading errors tuned to a second-order response of ``natural_freq`` rad/s and ``damping``."""
    s_ff = s_now + max(speed, 1.0) * preview_s
    k_ff = float(np.interp(s_ff, s_path, kappa))
    i = int(np.clip(np.searchsorted(s_path, s_now), 1, len(s_path) - 1))
    p0, p1 = path_xy[i - 1], path_xy[i]
    t = (p1 - p0) / max(float(np.linalg.norm(p1 - p0)), 1e-9)
    rel = np.array([x, y]) - p0
    lateral = float(t[0] * rel[1] - t[1] * rel[0])  # left of the path positive
    heading_err = float((yaw - np.arctan2(t[1], t[0]) + np.pi) % (2 * np.pi) - np.pi)
    v = max(speed, 1.5)
    u = -(natural_freq**2 / v**2) * lateral - (2 * damping * natural_freq / v) * heading_err
    return float(np.arctan(wheelbase * (k_ff + u)))
