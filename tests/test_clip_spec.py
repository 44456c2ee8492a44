"""The clip spec and the input limits: one set of numbers, and every entry point applies the same limits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fastapi import HTTPException

from ct1_sim.clip_spec import HFOV_DEG, IMAGE_SIZE, MAX_NUM_SAMPLES, NUM_POSES, RATE_HZ, check_num_samples, check_speed_mps
from ct1_sim.data.scenarios import CLIP_SPEC
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
