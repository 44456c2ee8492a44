"""Bird's-eye plot of a town (roads, junction boxes, stop lines, parked vehicles), a route and the driven path
(world frame: x east, y north, metres)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ct1_sim.data.scenarios.town_map import DIRS, LANE_M, TownMap
from ct1_sim.data.scenarios.town_routes import Route
from ct1_sim.viz.figures import save_figure


def _box_corners(x: float, y: float, yaw: float, length: float, width: float, forward: float = 0.0) -> np.ndarray:
    """Corners ``(4,2)`` of a box ``length x width`` centred ``forward`` m ahead of ``(x, y)`` along ``yaw``."""
    c, s = np.cos(yaw), np.sin(yaw)
    local = np.array([[1, 1], [1, -1], [-1, -1], [-1, 1]]) * [length / 2, width / 2] + [forward, 0.0]
    return local @ np.array([[c, s], [-s, c]]) + [x, y]


def draw_town(ax: Any, town: TownMap, parked: np.ndarray | None = None) -> None:
    """Roads (asphalt grey, sidewalks light), junction boxes, centre lines, stop lines (red) and parked cars."""
    from matplotlib.patches import Polygon, Rectangle

    for e in town.edges:
        r = e.road
        if r.sidewalk > 0:
            outer = r.half_left + r.sidewalk
            ax.add_patch(Polygon(np.vstack([r.at(outer), r.at(-outer)[::-1]]), fc="#d9d6cf", ec="none", zorder=1))
        ax.add_patch(Polygon(np.vstack([r.at(r.half_left), r.at(-r.half_right)[::-1]]), fc="#77777c", ec="none", zorder=2))
        ax.plot(*r.centerline.T, color="#e8c547", lw=0.6, zorder=3)
        for k in range(1, e.cls.lanes):
            for side in (1, -1):
                ax.plot(*r.at(side * k * LANE_M).T, color="white", lw=0.4, ls=(0, (3, 4)), zorder=3)
    for j in town.junctions:
        ax.add_patch(Rectangle((j.x - j.hx, j.y - j.hy), 2 * j.hx, 2 * j.hy, fc="#77777c", ec="none", zorder=2))
        for arm, control in j.control.items():
            if control != "stop_sign":
                continue
            dx, dy = DIRS[arm]
            mid = j.arm_point(arm) + np.array([dx, dy]) * 0.5
            right = np.array([-dy, dx])  # right of the arriving traffic (travelling -d)
            lanes = town.edges[j.arms[arm]].cls.lanes
            seg = np.stack([mid + right * 0.3, mid + right * lanes * LANE_M])
            ax.plot(*seg.T, color="#d62728", lw=1.6, zorder=4)
    if parked is not None:
        for x, y, yaw, length, width in parked:
            ax.add_patch(Polygon(_box_corners(x, y, yaw, length, width), fc="#4a4a55", ec="none", zorder=4))


def plot_drive(
    path: str | Path,
    town: TownMap,
    *,
    parked: np.ndarray | None = None,
    route: Route | None = None,
    driven: np.ndarray | None = None,
    speeds: np.ndarray | None = None,
    maneuvers: list[dict] | None = None,
    collisions: np.ndarray | None = None,
    title: str = "",
    zoom_to_route: bool = False,
) -> Path:
    """Save a PNG: the town, the route (dashed blue), the driven rear-axle path ``driven (T,2)`` coloured by
    ``speeds (T,)`` (m/s), maneuver outcomes (green tick / red cross at their junctions) and collisions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    fig, ax = plt.subplots(figsize=(8, 8), dpi=110)
    ax.set_facecolor("#cfe0bd")
    draw_town(ax, town, parked)
    if route is not None:
        ax.plot(*route.path.T, color="#1f77b4", lw=1.2, ls="--", zorder=5, label="route")
        ax.plot(*route.path[0], "o", color="#1f77b4", ms=6, zorder=6)
        ax.plot(*route.path[-1], "s", color="#1f77b4", ms=6, zorder=6)
    if driven is not None and len(driven) > 1:
        seg = np.stack([driven[:-1], driven[1:]], axis=1)
        lc = LineCollection(seg, cmap="viridis", linewidths=2.2, zorder=7)
        lc.set_array(np.asarray(speeds[:-1] if speeds is not None else np.zeros(len(seg))))
        ax.add_collection(lc)
        fig.colorbar(lc, ax=ax, fraction=0.035, pad=0.02, label="speed (m/s)")
    for m in maneuvers or []:
        j = town.junctions[m["junction"]]
        ok = m.get("success")
        mark, colour = ("v", "#2ca02c") if ok else (("x", "#d62728") if ok is False else ("o", "#999999"))
        ax.plot(j.x, j.y, marker=mark, color=colour, ms=9, mew=2.5, zorder=8)
        ax.annotate(f"{m['index'] + 1}: {m['kind'].replace('_', ' ')}", (j.x, j.y), xytext=(6, 6), textcoords="offset points",
                    fontsize=7, zorder=9, bbox={"fc": "white", "ec": "none", "alpha": 0.7, "pad": 1})
    if collisions is not None and len(collisions):
        ax.plot(*np.asarray(collisions).T, "*", color="#d62728", ms=14, zorder=9, label="collision")
    x0, y0, x1, y1 = town.bounds
    if zoom_to_route and route is not None:
        pts = route.path if driven is None else np.vstack([route.path, driven])
        (x0, y0), (x1, y1) = pts.min(0), pts.max(0)
    ax.set_xlim(x0 - 25, x1 + 25)
    ax.set_ylim(y0 - 25, y1 + 25)
    ax.set_aspect("equal")
    ax.set_xlabel("x (m, east)")
    ax.set_ylabel("y (m, north)")
    if title:
        ax.set_title(title, fontsize=9)
    if route is not None or (collisions is not None and len(collisions)):
        ax.legend(loc="upper right", fontsize=7)
    return save_figure(fig, path)
