"""CT-200K-style curation of nuScenes(-format) drives into clips: windows at keyframes, filters, labels.

For each keyframe: the conditioning frame plus the next 3 s resampled to the clip spec (16 poses at 5 Hz;
poses interpolated by timestamp, the nearest frame taken), labelled with ``classify_maneuver`` and the speed
behaviour, phrased as an instruction. Filters (each counted): ``duplicate`` frames, ``timestamp_gap`` (a gap
longer than ``MAX_GAP_S`` inside the window), ``pose_jump`` (a step faster than ``MAX_STEP_SPEED_MPS`` or
turning more than ``MAX_STEP_ROT_DEG``), ``too_little_motion`` (path shorter than ``MIN_PATH_M``), and
description tags (``night``, ``rain``) when asked to exclude them. A whole-scene clip (for replay) is labelled
by the whole drive, with the windows' labels in its meta.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ct1_sim.clip_spec import NUM_POSES, RATE_HZ, pose_timestamps_us
from ct1_sim.data.clip import Clip
from ct1_sim.data.nuscenes.reader import NuScenesReader, SceneCamera
from ct1_sim.data.scenarios.instructions import PHRASES
from ct1_sim.geometry import CameraTrajectory, geodesic_angle
from ct1_sim.rgb_input import decode_image

log = logging.getLogger(__name__)

MAX_GAP_S = 0.5
MAX_STEP_SPEED_MPS = 40.0
MAX_STEP_ROT_DEG = 30.0
MIN_PATH_M = 0.5
TAGS = ("night", "rain")


@dataclass
class CurationResult:
    clips: list[Clip] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)


def split_of(scene: str, version: str) -> str:
    """Official nuScenes split where the devkit knows the scene, else a stable 80/10/10 hash of the name."""
    try:
        from nuscenes.utils.splits import create_splits_scenes

        splits = create_splits_scenes(verbose=False)
        for name in ("train", "val", "test"):
            if scene in splits.get(name, []):
                return name
    except Exception as err:  # noqa: BLE001 - older devkits; fall back to hashing
        log.debug("the devkit's split table is not available (%s); the split of %s is hashed from its name", err, scene)
    h = int(hashlib.sha256(scene.encode()).hexdigest(), 16) % 10
    return "train" if h < 8 else ("val" if h == 8 else "test")


def instruction_for(maneuver: str, behaviour: str, rng: np.random.Generator) -> str:
    key = maneuver
    if maneuver == "straight":
        key = {"speed_up": "speed_up", "slow_down": "slow_down"}.get(behaviour, "straight")
    options = PHRASES[key]
    return options[int(rng.integers(len(options)))]


def _speed_at(cam: SceneCamera, k: int) -> float:
    lo, hi = max(k - 1, 0), min(k + 1, len(cam.ego_xyz) - 1)
    dt = (cam.trajectory.timestamps_us[hi] - cam.trajectory.timestamps_us[lo]) / 1e6
    return float(np.linalg.norm(cam.ego_xyz[hi, :2] - cam.ego_xyz[lo, :2]) / dt) if dt > 0 else 0.0


def _load(path: Path, size: tuple[int, int] | None) -> np.ndarray:
    """RGB uint8 pixels of a camera frame, resized to ``size (W,H)`` px when given."""
    rgb = decode_image(path)
    if size is not None and (rgb.shape[1], rgb.shape[0]) != size:
        rgb = np.asarray(Image.fromarray(rgb).resize(size, Image.BILINEAR))
    return rgb


@dataclass(frozen=True)
class Window:
    """The 3 s window at one keyframe: its number in the scene, its frame index, and either its clip-spec path
    (16 poses at 5 Hz, interpolated by timestamp) or the filter that removed it."""

    key_no: int
    frame: int
    trajectory: CameraTrajectory | None
    removed_by: str | None


def keyframe_windows(cam: SceneCamera) -> Iterator[Window]:
    """Every keyframe's window, in order, with the filters of the module docstring applied."""
    traj = cam.trajectory
    ts = traj.timestamps_us
    step = np.linalg.norm(np.diff(traj.positions, axis=0), axis=1) / (np.diff(ts) / 1e6)
    rot = np.degrees(geodesic_angle(traj.rotations[:-1], traj.rotations[1:]))
    horizon_us = round((NUM_POSES - 1) * 1e6 / RATE_HZ)
    for key_no, k in enumerate(np.flatnonzero(cam.is_key_frame)):
        t0 = ts[k]
        if t0 + horizon_us > ts[-1]:
            yield Window(key_no, int(k), None, "past_scene_end")
            continue
        last = int(np.searchsorted(ts, t0 + horizon_us, side="left"))  # first frame at or after the window's end
        if np.diff(ts[k : last + 1]).max() > MAX_GAP_S * 1e6:
            yield Window(key_no, int(k), None, "timestamp_gap")
            continue
        if (step[k:last] > MAX_STEP_SPEED_MPS).any() or (rot[k:last] > MAX_STEP_ROT_DEG).any():
            yield Window(key_no, int(k), None, "pose_jump")
            continue
        clip_traj = traj.resample(pose_timestamps_us(NUM_POSES, RATE_HZ, t0))
        if np.linalg.norm(np.diff(clip_traj.positions, axis=0), axis=1).sum() < MIN_PATH_M:
            yield Window(key_no, int(k), None, "too_little_motion")
            continue
        yield Window(key_no, int(k), clip_traj, None)


