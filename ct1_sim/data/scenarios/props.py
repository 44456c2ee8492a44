"""Roadside props: buildings, houses, trees, poles and vehicles (world frame, z up, metres)."""

from __future__ import annotations

import numpy as np

from ct1_sim.data.scenarios import polyline as pl
from ct1_sim.data.scenarios.mesh import (
    BARK,
    CONCRETE,
    FACADE,
    FOLIAGE,
    GLASS,
    LAMP,
    OFFICE,
    PAINT,
    ROOF,
    SHADOW,
    SHOPFRONT,
    MeshBuilder,
)
from ct1_sim.data.scenarios.roads import Road

FACADE_COLOURS = np.array([
    [0.62, 0.45, 0.35], [0.55, 0.55, 0.58], [0.75, 0.70, 0.60], [0.45, 0.35, 0.30], [0.80, 0.78, 0.72],
    [0.50, 0.42, 0.40], [0.65, 0.60, 0.52], [0.40, 0.45, 0.50], [0.70, 0.55, 0.45], [0.68, 0.36, 0.28],
    [0.85, 0.80, 0.65], [0.58, 0.62, 0.55],
])
OFFICE_COLOURS = np.array([[0.42, 0.52, 0.62], [0.55, 0.58, 0.60], [0.35, 0.42, 0.45], [0.62, 0.60, 0.55]])
HOUSE_COLOURS = np.array([
    [0.92, 0.90, 0.84], [0.80, 0.72, 0.58], [0.62, 0.70, 0.78], [0.85, 0.80, 0.62], [0.70, 0.50, 0.40],
    [0.76, 0.78, 0.72], [0.55, 0.60, 0.52],
])
ROOF_COLOURS = np.array([[0.45, 0.20, 0.15], [0.30, 0.30, 0.32], [0.38, 0.28, 0.22], [0.22, 0.25, 0.30]])
CAR_COLOURS = np.array([
    [0.75, 0.08, 0.08], [0.08, 0.15, 0.45], [0.85, 0.85, 0.85], [0.1, 0.1, 0.1], [0.45, 0.47, 0.5],
    [0.15, 0.35, 0.2], [0.8, 0.6, 0.1], [0.55, 0.55, 0.6], [0.93, 0.93, 0.92], [0.25, 0.27, 0.30],
])
GLASS_TINT = (0.10, 0.12, 0.15)
TYRE = (0.05, 0.05, 0.05)
TAIL_LIGHT, HEAD_LIGHT = (0.75, 0.05, 0.04), (0.95, 0.93, 0.82)


def _lights(m: MeshBuilder, L: float, W: float, z: float, h: float) -> None:
    """Tail lights on the rear face (x = -L/2) and headlights on the front face (x = +L/2)."""
    for sy in (-1, 1):
        y0, y1 = sy * (W / 2 - 0.08), sy * (W / 2 - 0.38)
        back = np.array([[-L / 2 - 0.01, y0, z], [-L / 2 - 0.01, y1, z], [-L / 2 - 0.01, y1, z + h], [-L / 2 - 0.01, y0, z + h]])
        front = back.copy()
        front[:, 0] = L / 2 + 0.01
        if sy > 0:
            back = back[::-1]
        else:
            front = front[::-1]
        m.quads(back[None], TAIL_LIGHT, LAMP)
        m.quads(front[None], HEAD_LIGHT, LAMP)


