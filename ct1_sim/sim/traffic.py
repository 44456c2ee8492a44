"""Moving vehicles in a town, reactive to each other and to the ego: each drives its own route at its cruise
speed (capped in curves), follows the vehicle ahead on its path with the Intelligent Driver Model, and waits
before a junction box while crossing traffic is inside it (lower-numbered vehicles about to enter go first).
They do not stop at stop signs. World frame, metres, seconds."""

from __future__ import annotations

import numpy as np

from ct1_sim.data.scenarios.town import PathMover
from ct1_sim.data.scenarios.town_map import TownMap
from ct1_sim.sim.speed_profile import braking_envelope, curve_speed_limits

IDM_ACCEL, IDM_DECEL, IDM_HEADWAY_S, IDM_GAP_M = 1.5, 2.5, 1.5, 3.0
LOOK_AHEAD_M = 50.0
SAME_LANE_M = 1.8  # a vehicle this close to an agent's path (m) is in its lane
YIELD_ETA_S = 2.0


def idm_gap_wanted(v: float, v_lead: float = 0.0) -> float:
    """The Intelligent Driver Model's desired gap (m) at speed ``v`` behind a leader at ``v_lead``."""
    return max(IDM_GAP_M + v * IDM_HEADWAY_S + v * (v - v_lead) / (2 * np.sqrt(IDM_ACCEL * IDM_DECEL)), 0.0)


def idm_accel(v: float, v_des: float, gap: float | None, v_lead: float = 0.0) -> float:
    """Intelligent Driver Model acceleration (m/s^2) at speed ``v`` toward ``v_des``, ``gap`` m behind a
    leader moving at ``v_lead`` (None: free road)."""
    free = 1.0 - (v / max(v_des, 0.1)) ** 4
    if gap is None:
        return IDM_ACCEL * free
    return IDM_ACCEL * (free - (idm_gap_wanted(v, v_lead) / max(gap, 0.1)) ** 2)


def leader_along(path: np.ndarray, s_path: np.ndarray, s_from: float, others_xy: np.ndarray,
                 reach_m: float = LOOK_AHEAD_M, lane_m: float = SAME_LANE_M) -> tuple[int, float] | None:
    """The nearest of ``others_xy (M,2)`` on ``path`` ahead of arc length ``s_from`` (within ``reach_m`` and
    ``lane_m`` of the path): ``(index, its arc length)``, or None."""
    if not len(others_xy):
        return None
    lo = int(np.searchsorted(s_path, s_from))
    hi = int(np.searchsorted(s_path, s_from + reach_m))
    if hi - lo < 2:
        return None
    # only vehicles within reach of the window's start can be on it
    cand = np.flatnonzero(np.abs(others_xy - path[lo]).max(axis=1) < reach_m + lane_m)
    if not len(cand):
        return None
    window = path[lo:hi]
    diff = others_xy[cand, None, :] - window[None]
    d2 = (diff**2).sum(-1)  # (M,W)
    k = d2.argmin(axis=1)
    close = d2[np.arange(len(cand)), k] < lane_m**2
    if not close.any():
        return None
    along = np.where(close, s_path[lo + k], np.inf)
    j = int(np.argmin(along))
    return int(cand[j]), float(along[j])


