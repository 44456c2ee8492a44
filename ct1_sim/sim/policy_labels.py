"""Expert labels on a policy's own drives (DAgger): training clips from the states the policy itself gets into.

A model trained only on the expert's drives meets, in closed loop, states the expert never shows: a turn begun a
little late, a car half a metre off its lane. Here a trajectory model drives the ``ct1`` policy through the towns of a
split; every :data:`LABEL_EVERY_S` the world is copied (``copy.deepcopy`` of the env, the town and the renderer
shared) and the ``expert`` takes over the copy for 3 s. The clip is that window: frame 0 where the policy was, the
camera path and frames of the expert's drive from there (its feedback pulls back to the route), the instruction the
policy was given. The policy's drive goes on in the original world until it ends (route done, collision, off the
route or the time limit), then the next drive starts. Labels whose expert drive ends inside the 3 s are dropped.

Ids: ``town-<split>-<town>-p<drive>-<k>``; a rerun skips drives already written.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ct1_sim.clip_spec import CLIP_SPEC
from ct1_sim.data.clip import Clip
from ct1_sim.sim.town_clips import FRAME_EVERY, SIM_DT_S, window_clip

log = logging.getLogger(__name__)

LABEL_EVERY_S = 0.8
POLICY_DRIVE_S = 60.0


def policy_clip_id(split: str, town: int, drive: int, k: int) -> str:
    return f"town-{split}-{town:04d}-p{drive:02d}-{k:04d}"


def _expert_window(env, obs: dict) -> tuple[list, list] | None:
    """The expert's 3 s from a copy of ``env`` as it is now: (states, frames) at 5 Hz, or None when it ends early."""
    from ct1_sim.sim.actions import CommandAdapter
    from ct1_sim.sim.policies import ExpertPolicy

    base = env.unwrapped
    world = base.world
    memo = {id(base.town): base.town, id(world.town): world.town, id(base.route): base.route}
    if world._renderer is not None:
        memo[id(world._renderer)] = world._renderer
    twin = copy.deepcopy(base, memo)
    twin.world.camera_enabled = False  # frames are rendered here, every other step
    twin.time_limit = twin.t + 60.0  # the policy's time limit does not cut the expert's window
    twin.adapter = CommandAdapter("ackermann", twin.limits)
    twin.adapter.reset(twin.state.v)
    expert = ExpertPolicy()
    expert.reset(twin)
    expert.cleared = int(sum(stop < twin.metrics.progress for stop in expert.stops))  # stop lines behind are done
    span = (CLIP_SPEC.num_poses - 1) * FRAME_EVERY
    st = twin.state
    states, frames = [(st.x, st.y, st.yaw, st.v)], [twin.world.render_with_depth(st)]
    o = obs
    for k in range(1, span + 1):
        o, _, terminated, truncated, _ = twin.step(expert.act(o))
        if k % FRAME_EVERY == 0:
            st = twin.state
            states.append((st.x, st.y, st.yaw, st.v))
            frames.append(twin.world.render_with_depth(st))
        if (terminated or truncated) and k < span:
            return None
    return states, frames


def policy_drive_clips(model_dir: str | Path, town: int, drive: int, split: str = "train",
                       seconds: float = POLICY_DRIVE_S) -> Iterator[Clip]:
    """The ``ct1`` policy (``model_dir``) drives a route through town ``town``; expert-labelled clips along it."""
    from ct1_sim.sim.ct1_policy import CT1Policy
    from ct1_sim.sim.env import DrivingEnv

    policy = CT1Policy(model_dir=model_dir, seed=1000 * town + drive)
    env = DrivingEnv(split=split, num_towns=town + 1, action_type=policy.action_type, announce_m=policy.announce_m,
                     camera_period_s=policy.camera_period_s, max_seconds=seconds)
    seed = int(np.random.SeedSequence([town, drive, 11, {"train": 0, "val": 1, "test": 2}[split]]).generate_state(1)[0])
    every = round(LABEL_EVERY_S / SIM_DT_S)
    try:
        obs, info = env.reset(seed=seed, options={"town": town})
        policy.reset(env)
        k = n = 0
        while True:
            if k % every == 0:
                window = _expert_window(env, obs)
                if window is not None:
                    extra = {"source": "town-dagger", "town_seed": info["town_seed"], "route": info["route"],
                             "t_s": round(env.t, 3), "policy_model": str(model_dir)}
                    yield window_clip(policy_clip_id(split, town, drive, n), window[0], window[1], obs["instruction"],
                                      int(obs["maneuver"]), split, town, extra)
                    n += 1
            obs, _, terminated, truncated, info = env.step(policy.act(obs))
            k += 1
            if terminated or truncated:
                break
    finally:
        env.close()


def render_policy_clips(store_path: str, model_dir: str | Path, split: str, towns: range, drives: int,
                        seconds: float = POLICY_DRIVE_S) -> int:
    """Expert-labelled clips of ``drives`` policy drives per town, appended to the store; the number written."""
    from tqdm import tqdm

    from ct1_sim.data.clip_store import ClipStore

    store = ClipStore.open_or_create(store_path)
    written = 0
    jobs = [(t, d) for t in towns for d in range(drives)]
    for town, drive in tqdm(jobs, desc=f"policy drives with expert labels ({split})", unit="drive"):
        if policy_clip_id(split, town, drive, 0) in store:
            continue
        for clip in policy_drive_clips(model_dir, town, drive, split, seconds):
            written += int(store.append(clip, skip_existing=True))
    return written
