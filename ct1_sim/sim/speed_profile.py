"""Speeds along a route: the speed limit, capped in curves by a lateral-acceleration bound, with braking
envelopes ahead of stops; and the free-flow progress a driver keeping that profile makes in a given time
(the reference of the ego-progress metric). Arc lengths in m along the route's reference path, speeds in m/s."""

from __future__ import annotations

import numpy as np

from ct1_sim.data.scenarios.ego_motion import curvature
from ct1_sim.data.scenarios.town_routes import Route

A_LAT_MPS2 = 2.5  # comfortable lateral acceleration in curves (nuPlan's comfort bound is 4.89)
ACCEL_MPS2 = 1.5  # comfortable acceleration
DECEL_MPS2 = 2.0  # comfortable braking the envelopes are built with
STOP_DWELL_S = 1.0  # how long a driver stands at a stop line


def curve_speed_limits(route: Route, a_lat: float = A_LAT_MPS2) -> np.ndarray:
    """``(N,)`` the speed limit, capped at ``sqrt(a_lat / curvature)`` (curvature averaged over ~4 m)."""
    kappa = np.convolve(curvature(route.path), np.ones(9) / 9, mode="same")
    return np.minimum(route.speed_limit, np.sqrt(a_lat / np.maximum(kappa, 1e-4)))


def braking_envelope(s: np.ndarray, v_cap: np.ndarray, stops: list[float], decel: float = DECEL_MPS2) -> np.ndarray:
    """``(N,)`` the highest speed at each arc length from which ``decel`` still meets every later cap and stops
    (speed 0 at each arc length in ``stops``)."""
    v = np.asarray(v_cap, dtype=float).copy()
    for stop in stops:
        k = int(np.searchsorted(s, stop))
        if k < len(v):
            v[k] = 0.0
    # v[i]^2 = min(cap[i]^2, v[i+1]^2 + 2 decel (s[i+1] - s[i])) unrolls to min over j >= i of cap[j]^2 + 2 decel (s[j] - s[i]):
    # a reversed running minimum (the backward loop it replaces took ~7 ms per route)
    reach = 2.0 * decel * np.asarray(s, dtype=float)
    return np.sqrt(np.maximum(np.minimum.accumulate((v**2 + reach)[::-1])[::-1] - reach, 0.0))


def reference_times(route: Route, v0: float, stops: list[float]) -> np.ndarray:
    """``(N,)`` when (s) a free-flow driver starting at speed ``v0`` reaches each route point: it keeps
    :func:`curve_speed_limits`, accelerates at :data:`ACCEL_MPS2`, brakes along :func:`braking_envelope` and
    stands :data:`STOP_DWELL_S` at each stop line."""
    s = route.s
    forward = braking_envelope(s, curve_speed_limits(route), stops)
    forward[0] = min(forward[0], max(v0, 0.0))
    # forward[i]^2 = min(cap[i]^2, forward[i-1]^2 + 2 a (s[i] - s[i-1])): a running minimum, as in braking_envelope
    reach = 2.0 * ACCEL_MPS2 * s
    forward = np.sqrt(np.maximum(np.minimum.accumulate(forward**2 - reach) + reach, 0.0))
    mid = np.maximum(0.5 * (forward[1:] + forward[:-1]), 0.05)
    t = np.concatenate([[0.0], np.cumsum(np.diff(s) / mid)])
    for stop in stops:
        t[s >= stop] += STOP_DWELL_S
    return t


def reference_progress(route: Route, v0: float, duration_s: float, stops: list[float]) -> float:
    """Arc length (m) the free-flow driver of :func:`reference_times` reaches in ``duration_s``."""
    return float(np.interp(duration_s, reference_times(route, v0, stops), route.s))
