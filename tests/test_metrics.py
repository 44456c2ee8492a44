"""Metrics on hand-worked cases: every number below is worked out by hand in the comment next to it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from ct1_sim.geometry import invert_rigid, mirror_c2w
from ct1_sim.metrics import (
    MANEUVERS,
    ade,
    cam_mc,
    classify_drive,
    classify_maneuver,
    classify_maneuvers,
    classify_speed_behaviour,
    fde,
    heading_deg,
    jerk,
    l2_at,
    maneuver_compliance,
    masked_psnr,
    min_ade,
    min_fde,
    psnr,
    rot_err,
    rotation_error_deg,
    ssim,
    trans_err,
)
from tests.conftest import make_trajectory, random_poses
from tests.toy_clips import arc_path

DT = 0.2  # 5 Hz, the clip spec: 16 poses over 3 s


def yaw(deg: float) -> np.ndarray:
    """Rotation about the camera's y axis (which points down): positive turns z towards +x, i.e. right."""
    return Rotation.from_euler("y", deg, degrees=True).as_matrix()


def straight(speed: float = 10.0, n: int = 16) -> np.ndarray:
    c2w = np.tile(np.eye(4), (n, 1, 1))
    c2w[:, 2, 3] = speed * np.arange(n) * DT
    return c2w


def along_z(s: np.ndarray) -> np.ndarray:
    c2w = np.tile(np.eye(4), (len(s), 1, 1))
    c2w[:, 2, 3] = s
    return c2w


def arc(side: str, total_deg: float, speed: float = 8.0, n: int = 16) -> np.ndarray:
    """Constant-radius arc turning ``total_deg`` over the clip; left = towards -x, so yaw angle negative."""
    sign = -1.0 if side == "left" else 1.0
    s = speed * np.arange(n) * DT
    radius = s[-1] / np.radians(total_deg)
    theta = s / radius  # rad, >= 0
    c2w = np.tile(np.eye(4), (n, 1, 1))
    c2w[:, 0, 3] = sign * radius * (1 - np.cos(theta))  # sideways towards the turn
    c2w[:, 2, 3] = radius * np.sin(theta)
    c2w[:, :3, :3] = Rotation.from_euler("y", sign * theta[:, None]).as_matrix()
    return c2w


def lane_change(side: float, n: int = 16, speed: float = 10.0, width: float = 3.5) -> np.ndarray:
    """A smooth sigmoid shift of ``width`` m to the right (side=+1) or left (-1), heading following."""
    t = np.arange(n) * DT
    z = speed * t
    x = side * width / (1 + np.exp(-(t - 1.4) * 4.0))
    heading = np.arctan(np.gradient(x, z))  # back to ~0 at the end
    c2w = np.tile(np.eye(4), (n, 1, 1))
    c2w[:, :3, :3] = Rotation.from_euler("y", heading[:, None]).as_matrix()
    c2w[:, 0, 3], c2w[:, 2, 3] = x, z
    return c2w


def braking(v0: float = 8.0, n: int = 16) -> np.ndarray:
    """Constant deceleration to rest at 2 s, then standing still."""
    t = np.arange(n) * DT
    a = v0 / 2.0
    return along_z(np.where(t < 2.0, v0 * t - 0.5 * a * t**2, v0 * 2.0 - 0.5 * a * 4.0))


# --------------------------------------------------------------------------------------------- errors


def test_identical_paths_give_zero_for_every_metric(rng: np.random.Generator) -> None:
    traj = make_trajectory(random_poses(rng, 16, max_translation=5.0))
    for metric in (ade, fde, rotation_error_deg, rot_err, trans_err, cam_mc):
        assert metric(traj, traj) == pytest.approx(0.0, abs=1e-6), metric.__name__
    assert min_ade([traj, traj], traj) == pytest.approx(0.0, abs=1e-9)
    assert min_fde([traj], traj) == pytest.approx(0.0, abs=1e-9)
    assert l2_at(traj, traj, 2.0) == pytest.approx(0.0, abs=1e-9)
    assert l2_at(traj, traj, 2.0, mode="average") == pytest.approx(0.0, abs=1e-9)


