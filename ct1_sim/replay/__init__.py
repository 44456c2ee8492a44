"""Replay recorded drives: at every keyframe, what would the world model do, and how far is it from what the
car did? Sources (nuScenes, ClipStore), per-keyframe scoring, resumable output, Ray scale-out, HTML report."""

from ct1_sim.replay.instruction_maneuver import maneuver_of_instruction
from ct1_sim.replay.runner import WorldSpec, run_replay
from ct1_sim.replay.scene import ReplaySettings, SceneResult, keyframe_seed, replay_scene
from ct1_sim.replay.scoring import METRICS, score_keyframe
from ct1_sim.replay.sources import ClipStoreSource, Keyframe, NuScenesSource, source_from_description
from ct1_sim.replay.storage import ReplayOutput
from ct1_sim.replay.table import read_table, write_table

__all__ = [
    "METRICS",
    "ClipStoreSource",
    "Keyframe",
    "NuScenesSource",
    "ReplayOutput",
    "ReplaySettings",
    "SceneResult",
    "WorldSpec",
    "keyframe_seed",
    "maneuver_of_instruction",
    "read_table",
    "replay_scene",
    "run_replay",
    "score_keyframe",
    "source_from_description",
    "write_table",
]
