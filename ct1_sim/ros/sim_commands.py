"""Driving commands of the ROS simulator node: rosbridge JSON of ``geometry_msgs/msg/Twist``,
``ackermann_msgs/msg/AckermannDriveStamped`` and ``nav_msgs/msg/Path`` -> the actions of
:class:`~ct1_sim.sim.env.DrivingEnv` (:mod:`ct1_sim.sim.actions`).

Frames: ``base_link`` is the ego's rear axle, REP 103 (x forward, y left, z up), metres; ``map`` is the env's
world frame (z up), in which the observation's ``pose`` (x, y, yaw) lives. Times are simulation seconds.

- Twist -> the env's ``twist`` action ``[linear.x speed m/s, angular.z yaw rate rad/s]`` (the env's own adapter
  turns it into a steering angle with the bicycle model, steering = atan(wheelbase * yaw rate / speed));
- Ackermann -> the env's ``ackermann`` action ``[drive.steering_angle rad, drive.speed m/s, |drive.acceleration| m/s^2]``
  (the env reads the acceleration as a bound on how fast the speed changes, 0 = the vehicle's own limits;
  ``steering_angle_velocity`` and ``jerk`` are not used: the vehicle has its own rate limits);
- Path -> a :class:`HeldPath` in the map frame (the path is read in ``base_link`` at the ego pose when it arrives),
  which gives the env's ``path`` action, ``(15, 2)`` ego-frame points 0.2, 0.4, ... 3.0 s ahead, at every step.

Values are not clamped here: NaN (rosbridge sends ``null`` where JSON has no NaN) and over-limit values go to the
env, which replaces or clamps them and lists each fix in ``info["action_issues"]``. A message of the wrong shape
raises :class:`CommandError` naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ct1_sim.ros.contract import BASE_FRAME
from ct1_sim.ros.messages import stamp_to_ns
from ct1_sim.sim.actions import PATH_DT_S, PATH_POINTS

#: An untimed Path (no increasing pose stamps) is driven at the ego's speed when it arrives, at least this (m/s).
MIN_UNTIMED_SPEED_MPS = 2.0
MAX_PATH_POSES = 10_000


class CommandError(ValueError):
    """A command message that cannot be used (wrong shape, wrong frame); the message says what and why."""


def _number(obj: Any, key: str, where: str) -> float:
    """``obj[key]`` as a float: a missing field is ROS's default 0, ``null`` is NaN (left to the env to replace)."""
    if not isinstance(obj, Mapping):
        raise CommandError(f"{where} must be an object, got {type(obj).__name__}")
    value = obj.get(key, 0.0)
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CommandError(f"{where}.{key} must be a number, got {value!r}")
    return float(value)


def twist_action(msg: Mapping[str, Any]) -> np.ndarray:
    """The env's twist action ``[speed m/s, yaw rate rad/s]`` of a Twist (``linear.x``, ``angular.z``; the other
    components are not used: the ego is a car)."""
    if not isinstance(msg, Mapping):
        raise CommandError(f"expected a geometry_msgs/msg/Twist object, got {type(msg).__name__}")
    return np.array([_number(msg.get("linear", {}), "x", "twist.linear"), _number(msg.get("angular", {}), "z", "twist.angular")])


def ackermann_action(msg: Mapping[str, Any]) -> np.ndarray:
    """The env's Ackermann action ``[steering rad, speed m/s, acceleration m/s^2]`` of an AckermannDriveStamped
    (or a bare AckermannDrive); the acceleration's magnitude is used (see the module docstring)."""
    if not isinstance(msg, Mapping):
        raise CommandError(f"expected an ackermann_msgs/msg/AckermannDriveStamped object, got {type(msg).__name__}")
    drive = msg.get("drive", msg)
    steer = _number(drive, "steering_angle", "drive")
    speed = _number(drive, "speed", "drive")
    accel = _number(drive, "acceleration", "drive")
    return np.array([steer, speed, abs(accel)])