def test_ade_fde_of_a_constant_lateral_offset() -> None:
    gt = straight()
    pred = gt.copy()
    pred[1:, 0, 3] += 1.0  # 1 m to the right at frames 1..15, 0 at frame 0
    assert ade(pred, gt) == pytest.approx(15 / 16)  # (0 + 15 * 1 m) / 16 poses
    assert fde(pred, gt) == pytest.approx(1.0)
    # ground truth given in another world frame (absolute) while the prediction is relative: same numbers
    world = random_poses(np.random.default_rng(3), 1)[0]
    assert ade(pred, world @ gt) == pytest.approx(15 / 16)
    assert fde(pred, world @ gt) == pytest.approx(1.0)
    # relative=False compares the raw world coordinates, which is then meaningless
    assert ade(pred, world @ gt, relative=False) > 5.0
    assert ade(pred, gt, relative=False) == pytest.approx(15 / 16)


def test_min_over_samples_picks_the_closest_sample() -> None:
    gt = straight()
    samples = []
    for offset in (3.0, 0.5, 2.0):
        s = gt.copy()
        s[1:, 0, 3] += offset
        samples.append(s)
    assert min_ade(samples, gt) == pytest.approx(0.5 * 15 / 16)
    assert min_fde(np.stack(samples), gt) == pytest.approx(0.5)  # (K,T,4,4) array
    assert min_ade(samples[::-1], gt) == pytest.approx(0.5 * 15 / 16)  # not "the first" or "the last"
    with pytest.raises(ValueError, match="empty"):
        min_ade([], gt)


def test_rotation_error_deg() -> None:
    gt = straight(n=4)
    pred = gt.copy()
    pred[1:, :3, :3] = yaw(30.0)  # frames 1..3 look 30 deg to the right
    assert rotation_error_deg(pred, gt) == pytest.approx(3 * 30.0 / 4)  # mean over the 4 poses


# --------------------------------------------------------------------------------------------- CamI2V


def test_rot_err_of_a_90_degree_yaw_at_every_frame_after_the_first() -> None:
    n = 5
    gt = straight(n=n)
    gen = gt.copy()
    gen[1:, :3, :3] = yaw(90.0)
    assert rot_err(gen, gt) == pytest.approx((n - 1) * np.pi / 2)


def test_trans_err_is_scale_free() -> None:
    n = 5
    gt = straight(n=n)  # centres (0,0,2j)
    gen = arc("left", 60.0, n=n)
    scaled = gen.copy()
    scaled[:, :3, 3] *= 3.0
    assert trans_err(gen, gt) > 0.1
    assert trans_err(scaled, gt) == pytest.approx(trans_err(gen, gt))
    assert trans_err(gen, straight(speed=1.0, n=n)) == pytest.approx(trans_err(gen, gt))
    # hand value: gt (0,0,j/4) and gen (j/4,0,0) after normalisation -> |diff| = sqrt(2) j / 4
    sideways = np.tile(np.eye(4), (n, 1, 1))
    sideways[:, 0, 3] = np.arange(n) * 7.0
    assert trans_err(sideways, gt) == pytest.approx(np.sqrt(2) * sum(j / 4 for j in range(n)))
    # a path that does not move is left unscaled (no division by zero)
    still = np.tile(np.eye(4), (n, 1, 1))
    assert trans_err(still, gt) == pytest.approx(sum(j / 4 for j in range(n)))