def vehicle_mesh(rng: np.random.Generator, kind: str | None = None) -> MeshBuilder:
    """A car, SUV, van or truck in its local frame (x forward, origin on the ground under its centre), with
    glass all round, wheels, lights and a dark contact shadow under it."""
    kind = kind or str(rng.choice(["car", "car", "car", "suv", "van", "truck"]))
    colour = CAR_COLOURS[rng.integers(len(CAR_COLOURS))] * rng.uniform(0.9, 1.05)
    m = MeshBuilder()
    wheel_r = 0.33
    if kind in ("car", "suv"):
        suv = kind == "suv"
        L, W = (rng.uniform(4.4, 4.9), rng.uniform(1.85, 1.95)) if suv else (rng.uniform(4.2, 4.8), rng.uniform(1.75, 1.88))
        body_h = 0.85 if suv else 0.7
        m.box((0, 0, 0.25), (L, W, body_h), 0, colour, PAINT)
        cabin_b = L * (0.62 if suv else 0.55)
        cabin_t = L * (0.52 if suv else 0.36)
        m.frustum((-0.15 if not suv else -0.25, 0, 0.25 + body_h), (cabin_b, W * 0.94), (cabin_t, W * 0.82),
                  0.62 if suv else 0.5, 0.0, GLASS_TINT, GLASS, colour, PAINT, top_shift=0.0 if suv else 0.12)
        _lights(m, L, W, 0.25 + body_h - 0.28, 0.16)
        wheel_r = 0.36 if suv else 0.32
    elif kind == "van":
        L, W = rng.uniform(4.9, 5.5), 2.0
        m.box((-0.35, 0, 0.3), (L - 0.7, W, 1.9), 0, colour, PAINT)
        m.frustum((L / 2 - 0.35, 0, 0.3), (0.7, W), (0.2, W * 0.95), 1.5, 0.0, GLASS_TINT, GLASS, colour, PAINT, top_shift=0.25)
        m.box((L / 2 - 0.35, 0, 0.3), (0.7, W, 0.6), 0, colour, PAINT)
        _lights(m, L, W, 0.65, 0.2)
    else:
        L, W = rng.uniform(7.0, 9.0), 2.45
        cargo = CAR_COLOURS[rng.integers(len(CAR_COLOURS))] if rng.random() < 0.3 else np.array([0.85, 0.85, 0.82])
        m.box((-0.9, 0, 0.55), (L - 2.3, W, 3.0), 0, cargo, PAINT)
        m.box((L / 2 - 1.0, 0, 0.55), (1.9, W, 1.2), 0, colour, PAINT)
        m.frustum((L / 2 - 1.05, 0, 1.75), (1.8, W), (1.5, W * 0.96), 1.0, 0.0, GLASS_TINT, GLASS, colour, PAINT, top_shift=0.12)
        _lights(m, L, W, 0.7, 0.2)
        wheel_r = 0.5
    for sx in (-0.32, 0.32) if kind != "truck" else (-0.3, 0.05, 0.36):
        for sy in (-1, 1):
            m.wheel((sx * L, sy * (W / 2 - 0.12), wheel_r), wheel_r, 0.24, 0.0, TYRE, BARK)
    m.ground_rect(-L / 2 - 0.15, -W / 2 - 0.15, L / 2 + 0.15, W / 2 + 0.15, 0.02, (0.035, 0.035, 0.04), SHADOW)
    return m


def place_vehicle(mesh: MeshBuilder, rng: np.random.Generator, x: float, y: float, yaw: float, kind: str | None = None) -> float:
    """Add a parked vehicle to a static mesh; returns its length (m)."""
    local = vehicle_mesh(rng, kind).array()
    mesh.add(local, x, y, yaw)
    return float(np.ptp(local[:, 0]))


def tree(mesh: MeshBuilder, rng: np.random.Generator, x: float, y: float, z: float = 0.0, kind: str | None = None) -> None:
    """A broadleaf tree (lumpy crown of one to three blobs) or a conifer (stacked cones)."""
    kind = kind or str(rng.choice(["broadleaf", "broadleaf", "broadleaf", "conifer"]))
    if kind == "conifer":
        h = rng.uniform(5.0, 11.0)
        r = h * rng.uniform(0.2, 0.28)
        mesh.cylinder((x, y, z), 0.16, h * 0.3, (0.30, 0.22, 0.16), BARK)
        green = np.array([0.10, 0.24, 0.12]) * rng.uniform(0.8, 1.2)
        for k in range(3):
            base = z + h * (0.2 + 0.25 * k)
            mesh.cone((x, y, base), r * (1.0 - 0.25 * k), h * 0.45, green * (1 + 0.08 * k), FOLIAGE)
        return
    h = rng.uniform(2.0, 4.0)
    mesh.cylinder((x, y, z), rng.uniform(0.14, 0.25), h + 0.8, (0.33, 0.25, 0.18), BARK)
    green = np.array([0.20, 0.36, 0.12]) * rng.uniform(0.7, 1.25) + rng.uniform(-0.03, 0.03, 3)
    r = rng.uniform(1.6, 3.0)
    blobs = int(rng.integers(1, 4))
    for k in range(blobs):
        off = np.zeros(3) if k == 0 else np.array([*rng.uniform(-0.6, 0.6, 2) * r, rng.uniform(-0.3, 0.5) * r])
        rr = r * (1.0 if k == 0 else rng.uniform(0.55, 0.8))
        c = np.array([x, y, z + h + r * 0.8]) + off
        mesh.icosphere(tuple(c), (rr, rr, rr * rng.uniform(0.8, 1.05)), green, FOLIAGE, rng=rng, jitter=0.18, colour_jitter=0.12,
                       subdivisions=1 if k == 0 else 0)  # the smaller side lumps: 20 faces are plenty


