"""Triangle soup builder: positions, normals, colours and a material id per vertex (world frame, z up, m)."""

from __future__ import annotations

import numpy as np

# material ids the fragment shader textures procedurally
ASPHALT, MARKING, GRASS, CONCRETE, FACADE, PAINT, FOLIAGE, BARK, GLASS, MARKER = range(10)
VERTEX_FLOATS = 10  # position 3, normal 3, colour 3, material 1


class MeshBuilder:
    """Accumulates triangles; :meth:`array` returns the interleaved ``(N, 10)`` float32 vertex array."""

    def __init__(self) -> None:
        self._chunks: list[np.ndarray] = []

    def __len__(self) -> int:
        return sum(len(c) for c in self._chunks) // 3

    def triangles(self, tri: np.ndarray, colour: np.ndarray | tuple[float, float, float], material: int) -> None:
        """Add triangles ``(N,3,3)`` (counter-clockwise seen from outside) with flat normals."""
        tri = np.asarray(tri, dtype=np.float64).reshape(-1, 3, 3)
        n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        n /= np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-12)
        col = np.broadcast_to(np.asarray(colour, dtype=np.float64).reshape(-1, 3), (len(tri), 3))
        v = np.zeros((len(tri), 3, VERTEX_FLOATS))
        v[..., 0:3] = tri
        v[..., 3:6] = n[:, None]
        v[..., 6:9] = col[:, None]
        v[..., 9] = material
        self._chunks.append(v.reshape(-1, VERTEX_FLOATS).astype(np.float32))

    def quads(self, quads: np.ndarray, colour: np.ndarray | tuple[float, float, float], material: int) -> None:
        """Add quads ``(N,4,3)`` with corners in counter-clockwise order (two triangles each)."""
        q = np.asarray(quads, dtype=np.float64).reshape(-1, 4, 3)
        col = np.asarray(colour, dtype=np.float64).reshape(-1, 3)
        if len(col) > 1:
            col = np.repeat(col, 2, axis=0)
        tri = np.stack([q[:, [0, 1, 2]], q[:, [0, 2, 3]]], axis=1).reshape(-1, 3, 3)
        self.triangles(tri, col, material)

    def ground_rect(self, x0: float, y0: float, x1: float, y1: float, z: float, colour, material: int) -> None:
        """Axis-aligned horizontal rectangle facing up."""
        self.quads(np.array([[[x0, y0, z], [x1, y0, z], [x1, y1, z], [x0, y1, z]]]), colour, material)

    def strip(self, left: np.ndarray, right: np.ndarray, z: float, colour, material: int) -> None:
        """Horizontal ribbon between two polylines ``(N,2)`` (left/right seen along the direction of travel)."""
        left = np.asarray(left, dtype=np.float64)
        right = np.asarray(right, dtype=np.float64)
        zz = np.full((len(left), 1), z)
        L, R = np.hstack([left, zz]), np.hstack([right, zz])
        q = np.stack([R[:-1], R[1:], L[1:], L[:-1]], axis=1)
        self.quads(q, colour, material)

    def box(self, centre: tuple[float, float, float], size: tuple[float, float, float], yaw: float, colour, material: int,
            top_colour=None, skip_bottom: bool = True) -> None:
        """Box of ``size (length along yaw, width, height)`` with its bottom centre at ``centre``."""
        lx, wy, hz = size[0] / 2, size[1] / 2, size[2]
        c, s = np.cos(yaw), np.sin(yaw)
        R = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
        corners = np.array([[sx * lx, sy * wy, z] for z in (0, hz) for sy in (-1, 1) for sx in (-1, 1)])
        p = corners @ R.T + np.asarray(centre)
        # indices: bottom 0..3 (x-,y-),(x+,y-),(x-,y+),(x+,y+); top 4..7 likewise
        faces = [(0, 1, 5, 4), (1, 3, 7, 5), (3, 2, 6, 7), (2, 0, 4, 6)]
        self.quads(np.array([[p[i] for i in f] for f in faces]), colour, material)
        self.quads(np.array([[p[4], p[5], p[7], p[6]]]), top_colour if top_colour is not None else colour, material)
        if not skip_bottom:
            self.quads(np.array([[p[0], p[2], p[3], p[1]]]), colour, material)

    def cylinder(self, base: tuple[float, float, float], radius: float, height: float, colour, material: int, sides: int = 6) -> None:
        a = np.linspace(0, 2 * np.pi, sides + 1)
        ring = np.stack([np.cos(a) * radius, np.sin(a) * radius], axis=1) + np.asarray(base[:2])
        z0, z1 = base[2], base[2] + height
        q = np.array([[[*ring[i], z0], [*ring[i + 1], z0], [*ring[i + 1], z1], [*ring[i], z1]] for i in range(sides)])
        self.quads(q, colour, material)

    def blob(self, centre: tuple[float, float, float], radius: float, colour, material: int) -> None:
        """An octahedron-like crown (8 triangles), e.g. a tree's foliage."""
        c = np.asarray(centre, dtype=np.float64)
        top, bot = c + [0, 0, radius * 1.2], c - [0, 0, radius * 0.6]
        ring = [c + radius * np.array([np.cos(a), np.sin(a), 0]) for a in np.linspace(0, 2 * np.pi, 7)[:-1]]
        tris = []
        for i in range(6):
            a, b = ring[i], ring[(i + 1) % 6]
            tris += [[a, b, top], [b, a, bot]]
        self.triangles(np.array(tris), colour, material)

    def array(self) -> np.ndarray:
        if not self._chunks:
            return np.zeros((0, VERTEX_FLOATS), np.float32)
        return np.concatenate(self._chunks)