def test_cam_mc_hand_built() -> None:
    # gt drives 1 m forward per frame: normalised centres (0,0,0), (0,0,.5), (0,0,1); rotations identity.
    gt = along_z(np.array([0.0, 1.0, 2.0]))
    # gen drives 3 m sideways per frame (normalised (0,0,0), (.5,0,0), (1,0,0)) and looks right at frame 2.
    gen = np.tile(np.eye(4), (3, 1, 1))
    gen[:, 0, 3] = [0.0, 3.0, 6.0]
    gen[2, :3, :3] = yaw(90.0)
    # frame 1: t diff (.5,0,-.5) -> sqrt(.5). frame 2: |R_y(90) - I|_F^2 = 4, t diff (1,0,-1) -> 2: sqrt(6).
    assert cam_mc(gen, gt) == pytest.approx(np.sqrt(0.5) + np.sqrt(6.0))
    # CamI2V compares camera-to-world [R|t]; world-to-camera [R^T | -R^T c] would give sqrt(.5) + 2 here
    # (frame 2: -R_y(90)^T (6,0,0) = (0,0,-6) normalises to gt's (0,0,-1), leaving only the rotation).
    w2c_gen, w2c_gt = invert_rigid(gen), invert_rigid(gt)
    w2c_gen[:, :3, 3] /= 6.0
    w2c_gt[:, :3, 3] /= 2.0
    w2c_value = sum(np.linalg.norm(w2c_gen[j, :3] - w2c_gt[j, :3]) for j in range(3))
    assert w2c_value == pytest.approx(np.sqrt(0.5) + 2.0)
    assert cam_mc(gen, gt) != pytest.approx(w2c_value)
    # rotation part alone: 90 deg yaw at frames 1..4 of an otherwise identical path -> 2 per frame
    gen2 = straight(n=5)
    gen2[1:, :3, :3] = yaw(90.0)
    assert cam_mc(gen2, straight(n=5)) == pytest.approx(4 * 2.0)


# --------------------------------------------------------------------------------------------- jerk, L2


def test_jerk() -> None:
    assert jerk(straight(), dt_s=DT) == pytest.approx(0.0, abs=1e-9)  # constant velocity
    t = np.arange(10) * DT
    assert jerk(along_z(t**3), dt_s=DT) == pytest.approx(6.0)  # d^3(t^3)/dt^3 = 6 m/s^3
    assert jerk(along_z(2.0 * t**2), dt_s=DT) == pytest.approx(0.0, abs=1e-9)  # constant acceleration
    # uneven timestamps from a CameraTrajectory: still exact for a cubic
    ts = np.array([0, 150_000, 400_000, 500_000, 800_000, 1_000_000], dtype=np.int64)
    traj = make_trajectory(along_z((ts / 1e6) ** 3)).replace(timestamps_us=ts)
    assert jerk(traj) == pytest.approx(6.0)
    with pytest.raises(ValueError, match="dt_s"):
        jerk(straight())
    with pytest.raises(ValueError, match="at least 4 poses, got 3"):
        jerk(straight(n=3), dt_s=DT)


def test_l2_at_versus_average_on_an_error_growing_linearly() -> None:
    gt = straight()
    pred = gt.copy()
    pred[:, 0, 3] = np.arange(16) * DT  # sideways error of 1 m per second: e(t) = t
    assert l2_at(pred, gt, 1.0, dt_s=DT) == pytest.approx(1.0)
    assert l2_at(pred, gt, 1.1, dt_s=DT) == pytest.approx(1.1)  # between poses: interpolated
    assert l2_at(pred, gt, 3.0, dt_s=DT) == pytest.approx(3.0)
    # average over poses at 0.2 .. 1.0 s: (0.2 + 0.4 + 0.6 + 0.8 + 1.0) / 5 = 0.6
    assert l2_at(pred, gt, 1.0, dt_s=DT, mode="average") == pytest.approx(0.6)
    assert l2_at(pred, gt, 3.0, dt_s=DT, mode="average") == pytest.approx(1.6)  # mean of 0.2 .. 3.0
    # times come from a CameraTrajectory when one is given (no dt_s needed)
    assert l2_at(pred, make_trajectory(gt), 2.0) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="horizon"):
        l2_at(pred, gt, 9.0, dt_s=DT)
    with pytest.raises(ValueError, match="mode"):
        l2_at(pred, gt, 1.0, dt_s=DT, mode="mean")  # type: ignore[arg-type]