def pole(mesh: MeshBuilder, x: float, y: float, z: float, toward: tuple[float, float]) -> None:
    """A street-light pole with an arm reaching over the road (``toward`` is a unit xy direction)."""
    mesh.cylinder((x, y, z), 0.09, 7.5, (0.35, 0.36, 0.38), BARK)
    tx, ty = toward
    mesh.box((x + tx * 1.0, y + ty * 1.0, z + 7.3), (2.0, 0.15, 0.12), np.arctan2(ty, tx), (0.35, 0.36, 0.38), BARK)
    mesh.box((x + tx * 1.9, y + ty * 1.9, z + 7.2), (0.5, 0.25, 0.1), np.arctan2(ty, tx), (0.9, 0.9, 0.85), LAMP)


def stop_sign(mesh: MeshBuilder, x: float, y: float, z: float, facing: float) -> None:
    """A red octagonal stop sign on a pole; its face looks along ``facing`` (rad, world yaw)."""
    mesh.cylinder((x, y, z), 0.04, 2.1, (0.6, 0.6, 0.62), BARK)
    a = np.linspace(0, 2 * np.pi, 9)[:-1] + np.pi / 8
    f = np.array([np.cos(facing), np.sin(facing), 0.0])
    side = np.array([-np.sin(facing), np.cos(facing), 0.0])
    centre = np.array([x, y, z + 2.3]) + f * 0.05
    ring = centre + 0.38 * (np.cos(a)[:, None] * side + np.sin(a)[:, None] * np.array([0, 0, 1.0]))
    tris = np.array([[centre, ring[(k + 1) % 8], ring[k]] for k in range(8)])
    if np.dot(np.cross(tris[0, 1] - tris[0, 0], tris[0, 2] - tris[0, 0]), f) < 0:
        tris = tris[:, ::-1]
    mesh.triangles(tris, (0.72, 0.06, 0.06), PAINT)
    inner = centre + f * 0.005 + 0.30 * (np.cos(a)[:, None] * side + np.sin(a)[:, None] * np.array([0, 0, 1.0]))
    band = np.array([[inner[k], inner[(k + 1) % 8], ring[(k + 1) % 8] + f * 0.005, ring[k] + f * 0.005] for k in range(8)])
    mesh.quads(band if np.dot(np.cross(band[0, 1] - band[0, 0], band[0, 2] - band[0, 0]), f) > 0 else band[:, ::-1],
               (0.9, 0.9, 0.9), PAINT)


def traffic_light(mesh: MeshBuilder, x: float, y: float, z: float, facing: float, lit: str = "green") -> None:
    """A pole with a three-lamp head whose lamps look along ``facing`` (rad)."""
    mesh.cylinder((x, y, z), 0.07, 3.2, (0.25, 0.26, 0.27), BARK)
    f = np.array([np.cos(facing), np.sin(facing)])
    mesh.box((x, y, z + 3.2), (0.3, 0.35, 1.0), facing, (0.12, 0.12, 0.12), PAINT)
    for k, name in enumerate(("green", "amber", "red")):
        on = {"green": (0.2, 0.95, 0.35), "amber": (1.0, 0.7, 0.1), "red": (1.0, 0.12, 0.08)}[name]
        colour = on if name == lit else tuple(0.18 * np.array(on))
        cx, cy = np.array([x, y]) + f * 0.16
        mesh.box((cx, cy, z + 3.3 + 0.3 * k), (0.02, 0.2, 0.2), facing, colour, LAMP)


