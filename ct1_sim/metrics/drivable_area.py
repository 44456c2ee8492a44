"""Is a path on the road? Point-in-asphalt tests against a scenario's drivable area.

A scenario clip's meta carries its asphalt exactly (``meta["drivable"]``, world frame, metres): ``road`` records (a
centre line with half widths to its left and right) and ``square`` records (intersection patches). A path *leaves
the drivable area* when any of its camera centres (on the car's centre line, 1.5 m ahead of the rear axle) is
outside all of them; the car's half width is not added, so this counts clear departures, not kerb scrapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def _inside_road(xy: np.ndarray, centerline: np.ndarray, left: float, right: float) -> np.ndarray:
    a, b = centerline[:-1], centerline[1:]  # (S,2) segments
    ab = b - a
    length2 = np.maximum((ab**2).sum(1), 1e-12)
    rel = xy[:, None, :] - a[None]  # (N,S,2)
    u = (rel * ab[None]).sum(-1) / length2[None]  # projection parameter along each segment
    u_clamped = np.clip(u, 0.0, 1.0)
    closest = a[None] + u_clamped[..., None] * ab[None]
    dist = np.linalg.norm(xy[:, None, :] - closest, axis=-1)
    nearest = dist.argmin(1)
    rows = np.arange(len(xy))
    seg_u = u[rows, nearest]
    first, last = nearest == 0, nearest == len(a) - 1
    within_ends = ~((first & (seg_u < 0)) | (last & (seg_u > 1)))  # not past either end of the road
    tangent = ab[nearest] / np.sqrt(length2[nearest])[:, None]
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], 1)  # left of the direction of the centre line
    lateral = (rel[rows, nearest] * normal).sum(1)
    return within_ends & (lateral <= left + 1e-6) & (lateral >= -right - 1e-6)


def inside_drivable(xy: np.ndarray, drivable: Sequence[dict[str, Any]]) -> np.ndarray:
    """``(N,)`` bool: which ground points ``xy (N,2)`` (world frame, m) lie on the asphalt of ``drivable`` records."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    inside = np.zeros(len(xy), dtype=bool)
    if not drivable:
        raise ValueError("no drivable area given: scenario clips carry it in meta['drivable'] (render them again if absent)")
    for record in drivable:
        if record["kind"] == "square":
            cx, cy = record["centre"]
            inside |= (np.abs(xy[:, 0] - cx) <= record["half"]) & (np.abs(xy[:, 1] - cy) <= record["half"])
        elif record["kind"] == "road":
            inside |= _inside_road(xy, np.asarray(record["centerline"], dtype=float), float(record["left"]), float(record["right"]))
        else:
            raise ValueError(f"unknown drivable record kind {record['kind']!r} (use 'road' or 'square')")
    return inside


def leaves_drivable_area(c2w_world: np.ndarray, drivable: Sequence[dict[str, Any]]) -> bool:
    """True when any camera centre of the world-frame path ``c2w_world (T,4,4)`` is off the asphalt."""
    return not bool(inside_drivable(np.asarray(c2w_world)[:, :2, 3], drivable).all())


def offroad_share(paths_world: Sequence[np.ndarray], drivable: Sequence[dict[str, Any]]) -> float:
    """Share (0..1) of world-frame paths ``(T,4,4)`` that leave the drivable area."""
    if not len(paths_world):
        raise ValueError("offroad_share needs at least one path")
    return float(np.mean([leaves_drivable_area(p, drivable) for p in paths_world]))
