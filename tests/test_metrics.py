"""Metrics on hand-worked cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from ct1_sim.metrics import (
    ade,
    cam_mc,
    classify_maneuver,
    classify_speed_behaviour,
    fde,
    jerk,
    l2_at,
    maneuver_compliance,
    min_ade,
    min_fde,
    rot_err,
    rotation_error_deg,
    trans_err,
)
from tests.conftest import make_trajectory, random_poses
from tests.toy_clips import arc_path

DT = 0.2


def straight(speed: float = 10.0, n: int = 16) -> np.ndarray:
    c2w = np.tile(np.eye(4), (n, 1, 1))
    c2w[:, 2, 3] = speed * np.arange(n) * DT
    return c2w


def lane_change(side: float, n: int = 16, speed: float = 10.0, width: float = 3.5) -> np.ndarray:
    """A smooth sigmoid lateral shift of ``width`` m to the right (side=+1) or left (-1), heading following."""
    t = np.arange(n) * DT
    z = speed * t
    x = side * width / (1 + np.exp(-(t - 1.4) * 4.0))
    dxdz = np.gradient(x, z)
    c2w = np.tile(np.eye(4), (n, 1, 1))
    for i in range(n):
        c2w[i, :3, :3] = Rotation.from_euler("y", [np.arctan(dxdz[i])]).as_matrix()
    c2w[:, 0, 3], c2w[:, 2, 3] = x, z
    return c2w


def braking(v0: float = 8.0, n: int = 16) -> np.ndarray:
    t = np.arange(n) * DT
    a = v0 / 2.0  # stops after 2 s
    s = np.where(t < 2.0, v0 * t - 0.5 * a * t**2, v0 * 2.0 - 0.5 * a * 4.0)
    c2w = np.tile(np.eye(4), (n, 1, 1))
    c2w[:, 2, 3] = s
    return c2w


def test_identical_paths_give_zero_everywhere(rng: np.random.Generator) -> None:
    traj = make_trajectory(random_poses(rng, 16, max_translation=5.0))
    for metric in (ade, fde, rotation_error_deg, rot_err, trans_err, cam_mc):
        assert metric(traj, traj) == pytest.approx(0.0, abs=1e-6)
    assert min_ade([traj, traj], traj) == pytest.approx(0.0, abs=1e-9)


def test_ade_fde_of_a_lateral_offset() -> None:
    gt = straight()
    pred = gt.copy()
    pred[1:, 0, 3] += 1.0  # 1 m to the right after frame 0
    assert ade(pred, gt) == pytest.approx(15 / 16)
    assert fde(pred, gt) == pytest.approx(1.0)
    assert min_ade([pred, gt], gt) == 0.0 and min_fde(np.stack([pred, pred]), gt) == pytest.approx(1.0)
    # an absolute ground truth somewhere else in the world gives the same numbers
    world = random_poses(np.random.default_rng(3), 1)[0]
    assert ade(pred, world @ gt) == pytest.approx(15 / 16)


def test_camera_control_metrics() -> None:
    n = 5
    gt = straight(n=n)
    gen = gt.copy()
    for j in range(1, n):
        gen[j, :3, :3] = Rotation.from_euler("y", 90, degrees=True).as_matrix()
    assert rot_err(gen, gt) == pytest.approx((n - 1) * np.pi / 2)
    scaled = straight(n=n)
    scaled[:, :3, 3] *= 3.0
    assert trans_err(scaled, gt) == pytest.approx(0.0, abs=1e-12)  # scale-invariant
    sideways = gt.copy()
    sideways[:, 0, 3], sideways[:, 2, 3] = gt[:, 2, 3], 0.0
    # unit-scaled: gt (0,0,j/4), gen (j/4,0,0) -> |diff| = sqrt(2) j/4
    assert trans_err(sideways, gt) == pytest.approx(np.sqrt(2) * sum(j / 4 for j in range(n)))
    # CamMC: rotation difference of 90 deg about y has Frobenius norm 2 (identity vs R_y(90))
    assert cam_mc(gen, gt) == pytest.approx((n - 1) * 2.0)


def test_jerk_and_l2() -> None:
    assert jerk(straight(), dt_s=DT) == pytest.approx(0.0, abs=1e-9)
    cubic = np.tile(np.eye(4), (10, 1, 1))
    t = np.arange(10) * DT
    cubic[:, 2, 3] = t**3
    assert jerk(cubic, dt_s=DT) == pytest.approx(6.0)
    gt = straight()
    pred = gt.copy()
    pred[:, 0, 3] = np.arange(16) * DT  # error grows 1 m per second
    assert l2_at(pred, gt, 1.0, dt_s=DT) == pytest.approx(1.0)
    assert l2_at(pred, gt, 1.1, dt_s=DT) == pytest.approx(1.1)
    assert l2_at(pred, gt, 1.0, dt_s=DT, mode="average") == pytest.approx(np.mean([0.2, 0.4, 0.6, 0.8, 1.0]))
    with pytest.raises(ValueError, match="dt_s"):
        jerk(straight())
    with pytest.raises(ValueError, match="horizon"):
        l2_at(pred, gt, 9.0, dt_s=DT)


def test_classify_maneuver_on_constructed_paths() -> None:
    def label(c2w: np.ndarray) -> str:
        return classify_maneuver(make_trajectory(c2w))

    assert label(straight()) == "straight"
    assert label(arc_path("turn_left", 6.0)) == "turn_left"
    assert label(arc_path("turn_right", 6.0)) == "turn_right"
    assert label(lane_change(-1.0)) == "lane_change_left"
    assert label(lane_change(+1.0)) == "lane_change_right"
    assert label(braking()) == "stop"
    assert label(np.tile(np.eye(4), (16, 1, 1))) == "stop"
    # a gentle curve (radius 150 m) keeps turning: following the road, not a lane change
    gentle = np.tile(np.eye(4), (16, 1, 1))
    s = 10.0 * np.arange(16) * DT
    yaw = s / 150.0
    gentle[:, 0, 3], gentle[:, 2, 3] = 150.0 * (1 - np.cos(yaw)), 150.0 * np.sin(yaw)
    gentle[:, :3, :3] = Rotation.from_euler("y", yaw[:, None]).as_matrix()
    assert label(gentle) == "straight"
    assert maneuver_compliance([make_trajectory(straight()), make_trajectory(braking())], "stop") == 0.5


def test_speed_behaviour() -> None:
    t = np.arange(16) * DT

    def path(s: np.ndarray) -> str:
        c2w = np.tile(np.eye(4), (16, 1, 1))
        c2w[:, 2, 3] = s
        return classify_speed_behaviour(make_trajectory(c2w))

    assert path(10 * t) == "keep_speed"
    assert path(5 * t + 1.5 * t**2) == "speed_up"
    assert path(12 * t - 1.5 * t**2) == "slow_down"
    assert path(braking()[:, 2, 3]) == "stop"


def test_arrays_and_trajectories_agree_and_lengths_checked(rng: np.random.Generator) -> None:
    a, b = random_poses(rng, 16, 5.0), random_poses(rng, 16, 5.0)
    assert ade(make_trajectory(a), make_trajectory(b)) == pytest.approx(ade(a, b))
    assert jerk(make_trajectory(a)) == pytest.approx(jerk(a, dt_s=DT))
    with pytest.raises(ValueError, match="16 poses but gt has 15"):
        ade(a, b[:15])


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_metrics_are_invariant_to_moving_the_world(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = random_poses(rng, 8, 5.0), random_poses(rng, 8, 5.0)
    W1, W2 = random_poses(rng, 2, 50.0)
    for metric in (ade, fde, rotation_error_deg, rot_err, trans_err, cam_mc):
        assert metric(W1 @ a, W2 @ b) == pytest.approx(metric(a, b), rel=1e-7, abs=1e-7)
    assert ade(a, b) >= 0