def test_l2_at_interpolates_poses_not_distances() -> None:
    gt = straight(n=3)
    pred = gt.copy()
    pred[1, 0, 3], pred[2, 0, 3] = 1.0, -1.0  # crosses the true path half-way between frames 1 and 2
    assert l2_at(pred, gt, 0.3, dt_s=DT) == pytest.approx(0.0, abs=1e-12)


# --------------------------------------------------------------------------------------------- maneuvers


def label(c2w: np.ndarray) -> str:
    return classify_maneuver(make_trajectory(c2w))


def test_heading_sign_left_is_negative() -> None:
    assert heading_deg(arc("left", 45.0))[-1] == pytest.approx(-45.0)
    assert heading_deg(arc("right", 45.0))[-1] == pytest.approx(45.0)
    left = arc("left", 45.0)
    assert left[-1, 0, 3] < 0  # the car ends up on the left (-x) of where it started


def test_classify_maneuver_on_constructed_paths() -> None:
    assert label(straight()) == "straight"
    assert label(arc("left", 45.0)) == "turn_left"
    assert label(arc("right", 45.0)) == "turn_right"
    assert label(arc_path("turn_left", 6.0)) == "turn_left"  # the toy clips' 90 deg arcs
    assert label(arc_path("turn_right", 6.0)) == "turn_right"
    assert label(lane_change(-1.0)) == "lane_change_left"
    assert label(lane_change(+1.0)) == "lane_change_right"
    assert label(braking()) == "stop"
    assert label(np.tile(np.eye(4), (16, 1, 1))) == "stop"
    assert label(along_z(np.arange(16) * 0.05)) == "stop"  # 0.25 m/s
    # creeping at 0.2 m/s, then 0.6 m/s over the last 0.6 s: end speed above 0.5 m/s but only 0.84 m driven
    creep = along_z(np.concatenate([np.arange(13) * 0.04, 0.48 + np.arange(1, 4) * 0.12]))
    assert label(creep) == "stop"
    # a gentle curve keeps turning (final heading = peak heading): following the road, not a lane change,
    # although it ends 1.5..6 m to the side with a small heading
    gentle = arc("left", 12.0, speed=10.0)
    assert -6.0 < gentle[-1, 0, 3] < -1.5
    assert label(gentle) == "straight"
    assert label(arc("left", 25.0)) == "straight"  # below TURN_MIN_DEG
    # a lane change to the side far beyond one or two lanes is not a lane change
    assert label(lane_change(+1.0, width=9.0)) == "straight"


def test_classify_maneuvers_reads_a_sample_set_as_one_by_one() -> None:
    paths = [straight(), arc("left", 45.0), arc("right", 45.0), lane_change(-1.0), lane_change(+1.0), braking(),
             arc("left", 12.0, speed=10.0), lane_change(+1.0, width=9.0), along_z(np.arange(16) * 0.05)]
    one_by_one = [label(c2w) for c2w in paths]
    assert one_by_one == ["straight", "turn_left", "turn_right", "lane_change_left", "lane_change_right", "stop", "straight",
                          "straight", "stop"]
    assert classify_maneuvers([make_trajectory(c2w) for c2w in paths]) == one_by_one
    assert classify_maneuvers(np.stack(paths), dt_s=DT) == one_by_one  # a (K,T,4,4) array
    mixed = [make_trajectory(straight()), make_trajectory(arc("left", 45.0, n=10))]  # other times: read one by one
    assert classify_maneuvers(mixed) == ["straight", "turn_left"]
    assert classify_maneuvers([]) == []


def test_classify_maneuver_takes_arrays_with_dt() -> None:
    assert classify_maneuver(arc("left", 45.0), dt_s=DT) == "turn_left"
    with pytest.raises(ValueError, match="dt_s"):
        classify_maneuver(arc("left", 45.0))


