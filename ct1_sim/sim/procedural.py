"""The procedural world: a town (exact map, parked and moving vehicles) and its camera, rendered on demand at any
ego pose with the scenario renderer (OpenCV camera of the clip spec: 448x256, 64 deg HFOV, 1.5 m up, 1.5 m
ahead of the rear axle, pitched 2 deg down)."""

from __future__ import annotations

import logging
from collections import OrderedDict

import numpy as np

from ct1_sim.clip_spec import CLIP_SPEC, ClipSpec
from ct1_sim.data.scenarios.ego_motion import camera_c2w
from ct1_sim.data.scenarios.town import Town, build_town
from ct1_sim.sim.traffic import Traffic
from ct1_sim.sim.vehicle import VehicleState

log = logging.getLogger(__name__)

TILE_M = 80.0  # draw-culling tiles of the static town mesh
SHADOW_AHEAD_M = 60.0
SHADOW_MOVE_M = 50.0  # redraw the shadow map once the point ahead has moved this far
#: agents starting this close to the ego (m) are left out of an episode (they would start overlapping it)
CLEAR_START_M = 25.0
_HIDDEN = np.diag([1.0, 1.0, 1.0, 1.0])
_HIDDEN[2, 3] = -1000.0  # a pose under the ground: an agent left out of the episode is not drawn


#: Towns built in this process, the most recently used last (shared by every world: building takes seconds).
_TOWNS: OrderedDict[tuple[int, int | None], Town] = OrderedDict()
TOWN_CACHE = 3


def load_town(seed: int, agents: int | None = None) -> Town:
    """The town of ``seed`` (with ``agents`` moving vehicles, default its own), built once per process."""
    key = (int(seed), agents)
    if key in _TOWNS:
        _TOWNS.move_to_end(key)
        return _TOWNS[key]
    log.info("building town %d", seed)
    town = build_town(seed, agents=agents)
    _TOWNS[key] = town
    while len(_TOWNS) > TOWN_CACHE:
        _TOWNS.popitem(last=False)
    return town


class ProceduralWorld:
    """A town's traffic and a camera at any ego pose (towns come from :func:`load_town`)."""

    def __init__(self, clip_spec: ClipSpec = CLIP_SPEC, camera: bool = True, agents: int | None = None) -> None:
        self.spec = clip_spec
        self.camera_enabled = camera
        self.agents_override = agents
        self._renderer = None
        self._uploaded: int | None = None
        self._shadow_focus: np.ndarray | None = None
        self.town: Town | None = None
        self.traffic: Traffic | None = None
        self.active: np.ndarray = np.zeros(0, bool)

    @property
    def K(self) -> np.ndarray:
        return self.spec.K

    def load(self, seed: int) -> Town:
        """The town of ``seed``."""
        return load_town(seed, self.agents_override)

    def start(self, town: Town, ego: VehicleState) -> None:
        """Begin an episode in ``town`` with the ego at ``ego``: traffic from its start, minus the agents that
        would start within :data:`CLEAR_START_M` of the ego."""
        self.town = town
        here = np.array([ego.x, ego.y])
        self.active = np.array([np.hypot(*(a.route.path[0] - here)) > CLEAR_START_M for a in town.agents], bool)
        self.traffic = Traffic([a for a, keep in zip(town.agents, self.active, strict=True) if keep], town.map)
        self._shadow_focus = None

    def step(self, dt: float, ego_box: np.ndarray, ego_v: float) -> None:
        self.traffic.step(dt, ego_box, ego_v)

    def vehicles(self) -> tuple[np.ndarray, np.ndarray]:
        """Footprints ``(N,5)`` and velocities ``(N,2)`` of every other vehicle: the moving ones, then the parked."""
        parked = self.town.parked
        boxes = np.vstack([self.traffic.boxes(), parked]) if len(parked) else self.traffic.boxes()
        vel = np.vstack([self.traffic.velocities(), np.zeros((len(parked), 2))])
        return boxes.reshape(-1, 5), vel.reshape(-1, 2)

    def predict(self, index: np.ndarray, taus: np.ndarray) -> np.ndarray:
        """Footprints ``(T,K,5)`` of vehicles ``index`` (as :meth:`vehicles` orders them) ``taus`` s ahead: moving
        ones along their routes at their current speed, parked ones where they are."""
        index = np.asarray(index, dtype=int)
        n = len(self.traffic)
        out = np.zeros((len(taus), len(index), 5))
        moving = index < n
        if moving.any():
            out[:, moving] = self.traffic.predict(index[moving], taus)
        if (~moving).any():
            out[:, ~moving] = self.town.parked[index[~moving] - n][None]
        return out

    def camera_pose(self, ego: VehicleState) -> np.ndarray:
        """OpenCV camera-to-world 4x4 of the front camera."""
        return camera_c2w(ego.x, ego.y, ego.yaw, self.spec.camera_height_m, pitch_deg=self.spec.camera_pitch_deg)

    def render(self, ego: VehicleState) -> np.ndarray:
        """The camera frame ``(H,W,3)`` uint8 at the ego's pose (black when the camera is off)."""
        if not self.camera_enabled:
            return np.zeros((self.spec.height, self.spec.width, 3), np.uint8)
        return self.render_with_depth(ego)[0]

    def render_with_depth(self, ego: VehicleState) -> tuple[np.ndarray, np.ndarray]:
        """The camera frame ``(H,W,3)`` uint8 and its depth ``(H,W)`` (m along the optical axis) at the ego's pose,
        whether or not the env's camera is on (training clips are cut from drives that render only every other step)."""
        if self._renderer is None:
            from ct1_sim.data.scenarios.renderer import SceneRenderer

            self._renderer = SceneRenderer(self.spec.width, self.spec.height)
        town = self.town
        focus = np.array([ego.x + SHADOW_AHEAD_M * np.cos(ego.yaw), ego.y + SHADOW_AHEAD_M * np.sin(ego.yaw)])
        if self._uploaded != id(town):
            self._renderer.set_world(town.mesh.array(), [a.vertices for a in town.agents], shadow_centre=tuple(focus), tile_m=TILE_M)
            self._uploaded, self._shadow_focus = id(town), focus
        elif self._shadow_focus is None or np.hypot(*(focus - self._shadow_focus)) > SHADOW_MOVE_M:
            self._renderer.set_shadow_centre(tuple(focus))
            self._shadow_focus = focus
        poses = iter(self.traffic.poses4x4())
        mover_poses = [next(poses) if keep else _HIDDEN for keep in self.active]
        rgb, depth = self._renderer.render(self.camera_pose(ego), self.K, town.lighting, mover_poses)
        return rgb, depth

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.release()
            self._renderer = None
            self._uploaded = None
