"""Pictures of trajectories: paths drawn into camera images and bird's-eye plots."""

from ct1_sim.viz.birds_eye import plot_birds_eye
from ct1_sim.viz.overlay import PALETTE, draw_paths

__all__ = ["PALETTE", "draw_paths", "plot_birds_eye"]
