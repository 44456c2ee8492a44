"""Ego motion: a kinematic bicycle model steered by pure pursuit along a reference path, with a speed
profile limited by acceleration, braking and lateral acceleration."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ct1_sim.data.scenarios import polyline as pl

WHEELBASE_M = 2.7
MAX_STEER_RAD = np.radians(35.0)
MAX_LAT_ACC = 3.0  # m/s^2 in turns
SIM_DT = 0.01


@dataclass
class EgoState:
    """Rear-axle pose on the ground (x, y m; yaw rad, 0 = +x) and speed (m/s)."""

    x: float
    y: float
    yaw: float
    v: float


@dataclass(frozen=True)
class SpeedPlan:
    """Target speeds: cruise ``v0`` (m/s), acceleration ``accel`` (m/s^2, signed: speed change over time),
    an optional stop at arc length ``stop_s`` with deceleration ``decel``, and a curvature limit."""

    v0: float
    accel: float = 0.0
    v_min: float = 0.0
    v_max: float = 20.0
    stop_s: float | None = None
    decel: float = 2.5
    curve_limit: bool = True


def curvature(path: np.ndarray) -> np.ndarray:
    """Unsigned curvature (1/m) at each vertex of a polyline resampled at 0.5 m."""
    d1 = np.gradient(path, axis=0)
    d2 = np.gradient(d1, axis=0)
    num = np.abs(d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0])
    den = np.maximum(np.linalg.norm(d1, axis=1) ** 3, 1e-9)
    return num / den


def simulate(path: np.ndarray, start: EgoState, plan: SpeedPlan, duration_s: float, dt: float = SIM_DT) -> tuple[np.ndarray, np.ndarray]:
    """Drive along ``path (N,2)``; returns times ``(M,)`` and states ``(M,4)`` = x, y, yaw, v."""
    path = pl.resample(path, 0.5)
    s_path = pl.arc_lengths(path)
    kappa = np.convolve(curvature(path), np.ones(9) / 9, mode="same")
    v_curve = np.sqrt(MAX_LAT_ACC / np.maximum(kappa, 1e-4))
    state = EgoState(start.x, start.y, start.yaw, start.v)
    steps = round(duration_s / dt)
    out = np.zeros((steps + 1, 4))
    out[0] = (state.x, state.y, state.yaw, state.v)
    v_cmd = start.v
    travelled = 0.0
    for k in range(1, steps + 1):
        # nearest path point and lookahead target
        d = np.linalg.norm(path - [state.x, state.y], axis=1)
        i = int(np.argmin(d))
        lookahead = max(4.0, 0.9 * state.v)
        j = min(int(np.searchsorted(s_path, s_path[i] + lookahead)), len(path) - 1)
        tx, ty = path[j] - [state.x, state.y]
        alpha = np.arctan2(ty, tx) - state.yaw
        alpha = (alpha + np.pi) % (2 * np.pi) - np.pi
        ld = max(np.hypot(tx, ty), 1e-3)
        steer = np.clip(np.arctan2(2 * WHEELBASE_M * np.sin(alpha), ld), -MAX_STEER_RAD, MAX_STEER_RAD)
        # speed: planned acceleration, limited by the curve ahead and by the stop point
        v_cmd = float(np.clip(v_cmd + plan.accel * dt, plan.v_min, plan.v_max))
        target = v_cmd
        if plan.curve_limit:
            ahead = slice(i, min(int(np.searchsorted(s_path, s_path[i] + max(8.0, 2.0 * state.v))), len(path)))
            # the speed from which we can still brake to each point's curve limit
            dist = np.maximum(s_path[ahead] - s_path[i], 0.0)
            reachable = np.sqrt(v_curve[ahead] ** 2 + 2 * plan.decel * dist)
            target = min(target, float(reachable.min()))
        if plan.stop_s is not None:
            remaining = max(plan.stop_s - travelled, 0.0)
            target = min(target, float(np.sqrt(2 * plan.decel * remaining)))
        dv = np.clip(target - state.v, -plan.decel * 1.6 * dt, max(plan.accel, 1.5) * dt)
        v = max(state.v + dv, 0.0)
        state.x += v * np.cos(state.yaw) * dt
        state.y += v * np.sin(state.yaw) * dt
        state.yaw += v / WHEELBASE_M * np.tan(steer) * dt
        state.v = v
        travelled += v * dt
        out[k] = (state.x, state.y, state.yaw, state.v)
    return np.arange(steps + 1) * dt, out


def camera_c2w(x: float, y: float, yaw: float, height_m: float, forward_m: float = 1.5, pitch_deg: float = 0.0) -> np.ndarray:
    """OpenCV camera-to-world (world z up) of a front camera ``forward_m`` ahead of the rear axle."""
    f = np.array([np.cos(yaw), np.sin(yaw), 0.0])
    right = np.array([np.sin(yaw), -np.cos(yaw), 0.0])
    down = np.array([0.0, 0.0, -1.0])
    p = np.radians(pitch_deg)
    f2 = np.cos(p) * f + np.sin(p) * down
    down2 = np.cos(p) * down - np.sin(p) * f
    c2w = np.eye(4)
    c2w[:3, 0], c2w[:3, 1], c2w[:3, 2] = right, down2, f2
    c2w[:3, 3] = [x + forward_m * f[0], y + forward_m * f[1], height_m]
    return c2w
