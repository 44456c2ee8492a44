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
from ct1_sim.data.scenarios.mesh import CONCRETE, GRASS, MeshBuilder
from ct1_sim.data.scenarios.props import (
    concrete_lot,
    line_buildings,
    place_vehicle,
    stop_sign,
    street_furniture,
    traffic_light,
    tree,
    urban_building,
    vehicle_mesh,
)
from ct1_sim.data.scenarios.renderer import Lighting
from ct1_sim.data.scenarios.roads import (
    CURB_HEIGHT,
    Road,
    build_patch,
    build_road,
    corner_sidewalk,
    crosswalk,
)

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
    #: the reference path of every maneuver the scene allows (world frame, (N,2) m), the scripted one included
    alternatives: dict[str, np.ndarray] = field(default_factory=dict)
    #: the asphalt, as :func:`road_area` / :func:`square_area` records: what "off the road" is measured against
    drivable: list[dict[str, Any]] = field(default_factory=list)


def road_area(road: Road) -> dict[str, Any]:
    """The asphalt of ``road``: its coarse centre line (m, world frame) and half widths to the left / right (m)."""
    return {"kind": "road", "centerline": np.round(road.coarse, 2).tolist(), "left": road.half_left, "right": road.half_right}


def square_area(centre: tuple[float, float], half: float) -> dict[str, Any]:
    """An axis-aligned square of asphalt (an intersection patch), centre (m) and half size (m)."""
    return {"kind": "square", "centre": [round(float(centre[0]), 2), round(float(centre[1]), 2)], "half": round(float(half), 2)}


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
    # clouds; an overcast sky diffuses the sun: no hard shadows
    L.clouds = 0.9 if tod == "overcast" else float(rng.choice([0.0, rng.uniform(0.1, 0.6)], p=[0.4, 0.6]))
    L.shadows = tod != "overcast"
    return L, str(tod)


def _ground(mesh: MeshBuilder, rng: np.random.Generator, style: str) -> None:
    colour = (0.26, 0.40, 0.18) if style == "suburban" else (0.30, 0.36, 0.22)
    # a grid of 40 m cells, not one quad: fog is interpolated per vertex
    edges = np.arange(-400.0, 400.0 + 1e-6, 40.0)
    x0, y0 = np.meshgrid(edges[:-1], edges[:-1], indexing="ij")
    x0, y0 = x0.ravel(), y0.ravel()
    x1, y1, z = x0 + 40.0, y0 + 40.0, np.full(x0.shape, -0.03)
    quads = np.stack([np.stack([x0, y0, z], 1), np.stack([x1, y0, z], 1), np.stack([x1, y1, z], 1), np.stack([x0, y1, z], 1)], 1)
    mesh.quads(quads, np.array(colour) * rng.uniform(0.85, 1.1), GRASS)


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


def _range(params: dict[str, Any], family: str, name: str) -> tuple[float, float]:
    """A range parameter from the spec, or its default from :data:`FAMILY_PARAMS`."""
    return params.get(name, FAMILY_PARAMS[family][name][1])


def _junction(mesh: MeshBuilder, rng: np.random.Generator, X: float, half: float, corner: float, kind: str, control: str,
              sidewalk: float = 2.5, stop_x: float | None = None) -> None:
    """Dress a junction at x = ``X`` of the ego's road (along +x) with a crossing road of half width ``half``:
    rounded sidewalk corners, crosswalks, and traffic lights (green for the ego) or a stop sign at ``stop_x``."""
    near, far = X - half - corner, X + half + corner
    corner_sidewalk(mesh, (near, -half - corner), corner, 0.0)
    corner_sidewalk(mesh, (near, half + corner), corner, -np.pi / 2)
    if kind == "4way":
        corner_sidewalk(mesh, (far, -half - corner), corner, np.pi / 2)
        corner_sidewalk(mesh, (far, half + corner), corner, np.pi)
    elif sidewalk > 0:  # T: the far side's sidewalk runs on past the junction
        mesh.box((X + half + sidewalk / 2, 0.0, 0.0), (sidewalk, 2 * (half + corner) + 0.2, CURB_HEIGHT), 0.0,
                 (0.62, 0.61, 0.58), CONCRETE)
    approaches = [(near + 1.7, 0.0, 0.0), (X, -half - corner + 1.7, np.pi / 2), (X, half + corner - 1.7, np.pi / 2)]
    if kind == "4way":
        approaches.append((far - 1.7, 0.0, 0.0))
    for cx, cy, heading in approaches:
        if rng.random() < 0.75:
            crosswalk(mesh, (cx, cy), heading, half)
    if control == "lights":
        for y in (-1.0, 1.0):
            x = far - 0.9 if kind == "4way" else X + half + 0.8
            traffic_light(mesh, x, y * (half + 0.9), CURB_HEIGHT, np.pi)
    elif control == "stop_sign":
        stop_sign(mesh, (stop_x if stop_x is not None else near) - 0.3, -half - 0.8, CURB_HEIGHT, np.pi)


