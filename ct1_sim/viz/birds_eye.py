"""Bird's-eye plot of camera paths in the first camera's ground plane (x right, z forward, metres)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ct1_sim.geometry import CameraTrajectory
from ct1_sim.viz.figures import save_figure
from ct1_sim.viz.overlay import PALETTE


def plot_birds_eye(
    path: str | Path,
    samples: Sequence[CameraTrajectory],
    *,
    ground_truth: CameraTrajectory | None = None,
    labels: Sequence[str] | None = None,
    title: str = "",
) -> Path:
    """Save a PNG: each path relative to its first pose, seen from above (forward up, right to the right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 5), dpi=110)
    for i, traj in enumerate(samples):
        p = traj.relative_to_first().positions
        label = labels[i] if labels is not None else f"sample {i}"
        ax.plot(p[:, 0], p[:, 2], "-o", ms=2.5, lw=1.6, color=np.array(PALETTE[i % len(PALETTE)]) / 255, label=label)
    if ground_truth is not None:
        p = ground_truth.relative_to_first().positions
        ax.plot(p[:, 0], p[:, 2], "--", lw=2.0, color="black", label="ground truth")
    ax.plot([0], [0], marker=(3, 0, 0), ms=12, color="k")
    ax.set_xlabel("x, right of the current camera (m)")
    ax.set_ylabel("z, forward (m)")
    ax.set_aspect("equal", adjustable="datalim")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    if title:
        ax.set_title(title, fontsize=9)
    return save_figure(fig, path)
