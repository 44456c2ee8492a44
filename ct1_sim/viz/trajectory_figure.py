"""The ``ct1-sim viz`` picture: 3D camera frustums | bird's-eye view | paths projected into the image.

Every path is shown relative to its own first pose (the current camera: OpenCV axes, metres), so absolute
ground-truth files line up with the model's relative predictions. One colour per sample (:data:`PALETTE`); the
ground truth is black and dashed. A single path without ground truth is coloured by time (``gist_rainbow``, as
the CT-1 authors' visualizer does). The MP4 animates the poses appearing over time.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ct1_sim.geometry import CameraTrajectory
from ct1_sim.viz.frustums import draw_frustums, frustum_corners, to_plot
from ct1_sim.viz.overlay import PALETTE, draw_paths

TRUTH_COLOUR = "black"


def _head(traj: CameraTrajectory, n: int) -> CameraTrajectory:
    """The first ``n`` poses (at least one)."""
    n = max(1, min(n, len(traj)))
    return traj.replace(c2w=traj.c2w[:n], timestamps_us=traj.timestamps_us[:n])


class TrajectoryFigure:
    """Draws the panels for a set of sample paths (and optionally ground truth and the conditioning image)."""

    def __init__(self, samples: Sequence[CameraTrajectory], truth: CameraTrajectory | None = None, image: np.ndarray | None = None,
                 labels: Sequence[str] | None = None, title: str = "") -> None:
        if not samples:
            raise ValueError("no trajectories to draw; give at least one trajectory file")
        if image is not None and (image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8):
            raise ValueError(f"image must be RGB uint8 (H,W,3), got {image.shape} {image.dtype}")
        self.samples = [s.relative_to_first() for s in samples]
        self.truth = truth.relative_to_first() if truth is not None else None
        self.image, self.title = image, title
        self.labels = list(labels) if labels is not None else [f"sample {i}" for i in range(len(samples))]
        every = self.samples + ([self.truth] if self.truth is not None else [])
        allp = np.concatenate([to_plot(t.positions) for t in every])
        extent = float(np.ptp(allp, axis=0).max()) if len(allp) > 1 else 1.0
        self.depth = max(0.05 * extent, 0.2)  # frustum size (m)
        corners = np.concatenate([to_plot(frustum_corners(t, self.depth)).reshape(-1, 3) for t in every] + [allp])
        lo, hi = corners.min(0), corners.max(0)
        pad = 0.05 * max(float((hi - lo).max()), 1.0)
        self.lo, self.hi = lo - pad, hi + pad
        self.max_poses = max(len(t) for t in every)
        self.by_time = len(self.samples) == 1 and self.truth is None

    def colour(self, i: int) -> Any:
        return np.array(PALETTE[i % len(PALETTE)]) / 255.0

    # ------------------------------------------------------------------ panels
    def draw_3d(self, ax: Any, upto: int) -> None:
        import matplotlib.pyplot as plt

        for i, s in enumerate(self.samples):
            head = _head(s, upto)
            if self.by_time:
                cmap = plt.get_cmap("gist_rainbow")
                colours = [tuple(np.array(cmap(t / max(len(s) - 1, 1))[:3]) * 0.8) for t in range(len(head))]
                draw_frustums(ax, head, colours, depth=self.depth)
            else:
                draw_frustums(ax, head, self.colour(i), depth=self.depth)
        if self.truth is not None:
            draw_frustums(ax, _head(self.truth, upto), TRUTH_COLOUR, depth=self.depth, face_alpha=0.0, linestyle="--",
                          linewidth=0.6, path_width=1.5)
        ax.set_xlim(self.lo[0], self.hi[0])
        ax.set_ylim(self.lo[1], self.hi[1])
        ax.set_zlim(self.lo[2], self.hi[2])
        from matplotlib.ticker import MaxNLocator

        span = self.hi - self.lo
        ax.set_box_aspect((span[0], span[1], max(span[2], 0.3 * span.max())), zoom=1.25)
        ax.zaxis.set_major_locator(MaxNLocator(3))
        ax.set_xlabel("x right (m)", fontsize=8, labelpad=-2)
        ax.set_ylabel("z forward (m)", fontsize=8, labelpad=-2)
        ax.set_zlabel("up (m)", fontsize=8, labelpad=-4)
        ax.tick_params(labelsize=6, pad=-2)
        ax.view_init(elev=28, azim=-62)
        ax.set_title("camera frustums (3D)", fontsize=9)

    def draw_birds_eye(self, ax: Any, upto: int) -> None:
        for i, s in enumerate(self.samples):
            p = _head(s, upto).positions
            if self.by_time:
                ax.plot(p[:, 0], p[:, 2], "-", lw=1.2, color="0.55", label=self.labels[i])
                ax.scatter(p[:, 0], p[:, 2], c=np.arange(len(p)) / max(len(s) - 1, 1), cmap="gist_rainbow", vmin=0, vmax=1, s=14, zorder=3)
            else:
                ax.plot(p[:, 0], p[:, 2], "-o", ms=2.5, lw=1.6, color=self.colour(i), label=self.labels[i])
        if self.truth is not None:
            p = _head(self.truth, upto).positions
            ax.plot(p[:, 0], p[:, 2], "--", lw=2.0, color=TRUTH_COLOUR, label="ground truth")
        ax.plot([0], [0], marker=(3, 0, 0), ms=10, color="k")
        ax.update_datalim([self.lo[:2], self.hi[:2]])  # fixed extent over an animation
        ax.autoscale_view()
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xlabel("x, right of the current camera (m)", fontsize=8)
        ax.set_ylabel("z, forward (m)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        if len(self.labels) + (self.truth is not None) <= 10:
            ax.legend(fontsize=6, loc="best")
        ax.set_title("bird's-eye view", fontsize=9)

    def draw_image(self, ax: Any, upto: int) -> None:
        assert self.image is not None
        h, w = self.image.shape[:2]
        K = self.samples[0].with_image_size(w, h).K
        truth = _head(self.truth, upto) if self.truth is not None else None
        ax.imshow(draw_paths(self.image, [_head(s, upto) for s in self.samples], ground_truth=truth, K=K))
        ax.set_axis_off()
        ax.set_title("paths projected into the image (ground 1.5 m below)", fontsize=9)

    # ------------------------------------------------------------------ output
    def render(self, upto: int | None = None, dpi: int = 100) -> np.ndarray:
        """The figure with the first ``upto`` poses of every path (all by default) as an RGB uint8 array."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        upto = self.max_poses if upto is None else upto
        panels = 3 if self.image is not None else 2
        ratios = [1.4, 1.0, 1.4][:panels]
        fig = plt.figure(figsize=(4.6 * sum(ratios), 4.8), dpi=dpi)
        grid = fig.add_gridspec(1, panels, width_ratios=ratios)
        self.draw_3d(fig.add_subplot(grid[0], projection="3d"), upto)
        self.draw_birds_eye(fig.add_subplot(grid[1]), upto)
        if self.image is not None:
            self.draw_image(fig.add_subplot(grid[2]), upto)
        if self.title:
            fig.suptitle(self.title, fontsize=10)
        fig.tight_layout()
        fig.canvas.draw()
        pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
        plt.close(fig)
        return pixels

    def save(self, path: str | Path, fps: float | None = None) -> Path:
        """Write a PNG (all poses) or an MP4 (poses appearing one by one at ``fps``, default the pose rate)."""
        from PIL import Image

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        suffix = path.suffix.lower()
        if suffix == ".png":
            Image.fromarray(self.render()).save(path)
            return path
        if suffix != ".mp4":
            raise ValueError(f"--out must end in .png or .mp4, got {path.name}")
        from tqdm import tqdm

        from ct1_sim.media import write_mp4

        times = self.samples[0].times_s
        rate = fps or ((len(times) - 1) / times[-1] if len(times) > 1 and times[-1] > 0 else 5.0)
        frames = [self.render(k) for k in tqdm(range(1, self.max_poses + 1), desc="rendering frames", unit="frame")]
        frames += [frames[-1]] * max(1, round(rate))  # hold the full picture for about a second
        return write_mp4(np.stack(frames), path, fps=rate)