# ----------------------------------------------------------------------------- families
def intersection(rng: np.random.Generator, params: dict[str, Any]) -> World:
    """Urban 4-way or T intersection ahead; the ego turns left, right or goes straight through."""
    kind = params.get("kind") or rng.choice(["4way", "T"], p=[0.65, 0.35])
    options = ["turn_left", "turn_right"] + (["straight"] if kind == "4way" else [])
    maneuver = params.get("maneuver") or rng.choice(options)
    if maneuver not in options:
        raise ValueError(f"maneuver {maneuver!r} is impossible at a {kind} intersection")
    # rear axle to the near edge of the crossing road: the junction (crosswalk, corners, the gap in the buildings)
    # is in view in the first frame, and close enough for the turn to show within the clip
    dist = rng.uniform(*_range(params, "intersection", "distance_m"))
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
    if kind == "T":  # a building closes the junction: no way straight on
        back = X + half_c + main.sidewalk + 0.5
        concrete_lot(mesh, back + 7.0, 0.0, 14, 40)
        urban_building(mesh, rng, np.array([back + 6.0, 0.0]), 16.0, 12.0, float(rng.uniform(8, 30)), np.pi / 2)
    _junction(mesh, rng, X, half_c, corner, kind, control=str(rng.choice(["lights", "none"])), sidewalk=main.sidewalk)
    for side in (-1.0, 1.0):  # cross traffic waiting at the junction, in its own right-hand lane
        if rng.random() < 0.45:
            car = vehicle_mesh(rng, str(rng.choice(["car", "car", "suv", "van"]))).array()
            half_len = float(car[:, 0].max())
            mesh.add(car, X - side * LANE / 2, side * (half_c + corner + 0.8 + half_len), -side * np.pi / 2)
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
    alternatives = _intersection_references(X, half_c, corner, lane_y, kind)
    alternatives[maneuver] = ref
    v0 = rng.uniform(*_range(params, "intersection", "speed_mps"))
    movers = _oncoming(rng, LANE / 2, int(rng.integers(0, 3)))
    movers = [m for m in movers if not (maneuver == "turn_left" and m.x0 < X + 30)]
    return World(mesh, random_lighting(rng)[0], ref, EgoState(0.0, lane_y, 0.0, v0),
                 SpeedPlan(v0=v0, accel=rng.uniform(0.0, 0.8), v_max=9.0), maneuver, movers,
                 {"kind": kind, "distance_m": round(float(dist), 2), "junction_x_m": round(float(X), 2),
                  "cross_half_width_m": half_c, "options": options},
                 alternatives, [road_area(main), road_area(cross), square_area((X, 0.0), half_c + corner)])


def _intersection_references(X: float, half_c: float, corner: float, lane_y: float, kind: str) -> dict[str, np.ndarray]:
    """Reference paths of the turns (mid-range radii) and, at a 4-way junction, of going straight on; drawn without
    the scene's random generator so that adding them changed no rendered pixel."""
    r = 0.5 * (4.0 + half_c + corner - LANE / 2 - 0.3)
    x1 = X - LANE / 2
    right = pl.join(pl.straight((-10, lane_y), 0.0, 10 + x1 - r), pl.arc((x1 - r, lane_y - r), r, np.pi / 2, 0.0),
                    pl.straight((x1, lane_y - r), -np.pi / 2, 100))
    r = 0.5 * (6.0 + half_c + corner + LANE / 2 - 0.3)
    x1 = X + LANE / 2
    left = pl.join(pl.straight((-10, lane_y), 0.0, 10 + x1 - r), pl.arc((x1 - r, lane_y + r), r, -np.pi / 2, 0.0),
                   pl.straight((x1, lane_y + r), np.pi / 2, 100))
    out = {"turn_left": left, "turn_right": right}
    if kind == "4way":
        out["straight"] = pl.straight((-10, lane_y), 0.0, X + 120)
    return out


