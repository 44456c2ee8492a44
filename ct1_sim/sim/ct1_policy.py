"""The ``ct1`` policy: the CT-1 trajectory model drives from the camera. Every :data:`REPLAN_S` it samples K camera
trajectories for the current frame, instruction and speed (:meth:`WorldModel.predict`), keeps the medoid, turns
it into the rear axle's path in the map frame, and between replans hands the env the part of that path still
ahead, in the ego frame, as a ``path`` action (followed by pure pursuit)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ct1_sim.clip_spec import CLIP_SPEC
from ct1_sim.data.scenarios.ego_motion import camera_c2w
from ct1_sim.metrics import medoid_index
from ct1_sim.sim.actions import PATH_DT_S, PATH_POINTS

REPLAN_S = 0.5
CAMERA_AHEAD_M = 1.5  # the front camera sits this far ahead of the rear axle (camera_c2w's default)
log = logging.getLogger(__name__)


def rear_axle_path(c2w_rel: np.ndarray, camera_height_m: float, pitch_deg: float) -> np.ndarray:
    """Rear-axle positions ``(T,2)`` in the ego frame at the first pose (x forward, y left, m) of a camera path
    ``c2w_rel (T,4,4)`` relative to its first (OpenCV) camera, for a camera mounted like the scenario ego's."""
    ego_from_cam0 = camera_c2w(0.0, 0.0, 0.0, camera_height_m, CAMERA_AHEAD_M, pitch_deg)
    cams = ego_from_cam0 @ c2w_rel  # (T,4,4) camera poses in the ego frame (z up)
    fwd = cams[:, :3, 2].copy()
    fwd[:, 2] = 0.0
    fwd /= np.maximum(np.linalg.norm(fwd, axis=1, keepdims=True), 1e-9)
    return cams[:, :2, 3] - CAMERA_AHEAD_M * fwd[:, :2]


class Plan(NamedTuple):
    """One replan: at ``time_s`` (episode time) the K sampled camera paths ``samples_c2w (K,T,4,4)``, relative to
    the camera of that frame (OpenCV, metres), at ``offsets_us (T,)`` µs after it, and the index of the medoid that
    was followed."""

    time_s: float
    samples_c2w: np.ndarray
    chosen: int
    offsets_us: np.ndarray


class CT1Policy:
    """The trajectory model in the loop (see the module docstring)."""

    name, action_type, needs_camera = "ct1", "path", True

    @property
    def announce_m(self) -> float:
        """How far before its junction (m) the env should announce a maneuver: the model's own ``announce_m`` (its
        training data's: 15 for the scenario clips, which start 7-13 m before their junction; 60 for the town drives),
        read from its ``config.json`` without loading it; ``--announce-m`` overrides it."""
        from ct1_sim.trajectory.modeling_ct1 import DEFAULT_ANNOUNCE_M

        return float(json.loads((self.model_path / "config.json").read_text()).get("announce_m", DEFAULT_ANNOUNCE_M))

    @property
    def model_path(self) -> Path:
        """The trajectory model folder: the one given, else the shipped one."""
        from ct1_sim.paths import TRAJECTORY_MODEL, default_model_dir

        return Path(self.model_dir) if self.model_dir is not None else default_model_dir(TRAJECTORY_MODEL)

    @property
    def camera_period_s(self) -> float:
        """The policy reads the camera only when it replans: the env need not render the frames in between."""
        return self.replan_s

    def __init__(self, model_dir: str | Path | None = None, num_samples: int = 8, seed: int = 0, replan_s: float = REPLAN_S) -> None:
        if model_dir is not None and not (Path(model_dir) / "config.json").is_file():
            raise ValueError(f"trajectory model folder {model_dir} has no config.json: give a folder that "
                             "`ct1-sim train trajectory` wrote (or leave it out for the shipped model)")
        self.model_dir, self.num_samples, self.seed, self.replan_s = model_dir, int(num_samples), int(seed), float(replan_s)
        self._model = None

    @property
    def model(self) -> Any:
        if self._model is None:  # the trajectory model only: the loop needs no video
            from ct1_sim.trajectory import CT1TrajectoryModel
            from ct1_sim.world import WorldModel

            self._model = WorldModel(CT1TrajectoryModel.from_pretrained(self.model_path, runtime="auto"))
        return self._model

    def reset(self, env: Any) -> None:
        self.spec = getattr(env.unwrapped.world, "spec", CLIP_SPEC)
        self.plan_xy: np.ndarray | None = None  # (T,2) rear-axle path in the map frame
        self.plan_t = -np.inf
        self.calls = 0
        self.plans: list[Plan] = []  # every replan of the episode, in order

    def _replan(self, obs: dict[str, Any]) -> None:
        pred = self.model.predict(obs["camera"], obs["instruction"], num_samples=self.num_samples,
                                  seed=self.seed + self.calls, speed=float(obs["speed"][0]))
        if not pred.supported:  # a phrasing the parser refused: drive its nearest supported maneuver instead
            from ct1_sim.language import Intent

            info = pred.instruction or {}
            log.warning("instruction %r refused (%s); driving its nearest maneuver, %s", obs["instruction"], info.get("reason"), info.get("nearest"))
            pred = self.model.predict(obs["camera"], Intent.of(info.get("nearest") or "straight").canonical_phrase(),
                                      num_samples=self.num_samples, seed=self.seed + self.calls, speed=float(obs["speed"][0]))
        self.calls += 1
        chosen = medoid_index(pred.trajectories)
        best = pred.trajectories[chosen]
        self.plans.append(Plan(float(obs["time"][0]), np.stack([s.relative_to_first().c2w for s in pred.trajectories]), chosen,
                               best.timestamps_us - best.timestamps_us[0]))
        local = rear_axle_path(best.relative_to_first().c2w, self.spec.camera_height_m, self.spec.camera_pitch_deg)
        x, y, yaw = obs["pose"]
        c, s = np.cos(yaw), np.sin(yaw)
        self.plan_xy = local @ np.array([[c, s], [-s, c]]) + [x, y]
        self.plan_times = best.times_s
        self.plan_t = float(obs["time"][0])

    def act(self, obs: dict[str, Any]) -> np.ndarray:
        t = float(obs["time"][0])
        if self.plan_xy is None or t - self.plan_t >= self.replan_s - 1e-6:
            self._replan(obs)
        # the plan's points 0.2, 0.4, ... 3.0 s from now (past its end: on along its last step)
        want = t - self.plan_t + PATH_DT_S * np.arange(1, PATH_POINTS + 1)
        times, xy = self.plan_times, self.plan_xy
        step = (xy[-1] - xy[-2]) / max(times[-1] - times[-2], 1e-6)
        extra = np.maximum(want - times[-1], 0.0)[:, None]
        pts = np.stack([np.interp(want, times, xy[:, 0]), np.interp(want, times, xy[:, 1])], axis=1) + extra * step
        x, y, yaw = obs["pose"]
        c, s = np.cos(yaw), np.sin(yaw)
        rel = pts - [x, y]
        return np.stack([rel @ [c, s], rel @ [-s, c]], axis=1).astype(np.float32)