def test_speed_behaviour() -> None:
    t = np.arange(16) * DT

    def behaviour(s: np.ndarray) -> str:
        return classify_speed_behaviour(make_trajectory(along_z(s)))

    assert behaviour(10 * t) == "keep_speed"
    # windows centred at 0.3 s and 2.7 s: a change must exceed both 1 m/s and 20 % of the start speed
    assert behaviour(10 * t + 0.3 * t**2) == "keep_speed"  # 10.18 -> 11.62 m/s: +1.44 m/s but only +14 %
    assert behaviour(2 * t + 0.15 * t**2) == "keep_speed"  # 2.09 -> 2.81 m/s: +34 % but only +0.72 m/s
    assert behaviour(5 * t + 1.5 * t**2) == "speed_up"  # 5.9 -> 13.1 m/s
    assert behaviour(12 * t - 1.5 * t**2) == "slow_down"  # 11.1 -> 3.9 m/s
    assert behaviour(braking()[:, 2, 3]) == "stop"


def test_maneuver_compliance() -> None:
    paths = [make_trajectory(straight()), make_trajectory(braking()), make_trajectory(arc("left", 60.0))]
    assert maneuver_compliance(paths, "stop") == pytest.approx(1 / 3)
    assert maneuver_compliance(paths, "turn_right") == 0.0
    assert maneuver_compliance(np.stack([arc("left", 60.0)] * 4), "turn_left", dt_s=DT) == 1.0
    with pytest.raises(ValueError, match="unknown maneuver"):
        maneuver_compliance(paths, "u_turn")


# --------------------------------------------------------------------------------------------- inputs


def test_arrays_and_trajectories_give_equal_results(rng: np.random.Generator) -> None:
    a, b = random_poses(rng, 16, 5.0), random_poses(rng, 16, 5.0)
    ta, tb = make_trajectory(a), make_trajectory(b)
    for metric in (ade, fde, rotation_error_deg, rot_err, trans_err, cam_mc):
        assert metric(ta, tb) == pytest.approx(metric(a, b)), metric.__name__
        assert metric(ta, b) == pytest.approx(metric(a, b)), metric.__name__
    assert min_ade([ta, tb], tb) == pytest.approx(min_ade(np.stack([a, b]), b))
    assert jerk(ta) == pytest.approx(jerk(a, dt_s=DT))
    assert l2_at(ta, tb, 1.5) == pytest.approx(l2_at(a, b, 1.5, dt_s=DT))
    assert l2_at(ta, tb, 1.5, mode="average") == pytest.approx(l2_at(a, b, 1.5, dt_s=DT, mode="average"))
    for c2w in (lane_change(-1.0), braking(), arc("right", 50.0)):
        assert classify_maneuver(make_trajectory(c2w)) == classify_maneuver(c2w, dt_s=DT)
        assert classify_speed_behaviour(make_trajectory(c2w)) == classify_speed_behaviour(c2w, dt_s=DT)


def test_mismatched_inputs_raise_value_error(rng: np.random.Generator) -> None:
    a, b = random_poses(rng, 16, 5.0), random_poses(rng, 16, 5.0)
    for metric in (ade, fde, rotation_error_deg, rot_err, trans_err, cam_mc):
        with pytest.raises(ValueError, match="pred has 16 poses but gt has 15"):
            metric(a, b[:15])
    with pytest.raises(ValueError, match="16 poses but gt has 15"):
        min_ade(np.stack([a, a]), b[:15])
    with pytest.raises(ValueError, match="resample"):  # same length, different times (5 Hz vs 10 Hz)
        ade(make_trajectory(a), make_trajectory(b, rate_hz=10.0))
    with pytest.raises(ValueError, match=r"\(T,4,4\)"):
        ade(a[:, :3, :], b)


# --------------------------------------------------------------------------------------------- properties

