"""Triangle soup builder: positions, normals, colours and a material id per vertex (world frame, z up, m)."""

from __future__ import annotations

import numpy as np

# material ids the fragment shader textures and lights (see shaders.SCENE_FS)
ASPHALT, MARKING, GRASS, CONCRETE, FACADE, PAINT, FOLIAGE, BARK, GLASS, MARKER, OFFICE, ROOF, LAMP, SHADOW, SHOPFRONT = range(15)
VERTEX_FLOATS = 10  # position 3, normal 3, colour 3, material 1
#: Draw order per material (low first): what usually occludes is drawn before what it hides, so the depth
#: test skips shading hidden fragments. Markings and contact shadows sit just above the asphalt: before it.
DRAW_RANK = np.array([
    3,  # ASPHALT
    0,  # MARKING
    5,  # GRASS
    2,  # CONCRETE
    1,  # FACADE
    0,  # PAINT
    1,  # FOLIAGE
    1,  # BARK
    0,  # GLASS
    0,  # MARKER
    1,  # OFFICE
    1,  # ROOF
    0,  # LAMP
    0,  # SHADOW
    1,  # SHOPFRONT
])


class MeshBuilder:
    """Accumulates triangles; :meth:`array` returns the interleaved ``(N, 10)`` float32 vertex array."""

    def __init__(self) -> None:
        self._chunks: list[np.ndarray] = []

    def __len__(self) -> int:
        return sum(len(c) for c in self._chunks) // 3

    def triangles(self, tri: np.ndarray, colour: np.ndarray | tuple[float, float, float], material: int) -> None:
        """Add triangles ``(N,3,3)`` (counter-clockwise seen from outside) with flat normals."""
        tri = np.asarray(tri, dtype=np.float64).reshape(-1, 3, 3)
        a, b = tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]
        n = np.stack([a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1], a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2],
                      a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]], axis=1)
        n /= np.maximum(np.sqrt((n * n).sum(axis=1, keepdims=True)), 1e-12)
        col = np.broadcast_to(np.asarray(colour, dtype=np.float64).reshape(-1, 3), (len(tri), 3))
        v = np.empty((len(tri), 3, VERTEX_FLOATS))
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

    def frustum(self, centre: tuple[float, float, float], bottom: tuple[float, float], top: tuple[float, float], height: float,
                yaw: float, side_colour, side_material: int, top_colour, top_material: int, top_shift: float = 0.0) -> None:
        """A box whose top face (``top`` = length, width) is smaller than its bottom face (a car's cabin, a roof
        block); ``top_shift`` moves the top backwards along the length (a sloped windscreen)."""
        c, s = np.cos(yaw), np.sin(yaw)
        R = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
        (bl, bw), (tl, tw) = bottom, top
        b = np.array([[-bl / 2, -bw / 2, 0], [bl / 2, -bw / 2, 0], [bl / 2, bw / 2, 0], [-bl / 2, bw / 2, 0]])
        t = np.array([[-tl / 2 - top_shift, -tw / 2, height], [tl / 2 - top_shift, -tw / 2, height],
                      [tl / 2 - top_shift, tw / 2, height], [-tl / 2 - top_shift, tw / 2, height]])
        b, t = b @ R.T + np.asarray(centre), t @ R.T + np.asarray(centre)
        sides = np.array([[b[i], b[(i + 1) % 4], t[(i + 1) % 4], t[i]] for i in range(4)])
        self.quads(sides, side_colour, side_material)
        self.quads(t[None], top_colour, top_material)

    def wheel(self, centre: tuple[float, float, float], radius: float, width: float, yaw: float, colour, material: int,
              sides: int = 8) -> None:
        """A wheel (cylinder with caps) whose axle is horizontal, across the heading ``yaw``."""
        a = np.linspace(0, 2 * np.pi, sides + 1)[:-1]
        fwd = np.array([np.cos(yaw), np.sin(yaw), 0.0])
        axle = np.array([-np.sin(yaw), np.cos(yaw), 0.0])
        ring = np.asarray(centre) + radius * (np.cos(a)[:, None] * fwd + np.sin(a)[:, None] * np.array([0, 0, 1.0]))
        o, i = ring + axle * width / 2, ring - axle * width / 2
        q = np.array([[o[k], o[(k + 1) % sides], i[(k + 1) % sides], i[k]] for k in range(sides)])
        self.quads(q, colour, material)
        for rim, sign in ((o, 1), (i, -1)):
            hub = np.asarray(centre) + axle * sign * width / 2
            tris = np.array([[hub, rim[k], rim[(k + 1) % sides]] if sign < 0 else [hub, rim[(k + 1) % sides], rim[k]]
                             for k in range(sides)])
            self.triangles(tris, colour, material)

    def icosphere(self, centre: tuple[float, float, float], radii: tuple[float, float, float], colour, material: int,
                  rng: np.random.Generator | None = None, jitter: float = 0.0, colour_jitter: float = 0.0,
                  subdivisions: int = 1) -> None:
        """An icosahedron (20 faces), subdivided once by default (80 faces), scaled by ``radii``; ``jitter``
        makes it lumpy (tree crowns)."""
        verts, faces = _icosphere(subdivisions)
        if rng is not None and jitter > 0:
            verts = verts * (1.0 + jitter * rng.uniform(-1, 1, size=(len(verts), 1)))
        p = verts * np.asarray(radii) + np.asarray(centre)
        tri = p[faces]
        col = np.broadcast_to(np.asarray(colour, dtype=float), (len(faces), 3))
        if rng is not None and colour_jitter > 0:
            col = col * (1.0 + colour_jitter * rng.uniform(-1, 1, size=(len(faces), 1)))
        self.triangles(tri, col, material)

    def cone(self, base: tuple[float, float, float], radius: float, height: float, colour, material: int, sides: int = 8) -> None:
        a = np.linspace(0, 2 * np.pi, sides + 1)[:-1]
        ring = np.stack([np.cos(a) * radius, np.sin(a) * radius, np.zeros(sides)], axis=1) + np.asarray(base)
        apex = np.asarray(base) + [0, 0, height]
        self.triangles(np.array([[ring[k], ring[(k + 1) % sides], apex] for k in range(sides)]), colour, material)
        self.triangles(np.array([[ring[(k + 1) % sides], ring[k], np.asarray(base)] for k in range(sides)]), colour, material)

    def add(self, local: np.ndarray, x: float, y: float, yaw: float, z: float = 0.0) -> None:
        """Add a vertex array ``(N,10)`` built in a local frame, rotated by ``yaw`` and moved to ``(x, y, z)``."""
        v = np.array(local, dtype=np.float64, copy=True)
        c, s = np.cos(yaw), np.sin(yaw)
        R = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
        v[:, 0:3] = v[:, 0:3] @ R.T + [x, y, z]
        v[:, 3:6] = v[:, 3:6] @ R.T
        self._chunks.append(v.astype(np.float32))

    def array(self) -> np.ndarray:
        if not self._chunks:
            return np.zeros((0, VERTEX_FLOATS), np.float32)
        return np.concatenate(self._chunks)


