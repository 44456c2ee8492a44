"""Closed-loop metrics of one episode in the procedural world (exact map), after NAVSIM's PDM score.

Per step (:meth:`EpisodeMetrics.update`):

- **collision**: the ego footprint overlaps a vehicle's (moving or parked; separating axes). It is *at fault*
  unless the ego stands still (< 0.1 m/s) or a moving vehicle runs into it from behind (its centre behind the
  ego's rear axle), as NAVSIM counts only at-fault collisions.
- **drivable**: all four corners of the ego footprint are on a carriageway or in a junction box
  (:meth:`TownMap.drivable`, exact geometry).
- **TTC violation**: the ego moving (> 0.1 m/s) and touching nothing, the ego projected at its speed and every
  vehicle ahead of its rear axle moved on (along its own route at its speed in the procedural world; parked ones
  stay) collide within :data:`TTC_HORIZON_S`, checked every 0.1 s, both with the ego going straight on (nuPlan's
  projection) and keeping its steering angle (so the exit of a turn, where the two disagree, is not flagged
  by the one that is wrong there). NAVSIM projects the planned trajectory, which a command-level env lacks.
- **progress**: arc length (m) of the ego's rear axle along the route's reference path (searched near the last
  value, so a route passing near itself is not confused); **off route** when farther than :data:`OFF_ROUTE_M`.
- **stop lines**: a stop line is obeyed when the ego's speed fell to :data:`STOP_SPEED_MPS` or less while its
  front bumper was within :data:`STOP_ZONE_M` before the line, judged when the bumper passes the line.
- **instruction success** per maneuver: a maneuver is *attempted* once the front bumper enters its junction box;
  it succeeds when the rear axle is :data:`EXIT_MARGIN_M` past the box exit on the route, and fails when the
  ego goes off route. An episode that ends in a failure (off the route, a collision) fails the maneuver the ego
  was on or on its way to; one still under way at the time limit, or never reached, is reported, not scored.

Per episode (:meth:`EpisodeMetrics.summary`), each term in [0, 1]:

- **NC** (no at-fault collision): 0 after any at-fault collision, else 1.
- **DAC** (drivable-area compliance): 0 if any step left the drivable area, else 1.
- **TTC** (time to collision within bound): 0 if any step violated it, else 1.
- **EP** (ego progress): the route progress divided by the progress a free-flow driver of the route's speed
  profile makes in the same time (:func:`reference_progress`; NAVSIM divides by the PDM-Closed planner's), clipped
  to [0, 1]; 1 when that reference is under 5 m, as NAVSIM's threshold. An episode cut short by a failure (off
  the route, a collision) is compared at its time limit: leaving the route early does not keep EP high.
- **C** (comfort): 1 if the whole drive keeps nuPlan's bounds (:data:`COMFORT_BOUNDS`) on longitudinal
  acceleration, lateral acceleration, yaw rate, yaw acceleration, longitudinal jerk and jerk magnitude, computed
  from the logged 10 Hz states smoothed with a Savitzky-Golay filter (window 15, order 2).
- **PDMS** = NC x DAC x (5 TTC + 5 EP + 2 C) / 12 (NAVSIM).
- **route completion**: the largest progress reached divided by the route length.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ct1_sim.data.scenarios.town_map import TownMap
from ct1_sim.data.scenarios.town_routes import Route
from ct1_sim.sim.boxes import corners, overlaps
from ct1_sim.sim.speed_profile import reference_progress
from ct1_sim.sim.vehicle import VehicleLimits, VehicleState, box

TTC_HORIZON_S = 1.0
OFF_ROUTE_M = 5.0
STOP_SPEED_MPS = 0.3
STOP_ZONE_M = 6.0
EXIT_MARGIN_M = 5.0
EP_MIN_REFERENCE_M = 5.0
#: nuPlan's comfort bounds (m/s^2, rad/s, rad/s^2, m/s^3)
COMFORT_BOUNDS = {"min_lon_accel": -4.05, "max_lon_accel": 2.40, "max_abs_lat_accel": 4.89, "max_abs_yaw_rate": 0.95,
                  "max_abs_yaw_accel": 1.93, "max_abs_lon_jerk": 4.13, "max_abs_jerk": 8.37}


def pdm_score(nc: float, dac: float, ttc: float, ep: float, comfort: float) -> float:
    """NAVSIM's PDM score: ``NC * DAC * (5 TTC + 5 EP + 2 C) / 12``."""
    return float(nc * dac * (5 * ttc + 5 * ep + 2 * comfort) / 12)


