"""Ground-plane tiles of a static triangle soup, for drawing only what a camera can see (town-scale worlds).

Triangles are grouped by the square tile (``tile_m`` m) their centroid falls in, each tile contiguous in the
vertex order and, inside it, in the renderer's draw-rank order. A tile is culled when all eight corners of its
bounding box lie outside one plane of the view frustum; the rest are drawn nearest first, so near geometry
fills the depth buffer before the far geometry it hides is shaded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ct1_sim.data.scenarios.mesh import DRAW_RANK, VERTEX_FLOATS


@dataclass(frozen=True)
class Tiles:
    """Per tile: the first triangle and the triangle count in the sorted soup, and the bounding box
    ``lo (T,3)``, ``hi (T,3)`` (world frame, m)."""

    first: np.ndarray
    count: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    @property
    def centres(self) -> np.ndarray:
        return (self.lo + self.hi) / 2


def tile_triangles(vertices: np.ndarray, tile_m: float) -> tuple[np.ndarray, Tiles]:
    """Sort a triangle soup ``(N,10)`` by tile, then by draw rank (stable); returns it and its :class:`Tiles`."""
    if tile_m <= 0:
        raise ValueError(f"tile_m must be positive, got {tile_m}")
    v = np.asarray(vertices, dtype=np.float32).reshape(-1, 3, VERTEX_FLOATS)
    if not len(v):
        empty = np.zeros((0, 3))
        return v.reshape(-1, VERTEX_FLOATS), Tiles(np.zeros(0, int), np.zeros(0, int), empty, empty)
    centroid = v[:, :, :2].mean(axis=1)
    cell = np.floor(centroid / tile_m).astype(np.int64)
    cell -= cell.min(axis=0)
    key = cell[:, 0] * (int(cell[:, 1].max()) + 1) + cell[:, 1]
    rank = DRAW_RANK[np.clip(np.rint(v[:, 0, 9]).astype(int), 0, len(DRAW_RANK) - 1)]
    order = np.lexsort((rank, key))
    v, key = v[order], key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    counts = np.diff(np.r_[starts, len(key)])
    tri_lo, tri_hi = v[:, :, :3].min(axis=1), v[:, :, :3].max(axis=1)
    lo = np.minimum.reduceat(tri_lo, starts, axis=0)
    hi = np.maximum.reduceat(tri_hi, starts, axis=0)
    return v.reshape(-1, VERTEX_FLOATS), Tiles(starts, counts, lo.astype(float), hi.astype(float))


def visible_tiles(tiles: Tiles, view_proj: np.ndarray, eye: np.ndarray) -> np.ndarray:
    """Indices of the tiles whose bounding box may be seen through ``view_proj`` (world -> clip), nearest to
    ``eye (3,)`` first."""
    if not len(tiles.first):
        return np.zeros(0, int)
    corners = np.stack([np.stack([np.where(k & 1, tiles.hi[:, 0], tiles.lo[:, 0]), np.where(k & 2, tiles.hi[:, 1], tiles.lo[:, 1]),
                                  np.where(k & 4, tiles.hi[:, 2], tiles.lo[:, 2]), np.ones(len(tiles.lo))], axis=1)
                        for k in range(8)], axis=1)  # (T,8,4)
    clip = np.einsum("tki,ji->tkj", corners, view_proj)  # no BLAS call in the render loop (see renderer)
    x, y, z, w = clip[..., 0], clip[..., 1], clip[..., 2], clip[..., 3]
    out = ((x < -w).all(1) | (x > w).all(1) | (y < -w).all(1) | (y > w).all(1) | (z < -w).all(1) | (z > w).all(1))
    keep = np.flatnonzero(~out)
    d = np.linalg.norm(tiles.centres[keep] - eye, axis=1)
    return keep[np.argsort(d, kind="stable")]
