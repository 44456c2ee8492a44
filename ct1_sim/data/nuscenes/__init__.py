"""nuScenes: read CAM_FRONT camera paths with nuscenes-devkit and curate them into clips."""

from ct1_sim.data.nuscenes.curation import curate_scene
from ct1_sim.data.nuscenes.pipeline import curate_nuscenes
from ct1_sim.data.nuscenes.reader import NuScenesReader, SceneCamera

__all__ = ["NuScenesReader", "SceneCamera", "curate_nuscenes", "curate_scene"]