def window_key(key_no: int) -> str:
    """The suffix of a keyframe window's clip id (``<scene>-k007``), also the key of ``window_maneuvers``."""
    return f"k{key_no:03d}"


def curate_scene(
    reader: NuScenesReader, name: str, *, whole_scene: bool = False, size: tuple[int, int] | None = None,
    exclude_tags: tuple[str, ...] = (), existing: set[str] | frozenset[str] = frozenset(),
) -> CurationResult:
    """Clips of one scene (skipping ids in ``existing``) and the filter counts.

    A whole-scene clip is labelled by the whole drive (:func:`~ct1_sim.metrics.classify_drive`: net heading change
    and lateral offset; ``unknown`` under 3 s) and carries ``window_maneuvers``: the label of every keyframe window
    that passes the filters, by :func:`window_key`, as the windowed clips have them."""
    from ct1_sim.metrics import classify_drive, classify_maneuver, classify_speed_behaviour

    cam = reader.camera(name)
    res = CurationResult()
    res.counts["duplicate"] += cam.duplicates
    tags = [t for t in TAGS if re.search(rf"\b{t}\b", cam.description.lower())]
    for t in tags:
        res.counts[f"tag_{t}"] += 1
    split = split_of(name, reader.version)
    traj = cam.trajectory
    if any(t in exclude_tags for t in tags):
        res.counts["excluded_by_tag"] += int(cam.is_key_frame.sum())
        return res
    base_meta = {"source": "nuscenes", "scene": name, "description": cam.description, "split": split, "tags": tags, "version": reader.version}
    if whole_scene:
        clip_id = f"{name}-whole"
        if clip_id not in existing:
            frames = np.stack([_load(f, size) for f in cam.filenames])
            t = traj if size is None else traj.with_image_size(*size)
            long_enough = traj.timestamps_us[-1] - traj.timestamps_us[0] >= (NUM_POSES - 1) * 1e6 / RATE_HZ
            windows = {window_key(w.key_no): classify_maneuver(w.trajectory) for w in keyframe_windows(cam) if w.trajectory is not None}
            res.clips.append(Clip(id=clip_id, frames=frames, trajectory=t, instruction="",
                                  meta={**base_meta, "maneuver": classify_drive(traj) if long_enough else "unknown",
                                        "window_maneuvers": windows, "whole_scene": True, "frames": len(frames)}))
        return res
    ts = traj.timestamps_us
    for window in keyframe_windows(cam):
        if window.trajectory is None:
            res.counts[window.removed_by] += 1
            continue
        key_no, k, clip_traj = window.key_no, window.frame, window.trajectory
        clip_id = f"{name}-{window_key(key_no)}"
        res.counts["kept"] += 1
        if clip_id in existing:
            continue
        nearest = [int(np.argmin(np.abs(ts - t))) for t in clip_traj.timestamps_us]
        frames = np.stack([_load(cam.filenames[i], size) for i in nearest])
        if size is not None:
            clip_traj = clip_traj.with_image_size(*size)
        maneuver = classify_maneuver(clip_traj)
        behaviour = classify_speed_behaviour(clip_traj)
        rng = np.random.default_rng(int(hashlib.sha256(clip_id.encode()).hexdigest()[:12], 16))
        res.clips.append(Clip(id=clip_id, frames=frames, trajectory=clip_traj, instruction=instruction_for(maneuver, behaviour, rng),
                              meta={**base_meta, "maneuver": maneuver, "speed_behaviour": behaviour, "keyframe": key_no,
                                    "speed_mps": round(_speed_at(cam, k), 4)}))
    return res
