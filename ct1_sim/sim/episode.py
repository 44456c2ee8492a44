"""Running one episode of a policy in a :class:`~ct1_sim.sim.env.DrivingEnv`, writing a drive's outputs (camera
MP4 and its camera path, bird's-eye plot, ``metrics.json``) into a folder that appears whole or not at all, and
averaging episodes into a per-policy summary."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ct1_sim.atomic_files import staged_folder
from ct1_sim.sim.bev import plot_drive
from ct1_sim.sim.policies import Policy

log = logging.getLogger(__name__)

TERMS = ("pdms", "nc", "dac", "ttc", "ep", "comfort", "route_completion")


@dataclass
class EpisodeRecord:
    """What one episode produced: its scores (``summary``), the rear-axle path ``xy (T,2)`` (m) and speeds
    ``(T,)`` (m/s), per-step rows, and the wall time it took (s)."""

    policy: str
    seed: int
    summary: dict[str, Any]
    xy: np.ndarray
    speeds: np.ndarray
    steps: list[dict[str, Any]] = field(default_factory=list)
    wall_s: float = 0.0


def run_episode(env: Any, policy: Policy, *, seed: int, options: dict[str, Any] | None = None,
                on_frame: Callable[[np.ndarray], None] | None = None) -> EpisodeRecord:
    """Reset ``env`` with ``seed`` and ``options``, drive ``policy`` until the episode ends; ``on_frame`` gets each
    camera frame (the first one included)."""
    start = time.perf_counter()
    base = env.unwrapped
    obs, info = env.reset(seed=seed, options=options)
    policy.reset(env)
    if on_frame is not None:
        on_frame(obs["camera"])
    rows, issues = [], 0
    while True:
        obs, _, terminated, truncated, info = env.step(policy.act(obs))
        if on_frame is not None:
            on_frame(obs["camera"])
        st = base.state
        issues += len(info["action_issues"])
        rows.append({"t": info["t"], "x": round(st.x, 3), "y": round(st.y, 3), "yaw": round(st.yaw, 4), "v": round(st.v, 3),
                     "steer": round(st.steer, 4), "accel": round(st.accel, 3), "progress_m": round(info["progress_m"], 2),
                     "collision": info["collision"], "drivable": info["drivable"], "ttc_violation": info["ttc_violation"],
                     "instruction": obs["instruction"]})
        if terminated or truncated:
            break
    states = np.array(base.metrics.states)
    summary = {**info["episode"], "termination": info["termination"], "policy": policy.name, "seed": seed,
               "town_seed": info["town_seed"], "route": info["route"], "action_issues": issues}
    record = EpisodeRecord(policy.name, seed, summary, states[:, :2], states[:, 3], rows, time.perf_counter() - start)
    summary["wall_s"] = round(record.wall_s, 2)
    summary["steps_per_s"] = round(len(rows) / max(record.wall_s, 1e-9), 1)
    return record


class Mp4Stream:
    """Frames appended one at a time to an H.264 MP4 (so a long drive is never held in memory)."""

    def __init__(self, path: Path, fps: float) -> None:
        import imageio.v2 as imageio

        self.path = path
        self._writer = imageio.get_writer(str(path), format="FFMPEG", fps=fps, codec="libx264", quality=8,
                                          pixelformat="yuv420p", macro_block_size=1)

    def append(self, frame: np.ndarray) -> None:
        self._writer.append_data(frame)

    def close(self) -> None:
        self._writer.close()


def plot_record(path: Path, env: Any, record: EpisodeRecord, title: str = "") -> Path:
    """The bird's-eye plot of an episode that just ran in ``env``: town, route, driven path, maneuver outcomes."""
    base = env.unwrapped
    collisions = [(c["x"], c["y"]) for c in record.summary["collisions"]]
    return plot_drive(path, base.town.map, parked=base.town.parked, route=base.route, driven=record.xy, speeds=record.speeds,
                      maneuvers=record.summary["maneuvers"], collisions=np.array(collisions).reshape(-1, 2),
                      title=title or f"{record.policy}: {record.summary['route']} (PDMS {record.summary['pdms']:.2f}, "
                                     f"{record.summary['termination']})")


