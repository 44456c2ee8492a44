"""Training clips cut from drives through the towns: the states a driving policy meets in closed loop.

The short scenario families show a junction 7-13 m ahead from the middle of the lane; a policy driving a town also
sees the approach from far away, the stop line, the junction box mid-turn, the exit and itself off the lane centre.
Here the ``expert`` policy drives random routes through the towns of a split in the simulator
(:class:`~ct1_sim.sim.env.DrivingEnv`, no camera), with short steering pulses added now and then (DART-style: the
expert's own feedback then shows the way back to the lane). Even-numbered drives keep the pulses away from
junctions (clean approaches and turns on the expert's line); odd-numbered drives put them anywhere, junctions
included, so the windows after a pulse show how to finish a turn begun too wide, too tight or too late (what a
policy's own mistakes lead to).

Every clip is a 3-s window of a drive: 16 frames at 5 Hz rendered at the ego's camera poses with the traffic where
it was, the camera path, the instruction the simulator gave at the clip's first frame (the next maneuver once its
junction is within :data:`~ct1_sim.sim.env.ANNOUNCE_M`, else "follow the road") and that maneuver as the clip's
intent (``meta["intent"]``). No window starts while a pulse is active or has one in its future, so every recorded
future is the expert's.

Clip ids are ``town-<split>-<town>-<drive>-<k>`` and deterministic, so a rerun skips what the store holds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ct1_sim.clip_spec import CLIP_SPEC
from ct1_sim.data.clip import Clip
from ct1_sim.geometry import CameraTrajectory

log = logging.getLogger(__name__)

SIM_DT_S = 0.1
FRAME_EVERY = 2  # env steps per clip frame (5 Hz at 10 Hz)
WINDOW_EVERY_S = 0.8  # a clip starts every this many seconds of a drive
PULSE_CLEAR_M = 35.0  # pulses only start this far (m) or more before the next maneuver's junction box
PULSE_GAP_S = (4.0, 9.0)  # time between the starts of two steering pulses
PULSE_LENGTH_S = (0.4, 1.0)
PULSE_STEER_RAD = (0.04, 0.12)
DRIVE_SECONDS = 90.0
INTENT_OF_CODE = {0: "straight", 1: "turn_left", 2: "straight", 3: "turn_right"}  # env maneuver code -> intent


def town_clip_id(split: str, town: int, drive: int, k: int) -> str:
    return f"town-{split}-{town:04d}-{drive:02d}-{k:04d}"


@dataclass
class _Step:
    t: float
    state: tuple[float, float, float, float]  # rear axle x, y (m, map), yaw (rad), speed (m/s)
    instruction: str
    code: int
    pulse: bool


def drive_town(town: int, drive: int, split: str = "train", seconds: float = DRIVE_SECONDS, pulses: bool = True,
               render: bool = True) -> tuple[list[_Step], dict[int, tuple[np.ndarray, np.ndarray]], dict]:
    """The expert's drive ``drive`` through town ``town`` of ``split`` (odd ``drive``: pulses at junctions too): its steps, the frames ``{step: (rgb, depth)}``
    rendered every :data:`FRAME_EVERY` steps, and what the drive was (town seed, route)."""
    from ct1_sim.sim.env import DrivingEnv
    from ct1_sim.sim.policies import ExpertPolicy

    env = DrivingEnv(split=split, num_towns=max(town + 1, 1), camera=False, dt=SIM_DT_S, max_seconds=seconds)
    world = env.world
    seed = int(np.random.SeedSequence([town, drive, {"train": 0, "val": 1, "test": 2}[split]]).generate_state(1)[0])
    obs, info = env.reset(seed=seed, options={"town": town})
    rng = np.random.default_rng([seed, 7])
    junction_clear = drive % 2 == 0
    expert = ExpertPolicy()
    expert.reset(env)
    steps: list[_Step] = []
    frames: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    next_pulse = rng.uniform(*PULSE_GAP_S) if pulses else np.inf
    pulse_end, pulse_steer = -1.0, 0.0

    def record(k: int, pulse: bool) -> None:
        st = env.state
        steps.append(_Step(env.t, (st.x, st.y, st.yaw, st.v), obs["instruction"], int(obs["maneuver"]), pulse))
        if render and k % FRAME_EVERY == 0:
            frames[k] = world.render_with_depth(st)

    record(0, False)
    k = 0
    try:
        while True:
            action = expert.act(obs)
            t = env.t
            near = junction_clear and info["maneuver_distance_m"] < PULSE_CLEAR_M  # keep the junction's windows clean
            if t >= next_pulse and not near:
                pulse_end = t + rng.uniform(*PULSE_LENGTH_S)
                pulse_steer = rng.uniform(*PULSE_STEER_RAD) * rng.choice([-1.0, 1.0])
                next_pulse = t + rng.uniform(*PULSE_GAP_S)
            pulse = t < pulse_end
            if pulse:
                action = action.copy()
                action[0] += pulse_steer
            obs, _, terminated, truncated, info = env.step(action)
            k += 1
            record(k, pulse)
            if terminated or truncated:
                break
    finally:
        env.close()
    return steps, frames, {"town_seed": info["town_seed"], "route": info["route"], "termination": info.get("termination")}


def clips_from_drive(steps: list[_Step], frames: dict[int, tuple[np.ndarray, np.ndarray]], about: dict, split: str,
                     town: int, drive: int) -> Iterator[Clip]:
    """Every clean 3-s window of a drive as a :class:`Clip` (see the module docstring)."""
    spec = CLIP_SPEC
    span = (spec.num_poses - 1) * FRAME_EVERY
    every = round(WINDOW_EVERY_S / SIM_DT_S)
    pulse = np.array([s.pulse for s in steps])
    for n, k0 in enumerate(range(0, len(steps) - span, every)):
        if pulse[k0 : k0 + span + 1].any():
            continue
        idx = list(range(k0, k0 + span + 1, FRAME_EVERY))
        if any(i not in frames for i in idx):
            continue
        first = steps[k0]
        yield window_clip(town_clip_id(split, town, drive, n), [steps[i].state for i in idx], [frames[i] for i in idx],
                          first.instruction, first.code, split, town, {"source": "town", "town_seed": about["town_seed"],
                                                                       "route": about["route"], "t_s": round(first.t, 3)})


def window_clip(clip_id: str, states: list[tuple[float, float, float, float]], frames: list[tuple[np.ndarray, np.ndarray]],
                instruction: str, code: int, split: str, town: int, extra: dict) -> Clip:
    """A clip of 16 rear-axle ``states`` (x, y m, yaw rad, speed m/s; 5 Hz) and their rendered ``frames`` (rgb,
    depth), told ``instruction`` (the env's maneuver ``code`` at the first frame gives the intent)."""
    from ct1_sim.data.scenarios.ego_motion import camera_c2w
    from ct1_sim.metrics import classify_maneuver

    spec = CLIP_SPEC
    c2w = np.stack([camera_c2w(*st[:3], spec.camera_height_m, pitch_deg=spec.camera_pitch_deg) for st in states])
    traj = CameraTrajectory(c2w=c2w, K=spec.K, image_size=spec.image_size, timestamps_us=spec.timestamps_us())
    intent = INTENT_OF_CODE[code]
    meta = {**extra, "scene": f"town-{split}-{town:04d}", "maneuver": intent, "path_label": classify_maneuver(traj),
            "intent": [intent, "none"], "split": split, "speed_mps": round(float(states[0][3]), 4)}
    return Clip(id=clip_id, frames=np.stack([f[0] for f in frames]), trajectory=traj, instruction=instruction, meta=meta,
                depth=np.stack([f[1] for f in frames]).astype(np.float16))


def render_town_clips(store_path: str, split: str, towns: range, drives: int, seconds: float = DRIVE_SECONDS) -> int:
    """Drive ``drives`` routes in each town of ``towns`` and append their clips to the store; the number written."""
    from tqdm import tqdm

    from ct1_sim.data.clip_store import ClipStore

    store = ClipStore.open_or_create(store_path)
    written = 0
    jobs = [(t, d) for t in towns for d in range(drives)]
    for town, drive in tqdm(jobs, desc=f"town drives ({split})", unit="drive"):
        if town_clip_id(split, town, drive, 0) in store:
            continue  # a drive's clips are written together; its first window is clean (no pulse before 4 s)
        steps, frames, about = drive_town(town, drive, split, seconds)
        for clip in clips_from_drive(steps, frames, about, split, town, drive):
            written += int(store.append(clip, skip_existing=True))
    return written
