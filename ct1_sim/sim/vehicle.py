"""The ego vehicle: a kinematic bicycle (rear-axle reference) with steering-angle, steering-rate, acceleration,
jerk and speed limits; its wheelbase and steering limit are the scenario ego model's
(:mod:`ct1_sim.data.scenarios.ego_motion`). World frame: z up, metres, yaw 0 = +x, counter-clockwise positive.

Each step integrates ``substeps`` sub-intervals; within one, the rear axle moves along the exact arc of the
current speed and steering angle, so a constant command drives a circle of radius ``wheelbase / tan(steer)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ct1_sim.data.scenarios.ego_motion import MAX_STEER_RAD, WHEELBASE_M


@dataclass(frozen=True)
class VehicleLimits:
    """Geometry (m) and actuator limits (rad, rad/s, m/s, m/s^2, m/s^3) of the ego."""

    wheelbase_m: float = WHEELBASE_M
    max_steer_rad: float = float(MAX_STEER_RAD)
    max_steer_rate_rad_s: float = 0.7
    max_speed_mps: float = 30.0
    max_accel_mps2: float = 3.0
    max_decel_mps2: float = 8.0
    max_jerk_mps3: float = 15.0
    speed_gain: float = 1.5  # 1/s: the acceleration asked for per m/s of speed error
    length_m: float = 4.6
    width_m: float = 1.9
    front_m: float = 3.4  # rear axle to the front bumper

    @property
    def box_offset_m(self) -> float:
        """How far the box centre is ahead of the rear axle (m)."""
        return self.front_m - self.length_m / 2


@dataclass
class VehicleState:
    """Rear-axle pose ``x, y`` (m), ``yaw`` (rad), speed ``v`` (m/s), acceleration ``accel`` (m/s^2) and the
    front-wheel steering angle ``steer`` (rad, left positive)."""

    x: float
    y: float
    yaw: float
    v: float = 0.0
    accel: float = 0.0
    steer: float = 0.0

    def copy(self) -> VehicleState:
        return VehicleState(self.x, self.y, self.yaw, self.v, self.accel, self.steer)

    def as_array(self) -> np.ndarray:
        return np.array([self.x, self.y, self.yaw, self.v, self.accel, self.steer])


class KinematicBicycle:
    """Advance a :class:`VehicleState` under a (steering angle, speed, acceleration) command.

    The speed command is tracked with ``accel = speed_gain * (v_cmd - v)``, bounded by the command's
    acceleration magnitude when it is positive (0 = the vehicle's own limits), by the acceleration and braking
    limits, and reached at no more than the jerk limit. The steering angle moves toward its command at the
    steering-rate limit. Speed stays in ``[0, max_speed]`` (no reverse).
    """

    def __init__(self, limits: VehicleLimits | None = None, substeps: int = 10) -> None:
        self.limits = limits or VehicleLimits()
        self.substeps = int(substeps)

    def step(self, state: VehicleState, steer_cmd: float, speed_cmd: float, accel_cmd: float, dt: float) -> VehicleState:
        """The state ``dt`` s later (a new object; the commands must already be finite and within limits)."""
        lim = self.limits
        s = state.copy()
        h = dt / self.substeps
        for _ in range(self.substeps):
            s.steer += float(np.clip(steer_cmd - s.steer, -lim.max_steer_rate_rad_s * h, lim.max_steer_rate_rad_s * h))
            a_des = lim.speed_gain * (speed_cmd - s.v)
            if accel_cmd > 0:
                a_des = float(np.clip(a_des, -accel_cmd, accel_cmd))
            a_des = float(np.clip(a_des, -lim.max_decel_mps2, lim.max_accel_mps2))
            s.accel += float(np.clip(a_des - s.accel, -lim.max_jerk_mps3 * h, lim.max_jerk_mps3 * h))
            v0 = s.v
            v1 = float(np.clip(v0 + s.accel * h, 0.0, lim.max_speed_mps))
            if v1 <= 0.0 and s.accel < 0:
                s.accel = 0.0
            v_mid = 0.5 * (v0 + v1)
            w = v_mid * math.tan(s.steer) / lim.wheelbase_m  # yaw rate (rad/s)
            if abs(w) > 1e-9:
                s.x += v_mid / w * (math.sin(s.yaw + w * h) - math.sin(s.yaw))
                s.y -= v_mid / w * (math.cos(s.yaw + w * h) - math.cos(s.yaw))
            else:
                s.x += v_mid * h * math.cos(s.yaw)
                s.y += v_mid * h * math.sin(s.yaw)
            s.yaw = (s.yaw + w * h + math.pi) % (2 * math.pi) - math.pi
            s.v = v1
        return s


def box(state: VehicleState, limits: VehicleLimits) -> np.ndarray:
    """The ego's footprint ``(5,)`` = centre x, y (m), yaw (rad), length, width (m)."""
    off = limits.box_offset_m
    return np.array([state.x + off * math.cos(state.yaw), state.y + off * math.sin(state.yaw), state.yaw, limits.length_m, limits.width_m])
