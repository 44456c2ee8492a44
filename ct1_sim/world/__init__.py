"""The world-model façade: image + instruction -> trajectories (+ video, once the video model ships)."""

from ct1_sim.world.world_model import Prediction, WorldModel

__all__ = ["Prediction", "WorldModel"]
