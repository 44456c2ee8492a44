"""Closed-loop driving simulation: a Gymnasium environment over the procedural town world, policies and
episode metrics (NAVSIM's PDM score).

Importing the package registers ``ct1sim/ProceduralDriving-v0`` and ``ct1sim/NeuralDriving-v0`` (the video model
renders the camera, the procedural twin keeps map, traffic and scores: :mod:`ct1_sim.sim.neural`) with Gymnasium
(``gym.make`` also imports them from ids such as ``"ct1_sim.sim:ct1sim/NeuralDriving-v0"``).

Example:
    >>> import gymnasium as gym
    >>> env = gym.make("ct1_sim.sim:ct1sim/ProceduralDriving-v0", action_type="ackermann")   # doctest: +SKIP
    >>> obs, info = env.reset(seed=0, options={"route": "turn left, then go straight"})
"""

from __future__ import annotations

import gymnasium

from ct1_sim.lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "DrivingEnv": "env",
    "ProceduralWorld": "procedural",
    "NeuralWorld": "neural",
    "make_neural_env": "env",
    "make_world_env": "env",
    "WORLDS": "env",
    "EpisodeMetrics": "metrics",
    "pdm_score": "metrics",
    "Policy": "policies",
    "ExpertPolicy": "policies",
    "ConstantVelocityPolicy": "policies",
    "make_policy": "policies",
    "KinematicBicycle": "vehicle",
    "VehicleLimits": "vehicle",
    "VehicleState": "vehicle",
    "run_episode": "episode",
})

PROCEDURAL_ENV_ID = "ct1sim/ProceduralDriving-v0"

NEURAL_ENV_ID = "ct1sim/NeuralDriving-v0"

if PROCEDURAL_ENV_ID not in gymnasium.registry:
    gymnasium.register(id=PROCEDURAL_ENV_ID, entry_point="ct1_sim.sim.env:DrivingEnv")
if NEURAL_ENV_ID not in gymnasium.registry:
    gymnasium.register(id=NEURAL_ENV_ID, entry_point="ct1_sim.sim.env:make_neural_env")
