"""The three action types of :class:`~ct1_sim.sim.env.DrivingEnv` and their conversion to the vehicle's
(steering angle, speed, acceleration) command. Bad input never raises: values that are not finite are replaced
by the last good command, values beyond the limits are clamped, a wrong shape repeats the last command; each
such fix is reported as a message.

- ``ackermann`` (default): ``[steering angle (rad, left positive), speed (m/s), acceleration (m/s^2)]``;
  acceleration 0 lets the vehicle use its own limits, a positive value caps how fast the speed changes.
- ``twist``: ``[speed (m/s), yaw rate (rad/s, left positive)]``; steering = atan(wheelbase * yaw rate / speed).
- ``path``: ``(15, 2)`` positions (m) in the ego frame at the time of the action (x forward, y left, origin at
  the rear axle, REP 103) the ego should reach 0.2, 0.4, ... 3.0 s later; followed by pure pursuit at the
  speed of its first second.
"""

from __future__ import annotations

import math

import numpy as np
from gymnasium import spaces

from ct1_sim.sim.controllers import pure_pursuit
from ct1_sim.sim.vehicle import VehicleLimits, VehicleState

ACTION_TYPES = ("ackermann", "twist", "path")
PATH_POINTS = 15
PATH_DT_S = 0.2
MAX_YAW_RATE = 1.5  # rad/s


def action_space(kind: str, limits: VehicleLimits) -> spaces.Box:
    """The Gymnasium space of action type ``kind`` (its bounds are the limits commands are clamped to)."""
    if kind == "ackermann":
        return spaces.Box(np.array([-limits.max_steer_rad, 0.0, 0.0], np.float32),
                          np.array([limits.max_steer_rad, limits.max_speed_mps, limits.max_decel_mps2], np.float32), dtype=np.float32)
    if kind == "twist":
        return spaces.Box(np.array([0.0, -MAX_YAW_RATE], np.float32), np.array([limits.max_speed_mps, MAX_YAW_RATE], np.float32), dtype=np.float32)
    if kind == "path":
        reach = limits.max_speed_mps * PATH_POINTS * PATH_DT_S
        low = np.tile(np.array([-5.0, -reach], np.float32), (PATH_POINTS, 1))
        high = np.tile(np.array([reach, reach], np.float32), (PATH_POINTS, 1))
        return spaces.Box(low, high, dtype=np.float32)
    raise ValueError(f"unknown action type {kind!r}; choose one of {', '.join(ACTION_TYPES)}")


class CommandAdapter:
    """Turns actions of one type into clean vehicle commands, remembering the last good one."""

    def __init__(self, kind: str, limits: VehicleLimits) -> None:
        self.space = action_space(kind, limits)
        self.kind, self.limits = kind, limits
        self.last = np.zeros(3)  # steer, speed, accel

    def reset(self, speed: float) -> None:
        self.last = np.array([0.0, speed, 0.0])

    def _clean(self, action: object, issues: list[str]) -> np.ndarray | None:
        try:
            a = np.asarray(action, dtype=float)
        except (TypeError, ValueError):
            issues.append(f"action {action!r} is not numeric; repeating the last command")
            return None
        if a.shape != self.space.shape:
            if a.size == int(np.prod(self.space.shape)):
                a = a.reshape(self.space.shape)
            else:
                issues.append(f"action shape {a.shape} != {self.space.shape} for {self.kind} actions; repeating the last command")
                return None
        return a

    def command(self, action: object, state: VehicleState) -> tuple[np.ndarray, list[str]]:
        """``([steer, speed, accel], issues)`` for ``action`` at the ego's ``state``."""
        issues: list[str] = []
        a = self._clean(action, issues)
        if a is None:
            return self.last.copy(), issues
        lim = self.limits
        if self.kind == "path":
            cmd = self._path(a, state, issues)
        else:
            if self.kind == "twist":
                a = self._finite(a, np.array([self.last[1], 0.0]), ("speed", "yaw rate"), issues)
                a = self._clamp(a, ("speed", "yaw rate"), issues)
                speed, rate = float(a[0]), float(a[1])
                v = max(speed, state.v, 0.1)
                cmd = np.array([math.atan(lim.wheelbase_m * rate / v), speed, 0.0])
            else:
                a = self._finite(a, self.last, ("steering", "speed", "acceleration"), issues)
                a = self._clamp(a, ("steering", "speed", "acceleration"), issues)
                cmd = a.copy()
            if abs(cmd[0]) > lim.max_steer_rad:
                issues.append(f"steering {cmd[0]:.3f} rad beyond +-{lim.max_steer_rad:.3f}; clamped")
                cmd[0] = float(np.clip(cmd[0], -lim.max_steer_rad, lim.max_steer_rad))
        self.last = cmd
        return cmd.copy(), issues

    def _finite(self, a: np.ndarray, fallback: np.ndarray, names: tuple[str, ...], issues: list[str]) -> np.ndarray:
        bad = ~np.isfinite(a)
        for k in np.flatnonzero(bad):
            issues.append(f"{names[k]} is {a[k]}; using the last value {fallback[k]:.3f}")
        return np.where(bad, fallback, a)

    def _clamp(self, a: np.ndarray, names: tuple[str, ...], issues: list[str]) -> np.ndarray:
        low, high = self.space.low.astype(float), self.space.high.astype(float)
        for k in np.flatnonzero((a < low) | (a > high)):
            issues.append(f"{names[k]} {a[k]:.3f} outside [{low[k]:.3f}, {high[k]:.3f}]; clamped")
        return np.clip(a, low, high)

    def _path(self, a: np.ndarray, state: VehicleState, issues: list[str]) -> np.ndarray:
        finite = np.isfinite(a).all(axis=1)
        if not finite.any():
            issues.append("path has no finite point; repeating the last command")
            return self.last.copy()
        if not finite.all():
            issues.append(f"path has {int((~finite).sum())} non-finite points; dropped")
        pts = a[finite]
        low, high = self.space.low[0].astype(float), self.space.high[0].astype(float)
        if ((pts < low) | (pts > high)).any():
            issues.append(f"path points outside [{low[0]:.0f}, {high[0]:.0f}] m forward / +-{high[1]:.0f} m sideways; clamped")
            pts = np.clip(pts, low, high)
        if pts[:, 0].max() < 0.0:
            issues.append("path lies behind the ego: paths are in the ego frame (x forward, y left, metres); stopping")
            return np.array([0.0, 0.0, 0.0])
        times = (np.flatnonzero(finite) + 1) * PATH_DT_S
        first = times <= 1.0 + 1e-9
        d = np.linalg.norm(pts[first][-1]) if first.any() else np.linalg.norm(pts[0])
        speed = float(np.clip(d / (times[first][-1] if first.any() else times[0]), 0.0, self.limits.max_speed_mps))
        steer = pure_pursuit(np.vstack([[0.0, 0.0], pts]), 0.0, 0.0, 0.0, max(state.v, speed), self.limits.wheelbase_m)
        return np.array([float(np.clip(steer, -self.limits.max_steer_rad, self.limits.max_steer_rad)), speed, 0.0])