def comfort_signals(states: np.ndarray, dt: float) -> dict[str, np.ndarray]:
    """Longitudinal/lateral acceleration, yaw rate and acceleration, longitudinal jerk and jerk magnitude from
    logged states ``(T,6)`` = x, y, yaw, v, accel, steer at interval ``dt`` s."""
    from scipy.signal import savgol_filter

    T = len(states)
    window = min(15, T - (1 - T % 2))  # odd, at most the series length
    if window < 3:
        zero = np.zeros(T)
        return {k: zero for k in ("lon_accel", "lat_accel", "yaw_rate", "yaw_accel", "lon_jerk", "jerk")}

    def smooth(x: np.ndarray, deriv: int = 0) -> np.ndarray:
        return savgol_filter(x, window, min(2, window - 1), deriv=deriv, delta=dt, mode="interp")

    yaw = np.unwrap(states[:, 2])
    v = states[:, 3]
    lon_accel = smooth(states[:, 4])
    yaw_rate = smooth(yaw, 1)
    yaw_accel = smooth(yaw, 2)
    lat_accel = smooth(v * np.gradient(yaw, dt))
    lon_jerk = smooth(states[:, 4], 1)
    jerk = np.hypot(lon_jerk, smooth(lat_accel, 1))
    return {"lon_accel": lon_accel, "lat_accel": lat_accel, "yaw_rate": yaw_rate, "yaw_accel": yaw_accel,
            "lon_jerk": lon_jerk, "jerk": jerk}


def comfortable(signals: dict[str, np.ndarray]) -> dict[str, bool]:
    """Which of nuPlan's comfort bounds the signals keep."""
    b = COMFORT_BOUNDS
    return {
        "lon_accel": bool((signals["lon_accel"] >= b["min_lon_accel"]).all() and (signals["lon_accel"] <= b["max_lon_accel"]).all()),
        "lat_accel": bool((np.abs(signals["lat_accel"]) <= b["max_abs_lat_accel"]).all()),
        "yaw_rate": bool((np.abs(signals["yaw_rate"]) <= b["max_abs_yaw_rate"]).all()),
        "yaw_accel": bool((np.abs(signals["yaw_accel"]) <= b["max_abs_yaw_accel"]).all()),
        "lon_jerk": bool((np.abs(signals["lon_jerk"]) <= b["max_abs_lon_jerk"]).all()),
        "jerk": bool((np.abs(signals["jerk"]) <= b["max_abs_jerk"]).all()),
    }


def at_fault(ego: VehicleState, other: np.ndarray, other_speed: float) -> bool:
    """Whether the ego is to blame for touching ``other (5,)``: it moves, and it was not hit from behind."""
    if ego.v < 0.1:
        return False
    rel = other[:2] - np.array([ego.x, ego.y])
    ahead = rel @ np.array([np.cos(ego.yaw), np.sin(ego.yaw)])
    return not (other_speed > 0.1 and ahead < 0.0)


def ego_ahead(ego: VehicleState, limits: VehicleLimits, taus: np.ndarray, keep_steering: bool) -> np.ndarray:
    """Ego footprints ``(T,5)`` ``taus`` s ahead at its current speed: straight on (nuPlan's projection) or, with
    ``keep_steering``, along the arc of its current steering angle."""
    taus = np.asarray(taus, dtype=float)
    w = ego.v * np.tan(ego.steer) / limits.wheelbase_m if keep_steering else 0.0
    yaw = ego.yaw + w * taus
    if abs(w) > 1e-6:
        x = ego.x + ego.v / w * (np.sin(yaw) - np.sin(ego.yaw))
        y = ego.y - ego.v / w * (np.cos(yaw) - np.cos(ego.yaw))
    else:
        x, y = ego.x + ego.v * taus * np.cos(ego.yaw), ego.y + ego.v * taus * np.sin(ego.yaw)
    off = limits.box_offset_m
    return np.column_stack([x + off * np.cos(yaw), y + off * np.sin(yaw), yaw, np.full(len(taus), limits.length_m),
                            np.full(len(taus), limits.width_m)])


