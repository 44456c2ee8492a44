"""Read the maneuver and the speed behaviour off a camera path alone (instruction compliance).

Frame: the path is made relative to its first pose, so the first camera's OpenCV axes are the reference:
x right, y down, z forward (metres). The first camera's x-z plane stands in for the ground plane.

- **Heading** ``psi_i`` (deg) is the yaw of camera i's forward axis ``f = R_rel_i[:, 2]`` projected on that
  plane: ``psi = atan2(f_x, f_z)``, unwrapped over time. A positive rotation about the down-pointing y axis
  turns z towards +x, i.e. clockwise seen from above: **right is psi > 0, left is psi < 0**.
- **Lateral offset** (m) is the last camera centre's ``x``: right positive, left negative.
- **Speeds** (m/s) are path length over time inside a window of ``SPEED_WINDOW_S`` at the start and at the
  end of the clip (at 5 Hz: the first / last 4 poses).

Rules, checked top to bottom, tuned for the clip spec (16 poses over 3 s at 5 Hz, urban speeds 4-15 m/s,
3.5 m lanes):

| label | rule (constants) |
| --- | --- |
| ``stop`` | end speed < 0.5 m/s (``STOP_SPEED_MPS``) or path length < 1.0 m (``STOP_PATH_M``) |
| ``turn_left`` / ``_right`` | abs(final heading) >= 40 deg (``TURN_MIN_DEG``); its sign gives the side |
| ``lane_change_left`` / ``_right`` | 1.5 m <= abs(lateral) <= 6 m (``LANE_MIN_M``, ``LANE_MAX_M``), |
| | abs(final heading) < 15 deg (``LANE_MAX_END_HEADING_DEG``), and the heading came back: |
| | abs(final) <= max(4 deg, 0.5 x peak abs(heading)) (``LANE_SETTLED_DEG``, ``LANE_SETTLED_FRACTION``); |
| | the sign of the lateral offset gives the side |
| ``straight`` | anything else, including following a gentle curve |

Why these values: a 3 s clip catches only part of an intersection turn (the scenario generator redraws
intersection layouts until the turn passes 40 deg inside the clip), while a road curve of radius >= 150 m bends about 17 deg in 3 s at 15 m/s. A completed lane
change shifts one lane (3.5 m) and ends within a few degrees of the start heading; a curve also drifts
sideways (about ``s^2 / 2R``: 1.5 m over 30 m at R = 300 m) but its heading keeps growing, which the
"came back" test rejects. Above 6 m sideways with a small final heading the path is not one lane change.

A **whole drive** of any length (:func:`classify_drive`) is labelled by its net change from the first pose to the
last with the same thresholds, the route first: turn, then lane change, then ``stop`` (it never moved, or ended
stopped), else ``straight``; its lateral offset is taken across the car's initial direction of travel, which a camera's small
mounting yaw does not tilt (the yaw is the median angle between motion and heading). A long gentle turn (90 deg over 20 s, under 15 deg in any 3 s) is a turn as a drive
and ``straight`` in each of its clips.

Speed behaviour (``SPEED_BEHAVIOURS``) compares the start and end speeds ``v0``, ``v1``:

| label | rule |
| --- | --- |
| ``stop`` | ``v1 < STOP_SPEED_MPS`` (0.5 m/s) |
| ``speed_up`` | ``v1 - v0 > SPEED_CHANGE_MPS`` (1 m/s) and ``> SPEED_CHANGE_RATIO * v0`` (20 %) |
| ``slow_down`` | ``v0 - v1 > 1 m/s`` and ``> 20 % * v0`` |
| ``keep_speed`` | anything else |

Times come from a ``CameraTrajectory``'s timestamps; a ``(T,4,4)`` array needs ``dt_s`` (s).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np

from ct1_sim.geometry import invert_rigid
from ct1_sim.metrics._inputs import SampleSet, TrajectoryLike, as_c2w, relative, samples_list, times_of

log = logging.getLogger(__name__)

MANEUVERS = ("straight", "turn_left", "turn_right", "lane_change_left", "lane_change_right", "stop")
SPEED_BEHAVIOURS = ("stop", "slow_down", "keep_speed", "speed_up")

#: End speed (m/s) below which the car counts as stopped.
STOP_SPEED_MPS = 0.5
#: Path length (m) below which the car counts as stopped whatever its end speed.
STOP_PATH_M = 1.0
#: Smallest abs(final heading change) (deg) read as a turn.
TURN_MIN_DEG = 40.0  # the shipped scenario data and ct1-tiny were labelled with 40 deg
#: Range of abs(final lateral offset) (m) read as one lane change (lanes are 3.5 m wide).
LANE_MIN_M = 1.5
LANE_MAX_M = 6.0
#: A lane change ends with abs(final heading) below this (deg) ...
LANE_MAX_END_HEADING_DEG = 15.0
#: ... and at most max(LANE_SETTLED_DEG, LANE_SETTLED_FRACTION * peak abs(heading)): the car straightened out.
LANE_SETTLED_DEG = 4.0
LANE_SETTLED_FRACTION = 0.5
#: Length (s) of the windows at the start and at the end of the clip over which speeds are measured.
SPEED_WINDOW_S = 0.6
#: A speed change must exceed both this share of the start speed and this many m/s.
SPEED_CHANGE_RATIO = 0.2
SPEED_CHANGE_MPS = 1.0
#: Steps shorter than this (m) are standing still: they do not tell the direction of travel (:func:`lateral_of_travel_m`).
MOVING_STEP_M = 0.05


def _headings_deg(rel: np.ndarray) -> np.ndarray:
    """Headings (deg) ``(..., T)`` of relative poses ``(..., T, 4, 4)``, unwrapped along T; right > 0."""
    forward = rel[..., :3, 2]  # camera z axes in the first camera's frame
    return np.degrees(np.unwrap(np.arctan2(forward[..., 0], forward[..., 2]), axis=-1))


def heading_deg(trajectory: TrajectoryLike) -> np.ndarray:
    """Heading (deg) of every pose relative to the first, ``(T,)``, unwrapped; right > 0, left < 0.

    Yaw of the camera's forward (+z) axis projected on the first camera's x-z plane (module docstring).
    """
    return _headings_deg(relative(as_c2w(trajectory)))


def _window(t: np.ndarray, at_end: bool) -> tuple[int, int]:
    """First and last pose index within ``SPEED_WINDOW_S`` of one end of the times ``t (T,)``."""
    if at_end:
        idx = np.flatnonzero(t >= t[-1] - SPEED_WINDOW_S - 1e-9)
    else:
        idx = np.flatnonzero(t <= t[0] + SPEED_WINDOW_S + 1e-9)
    a, b = int(idx[0]), int(idx[-1])
    if a == b:  # poses sparser than the window: use the nearest step
        a, b = (len(t) - 2, len(t) - 1) if at_end else (0, 1)
    return a, b


def _window_speeds(pos: np.ndarray, t: np.ndarray, at_end: bool) -> np.ndarray:
    """Mean speeds (m/s) ``(...)`` of positions ``(..., T, 3)``: path length over elapsed time within
    ``SPEED_WINDOW_S`` of one end of the clip."""
    a, b = _window(t, at_end)
    length = np.linalg.norm(np.diff(pos[..., a : b + 1, :], axis=-2), axis=-1).sum(-1)
    return length / (t[b] - t[a])


def speeds_mps(trajectory: TrajectoryLike, dt_s: float | None = None) -> tuple[float, float]:
    """``(start, end)`` mean speeds (m/s) of the camera centre over the first and last ``SPEED_WINDOW_S``."""
    c2w = as_c2w(trajectory)
    if len(c2w) < 2:
        raise ValueError(f"speeds need at least 2 poses, got {len(c2w)}")
    t = times_of(trajectory, dt_s)
    pos = c2w[:, :3, 3]
    return float(_window_speeds(pos, t, at_end=False)), float(_window_speeds(pos, t, at_end=True))


@dataclass(frozen=True)
class PathFeatures:
    """What the maneuver rules read off a path (relative to its first pose; module docstring)."""

    end_speed_mps: float
    length_m: float
    final_heading_deg: float  # right > 0
    peak_heading_deg: float  # largest abs(heading) on the way
    lateral_m: float  # last camera centre's x: right > 0


def _features(c2w: np.ndarray, t: np.ndarray) -> list[PathFeatures]:
    """:class:`PathFeatures` of N paths ``(N,T,4,4)`` sampled at the same times ``t (T,)``, computed together."""
    if c2w.shape[1] < 2:
        raise ValueError(f"speeds need at least 2 poses, got {c2w.shape[1]}")
    rel = invert_rigid(c2w[:, :1]) @ c2w
    pos = rel[..., :3, 3]
    psi = _headings_deg(rel)
    v_end = _window_speeds(c2w[..., :3, 3], t, at_end=True)
    length = np.linalg.norm(np.diff(pos, axis=1), axis=-1).sum(-1)
    peak = np.abs(psi).max(-1)
    return [PathFeatures(end_speed_mps=float(v_end[i]), length_m=float(length[i]), final_heading_deg=float(psi[i, -1]),
                         peak_heading_deg=float(peak[i]), lateral_m=float(pos[i, -1, 0])) for i in range(len(c2w))]


def path_features(trajectory: TrajectoryLike, dt_s: float | None = None) -> PathFeatures:
    """:class:`PathFeatures` of a camera path (a ``(T,4,4)`` array needs ``dt_s``)."""
    features = _features(as_c2w(trajectory)[None], times_of(trajectory, dt_s))[0]
    log.debug("maneuver features: %s", features)
    return features


def _turn_or_lane_change(f: PathFeatures) -> str | None:
    """``turn_*`` or ``lane_change_*`` when the path's net heading change and lateral offset say so, else None."""
    final = f.final_heading_deg
    if abs(final) >= TURN_MIN_DEG:
        return "turn_right" if final > 0 else "turn_left"
    came_back = abs(final) <= max(LANE_SETTLED_DEG, LANE_SETTLED_FRACTION * f.peak_heading_deg)
    settled = abs(final) < LANE_MAX_END_HEADING_DEG and came_back
    if LANE_MIN_M <= abs(f.lateral_m) <= LANE_MAX_M and settled:
        return "lane_change_right" if f.lateral_m > 0 else "lane_change_left"
    return None