PAIR_METRICS = (ade, fde, rotation_error_deg, rot_err, trans_err, cam_mc)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_metrics_are_invariant_to_moving_the_world(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = random_poses(rng, 8, 5.0), random_poses(rng, 8, 5.0)
    W1, W2 = random_poses(rng, 2, 50.0)
    for metric in PAIR_METRICS:
        value = metric(a, b)
        assert value >= 0.0
        assert metric(W1 @ a, W1 @ b) == pytest.approx(value, rel=1e-7, abs=1e-7)  # same move for both
        assert metric(W1 @ a, W2 @ b) == pytest.approx(value, rel=1e-7, abs=1e-7)  # each in its own world
    assert jerk(W1 @ a, dt_s=DT) == pytest.approx(jerk(a, dt_s=DT), rel=1e-7)
    assert l2_at(W1 @ a, W2 @ b, 1.0, dt_s=DT) == pytest.approx(l2_at(a, b, 1.0, dt_s=DT), rel=1e-7, abs=1e-7)
    assert min_ade([a, b], b) <= ade(a, b) + 1e-12


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), scale=st.floats(0.01, 100.0))
def test_trans_err_and_cam_mc_ignore_each_paths_scale(seed: int, scale: float) -> None:
    rng = np.random.default_rng(seed)
    a, b = random_poses(rng, 8, 5.0), random_poses(rng, 8, 5.0)
    a_scaled = a.copy()
    a_scaled[:, :3, 3] *= scale  # the whole scene scaled: relative translations scale too
    for metric in (trans_err, cam_mc, rot_err):
        assert metric(a_scaled, b) == pytest.approx(metric(a, b), rel=1e-7, abs=1e-9)


SWAP = {"turn_left": "turn_right", "turn_right": "turn_left", "lane_change_left": "lane_change_right",
        "lane_change_right": "lane_change_left"}


@settings(max_examples=30, deadline=None)
@given(side=st.sampled_from(["left", "right"]), total=st.floats(0.0, 120.0), speed=st.floats(0.0, 15.0),
       seed=st.integers(0, 2**31 - 1))
def test_maneuver_labels_swap_sides_in_a_mirror_and_ignore_the_world(
    side: str, total: float, speed: float, seed: int
) -> None:
    c2w = arc(side, max(total, 1e-3), speed=max(speed, 1e-3))
    got = classify_maneuver(c2w, dt_s=DT)
    assert got in MANEUVERS
    assert classify_maneuver(mirror_c2w(c2w), dt_s=DT) == SWAP.get(got, got)
    world = random_poses(np.random.default_rng(seed), 1)[0]
    assert classify_maneuver(world @ c2w, dt_s=DT) == got
    if got in ("turn_left", "lane_change_left"):
        assert side == "left"


def test_a_whole_drive_is_labelled_by_its_net_turn_and_offset() -> None:
    gentle = arc("left", 90.0, speed=8.0, n=101)  # 20 s: 90 deg in all, 13.5 deg in any 3 s
    assert classify_maneuver(gentle[:16], dt_s=DT) == "straight"
    assert classify_drive(gentle, dt_s=DT) == "turn_left" and classify_drive(mirror_c2w(gentle), dt_s=DT) == "turn_right"
    assert classify_drive(lane_change(+1.0, n=101), dt_s=DT) == "lane_change_right"
    assert classify_drive(straight(8.0, n=101), dt_s=DT) == "straight"
    # a camera mounted 1.2 deg off the car's axis, 80 m of straight road: 1.7 m across the camera's own x axis
    mounted = straight(8.0, n=51)
    mounted[:, :3, :3] = yaw(1.2)
    assert classify_maneuver(mounted, dt_s=DT) == "lane_change_left"  # what the clip rule would read
    assert classify_drive(mounted, dt_s=DT) == "straight"
    mount = np.eye(4)
    mount[:3, :3] = yaw(1.2)
    assert classify_drive(lane_change(+1.0, n=101) @ mount, dt_s=DT) == "lane_change_right"
    # the route first: a drive that turned and then waited at a light is a turn; one that only stopped is a stop
    waiting = np.concatenate([gentle, np.repeat(gentle[-1:], 20, axis=0)])
    assert classify_drive(waiting, dt_s=DT) == "turn_left"
    drive = straight(8.0, n=51)
    assert classify_drive(np.concatenate([drive, np.repeat(drive[-1:], 20, axis=0)]), dt_s=DT) == "stop"
    assert classify_drive(np.repeat(np.eye(4)[None], 30, axis=0), dt_s=DT) == "stop"

