"""Scenario clip generation: (family, parameters, seed) -> a rendered :class:`~ct1_sim.data.Clip` with exact poses."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ct1_sim.clip_spec import CLIP_SPEC, ClipSpec
from ct1_sim.data.clip import Clip
from ct1_sim.data.scenarios.ego_motion import camera_c2w, simulate
from ct1_sim.data.scenarios.instructions import instruction_key, phrase
from ct1_sim.data.scenarios.layouts import FAMILIES, World
from ct1_sim.data.scenarios.renderer import SceneRenderer
from ct1_sim.geometry import CameraTrajectory

log = logging.getLogger(__name__)

SPLIT_SALT = {"train": 0, "val": 1, "test": 2}
MAX_ATTEMPTS = 30
#: scripted maneuver -> the label its path must show (families not listed, e.g. curves, take what the path shows)
EXPECTED_LABEL = {
    "turn_left": "turn_left", "turn_right": "turn_right", "straight": "straight", "lane_change_left": "lane_change_left",
    "lane_change_right": "lane_change_right", "stop": "stop", "speed_up": "straight", "slow_down": "straight",
}


def clip_seed(spec_name: str, family: str, split: str, index: int, base_seed: int = 0) -> int:
    """Deterministic 63-bit seed; the split is part of the hash, so splits never share seeds or layouts."""
    if split not in SPLIT_SALT:
        raise ValueError(f"split must be one of {list(SPLIT_SALT)}, got {split!r}")
    key = f"{spec_name}|{family}|{split}|{index}|{base_seed}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "little") >> 1


def clip_id(spec_name: str, family: str, split: str, index: int) -> str:
    """The store id of a clip: deterministic, so a rerun finds (and skips) what is already rendered."""
    return f"{spec_name}-{family}-{split}-{index:06d}"


@dataclass
class EgoPath:
    """The ego's simulated drive: times (s) and rear-axle states (x, y, yaw, v) at the simulation rate."""

    times: np.ndarray
    states: np.ndarray
    extra: dict[str, Any] = field(default_factory=dict)

    def at(self, t: np.ndarray) -> np.ndarray:
        """States ``(len(t), 4)`` interpolated at times ``t`` (s); yaw is unwrapped first."""
        yaw = np.unwrap(self.states[:, 2])
        cols = [np.interp(t, self.times, c) for c in (self.states[:, 0], self.states[:, 1], yaw, self.states[:, 3])]
        return np.stack(cols, axis=1)


#: how much of a reference path a clip's meta keeps (m of arc length): 3 s at the fastest scenario speed, with margin
REFERENCE_KEPT_M = 90.0


def reference_for_meta(reference: np.ndarray) -> list[list[float]]:
    """A reference path (world frame, (N,2) m) as JSON: from 10 m behind the start, the first :data:`REFERENCE_KEPT_M`
    of arc length, every 1 m, rounded to cm."""
    from ct1_sim.data.scenarios import polyline as pl

    ref = pl.resample(np.asarray(reference, dtype=float), 1.0)
    ref = ref[np.argmax(ref[:, 0] > -10.5):]
    ref = ref[pl.arc_lengths(ref) <= REFERENCE_KEPT_M]
    return np.round(ref, 2).tolist()


def drive(world: World, duration_s: float) -> EgoPath:
    times, states = simulate(world.reference, world.start, world.plan, duration_s)
    return EgoPath(times, states)


def camera_path(path: EgoPath, times_s: np.ndarray, spec: ClipSpec) -> np.ndarray:
    """OpenCV camera-to-world poses ``(T,4,4)`` at ``times_s``."""
    st = path.at(times_s)
    return np.stack([camera_c2w(x, y, yaw, spec.camera_height_m, pitch_deg=spec.camera_pitch_deg) for x, y, yaw, _ in st])


