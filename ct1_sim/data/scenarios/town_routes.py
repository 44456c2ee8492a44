"""Routes through a town: a start on a lane, a sequence of maneuvers at the junctions met on the way, and the
lane-level reference path that drives them (world frame, metres).

A route turns left from the inner lane (0, next to the centre line) and right from the outer one, changing lane
halfway along a multi-lane road when the next maneuver needs it; through a junction it follows a cubic Bezier
tangent to both lanes (a quarter circle when the two lane offsets match).

Route text: maneuvers separated by commas, ``then`` or ``;``, each naming ``left``, ``right`` or ``straight``
(e.g. ``"turn left at the next intersection, then go straight, then turn right"``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ct1_sim.data.scenarios import polyline as pl
from ct1_sim.data.scenarios.town_map import LANE_M, TownMap

STEP_M = 0.5  # resampling of the reference path
LANE_CHANGE_M = 40.0
MANEUVERS = ("turn_left", "straight", "turn_right")
#: The route ends this far into its last road (or sooner when that road is shorter).
END_INTO_LAST_ROAD_M = 50.0


@dataclass(frozen=True)
class Leg:
    """One road driven along a route: ``edge`` in direction ``forward`` (a to b), entered in lane ``lane_in`` and
    left in ``lane_out``, between arc lengths ``s0`` and ``s1`` along the road's travel direction."""

    edge: int
    forward: bool
    lane_in: int
    lane_out: int
    s0: float
    s1: float


@dataclass(frozen=True)
class Maneuver:
    """A maneuver at a junction: the route enters its box at arc length ``s_enter`` and leaves at ``s_exit`` (m
    along the route path); ``stop_line_s`` is the stop line before it when the approach has a stop sign."""

    kind: str  # turn_left | straight | turn_right
    junction: int
    arm_in: str
    arm_out: str
    s_enter: float
    s_exit: float
    stop_line_s: float | None = None


@dataclass
class Route:
    """A lane-level reference path ``path (N,2)`` every :data:`STEP_M` m with arc lengths ``s (N,)``, the speed
    limit along it ``speed_limit (N,)`` (m/s), the legs and the maneuvers."""

    legs: list[Leg]
    maneuvers: list[Maneuver]
    path: np.ndarray
    s: np.ndarray
    speed_limit: np.ndarray
    meta: dict = field(default_factory=dict)

    @property
    def length(self) -> float:
        return float(self.s[-1])

    @property
    def heading(self) -> np.ndarray:
        """Heading (rad) of the path at each point."""
        d = np.gradient(self.path, axis=0)
        return np.arctan2(d[:, 1], d[:, 0])

    def project(self, xy: np.ndarray, s_hint: float | None = None, window_m: float = 30.0) -> tuple[float, float]:
        """Arc length (m) of the path point nearest to ``xy`` and the distance to it; with ``s_hint``, only
        points within ``window_m`` of it are searched (so a path passing near itself is not confused)."""
        lo, hi = 0, len(self.s)
        if s_hint is not None:
            lo = int(np.searchsorted(self.s, s_hint - window_m))
            hi = max(int(np.searchsorted(self.s, s_hint + window_m)), lo + 2)
        seg = self.path[lo:hi]
        a, b = seg[:-1], seg[1:]
        ab = b - a
        t = np.clip(((xy - a) * ab).sum(1) / np.maximum((ab**2).sum(1), 1e-12), 0.0, 1.0)
        d = np.linalg.norm(a + t[:, None] * ab - xy, axis=1)
        k = int(np.argmin(d))
        return float(self.s[lo + k] + t[k] * (self.s[lo + k + 1] - self.s[lo + k])), float(d[k])

    def point(self, s: float) -> np.ndarray:
        """The path point at arc length ``s`` (m), clamped to the path."""
        return np.array([np.interp(s, self.s, self.path[:, 0]), np.interp(s, self.s, self.path[:, 1])])

    def text(self) -> str:
        words = {"turn_left": "turn left", "turn_right": "turn right", "straight": "go straight"}
        return ", then ".join(words[m.kind] for m in self.maneuvers) or "follow the road"


