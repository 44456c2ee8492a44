"""Roadside props: buildings, houses, trees, poles and vehicles (world frame, z up, metres)."""

from __future__ import annotations

import numpy as np

from ct1_sim.data.scenarios import polyline as pl
from ct1_sim.data.scenarios.mesh import BARK, CONCRETE, FACADE, FOLIAGE, GLASS, PAINT, MeshBuilder
from ct1_sim.data.scenarios.roads import Road

FACADE_COLOURS = np.array([
    [0.62, 0.45, 0.35], [0.55, 0.55, 0.58], [0.75, 0.70, 0.60], [0.45, 0.35, 0.30], [0.80, 0.78, 0.72],
    [0.50, 0.42, 0.40], [0.65, 0.60, 0.52], [0.40, 0.45, 0.50], [0.70, 0.55, 0.45],
])
CAR_COLOURS = np.array([
    [0.75, 0.08, 0.08], [0.08, 0.15, 0.45], [0.85, 0.85, 0.85], [0.1, 0.1, 0.1], [0.45, 0.47, 0.5],
    [0.15, 0.35, 0.2], [0.8, 0.6, 0.1], [0.55, 0.55, 0.6],
])


def vehicle_mesh(rng: np.random.Generator, kind: str | None = None) -> MeshBuilder:
    """A car, van or truck in its local frame (x forward, origin at the ground under its centre)."""
    kind = kind or rng.choice(["car", "car", "car", "van", "truck"])
    colour = CAR_COLOURS[rng.integers(len(CAR_COLOURS))]
    m = MeshBuilder()
    if kind == "car":
        L, W = rng.uniform(4.2, 4.9), rng.uniform(1.75, 1.9)
        m.box((0, 0, 0.3), (L, W, 0.75), 0, colour, PAINT)
        m.box((-0.2, 0, 1.05), (L * 0.55, W * 0.9, 0.5), 0, (0.12, 0.14, 0.18), GLASS, top_colour=colour)
    elif kind == "van":
        L, W = rng.uniform(4.8, 5.5), 2.0
        m.box((0, 0, 0.3), (L, W, 1.7), 0, colour, PAINT)
        m.box((L / 2 - 0.35, 0, 1.1), (0.75, W * 0.92, 0.7), 0, (0.12, 0.14, 0.18), GLASS)
    else:
        L, W = rng.uniform(7.0, 9.0), 2.45
        m.box((-0.9, 0, 0.5), (L - 2.2, W, 3.0), 0, (0.85, 0.85, 0.82), PAINT)
        m.box((L / 2 - 1.1, 0, 0.5), (2.0, W, 2.2), 0, colour, PAINT)
    for sx in (-0.32, 0.32):
        for sy in (-1, 1):
            m.cylinder((sx * L, sy * (W / 2 - 0.15), 0.0), 0.33, 0.32, (0.05, 0.05, 0.05), BARK)
    return m


def place_vehicle(mesh: MeshBuilder, rng: np.random.Generator, x: float, y: float, yaw: float) -> None:
    """Add a parked vehicle to a static mesh."""
    local = vehicle_mesh(rng).array()
    c, s = np.cos(yaw), np.sin(yaw)
    R = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    local[:, 0:3] = local[:, 0:3] @ R.T + [x, y, 0]
    local[:, 3:6] = local[:, 3:6] @ R.T
    mesh._chunks.append(local.astype(np.float32))  # noqa: SLF001 - same package


def tree(mesh: MeshBuilder, rng: np.random.Generator, x: float, y: float, z: float = 0.0) -> None:
    h = rng.uniform(2.0, 3.5)
    mesh.cylinder((x, y, z), 0.18, h, (0.35, 0.25, 0.18), BARK)
    green = np.array([0.18, 0.38, 0.14]) * rng.uniform(0.7, 1.3)
    r = rng.uniform(1.4, 2.6)
    mesh.blob((x, y, z + h + r * 0.4), r, green, FOLIAGE)


def pole(mesh: MeshBuilder, x: float, y: float, z: float, toward: tuple[float, float]) -> None:
    """A street-light pole with an arm reaching over the road (``toward`` is a unit xy direction)."""
    mesh.cylinder((x, y, z), 0.09, 7.5, (0.35, 0.36, 0.38), BARK)
    tx, ty = toward
    mesh.box((x + tx * 1.0, y + ty * 1.0, z + 7.3), (2.0, 0.15, 0.12), np.arctan2(ty, tx), (0.35, 0.36, 0.38), BARK)


def _clear(roads: list[Road], points: np.ndarray, margin: float) -> bool:
    """True when no point lies within a road's half width + sidewalk + ``margin``."""
    for road in roads:
        reach = max(road.half_left, road.half_right) + road.sidewalk + margin
        if (pl.distance_to(road.centerline, points) < reach).any():
            return False
    return True


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
            grid = np.array([centre + a * t * front / 2 + b * n * depth / 2
                             for a in np.linspace(-1, 1, max(2, int(front / 2) + 1)) for b in np.linspace(-1, 1, max(2, int(depth / 2) + 1))])
            if _clear(roads, grid, 0.3):
                yaw = np.arctan2(t[1], t[0])
                colour = FACADE_COLOURS[rng.integers(len(FACADE_COLOURS))] * rng.uniform(0.85, 1.1)
                if style == "urban":
                    mesh.box((*centre, 0.0), (front, depth, height), yaw, colour, FACADE)
                else:
                    mesh.box((*centre, 0.0), (front, depth, height), yaw, colour, FACADE, top_colour=(0.45, 0.2, 0.15))
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
