"""The ``ct1`` policy: camera paths become rear-axle paths in the ego frame; the shipped model drives the env."""

from __future__ import annotations

import numpy as np
import pytest

from ct1_sim.clip_spec import CLIP_SPEC
from ct1_sim.data.scenarios.ego_motion import camera_c2w
from ct1_sim.geometry import invert_rigid
from ct1_sim.sim.ct1_policy import CAMERA_AHEAD_M, rear_axle_path


def _camera_path(states: np.ndarray) -> np.ndarray:
    """OpenCV camera poses relative to the first, for rear-axle states (x, y, yaw)."""
    c2w = np.stack([camera_c2w(x, y, yaw, CLIP_SPEC.camera_height_m, CAMERA_AHEAD_M, CLIP_SPEC.camera_pitch_deg) for x, y, yaw in states])
    return invert_rigid(c2w[0]) @ c2w


def test_a_camera_path_becomes_the_rear_axles_path_in_the_ego_frame() -> None:
    # the rear axle on a left arc of radius 10 m, starting at (3, 2) heading 30 deg
    a = np.linspace(0, 1.2, 16)
    x0, y0, h0 = 3.0, 2.0, np.radians(30)
    local = np.stack([10 * np.sin(a), 10 * (1 - np.cos(a))], axis=1)
    c, s = np.cos(h0), np.sin(h0)
    world = local @ np.array([[c, s], [-s, c]]) + [x0, y0]
    states = np.column_stack([world, h0 + a])
    got = rear_axle_path(_camera_path(states), CLIP_SPEC.camera_height_m, CLIP_SPEC.camera_pitch_deg)
    assert np.abs(got - local).max() < 1e-9


@pytest.mark.slow
def test_the_shipped_trajectory_model_drives_the_env() -> None:
    from ct1_sim.sim.env import DrivingEnv
    from ct1_sim.sim.policies import make_policy

    policy = make_policy("ct1")
    env = DrivingEnv(action_type="path", num_towns=1, announce_m=policy.announce_m)
    try:
        obs, _ = env.reset(seed=0, options={"town": 0})
        policy.reset(env)
        start = obs["pose"].copy()
        for _ in range(20):
            obs, _, terminated, truncated, info = env.step(policy.act(obs))
            assert not info["action_issues"], info["action_issues"]
            if terminated or truncated:
                break
        assert policy.calls == 4  # replanned every 0.5 s
        assert np.hypot(*(obs["pose"][:2] - start[:2])) > 5.0  # it drove on
    finally:
        env.close()


def test_the_policy_announces_at_the_distance_its_model_was_trained_with(tmp_path) -> None:
    import json
    import shutil

    from ct1_sim.paths import TRAJECTORY_MODEL, default_model_dir
    from ct1_sim.sim.ct1_policy import CT1Policy
    from ct1_sim.sim.env import announce_m_for

    shipped = default_model_dir(TRAJECTORY_MODEL)
    expected = json.loads((shipped / "config.json").read_text()).get("announce_m", 15.0)
    assert CT1Policy().announce_m == expected
    town = tmp_path / "town-model"
    shutil.copytree(shipped, town)
    cfg = json.loads((town / "config.json").read_text())
    (town / "config.json").write_text(json.dumps({**cfg, "announce_m": 60.0}))
    policy = CT1Policy(town)
    assert policy.announce_m == 60.0 and announce_m_for(policy) == 60.0 and announce_m_for(policy, 25.0) == 25.0
    assert policy._model is None  # read from the config alone: the model is not loaded for it
    from ct1_sim.trajectory import CT1TrajectoryModel

    assert CT1TrajectoryModel.from_pretrained(town).config.announce_m == 60.0