def _clear(roads: list[Road], points: np.ndarray, margin: float) -> bool:
    """True when no point lies within a road's half width + sidewalk + ``margin``."""
    for road in roads:
        reach = max(road.half_left, road.half_right) + road.sidewalk + margin
        if (pl.distance_to(road.coarse, points) < reach).any():
            return False
    return True


def urban_building(mesh: MeshBuilder, rng: np.random.Generator, centre: np.ndarray, front: float, depth: float,
                   height: float, yaw: float) -> None:
    """A city block building: shop fronts on the ground floor, windows (or a curtain wall) above, a cornice and
    roof clutter; tall ones sometimes step back."""
    office = rng.random() < 0.3
    if office:
        height = max(height, rng.uniform(14, 40))
        colour, material, storey = OFFICE_COLOURS[rng.integers(len(OFFICE_COLOURS))] * rng.uniform(0.9, 1.1), OFFICE, 3.6
    else:
        colour, material, storey = FACADE_COLOURS[rng.integers(len(FACADE_COLOURS))] * rng.uniform(0.85, 1.1), FACADE, 3.1
    x, y = float(centre[0]), float(centre[1])
    shop = colour * rng.uniform(0.5, 0.8) if rng.random() < 0.6 else CAR_COLOURS[rng.integers(len(CAR_COLOURS))] * 0.7
    mesh.box((x, y, 0.0), (front, depth, storey), yaw, shop, SHOPFRONT)
    upper = max(height, storey + 3.0)
    if upper > 18 and rng.random() < 0.35:  # a setback tower on a podium
        podium = storey * int(rng.integers(2, 4))
        mesh.box((x, y, storey), (front, depth, podium - storey), yaw, colour, material)
        c, s_ = np.cos(yaw), np.sin(yaw)
        back = np.array([x, y]) + rng.uniform(0.5, 2.0) * np.array([s_, -c]) * np.sign(rng.uniform(-1, 1))
        mesh.box((*back, podium), (front * 0.75, depth * 0.7, upper - podium), yaw, colour * 0.95, material)
        top = upper
    else:
        mesh.box((x, y, storey), (front, depth, upper - storey), yaw, colour, material)
        top = upper
        mesh.box((x, y, top), (front + 0.3, depth + 0.3, 0.45), yaw, colour * 0.75, CONCRETE)  # cornice / parapet
    for _ in range(int(rng.integers(0, 3))):  # roof clutter: plant rooms, vents
        off = rng.uniform(-0.3, 0.3, 2) * [front, depth]
        c, s_ = np.cos(yaw), np.sin(yaw)
        px, py = x + c * off[0] - s_ * off[1], y + s_ * off[0] + c * off[1]
        mesh.box((px, py, top), (rng.uniform(1.5, 4), rng.uniform(1.5, 3), rng.uniform(1, 2.5)), yaw, (0.55, 0.55, 0.53), CONCRETE)


def house(mesh: MeshBuilder, rng: np.random.Generator, centre: np.ndarray, front: float, depth: float, yaw: float) -> None:
    """A one- or two-storey house with a pitched roof (ridge parallel to the street) and overhanging eaves."""
    storeys = int(rng.integers(1, 3))
    wall_h = 3.0 * storeys
    colour = HOUSE_COLOURS[rng.integers(len(HOUSE_COLOURS))] * rng.uniform(0.9, 1.05)
    roof_colour = ROOF_COLOURS[rng.integers(len(ROOF_COLOURS))] * rng.uniform(0.85, 1.1)
    x, y = float(centre[0]), float(centre[1])
    mesh.box((x, y, 0.0), (front, depth, wall_h), yaw, colour, FACADE)
    rise = depth * rng.uniform(0.25, 0.4)
    c, s_ = np.cos(yaw), np.sin(yaw)
    R = np.array([[c, -s_, 0], [s_, c, 0], [0, 0, 1]])
    hl, hd = front / 2 + 0.3, depth / 2 + 0.4
    eave_z, ridge_z = wall_h - 0.15, wall_h + rise
    local = np.array([[-hl, -hd, eave_z], [hl, -hd, eave_z], [hl, 0, ridge_z], [-hl, 0, ridge_z],
                      [hl, hd, eave_z], [-hl, hd, eave_z]])
    p = local @ R.T + [x, y, 0]
    mesh.quads(np.array([[p[0], p[1], p[2], p[3]], [p[4], p[5], p[3], p[2]]]), roof_colour, ROOF)
    g = np.array([[-front / 2, -depth / 2, wall_h], [-front / 2, depth / 2, wall_h], [-front / 2, 0, ridge_z - 0.1]])
    for sx in (-1, 1):
        tri = g * [sx, 1, 1]
        tri = tri if sx < 0 else tri[::-1]
        mesh.triangles((tri @ R.T + [x, y, 0])[None], colour, FACADE)


