"""2D polyline helpers (world ground plane, metres)."""

from __future__ import annotations

import numpy as np


def arc_lengths(points: np.ndarray) -> np.ndarray:
    """Cumulative arc length ``(N,)`` of a polyline ``(N,2)``."""
    return np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(points, axis=0), axis=1))])


def resample(points: np.ndarray, step: float) -> np.ndarray:
    """Points every ``step`` m along the polyline (the last point kept)."""
    s = arc_lengths(points)
    q = np.append(np.arange(0.0, s[-1], step), s[-1])
    return np.stack([np.interp(q, s, points[:, 0]), np.interp(q, s, points[:, 1])], axis=1)


def normals(points: np.ndarray) -> np.ndarray:
    """Unit left normals ``(N,2)`` (tangent rotated +90 deg)."""
    t = np.gradient(points, axis=0)
    t /= np.maximum(np.linalg.norm(t, axis=1, keepdims=True), 1e-12)
    return np.stack([-t[:, 1], t[:, 0]], axis=1)


def offset(points: np.ndarray, distance: float) -> np.ndarray:
    """The polyline shifted ``distance`` m to its left (negative = right)."""
    return points + normals(points) * distance


def sub(points: np.ndarray, s0: float, s1: float, step: float = 1.0) -> np.ndarray:
    """The part of the polyline between arc lengths ``s0`` and ``s1``."""
    s = arc_lengths(points)
    q = np.append(np.arange(s0, s1, step), s1)
    return np.stack([np.interp(q, s, points[:, 0]), np.interp(q, s, points[:, 1])], axis=1)


def simplify_indices(points: np.ndarray, tol: float = 0.01) -> np.ndarray:
    """Douglas-Peucker: indices of the fewest vertices that keep the polyline within ``tol`` m."""
    points = np.asarray(points, dtype=float)
    if len(points) < 3:
        return np.arange(len(points))
    keep = np.zeros(len(points), bool)
    keep[[0, -1]] = True
    stack = [(0, len(points) - 1)]
    while stack:
        i, j = stack.pop()
        if j - i < 2:
            continue
        a, b = points[i], points[j]
        ab = b - a
        L = np.hypot(*ab)
        rel = points[i + 1 : j] - a
        d = np.abs(ab[0] * rel[:, 1] - ab[1] * rel[:, 0]) / L if L > 1e-12 else np.hypot(rel[:, 0], rel[:, 1])
        k = int(np.argmax(d))
        if d[k] > tol:
            keep[i + 1 + k] = True
            stack += [(i, i + 1 + k), (i + 1 + k, j)]
    return np.flatnonzero(keep)


def distance_to(points: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Distance ``(M,)`` from each query point ``(M,2)`` to the polyline ``(N,2)``."""
    a, b = points[:-1], points[1:]
    ab = b - a
    denom = np.maximum((ab**2).sum(1), 1e-12)
    q = query[:, None, :]
    t = np.clip(((q - a) * ab).sum(-1) / denom, 0.0, 1.0)
    closest = a + t[..., None] * ab
    return np.linalg.norm(q - closest, axis=-1).min(axis=1)


def straight(p0: tuple[float, float], heading: float, length: float, step: float = 1.0) -> np.ndarray:
    s = np.append(np.arange(0.0, length, step), length)
    return np.asarray(p0) + s[:, None] * np.array([np.cos(heading), np.sin(heading)])


def arc(centre: tuple[float, float], radius: float, a0: float, a1: float, step: float = 0.5) -> np.ndarray:
    """Points on a circle from angle ``a0`` to ``a1`` (rad, either direction)."""
    n = max(2, int(abs(a1 - a0) * radius / step) + 1)
    a = np.linspace(a0, a1, n)
    return np.asarray(centre) + radius * np.stack([np.cos(a), np.sin(a)], axis=1)


def join(*parts: np.ndarray) -> np.ndarray:
    """Concatenate polylines, dropping duplicated joints."""
    out = [parts[0]]
    for p in parts[1:]:
        out.append(p[1:] if np.allclose(out[-1][-1], p[0], atol=1e-6) else p)
    return np.concatenate(out)