def render_frames(
    renderer: SceneRenderer, world: World, c2w: np.ndarray, times_s: np.ndarray, K: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Frames ``(T,H,W,3)`` uint8 and depth ``(T,H,W)`` float16 along the camera path."""
    renderer.set_world(world.mesh.array(), [m.vertices for m in world.movers], shadow_centre=shadow_centre(world))
    movers = [[m.pose(t) for m in world.movers] for t in times_s]
    frames, depth = renderer.render_sequence(c2w, K, world.lighting, movers)
    return frames, depth.astype(np.float16)


def shadow_centre(world: World) -> tuple[float, float]:
    """Where the shadow map is centred: ~60 m ahead of the ego's start along its initial heading."""
    s = world.start
    return (s.x + 60.0 * np.cos(s.yaw), s.y + 60.0 * np.sin(s.yaw))


def build_scene(
    spec_name: str, family: str, params: dict[str, Any], split: str, index: int, base_seed: int = 0, clip_spec: ClipSpec = CLIP_SPEC
) -> tuple[World, EgoPath, CameraTrajectory, str, int, int]:
    """Lay out the world and drive the ego: ``(world, path, trajectory at the clip spec, label, seed, attempt)``."""
    from ct1_sim.metrics import classify_maneuver

    if family not in FAMILIES:
        raise ValueError(f"unknown scenario family {family!r}; choose one of {sorted(FAMILIES)}")
    seed = clip_seed(spec_name, family, split, index, base_seed)
    times = np.arange(clip_spec.num_poses) / clip_spec.rate_hz
    K = clip_spec.K
    for attempt in range(MAX_ATTEMPTS):
        # a scripted maneuver that does not finish inside the clip (a turn begun too late) would be read off the
        # path as something else; draw the layout again (deterministically) until the path shows the maneuver
        rng = np.random.default_rng([seed, attempt])
        world = FAMILIES[family](rng, params)
        path = drive(world, clip_spec.duration_s + 0.05)
        c2w = camera_path(path, times, clip_spec)
        traj = CameraTrajectory(c2w=c2w, K=K, image_size=clip_spec.image_size, timestamps_us=clip_spec.timestamps_us())
        label = classify_maneuver(traj)
        if EXPECTED_LABEL.get(world.maneuver, label) == label:
            return world, path, traj, label, seed, attempt
    raise RuntimeError(f"{family} clip {index} ({split}): no layout showed {world.maneuver!r} in {MAX_ATTEMPTS} draws")


def make_clip(
    renderer: SceneRenderer,
    spec_name: str,
    family: str,
    params: dict[str, Any],
    split: str,
    index: int,
    base_seed: int = 0,
    clip_spec: ClipSpec = CLIP_SPEC,
) -> Clip:
    """Build, drive and render one clip. The same arguments give the same pixels."""
    from ct1_sim.metrics import classify_speed_behaviour

    world, path, traj, label, seed, attempt = build_scene(spec_name, family, params, split, index, base_seed, clip_spec)
    rng = np.random.default_rng([seed, attempt, 1])
    times, K, c2w = traj.times_s, traj.K, traj.c2w
    behaviour = classify_speed_behaviour(traj)
    frames, depth = render_frames(renderer, world, c2w, times, K)
    text = phrase(instruction_key(family, label, world.maneuver, world.layout), rng)
    meta = {
        "source": "scenario",
        "scene": clip_id(spec_name, family, split, index),
        "family": family,
        "maneuver": label,
        "scripted": world.maneuver,
        "speed_behaviour": behaviour,
        "split": split,
        "seed": seed,
        "attempt": attempt,
        "speed_mps": round(float(path.states[0, 3]), 4),
        "layout": world.layout,
        "alternatives": {name: reference_for_meta(ref) for name, ref in world.alternatives.items()},
        "drivable": world.drivable,
    }
    return Clip(id=clip_id(spec_name, family, split, index), frames=frames, trajectory=traj, instruction=text, meta=meta, depth=depth)
