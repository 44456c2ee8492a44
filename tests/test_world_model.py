"""``WorldModel`` follows the one seeding rule (ct1_sim.seeding) in predict, predict_batch and rollout; the medoid."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from ct1_sim.metrics import medoid_index
from ct1_sim.seeding import MAX_SEED, resolve_seed
from ct1_sim.trajectory import CT1TrajectoryModel
from ct1_sim.trajectory.backbones import MobileNetMiniLMBackbone
from ct1_sim.world import WorldModel
from tests.conftest import make_trajectory

TINY = dict(hidden_size=32, fusion_layers=1, dit_layers=1, dit_heads=2, inference_steps=2)
IMAGE = np.random.default_rng(0).integers(0, 255, size=(64, 112, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def world() -> WorldModel:
    torch.manual_seed(0)
    model = CT1TrajectoryModel(**TINY, encoder=MobileNetMiniLMBackbone()).eval()
    model.pipeline.runtime = "torch"
    return WorldModel(model)


def _c2w(prediction: object) -> np.ndarray:
    return np.stack([t.c2w for t in prediction.trajectories])  # type: ignore[attr-defined]


def test_predict_without_a_seed_draws_a_fresh_one_reports_it_and_leaves_the_global_rng_alone(world: WorldModel) -> None:
    torch.manual_seed(123)
    state = torch.get_rng_state()
    first = world.predict(IMAGE, "turn left", num_samples=3)
    second = world.predict(IMAGE, "turn left", num_samples=3)
    assert torch.equal(torch.get_rng_state(), state)  # was: drawn from torch's global generator
    assert isinstance(first.seed, int) and first.seed != second.seed
    again = world.predict(IMAGE, "turn left", num_samples=3, seed=first.seed)
    assert again.seed == first.seed
    np.testing.assert_array_equal(_c2w(again), _c2w(first))
    assert not np.allclose(_c2w(first), _c2w(second))


def test_predict_batch_follows_the_same_rule_per_query(world: WorldModel) -> None:
    batch = world.predict_batch([IMAGE, IMAGE], ["stop", "turn right"], num_samples=2, seeds=[None, 7])
    assert batch[1].seed == 7 and isinstance(batch[0].seed, int)
    for query, instruction in zip(batch, ["stop", "turn right"], strict=True):
        alone = world.predict(IMAGE, instruction, num_samples=2, seed=query.seed)
        np.testing.assert_allclose(_c2w(alone), _c2w(query), atol=1e-5)
    with pytest.raises(ValueError, match="1 seeds for 2 queries"):
        world.predict_batch([IMAGE, IMAGE], ["go", "go"], seeds=[1])
    with pytest.raises(ValueError, match="seed must be a whole number"):
        world.predict(IMAGE, "go", seed=-1)


def test_rollout_seeds_trajectories_and_video_with_the_reported_seed(world: WorldModel) -> None:
    seen: list[int] = []

    def video(image: np.ndarray, trajectory: object, *, num_frames: int, generator: torch.Generator, **_: object) -> SimpleNamespace:
        seen.append(generator.initial_seed())
        return SimpleNamespace(frames=np.zeros((1, num_frames, 8, 8, 3), np.float32))

    with_video = WorldModel(world.trajectory_model, video)
    rollout = with_video.rollout(IMAGE, "turn left", num_frames=4, num_samples=3)
    assert seen == [rollout.seed]
    same = world.predict(IMAGE, "turn left", num_samples=3, seed=rollout.seed)
    np.testing.assert_array_equal(np.stack([t.c2w for t in rollout.trajectories]), _c2w(same))
    assert with_video.rollout(IMAGE, "turn left", num_frames=4, num_samples=3, seed=11).seed == 11 and seen[-1] == 11


def test_seed_checks() -> None:
    assert resolve_seed(5) == 5 and resolve_seed(np.uint64(MAX_SEED)) == MAX_SEED and resolve_seed(MAX_SEED) == MAX_SEED
    assert 0 <= resolve_seed(None) < 2**32
    for bad in (True, 1.5, MAX_SEED + 1, "3"):
        with pytest.raises(ValueError, match="seed must be"):
            resolve_seed(bad)  # type: ignore[arg-type]


def test_medoid_is_the_most_typical_sample() -> None:
    c2w = np.tile(np.eye(4), (3, 16, 1, 1))
    for k, lateral in enumerate([0.0, 1.0, 5.0]):  # the middle path is nearest to both others
        c2w[k, :, 0, 3] = np.linspace(0, lateral, 16)
        c2w[k, :, 2, 3] = np.linspace(0, 15, 16)
    assert medoid_index([make_trajectory(p) for p in c2w]) == 1
    assert medoid_index(c2w[[2, 0, 1]]) == 2


def test_unsupported_instructions_are_refused_in_predict_predict_batch_and_rollout() -> None:
    from ct1_sim.paths import TRAJECTORY_MODEL, default_model_dir
    from ct1_sim.trajectory import InstructionParser

    torch.manual_seed(0)
    model = CT1TrajectoryModel(**TINY, encoder=MobileNetMiniLMBackbone()).eval()
    model.pipeline.runtime = "torch"
    model.set_instruction_parser(InstructionParser.load(default_model_dir(TRAJECTORY_MODEL)))
    world = WorldModel(model, video_model=SimpleNamespace())  # a rollout must refuse before it needs the video model
    refused = world.predict(IMAGE, "make a U-turn", num_samples=2, seed=1)
    assert not refused.supported and refused.trajectories == [] and refused.instruction["nearest"] == "turn_left"
    driven = world.predict(IMAGE, "turn right at the lights", num_samples=2, seed=1)
    assert driven.supported and len(driven.trajectories) == 2 and driven.instruction["maneuver"] == "turn_right"
    batch = world.predict_batch([IMAGE, IMAGE, IMAGE], ["back up", "turn right at the lights", "fly"], num_samples=2, seeds=[0, 1, 2])
    assert [p.supported for p in batch] == [False, True, False]
    np.testing.assert_allclose(_c2w(batch[1]), _c2w(driven), atol=1e-5)  # the refused neighbours change nothing
    with pytest.raises(ValueError, match="not supported: reversing"):
        world.rollout(IMAGE, "back up", num_samples=2, seed=0)
    with pytest.raises(ValueError, match="has no words"):
        world.predict(IMAGE, "🚗", num_samples=2)


def test_a_frame_prepared_ahead_gives_the_same_samples_as_the_image(world: WorldModel) -> None:
    """The HTTP service crops and resizes each frame on the request's thread (``prepare_image``); the model's thread
    then only runs the model, and the samples (and the intrinsics, from the original frame's size) are unchanged."""
    wide = np.random.default_rng(1).integers(0, 255, size=(90, 200, 3), dtype=np.uint8)
    frames = [world.prepare_image(IMAGE), world.prepare_image(wide)]
    assert frames[1].pixels.shape == (128, 224, 3) and frames[1].image_size == (200, 90)
    raw = world.predict_batch([IMAGE, wide], ["turn left", "stop"], num_samples=2, seeds=[3, 4])
    prepared = world.predict_batch(frames, ["turn left", "stop"], num_samples=2, seeds=[3, 4])
    mixed = world.predict_batch([frames[0], wide], ["turn left", "stop"], num_samples=2, seeds=[3, 4])
    for a, b, c in zip(raw, prepared, mixed, strict=True):
        np.testing.assert_array_equal(_c2w(a), _c2w(b))
        np.testing.assert_array_equal(_c2w(a), _c2w(c))
        assert a.trajectories[0].image_size == b.trajectories[0].image_size
        np.testing.assert_array_equal(a.trajectories[0].K, b.trajectories[0].K)
        assert a.maneuvers == b.maneuvers
    np.testing.assert_array_equal(_c2w(world.predict(frames[1], "stop", num_samples=2, seed=4)), _c2w(raw[1]))
    other = CT1TrajectoryModel(**TINY, encoder=MobileNetMiniLMBackbone()).eval()
    other.encoder.input_size = (112, 64)  # a backbone with another input size refuses frames made for this one
    with pytest.raises(ValueError, match="prepared for a 224x128 input, this model takes 112x64"):
        other.sample(frames[0], "go", num_samples=1)