def constant_velocity(others: np.ndarray, velocities: np.ndarray) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """A predictor of ``others (N,5)`` moving in straight lines at ``velocities (N,2)``."""
    def predict(index: np.ndarray, taus: np.ndarray) -> np.ndarray:
        out = np.repeat(others[index][None], len(taus), axis=0)
        out[..., :2] += velocities[index][None] * np.asarray(taus)[:, None, None]
        return out
    return predict


def ttc_violated(ego: VehicleState, limits: VehicleLimits, others: np.ndarray,
                 predict: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> bool:
    """Whether the ego, at its speed for up to :data:`TTC_HORIZON_S` (every 0.1 s), would hit a vehicle ahead of its
    rear axle that ``predict(index, taus) -> (T,K,5)`` moves on, while none touches it now: both when it drives
    straight on and when it keeps its steering (a turn's exit then counts only if straightening would not help)."""
    if ego.v < 0.1 or not len(others):
        return False
    f = np.array([np.cos(ego.yaw), np.sin(ego.yaw)])
    rel = others[:, :2] - np.array([ego.x, ego.y])
    near = np.flatnonzero((rel @ f > 0.0) & (np.linalg.norm(rel, axis=1) < ego.v * TTC_HORIZON_S + 25.0))
    if not len(near):
        return False
    taus = np.arange(1, round(TTC_HORIZON_S / 0.1) + 1) * 0.1
    future = predict(near, taus)
    hits = []
    for keep_steering in (False, True):
        ego_future = ego_ahead(ego, limits, taus, keep_steering)
        hits.append(any(overlaps(ego_future[k], future[k]).any() for k in range(len(taus))))
        if not hits[-1]:
            return False
    return all(hits)


def stop_points(route: Route, limits: VehicleLimits) -> list[float]:
    """Arc lengths (m) where the rear axle stands when the front bumper is just short of each stop line."""
    return [m.stop_line_s - limits.front_m - 0.6 for m in route.maneuvers if m.stop_line_s is not None]


@dataclass
class ManeuverStatus:
    index: int
    kind: str
    junction: int
    attempted: bool = False
    success: bool | None = None  # None: not decided (not reached, or still on it)


@dataclass
class EpisodeMetrics:
    """Accumulates the per-step metrics of one episode and scores it (see the module docstring)."""

    route: Route
    town: TownMap
    limits: VehicleLimits
    v0: float
    dt: float
    progress: float = 0.0
    max_progress: float = 0.0
    states: list[np.ndarray] = field(default_factory=list)
    collisions: list[dict[str, Any]] = field(default_factory=list)
    off_drivable_steps: int = 0
    ttc_steps: int = 0
    steps: int = 0
    off_route: bool = False
    maneuvers: list[ManeuverStatus] = field(default_factory=list)
    stop_lines: list[dict[str, Any]] = field(default_factory=list)
    _stop_min_speed: dict[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.maneuvers = [ManeuverStatus(k, m.kind, m.junction) for k, m in enumerate(self.route.maneuvers)]

    def update(self, ego: VehicleState, others: np.ndarray, velocities: np.ndarray, t: float,
               predict: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None) -> dict[str, Any]:
        """Record one step: the ego state and the vehicles' footprints ``others (N,5)`` and velocities ``(N,2)``
        (parked vehicles: zero); ``predict(index, taus)`` moves them ahead for the TTC check (default: straight
        lines at their velocities). Returns this step's metrics."""
        self.steps += 1
        self.states.append(ego.as_array())
        ego_box = box(ego, self.limits)
        hit = overlaps(ego_box, others) if len(others) else np.zeros(0, bool)
        step: dict[str, Any] = {"collision": bool(hit.any()), "at_fault_collision": False}
        for k in np.flatnonzero(hit):
            fault = at_fault(ego, others[k], float(np.linalg.norm(velocities[k])))
            step["at_fault_collision"] |= fault
            if not any(c["vehicle"] == int(k) for c in self.collisions):
                self.collisions.append({"t": round(t, 2), "vehicle": int(k), "at_fault": bool(fault),
                                        "x": round(float(ego_box[0]), 2), "y": round(float(ego_box[1]), 2)})
        drivable = bool(self.town.drivable(corners(ego_box[None])[0]).all())
        self.off_drivable_steps += not drivable
        ttc = False if hit.any() else ttc_violated(ego, self.limits, others, predict or constant_velocity(others, velocities))
        self.ttc_steps += ttc
        s, dist = self.route.project(np.array([ego.x, ego.y]), s_hint=self.progress, window_m=max(20.0, 2 * ego.v + 10.0))
        if dist <= OFF_ROUTE_M:
            self.progress = s
            self.max_progress = max(self.max_progress, s)
        else:
            self.off_route = True
        self._update_maneuvers(dist)
        self._update_stop_lines(ego)
        step.update(drivable=drivable, ttc_violation=ttc, progress_m=self.progress, route_distance_m=dist, off_route=self.off_route)
        return step

    def _update_maneuvers(self, dist: float) -> None:
        front = self.progress + self.limits.front_m
        for status, m in zip(self.maneuvers, self.route.maneuvers, strict=True):
            if status.success is not None:
                continue
            if front >= m.s_enter:
                status.attempted = True
            if status.attempted and self.off_route:
                status.success = False
            elif self.progress >= m.s_exit + EXIT_MARGIN_M and dist <= OFF_ROUTE_M:
                status.attempted, status.success = True, True

    def _update_stop_lines(self, ego: VehicleState) -> None:
        front = self.progress + self.limits.front_m
        for k, m in enumerate(self.route.maneuvers):
            if m.stop_line_s is None or any(d["maneuver"] == k for d in self.stop_lines):
                continue
            if m.stop_line_s - STOP_ZONE_M <= front <= m.stop_line_s + 0.5:
                self._stop_min_speed[k] = min(self._stop_min_speed.get(k, np.inf), ego.v)
            if front > m.stop_line_s + 0.5:
                v_min = self._stop_min_speed.get(k, np.inf)
                self.stop_lines.append({"maneuver": k, "junction": m.junction, "obeyed": bool(v_min <= STOP_SPEED_MPS),
                                        "min_speed_mps": round(float(min(v_min, 99.0)), 3)})

    def close(self, failed: bool = False) -> None:
        """End the episode. When it ended in a failure (off the route, a collision: ``failed``), the maneuver the
        ego was on or on its way to fails; at the time limit, one still under way stays undecided."""
        if not failed or any(m.success is False for m in self.maneuvers):  # no failure, or already counted
            return
        for status in self.maneuvers:
            if status.success is None:
                status.attempted, status.success = True, False
                return

    def summary(self, time_limit_s: float | None = None) -> dict[str, Any]:
        """Episode scores (see the module docstring). ``time_limit_s``: the episode's time limit; an episode that
        ended before it without completing the route (off the route, a collision) is compared with the reference's
        progress at the limit, as if the ego had stood still from there."""
        duration = max(self.steps - 1, 0) * self.dt  # the first update is the state at reset
        completed = self.progress >= self.route.length - 1.0
        horizon = duration if completed or time_limit_s is None else max(duration, time_limit_s)
        ref = reference_progress(self.route, self.v0, horizon, stop_points(self.route, self.limits))
        ep = 1.0 if ref < EP_MIN_REFERENCE_M else float(np.clip(self.progress / ref, 0.0, 1.0))
        nc = 0.0 if any(c["at_fault"] for c in self.collisions) else 1.0
        dac = 1.0 if self.off_drivable_steps == 0 else 0.0
        ttc = 1.0 if self.ttc_steps == 0 else 0.0
        comfort_terms = comfortable(comfort_signals(np.array(self.states), self.dt)) if self.states else {}
        c = 1.0 if all(comfort_terms.values()) else 0.0
        obeyed = [d["obeyed"] for d in self.stop_lines]
        return {
            "pdms": pdm_score(nc, dac, ttc, ep, c),
            "nc": nc, "dac": dac, "ttc": ttc, "ep": ep, "comfort": c,
            "route_completion": float(np.clip(self.max_progress / self.route.length, 0.0, 1.0)),
            "progress_m": round(self.progress, 2), "reference_progress_m": round(ref, 2), "route_length_m": round(self.route.length, 2),
            "duration_s": round(duration, 2),
            "off_drivable_steps": self.off_drivable_steps, "ttc_violation_steps": self.ttc_steps, "collisions": self.collisions,
            "comfort_terms": comfort_terms,
            "stop_line_compliance": float(np.mean(obeyed)) if obeyed else None, "stop_lines": self.stop_lines,
            "maneuvers": [{"index": s.index, "kind": s.kind, "junction": s.junction, "attempted": s.attempted, "success": s.success}
                          for s in self.maneuvers],
        }
