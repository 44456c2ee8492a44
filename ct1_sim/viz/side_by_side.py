"""Side-by-side rollout video: input frame with the chosen path | generated video | bird's-eye view of the paths."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from ct1_sim.geometry import CameraTrajectory
from ct1_sim.viz.overlay import PALETTE, draw_paths


def birds_eye_panel(samples: Sequence[CameraTrajectory], chosen: int, step: int, size: tuple[int, int]) -> np.ndarray:
    """A ``(H,W,3)`` uint8 top view (forward up, right to the right, metres to pixels with one shared scale) of all
    sample paths (thin), the chosen one (thick) and the camera's position at pose ``step`` (a dot)."""
    w, h = size
    panel = np.full((h, w, 3), 245, np.uint8)
    paths = [s.relative_to_first().positions[:, [0, 2]] for s in samples]  # (T,2) x right, z forward, m
    allp = np.concatenate(paths)
    span = max(float(np.abs(allp[:, 0]).max()) * 2, float(allp[:, 1].max()), 5.0) * 1.15
    scale = min(w, h) / span  # px per metre
    origin = np.array([w / 2, h - 12.0])

    def px(p: np.ndarray) -> np.ndarray:
        return np.round(origin + np.stack([p[:, 0], -p[:, 1]], axis=1) * scale).astype(np.int32)

    for metres in range(0, int(span) + 1, 5):  # grid every 5 m
        y = int(origin[1] - metres * scale)
        cv2.line(panel, (0, y), (w, y), (225, 225, 225), 1)
    for i, p in enumerate(paths):
        if i != chosen:
            cv2.polylines(panel, [px(p)], False, (170, 170, 170), 1, cv2.LINE_AA)
    colour = PALETTE[chosen % len(PALETTE)]
    pts = px(paths[chosen])
    cv2.polylines(panel, [pts], False, tuple(int(c) for c in colour), 3, cv2.LINE_AA)
    cv2.circle(panel, tuple(int(v) for v in pts[min(step, len(pts) - 1)]), 6, (20, 20, 20), -1, cv2.LINE_AA)
    cv2.putText(panel, "bird's-eye (5 m grid)", (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (60, 60, 60), 1, cv2.LINE_AA)
    return panel


def side_by_side(image: np.ndarray, frames: np.ndarray, samples: Sequence[CameraTrajectory], chosen: int) -> np.ndarray:
    """Frames ``(T,H,3W',3)`` uint8: [input with the chosen path drawn | generated frame t | bird's-eye at t]."""
    t, h, w, _ = frames.shape
    left = cv2.resize(draw_paths(np.ascontiguousarray(image), [samples[chosen]]), (w, h), interpolation=cv2.INTER_AREA)
    cv2.putText(left, "input + path", (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
    out = np.empty((t, h, w * 2 + h, 3), np.uint8)
    n_poses = len(samples[chosen])
    for k in range(t):
        gen = frames[k].copy()
        cv2.putText(gen, f"generated t={k}", (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
        step = round(k * (n_poses - 1) / max(1, t - 1))
        out[k] = np.concatenate([left, gen, birds_eye_panel(samples, chosen, step, (h, h))], axis=1)
    return out
