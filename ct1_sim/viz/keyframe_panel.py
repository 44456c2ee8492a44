"""One picture per replayed keyframe: the camera frame with every path drawn in perspective | a top view.

Fast (OpenCV only, no matplotlib) because replay draws one per keyframe. Samples use :data:`PALETTE` (one
colour each), the true path is white dashed in the image and black dashed in the top view.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from ct1_sim.geometry import CameraTrajectory
from ct1_sim.viz.overlay import PALETTE, draw_paths


def top_view(samples: Sequence[CameraTrajectory], truth: CameraTrajectory | None, size: tuple[int, int]) -> np.ndarray:
    """``(H,W,3)`` uint8 top view of paths relative to their first pose (x right, z forward up; one metre scale
    for all; grid every 5 m): samples in palette colours, the truth black dashed, the camera a triangle."""
    w, h = size
    panel = np.full((h, w, 3), 248, np.uint8)
    paths = [s.relative_to_first().positions[:, [0, 2]] for s in samples]  # (T,2) x right, z forward (m)
    truth_xz = truth.relative_to_first().positions[:, [0, 2]] if truth is not None else None
    every = np.concatenate(paths + ([truth_xz] if truth_xz is not None else []))
    span_z = max(float(every[:, 1].max()), 5.0)
    span_x = max(float(np.abs(every[:, 0]).max()) * 2, 5.0)
    scale = min((h - 24) / span_z, (w - 12) / span_x)  # px per metre
    origin = np.array([w / 2, h - 12.0])

    def px(p: np.ndarray) -> np.ndarray:  # (N,2) metres -> (N,2) int pixels
        return np.round(origin + np.stack([p[:, 0], -p[:, 1]], axis=1) * scale).astype(np.int32)

    for metres in range(0, int(span_z) + 6, 5):
        y = int(origin[1] - metres * scale)
        cv2.line(panel, (0, y), (w, y), (228, 228, 228), 1)
    for i, p in enumerate(paths):
        colour = tuple(int(c) for c in PALETTE[i % len(PALETTE)])
        cv2.polylines(panel, [px(p)], False, colour, 2, cv2.LINE_AA)
    if truth_xz is not None:
        pts = px(truth_xz)
        for i in range(0, len(pts) - 1, 2):  # dashed
            cv2.line(panel, tuple(int(v) for v in pts[i]), tuple(int(v) for v in pts[i + 1]), (0, 0, 0), 2, cv2.LINE_AA)
    tip = origin.astype(int)
    tri = np.array([[tip[0], tip[1] - 8], [tip[0] - 5, tip[1] + 4], [tip[0] + 5, tip[1] + 4]], np.int32)
    cv2.fillPoly(panel, [tri], (30, 30, 30), cv2.LINE_AA)
    cv2.putText(panel, "top view, 5 m grid", (5, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (80, 80, 80), 1, cv2.LINE_AA)
    return panel


def keyframe_panel(
    image: np.ndarray, samples: Sequence[CameraTrajectory], truth: CameraTrajectory, *, width: int = 480,
    camera_height_m: float = 1.5,
) -> np.ndarray:
    """``(H, width + H, 3)`` uint8: ``image`` resized to ``width`` with the paths' ground tracks (the true camera's
    ``K`` scaled to it) next to a square :func:`top_view`."""
    h0, w0 = image.shape[:2]
    h = max(2, round(h0 * width / w0))
    small = cv2.resize(np.ascontiguousarray(image), (width, h), interpolation=cv2.INTER_AREA)
    K = truth.with_image_size(width, h).K
    drawn = draw_paths(small, samples, ground_truth=truth, camera_height_m=camera_height_m, K=K)
    return np.concatenate([drawn, top_view(samples, truth, (h, h))], axis=1)