@dataclass(frozen=True)
class HeldPath:
    """A Path command kept in the map frame so that it stays put while the ego moves along it.

    Attributes:
        xy: ``(N, 2)`` positions in the map frame (m).
        times_s: ``(N,)`` increasing simulation times (s) at which the ego should be at ``xy``.
        timed: whether the times came from the poses' stamps (else from arc length at a constant speed).
    """

    xy: np.ndarray
    times_s: np.ndarray
    timed: bool

    def action(self, x: float, y: float, yaw: float, now_s: float) -> np.ndarray:
        """The env's path action at ego pose ``x, y, yaw`` (map frame) and time ``now_s``: ``(15, 2)`` ego-frame
        points (x forward, y left) where the ego should be 0.2, ..., 3.0 s later; past the path's end, its end."""
        q = now_s + PATH_DT_S * np.arange(1, PATH_POINTS + 1)
        pts = np.column_stack([np.interp(q, self.times_s, self.xy[:, 0]), np.interp(q, self.times_s, self.xy[:, 1])])
        c, s = math.cos(yaw), math.sin(yaw)
        d = pts - np.array([x, y])
        return np.column_stack([c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1]])


def path_command(msg: Mapping[str, Any], x: float, y: float, yaw: float, now_s: float, speed_mps: float) -> HeldPath:
    """A :class:`HeldPath` of a ``nav_msgs/msg/Path`` in ``base_link``, read at ego pose ``x, y, yaw`` (map frame)
    and time ``now_s``.

    Timing: when the poses' stamps increase, pose i is due ``stamp_i - header.stamp`` s after the path arrives (a
    zero header stamp: after pose 0's stamp); otherwise the path is untimed and driven along its arc length at
    ``max(speed_mps, MIN_UNTIMED_SPEED_MPS)``, from the ego's rear axle (the origin is put first when the path
    starts more than 0.5 m away). Raises :class:`CommandError` for another frame, no poses or a bad pose.
    """
    if not isinstance(msg, Mapping):
        raise CommandError(f"expected a nav_msgs/msg/Path object, got {type(msg).__name__}")
    head = msg.get("header") or {}
    frame = str(head.get("frame_id", "") if isinstance(head, Mapping) else "").lstrip("/")
    if frame != BASE_FRAME:
        raise CommandError(f"path refused: header.frame_id is {frame!r}, but paths must be in {BASE_FRAME!r} "
                           "(the ego's rear axle, x forward, y left, metres)")
    poses = msg.get("poses")
    if not isinstance(poses, list) or not poses:
        raise CommandError("path refused: it has no poses")
    if len(poses) > MAX_PATH_POSES:
        raise CommandError(f"path refused: {len(poses)} poses, at most {MAX_PATH_POSES}")
    pts, stamps = [], []
    for i, stamped in enumerate(poses):
        where = f"poses[{i}]"
        if not isinstance(stamped, Mapping) or not isinstance(stamped.get("pose"), Mapping):
            raise CommandError(f"path refused: {where} must be a geometry_msgs/msg/PoseStamped object")
        p = stamped["pose"].get("position")
        px, py = _number(p, "x", f"{where}.pose.position"), _number(p, "y", f"{where}.pose.position")
        if not (math.isfinite(px) and math.isfinite(py)):
            raise CommandError(f"path refused: {where}.pose.position is not finite ({px}, {py})")
        try:
            stamps.append(stamp_to_ns((stamped.get("header") or {}).get("stamp")))
        except (ValueError, AttributeError) as err:
            raise CommandError(f"path refused: {where}.header: {err}") from None
        pts.append((px, py))
    local = np.array(pts)
    try:
        t0 = stamp_to_ns(head.get("stamp")) if isinstance(head, Mapping) else 0
    except ValueError as err:
        raise CommandError(f"path refused: header: {err}") from None
    t0 = t0 or stamps[0]
    rel = (np.array(stamps, dtype=np.int64) - t0) / 1e9
    timed = len(rel) > 1 and bool(np.all(np.diff(rel) > 0))
    if timed:
        times = now_s + rel
    else:
        if np.hypot(*local[0]) > 0.5:
            local = np.vstack([[0.0, 0.0], local])
        step = np.linalg.norm(np.diff(local, axis=0), axis=1)
        keep = np.concatenate([[True], step > 1e-6])  # np.interp needs increasing times
        local = local[keep]
        s = np.concatenate([[0.0], np.cumsum(step[step > 1e-6])])
        times = now_s + s / max(float(speed_mps), MIN_UNTIMED_SPEED_MPS)
        if len(local) == 1:
            times = np.array([now_s])
    c, s_ = math.cos(yaw), math.sin(yaw)
    xy = np.column_stack([x + c * local[:, 0] - s_ * local[:, 1], y + s_ * local[:, 0] + c * local[:, 1]])
    return HeldPath(xy=xy, times_s=np.asarray(times, dtype=float), timed=timed)
