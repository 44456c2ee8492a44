"""Road meshes: asphalt, lane markings (solid, dashed, stop lines), curbs and sidewalks, intersection patches."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ct1_sim.data.scenarios import polyline as pl
from ct1_sim.data.scenarios.mesh import ASPHALT, CONCRETE, GRASS, MARKING, MeshBuilder

WHITE = (0.92, 0.92, 0.90)
YELLOW = (0.90, 0.78, 0.25)
ASPHALT_COLOUR = (0.30, 0.30, 0.32)
CURB_HEIGHT = 0.15


@dataclass
class Road:
    """A road along ``centerline (N,2)``; lanes to the left/right of it (right = direction of travel, right-hand traffic)."""

    centerline: np.ndarray
    lanes_left: int = 1
    lanes_right: int = 1
    lane_width: float = 3.5
    parking: float = 0.0  # parking strip width on each side (m)
    sidewalk: float = 2.5  # 0 = grass verge
    centre_marking: str = "double_yellow"  # double_yellow | dashed_white | none
    gaps: list[tuple[float, float]] = field(default_factory=list)  # arc-length spans with no markings/sidewalk
    asphalt_gaps: list[tuple[float, float]] = field(default_factory=list)
    stop_lines: list[float] = field(default_factory=list)  # arc lengths of stop lines across the right lanes
    colour: tuple[float, float, float] = ASPHALT_COLOUR

    def __post_init__(self) -> None:
        self.centerline = pl.resample(np.asarray(self.centerline, dtype=float), 1.0)
        self.s = pl.arc_lengths(self.centerline)
        self.n = pl.normals(self.centerline)
        #: the centre line with straight runs collapsed (within 2 cm): for fast distance queries
        self.coarse = self.centerline[pl.simplify_indices(self.centerline, 0.02)]

    @property
    def half_left(self) -> float:
        return self.lanes_left * self.lane_width + self.parking

    @property
    def half_right(self) -> float:
        return self.lanes_right * self.lane_width + self.parking

    def lane_centre(self, lane: int) -> float:
        """Lateral offset (m, left positive) of right-side lane ``lane`` (0 = next to the centre line)."""
        return -(lane + 0.5) * self.lane_width

    def at(self, lateral: float) -> np.ndarray:
        return self.centerline + self.n * lateral


def _spans(total: float, gaps: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """``[0, total]`` minus the gap intervals."""
    out, start = [], 0.0
    for g0, g1 in sorted(gaps):
        if g0 > start:
            out.append((start, min(g0, total)))
        start = max(start, g1)
    if start < total:
        out.append((start, total))
    return [(a, b) for a, b in out if b - a > 0.5]


MAX_SEGMENT_M = 24.0  # fog is interpolated per vertex: keep triangles shorter than this


def _straight_runs_collapsed(points: np.ndarray, tol: float = 0.005) -> np.ndarray:
    """Indices of the vertices to keep: straight runs become segments of up to ``MAX_SEGMENT_M`` (fewer
    triangles, same shape; the polyline comes resampled at 1 m)."""
    every = np.arange(0, len(points), int(MAX_SEGMENT_M))
    return np.union1d(pl.simplify_indices(points, tol), every)


def _ribbon(mesh: MeshBuilder, road: Road, lo: float, hi: float, z: float, colour, material: int, gaps) -> None:
    for s0, s1 in _spans(road.s[-1], gaps):
        c = pl.sub(road.centerline, s0, s1)
        n = pl.normals(c)
        keep = _straight_runs_collapsed(c)
        mesh.strip((c + n * hi)[keep], (c + n * lo)[keep], z, colour, material)


def _line(mesh: MeshBuilder, road: Road, lateral: float, width: float, colour, dashed: bool, gaps) -> None:
    for s0, s1 in _spans(road.s[-1], gaps):
        if dashed:
            starts = np.arange(np.ceil(s0 / 9.0) * 9.0, s1 - 3.0, 9.0)
            pieces = [(a, a + 3.0) for a in starts]
        else:
            pieces = [(s0, s1)]
        for a, b in pieces:
            c = pl.sub(road.centerline, a, b, step=1.0)
            n = pl.normals(c)
            keep = _straight_runs_collapsed(c)
            c, n = c[keep], n[keep]
            mid = c + n * lateral
            mesh.strip(mid + n * width / 2, mid - n * width / 2, 0.012, colour, MARKING)


def _curb(mesh: MeshBuilder, road: Road, lateral: float, gaps) -> None:
    """Vertical curb face at ``lateral``, facing the road."""
    sign = -np.sign(lateral)
    for s0, s1 in _spans(road.s[-1], gaps):
        c = pl.sub(road.centerline, s0, s1)
        edge = (c + pl.normals(c) * lateral)[_straight_runs_collapsed(c)]
        bottom = np.hstack([edge, np.zeros((len(edge), 1))])
        top = bottom + [0, 0, CURB_HEIGHT]
        q = np.stack([bottom[:-1], bottom[1:], top[1:], top[:-1]], axis=1) if sign < 0 else np.stack([bottom[1:], bottom[:-1], top[:-1], top[1:]], axis=1)
        mesh.quads(q, (0.62, 0.62, 0.60), CONCRETE)


def build_road(mesh: MeshBuilder, road: Road) -> None:
    """Asphalt, markings, curbs and sidewalks (or grass verges) of one road."""
    L, R = road.half_left, road.half_right
    _ribbon(mesh, road, -R, L, 0.0, road.colour, ASPHALT, road.asphalt_gaps)
    if road.centre_marking == "double_yellow":
        for off in (-0.12, 0.12):
            _line(mesh, road, off, 0.1, YELLOW, False, road.gaps)
    elif road.centre_marking == "dashed_white":
        _line(mesh, road, 0.0, 0.12, WHITE, True, road.gaps)
    elif road.centre_marking == "median":
        _ribbon(mesh, road, -0.8, 0.8, 0.15, (0.3, 0.45, 0.22), GRASS, road.gaps)
        for lat in (-0.8, 0.8):
            _curb(mesh, road, lat, road.gaps)
    for side, lanes in ((1, road.lanes_left), (-1, road.lanes_right)):
        for k in range(1, lanes):
            _line(mesh, road, side * k * road.lane_width, 0.12, WHITE, True, road.gaps)
        edge = side * lanes * road.lane_width
        _line(mesh, road, edge - side * 0.15, 0.12, WHITE, False, road.gaps)
        outer = side * (lanes * road.lane_width + road.parking)
        if road.sidewalk > 0:
            lo, hi = sorted((outer, outer + side * road.sidewalk))
            _ribbon(mesh, road, lo, hi, CURB_HEIGHT, (0.62, 0.61, 0.58), CONCRETE, road.gaps)
            _curb(mesh, road, outer, road.gaps)
    for s_stop in road.stop_lines:
        c = pl.sub(road.centerline, s_stop - 0.25, s_stop + 0.25, step=0.5)
        n = pl.normals(c)
        mesh.strip(c + n * -0.3, c + n * -road.lanes_right * road.lane_width, 0.013, WHITE, MARKING)


def build_patch(mesh: MeshBuilder, centre: tuple[float, float], half: float, colour=ASPHALT_COLOUR) -> None:
    """A square asphalt patch (intersection box) slightly above the roads it joins."""
    x, y = centre
    mesh.ground_rect(x - half, y - half, x + half, y + half, 0.004, colour, ASPHALT)


def crosswalk(mesh: MeshBuilder, centre: tuple[float, float], heading: float, half_width: float, length: float = 3.0,
              stripe: float = 0.5) -> None:
    """Zebra stripes across a road: the stripes run along ``heading`` (the road's direction), ``length`` m long,
    spread over the road's full width ``2 * half_width`` around ``centre``."""
    f = np.array([np.cos(heading), np.sin(heading)])
    left = np.array([-f[1], f[0]])
    c = np.asarray(centre, dtype=float)
    offsets = np.arange(-half_width + 0.4, half_width - 0.4 + 1e-9, 2 * stripe)
    quads = []
    for o in offsets:
        a = c + left * o
        corners = [a - f * length / 2 - left * stripe / 2, a + f * length / 2 - left * stripe / 2,
                   a + f * length / 2 + left * stripe / 2, a - f * length / 2 + left * stripe / 2]
        quads.append([[p[0], p[1], 0.012] for p in corners])
    mesh.quads(np.array(quads), WHITE, MARKING)


def corner_sidewalk(mesh: MeshBuilder, centre: tuple[float, float], radius: float, a0: float, segments: int = 8) -> None:
    """A quarter-disc of raised sidewalk (centre at the block's corner, from angle ``a0`` to ``a0 + 90 deg``): it joins
    the sidewalks of two crossing roads with a rounded curb."""
    a = a0 + np.linspace(0.0, np.pi / 2, segments + 1)
    c = np.asarray(centre, dtype=float)
    rim = c + radius * np.stack([np.cos(a), np.sin(a)], axis=1)
    top = np.array([[[*c, CURB_HEIGHT], [*rim[k], CURB_HEIGHT], [*rim[k + 1], CURB_HEIGHT]] for k in range(segments)])
    mesh.triangles(top, (0.62, 0.61, 0.58), CONCRETE)
    face = np.array([[[*rim[k], 0.0], [*rim[k + 1], 0.0], [*rim[k + 1], CURB_HEIGHT], [*rim[k], CURB_HEIGHT]] for k in range(segments)])
    mesh.quads(face, (0.62, 0.62, 0.60), CONCRETE)
