"""Read CAM_FRONT camera paths and frames from any nuScenes dataroot with nuscenes-devkit 1.2.0.

Camera-to-global for a CAM_FRONT sample_data = ``global_from_ego(ego_pose of that sample_data) @
ego_from_camera(calibrated_sensor)``; nuScenes cameras already use the OpenCV axes (x right, y down,
z forward). A scene's frames are the whole ``next`` chain from its first keyframe (keyframes at 2 Hz and
sweeps, ~12 Hz), in time order.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ct1_sim.geometry import CameraTrajectory, quat_to_matrix

log = logging.getLogger(__name__)

CHANNEL = "CAM_FRONT"
TABLES = ("category", "attribute", "visibility", "instance", "sensor", "calibrated_sensor", "ego_pose", "log", "scene",
          "sample", "sample_data", "sample_annotation", "map")


def rigid(translation: list[float], rotation_wxyz: list[float]) -> np.ndarray:
    T = np.eye(4)
    T[:3, :3] = quat_to_matrix(np.asarray(rotation_wxyz, dtype=float), order="wxyz")
    T[:3, 3] = translation
    return T


@dataclass
class SceneCamera:
    """One scene's CAM_FRONT frames: absolute camera path, image files, keyframe flags and ego speeds."""

    name: str
    description: str
    trajectory: CameraTrajectory
    filenames: list[Path]
    is_key_frame: np.ndarray  # (T,) bool
    ego_xyz: np.ndarray  # (T,3) ego positions in the global frame (m)
    duplicates: int = 0  # frames dropped because they repeated a timestamp


class NuScenesReader:
    """A nuScenes dataroot opened through the devkit, with errors that say what is wrong."""

    def __init__(self, dataroot: str | Path, version: str) -> None:
        self.dataroot = Path(dataroot)
        if not self.dataroot.is_dir():
            raise FileNotFoundError(f"nuScenes dataroot {self.dataroot} does not exist; pass --dataroot DIR")
        table_dir = self.dataroot / version
        if not table_dir.is_dir():
            found = sorted(p.name for p in self.dataroot.iterdir() if p.is_dir() and (p / "scene.json").is_file())
            raise FileNotFoundError(f"no version {version!r} under {self.dataroot}; versions found there: {found or 'none'}")
        missing = [t for t in TABLES if not (table_dir / f"{t}.json").is_file()]
        if missing:
            raise FileNotFoundError(f"{table_dir} is missing tables {missing}; a nuScenes version needs all of {list(TABLES)}")
        for t in TABLES:
            try:
                json.loads((table_dir / f"{t}.json").read_text())
            except json.JSONDecodeError as err:
                raise ValueError(f"{table_dir / f'{t}.json'} is not valid JSON ({err.msg} at line {err.lineno})") from None
        from nuscenes.nuscenes import NuScenes

        with contextlib.redirect_stdout(io.StringIO()):  # the devkit prints
            self.nusc = NuScenes(version=version, dataroot=str(self.dataroot), verbose=False)
        self.version = version

    @property
    def scene_names(self) -> list[str]:
        return [s["name"] for s in self.nusc.scene]

    def scene(self, name: str) -> dict:
        for record in self.nusc.scene:
            if record["name"] == name:
                return record
        raise KeyError(f"no scene {name!r} in {self.version}; scenes: {self.scene_names[:10]}{'...' if len(self.scene_names) > 10 else ''}")

    def camera(self, name: str, check_files: bool = True) -> SceneCamera:
        """The CAM_FRONT chain of scene ``name`` (keyframes and sweeps)."""
        nusc = self.nusc
        scene = self.scene(name)
        first = nusc.get("sample", scene["first_sample_token"])
        if CHANNEL not in first["data"]:
            raise ValueError(f"scene {name!r} has no {CHANNEL} data (channels: {sorted(first['data'])})")
        token = first["data"][CHANNEL]
        c2w, stamps, files, keys, ego = [], [], [], [], []
        K = None
        while token:
            sd = nusc.get("sample_data", token)
            pose = nusc.get("ego_pose", sd["ego_pose_token"])
            cal = nusc.get("calibrated_sensor", sd["calibrated_sensor_token"])
            global_from_ego = rigid(pose["translation"], pose["rotation"])
            c2w.append(global_from_ego @ rigid(cal["translation"], cal["rotation"]))
            stamps.append(int(sd["timestamp"]))
            files.append(self.dataroot / sd["filename"])
            keys.append(bool(sd["is_key_frame"]))
            ego.append(pose["translation"])
            K = np.asarray(cal["camera_intrinsic"], dtype=float) if K is None else K
            size = (int(sd["width"]), int(sd["height"]))
            token = sd["next"]
        if check_files:
            missing = [str(f.relative_to(self.dataroot)) for f in files if not f.is_file()]
            if missing:
                raise FileNotFoundError(f"scene {name!r}: {len(missing)} of {len(files)} {CHANNEL} images are missing, e.g. {missing[:3]}")
        order = np.argsort(stamps, kind="stable")
        ts = np.asarray(stamps)[order]
        keep = np.concatenate([[True], np.diff(ts) > 0])  # a repeated timestamp is a duplicate frame
        order = order[keep]
        traj = CameraTrajectory(c2w=np.stack(c2w)[order], K=K, image_size=size, timestamps_us=np.asarray(stamps)[order])
        return SceneCamera(name, scene.get("description", ""), traj, [files[i] for i in order], np.asarray(keys)[order],
                           np.asarray(ego, dtype=float)[order], duplicates=int((~keep).sum()))