def _maneuver(f: PathFeatures) -> str:
    if f.end_speed_mps < STOP_SPEED_MPS or f.length_m < STOP_PATH_M:
        return "stop"
    return _turn_or_lane_change(f) or "straight"


def classify_maneuver(trajectory: TrajectoryLike, dt_s: float | None = None) -> str:
    """One of :data:`MANEUVERS` read off the camera path (rules and thresholds in the module docstring)."""
    return _maneuver(path_features(trajectory, dt_s))


def classify_maneuvers(trajectories: SampleSet, dt_s: float | None = None) -> list[str]:
    """:func:`classify_maneuver` of each path of a sample set (a sequence of trajectories or a ``(K,T,4,4)`` array,
    which needs ``dt_s``). Paths sampled at the same times, as a model's K samples are, are read together: for K=8
    it is several times faster than one call per path."""
    if len(trajectories) == 0:
        return []
    paths = samples_list(trajectories, "trajectories")
    times = [times_of(p, dt_s) for p in paths]
    if any(len(t) != len(times[0]) or not np.array_equal(t, times[0]) for t in times[1:]):
        return [classify_maneuver(p, dt_s) for p in paths]
    return [_maneuver(f) for f in _features(np.stack([as_c2w(p) for p in paths]), times[0])]


def lateral_of_travel_m(trajectory: TrajectoryLike) -> float:
    """The last camera centre's offset (m, right > 0) across the car's initial direction of travel, in the first
    camera's x-z plane.

    A car moves where it points, so the angle between each step's direction of motion and the camera's heading is
    the camera's mounting yaw; its median over the steps longer than ``MOVING_STEP_M`` (shorter ones are standing
    still) turns the first camera's forward axis into the car's. Without such steps the camera's x axis is used."""
    rel = relative(as_c2w(trajectory))
    pos = rel[:, :3, 3][:, [0, 2]]  # (T,2) x right, z forward (m)
    steps = np.diff(pos, axis=0)
    moving = np.linalg.norm(steps, axis=-1) > MOVING_STEP_M
    if not moving.any():
        return float(pos[-1, 0])
    heading = np.radians(heading_deg(rel))
    along = (heading[:-1] + heading[1:]) / 2  # a chord of an arc runs along the tangent at its middle
    mount = np.angle(np.exp(1j * (np.arctan2(steps[:, 0], steps[:, 1]) - along)))[moving]  # wrapped to (-pi, pi]
    offset = float(np.median(mount))
    return float(pos[-1, 0] * np.cos(offset) - pos[-1, 1] * np.sin(offset))


