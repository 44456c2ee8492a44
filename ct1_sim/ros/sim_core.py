"""The simulator behind the ROS node, without ROS: a :class:`~ct1_sim.sim.env.DrivingEnv` stepped with the latest
command of any kind, and the ROS messages (rosbridge JSON dicts) of each step.

The env is built with the ``ackermann`` action type; the node accepts all three kinds and turns each into a
vehicle command with the env's own converters (:class:`~ct1_sim.sim.actions.CommandAdapter` for ``twist`` and
``path``), then the env checks it again. Every fix of a bad value (NaN replaced, over-limit clamped) is listed in
the step's ``action_issues``. Before any command the ego brakes to a stop (steering 0, speed 0).

Simulation time: one clock for the node's life, starting at 0 and advancing by ``dt`` per step and per reset (so
``/clock`` never goes back across episodes); stamps of every message of a step are that time. Frames: ``map``
(the env's world, z up), ``base_link`` (rear axle, REP 103), the camera's optical frame (OpenCV axes).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ct1_sim.ros import contract as c
from ct1_sim.ros.images import encode_compressed_image
from ct1_sim.ros.messages import (
    camera_info,
    clock,
    ns_to_stamp,
    odometry,
    planar_pose_matrix,
    tf_message,
    transform_stamped,
)
from ct1_sim.ros.sim_commands import CommandError, HeldPath, ackermann_action, path_command, twist_action
from ct1_sim.sim.actions import CommandAdapter, action_space
from ct1_sim.sim.env import MANEUVER_CODES
from ct1_sim.sim.vehicle import VehicleState

COMMAND_KINDS = ("twist", "ackermann", "path")
_MANEUVER_NAMES = {v: k for k, v in MANEUVER_CODES.items()}


class EpisodeEnded(RuntimeError):
    """A step was asked for after the episode ended; reset first."""


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars/arrays as Python numbers/lists and non-finite floats as None (strict JSON)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(v) for v in (value.tolist() if isinstance(value, np.ndarray) else value)]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return round(value, 6) if math.isfinite(value) else None
    return value


class SimCore:
    """One env, the held command and the messages of its current state (see the module docstring).

    Args:
        env: a ``DrivingEnv`` (or a Gymnasium wrapper of one) built with ``action_type="ackermann"``.
        reset_options: the env's ``reset`` options (town, route, speed, seconds, ...), used for every episode.
        seed: seed of the first episode (later resets continue its random stream: new starts and routes).
        jpeg_quality: JPEG quality of the camera images (1-95).
    """

    def __init__(self, env: Any, reset_options: dict[str, Any] | None = None, seed: int | None = 0, jpeg_quality: int = 90) -> None:
        self.env = env
        self.base = env.unwrapped
        if self.base.action_type != "ackermann":
            raise ValueError(f"the ROS simulator needs an env with action_type='ackermann', got {self.base.action_type!r}")
        self.reset_options = dict(reset_options or {})
        self.seed, self.jpeg_quality = seed, jpeg_quality
        limits = self.base.limits
        self.adapters = {"twist": CommandAdapter("twist", limits), "path": CommandAdapter("path", limits)}
        self.spaces = {k: action_space(k, limits) for k in ("twist", "ackermann")}  # the env's bounds (float32)
        self.dt_ns = round(self.base.dt * 1e9)
        self.clock_ns = 0
        self.episode, self.step_index, self.done = 0, 0, True
        self.command: tuple[str, Any] | None = None  # (kind, action array or HeldPath)
        self.commands_received = 0
        self.obs: dict[str, Any] | None = None
        world = self.base.world
        # base_link -> camera optical frame: the camera's pose with the ego at the map origin (a rigid mount)
        self.base_to_camera = world.camera_pose(VehicleState(0.0, 0.0, 0.0))
        self.K, self.image_size = np.asarray(world.K, dtype=float), (world.spec.width, world.spec.height)

    @property
    def sim_time_s(self) -> float:
        return self.clock_ns / 1e9

    # ------------------------------------------------------------------ episodes
    def reset(self) -> dict[str, Any]:
        """Start an episode; returns the reset report (also the ``/ct1/sim/reset`` JSON)."""
        if self.episode > 0:
            self.clock_ns += self.dt_ns
        self.obs, info = self.env.reset(seed=self.seed if self.episode == 0 else None, options=self.reset_options)
        self.episode += 1
        self.step_index, self.done, self.command = 0, False, None
        speed = float(self.base.state.v)
        for adapter in self.adapters.values():
            adapter.reset(speed)
        return {"version": c.SIM_JSON_VERSION, "type": "reset", "episode": self.episode, "step": 0, **self._time(),
                "town_seed": int(info["town_seed"]), "route": info["route"], "time_limit_s": round(self.base.time_limit, 3),
                "dt_s": self.base.dt, **self._state()}

    def _time(self) -> dict[str, Any]:
        return {"sim_time_s": round(self.sim_time_s, 9), "stamp": ns_to_stamp(self.clock_ns), "t": round(float(self.base.t), 6)}

    def _state(self) -> dict[str, Any]:
        s = self.base.state
        return {"pose": [round(s.x, 4), round(s.y, 4), round(s.yaw, 6)], "speed_mps": round(s.v, 4),
                "instruction": self.obs["instruction"], "maneuver": _MANEUVER_NAMES.get(int(self.obs["maneuver"]))}

    # ------------------------------------------------------------------ commands
    def set_command(self, kind: str, msg: Mapping[str, Any]) -> dict[str, Any] | None:
        """Hold ``msg`` (a ``kind`` command message) from the next step on. Returns a status event when there is
        something to say (a new kind of command, a bad value the env will fix), else None; raises
        :class:`CommandError` for a message that cannot be used (the held command stays)."""
        if kind == "twist":
            value: Any = twist_action(msg)
        elif kind == "ackermann":
            value = ackermann_action(msg)
        elif kind == "path":
            if self.base.state is None:
                raise CommandError("path refused: no episode yet")
            s = self.base.state
            value = path_command(msg, s.x, s.y, s.yaw, float(self.base.t), s.v)
        else:
            raise ValueError(f"unknown command kind {kind!r}")
        previous = self.command[0] if self.command else None
        self.command = (kind, value)
        self.commands_received += 1
        event: dict[str, Any] | None = None
        if kind != "path":
            space = self.spaces[kind]
            finite = np.isfinite(value)
            if not finite.all() or (value[finite] < space.low[finite]).any() or (value[finite] > space.high[finite]).any():
                event = {"event": "bad_command", "kind": kind, "values": jsonable(value),
                         "low": jsonable(space.low), "high": jsonable(space.high),
                         "detail": "not finite or beyond the limits: replaced or clamped at the next step "
                                   f"(see action_issues on {c.SIM_METRICS_TOPIC})"}
        if event is None and kind != previous:
            event = {"event": "command", "kind": kind}
            if isinstance(value, HeldPath):
                event["timed"] = value.timed
        return event

    def _vehicle_command(self) -> tuple[np.ndarray, list[str], str | None]:
        """The env action ``[steer, speed, accel]`` of the held command at the current state, and the fixes made."""
        state = self.base.state
        if self.command is None:
            return np.array([0.0, 0.0, 0.0]), [], None
        kind, value = self.command
        if kind == "ackermann":
            return np.asarray(value, dtype=float), [], kind
        if kind == "path":
            value = value.action(state.x, state.y, state.yaw, float(self.base.t))
        cmd, issues = self.adapters[kind].command(value, state)
        box = self.spaces["ackermann"]  # already within the limits; only the float32 rounding of the env's bounds is left
        cmd = np.clip(cmd, box.low.astype(float), box.high.astype(float))
        return cmd, [f"{kind}: {i}" for i in issues], kind

    # ------------------------------------------------------------------ stepping
    def step(self) -> dict[str, Any]:
        """Advance one ``dt`` with the held command; returns the step report (the ``/ct1/sim/metrics`` JSON).
        Raises :class:`EpisodeEnded` after the episode's last step."""
        if self.done or self.obs is None:
            raise EpisodeEnded(f"the episode has ended; call {c.SIM_RESET_SERVICE} to start another")
        cmd, issues, kind = self._vehicle_command()
        self.obs, reward, terminated, truncated, info = self.env.step(cmd)
        self.step_index += 1
        self.clock_ns += self.dt_ns
        self.done = bool(terminated or truncated)
        report = {"version": c.SIM_JSON_VERSION, "type": "step", "episode": self.episode, "step": self.step_index, **self._time(),
                  "command": kind, "vehicle_command": jsonable(cmd), "action_issues": issues + list(info.get("action_issues", [])),
                  "reward": jsonable(float(reward)), **self._state(), "terminated": bool(terminated), "truncated": bool(truncated)}
        skip = {"action_issues", "episode", "t", "termination"}
        report["metrics"] = jsonable({k: v for k, v in info.items() if k not in skip})
        if self.done:
            report["termination"] = info.get("termination")
            report["episode_metrics"] = jsonable(info.get("episode"))
        return report

    # ------------------------------------------------------------------ messages
    def messages(self) -> list[tuple[str, dict[str, Any]]]:
        """``(topic, message)`` of the current state, in publishing order: clock, tf, camera info, image, odometry."""
        s, ns = self.base.state, self.clock_ns
        T = planar_pose_matrix(s.x, s.y, s.yaw)
        yaw_rate = s.v * math.tan(s.steer) / self.base.limits.wheelbase_m
        return [
            (c.CLOCK_TOPIC, clock(ns)),
            (c.TF_TOPIC, tf_message([transform_stamped(T, ns, c.MAP_FRAME, c.BASE_FRAME),
                                     transform_stamped(self.base_to_camera, ns, c.BASE_FRAME, c.SIM_CAMERA_FRAME)])),
            (c.SIM_CAMERA_INFO_TOPIC, camera_info(self.K, self.image_size, ns, c.SIM_CAMERA_FRAME)),
            (c.SIM_IMAGE_TOPIC, encode_compressed_image(self.obs["camera"], ns, c.SIM_CAMERA_FRAME, quality=self.jpeg_quality)),
            (c.SIM_ODOM_TOPIC, odometry(T, ns, c.MAP_FRAME, c.BASE_FRAME, linear=(s.v, 0.0, 0.0), angular=(0.0, 0.0, yaw_rate))),
        ]


def dumps(payload: dict[str, Any]) -> str:
    """Strict JSON text of a report or event (non-finite numbers as null)."""
    return json.dumps(jsonable(payload), allow_nan=False)
