"""Procedural scene layouts, one builder per scenario family. Each returns a :class:`World`: the static mesh,
moving vehicles, lighting, the ego's reference path and speed plan, and what the scene offers.

World frame: z up, metres; the ego starts at the origin heading +x in the right lane (right-hand traffic).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ct1_sim.data.scenarios import polyline as pl
from ct1_sim.data.scenarios.ego_motion import EgoState, SpeedPlan
from ct1_sim.data.scenarios.mesh import GRASS, MeshBuilder
from ct1_sim.data.scenarios.props import concrete_lot, line_buildings, place_vehicle, street_furniture, tree, vehicle_mesh
from ct1_sim.data.scenarios.renderer import Lighting
from ct1_sim.data.scenarios.roads import Road, build_patch, build_road

LANE = 3.5


@dataclass
class Mover:
    """A vehicle moving at constant speed along a straight line (world frame)."""

    vertices: np.ndarray
    x0: float
    y0: float
    yaw: float
    speed: float

    def pose(self, t: float) -> np.ndarray:
        T = np.eye(4)
        c, s = np.cos(self.yaw), np.sin(self.yaw)
        T[:3, :3] = [[c, -s, 0], [s, c, 0], [0, 0, 1]]
        T[:3, 3] = [self.x0 + c * self.speed * t, self.y0 + s * self.speed * t, 0.0]
        return T


@dataclass
class World:
    mesh: MeshBuilder
    lighting: Lighting
    reference: np.ndarray  # (N,2) path the ego follows
    start: EgoState
    plan: SpeedPlan
    maneuver: str  # what the ego is scripted to do (the label is then read off its path)
    movers: list[Mover] = field(default_factory=list)
    layout: dict[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------------- atmosphere
def random_lighting(rng: np.random.Generator) -> tuple[Lighting, str]:
    """Time of day (sun elevation/azimuth, colours) and fog."""
    tod = rng.choice(["noon", "morning", "evening", "overcast", "dusk"], p=[0.35, 0.2, 0.2, 0.15, 0.1])
    az = rng.uniform(0, 2 * np.pi)
    elev = {"noon": rng.uniform(50, 75), "morning": rng.uniform(15, 35), "evening": rng.uniform(10, 30),
            "overcast": rng.uniform(40, 60), "dusk": rng.uniform(3, 10)}[tod]
    e = np.radians(elev)
    sun = (np.cos(e) * np.cos(az), np.cos(e) * np.sin(az), np.sin(e))
    L = Lighting(sun_dir=sun)
    if tod in ("morning", "evening"):
        L.sun_color, L.horizon_color, L.zenith_color = (1.0, 0.85, 0.65), (0.85, 0.75, 0.65), (0.35, 0.5, 0.75)
        L.fog_color = (0.8, 0.75, 0.7)
    elif tod == "overcast":
        L.sun_color, L.sky_color = (0.55, 0.55, 0.58), (0.7, 0.72, 0.75)
        L.horizon_color, L.zenith_color, L.fog_color = (0.75, 0.76, 0.78), (0.6, 0.62, 0.66), (0.72, 0.73, 0.75)
    elif tod == "dusk":
        L.sun_color, L.sky_color, L.ground_color = (0.75, 0.45, 0.3), (0.3, 0.32, 0.45), (0.18, 0.16, 0.15)
        L.horizon_color, L.zenith_color, L.fog_color = (0.75, 0.5, 0.4), (0.15, 0.2, 0.4), (0.45, 0.38, 0.4)
    L.fog_density = float(rng.choice([0.002, 0.004, 0.008, 0.02], p=[0.35, 0.35, 0.2, 0.1]))
    return L, str(tod)


def _ground(mesh: MeshBuilder, rng: np.random.Generator, style: str) -> None:
    colour = (0.26, 0.40, 0.18) if style == "suburban" else (0.30, 0.36, 0.22)
    mesh.ground_rect(-400, -400, 400, 400, -0.03, np.array(colour) * rng.uniform(0.85, 1.1), GRASS)


def _oncoming(rng: np.random.Generator, road_y: float, count: int) -> list[Mover]:
    """Vehicles in the opposite (left) lane driving towards the ego along -x."""
    return [Mover(vehicle_mesh(rng).array(), rng.uniform(15, 120), road_y, np.pi, rng.uniform(5, 11)) for _ in range(count)]


def _parked(mesh: MeshBuilder, rng: np.random.Generator, road: Road, keep_out: list[tuple[float, float]], density: float) -> None:
    if road.parking <= 0:
        return
    for side in (1, -1):
        s = rng.uniform(0, 10)
        while s < road.s[-1] - 5:
            if rng.random() < density and not any(a - 4 < s < b + 4 for a, b in keep_out):
                i = min(int(np.searchsorted(road.s, s)), len(road.s) - 1)
                lateral = side * (road.lanes_left * road.lane_width if side > 0 else road.lanes_right * road.lane_width) + side * road.parking / 2
                p = road.centerline[i] + road.n[i] * lateral
                t = road.centerline[min(i + 1, len(road.s) - 1)] - road.centerline[max(i - 1, 0)]
                place_vehicle(mesh, rng, p[0], p[1], float(np.arctan2(t[1], t[0])))
            s += rng.uniform(6, 11)


def _dress(mesh: MeshBuilder, rng: np.random.Generator, roads: list[Road], style: str) -> None:
    for road in roads:
        build_road(mesh, road)
    for road in roads:
        line_buildings(mesh, rng, road, roads, style)
        street_furniture(mesh, rng, road, roads, 14.0 if style == "urban" else 22.0)


# ----------------------------------------------------------------------------- families
def intersection(rng: np.random.Generator, params: dict[str, Any]) -> World:
    """Urban 4-way or T intersection ahead; the ego turns left, right or goes straight through."""
    kind = params.get("kind") or rng.choice(["4way", "T"], p=[0.65, 0.35])
    options = ["turn_left", "turn_right"] + (["straight"] if kind == "4way" else [])
    maneuver = params.get("maneuver") or rng.choice(options)
    if maneuver not in options:
        raise ValueError(f"maneuver {maneuver!r} is impossible at a {kind} intersection")
    dist = rng.uniform(*params.get("distance_m", (4.0, 14.0)))  # ego to the near edge of the crossing road
    parking = float(rng.choice([0.0, 2.3]))
    half_c = LANE + parking  # cross road half width
    X = dist + half_c  # crossing road centre line
    corner = 3.0
    main_end = X + (150.0 if kind == "4way" else 0.0)
    main = Road(pl.straight((-60, 0), 0.0, main_end + 60), parking=parking,
                gaps=[(60 + X - half_c - corner, 60 + X + half_c + corner)], stop_lines=[60 + X - half_c - corner - 0.5] if rng.random() < 0.5 else [])
    if kind == "T":
        main.gaps = [(60 + X - half_c - corner, main.s[-1] + 1)]
    cross = Road(pl.straight((X, -150), np.pi / 2, 300), parking=parking,
                 gaps=[(150 - LANE - parking - corner, 150 + LANE + parking + corner)],
                 asphalt_gaps=[(150 - LANE - parking, 150 + LANE + parking)])
    mesh = MeshBuilder()
    _ground(mesh, rng, "urban")
    build_patch(mesh, (X, 0.0), half_c + corner)
    _dress(mesh, rng, [main, cross], "urban")
    _parked(mesh, rng, main, [(60 + X - 30, 60 + X + 30)], 0.5)
    _parked(mesh, rng, cross, [(150 - 25, 150 + 25)], 0.5)
    if kind == "T":  # a wall of buildings closes the junction: no way straight on
        concrete_lot(mesh, X + half_c + 2.5 + 6, 0.0, 12, 40)
    lane_y = -LANE / 2
    approach = pl.straight((-10, lane_y), 0.0, 10 + X - half_c - 1.0)
    if maneuver == "straight":
        ref = pl.straight((-10, lane_y), 0.0, X + 120)
    elif maneuver == "turn_right":
        r = rng.uniform(4.0, half_c + corner - LANE / 2 - 0.3)
        x1 = X - LANE / 2
        ref = pl.join(pl.straight((-10, lane_y), 0.0, 10 + x1 - r), pl.arc((x1 - r, lane_y - r), r, np.pi / 2, 0.0),
                      pl.straight((x1, lane_y - r), -np.pi / 2, 100))
    else:
        r = rng.uniform(6.0, half_c + corner + LANE / 2 - 0.3)
        x1 = X + LANE / 2
        ref = pl.join(pl.straight((-10, lane_y), 0.0, 10 + x1 - r), pl.arc((x1 - r, lane_y + r), r, -np.pi / 2, 0.0),
                      pl.straight((x1, lane_y + r), np.pi / 2, 100))
    del approach
    v0 = rng.uniform(*params.get("speed_mps", (4.5, 8.0)))
    movers = _oncoming(rng, LANE / 2, int(rng.integers(0, 3)))
    movers = [m for m in movers if not (maneuver == "turn_left" and m.x0 < X + 30)]
    return World(mesh, random_lighting(rng)[0], ref, EgoState(0.0, lane_y, 0.0, v0),
                 SpeedPlan(v0=v0, accel=rng.uniform(0.0, 0.8), v_max=9.0), maneuver, movers,
                 {"kind": kind, "distance_m": round(float(dist), 2), "options": options})


def curve(rng: np.random.Generator, params: dict[str, Any]) -> World:
    """A suburban road bending left or right with a random radius; the ego follows its lane."""
    direction = params.get("direction") or rng.choice(["left", "right"])
    radius = rng.uniform(*params.get("radius_m", (18.0, 120.0)))
    start = rng.uniform(*params.get("start_m", (0.0, 15.0)))
    sign = 1.0 if direction == "left" else -1.0
    angle = np.radians(rng.uniform(70, 110))
    centre = (start, sign * radius)
    a0 = -sign * np.pi / 2
    bend = pl.arc(centre, radius, a0, a0 + sign * angle)
    heading = sign * angle
    centreline = pl.join(pl.straight((-60, 0), 0.0, 60 + start), bend, pl.straight(tuple(bend[-1]), heading, 150))
    road = Road(centreline, sidewalk=float(rng.choice([0.0, 2.0])), centre_marking=str(rng.choice(["double_yellow", "dashed_white"])))
    mesh = MeshBuilder()
    _ground(mesh, rng, "suburban")
    _dress(mesh, rng, [road], "suburban")
    for _ in range(int(rng.integers(10, 30))):  # trees scattered behind the houses
        p = rng.uniform(-80, 160, size=2)
        if pl.distance_to(road.centerline, p[None])[0] > 12:
            tree(mesh, rng, *p)
    ref = road.at(-LANE / 2)
    ref = ref[ref[:, 0] > -15] if True else ref
    v0 = rng.uniform(*params.get("speed_mps", (7.0, 12.0)))
    return World(mesh, random_lighting(rng)[0], ref, EgoState(0.0, -LANE / 2, 0.0, v0), SpeedPlan(v0=v0, v_max=14.0),
                 "follow_road", [], {"direction": direction, "radius_m": round(float(radius), 1), "start_m": round(float(start), 1)})


def lane_change(rng: np.random.Generator, params: dict[str, Any]) -> World:
    """A divided multi-lane road; the ego changes one lane left or right where that lane exists."""
    lanes = int(rng.integers(2, 4))
    lane = int(rng.integers(0, lanes))  # 0 = next to the median
    options = (["lane_change_left"] if lane > 0 else []) + (["lane_change_right"] if lane < lanes - 1 else [])
    maneuver = params.get("maneuver") or rng.choice(options)
    if maneuver not in options:
        raise ValueError(f"{maneuver} impossible from lane {lane} of {lanes}")
    road = Road(pl.straight((-60, 0), 0.0, 260), lanes_left=lanes, lanes_right=lanes, centre_marking="median",
                sidewalk=float(rng.choice([0.0, 2.5])))
    mesh = MeshBuilder()
    style = str(rng.choice(["urban", "suburban"]))
    _ground(mesh, rng, style)
    _dress(mesh, rng, [road], style)
    y0 = road.lane_centre(lane)
    y1 = y0 + (LANE if maneuver == "lane_change_left" else -LANE)
    v0 = rng.uniform(*params.get("speed_mps", (8.0, 14.0)))
    s0 = v0 * rng.uniform(0.0, 0.5)
    length = v0 * rng.uniform(1.8, 2.6)
    xs = np.arange(-10, 200, 0.5)
    u = np.clip((xs - s0) / length, 0, 1)
    ys = y0 + (y1 - y0) * (10 * u**3 - 15 * u**4 + 6 * u**5)
    ref = np.stack([xs, ys], axis=1)
    movers = []
    for other in range(lanes):  # traffic in the other lanes (never where the ego goes)
        y = road.lane_centre(other)
        if abs(y - y1) > 0.1 and abs(y - y0) > 0.1 and rng.random() < 0.6:
            movers.append(Mover(vehicle_mesh(rng).array(), rng.uniform(10, 40), y, 0.0, v0 * rng.uniform(0.8, 1.1)))
    if rng.random() < 0.7:  # a slower car ahead in the ego's lane explains the lane change
        movers.append(Mover(vehicle_mesh(rng).array(), rng.uniform(25, 45), y0, 0.0, v0 * 0.4))
    for other in range(lanes):
        if rng.random() < 0.5:
            movers.append(Mover(vehicle_mesh(rng).array(), rng.uniform(20, 150), -road.lane_centre(other), np.pi, rng.uniform(8, 14)))
    return World(mesh, random_lighting(rng)[0], ref, EgoState(0.0, y0, 0.0, v0), SpeedPlan(v0=v0, v_max=16.0), maneuver, movers,
                 {"lanes": lanes, "lane": lane, "options": options})


def stop(rng: np.random.Generator, params: dict[str, Any]) -> World:
    """Stop at a stop line before an intersection, or behind a stopped vehicle."""
    reason = params.get("reason") or rng.choice(["stop_line", "vehicle"])
    v0 = rng.uniform(*params.get("speed_mps", (4.0, 8.0)))
    decel = max(rng.uniform(1.8, 3.0), v0 / 2.3)
    stop_s = v0**2 / (2 * decel) + rng.uniform(0.0, 1.5)
    half_c = LANE
    if reason == "stop_line":
        corner = 3.0
        line_x = stop_s + 1.5  # camera is 1.5 m ahead of the rear axle
        X = line_x + 0.5 + corner + half_c
        main = Road(pl.straight((-60, 0), 0.0, 260), gaps=[(60 + X - half_c - corner, 60 + X + half_c + corner)], stop_lines=[60 + line_x])
        cross = Road(pl.straight((X, -150), np.pi / 2, 300), gaps=[(150 - half_c - corner, 150 + half_c + corner)],
                     asphalt_gaps=[(150 - half_c, 150 + half_c)])
        roads = [main, cross]
    else:
        main = Road(pl.straight((-60, 0), 0.0, 260), parking=float(rng.choice([0.0, 2.3])))
        roads = [main]
    mesh = MeshBuilder()
    _ground(mesh, rng, "urban")
    if reason == "stop_line":
        build_patch(mesh, (X, 0.0), half_c + 3.0)
    _dress(mesh, rng, roads, "urban")
    _parked(mesh, rng, main, [(55, 90)], 0.4)
    if reason == "vehicle":
        place_vehicle(mesh, rng, stop_s + 1.5 + rng.uniform(3.5, 5.5), -LANE / 2, 0.0)
    return World(mesh, random_lighting(rng)[0], pl.straight((-10, -LANE / 2), 0.0, 200), EgoState(0.0, -LANE / 2, 0.0, v0),
                 SpeedPlan(v0=v0, stop_s=stop_s, decel=decel, curve_limit=False), "stop", _oncoming(rng, LANE / 2, int(rng.integers(0, 3))),
                 {"reason": reason, "stop_m": round(float(stop_s), 2)})


def speed_change(rng: np.random.Generator, params: dict[str, Any]) -> World:
    """A straight road; the ego speeds up or slows down (without stopping)."""
    change = params.get("change") or rng.choice(["speed_up", "slow_down"])
    if change == "speed_up":
        v0, accel = rng.uniform(2.5, 7.0), rng.uniform(1.2, 2.2)
    else:
        v0, accel = rng.uniform(10.0, 14.0), -rng.uniform(1.5, 2.5)
    road = Road(pl.straight((-60, 0), 0.0, 260), parking=float(rng.choice([0.0, 2.3])), lanes_left=1, lanes_right=1)
    mesh = MeshBuilder()
    style = str(rng.choice(["urban", "suburban"]))
    _ground(mesh, rng, style)
    _dress(mesh, rng, [road], style)
    _parked(mesh, rng, road, [], 0.4)
    return World(mesh, random_lighting(rng)[0], pl.straight((-10, -LANE / 2), 0.0, 200), EgoState(0.0, -LANE / 2, 0.0, v0),
                 SpeedPlan(v0=v0, accel=accel, v_min=3.0, v_max=16.0), change, _oncoming(rng, LANE / 2, int(rng.integers(0, 3))),
                 {"change": change})


FAMILIES: dict[str, Callable[[np.random.Generator, dict[str, Any]], World]] = {
    "intersection": intersection,
    "curve": curve,
    "lane_change": lane_change,
    "stop": stop,
    "speed_change": speed_change,
}
