"""Camera frustums in 3D (matplotlib), drawn the way the CT-1 authors' trajectory visualizer draws cameras: a
pyramid per pose with its apex at the camera centre and its base one ``depth`` ahead, a wireframe plus lightly
filled faces, and the camera centres joined into a path.

Plot axes: poses are OpenCV (x right, y down, z forward, metres); they are drawn with X = x (right),
Y = z (forward), Z = -y (up), so a driving path lies flat and "up" is up.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ct1_sim.geometry import CameraTrajectory

#: OpenCV camera/world axes -> plot axes (X right, Y forward, Z up).
TO_PLOT = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


def frustum_corners(traj: CameraTrajectory, depth: float) -> np.ndarray:
    """``(T,5,3)`` world points per pose (OpenCV world axes, m): the four base corners at ``depth`` m along the
    optical axis (their spread from ``K`` and ``image_size``, so the pyramid has the camera's field of view), then
    the apex (the camera centre)."""
    w, h = traj.image_size
    fx, fy, cx, cy = traj.K[0, 0], traj.K[1, 1], traj.K[0, 2], traj.K[1, 2]
    corners_px = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=float)
    cam = np.stack([(corners_px[:, 0] - cx) / fx, (corners_px[:, 1] - cy) / fy, np.ones(4)], axis=1) * depth  # (4,3)
    cam = np.concatenate([cam, np.zeros((1, 3))])  # (5,3) + apex
    return np.einsum("tij,kj->tki", traj.rotations, cam) + traj.positions[:, None, :]


def to_plot(points: np.ndarray) -> np.ndarray:
    """OpenCV-axes points ``(...,3)`` -> plot axes (X right, Y forward, Z up)."""
    return np.asarray(points) @ TO_PLOT.T


def draw_frustums(
    ax: Any, traj: CameraTrajectory, colours: Sequence[Any] | Any, *, depth: float, face_alpha: float = 0.12,
    linestyle: str = "-", linewidth: float = 0.8, path_width: float = 1.8,
) -> None:
    """Draw one frustum per pose of ``traj`` and its centre path on a 3D axis ``ax``.

    ``colours``: one matplotlib colour for every pose, or a sequence of one per pose."""
    from mpl_toolkits.mplot3d.art3d import Line3DCollection, Poly3DCollection

    per_pose = list(colours) if isinstance(colours, (list, tuple)) and len(colours) == len(traj) and not isinstance(colours[0], float) else [colours] * len(traj)
    pts = to_plot(frustum_corners(traj, depth))  # (T,5,3)
    faces, edges, face_colours, edge_colours = [], [], [], []
    for t, p in enumerate(pts):
        base, apex = p[:4], p[4]
        faces += [[apex, base[i], base[(i + 1) % 4]] for i in range(4)] + [list(base)]
        edges += [[base[i], base[(i + 1) % 4]] for i in range(4)] + [[apex, base[i]] for i in range(4)]
        face_colours += [per_pose[t]] * 5
        edge_colours += [per_pose[t]] * 8
    ax.add_collection3d(Poly3DCollection(faces, facecolors=face_colours, alpha=face_alpha, edgecolors="none"))
    ax.add_collection3d(Line3DCollection(edges, colors=edge_colours, linewidths=linewidth, linestyles=linestyle))
    c = to_plot(traj.positions)
    ax.plot(c[:, 0], c[:, 1], c[:, 2], linestyle=linestyle, color=per_pose[-1], lw=path_width)
    ax.scatter(c[:, 0], c[:, 1], c[:, 2], color=per_pose, s=6, depthshade=False)
