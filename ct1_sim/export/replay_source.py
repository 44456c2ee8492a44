"""One scene of a ``ct1-sim replay`` run folder as a :class:`~ct1_sim.export.recording.Recording`.

The run keeps its predictions (``scenes/<scene>/keyframes.zarr``: the K paths of every keyframe, relative to its
camera) but not the camera frames: those, the true paths and the camera poses come from the run's source (the
nuScenes dataroot or clip store ``run.json`` names), which must still be where the run read it. Per keyframe: its
conditioning frame on the true-camera topic, the K samples and their medoid (``best``, as the ROS bridge
publishes), the true future, the instruction, all at the keyframe's time; the ego is the camera at each keyframe,
``map`` the first keyframe camera's body frame (REP 103). Generated videos (``replay --video``) are left out: each
keyframe's 3-s video overlaps the next ones in time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ct1_sim.export.mcap_file import TRUE_IMAGE_TOPIC, TRUE_PATH_TOPIC
from ct1_sim.export.recording import (
    ImageStream,
    PathSet,
    Recording,
    camera_path_in_map,
    pick_one,
    stamps_ns_of,
)
from ct1_sim.geometry import CameraTrajectory
from ct1_sim.metrics import medoid_index
from ct1_sim.replay import ReplayOutput, read_table, source_from_description
from ct1_sim.ros import contract as c

RUN = "run.json"


def is_replay_folder(path: Path) -> bool:
    """Whether ``path`` looks like a ``ct1-sim replay`` output folder."""
    return (path / RUN).is_file() and (path / "scenes").is_dir()


def _scenes(path: Path) -> dict[str, Path]:
    """Finished scenes of the run: name -> folder."""
    found = {}
    for summary in sorted((path / "scenes").glob("*/summary.json")):
        try:
            found[str(json.loads(summary.read_text())["scene"])] = summary.parent
        except (ValueError, KeyError, TypeError):
            raise ValueError(f"{summary} is damaged; replay that scene again (remove its folder first)") from None
    return found


def _run_source(path: Path) -> Any:
    try:
        return source_from_description(json.loads((path / RUN).read_text()).get("source"))
    except (ValueError, AttributeError) as err:
        raise ValueError(f"{path / RUN} does not name the run's source ({err}); the folder is damaged") from None


def load_replay(path: Path, item: str | None) -> Recording:
    """Scene ``item`` of the replay run in ``path`` (the only finished scene when ``item`` is None)."""
    scenes = _scenes(path)
    scene = pick_one(sorted(scenes), item, "scene", path)
    table = read_table(ReplayOutput(path).scene_dir(scene) / "keyframes.zarr", arrays=True)
    if not len(table.get("keyframe", [])):
        raise ValueError(f"scene {scene!r} of {path} has no keyframes to export")
    source = _run_source(path)
    try:
        by_index = {kf.index: kf for kf in source.load(scene).keyframes}
    except (FileNotFoundError, KeyError) as err:
        raise ValueError(f"the replay's source {source.describe()} cannot give scene {scene!r} any more ({err}); "
                         "export needs it where the replay read it") from None
    keyframes = []
    for i, (index, stamp_us) in enumerate(zip(table["keyframe"].tolist(), table["timestamp_us"].tolist(), strict=True)):
        kf = by_index.get(int(index))
        if kf is None or kf.timestamp_us != int(stamp_us) or len(kf.truth) != table["pred_c2w"].shape[2]:
            raise ValueError(f"keyframe {index} of scene {scene!r} is not in the replay's source as it was (changed "
                             "since the run?); replay the scene again")
        keyframes.append((i, kf))
    first = keyframes[0][1].truth
    ego = CameraTrajectory(c2w=np.stack([kf.truth.c2w[0] for _, kf in keyframes]), K=first.K, image_size=first.image_size,
                           timestamps_us=np.array([kf.timestamp_us for _, kf in keyframes], dtype=np.int64))
    stamps = stamps_ns_of(ego)
    frames = [kf.frames[0] for _, kf in keyframes]
    h, w = frames[0].shape[:2]
    image = ImageStream(TRUE_IMAGE_TOPIC, lambda: iter(frames), stamps, first.K, (w, h), name=f"{path} scene {scene}")
    paths, instructions = [], []
    for (row, kf), t in zip(keyframes, stamps.tolist(), strict=True):
        samples = [CameraTrajectory(c2w=c2w, K=kf.truth.K, image_size=kf.truth.image_size, timestamps_us=kf.truth.timestamps_us)
                   for c2w in table["pred_c2w"][row]]
        paths += [PathSet(c.BEST_TOPIC, t, [samples[medoid_index(samples)]]), PathSet(c.SAMPLES_TOPIC, t, samples),
                  PathSet(TRUE_PATH_TOPIC, t, [kf.truth])]
        instructions.append((t, str(table["instruction"][row])))
    return Recording(source=f"{path} scene {scene}", kind="replay run", images=[image], ego_stamps_ns=stamps,
                     map_from_base=camera_path_in_map(ego), instructions=instructions, paths=paths)
