"""The road network of a procedural town: junctions on a grid of blocks, the roads between them, and the exact
drivable area (world frame: z up, metres; right-hand traffic).

Layout (``C`` columns x ``R`` rows of junctions, rows counted from 1; row 0 is the highway)::

    +----T------T------T----+      a ring of 2-lane arterials with rounded corners (curves)
    |    |      |      |    |      4-way junctions inside, T junctions on the ring and where an
    T----+------+------+----T      interior road was left out
    |    |      |      |    |
    T----T------T------T----T      row 1: local street; interior columns end on it (T junctions)
    |                       |
    +-----------------------+      row 0: the highway (2 lanes each way, 80 km/h, no junctions), rounded corners

Every junction's arms are axis-aligned and its two east/west arms (and its two north/south arms) have the same
cross-section, so a junction is an axis-aligned box. Each road runs from one junction box's edge to another's; its
right-hand lanes (travel direction) are numbered 0 (next to the centre line) outwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

from ct1_sim.data.scenarios import polyline as pl
from ct1_sim.data.scenarios.roads import Road

LANE_M = 3.5
CORNER_M = 3.0  # curb rounding radius at a junction box corner (m)
DIRS: dict[str, tuple[float, float]] = {"E": (1.0, 0.0), "N": (0.0, 1.0), "W": (-1.0, 0.0), "S": (0.0, -1.0)}
OPPOSITE = {"E": "W", "W": "E", "N": "S", "S": "N"}


@dataclass(frozen=True)
class RoadClass:
    """A cross-section and a speed limit (m/s)."""

    name: str
    lanes: int  # per direction
    speed_limit: float
    sidewalk: float = 2.5
    rank: int = 0  # a lower-ranked approach stops at a higher-ranked road


LOCAL = RoadClass("local", 1, 11.1, 2.5, 0)  # 40 km/h
ARTERIAL = RoadClass("arterial", 2, 13.9, 3.0, 1)  # 50 km/h
HIGHWAY = RoadClass("highway", 2, 22.2, 0.0, 2)  # 80 km/h


@dataclass
class Junction:
    """An axis-aligned junction box centred at ``(x, y)`` with half extents ``hx, hy`` (m)."""

    id: int
    x: float
    y: float
    arms: dict[str, int] = field(default_factory=dict)  # arm direction -> edge id
    hx: float = 0.0
    hy: float = 0.0
    #: per arm: how traffic arriving from that arm is controlled ("stop_sign", "lights" (always green) or "none")
    control: dict[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return "4way" if len(self.arms) == 4 else "T"

    def contains(self, points: np.ndarray, margin: float = 0.0) -> np.ndarray:
        """Which of ``points (M,2)`` lie inside the box grown by ``margin`` m."""
        p = np.asarray(points, dtype=float).reshape(-1, 2)
        return (np.abs(p[:, 0] - self.x) <= self.hx + margin) & (np.abs(p[:, 1] - self.y) <= self.hy + margin)

    def drivable(self, points: np.ndarray) -> np.ndarray:
        """Which of ``points (M,2)`` lie on the box's asphalt: inside it and off the rounded sidewalk corners
        (quarter discs of radius :data:`CORNER_M` at the corners between two arms)."""
        p = np.asarray(points, dtype=float).reshape(-1, 2)
        ok = self.contains(p)
        for a, b, sx, sy in (("E", "N", 1, 1), ("N", "W", -1, 1), ("W", "S", -1, -1), ("S", "E", 1, -1)):
            if a in self.arms and b in self.arms:
                corner = np.array([self.x + sx * self.hx, self.y + sy * self.hy])
                ok &= np.linalg.norm(p - corner, axis=1) >= CORNER_M
        return ok

    def arm_point(self, arm: str) -> np.ndarray:
        """Centre of the box edge on the side of ``arm``."""
        dx, dy = DIRS[arm]
        return np.array([self.x + dx * self.hx, self.y + dy * self.hy])


@dataclass
class Edge:
    """A two-way road from junction ``a`` (leaving by arm ``a_arm``) to junction ``b`` (arriving by ``b_arm``)."""

    id: int
    a: int
    a_arm: str
    b: int
    b_arm: str
    cls: RoadClass
    road: Road  # centre line from a's box edge to b's box edge
    parking: float = 0.0
    through: np.ndarray | None = None  # centre line from a's centre to b's centre (N,2): what buildings keep clear of

    @property
    def length(self) -> float:
        return float(self.road.s[-1])

    @property
    def half_width(self) -> float:
        return self.road.half_right

    def lane_path(self, forward: bool, lane: int) -> np.ndarray:
        """Centre line ``(N,2)`` of right-hand lane ``lane`` in the travel direction (``forward`` = a to b)."""
        c = self.road.centerline if forward else self.road.centerline[::-1]
        return pl.offset(c, -(lane + 0.5) * LANE_M)


@dataclass
class TownMap:
    """Junctions and edges of one town, and the exact drivable area."""

    junctions: list[Junction]
    edges: list[Edge]
    bounds: tuple[float, float, float, float]  # x0, y0, x1, y1 of the whole network (m)
    layout: dict = field(default_factory=dict)
    _edge_bounds: np.ndarray | None = field(default=None, repr=False)

    def arrive(self, edge: int, forward: bool) -> tuple[Junction, str]:
        """The junction a directed edge ends at and the arm it arrives by."""
        e = self.edges[edge]
        return (self.junctions[e.b], e.b_arm) if forward else (self.junctions[e.a], e.a_arm)

    def leave(self, edge: int, forward: bool) -> tuple[Junction, str]:
        """The junction a directed edge starts from and the arm it leaves by."""
        e = self.edges[edge]
        return (self.junctions[e.a], e.a_arm) if forward else (self.junctions[e.b], e.b_arm)

    def exits(self, junction: Junction, arm_in: str) -> dict[str, tuple[int, bool]]:
        """Maneuvers possible for traffic arriving by ``arm_in``: ``{maneuver: (edge, forward)}`` (no U-turns)."""
        heading_in = np.arctan2(-DIRS[arm_in][1], -DIRS[arm_in][0])
        out: dict[str, tuple[int, bool]] = {}
        for arm, edge in junction.arms.items():
            if arm == arm_in:
                continue
            turn = (np.arctan2(DIRS[arm][1], DIRS[arm][0]) - heading_in + np.pi) % (2 * np.pi) - np.pi
            name = "straight" if abs(turn) < 0.1 else ("turn_left" if turn > 0 else "turn_right")
            out[name] = (edge, self.edges[edge].a == junction.id and self.edges[edge].a_arm == arm)
        return out

    def drivable(self, points: np.ndarray) -> np.ndarray:
        """Which of ``points (M,2)`` lie on asphalt meant for driving: a road's carriageway (its parking strips
        included) or a junction box (off its rounded sidewalk corners)."""
        p = np.asarray(points, dtype=float).reshape(-1, 2)
        if self._edge_bounds is None:
            self._edge_bounds = np.array([[*(e.road.coarse.min(0) - e.half_width), *(e.road.coarse.max(0) + e.half_width)]
                                          for e in self.edges])
        ok = np.zeros(len(p), bool)
        lo, hi = p.min(0), p.max(0)
        b = self._edge_bounds
        near = np.flatnonzero((b[:, 0] <= hi[0]) & (b[:, 2] >= lo[0]) & (b[:, 1] <= hi[1]) & (b[:, 3] >= lo[1]))
        for k in near:
            todo = ~ok
            if not todo.any():
                return ok
            e = self.edges[k]
            ok[todo] = pl.distance_to(e.road.coarse, p[todo]) <= e.half_width
        for j in self.junctions:
            todo = ~ok
            if not todo.any():
                break
            if abs(j.x - p[todo, 0]).min() <= j.hx and abs(j.y - p[todo, 1]).min() <= j.hy:
                ok[todo] = j.drivable(p[todo])
        return ok


# ----------------------------------------------------------------------------- building the network
def _bend(corners: list[tuple[float, float]], radius: float) -> np.ndarray:
    """An axis-aligned polyline through ``corners`` whose inner corners are rounded with ``radius`` m arcs."""
    pts = [np.asarray(c, dtype=float) for c in corners]
    parts, start = [], pts[0]
    for prev, corner, nxt in zip(pts[:-2], pts[1:-1], pts[2:], strict=True):
        d1 = (corner - prev) / np.linalg.norm(corner - prev)
        d2 = (nxt - corner) / np.linalg.norm(nxt - corner)
        t1, t2 = corner - d1 * radius, corner + d2 * radius
        left = d1[0] * d2[1] - d1[1] * d2[0] > 0
        normal = np.array([-d1[1], d1[0]]) if left else np.array([d1[1], -d1[0]])
        centre = t1 + normal * radius
        a0 = np.arctan2(*(t1 - centre)[::-1])
        parts += [pl.straight(tuple(start), np.arctan2(d1[1], d1[0]), float(np.linalg.norm(t1 - start))),
                  pl.arc(tuple(centre), radius, a0, a0 + (np.pi / 2 if left else -np.pi / 2))]
        start = t2
    d = pts[-1] - start
    parts.append(pl.straight(tuple(start), np.arctan2(d[1], d[0]), float(np.linalg.norm(d))))
    return pl.join(*parts)


def _spacings(rng: np.random.Generator, n: int, low: float, high: float) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(rng.uniform(low, high, n - 1))])


def build_town_map(rng: np.random.Generator, columns: int | None = None, rows: int | None = None) -> TownMap:
    """Lay out a town's road network (see the module docstring) from ``rng``."""
    C = int(columns or rng.integers(4, 6))
    R = int(rows or rng.integers(3, 5))
    if C < 3 or R < 2:
        raise ValueError(f"a town needs at least 3 columns and 2 rows of junctions, got {C} x {R}")
    xs = _spacings(rng, C, 85.0, 120.0)
    ys = np.concatenate([[0.0], rng.uniform(120.0, 150.0) + _spacings(rng, R, 75.0, 110.0)])  # ys[0]: the highway
    xs, ys = xs - (xs[0] + xs[-1]) / 2, ys - (ys[0] + ys[-1]) / 2  # the town is centred on the origin
    # road classes per corridor: the ring (columns 0 and C-1, the top row) is arterial, row 1 local, one interior
    # row or column may be arterial; local corridors may have parking strips
    col_cls = {c: ARTERIAL if c in (0, C - 1) else LOCAL for c in range(C)}
    row_cls = {r: ARTERIAL if r == R else LOCAL for r in range(1, R + 1)}
    interior_rows, interior_cols = list(range(2, R)), list(range(1, C - 1))
    if interior_rows and rng.random() < 0.6:
        row_cls[int(rng.choice(interior_rows))] = ARTERIAL
    elif rng.random() < 0.6:
        col_cls[int(rng.choice(interior_cols))] = ARTERIAL
    parking = {("col", c): float(rng.choice([0.0, 2.3])) if col_cls[c] is LOCAL else 0.0 for c in range(C)}
    parking |= {("row", r): float(rng.choice([0.0, 2.3])) if row_cls[r] is LOCAL else 0.0 for r in range(1, R + 1)}

    # nodes (c, r) that are junctions: the top corners are curves, not junctions
    nodes = {(c, r) for c in range(C) for r in range(1, R + 1)} - {(0, R), (C - 1, R)}
    # edges between grid neighbours (pairs of nodes, as (node, arm) ends); corner curves join two runs
    links: list[tuple[tuple[int, int], str, tuple[int, int], str, RoadClass, float, list]] = []
    for r in range(1, R + 1):
        for c in range(C - 1):
            a, b = (c, r), (c + 1, r)
            if a in nodes and b in nodes:
                links.append((a, "E", b, "W", row_cls[r], parking[("row", r)], [(xs[c], ys[r]), (xs[c + 1], ys[r])]))
    for c in range(C):
        for r in range(1, R):
            a, b = (c, r), (c, r + 1)
            if a in nodes and b in nodes:
                links.append((a, "N", b, "S", col_cls[c], parking[("col", c)], [(xs[c], ys[r]), (xs[c], ys[r + 1])]))
    bend_top = float(rng.uniform(22.0, 34.0))
    links.append(((0, R - 1), "N", (1, R), "W", ARTERIAL, 0.0, [(xs[0], ys[R - 1]), (xs[0], ys[R]), (xs[1], ys[R])]))
    links.append(((C - 2, R), "E", (C - 1, R - 1), "N", ARTERIAL, 0.0,
                  [(xs[C - 2], ys[R]), (xs[C - 1], ys[R]), (xs[C - 1], ys[R - 1])]))
    links.append(((0, 1), "S", (C - 1, 1), "S", HIGHWAY, 0.0,
                  [(xs[0], ys[1]), (xs[0], ys[0]), (xs[C - 1], ys[0]), (xs[C - 1], ys[1])]))
    bend_highway = float(rng.uniform(55.0, 75.0))

    # leave out up to two interior links between 4-way junctions: more T junctions, a less regular grid
    degree: dict[tuple[int, int], int] = {n: 0 for n in nodes}
    for a, _, b, _, *_ in links:
        degree[a] += 1
        degree[b] += 1
    dropped, budget = [], int(rng.integers(0, 3))
    for k in rng.permutation(len(links)):
        a, _, b, _, cls, *_ = links[k]
        if len(dropped) < budget and degree[a] == 4 and degree[b] == 4 and cls is LOCAL:
            dropped.append(int(k))
            degree[a] -= 1
            degree[b] -= 1
    links = [lk for k, lk in enumerate(links) if k not in dropped]
    # the corner curves: the ring's two top corners and the highway's two ends
    radii = [bend_top if len(lk[6]) == 3 else bend_highway if lk[4] is HIGHWAY else 0.0 for lk in links]

    index = {n: i for i, n in enumerate(sorted(nodes))}
    junctions = [Junction(i, float(xs[n[0]]), float(ys[n[1]])) for n, i in sorted(index.items(), key=lambda kv: kv[1])]
    half = {}
    for k, (a, a_arm, b, b_arm, cls, park, _) in enumerate(links):
        junctions[index[a]].arms[a_arm] = k
        junctions[index[b]].arms[b_arm] = k
        half[k] = cls.lanes * LANE_M + park
    for j in junctions:
        ns = [half[e] for arm, e in j.arms.items() if arm in "NS"]
        ew = [half[e] for arm, e in j.arms.items() if arm in "EW"]
        j.hx, j.hy = max(ns) + CORNER_M, max(ew) + CORNER_M
    edges = []
    for k, (a, a_arm, b, b_arm, cls, park, corners) in enumerate(links):
        ja, jb = junctions[index[a]], junctions[index[b]]
        centre = _bend(corners, radii[k]) if radii[k] > 0 else pl.join(*[
            pl.straight(tuple(p), np.arctan2(q[1] - p[1], q[0] - p[0]), float(np.hypot(*(np.subtract(q, p)))))
            for p, q in pairwise(corners)])
        trim_a = ja.hx if a_arm in "EW" else ja.hy
        trim_b = jb.hx if b_arm in "EW" else jb.hy
        s = pl.arc_lengths(centre)
        line = pl.sub(centre, trim_a, s[-1] - trim_b, step=1.0)
        marking = "double_yellow" if cls.lanes > 1 or rng.random() < 0.7 else "dashed_white"
        road = Road(line, lanes_left=cls.lanes, lanes_right=cls.lanes, parking=park, sidewalk=cls.sidewalk, centre_marking=marking)
        edges.append(Edge(k, index[a], a_arm, index[b], b_arm, cls, road, park, centre))
    town = TownMap(junctions, edges, (float(xs[0]), float(ys[0]), float(xs[-1]), float(ys[-1])),
                   {"columns": C, "rows": R, "dropped_links": len(dropped), "bend_radii_m": sorted({round(r, 1) for r in radii if r})})
    _controls(town, rng)
    return town


def _controls(town: TownMap, rng: np.random.Generator) -> None:
    """Stop signs where a lower-ranked road meets a higher-ranked one; all-way stops or nothing where equals
    meet; traffic lights (always green) on some arterial junctions."""
    for j in town.junctions:
        ranks = {arm: town.edges[e].cls.rank for arm, e in j.arms.items()}
        top = max(ranks.values())
        equal = len(set(ranks.values())) == 1
        style = str(rng.choice(["all_stop", "none"], p=[0.4, 0.6])) if equal and top == 0 else (
            str(rng.choice(["lights", "none"], p=[0.4, 0.6])) if equal else "minor_stop")
        for arm, rank in ranks.items():
            if style == "all_stop" or (style == "minor_stop" and rank < top):
                j.control[arm] = "stop_sign"
            else:
                j.control[arm] = "lights" if style == "lights" else "none"
