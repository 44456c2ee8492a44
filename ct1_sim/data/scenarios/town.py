"""Town-scale procedural worlds: the road network of :mod:`town_map` dressed with junction furniture, buildings,
trees, parked vehicles and moving vehicles on their own routes. A :class:`Town` is a :class:`World`, so the
:class:`SceneRenderer` draws it like any scenario; the simulator (``ct1_sim.sim``) drives in it for minutes.

World frame: z up, metres, the town centred on the origin. The same seed gives the same town; seeds of the
train/val/test splits come from :func:`town_seed` (hashed with the split, so the splits never share a town).

Example:
    >>> town = build_town(town_seed("test", 0))                       # doctest: +SKIP
    >>> r = SceneRenderer(448, 256)
    >>> r.set_world(town.mesh.array(), [a.vertices for a in town.agents])
    >>> rgb, _ = r.render(c2w, K, town.lighting, [a.pose(0.0) for a in town.agents])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ct1_sim.data.scenarios import polyline as pl
from ct1_sim.data.scenarios.ego_motion import EgoState, SpeedPlan
from ct1_sim.data.scenarios.generate import clip_seed
from ct1_sim.data.scenarios.layouts import World, _ground, random_lighting
from ct1_sim.data.scenarios.mesh import ASPHALT, CONCRETE, MARKING, SHADOW, MeshBuilder
from ct1_sim.data.scenarios.props import (
    line_buildings,
    pole,
    stop_sign,
    street_furniture,
    traffic_light,
    tree,
    urban_building,
    vehicle_mesh,
)
from ct1_sim.data.scenarios.roads import (
    ASPHALT_COLOUR,
    CURB_HEIGHT,
    WHITE,
    Road,
    build_road,
    corner_sidewalk,
    crosswalk,
)
from ct1_sim.data.scenarios.town_map import CORNER_M, DIRS, HIGHWAY, LANE_M, Junction, TownMap, build_town_map
from ct1_sim.data.scenarios.town_routes import Route, plan_route, random_start

#: Moving vehicles drive routes this long (m): longer than any episode at their speeds.
AGENT_ROUTE_M = 2500.0


def town_seed(split: str, index: int, base_seed: int = 0) -> int:
    """The seed of town ``index`` of a split (train, val or test); splits never share a seed."""
    return clip_seed("town", "town", split, index, base_seed)


def vehicle_footprint(vertices: np.ndarray) -> tuple[float, float]:
    """Length and width (m) of a vehicle mesh in its local frame (x forward), its contact shadow left out."""
    body = vertices[np.rint(vertices[:, 9]).astype(int) != SHADOW]
    return float(np.ptp(body[:, 0])), float(np.ptp(body[:, 1]))


@dataclass
class PathMover:
    """A vehicle driving along ``route.path``: its mesh in the local frame (x forward), footprint (m), the arc
    length it starts at (m) and its cruise speed (m/s). :meth:`pose` is the free drive at cruise speed (what
    the clip renderer shows); the simulator moves it with :meth:`pose_at`."""

    vertices: np.ndarray
    route: Route
    s0: float
    speed: float
    length: float
    width: float

    def xy_yaw(self, s: float) -> tuple[float, float, float]:
        """Position (m) and heading (rad) at arc length ``s`` along the route."""
        r = self.route
        s = float(np.clip(s, 0.0, r.s[-1]))
        i = int(np.clip(np.searchsorted(r.s, s) - 1, 0, len(r.s) - 2))
        d = r.path[i + 1] - r.path[i]
        u = (s - r.s[i]) / max(r.s[i + 1] - r.s[i], 1e-9)
        p = r.path[i] + u * d
        return float(p[0]), float(p[1]), float(np.arctan2(d[1], d[0]))

    def pose_at(self, s: float) -> np.ndarray:
        """World pose 4x4 at arc length ``s``."""
        x, y, yaw = self.xy_yaw(s)
        T = np.eye(4)
        c, si = np.cos(yaw), np.sin(yaw)
        T[:2, :2] = [[c, -si], [si, c]]
        T[:2, 3] = [x, y]
        return T

    def pose(self, t: float) -> np.ndarray:
        return self.pose_at(self.s0 + self.speed * t)


@dataclass
class Town(World):
    """A town world: the exact map, a default ego route, parked vehicles ``(M,5)`` = x, y, yaw, length, width
    (static, in the mesh) and the moving vehicles (``movers``, each a :class:`PathMover`)."""

    map: TownMap | None = None
    route: Route | None = None
    parked: np.ndarray = field(default_factory=lambda: np.zeros((0, 5)))
    seed: int = 0

    @property
    def agents(self) -> list[PathMover]:
        return self.movers  # type: ignore[return-value]


# ----------------------------------------------------------------------------- dressing
def _junction(mesh: MeshBuilder, rng: np.random.Generator, town: TownMap, j: Junction) -> None:
    """Asphalt box, rounded curbs between neighbouring arms (a straight sidewalk where an arm is missing),
    crosswalks, stop lines with stop signs, and traffic lights (green) where the junction has them."""
    mesh.ground_rect(j.x - j.hx, j.y - j.hy, j.x + j.hx, j.y + j.hy, 0.004, ASPHALT_COLOUR, ASPHALT)
    quadrants = {("E", "N"): ((j.x + j.hx, j.y + j.hy), np.pi), ("N", "W"): ((j.x - j.hx, j.y + j.hy), -np.pi / 2),
                 ("W", "S"): ((j.x - j.hx, j.y - j.hy), 0.0), ("S", "E"): ((j.x + j.hx, j.y - j.hy), np.pi / 2)}
    for (a, b), (corner, a0) in quadrants.items():
        if a in j.arms and b in j.arms:
            corner_sidewalk(mesh, corner, CORNER_M, a0)
    for arm in DIRS:
        dx, dy = DIRS[arm]
        if arm not in j.arms:  # the curb runs straight across the box side
            width = 2.5
            cx, cy = j.x + dx * (j.hx + width / 2), j.y + dy * (j.hy + width / 2)
            size = (width, 2 * j.hy + 0.2) if arm in "EW" else (2 * j.hx + 0.2, width)
            mesh.box((cx, cy, 0.0), (*size, CURB_HEIGHT), 0.0, (0.62, 0.61, 0.58), CONCRETE)
            continue
        edge = town.edges[j.arms[arm]]
        half = edge.half_width
        travel = np.array([-dx, -dy])  # arriving traffic drives this way
        right = np.array([travel[1], -travel[0]])
        edge_mid = j.arm_point(arm)
        if rng.random() < 0.6:
            crosswalk(mesh, tuple(edge_mid + travel * 1.7), float(np.arctan2(travel[1], travel[0])), half)
        line = edge_mid - travel * 0.5
        control = j.control.get(arm, "none")
        facing = float(np.arctan2(-travel[1], -travel[0]))
        kerb = line + right * (half + 0.8)
        if control == "stop_sign":
            a, b = line + right * 0.3, line + right * (edge.cls.lanes * LANE_M)
            quad = [[*(a - travel * 0.25), 0.013], [*(b - travel * 0.25), 0.013], [*(b + travel * 0.25), 0.013], [*(a + travel * 0.25), 0.013]]
            mesh.quads(np.array([quad if (b - a)[0] * travel[1] - (b - a)[1] * travel[0] > 0 else quad[::-1]]), WHITE, MARKING)
            stop_sign(mesh, *kerb, CURB_HEIGHT, facing)
        elif control == "lights":
            traffic_light(mesh, *kerb, CURB_HEIGHT, facing)


def _highway_verge(mesh: MeshBuilder, rng: np.random.Generator, road: Road, clearance: list[Road]) -> None:
    """Light poles along both shoulders and trees set back from the highway."""
    for side in (1.0, -1.0):
        for s in np.arange(rng.uniform(5, 30), road.s[-1] - 5, 40.0):
            i = int(np.searchsorted(road.s, s))
            p = road.centerline[i] + road.n[i] * side * (road.half_left + 1.2)
            pole(mesh, *p, 0.0, tuple(-road.n[i] * side))
        s = rng.uniform(0, 10)
        while s < road.s[-1]:
            i = min(int(np.searchsorted(road.s, s)), len(road.s) - 1)
            p = road.centerline[i] + road.n[i] * side * (road.half_left + rng.uniform(6.0, 25.0))
            if min(pl.distance_to(r.coarse, p[None])[0] - r.half_left - r.sidewalk for r in clearance) > 3.0:
                tree(mesh, rng, *p)
            s += rng.uniform(12.0, 30.0)


def _fill(mesh: MeshBuilder, rng: np.random.Generator, town: TownMap, clearance: list[Road]) -> None:
    """Buildings and tree clumps on the land the streets' own buildings leave (block interiors, the strip inside
    the highway loop, a belt round the town), so no view ends in empty grass."""
    x0, y0, x1, y1 = town.bounds
    for cx in np.arange(x0 - 130.0, x1 + 130.0, 30.0):
        for cy in np.arange(y0 - 130.0, y1 + 130.0, 30.0):
            p = np.array([cx, cy]) + rng.uniform(-7.0, 7.0, 2)
            # clearance from the nearest sidewalk's outer edge; street buildings reach ~22 m beyond it
            free = min(pl.distance_to(r.coarse, p[None])[0] - r.half_left - r.sidewalk for r in clearance) - 23.0
            if free < 6.0:
                continue
            if rng.random() < 0.85:  # mostly buildings: a tree costs the rasteriser ~30 times a building's triangles
                size = rng.uniform(10.0, min(28.0, 2 * free), 2)
                urban_building(mesh, rng, p, float(size[0]), float(size[1]), float(rng.uniform(6.0, 30.0)), float(rng.choice([0.0, np.pi / 2])))
            else:
                tree(mesh, rng, *(p + rng.uniform(-min(free, 8.0), min(free, 8.0), 2)))


def _parked(mesh: MeshBuilder, rng: np.random.Generator, town: TownMap) -> np.ndarray:
    """Parked vehicles in the parking strips (both sides), clear of the junctions; returns their boxes (M,5)."""
    boxes = []
    for e in town.edges:
        if e.parking <= 0:
            continue
        road = e.road
        for side in (1.0, -1.0):
            s = rng.uniform(8.0, 14.0)
            while s < road.s[-1] - 10.0:
                if rng.random() < 0.5:
                    i = min(int(np.searchsorted(road.s, s)), len(road.s) - 2)
                    p = road.centerline[i] + road.n[i] * side * (e.cls.lanes * LANE_M + e.parking / 2)
                    t = road.centerline[i + 1] - road.centerline[i]
                    yaw = float(np.arctan2(t[1], t[0])) + (np.pi if side > 0 else 0.0)  # parked along its own lane
                    local = vehicle_mesh(rng, str(rng.choice(["car", "car", "suv", "van"]))).array()
                    mesh.add(local, p[0], p[1], yaw)
                    length, width = vehicle_footprint(local)
                    boxes.append((p[0], p[1], yaw, length, width))
                    s += length + rng.uniform(1.0, 4.0)
                else:
                    s += rng.uniform(4.0, 9.0)
    return np.array(boxes, dtype=float).reshape(-1, 5)


def _agents(rng: np.random.Generator, town: TownMap, count: int) -> list[PathMover]:
    """Moving vehicles, each on its own random route, started apart from one another."""
    agents: list[PathMover] = []
    starts: list[np.ndarray] = []
    for _ in range(count * 20):
        if len(agents) == count:
            break
        edge, forward, s = random_start(town, rng, exclude_classes=())
        lanes = town.edges[edge].cls.lanes
        route = plan_route(town, edge, forward, s, rng=rng, min_length_m=AGENT_ROUTE_M, lane=int(rng.integers(lanes)))
        p = route.path[0]
        if any(np.hypot(*(p - q)) < 14.0 for q in starts):
            continue
        kind = str(rng.choice(["car", "car", "car", "suv", "van"] + (["truck"] if town.edges[edge].cls is HIGHWAY else [])))
        local = vehicle_mesh(rng, kind).array()
        length, width = vehicle_footprint(local)
        agents.append(PathMover(local, route, 0.0, float(route.speed_limit[0] * rng.uniform(0.65, 0.95)), length, width))
        starts.append(p)
    return agents


def build_town(seed: int, agents: int | None = None) -> Town:
    """The town of ``seed`` (see :func:`town_seed`): map, mesh, lighting, parked and moving vehicles, and a default
    ego route (the simulator draws its own). ``agents`` overrides the number of moving vehicles (default 8-14)."""
    rng = np.random.default_rng(seed)
    town = build_town_map(rng)
    lighting, tod = random_lighting(rng)
    mesh = MeshBuilder()
    _ground(mesh, rng, "urban")
    clearance = [Road(e.through, lanes_left=e.cls.lanes, lanes_right=e.cls.lanes, parking=e.parking, sidewalk=e.cls.sidewalk)
                 for e in town.edges]
    for e in town.edges:
        build_road(mesh, e.road)
    for j in town.junctions:
        _junction(mesh, rng, town, j)
    for e in town.edges:
        if e.cls is HIGHWAY:
            _highway_verge(mesh, rng, e.road, clearance)
        else:
            line_buildings(mesh, rng, e.road, clearance, "urban" if e.cls.rank > 0 or rng.random() < 0.75 else "suburban")
            street_furniture(mesh, rng, e.road, clearance, 20.0)
    _fill(mesh, rng, town, clearance)
    parked = _parked(mesh, rng, town)
    movers = _agents(rng, town, int(agents if agents is not None else rng.integers(8, 15)))
    edge, forward, s = random_start(town, rng)
    route = plan_route(town, edge, forward, s, rng=rng)
    heading = route.heading[0]
    v0 = 8.0
    return Town(mesh, lighting, route.path, EgoState(float(route.path[0, 0]), float(route.path[0, 1]), float(heading), v0),
                SpeedPlan(v0=v0, v_max=11.0), "route", movers,
                {**town.layout, "time_of_day": tod, "junctions": len(town.junctions), "roads": len(town.edges),
                 "parked": len(parked), "agents": len(movers)},
                map=town, route=route, parked=parked, seed=int(seed))
