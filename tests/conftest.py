"""Shared test helpers: random rigid poses and small trajectories."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from ct1_sim.geometry import CameraTrajectory, intrinsics_from_fov

if TYPE_CHECKING:
    from tests.ros_helpers import LocalRosbridge


def random_poses(rng: np.random.Generator, n: int, max_translation: float = 50.0) -> np.ndarray:
    """``n`` random rigid camera-to-world transforms."""
    c2w = np.tile(np.eye(4), (n, 1, 1))
    c2w[:, :3, :3] = Rotation.random(n, random_state=rng).as_matrix()
    c2w[:, :3, 3] = rng.uniform(-max_translation, max_translation, size=(n, 3))
    return c2w


def make_trajectory(c2w: np.ndarray, rate_hz: float = 5.0, size: tuple[int, int] = (448, 256)) -> CameraTrajectory:
    ts = np.round(np.arange(len(c2w)) * 1e6 / rate_hz).astype(np.int64)
    return CameraTrajectory(c2w=c2w, K=intrinsics_from_fov(*size, 64.0), image_size=size, timestamps_us=ts)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture(scope="module")
def rosbridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRosbridge]:
    """A real rosbridge server (``launch/local-rosbridge``) for one test module: started before its first test that
    asks for it, stopped after its last."""
    from tests.ros_helpers import LocalRosbridge, free_port

    server = LocalRosbridge(free_port(), tmp_path_factory.mktemp("ros") / "rosbridge.log")
    server.start()
    yield server
    server.stop()
