"""Read the maneuver and the speed behaviour off a camera path alone.

The path is made relative to its first pose (OpenCV axes: x right, y down, z forward). Heading ``psi`` is
the yaw of the camera's forward axis on the first camera's ground plane (x-z): ``atan2(f_x, f_z)``, positive
to the right. Lateral offset is the final camera centre's ``x`` (m, right positive). Thresholds, tuned for
the clip spec (16 poses over 3 s at 0-15 m/s, 3.5 m lanes), are checked in this order:

| label | rule |
| --- | --- |
| ``stop`` | final speed < ``STOP_SPEED_MPS`` (0.5 m/s, mean over the last ``SPEED_WINDOW_S``) or path length < ``STOP_PATH_M`` (1.0 m) |
| ``turn_left`` / ``turn_right`` | abs(final heading) >= ``TURN_MIN_DEG`` (40 deg); sign gives the side |
| ``lane_change_left`` / ``lane_change_right`` | ``LANE_MIN_M`` (1.5 m) <= abs(lateral offset) <= ``LANE_MAX_M`` (6 m) and abs(final heading) <= max(``LANE_END_HEADING_DEG`` (4 deg), half the largest abs(heading) on the way), i.e. the car straightened out again (a curve keeps turning) |
| ``straight`` | anything else, including following a gentle curve |

Speed behaviour compares the mean speed over the first and the last ``SPEED_WINDOW_S`` (0.6 s):
``stop`` (end < 0.5 m/s), ``speed_up`` / ``slow_down`` (change > 20 % and > 1 m/s), else ``keep_speed``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ct1_sim.metrics._inputs import TrajectoryLike, as_c2w, relative, time_step

MANEUVERS = ("straight", "turn_left", "turn_right", "lane_change_left", "lane_change_right", "stop")
SPEED_BEHAVIOURS = ("stop", "slow_down", "keep_speed", "speed_up")

STOP_SPEED_MPS = 0.5
STOP_PATH_M = 1.0
TURN_MIN_DEG = 40.0
LANE_MIN_M = 1.5
LANE_MAX_M = 6.0
LANE_END_HEADING_DEG = 4.0
SPEED_WINDOW_S = 0.6
SPEED_CHANGE_RATIO = 0.2
SPEED_CHANGE_MPS = 1.0


def heading_deg(traj: TrajectoryLike) -> np.ndarray:
    """Heading (deg) of every pose relative to the first, positive = turned right. ``(T,)``."""
    rel = relative(as_c2w(traj))
    forward = rel[:, :3, 2]
    return np.degrees(np.arctan2(forward[:, 0], forward[:, 2]))


def _window_speed(pos: np.ndarray, t: np.ndarray, at_end: bool) -> float:
    if at_end:
        idx = np.flatnonzero(t >= t[-1] - SPEED_WINDOW_S - 1e-9)
    else:
        idx = np.flatnonzero(t <= t[0] + SPEED_WINDOW_S + 1e-9)
    a, b = idx[0], idx[-1]
    if b == a:
        a, b = (len(t) - 2, len(t) - 1) if at_end else (0, 1)
    path = np.linalg.norm(np.diff(pos[a : b + 1], axis=0), axis=-1).sum()
    return float(path / (t[b] - t[a]))


def speeds_mps(traj: TrajectoryLike, dt_s: float | None = None) -> tuple[float, float]:
    """Mean speed (m/s) over the first and over the last ``SPEED_WINDOW_S``."""
    c2w = as_c2w(traj)
    if len(c2w) < 2:
        raise ValueError("a maneuver needs at least 2 poses")
    t = time_step(traj, dt_s)
    pos = c2w[:, :3, 3]
    return _window_speed(pos, t, False), _window_speed(pos, t, True)


def classify_maneuver(traj: TrajectoryLike, dt_s: float | None = None) -> str:
    """One of :data:`MANEUVERS` read off the camera path (see the module table for the rules)."""
    c2w = relative(as_c2w(traj))
    _, v_end = speeds_mps(traj, dt_s)
    length = float(np.linalg.norm(np.diff(c2w[:, :3, 3], axis=0), axis=-1).sum())
    if v_end < STOP_SPEED_MPS or length < STOP_PATH_M:
        return "stop"
    psi = heading_deg(c2w)
    final = float(psi[-1])
    if abs(final) >= TURN_MIN_DEG:
        return "turn_right" if final > 0 else "turn_left"
    lateral = float(c2w[-1, 0, 3])
    straightened = abs(final) <= max(LANE_END_HEADING_DEG, 0.5 * float(np.abs(psi).max()))
    if LANE_MIN_M <= abs(lateral) <= LANE_MAX_M and straightened:
        return "lane_change_right" if lateral > 0 else "lane_change_left"
    return "straight"


def classify_speed_behaviour(traj: TrajectoryLike, dt_s: float | None = None) -> str:
    """One of :data:`SPEED_BEHAVIOURS` from the start and end speeds."""
    v0, v1 = speeds_mps(traj, dt_s)
    if v1 < STOP_SPEED_MPS:
        return "stop"
    change = v1 - v0
    if change > SPEED_CHANGE_MPS and change > SPEED_CHANGE_RATIO * v0:
        return "speed_up"
    if -change > SPEED_CHANGE_MPS and -change > SPEED_CHANGE_RATIO * v0:
        return "slow_down"
    return "keep_speed"


def maneuver_compliance(trajectories: Sequence[TrajectoryLike], instructed: str, dt_s: float | None = None) -> float:
    """Share of ``trajectories`` whose :func:`classify_maneuver` equals ``instructed``."""
    if instructed not in MANEUVERS:
        raise ValueError(f"unknown maneuver {instructed!r}; use one of {MANEUVERS}")
    if not trajectories:
        raise ValueError("need at least one trajectory")
    return float(np.mean([classify_maneuver(t, dt_s) == instructed for t in trajectories]))