def parse_route(text: str) -> list[str]:
    """``"turn left at the next intersection, then go straight"`` -> ``["turn_left", "straight"]``."""
    pieces = [p.strip() for p in re.split(r",|;|\bthen\b", text.lower()) if p.strip()]
    out = []
    for piece in pieces:
        found = [m for m, word in (("turn_left", "left"), ("turn_right", "right"), ("straight", "straight")) if re.search(rf"\b{word}\b", piece)]
        if len(found) != 1:
            raise ValueError(f"route step {piece!r} must name exactly one of left, right or straight "
                             f"(e.g. 'turn left at the next intersection, then go straight, then turn right')")
        out.append(found[0])
    if not out:
        raise ValueError(f"route {text!r} names no maneuver; write e.g. 'turn left, then go straight, then turn right'")
    return out


def _lane_for(maneuver: str | None, lanes: int, current: int) -> int:
    if maneuver == "turn_left":
        return 0
    if maneuver == "turn_right":
        return lanes - 1
    return min(current, lanes - 1)


def _leg_points(town: TownMap, leg: Leg) -> np.ndarray:
    """The lane centre of one leg, with a smooth lane change halfway when ``lane_in != lane_out``."""
    edge = town.edges[leg.edge]
    c = edge.road.centerline if leg.forward else edge.road.centerline[::-1]
    c = pl.sub(c, leg.s0, leg.s1, step=STEP_M)
    s = pl.arc_lengths(c)
    lat = np.full(len(c), -(leg.lane_in + 0.5) * LANE_M)
    if leg.lane_out != leg.lane_in:
        length = min(LANE_CHANGE_M, 0.6 * s[-1])
        u = np.clip((s - (s[-1] - length) / 2) / length, 0.0, 1.0)
        lat += (leg.lane_in - leg.lane_out) * LANE_M * (10 * u**3 - 15 * u**4 + 6 * u**5)
    return c + pl.normals(c) * lat[:, None]


def _connector(p0: np.ndarray, t0: np.ndarray, p1: np.ndarray, t1: np.ndarray) -> np.ndarray:
    """A cubic Bezier from ``p0`` (heading ``t0``) to ``p1`` (heading ``t1``) through a junction box."""
    cross = t0[0] * t1[1] - t0[1] * t1[0]
    if abs(cross) < 1e-6:  # straight on (maybe shifted sideways)
        a = b = np.linalg.norm(p1 - p0) / 3.0
    else:  # the tangent lines meet at X = p0 + a t0 = p1 - b t1
        A = np.stack([t0, t1], axis=1)
        a, b = np.linalg.solve(A, p1 - p0)
        a, b = 0.5523 * a, 0.5523 * b
    c0, c1 = p0 + a * t0, p1 - b * t1
    u = np.linspace(0.0, 1.0, 60)[:, None]
    return (1 - u) ** 3 * p0 + 3 * (1 - u) ** 2 * u * c0 + 3 * (1 - u) * u**2 * c1 + u**3 * p1


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