def line_buildings(mesh: MeshBuilder, rng: np.random.Generator, road: Road, roads: list[Road], style: str) -> None:
    """Buildings (``urban``) or houses with trees (``suburban``) along both sides of ``road``."""
    for side in (1, -1):
        edge = (road.half_left if side > 0 else road.half_right) + road.sidewalk
        s = rng.uniform(0, 6)
        while s < road.s[-1] - 5:
            if style == "urban":
                front, depth, height = rng.uniform(8, 24), rng.uniform(8, 18), rng.uniform(6, 36)
                setback, gap = rng.uniform(0.5, 3.0), rng.uniform(0.0, 3.0)
            else:
                front, depth, height = rng.uniform(7, 12), rng.uniform(7, 11), rng.uniform(3.5, 7)
                setback, gap = rng.uniform(6, 12), rng.uniform(6, 16)
            mid = s + front / 2
            i = min(int(np.searchsorted(road.s, mid)), len(road.s) - 1)
            p, n = road.centerline[i], road.n[i]
            t = np.array([n[1], -n[0]])
            centre = p + n * side * (edge + setback + depth / 2)
            # sample the whole footprint (not only its corners: a long building could straddle a road)
            aa, bb = np.meshgrid(np.linspace(-1, 1, max(2, int(front / 2) + 1)), np.linspace(-1, 1, max(2, int(depth / 2) + 1)))
            grid = centre + aa.reshape(-1, 1) * t * front / 2 + bb.reshape(-1, 1) * n * depth / 2
            if _clear(roads, grid, 0.3):
                yaw = np.arctan2(t[1], t[0])
                if style == "urban":
                    urban_building(mesh, rng, centre, front, depth, height, yaw)
                else:
                    house(mesh, rng, centre, front, depth, yaw)
                    for _ in range(rng.integers(1, 3)):
                        off = rng.uniform(-front / 2, front / 2)
                        tp = p + t * (mid - road.s[i] + off) + n * side * (edge + rng.uniform(1.5, setback - 0.5))
                        if _clear(roads, tp[None], 0.5):
                            tree(mesh, rng, *tp)
            s += front + gap


def street_furniture(mesh: MeshBuilder, rng: np.random.Generator, road: Road, roads: list[Road], spacing: float) -> None:
    """Trees and light poles on the sidewalks every ~``spacing`` m."""
    if road.sidewalk <= 0:
        return
    for side in (1, -1):
        edge = (road.half_left if side > 0 else road.half_right) + 0.7
        s = rng.uniform(2, spacing)
        while s < road.s[-1] - 2:
            if not any(g0 - 2 < s < g1 + 2 for g0, g1 in road.gaps):
                i = min(int(np.searchsorted(road.s, s)), len(road.s) - 1)
                p = road.centerline[i] + road.n[i] * side * edge
                others = [r for r in roads if r is not road]
                if _clear(others, p[None], -road.sidewalk + 0.3):
                    if rng.random() < 0.6:
                        tree(mesh, rng, *p, z=0.15)
                    else:
                        pole(mesh, *p, 0.15, tuple(-road.n[i] * side))
            s += spacing * rng.uniform(0.7, 1.3)


def concrete_lot(mesh: MeshBuilder, x: float, y: float, w: float, h: float) -> None:
    mesh.ground_rect(x - w / 2, y - h / 2, x + w / 2, y + h / 2, 0.01, (0.55, 0.54, 0.5), CONCRETE)