def classify_drive(trajectory: TrajectoryLike, dt_s: float | None = None) -> str:
    """One of :data:`MANEUVERS` for a whole drive of any length (say a 20 s nuScenes scene), by its net change.

    The same features and thresholds as :func:`classify_maneuver`, measured from the first pose to the last, with
    two differences. The route comes first: a drive that turns left by 90 deg is ``turn_left`` even if it is gentle
    in every 3 s window and ends waiting at a light; ``stop`` is a drive that never moved (``STOP_PATH_M``) or, with
    no net turn or lane change, ended stopped (``STOP_SPEED_MPS``). And the lateral offset is measured across the
    initial direction of travel (:func:`lateral_of_travel_m`), not the camera's x axis: over 80 m a camera mounted
    1.2 deg off the car's axis drifts 1.7 m sideways on a straight road, which would read as a lane change.
    """
    f = path_features(trajectory, dt_s)
    if f.length_m < STOP_PATH_M:
        return "stop"
    f = replace(f, lateral_m=lateral_of_travel_m(trajectory))
    return _turn_or_lane_change(f) or ("stop" if f.end_speed_mps < STOP_SPEED_MPS else "straight")


def classify_speed_behaviour(trajectory: TrajectoryLike, dt_s: float | None = None) -> str:
    """One of :data:`SPEED_BEHAVIOURS` from the start and end speeds (thresholds in the module docstring)."""
    v0, v1 = speeds_mps(trajectory, dt_s)
    if v1 < STOP_SPEED_MPS:
        return "stop"
    change = v1 - v0
    if abs(change) > SPEED_CHANGE_MPS and abs(change) > SPEED_CHANGE_RATIO * v0:
        return "speed_up" if change > 0 else "slow_down"
    return "keep_speed"


def maneuver_compliance(
    predicted_trajectories: SampleSet, instructed_maneuver: str, dt_s: float | None = None
) -> float:
    """Share (0..1) of the predicted paths whose :func:`classify_maneuver` equals ``instructed_maneuver``.

    ``predicted_trajectories``: a sequence of trajectories, or a ``(K,T,4,4)`` array (then pass ``dt_s``).
    """
    if instructed_maneuver not in MANEUVERS:
        raise ValueError(f"unknown maneuver {instructed_maneuver!r}; use one of {MANEUVERS}")
    paths = samples_list(predicted_trajectories, "predicted_trajectories")
    return float(np.mean([m == instructed_maneuver for m in classify_maneuvers(paths, dt_s)]))
