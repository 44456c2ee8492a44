"""The shipped trajectory model on held-out frames (the bundled samples come from the test split)."""

from __future__ import annotations

import json

import numpy as np

from ct1_sim.data.samples import load_samples
from ct1_sim.paths import REPO_ROOT
from ct1_sim.world import WorldModel

MODEL = REPO_ROOT / "model" / "ct1-tiny"


def test_shipped_model_files_and_card() -> None:
    assert (MODEL / "model.safetensors").stat().st_size < 40e6
    card = (MODEL / "MODEL_CARD.md").read_text()
    assert "ct1-sim eval trajectory" in card and "minADE" in card and "ct1-sim eval instructions" in card
    assert (MODEL / "instruction_parser.safetensors").is_file() and (MODEL / "instruction_parser.json").is_file()
    config = json.loads((MODEL / "config.json").read_text())
    assert config["_class_name"] == "CT1TrajectoryModel" and config["num_poses"] == 16
    from safetensors.torch import load_file

    stats = load_file(str(MODEL / "model.safetensors"))
    assert tuple(stats["pose_mean"].shape) == (16, 9) and float(stats["pose_std"].max()) > 1.0  # statistics set by training


def test_shipped_model_turns_left_at_a_test_intersection() -> None:
    world = WorldModel.from_pretrained(MODEL, device="cpu")
    sample = next(s for s in load_samples() if s.maneuver == "turn_left")
    left = world.predict(sample.image, "turn left at the intersection", num_samples=8, seed=0, speed=sample.speed_mps)
    right = world.predict(sample.image, "turn right at the intersection", num_samples=8, seed=0, speed=sample.speed_mps)
    assert np.mean([m == "turn_left" for m in left.maneuvers]) >= 0.75
    # the instruction, not the image alone, decides the side: lateral end points have opposite signs
    assert np.median([t.positions[-1, 0] for t in left.trajectories]) < -1.0 < 1.0 < np.median([t.positions[-1, 0] for t in right.trajectories])


def test_shipped_model_samples_in_bfloat16_close_to_float32() -> None:
    """``dtype`` is honoured end to end: the fusion and the DiT run in bfloat16 on float32 encoder features."""
    import torch

    from ct1_sim.trajectory import CT1TrajectoryModel

    sample = next(s for s in load_samples() if "turn_left" in s.name)
    paths = {}
    for dtype in ("float32", "bfloat16"):
        model = CT1TrajectoryModel.from_pretrained(MODEL, device="cpu", dtype=dtype)
        assert model.dit.pos.dtype == getattr(torch, dtype)
        paths[dtype] = model.sample(sample.image, sample.instruction, num_samples=4, generator=torch.Generator().manual_seed(0), speed=5.0)
    for a, b in zip(paths["float32"], paths["bfloat16"], strict=True):
        assert np.isfinite(b.c2w).all()
        assert np.abs(a.c2w[:, :3, 3] - b.c2w[:, :3, 3]).max() < 0.5  # metres, over a ~15 m path


def test_shipped_model_follows_unseen_phrasings_refuses_what_it_cannot_do_and_heeds_speed_words() -> None:
    """The issue's first-contact table, on held-out frames: unseen phrasings, a U-turn, turns where there is no road,
    speed words."""
    world = WorldModel.from_pretrained(MODEL, device="cpu", runtime="torch")
    samples = {s.maneuver: s for s in load_samples()}
    junction, highway, curve = samples["turn_left"], samples["lane_change_left"], samples["straight"]

    def predict(sample, text: str):
        return world.predict(sample.image, text, num_samples=8, seed=0, speed=7.0)

    assert np.mean([m == "turn_left" for m in predict(junction, "hang a left up ahead").maneuvers]) >= 0.75
    u_turn = predict(junction, "make a U-turn")
    assert not u_turn.supported and u_turn.trajectories == [] and u_turn.instruction["nearest"] == "turn_left"
    for text in ("overtake on the left", "turn left", "take the next right"):  # a highway has no junction to turn into
        prediction = predict(highway, text)
        assert not {"turn_left", "turn_right"} & set(prediction.maneuvers), (text, prediction.maneuvers)

    def travelled(text: str) -> float:
        return float(np.median([np.linalg.norm(t.positions[-1]) for t in predict(curve, text).trajectories]))

    slow, neutral, fast = travelled("slow down"), travelled("keep following the road"), travelled("speed up")
    assert slow < neutral - 1.0 and fast > neutral + 1.0, (slow, neutral, fast)
    assert all(m == "stop" for m in predict(curve, "come to a halt").maneuvers)