def write_drive(out: Path, env: Any, policy: Policy, *, seed: int, options: dict[str, Any] | None = None,
                on_frame: Callable[[np.ndarray], None] | None = None) -> EpisodeRecord:
    """Drive one episode and write ``out/camera.mp4``, its camera path ``out/camera.json`` (ct1-sim JSON: one
    OpenCV camera-to-world pose per frame in the town's map frame, z up, metres, at the episode's times; frame 0 is
    the reset), ``out/bev.png`` and ``out/metrics.json`` (``summary``, the rounded per-step ``steps`` and, per
    camera frame, the ego's rear-axle state at full precision: ``frames`` of ``t_us``, ``x``, ``y`` (m), ``yaw``
    (rad), ``v`` (m/s)); for a policy that keeps ``plans`` (ct1), ``out/plans.json``: every replan's ``time_us``,
    the ``chosen`` sample, the samples' pose ``offsets_us`` after it and ``samples_c2w`` (K,T,4,4) relative to that
    frame's camera (OpenCV, metres). The folder is built beside ``out`` and moved into place at the end (replacing
    an earlier one): an interrupted run leaves none. ``on_frame`` also gets each camera frame, as in
    :func:`run_episode`."""
    from ct1_sim.formats import write_json
    from ct1_sim.geometry import CameraTrajectory

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    base = env.unwrapped
    poses: list[np.ndarray] = []
    states: list[dict[str, float]] = []
    sizes: set[tuple[int, int]] = set()
    with staged_folder(out, out.parent, replace=True) as stage:
        video = Mp4Stream(stage / "camera.mp4", fps=1.0 / base.dt)
        try:
            def each_frame(frame: np.ndarray) -> None:
                video.append(frame)
                st = base.state
                poses.append(base.world.camera_pose(st))
                states.append({"x": float(st.x), "y": float(st.y), "yaw": float(st.yaw), "v": float(st.v)})
                sizes.add((frame.shape[1], frame.shape[0]))
                if on_frame is not None:
                    on_frame(frame)

            record = run_episode(env, policy, seed=seed, options=options, on_frame=each_frame)
        finally:
            video.close()
        (size,) = sizes
        stamps_us = np.round(np.arange(len(poses)) * base.dt * 1e6).astype(np.int64)
        write_json(CameraTrajectory(c2w=np.stack(poses), K=base.world.K, image_size=size, timestamps_us=stamps_us),
                   stage / "camera.json")
        plot_record(stage / "bev.png", env, record)
        plans = getattr(policy, "plans", None)
        if plans is not None:
            (stage / "plans.json").write_text(json.dumps([
                {"time_us": round(p.time_s * 1e6), "chosen": int(p.chosen), "offsets_us": [int(t) for t in p.offsets_us],
                 "samples_c2w": np.asarray(p.samples_c2w).tolist()} for p in plans]))
        frames = [{"t_us": int(t), **st} for t, st in zip(stamps_us, states, strict=True)]
        (stage / "metrics.json").write_text(json.dumps({"summary": record.summary, "steps": record.steps, "frames": frames},
                                                       indent=1))
    return record


def summarize(records: list[EpisodeRecord]) -> dict[str, Any]:
    """Mean PDMS and its terms, route completion, stop-line compliance and instruction success per maneuver over
    ``records`` of one policy."""
    out: dict[str, Any] = {"episodes": len(records)}
    for term in TERMS:
        out[term] = float(np.mean([r.summary[term] for r in records])) if records else None
    stops = [r.summary["stop_line_compliance"] for r in records if r.summary["stop_line_compliance"] is not None]
    out["stop_line_compliance"] = float(np.mean(stops)) if stops else None
    per: dict[str, dict[str, int]] = {}
    for r in records:
        for m in r.summary["maneuvers"]:
            slot = per.setdefault(m["kind"], {"success": 0, "attempted": 0, "unfinished": 0, "not_reached": 0})
            if m["success"] is not None:  # decided: scored
                slot["attempted"] += 1
                slot["success"] += bool(m["success"])
            else:
                slot["unfinished" if m["attempted"] else "not_reached"] += 1
    out["instruction_success"] = {k: {**v, "rate": v["success"] / v["attempted"] if v["attempted"] else None} for k, v in sorted(per.items())}
    tried = sum(v["attempted"] for v in per.values())
    out["instruction_success_all"] = sum(v["success"] for v in per.values()) / tried if tried else None
    out["terminations"] = {k: sum(1 for r in records if r.summary["termination"] == k) for k in sorted({r.summary["termination"] for r in records})}
    steps = sum(len(r.steps) for r in records)
    wall = sum(r.wall_s for r in records)
    out["sim_seconds"] = round(sum(r.summary["duration_s"] for r in records), 1)
    out["steps_per_s"] = round(steps / wall, 1) if wall else None
    return out
