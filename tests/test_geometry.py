"""CameraTrajectory, rotations, frame conversions and Plücker rays."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from ct1_sim.geometry import (
    CameraTrajectory,
    change_pose_frame,
    change_sensor_frame,
    convert_points,
    frame_rotation,
    geodesic_angle,
    intrinsics_from_fov,
    invert_rigid,
    matrix_to_quat,
    matrix_to_rot6d,
    mirror_c2w,
    quat_to_matrix,
    rot6d_to_matrix,
)
from tests.conftest import make_trajectory, random_poses

seeds = st.integers(min_value=0, max_value=2**32 - 1)
FRAMES = ["opencv", "ros_optical", "ros_body", "opengl"]


# --------------------------------------------------------------------------- rotations
@settings(max_examples=60, deadline=None)
@given(seed=seeds, order=st.sampled_from(["wxyz", "xyzw"]))
def test_quaternion_round_trip(seed: int, order: str) -> None:
    R = Rotation.random(5, random_state=seed).as_matrix()
    q = matrix_to_quat(R, order=order)
    w = q[:, 0] if order == "wxyz" else q[:, 3]
    assert np.all(w >= 0)
    np.testing.assert_allclose(quat_to_matrix(q, order=order), R, atol=1e-12)


def test_quaternion_order_is_respected() -> None:
    # 90 deg about z: w = cos45, z = sin45
    c = np.sqrt(0.5)
    Rz = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(quat_to_matrix([c, 0, 0, c], order="wxyz"), Rz, atol=1e-12)
    np.testing.assert_allclose(quat_to_matrix([0, 0, c, c], order="xyzw"), Rz, atol=1e-12)
    with pytest.raises(ValueError, match="order"):
        quat_to_matrix([1, 0, 0, 0], order="zyxw")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-zero"):
        quat_to_matrix([0, 0, 0, 0])


@settings(max_examples=60, deadline=None)
@given(seed=seeds)
def test_rot6d_round_trip_and_projection(seed: int) -> None:
    rng = np.random.default_rng(seed)
    R = Rotation.random(4, random_state=seed).as_matrix()
    r6 = matrix_to_rot6d(R)
    assert r6.shape == (4, 6)
    np.testing.assert_allclose(rot6d_to_matrix(r6), R, atol=1e-12)
    # any noisy 6D vector decodes to a proper rotation (no thresholding needed)
    noisy = rot6d_to_matrix(r6 + rng.normal(scale=0.3, size=r6.shape))
    np.testing.assert_allclose(np.einsum("nji,njk->nik", noisy, noisy), np.broadcast_to(np.eye(3), (4, 3, 3)), atol=1e-9)
    np.testing.assert_allclose(np.linalg.det(noisy), 1.0, atol=1e-9)


def test_geodesic_angle_of_known_rotation() -> None:
    R = Rotation.from_euler("y", 37, degrees=True).as_matrix()
    assert np.degrees(geodesic_angle(np.eye(3), R)) == pytest.approx(37.0)


# --------------------------------------------------------------------------- frames
def test_ros_body_axes_follow_rep103() -> None:
    # a point 1 m in front of the camera: opencv (0,0,1) == ros_body (1,0,0)
    np.testing.assert_allclose(convert_points([0, 0, 1], "opencv", "ros_body"), [1, 0, 0], atol=1e-12)
    # to the camera's right (opencv +x) is body -y (y points left)
    np.testing.assert_allclose(convert_points([1, 0, 0], "opencv", "ros_body"), [0, -1, 0], atol=1e-12)
    # down (opencv +y) is body -z
    np.testing.assert_allclose(convert_points([0, 1, 0], "opencv", "ros_body"), [0, 0, -1], atol=1e-12)
    # the optical frame is the OpenCV frame; OpenGL looks down -z with y up
    np.testing.assert_allclose(frame_rotation("ros_optical", "opencv"), np.eye(3))
    np.testing.assert_allclose(convert_points([0, 0, 1], "opencv", "opengl"), [0, 0, -1], atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(seed=seeds, src=st.sampled_from(FRAMES), dst=st.sampled_from(FRAMES))
def test_frame_conversions_round_trip(seed: int, src: str, dst: str) -> None:
    rng = np.random.default_rng(seed)
    c2w = random_poses(rng, 6)
    pts = rng.normal(size=(6, 3))
    np.testing.assert_allclose(convert_points(convert_points(pts, src, dst), dst, src), pts, atol=1e-12)
    for change in (change_sensor_frame, change_pose_frame):
        back = change(change(c2w, src, dst), dst, src)  # type: ignore[operator]
        np.testing.assert_allclose(back, c2w, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(seed=seeds)
def test_change_sensor_frame_keeps_camera_centre_and_maps_axes(seed: int) -> None:
    c2w = random_poses(np.random.default_rng(seed), 3)
    body = change_sensor_frame(c2w, "opencv", "ros_body")
    np.testing.assert_allclose(body[:, :3, 3], c2w[:, :3, 3])
    # body x (forward) in world == camera z (optical axis) in world
    np.testing.assert_allclose(body[:, :3, 0], c2w[:, :3, 2], atol=1e-12)


def test_relative_path_in_base_link() -> None:
    # camera moves 2 m forward and 1 m to its right: in base_link that is x=2, y=-1
    rel = np.eye(4)
    rel[:3, 3] = [1.0, 0.0, 2.0]
    body = change_pose_frame(rel, "opencv", "ros_body")
    np.testing.assert_allclose(body[:3, 3], [2.0, -1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(body[:3, :3], np.eye(3), atol=1e-12)


def test_mirror_turns_a_right_move_into_a_left_one_and_is_its_own_inverse(rng: np.random.Generator) -> None:
    # 2 m forward and 1 m right, yawed 30 deg to the right (about camera y, which points down)
    rel = np.eye(4)
    rel[:3, :3] = Rotation.from_euler("y", 30, degrees=True).as_matrix()
    rel[:3, 3] = [1.0, 0.0, 2.0]
    mirrored = mirror_c2w(rel)
    np.testing.assert_allclose(mirrored[:3, 3], [-1.0, 0.0, 2.0], atol=1e-12)
    np.testing.assert_allclose(mirrored[:3, :3], Rotation.from_euler("y", -30, degrees=True).as_matrix(), atol=1e-12)
    c2w = random_poses(rng, 5)
    assert np.allclose(np.linalg.det(mirror_c2w(c2w)[:, :3, :3]), 1.0)  # still proper rotations
    np.testing.assert_allclose(mirror_c2w(mirror_c2w(c2w)), c2w, atol=1e-12)

# --------------------------------------------------------------------------- trajectory
def test_relative_to_first(rng: np.random.Generator) -> None:
    traj = make_trajectory(random_poses(rng, 8))
    rel = traj.relative_to_first()
    np.testing.assert_allclose(rel.c2w[0], np.eye(4), atol=1e-12)
    np.testing.assert_allclose(rel.c2w, invert_rigid(traj.c2w[0]) @ traj.c2w, atol=1e-12)
    # relative poses do not depend on where the world frame is
    moved = traj.transformed(random_poses(rng, 1)[0])
    np.testing.assert_allclose(moved.relative_to_first().c2w, rel.c2w, atol=1e-9)


def test_trajectory_is_read_only(rng: np.random.Generator) -> None:
    traj = make_trajectory(random_poses(rng, 3))
    with pytest.raises(ValueError):
        traj.c2w[0, 0, 0] = 5.0


def test_resample_interpolates_translation_and_slerps_rotation() -> None:
    c2w = np.tile(np.eye(4), (2, 1, 1))
    c2w[1, :3, :3] = Rotation.from_euler("y", 90, degrees=True).as_matrix()
    c2w[1, :3, 3] = [0.0, 0.0, 10.0]
    traj = make_trajectory(c2w, rate_hz=1.0)
    mid = traj.resample(np.array([0, 250_000, 500_000]))
    np.testing.assert_allclose(mid.positions[1], [0, 0, 2.5], atol=1e-12)
    np.testing.assert_allclose(Rotation.from_matrix(mid.rotations[2]).as_euler("xyz", degrees=True), [0, 45, 0], atol=1e-9)
    with pytest.raises(ValueError, match="extrapolate"):
        traj.resample(np.array([0, 2_000_000]))


def test_densify_matches_ct1_release_shape(rng: np.random.Generator) -> None:
    traj = make_trajectory(random_poses(rng, 13, max_translation=5.0))
    dense = traj.densify(6)
    assert len(dense) == 73  # the CT-1 release densifies 13 predicted poses to 73
    np.testing.assert_allclose(dense.c2w[::6], traj.c2w, atol=1e-9)  # originals are kept


def test_resample_uniform_gives_clip_spec(rng: np.random.Generator) -> None:
    traj = make_trajectory(random_poses(rng, 40, max_translation=5.0), rate_hz=12.0)
    spec = traj.resample_uniform(16, 5.0)
    assert len(spec) == 16
    np.testing.assert_array_equal(np.diff(spec.timestamps_us), 200_000)


def test_with_image_size_scales_intrinsics(rng: np.random.Generator) -> None:
    traj = make_trajectory(random_poses(rng, 2), size=(448, 256))
    small = traj.with_image_size(224, 128)
    np.testing.assert_allclose(small.K[:2], traj.K[:2] / 2)


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda c: c.__setitem__((1, 0, 0), np.nan), "NaN or inf"),
        (lambda c: c.__setitem__((1, slice(0, 3), slice(0, 3)), 2 * np.eye(3)), "not a rigid"),
        (lambda c: c.__setitem__((2, slice(0, 3), slice(0, 3)), np.diag([1.0, 1.0, -1.0])), "det"),
        (lambda c: c.__setitem__((0, 3, 0), 0.5), "bottom row"),
    ],
)
def test_rejects_bad_poses(mutate, message: str) -> None:
    c2w = np.tile(np.eye(4), (3, 1, 1))
    mutate(c2w)
    with pytest.raises(ValueError, match=message):
        make_trajectory(c2w)


def test_rejects_bad_timestamps_and_intrinsics() -> None:
    c2w = np.tile(np.eye(4), (3, 1, 1))
    K = intrinsics_from_fov(448, 256, 64)
    with pytest.raises(ValueError, match="strictly increasing"):
        CameraTrajectory(c2w=c2w, K=K, image_size=(448, 256), timestamps_us=np.array([0, 5, 5]))
    with pytest.raises(ValueError, match="shape"):
        CameraTrajectory(c2w=c2w, K=K, image_size=(448, 256), timestamps_us=np.array([0, 5]))
    bad_K = K.copy()
    bad_K[0, 0] = -1
    with pytest.raises(ValueError, match="focal"):
        CameraTrajectory(c2w=c2w, K=bad_K, image_size=(448, 256), timestamps_us=np.arange(3))
    with pytest.raises(ValueError, match="image_size"):
        CameraTrajectory(c2w=c2w, K=K, image_size=(448, 0), timestamps_us=np.arange(3))


# --------------------------------------------------------------------------- Plücker
def _plucker_per_pixel(c2w: np.ndarray, K: np.ndarray, size: tuple[int, int], h: int, w: int) -> np.ndarray:
    """Independent reference: one pixel at a time, as the architecture page writes it."""
    sx, sy = w / size[0], h / size[1]
    fx, fy, cx, cy = K[0, 0] * sx, K[1, 1] * sy, K[0, 2] * sx, K[1, 2] * sy
    out = np.zeros((len(c2w), 6, h, w))
    for t in range(len(c2w)):
        R, o = c2w[t, :3, :3], c2w[t, :3, 3]
        for v in range(h):
            for u in range(w):
                d_cam = np.array([(u + 0.5 - cx) / fx, (v + 0.5 - cy) / fy, 1.0])
                d = R @ (d_cam / np.linalg.norm(d_cam))
                out[t, :3, v, u] = np.cross(o, d)
                out[t, 3:, v, u] = d
    return out


def test_plucker_matches_per_pixel_reference(rng: np.random.Generator) -> None:
    traj = make_trajectory(random_poses(rng, 3, max_translation=10.0), size=(448, 256))
    emb = traj.plucker(16, 28)
    assert emb.shape == (3, 6, 16, 28) and emb.dtype == np.float32
    np.testing.assert_allclose(emb, _plucker_per_pixel(traj.c2w, traj.K, (448, 256), 16, 28), atol=1e-5)


def test_plucker_identity_camera_centre_ray_points_forward() -> None:
    traj = make_trajectory(np.eye(4)[None], size=(64, 64))
    emb = traj.plucker(64, 64)
    # pixel centres straddle the principal point; the 4 central rays are symmetric around +z
    centre = emb[0, 3:, 31:33, 31:33].mean(axis=(1, 2))
    np.testing.assert_allclose(centre / np.linalg.norm(centre), [0, 0, 1], atol=1e-12)
    np.testing.assert_allclose(emb[0, :3], 0.0)  # origin at 0: zero moment


def test_many_trajectories_validate_once_and_match_one_by_one(rng: np.random.Generator) -> None:
    poses = np.stack([random_poses(rng, 6, max_translation=5.0) for _ in range(3)])
    K = intrinsics_from_fov(448, 256, 64.0)
    ts = np.arange(6) * 200_000
    many = CameraTrajectory.many(poses, K, (448, 256), ts)
    for one, p in zip(many, poses, strict=True):
        assert one.allclose(CameraTrajectory(c2w=p, K=K, image_size=(448, 256), timestamps_us=ts), atol=0)
        assert not one.c2w.flags.writeable
    bad = poses.copy()
    bad[1, 2, :3, 0] *= 2.0  # a scaled rotation in the second trajectory
    with pytest.raises(ValueError, match=r"c2w\[8\] is not a rigid transform"):
        CameraTrajectory.many(bad, K, (448, 256), ts)
