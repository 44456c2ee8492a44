"""Write scenario clips as a nuScenes-format dataroot (v1.0 tables) that nuscenes-devkit 1.2.0 loads.

Each clip becomes one scene: CAM_FRONT frames at 12 Hz (JPEG), keyframes (samples) at 2 Hz, an ego pose per
frame (rear axle on the ground, x forward / y left / z up; quaternions ``[w,x,y,z]``) and one CAM_FRONT
calibrated_sensor (1.5 m ahead of the rear axle, 1.5 m up, the OpenCV camera axes rotated into the ego frame,
exact intrinsics). Then ``global_from_ego @ ego_from_camera`` reproduces the clip's camera poses.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from ct1_sim.data.scenarios.generate import build_scene, shadow_centre
from ct1_sim.data.scenarios.parallel import plan_tasks
from ct1_sim.data.scenarios.renderer import SceneRenderer
from ct1_sim.data.scenarios.spec import ScenarioSpec
from ct1_sim.geometry import matrix_to_quat

log = logging.getLogger(__name__)

VERSION = "v1.0-ct1sim"
CAMERA_RATE_HZ = 12.0
KEYFRAME_EVERY = 6  # 12 Hz / 6 = 2 Hz samples
BASE_TIMESTAMP_US = 1_700_000_000_000_000


def _token(*parts: object) -> str:
    return hashlib.md5("|".join(map(str, parts)).encode()).hexdigest()


#: ego_from_camera rotation: camera x (right) -> ego -y, camera y (down) -> ego -z, camera z (forward) -> ego +x
EGO_FROM_CAMERA_R = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])


def ego_from_camera(camera_height_m: float, pitch_deg: float, forward_m: float = 1.5) -> np.ndarray:
    """4x4 CAM_FRONT extrinsics in the ego frame (pitch: camera tilted down by ``pitch_deg``)."""
    p = np.radians(pitch_deg)
    pitch = np.array([[1, 0, 0], [0, np.cos(p), np.sin(p)], [0, -np.sin(p), np.cos(p)]])  # about camera x
    T = np.eye(4)
    T[:3, :3] = EGO_FROM_CAMERA_R @ pitch  # pitch = rotation (about camera x) from the tilted to the level camera
    T[:3, 3] = [forward_m, 0.0, camera_height_m]
    return T


def export_nuscenes(specs: list[ScenarioSpec], clips_per_spec: int, dataroot: str | Path, *, seed: int = 0, version: str = VERSION) -> Path:
    """Render and write ``clips_per_spec`` scenes per spec into ``dataroot/version`` (tables) + ``samples/``/``sweeps/``."""
    root = Path(dataroot)
    tables: dict[str, list[dict]] = {k: [] for k in ("category", "attribute", "visibility", "instance", "sensor", "calibrated_sensor",
                                                      "ego_pose", "log", "scene", "sample", "sample_data", "sample_annotation", "map")}
    sensor_token = _token("sensor", "CAM_FRONT")
    tables["sensor"].append({"token": sensor_token, "channel": "CAM_FRONT", "modality": "camera"})
    renderer: SceneRenderer | None = None
    for n, ((spec, i, family, split), clip_id) in enumerate(tqdm(plan_tasks(specs, clips_per_spec), desc="nuScenes export", unit="scene")):
        cs = spec.clip
        if renderer is None:
            renderer = SceneRenderer(cs.width, cs.height)
        world, path, _traj, label, _seed, _attempt = build_scene(spec.name, family, spec.params(family), split, i, seed, cs)
        cal = ego_from_camera(cs.camera_height_m, cs.camera_pitch_deg)
        cal_token = _token("calib", clip_id)
        tables["calibrated_sensor"].append({
            "token": cal_token, "sensor_token": sensor_token, "translation": cal[:3, 3].tolist(),
            "rotation": matrix_to_quat(cal[:3, :3]).tolist(), "camera_intrinsic": cs.K.tolist(),
        })
        log_token, scene_token = _token("log", clip_id), _token("scene", clip_id)
        tables["log"].append({"token": log_token, "logfile": clip_id, "vehicle": "ct1-sim", "date_captured": "2026-11-24",
                              "location": f"ct1-sim-{spec.name}"})
        times = np.arange(0.0, cs.duration_s + 1e-9, 1.0 / CAMERA_RATE_HZ)
        states = path.at(times)
        t0 = BASE_TIMESTAMP_US + n * 100_000_000
        stamps = t0 + np.round(times * 1e6).astype(np.int64)
        sample_tokens = [_token("sample", clip_id, k) for k in range(0, len(times), KEYFRAME_EVERY)]
        sd_tokens = [_token("sd", clip_id, k) for k in range(len(times))]
        for j, st in enumerate(sample_tokens):
            tables["sample"].append({"token": st, "timestamp": int(stamps[j * KEYFRAME_EVERY]), "scene_token": scene_token,
                                     "prev": sample_tokens[j - 1] if j else "", "next": sample_tokens[j + 1] if j + 1 < len(sample_tokens) else ""})
        renderer.set_world(world.mesh.array(), [m.vertices for m in world.movers], shadow_centre=shadow_centre(world))
        for k, (t, (x, y, yaw, _v)) in enumerate(zip(times, states, strict=True)):
            ego = np.eye(4)
            ego[:3, :3] = [[np.cos(yaw), -np.sin(yaw), 0], [np.sin(yaw), np.cos(yaw), 0], [0, 0, 1]]
            ego[:3, 3] = [x, y, 0.0]
            pose_token = _token("ego", clip_id, k)
            tables["ego_pose"].append({"token": pose_token, "timestamp": int(stamps[k]), "rotation": matrix_to_quat(ego[:3, :3]).tolist(),
                                       "translation": ego[:3, 3].tolist()})
            rgb, _ = renderer.render(ego @ cal, cs.K, world.lighting, [m.pose(t) for m in world.movers])
            key = k % KEYFRAME_EVERY == 0
            folder = "samples" if key else "sweeps"
            filename = f"{folder}/CAM_FRONT/{clip_id}__CAM_FRONT__{int(stamps[k])}.jpg"
            (root / filename).parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rgb).save(root / filename, quality=92)
            tables["sample_data"].append({
                "token": sd_tokens[k], "sample_token": sample_tokens[min(round(k / KEYFRAME_EVERY), len(sample_tokens) - 1)],
                "ego_pose_token": pose_token, "calibrated_sensor_token": cal_token, "timestamp": int(stamps[k]),
                "fileformat": "jpg", "is_key_frame": key, "height": cs.height, "width": cs.width, "filename": filename,
                "prev": sd_tokens[k - 1] if k else "", "next": sd_tokens[k + 1] if k + 1 < len(times) else "",
            })
        tables["scene"].append({"token": scene_token, "log_token": log_token, "nbr_samples": len(sample_tokens),
                                "first_sample_token": sample_tokens[0], "last_sample_token": sample_tokens[-1], "name": clip_id,
                                "description": f"{family}, {label}, {split} split"})
    tables["map"].append({"token": _token("map"), "log_tokens": [r["token"] for r in tables["log"]], "category": "semantic_prior",
                          "filename": "maps/ct1-sim-blank.png"})
    (root / "maps").mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(root / "maps" / "ct1-sim-blank.png")
    table_dir = root / version
    table_dir.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        (table_dir / f"{name}.json").write_text(json.dumps(rows, indent=0))
    log.info("wrote %d scenes to %s", len(tables["scene"]), table_dir)
    return root