class Traffic:
    """The moving vehicles of a town: arc lengths ``s`` and speeds ``v`` along their routes."""

    def __init__(self, agents: list[PathMover], town: TownMap) -> None:
        self.agents = agents
        self.town = town
        self.s = np.array([a.s0 for a in agents], dtype=float)
        self.v = np.array([a.speed for a in agents], dtype=float)
        self._envelope = [braking_envelope(a.route.s, np.minimum(curve_speed_limits(a.route), a.speed), [a.route.s[-1]])
                          for a in agents]
        self._poses = np.array([a.xy_yaw(s) for a, s in zip(agents, self.s, strict=True)]).reshape(-1, 3)
        self._heading = [np.unwrap(a.route.heading) for a in agents]

    def __len__(self) -> int:
        return len(self.agents)

    def boxes(self) -> np.ndarray:
        """Footprints ``(N,5)`` (centre x, y, yaw, length, width)."""
        dims = np.array([[a.length, a.width] for a in self.agents]).reshape(-1, 2)
        return np.hstack([self._poses, dims])

    def velocities(self) -> np.ndarray:
        """World-frame velocities ``(N,2)`` (m/s)."""
        yaw = self._poses[:, 2]
        return np.stack([self.v * np.cos(yaw), self.v * np.sin(yaw)], axis=1)

    def predict(self, index: np.ndarray, taus: np.ndarray) -> np.ndarray:
        """Footprints ``(T,K,5)`` of agents ``index (K,)`` ``taus (T,)`` s ahead, each along its own route at its
        current speed."""
        out = np.zeros((len(taus), len(index), 5))
        for col, i in enumerate(index):
            a = self.agents[i]
            r = a.route
            s = self.s[i] + self.v[i] * np.asarray(taus)
            out[:, col, 0] = np.interp(s, r.s, r.path[:, 0])
            out[:, col, 1] = np.interp(s, r.s, r.path[:, 1])
            out[:, col, 2] = np.interp(s, r.s, self._heading[i])
            out[:, col, 3], out[:, col, 4] = a.length, a.width
        return out

    def poses4x4(self) -> list[np.ndarray]:
        return [a.pose_at(s) for a, s in zip(self.agents, self.s, strict=True)]

    def _must_yield(self, i: int, ego_xy: np.ndarray, ego_yaw: float) -> float | None:
        """Arc length where agent ``i`` must wait before its next junction box, or None."""
        a, s_front = self.agents[i], self.s[i] + self.agents[i].length / 2
        for m in a.route.maneuvers:
            if m.s_exit < self.s[i]:
                continue
            if s_front > m.s_enter or m.s_enter - s_front > 15.0:
                return None  # already in it, or still far away
            j = self.town.junctions[m.junction]
            yaw_i = self._poses[i, 2]
            xy = np.vstack([self._poses[:, :2], ego_xy[None]])
            yaws = np.append(self._poses[:, 2], ego_yaw)
            crossing = np.abs((yaws - yaw_i + np.pi) % (2 * np.pi) - np.pi) > 0.5
            inside = j.contains(xy, margin=1.0) & crossing
            inside[i] = False
            if inside.any():
                return m.s_enter - 1.0
            for k in range(i):  # lower-numbered agents about to enter from another arm go first
                other = self.agents[k]
                for mk in other.route.maneuvers:
                    if mk.junction == m.junction and mk.arm_in != m.arm_in and 0 < mk.s_enter - self.s[k] < YIELD_ETA_S * max(self.v[k], 0.5):
                        return m.s_enter - 1.0
            return None
        return None

    def step(self, dt: float, ego_box: np.ndarray, ego_v: float) -> None:
        """Advance every agent by ``dt`` s; the ego (footprint ``ego_box (5,)``, speed ``ego_v``) is a leader
        they follow and crossing traffic they wait for."""
        if not len(self.agents):
            return
        ego_xy, ego_yaw = np.asarray(ego_box[:2], dtype=float), float(ego_box[2])
        xy_all = np.vstack([self._poses[:, :2], ego_xy[None]])
        v_all = np.append(self.v, ego_v)
        len_all = np.append([a.length for a in self.agents], ego_box[3])
        accel = np.zeros(len(self.agents))
        for i, a in enumerate(self.agents):
            r = a.route
            v_des = float(np.interp(self.s[i] + self.v[i] * 0.5, r.s, self._envelope[i]))
            mask = np.ones(len(xy_all), bool)
            mask[i] = False
            gap, v_lead = None, 0.0
            found = leader_along(r.path, r.s, self.s[i] + 0.5, xy_all[mask])
            if found is not None:
                j = np.flatnonzero(mask)[found[0]]
                gap, v_lead = found[1] - self.s[i] - (a.length + len_all[j]) / 2, float(v_all[j])
            wait = self._must_yield(i, ego_xy, ego_yaw)
            if wait is not None:
                g = wait - self.s[i] - a.length / 2
                if gap is None or g < gap:
                    gap, v_lead = g, 0.0
            accel[i] = max(idm_accel(float(self.v[i]), v_des, gap, v_lead), -8.0)
        self.v = np.maximum(self.v + accel * dt, 0.0)
        self.s = self.s + self.v * dt
        self._poses = np.array([a.xy_yaw(s) for a, s in zip(self.agents, self.s, strict=True)]).reshape(-1, 3)
