"""The clip spec and the input limits: one set of numbers, and every entry point applies the same limits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fastapi import HTTPException

from ct1_sim.clip_spec import (
    CLIP_SPEC,
    HFOV_DEG,
    IMAGE_SIZE,
    MAX_NUM_SAMPLES,
    NUM_POSES,
    RATE_HZ,
    ClipSpec,
    check_num_samples,
    check_speed_mps,
    pose_timestamps_us,
)
from ct1_sim.formats import read_trajectory
from ct1_sim.geometry import intrinsics_from_fov
from ct1_sim.replay import ReplaySettings
from ct1_sim.ros.bridge import BridgeConfig
from ct1_sim.service.validation import check_speed


def test_the_clip_spec_is_16_poses_at_5_hz_of_448x256_frames_at_64_degrees() -> None:
    assert (NUM_POSES, RATE_HZ, IMAGE_SIZE, HFOV_DEG) == (16, 5.0, (448, 256), 64.0)
    assert (CLIP_SPEC.num_poses, CLIP_SPEC.rate_hz, (CLIP_SPEC.width, CLIP_SPEC.height), CLIP_SPEC.hfov_deg) == (
        NUM_POSES, RATE_HZ, IMAGE_SIZE, HFOV_DEG)
    assert CLIP_SPEC.duration_s == 3.0
    assert CLIP_SPEC.image_size == IMAGE_SIZE and (CLIP_SPEC.camera_height_m, CLIP_SPEC.camera_pitch_deg) == (1.5, 2.0)
    assert CLIP_SPEC.timestamps_us().tolist() == [200_000 * i for i in range(16)]
    assert CLIP_SPEC.timestamps_us(7).tolist() == (pose_timestamps_us(16, 5.0) + 7).tolist()


@pytest.mark.parametrize(("width", "height", "hfov_deg"), [(448, 256, 64.0), (1600, 900, 70.0), (64, 32, 11.0), (17, 4096, 149.5)])
def test_the_clip_spec_camera_is_the_geometry_pinhole(width: int, height: int, hfov_deg: float) -> None:
    """``ClipSpec.K`` (the ground cannot import ``geometry``) is exactly ``intrinsics_from_fov``."""
    spec = ClipSpec(width=width, height=height, hfov_deg=hfov_deg)
    np.testing.assert_array_equal(spec.K, intrinsics_from_fov(width, height, hfov_deg))


@pytest.mark.parametrize(("field", "value", "message"), [
    ("num_poses", 1, "clip num_poses is 1; it must be in 2-1000"),
    ("width", 20.0, "clip width must be a whole number"),
    ("rate_hz", float("nan"), "clip rate_hz must be a finite number"),
    ("hfov_deg", 150, r"clip hfov_deg is 150; it must be in \(10, 150\) degrees"),
])
def test_a_bad_clip_spec_is_refused_naming_the_field(field: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ClipSpec(**{field: value})


def test_pose_times_are_rounded_per_pose_not_cumulated() -> None:
    assert pose_timestamps_us(4, 3.0).tolist() == [0, 333_333, 666_667, 1_000_000]
    assert pose_timestamps_us(3, 5.0, start_us=1_000).dtype == np.int64


def test_pose_files_without_size_rate_or_intrinsics_get_the_clip_spec(tmp_path: Path) -> None:
    path = tmp_path / "poses.motionctrl.json"
    path.write_text(json.dumps([[1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]] * 3))
    traj = read_trajectory(path, "motionctrl")
    assert traj.image_size == IMAGE_SIZE
    np.testing.assert_allclose(traj.K, intrinsics_from_fov(*IMAGE_SIZE, HFOV_DEG))
    assert traj.timestamps_us.tolist() == [0, 200_000, 400_000]


def test_one_num_samples_limit_everywhere() -> None:
    assert MAX_NUM_SAMPLES == 256
    assert check_num_samples(MAX_NUM_SAMPLES) == MAX_NUM_SAMPLES and check_num_samples(np.int64(3)) == 3
    assert BridgeConfig(num_samples=MAX_NUM_SAMPLES).num_samples == MAX_NUM_SAMPLES  # the bridge stopped at 64
    assert ReplaySettings(num_samples=MAX_NUM_SAMPLES).num_samples == MAX_NUM_SAMPLES
    for bad in (0, MAX_NUM_SAMPLES + 1, 2.0, True):
        with pytest.raises(ValueError, match=r"num_samples must be a whole number in \[1, 256\]"):
            check_num_samples(bad)
        with pytest.raises(ValueError, match="num_samples"):
            BridgeConfig(num_samples=bad)
        with pytest.raises(ValueError, match="--samples"):
            ReplaySettings(num_samples=bad)


def test_one_speed_range_everywhere() -> None:
    assert check_speed_mps(None) is None and check_speed_mps(70) == 70.0 and check_speed_mps(np.float32(3.5)) == 3.5
    for bad in (-0.1, 70.5, float("nan"), float("inf"), "5", True):
        with pytest.raises(ValueError, match=r"speed must be a finite ego speed in \[0, 70\] m/s"):
            check_speed_mps(bad)
    with pytest.raises(HTTPException) as err:
        check_speed(71.0)
    assert err.value.status_code == 422 and err.value.detail["message"].startswith("speed: value must be a finite ego speed")