def plan_route(
    town: TownMap,
    edge: int,
    forward: bool,
    s_start: float,
    maneuvers: list[str] | None = None,
    rng: np.random.Generator | None = None,
    min_length_m: float = 700.0,
    lane: int | None = None,
) -> Route:
    """A route from ``s_start`` m along ``edge`` (direction ``forward``): the given ``maneuvers`` in order, one per
    junction met, or (``maneuvers=None``) maneuvers drawn from ``rng`` among those each junction offers until the
    path is at least ``min_length_m`` long. A maneuver a junction does not offer is a ``ValueError`` naming it."""
    if maneuvers is None and rng is None:
        raise ValueError("plan_route needs maneuvers or an rng to draw them")
    e = town.edges[edge]
    if not 0.0 <= s_start < e.length - 1.0:
        raise ValueError(f"start {s_start:.1f} m is off road {edge} ({e.length:.1f} m long)")
    chosen: list[tuple[str, int, str, str]] = []  # (maneuver, junction, arm_in, arm_out)
    steps = [(edge, forward)]
    before = -s_start  # route length up to the start of the last road in ``steps``
    while True:
        junction, arm_in = town.arrive(*steps[-1])
        options = town.exits(junction, arm_in)
        if maneuvers is not None:
            if len(chosen) == len(maneuvers):
                break
            want = maneuvers[len(chosen)]
            if want not in options:
                raise ValueError(f"maneuver {len(chosen) + 1} ({want}) is impossible at junction {junction.id} "
                                 f"({junction.kind}, arriving from the {arm_in}): it offers {sorted(options)}")
        else:
            if before + min(END_INTO_LAST_ROAD_M, town.edges[steps[-1][0]].length) >= min_length_m:
                break
            want = str(rng.choice(sorted(options)))
        nxt = options[want]
        arm_out = town.leave(*nxt)[1]
        chosen.append((want, junction.id, arm_in, arm_out))
        before += town.edges[steps[-1][0]].length
        steps.append(nxt)
    # lanes: the inner lane before a left turn, the outer one before a right turn
    legs: list[Leg] = []
    lane_now = town.edges[edge].cls.lanes - 1 if lane is None else lane
    for k, (edge_k, fwd_k) in enumerate(steps):
        lanes = town.edges[edge_k].cls.lanes
        nxt_m = chosen[k][0] if k < len(chosen) else None
        lane_in = min(lane_now, lanes - 1)
        lane_out = _lane_for(nxt_m, lanes, lane_in)
        L = town.edges[edge_k].length
        s0 = s_start if k == 0 else 0.0
        s1 = L if k < len(chosen) else min(L - 1.0, max(s0 + 5.0, END_INTO_LAST_ROAD_M))
        legs.append(Leg(edge_k, fwd_k, lane_in, lane_out, s0, s1))
        lane_now = {"turn_left": 0, "turn_right": 99}.get(nxt_m, lane_out)  # 99: the next road's outer lane
    pieces, limits, spans = [], [], []
    total = 0.0
    for k, leg in enumerate(legs):
        pts = _leg_points(town, leg)
        if k > 0:
            prev = pieces[-1]
            link = _connector(prev[-1], _unit(prev[-1] - prev[-2]), pts[0], _unit(pts[1] - pts[0]))
            L_link = float(pl.arc_lengths(link)[-1])
            spans.append((total, total + L_link))
            pieces.append(link)
            limits.append((link, min(town.edges[legs[k - 1].edge].cls.speed_limit, town.edges[leg.edge].cls.speed_limit)))
            total += L_link
        pieces.append(pts)
        limits.append((pts, town.edges[leg.edge].cls.speed_limit))
        total += float(pl.arc_lengths(pts)[-1])
    path = pl.resample(pl.join(*pieces), STEP_M)
    s = pl.arc_lengths(path)
    # speed limit per resampled point: the piece it falls in
    bounds = np.cumsum([0.0] + [float(pl.arc_lengths(p)[-1]) for p, _ in limits])
    which = np.clip(np.searchsorted(bounds, s, side="right") - 1, 0, len(limits) - 1)
    speed_limit = np.array([limits[i][1] for i in which])
    found = []
    for (kind, jid, arm_in, arm_out), (s_in, s_out) in zip(chosen, spans, strict=True):
        stop = s_in - 0.5 if town.junctions[jid].control.get(arm_in) == "stop_sign" else None
        found.append(Maneuver(kind, jid, arm_in, arm_out, s_in, s_out, stop))
    return Route(legs, found, path, s, speed_limit, {"start": (edge, forward, float(s_start))})


def random_start(town: TownMap, rng: np.random.Generator, exclude_classes: tuple[str, ...] = ("highway",)) -> tuple[int, bool, float]:
    """A random start ``(edge, forward, s)``: on a road long enough, away from its junctions."""
    candidates = [e for e in town.edges if e.cls.name not in exclude_classes and e.length > 60.0]
    e = candidates[int(rng.integers(len(candidates)))]
    return e.id, bool(rng.random() < 0.5), float(rng.uniform(8.0, min(40.0, e.length - 45.0)))