# --------------------------------------------------------------------------------------------- image fidelity
def _ssim_by_windows(a: np.ndarray, b: np.ndarray, max_value: float = 255.0) -> float:
    """SSIM straight from its definition: for every pixel 5 px from the border, Gaussian-weighted (11x11,
    sigma 1.5) means, variances and covariance of the window around it, per channel; then the mean."""
    g = np.exp(-0.5 * (np.arange(-5, 6) / 1.5) ** 2)
    w = np.outer(g, g) / np.outer(g, g).sum()
    c1, c2 = (0.01 * max_value) ** 2, (0.03 * max_value) ** 2
    x, y = a.astype(np.float64), b.astype(np.float64)
    scores = []
    for i in range(5, a.shape[0] - 5):
        for j in range(5, a.shape[1] - 5):
            for c in range(a.shape[2]):
                px, py = x[i - 5 : i + 6, j - 5 : j + 6, c], y[i - 5 : i + 6, j - 5 : j + 6, c]
                mx, my = (w * px).sum(), (w * py).sum()
                vx, vy = (w * px**2).sum() - mx**2, (w * py**2).sum() - my**2
                cov = (w * px * py).sum() - mx * my
                scores.append((2 * mx * my + c1) * (2 * cov + c2) / ((mx**2 + my**2 + c1) * (vx + vy + c2)))
    return float(np.mean(scores))


def test_psnr_and_ssim_reference_values(rng: np.random.Generator) -> None:
    a = np.full((32, 32, 3), 100, np.uint8)
    b = a.copy()
    b[0, 0, 0] = 110  # one pixel off by 10: MSE = 100 / 3072
    assert psnr(a, b) == pytest.approx(10 * np.log10(255**2 * 3072 / 100))
    assert ssim(a, a) == pytest.approx(1.0)
    noisy = np.clip(a + rng.normal(0, 20, a.shape), 0, 255).astype(np.uint8)
    assert ssim(a, noisy) < 0.5
    scene = rng.integers(0, 256, (20, 23, 3)).astype(np.uint8)
    blurred = ((scene.astype(np.int64) + np.roll(scene, 1, axis=1)) // 2).astype(np.uint8)
    assert ssim(scene, blurred) == pytest.approx(_ssim_by_windows(scene, blurred), rel=1e-5)


def test_masked_psnr_is_psnr_over_the_masked_pixels() -> None:
    a = np.full((4, 5, 3), 100, np.uint8)
    b = a.copy()
    b[1, 2] = (110, 100, 100)  # inside the mask: one channel off by 10
    b[3, 4] = 0  # outside it: not counted
    mask = np.zeros((4, 5), bool)
    mask[1:3, 1:3] = True  # 4 pixels, 12 values
    assert masked_psnr(a, b, mask) == pytest.approx(10 * np.log10(255**2 * 12 / 100))
    assert masked_psnr(a, b, mask, max_value=1.0) == psnr(a[mask], b[mask], max_value=1.0)
    assert np.isnan(masked_psnr(a, b, np.zeros((4, 5), bool)))
    with pytest.raises(ValueError, match="must agree"):
        masked_psnr(a, b, mask[:3])


def test_image_metrics_reject_mismatched_images() -> None:
    with pytest.raises(ValueError, match="one shape"):
        psnr(np.zeros((8, 8, 3)), np.zeros((8, 9, 3)))
    with pytest.raises(ValueError, match="larger than 10x10"):
        ssim(np.zeros((8, 8, 3)), np.zeros((8, 8, 3)))
