"""``DrivingEnv``: a Gymnasium environment in which a policy drives the ego through a procedural town.

Each :meth:`~DrivingEnv.reset` picks a town (of the env's split), a start and a route; each
:meth:`~DrivingEnv.step` applies one action for ``dt`` s (the ego a kinematic bicycle, the other vehicles
reacting), renders the camera and scores the step (:mod:`ct1_sim.sim.metrics`).

Observation (a dict): ``camera`` uint8 ``(256, 448, 3)`` RGB, ``speed`` (m/s), ``pose`` = map-frame x, y (m) and
yaw (rad) of the rear axle, ``time`` (s), ``instruction`` (text: the next maneuver once its junction is within
``announce_m``, default :data:`ANNOUNCE_M`, else "follow the road") and ``maneuver`` (its code: :data:`MANEUVER_CODES`).

Reward: 0.1 per metre of route progress, -10 for an at-fault collision, -0.05 per step off the drivable area.
An episode terminates when the route is complete, at an at-fault collision or when the ego leaves the route;
it is truncated at the time limit. The last step's ``info["episode"]`` holds the episode scores (PDMS etc.).

Example:
    >>> import gymnasium as gym
    >>> env = gym.make("ct1_sim.sim:ct1sim/ProceduralDriving-v0")           # doctest: +SKIP
    >>> obs, info = env.reset(seed=0, options={"town": 3, "route": "turn left, then go straight"})
    >>> obs, reward, terminated, truncated, info = env.step([0.0, 8.0, 0.0])   # steering, speed, accel
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from ct1_sim.data.scenarios.instructions import phrase
from ct1_sim.data.scenarios.town import Town, town_seed
from ct1_sim.data.scenarios.town_routes import Route, parse_route, plan_route, random_start
from ct1_sim.sim.actions import ACTION_TYPES, CommandAdapter
from ct1_sim.sim.metrics import EpisodeMetrics, stop_points
from ct1_sim.sim.procedural import ProceduralWorld
from ct1_sim.sim.speed_profile import reference_times
from ct1_sim.sim.vehicle import KinematicBicycle, VehicleLimits, VehicleState, box

ANNOUNCE_M = 60.0
DRIVING_DT_S = 0.1  # the procedural world's step (10 Hz)
MANEUVER_CODES = {"follow_road": 0, "turn_left": 1, "straight": 2, "turn_right": 3}
INSTRUCTION_CHARSET = string.ascii_letters + string.digits + " ,.'-"
DEFAULT_SPEED_MPS = 6.0
DEFAULT_ROUTE_M = 500.0
ROUTE_START_TRIES = 60
MAP_REACH_M = 10_000.0  # towns lie within a few hundred metres of the origin
MAX_TIME_S = 86_400.0
FOLLOW_ROAD = "follow the road"  # between junctions (the phrase list's "follow the curve" misleads on straights)
_PHRASE_KEY = {"turn_left": "turn_left", "turn_right": "turn_right", "straight": "straight_intersection"}
OPTION_KEYS = ("town", "town_seed", "route", "start", "speed", "seconds")


class DrivingEnv(gym.Env):
    """Closed-loop driving in the procedural world (see the module docstring).

    Args:
        action_type: ``ackermann`` (default), ``twist`` or ``path`` (:mod:`ct1_sim.sim.actions`).
        split: which towns: ``train``, ``val`` or ``test`` (their seeds never overlap).
        num_towns: towns per split that :meth:`reset` draws from when no town is given.
        dt: seconds per step (0.1 = 10 Hz).
        max_seconds: the time limit of an episode (``options["seconds"]`` overrides it); default: 1.5 times what
            a free-flow driver needs for the route, plus 20 s.
        route_length_m: the length of a random route.
        camera: render the camera (off: a black frame; for fast runs that do not look).
        agents: number of moving vehicles per town (default: the town's own, 8-14).
        announce_m: how far before its junction box (m, from the front bumper) a maneuver's instruction is given.
        world: the world to drive in (default: a :class:`~ct1_sim.sim.procedural.ProceduralWorld`; the neural
            world :class:`~ct1_sim.sim.neural.NeuralWorld` renders the camera with the video model).
        camera_period_s: the camera's frame period (s), a whole number of steps: between frames the observation
            repeats the latest one, as a sensor slower than the simulation does (CARLA's ``sensor_tick``); the
            ``ct1`` policy looks only when it replans (every 0.5 s), so ``sim eval`` renders only then. Default:
            every step. ``info["camera_t"]`` is the time of the frame in the observation.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, action_type: str = "ackermann", split: str = "test", num_towns: int = 50, dt: float = DRIVING_DT_S,
                 max_seconds: float | None = None, route_length_m: float = DEFAULT_ROUTE_M, camera: bool = True,
                 agents: int | None = None, announce_m: float = ANNOUNCE_M, render_mode: str | None = None,
                 world: ProceduralWorld | None = None, camera_period_s: float | None = None) -> None:
        if action_type not in ACTION_TYPES:
            raise ValueError(f"unknown action type {action_type!r}; choose one of {', '.join(ACTION_TYPES)}")
        if split not in ("train", "val", "test"):
            raise ValueError(f"split must be train, val or test, got {split!r}")
        if not (isinstance(num_towns, int) and num_towns >= 1):
            raise ValueError(f"num_towns must be a whole number >= 1, got {num_towns!r}")
        if not (np.isfinite(dt) and 0.01 <= dt <= 1.0):
            raise ValueError(f"dt must be in [0.01, 1] s, got {dt!r}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.action_type, self.split, self.num_towns, self.dt = action_type, split, num_towns, float(dt)
        if max_seconds is not None and not (np.isfinite(max_seconds) and max_seconds > 0):
            raise ValueError(f"max_seconds must be a positive number of seconds, got {max_seconds!r}")
        self.max_seconds, self.route_length_m = max_seconds, float(route_length_m)
        self.render_mode = render_mode
        if not (np.isfinite(announce_m) and announce_m >= 0):
            raise ValueError(f"announce_m must be a distance >= 0 m, got {announce_m!r}")
        self.announce_m = float(announce_m)
        self.camera_every = 1
        if camera_period_s is not None:
            every = float(camera_period_s) / self.dt if np.isfinite(camera_period_s) else np.nan
            if not (np.isfinite(every) and every >= 1.0 - 1e-6 and abs(every - round(every)) < 1e-6):
                raise ValueError(f"camera_period_s must be a whole number of steps of dt={self.dt:g} s, got {camera_period_s!r}")
            self.camera_every = round(every)
        self._camera_t = 0.0
        self.limits = VehicleLimits()
        self.vehicle = KinematicBicycle(self.limits)
        self.world = world if world is not None else ProceduralWorld(camera=camera, agents=agents)
        self.adapter = CommandAdapter(action_type, self.limits)
        self.action_space = self.adapter.space
        spec = self.world.spec
        self.observation_space = spaces.Dict({
            "camera": spaces.Box(0, 255, (spec.height, spec.width, 3), np.uint8),
            "speed": spaces.Box(0.0, self.limits.max_speed_mps, (1,), np.float32),
            "pose": spaces.Box(np.array([-MAP_REACH_M, -MAP_REACH_M, -np.pi]), np.array([MAP_REACH_M, MAP_REACH_M, np.pi]), dtype=np.float64),
            "time": spaces.Box(0.0, MAX_TIME_S, (1,), np.float32),
            "instruction": spaces.Text(max_length=64, min_length=1, charset=INSTRUCTION_CHARSET),
            "maneuver": spaces.Discrete(len(MANEUVER_CODES)),
        })
        self.town: Town | None = None
        self.route: Route | None = None
        self.state: VehicleState | None = None
        self.metrics: EpisodeMetrics | None = None
        self.t, self._steps = 0.0, 0
        self.time_limit = 0.0
        self._frame: np.ndarray | None = None
        self._phrases: list[str] = []
        self._done = False

    # ------------------------------------------------------------------ episode set-up
    def _town(self, options: dict[str, Any]) -> Town:
        if options.get("town_seed") is not None:
            return self.world.load(int(options["town_seed"]))
        index = options.get("town")
        if index is None:
            index = int(self.np_random.integers(self.num_towns))
        if isinstance(index, bool) or not isinstance(index, int | np.integer) or index < 0:
            raise ValueError(f"options['town'] must be a town index >= 0, got {index!r}")
        return self.world.load(town_seed(self.split, int(index)))

    def _route(self, town: Town, options: dict[str, Any]) -> Route:
        wanted = options.get("route")
        maneuvers = None
        if wanted is not None:
            maneuvers = parse_route(wanted) if isinstance(wanted, str) else [str(m) for m in wanted]
            bad = [m for m in maneuvers if m not in MANEUVER_CODES or m == "follow_road"]
            if bad:
                raise ValueError(f"route maneuvers must be turn_left, straight or turn_right, got {bad}")
        start = options.get("start")
        if start is not None:
            edge, forward, s = start
            return plan_route(town.map, int(edge), bool(forward), float(s), maneuvers, rng=self.np_random,
                              min_length_m=self.route_length_m)
        errors = []
        for _ in range(ROUTE_START_TRIES if maneuvers else 1):
            edge, forward, s = random_start(town.map, self.np_random)
            try:
                return plan_route(town.map, edge, forward, s, maneuvers, rng=self.np_random, min_length_m=self.route_length_m)
            except ValueError as err:
                errors.append(str(err))
        raise ValueError(f"no start in town {town.seed} lets the route {wanted!r} be driven ({ROUTE_START_TRIES} tried; "
                         f"e.g. {errors[0]}); choose another town or route")

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """Start an episode. ``options``: ``town`` (index in the split) or ``town_seed`` (a raw seed), ``route``
        (text such as "turn left, then go straight", or a list of maneuvers), ``start`` (edge, forward, s m),
        ``speed`` (initial m/s, default 6), ``seconds`` (time limit)."""
        super().reset(seed=seed)
        options = dict(options or {})
        unknown = sorted(set(options) - set(OPTION_KEYS))
        if unknown:
            raise ValueError(f"unknown reset options {unknown}; known: {', '.join(OPTION_KEYS)}")
        self.town = self._town(options)
        self.route = self._route(self.town, options)
        speed = float(options.get("speed", DEFAULT_SPEED_MPS))
        if not (np.isfinite(speed) and 0.0 <= speed <= self.limits.max_speed_mps):
            raise ValueError(f"options['speed'] must be in [0, {self.limits.max_speed_mps}] m/s, got {speed!r}")
        seconds = options.get("seconds", self.max_seconds)
        if seconds is None:
            seconds = 1.5 * float(reference_times(self.route, speed, stop_points(self.route, self.limits))[-1]) + 20.0
        self.time_limit = float(seconds)
        if not (np.isfinite(self.time_limit) and 0 < self.time_limit <= MAX_TIME_S):
            raise ValueError(f"options['seconds'] must be in (0, {MAX_TIME_S:.0f}] s, got {self.time_limit!r}")
        p, yaw = self.route.path[0], float(self.route.heading[0])
        self.state = VehicleState(float(p[0]), float(p[1]), yaw, speed)
        self.adapter.reset(speed)
        self.world.start(self.town, self.state)
        self.metrics = EpisodeMetrics(self.route, self.town.map, self.limits, speed, self.dt)
        self.t, self._steps, self._done = 0.0, 0, False
        self._phrases = [phrase(_PHRASE_KEY[m.kind], self.np_random) for m in self.route.maneuvers]
        self._follow = FOLLOW_ROAD
        self.metrics.update(self.state, *self.world.vehicles(), self.t, predict=self.world.predict)
        obs = self._observe()
        return obs, self._info({}, [])

    # ------------------------------------------------------------------ stepping
    def current_maneuver(self) -> tuple[int | None, float]:
        """Index of the next maneuver not yet completed and the distance (m) from the front bumper to its box."""
        front = self.metrics.progress + self.limits.front_m
        for k, m in enumerate(self.route.maneuvers):
            if self.metrics.progress < m.s_exit + 1.0:
                return k, max(m.s_enter - front, 0.0)
        return None, float("inf")

    def _instruction(self) -> tuple[str, int]:
        k, dist = self.current_maneuver()
        if k is None or dist > self.announce_m:
            return self._follow, MANEUVER_CODES["follow_road"]
        return self._phrases[k], MANEUVER_CODES[self.route.maneuvers[k].kind]

    def _observe(self) -> dict[str, Any]:
        if self._frame is None or self._steps % self.camera_every == 0:
            self._frame, self._camera_t = self.world.render(self.state), self.t
        text, code = self._instruction()
        return {
            "camera": self._frame,
            "speed": np.array([self.state.v], np.float32),
            "pose": np.array([self.state.x, self.state.y, self.state.yaw], np.float64),
            "time": np.array([self.t], np.float32),
            "instruction": text,
            "maneuver": code,
        }

    def _info(self, step: dict[str, Any], issues: list[str]) -> dict[str, Any]:
        k, dist = self.current_maneuver()
        return {**step, "t": round(self.t, 3), "town_seed": self.town.seed, "route": self.route.text(),
                "route_completion": self.metrics.max_progress / self.route.length, "maneuver_index": k,
                "maneuver_distance_m": dist, "action_issues": issues, "camera_t": round(self._camera_t, 3)}

    def step(self, action: Any) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        if self._done:
            raise RuntimeError("the episode has ended; call reset() to start another")
        (steer, speed, accel), issues = self.adapter.command(action, self.state)
        before = self.metrics.progress
        self.state = self.vehicle.step(self.state, steer, speed, accel, self.dt)
        self.world.step(self.dt, box(self.state, self.limits), self.state.v)
        self._steps += 1
        self.t = self._steps * self.dt
        step = self.metrics.update(self.state, *self.world.vehicles(), self.t, predict=self.world.predict)
        obs = self._observe()
        reward = 0.1 * (self.metrics.progress - before) - 10.0 * step["at_fault_collision"] - 0.05 * (not step["drivable"])
        reason = None
        if self.metrics.progress >= self.route.length - 1.0:
            reason = "route_complete"
        elif step["at_fault_collision"]:
            reason = "collision"
        elif self.metrics.off_route:
            reason = "off_route"
        terminated = reason is not None
        truncated = not terminated and self.t >= self.time_limit - 1e-6
        info = self._info(step, issues)
        if terminated or truncated:
            self._done = True
            self.metrics.close(failed=reason in ("collision", "off_route"))
            info["termination"] = reason or "time_limit"
            info["episode"] = self.metrics.summary(self.time_limit)
        return obs, float(reward), terminated, truncated, info

    def render(self) -> np.ndarray | None:
        return self._frame if self.render_mode == "rgb_array" else None

    def close(self) -> None:
        self.world.close()


def announce_m_for(policy: Any, override: float | None = None) -> float:
    """How far before its junction (m) a maneuver is announced to ``policy``: ``override`` when given, else the
    policy's own ``announce_m``, else :data:`ANNOUNCE_M`."""
    return float(override) if override is not None else float(getattr(policy, "announce_m", ANNOUNCE_M))


def camera_period_for(policy: Any, dt: float) -> float | None:
    """The camera period (s) ``policy`` asks for (its ``camera_period_s``) when it is a whole number of steps of
    ``dt``; None (every step) otherwise."""
    period = getattr(policy, "camera_period_s", None)
    if period is None or not np.isfinite(period) or period < dt:
        return None
    steps = period / dt
    return float(period) if abs(steps - round(steps)) < 1e-6 else None


#: The worlds an episode drives in: ``procedural`` (the scenario renderer is the camera) or ``neural`` (the video model).
WORLDS = ("procedural", "neural")


def check_world(world: str) -> str:
    """``world`` when it is one of :data:`WORLDS`; else ``ValueError`` naming the choices."""
    if world not in WORLDS:
        raise ValueError(f"unknown world {world!r}; choose {' or '.join(WORLDS)}")
    return world


def make_world_env(world: str, video_pipeline: Any = None, video_model: str | Path | None = None, device: str = "auto",
                   **kwargs: Any) -> DrivingEnv:
    """:class:`DrivingEnv` in ``world``: :func:`make_neural_env` for ``neural`` (its camera ``video_pipeline``, or the
    one loaded from ``video_model`` on ``device``), else ``DrivingEnv(**kwargs)`` (the video arguments unused)."""
    if check_world(world) == "neural":
        return make_neural_env(video_pipeline=video_pipeline, video_model=video_model, device=device, **kwargs)
    return DrivingEnv(**kwargs)


def make_neural_env(dt: float = 0.2, video_pipeline: Any = None, video_model: str | Path | None = None, device: str = "auto",
                    num_inference_steps: int | None = None, twin_frames: bool = False, min_hole_pixels: int | None = None,
                    **kwargs: Any) -> DrivingEnv:
    """``ct1sim/NeuralDriving-v0``: :class:`DrivingEnv` in the neural world (the video model renders the camera) at
    5 Hz by default; ``num_inference_steps`` / ``min_hole_pixels``: the generator's (None: the neural world's
    defaults, :data:`~ct1_sim.sim.neural.NEURAL_INFERENCE_STEPS` and :data:`~ct1_sim.sim.neural.NEURAL_MIN_HOLE_PIXELS`);
    other arguments as :class:`DrivingEnv`."""
    from ct1_sim.sim.neural import NeuralWorld

    given = {k: v for k, v in (("num_inference_steps", num_inference_steps), ("min_hole_pixels", min_hole_pixels)) if v is not None}
    world = NeuralWorld(video_pipeline, video_model, device=device, twin_frames=twin_frames, agents=kwargs.pop("agents", None), **given)
    kwargs.pop("camera", None)
    return DrivingEnv(dt=dt, world=world, **kwargs)
