"""The neural world: NeuralDriving-v0 is a Gymnasium env whose camera is the video model and whose scores are the
procedural twin's."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from ct1_sim.metrics import psnr
from ct1_sim.sim import NEURAL_ENV_ID
from ct1_sim.sim.env import DrivingEnv, make_neural_env
from ct1_sim.sim.episode import run_episode
from ct1_sim.sim.policies import make_policy
from tests.video_helpers import tiny_pipeline


def test_the_neural_env_passes_gymnasiums_checker() -> None:
    env = make_neural_env(video_pipeline=tiny_pipeline(), num_towns=1, num_inference_steps=1)
    try:
        check_env(env, skip_render_check=True)
        assert env.dt == pytest.approx(0.2)  # the video model's 5 Hz
    finally:
        env.close()


def test_registered_neural_id_makes_the_env() -> None:
    env = gym.make(NEURAL_ENV_ID, video_pipeline=tiny_pipeline(), num_towns=1, num_inference_steps=1)
    try:
        obs, _ = env.reset(seed=0)
        first = obs["camera"].copy()
        obs, *_ = env.step([0.0, 6.0, 0.0])
        assert obs["camera"].shape == (256, 448, 3) and obs["camera"].dtype == np.uint8
        assert not np.array_equal(obs["camera"], first)  # the second frame is generated, not the start frame again
    finally:
        env.close()


@pytest.fixture(scope="module")
def shipped_drive() -> dict:
    """The expert driving 3 s of a test town in both worlds (same seed and route)."""
    expert = make_policy("expert")
    options = {"town": 0, "seconds": 3.0}
    frames: list[np.ndarray] = []
    truths: list[np.ndarray] = []
    neural = make_neural_env(twin_frames=True, device="cpu")
    procedural = DrivingEnv(dt=0.2)
    try:
        def keep(frame: np.ndarray) -> None:
            frames.append(frame)
            truths.append(neural.world.truth_frame)
        rec_n = run_episode(neural, expert, seed=0, options=options, on_frame=keep)
        rec_p = run_episode(procedural, expert, seed=0, options=options)
    finally:
        neural.close()
        procedural.close()
    return {"neural": rec_n, "procedural": rec_p, "frames": frames, "truths": truths}


def test_neural_world_scores_come_from_the_exact_twin(shipped_drive: dict) -> None:
    """The expert drives from the map, not the camera: in both worlds it drives the same path and scores the same."""
    n, p = shipped_drive["neural"], shipped_drive["procedural"]
    assert n.summary["pdms"] == p.summary["pdms"] and n.summary["route"] == p.summary["route"]
    assert np.array_equal(n.xy, p.xy)


def test_shipped_video_model_follows_the_drive(shipped_drive: dict) -> None:
    """Over the drive, the generated frames are nearer their true renders than the start frame held still (a frozen
    camera) is: the neural camera moves with the ego."""
    frames, truths = shipped_drive["frames"], shipped_drive["truths"]
    assert len(frames) == 16 and np.array_equal(frames[0], truths[0])  # 3 s at 5 Hz + the start frame
    gain = [psnr(frames[k], truths[k]) - psnr(frames[0], truths[k]) for k in range(1, len(frames))]
    assert np.mean(gain) > 1.0, gain
