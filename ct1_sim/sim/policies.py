"""Driving policies behind one small protocol, and the built-in ones.

A policy names the action type it emits (:mod:`ct1_sim.sim.actions`), is told the env at each episode start and
maps observations to actions. Plug in your own::

    class MyPolicy:
        name, action_type = "mine", "ackermann"
        def reset(self, env): ...
        def act(self, obs): return [0.0, 5.0, 0.0]       # steering rad, speed m/s, acceleration

Built in: ``expert`` (follows the route on the true map: exact path tracking, the route's speed profile, stops
at stop lines, follows the vehicle ahead, yields at junctions) and ``constant-velocity`` (keeps its initial speed
and drives straight on, the classic baseline).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from ct1_sim.sim.controllers import path_curvature_signed, track_path
from ct1_sim.sim.metrics import stop_points
from ct1_sim.sim.speed_profile import STOP_DWELL_S, braking_envelope, curve_speed_limits
from ct1_sim.sim.traffic import idm_accel, idm_gap_wanted, leader_along

YIELD_ETA_S = 3.0
EXPERT_JERK_MPS3 = 2.5
EXPERT_ACCEL_RANGE = (-4.0, 1.5)


class Policy(Protocol):
    """What the simulator needs from a policy."""

    name: str
    action_type: str

    def reset(self, env: Any) -> None:
        """A new episode begins in ``env`` (a :class:`~ct1_sim.sim.env.DrivingEnv`)."""

    def act(self, obs: dict[str, Any]) -> np.ndarray:
        """The action for this observation."""


class ConstantVelocityPolicy:
    """Keeps the initial speed with the wheels straight."""

    name, action_type = "constant-velocity", "ackermann"

    def reset(self, env: Any) -> None:
        self.speed = float(env.unwrapped.state.v)

    def act(self, obs: dict[str, Any]) -> np.ndarray:
        return np.array([0.0, self.speed, 0.0], np.float32)


class ExpertPolicy:
    """Drives the route on the true map (privileged: reads the env's route, traffic and state)."""

    name, action_type = "expert", "ackermann"

    def reset(self, env: Any) -> None:
        self.env = env.unwrapped
        route = self.env.route
        self.kappa = np.convolve(path_curvature_signed(route.path), np.ones(5) / 5, mode="same")
        self.stops = stop_points(route, self.env.limits)
        cap = curve_speed_limits(route)
        # one braking envelope per number of stop lines already cleared (they are cleared in order)
        self.envelopes = [braking_envelope(route.s, cap, self.stops[k:]) for k in range(len(self.stops) + 1)]
        self.cleared, self.dwell = 0, 0.0
        self.accel = float(self.env.state.accel)

    def _crossing_traffic(self, k: int) -> bool:
        """Whether another vehicle is in maneuver ``k``'s junction box or about to enter it from another arm."""
        env, m = self.env, self.env.route.maneuvers[k]
        junction = env.town.map.junctions[m.junction]
        traffic = env.world.traffic
        boxes = traffic.boxes()
        for i, agent in enumerate(traffic.agents):
            mine = [mk for mk in agent.route.maneuvers if mk.junction == m.junction and mk.s_exit > traffic.s[i]]
            if not mine or mine[0].arm_in == m.arm_in:
                continue  # not crossing this junction now, or coming from our arm (then it is a leader)
            front = traffic.s[i] + agent.length / 2
            inside = junction.contains(boxes[i, :2][None], margin=1.0)[0]
            if inside or (mine[0].s_enter - front) < YIELD_ETA_S * max(float(traffic.v[i]), 0.5):
                return True
        return False

    def act(self, obs: dict[str, Any]) -> np.ndarray:
        env = self.env
        st, route, lim = env.state, env.route, env.limits
        s = env.metrics.progress
        steer = track_path(route.path, route.s, self.kappa, s, st.x, st.y, st.yaw, st.v, lim.wheelbase_m)
        # stop lines: stand still for a moment, then go on
        stop = self.stops[self.cleared] if self.cleared < len(self.stops) else None
        if stop is not None and stop - s < 1.0 and st.v < 0.15:
            self.dwell += env.dt
            if self.dwell >= STOP_DWELL_S:
                self.cleared, self.dwell, stop = self.cleared + 1, 0.0, None
        envelope = self.envelopes[self.cleared]
        v_target = float(np.interp(s + st.v * 0.3, route.s, envelope))
        terms = {"profile": float(np.clip(2.5 * (v_target - st.v), -3.5, 1.5))}
        if stop is not None:  # brake to stand at the stop point: the constant deceleration that gets there
            d = stop - s
            terms["stop"] = -3.0 if d <= 0.05 else (-st.v**2 / (2 * d) * 1.15 if st.v**2 / (2 * d) > 0.6 else 1.5)
        # the vehicle ahead on the route
        boxes, vel = env.world.vehicles()
        found = leader_along(route.path, route.s, s + 0.5, boxes[:, :2])
        if found is not None:
            j, s_lead = found
            gap = s_lead - s - lim.box_offset_m - (lim.length_m + boxes[j, 3]) / 2
            terms["leader"] = idm_accel(st.v, max(v_target, 0.5), gap, float(np.linalg.norm(vel[j])))
        # yield to crossing traffic before entering a junction box (once in, carry on)
        front = s + lim.front_m
        k, _ = env.current_maneuver()
        if k is not None:
            m = route.maneuvers[k]
            ahead = m.s_enter - front
            if 0.0 < ahead < idm_gap_wanted(st.v) + 10.0 and self._crossing_traffic(k):
                terms["yield"] = idm_accel(st.v, max(v_target, 0.5), ahead - 1.0, 0.0)
        self.limiting = min(terms, key=terms.get)
        accel = terms[self.limiting]
        # a smooth acceleration (comfort), but brake hard when it must
        # jerk: comfortable (nuPlan's bound is 4.13 m/s^3) unless a collision is near
        rate = (EXPERT_JERK_MPS3 if accel > -3.5 else 4.0 if accel > -6.0 else 12.0) * env.dt
        accel = float(np.clip(accel, self.accel - rate, self.accel + EXPERT_JERK_MPS3 * env.dt))
        self.terms = terms
        accel = float(np.clip(accel, *EXPERT_ACCEL_RANGE))
        self.accel = accel
        speed = max(st.v + accel / lim.speed_gain, 0.0)
        return np.array([steer, speed, 0.0], np.float32)


POLICIES: dict[str, type] = {"expert": ExpertPolicy, "constant-velocity": ConstantVelocityPolicy}


def make_policy(name: str, trajectory_model: str | None = None, **kwargs: Any) -> Policy:
    """A built-in policy by name (``expert``, ``constant-velocity``, ``ct1``); ``trajectory_model`` is the folder the
    ``ct1`` policy drives with (None: the shipped model; the other policies ignore it)."""
    if name == "ct1":
        from ct1_sim.sim.ct1_policy import CT1Policy

        return CT1Policy(**({"model_dir": trajectory_model} if trajectory_model is not None else {}), **kwargs)
    if name not in POLICIES:
        raise ValueError(f"unknown policy {name!r}; choose one of {', '.join([*POLICIES, 'ct1'])}")
    return POLICIES[name](**kwargs)