_ICO: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _icosphere(subdivisions: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Unit sphere with outward-facing triangles: the icosahedron (12 vertices, 20 faces), each subdivision
    splitting every face in four (1: 42 vertices, 80 faces)."""
    if subdivisions not in _ICO:
        t = (1 + 5**0.5) / 2
        v = [(-1, t, 0), (1, t, 0), (-1, -t, 0), (1, -t, 0), (0, -1, t), (0, 1, t), (0, -1, -t), (0, 1, -t),
             (t, 0, -1), (t, 0, 1), (-t, 0, -1), (-t, 0, 1)]
        faces = [(0, 11, 5), (0, 5, 1), (0, 1, 7), (0, 7, 10), (0, 10, 11), (1, 5, 9), (5, 11, 4), (11, 10, 2), (10, 7, 6),
                 (7, 1, 8), (3, 9, 4), (3, 4, 2), (3, 2, 6), (3, 6, 8), (3, 8, 9), (4, 9, 5), (2, 4, 11), (6, 2, 10),
                 (8, 6, 7), (9, 8, 1)]
        verts = [np.array(p, float) / np.linalg.norm(p) for p in v]
        for _ in range(subdivisions):
            mid: dict[tuple[int, int], int] = {}

            def midpoint(a: int, b: int, mid: dict = mid) -> int:
                key = (min(a, b), max(a, b))
                if key not in mid:
                    m = verts[a] + verts[b]
                    verts.append(m / np.linalg.norm(m))
                    mid[key] = len(verts) - 1
                return mid[key]

            split = []
            for a, b, c in faces:
                ab, bc, ca = midpoint(a, b), midpoint(b, c), midpoint(c, a)
                split += [(a, ab, ca), (b, bc, ab), (c, ca, bc), (ab, bc, ca)]
            faces = split
        _ICO[subdivisions] = (np.array(verts), np.array(faces))
    return _ICO[subdivisions]