def curve(rng: np.random.Generator, params: dict[str, Any]) -> World:
    """A suburban road bending left or right with a random radius; the ego follows its lane."""
    direction = params.get("direction") or rng.choice(["left", "right"])
    radius = rng.uniform(*_range(params, "curve", "radius_m"))
    start = rng.uniform(*_range(params, "curve", "start_m"))
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
    ref = ref[ref[:, 0] > -15]
    v0 = rng.uniform(*_range(params, "curve", "speed_mps"))
    return World(mesh, random_lighting(rng)[0], ref, EgoState(0.0, -LANE / 2, 0.0, v0), SpeedPlan(v0=v0, v_max=14.0),
                 "follow_road", [], {"direction": direction, "radius_m": round(float(radius), 1), "start_m": round(float(start), 1)},
                 {"straight": ref}, [road_area(road)])


def lane_change(rng: np.random.Generator, params: dict[str, Any]) -> World:
    """A divided multi-lane road; the ego changes one lane left or right where that lane exists."""
    lanes = int(rng.integers(2, 4))
    wanted = params.get("maneuver")
    # 0 = next to the median; a scripted side picks a lane that has a neighbour on that side
    allowed = {"lane_change_left": range(1, lanes), "lane_change_right": range(lanes - 1)}.get(wanted, range(lanes))
    lane = int(rng.choice(list(allowed)))
    options = (["lane_change_left"] if lane > 0 else []) + (["lane_change_right"] if lane < lanes - 1 else [])
    maneuver = wanted or str(rng.choice(options))
    road = Road(pl.straight((-60, 0), 0.0, 260), lanes_left=lanes, lanes_right=lanes, centre_marking="median",
                sidewalk=float(rng.choice([0.0, 2.5])))
    mesh = MeshBuilder()
    style = str(rng.choice(["urban", "suburban"]))
    _ground(mesh, rng, style)
    _dress(mesh, rng, [road], style)
    y0 = road.lane_centre(lane)
    y1 = y0 + (LANE if maneuver == "lane_change_left" else -LANE)
    v0 = rng.uniform(*_range(params, "lane_change", "speed_mps"))
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
    alternatives = {"straight": np.stack([xs, np.full_like(xs, y0)], axis=1), maneuver: ref}
    for other in options:  # the other side's change, over the scene's (mid-range) length, without its generator
        if other != maneuver:
            y_other = y0 + (LANE if other == "lane_change_left" else -LANE)
            u_mid = np.clip((xs - 0.25 * v0) / (2.2 * v0), 0, 1)
            alternatives[other] = np.stack([xs, y0 + (y_other - y0) * (10 * u_mid**3 - 15 * u_mid**4 + 6 * u_mid**5)], axis=1)
    # the ego's carriageway only: the median and the far side are not where it may drive
    carriageway = {"kind": "road", "centerline": [[-60.0, -lanes * LANE / 2], [200.0, -lanes * LANE / 2]],
                   "left": lanes * LANE / 2, "right": lanes * LANE / 2}
    return World(mesh, random_lighting(rng)[0], ref, EgoState(0.0, y0, 0.0, v0), SpeedPlan(v0=v0, v_max=16.0), maneuver, movers,
                 {"lanes": lanes, "lane": lane, "options": options}, alternatives, [carriageway])


