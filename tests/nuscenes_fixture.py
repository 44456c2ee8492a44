"""A hand-written nuScenes-format dataroot for tests: two scenes, keyframes at 2 Hz with sweeps at 12 Hz,
a CAM_FRONT calibrated_sensor with a realistic non-trivial rotation, changing ego yaw, and planted defects."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image
from pyquaternion import Quaternion

VERSION = "v1.0-fixture"
RATE_HZ = 12.0
DURATION_S = 10.0
# camera axes (x right, y down, z forward) -> ego axes (x forward, y left, z up), then a small mounting error
EGO_FROM_CAMERA = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
MOUNT = Quaternion(axis=[0, 0, 1], degrees=1.2) * Quaternion(axis=[0, 1, 0], degrees=-0.8) * Quaternion(axis=[1, 0, 0], degrees=0.4)
CAM_TRANSLATION = [1.70, 0.016, 1.51]
CAM_ROTATION = MOUNT * Quaternion(matrix=EGO_FROM_CAMERA)  # ego_from_camera
K = [[126.6, 0.0, 80.0], [0.0, 126.6, 45.0], [0.0, 0.0, 1.0]]
W, H = 160, 90


#: Scene kinds: (speed m/s, yaw rate deg/s (left > 0), duration s). ``gentle_left`` turns 90 deg over 20 s, only
#: 13.5 deg in any 3 s clip.
KINDS = {"left": (6.0, 18.0, DURATION_S), "straight": (8.0, 0.0, DURATION_S), "gentle_left": (8.0, 4.5, 20.0)}


def ego_poses(kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Times (s), ego positions (T,3) and yaws (T,) of a scene of one of :data:`KINDS`, on a circle or a line."""
    v, yaw_rate_deg, duration_s = KINDS[kind]
    t = np.arange(0.0, duration_s + 1e-9, 1.0 / RATE_HZ)
    yaw_rate = np.radians(yaw_rate_deg)
    yaw = 0.3 + yaw_rate * t
    if yaw_rate:
        r = v / yaw_rate
        x = 500.0 + r * (np.sin(yaw) - np.sin(0.3))
        y = 1200.0 - r * (np.cos(yaw) - np.cos(0.3))
    else:
        x, y = 500.0 + v * t * np.cos(0.3), 1200.0 + v * t * np.sin(0.3)
    return t, np.stack([x, y, np.zeros_like(x)], axis=1), yaw


def write_fixture(root: Path, *, gap: bool = True, jump: bool = True, descriptions: tuple[str, str] = ("Turn left at a big intersection, rain", "Straight drive, parked cars"),
                  kinds: tuple[str, str] = ("left", "straight")) -> dict:
    """Write the dataroot (scene-0001 and scene-0002 of ``kinds``, see :data:`KINDS`; the gap and the jump are
    planted in a ``straight`` scene); returns what the tests need to check against (ego poses per scene, defects)."""
    tables: dict[str, list] = {k: [] for k in ("category", "attribute", "visibility", "instance", "sensor", "calibrated_sensor", "ego_pose",
                                               "log", "scene", "sample", "sample_data", "sample_annotation", "map")}
    tables["sensor"].append({"token": "sensor-cam", "channel": "CAM_FRONT", "modality": "camera"})
    tables["calibrated_sensor"].append({"token": "calib-cam", "sensor_token": "sensor-cam", "translation": CAM_TRANSLATION,
                                        "rotation": list(CAM_ROTATION.elements), "camera_intrinsic": K})
    truth = {}
    for n, (name, kind) in enumerate(zip(("scene-0001", "scene-0002"), kinds)):
        t, xyz, yaw = ego_poses(kind)
        keep = np.ones(len(t), bool)
        if kind == "straight" and gap:
            keep &= ~((t > 2.0) & (t < 2.9))  # a 0.9 s hole in the recording
        if kind == "straight" and jump:
            xyz = xyz.copy()
            xyz[np.argmin(np.abs(t - 8.5)), :2] += [6.0, 0.0]  # one pose 6 m off
        t, xyz, yaw = t[keep], xyz[keep], yaw[keep]
        stamps = (1_533_000_000_000_000 + n * 10**9 + np.round(t * 1e6)).astype(np.int64)
        key = np.zeros(len(t), bool)
        key[np.isclose(np.mod(t + 1e-6, 0.5), 0.0, atol=1e-3)] = True  # 2 Hz keyframes
        key[0] = True
        samples = [f"{name}-sample-{i}" for i in range(int(key.sum()))]
        scene_token, log_token = f"{name}-scene", f"{name}-log"
        tables["log"].append({"token": log_token, "logfile": name, "vehicle": "fixture", "date_captured": "2018-08-01", "location": "fixture-city"})
        key_idx = np.flatnonzero(key)
        for j, i in enumerate(key_idx):
            tables["sample"].append({"token": samples[j], "timestamp": int(stamps[i]), "scene_token": scene_token,
                                     "prev": samples[j - 1] if j else "", "next": samples[j + 1] if j + 1 < len(samples) else ""})
        sd = [f"{name}-sd-{i}" for i in range(len(t))]
        for i in range(len(t)):
            j = min(int(np.searchsorted(key_idx, i, side="right")) - 1, len(samples) - 1)
            q = Quaternion(axis=[0, 0, 1], radians=float(yaw[i]))
            tables["ego_pose"].append({"token": f"{name}-ego-{i}", "timestamp": int(stamps[i]), "rotation": list(q.elements), "translation": xyz[i].tolist()})
            folder = "samples" if key[i] else "sweeps"
            filename = f"{folder}/CAM_FRONT/{name}__CAM_FRONT__{stamps[i]}.jpg"
            (root / filename).parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.full((H, W, 3), (40 + i % 200, 90, 140), np.uint8)).save(root / filename)
            tables["sample_data"].append({"token": sd[i], "sample_token": samples[j], "ego_pose_token": f"{name}-ego-{i}",
                                          "calibrated_sensor_token": "calib-cam", "timestamp": int(stamps[i]), "fileformat": "jpg",
                                          "is_key_frame": bool(key[i]), "height": H, "width": W, "filename": filename,
                                          "prev": sd[i - 1] if i else "", "next": sd[i + 1] if i + 1 < len(t) else ""})
        tables["scene"].append({"token": scene_token, "log_token": log_token, "nbr_samples": len(samples), "first_sample_token": samples[0],
                                "last_sample_token": samples[-1], "name": name, "description": descriptions[n]})
        truth[name] = {"t": t, "xyz": xyz, "yaw": yaw, "stamps": stamps, "key": key}
    tables["map"].append({"token": "map-0", "log_tokens": [r["token"] for r in tables["log"]], "category": "semantic_prior", "filename": "maps/blank.png"})
    (root / "maps").mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(root / "maps" / "blank.png")  # the devkit checks the map mask exists
    (root / VERSION).mkdir(parents=True, exist_ok=True)
    for table, rows in tables.items():
        (root / VERSION / f"{table}.json").write_text(json.dumps(rows))
    return truth
