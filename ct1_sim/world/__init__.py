"""The world-model façade: image + instruction -> trajectories, and the future video that follows one of them."""

from ct1_sim.world.world_model import Prediction, Rollout, WorldModel

__all__ = ["Prediction", "Rollout", "WorldModel"]