def stop(rng: np.random.Generator, params: dict[str, Any]) -> World:
    """Stop at a stop line (a stop sign or a red light says so) or behind a stopped vehicle."""
    reason = params.get("reason") or rng.choice(["stop_line", "vehicle"])
    v0 = rng.uniform(*_range(params, "stop", "speed_mps"))
    decel = max(rng.uniform(1.8, 3.0), v0 / 2.3)
    stop_s = v0**2 / (2 * decel) + rng.uniform(0.0, 1.5)  # rear-axle travel to the stop
    nose = 3.4  # rear axle to the front bumper (m)
    half_c = LANE
    mesh = MeshBuilder()
    _ground(mesh, rng, "urban")
    if reason == "stop_line":
        corner = 3.0
        line_x = stop_s + nose + rng.uniform(0.3, 1.0)  # the bumper stops just short of the line
        X = line_x + 0.5 + corner + half_c
        main = Road(pl.straight((-60, 0), 0.0, 260), gaps=[(60 + X - half_c - corner, 60 + X + half_c + corner)], stop_lines=[60 + line_x])
        cross = Road(pl.straight((X, -150), np.pi / 2, 300), gaps=[(150 - half_c - corner, 150 + half_c + corner)],
                     asphalt_gaps=[(150 - half_c, 150 + half_c)])
        roads = [main, cross]
        build_patch(mesh, (X, 0.0), half_c + corner)
        control = str(rng.choice(["stop_sign", "red_light"]))
        _junction(mesh, rng, X, half_c, corner, "4way", "stop_sign" if control == "stop_sign" else "none", stop_x=line_x)
        if control == "red_light":
            for y in (-1.0, 1.0):
                traffic_light(mesh, X + half_c + corner - 0.9, y * (half_c + 0.9), CURB_HEIGHT, np.pi, lit="red")
        layout = {"reason": reason, "control": control, "stop_line_m": round(float(line_x), 2)}
    else:
        main = Road(pl.straight((-60, 0), 0.0, 260), parking=float(rng.choice([0.0, 2.3])))
        roads = [main]
        kind = str(rng.choice(["car", "car", "suv", "van", "truck"]))
        lead = vehicle_mesh(rng, kind).array()
        length = float(lead[:, 0].max() - lead[:, 0].min())
        gap = rng.uniform(1.5, 3.0)
        mesh.add(lead, stop_s + nose + gap + length / 2, -LANE / 2, 0.0)
        layout = {"reason": reason, "lead_vehicle": kind, "gap_m": round(float(gap), 2)}
    _dress(mesh, rng, roads, "urban")
    _parked(mesh, rng, main, [(55, 90)], 0.4)
    layout["stop_m"] = round(float(stop_s), 2)
    lane_ref = pl.straight((-10, -LANE / 2), 0.0, 200)
    drivable = [road_area(r) for r in roads] + ([square_area((X, 0.0), half_c + corner)] if reason == "stop_line" else [])
    return World(mesh, random_lighting(rng)[0], lane_ref, EgoState(0.0, -LANE / 2, 0.0, v0),
                 SpeedPlan(v0=v0, stop_s=stop_s, decel=decel, curve_limit=False), "stop", _oncoming(rng, LANE / 2, int(rng.integers(0, 3))),
                 layout, {"stop": lane_ref}, drivable)


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
                 {"change": change}, {"straight": pl.straight((-10, -LANE / 2), 0.0, 200)}, [road_area(road)])


#: Parameters each family takes from a spec: ("range", (low, high) default) or ("choice", allowed values).
FAMILY_PARAMS: dict[str, dict[str, tuple[str, tuple]]] = {
    "intersection": {"kind": ("choice", ("4way", "T")), "maneuver": ("choice", ("turn_left", "turn_right", "straight")),
                     "distance_m": ("range", (7.0, 13.0)), "speed_mps": ("range", (5.0, 8.5))},
    "curve": {"direction": ("choice", ("left", "right")), "radius_m": ("range", (18.0, 120.0)),
              "start_m": ("range", (0.0, 15.0)), "speed_mps": ("range", (7.0, 12.0))},
    "lane_change": {"maneuver": ("choice", ("lane_change_left", "lane_change_right")), "speed_mps": ("range", (8.0, 14.0))},
    "stop": {"reason": ("choice", ("stop_line", "vehicle")), "speed_mps": ("range", (4.0, 8.0))},
    "speed_change": {"change": ("choice", ("speed_up", "slow_down"))},
}

FAMILIES: dict[str, Callable[[np.random.Generator, dict[str, Any]], World]] = {
    "intersection": intersection,
    "curve": curve,
    "lane_change": lane_change,
    "stop": stop,
    "speed_change": speed_change,
}
