"""DrivingEnv: the Gymnasium contract, the physics bar, determinism and bad input."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from ct1_sim.sim import PROCEDURAL_ENV_ID
from ct1_sim.sim.env import DrivingEnv
from ct1_sim.sim.vehicle import KinematicBicycle, VehicleLimits, VehicleState


@pytest.fixture(scope="module")
def env():
    e = DrivingEnv(num_towns=1)
    yield e
    e.close()


@pytest.mark.parametrize("action_type", ["ackermann", "twist", "path"])
def test_the_env_passes_gymnasiums_checker(action_type: str) -> None:
    e = DrivingEnv(action_type=action_type, num_towns=1, camera=action_type == "ackermann")
    try:
        check_env(e, skip_render_check=True)
    finally:
        e.close()


def test_registered_id_makes_the_env() -> None:
    e = gym.make(PROCEDURAL_ENV_ID, num_towns=1, camera=False)
    try:
        obs, info = e.reset(seed=0)
        assert obs["camera"].shape == (256, 448, 3) and info["route"]
    finally:
        e.close()


@pytest.mark.parametrize("steer", [0.1, 0.25, -0.4])
def test_a_constant_ackermann_command_drives_the_bicycles_circle(steer: float) -> None:
    lim = VehicleLimits()
    car = KinematicBicycle(lim)
    s = VehicleState(0.0, 0.0, 0.0, 5.0)
    xy = []
    for k in range(400):
        s = car.step(s, steer, 5.0, 0.0, 0.1)
        if k > 50:  # the steering has reached its command
            xy.append((s.x, s.y))
    xy = np.array(xy)
    # least-squares circle through the rear-axle track
    A = np.hstack([2 * xy, np.ones((len(xy), 1))])
    (cx, cy, c), *_ = np.linalg.lstsq(A, (xy**2).sum(1), rcond=None)
    radius = np.sqrt(c + cx**2 + cy**2)
    expected = lim.wheelbase_m / np.tan(abs(steer))
    assert abs(radius - expected) / expected < 0.01, (radius, expected)
    assert np.std(np.hypot(xy[:, 0] - cx, xy[:, 1] - cy)) < 1e-6 * expected + 1e-9  # a circle, not a spiral


def test_the_same_seed_replays_the_same_episode(env) -> None:
    runs = []
    for _ in range(2):
        obs, info = env.reset(seed=7)
        frames, poses = [obs["camera"]], []
        for _ in range(15):
            obs, *_ = env.step([0.05, 7.0, 0.0])
            frames.append(obs["camera"])
            poses.append(obs["pose"])
        runs.append((info["route"], np.array(frames), np.array(poses)))
    assert runs[0][0] == runs[1][0]
    assert np.array_equal(runs[0][1], runs[1][1]) and np.array_equal(runs[0][2], runs[1][2])
    obs, info = env.reset(seed=8)
    assert info["route"] != runs[0][0] or not np.array_equal(obs["pose"], runs[0][2][0])


@pytest.mark.parametrize("action, expected", [
    ([np.nan, 5.0, 0.0], "steering is nan"),
    ([0.0, np.inf, 0.0], "speed is inf"),
    ([3.0, 5.0, 0.0], "steering 3.000 outside"),
    ([0.0, 99.0, 0.0], "speed 99.000 outside"),
    ([0.0, -4.0, 0.0], "speed -4.000 outside"),
    ([1.0, 2.0], "action shape (2,)"),
    ("fast", "not numeric"),
])
def test_bad_actions_are_clamped_and_reported_never_raised(env, action, expected: str) -> None:
    env.reset(seed=1)
    obs, reward, _, _, info = env.step(action)
    assert any(expected in issue for issue in info["action_issues"]), info["action_issues"]
    assert np.isfinite(obs["pose"]).all() and np.isfinite(reward)
    lim = env.limits
    assert abs(env.state.steer) <= lim.max_steer_rad + 1e-9 and 0.0 <= env.state.v <= lim.max_speed_mps


def test_bad_paths_are_reported() -> None:
    e = DrivingEnv(action_type="path", num_towns=1, camera=False)
    try:
        e.reset(seed=0)
        behind = np.stack([-np.arange(1, 16) * 1.0, np.zeros(15)], axis=1)
        _, _, _, _, info = e.step(behind)
        assert any("behind the ego" in m for m in info["action_issues"])
        holes = np.stack([np.arange(1, 16) * 1.2, np.zeros(15)], axis=1)
        holes[3] = np.nan
        _, _, _, _, info = e.step(holes)
        assert any("non-finite" in m for m in info["action_issues"]) and e.state.v > 0
    finally:
        e.close()


def test_bad_reset_options_are_clear_errors(env) -> None:
    with pytest.raises(ValueError, match="unknown reset options"):
        env.reset(seed=0, options={"twon": 3})
    with pytest.raises(ValueError, match="must name exactly one of left, right or straight"):
        env.reset(seed=0, options={"route": "fly"})
    with pytest.raises(ValueError, match="options\\['speed'\\]"):
        env.reset(seed=0, options={"speed": float("nan")})
    with pytest.raises(ValueError, match="unknown action type"):
        DrivingEnv(action_type="joystick")


def test_one_list_of_worlds_for_every_entry_point() -> None:
    """``sim run``, ``sim eval``, ``sim ros`` and :class:`EvalSpec` check the world against one list."""
    from ct1_sim.sim.env import WORLDS, check_world
    from ct1_sim.sim.evaluation import EvalSpec

    assert WORLDS == ("procedural", "neural") and check_world("neural") == "neural"
    with pytest.raises(ValueError, match="unknown world 'dream'; choose procedural or neural"):
        check_world("dream")
    with pytest.raises(ValueError, match="unknown world 'dream'"):
        EvalSpec(policies=("expert",), world="dream")


def test_a_slower_camera_repeats_its_latest_frame_and_refreshes_on_its_ticks() -> None:
    every = DrivingEnv(num_towns=1)
    slow = DrivingEnv(num_towns=1, camera_period_s=0.3)
    try:
        a, _ = every.reset(seed=1, options={"town": 0})
        b, info = slow.reset(seed=1, options={"town": 0})
        assert np.array_equal(a["camera"], b["camera"]) and info["camera_t"] == 0.0
        last = b["camera"]
        for k in range(1, 8):
            a, *_ = every.step([0.05, 7.0, 0.0])
            b, _, _, _, info = slow.step([0.05, 7.0, 0.0])
            if k % 3 == 0:  # a tick: the same frame as the camera that renders every step
                assert np.array_equal(a["camera"], b["camera"]) and info["camera_t"] == pytest.approx(0.1 * k)
                assert not np.array_equal(b["camera"], last)  # the ego moved: a new frame
                last = b["camera"]
            else:
                assert np.array_equal(b["camera"], last) and info["camera_t"] == pytest.approx(0.1 * (k - k % 3))
            assert np.array_equal(a["pose"], b["pose"])  # the camera never changes the drive
    finally:
        every.close()
        slow.close()


@pytest.mark.parametrize("period", [0.05, 0.25, float("nan"), -1.0])
def test_a_camera_period_that_is_not_whole_steps_is_a_clear_error(period: float) -> None:
    with pytest.raises(ValueError, match="whole number of steps"):
        DrivingEnv(num_towns=1, camera=False, camera_period_s=period)
