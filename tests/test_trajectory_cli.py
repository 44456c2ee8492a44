"""``ct1-sim train trajectory`` / ``eval trajectory`` refuse what they used to accept silently."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ct1_sim.cli.app import app
from ct1_sim.trajectory import CT1TrajectoryModel
from tests.toy_clips import make_toy_store

TINY = dict(hidden_size=32, fusion_layers=1, dit_layers=1, dit_heads=2)


def _config(path: Path, steps: int) -> Path:
    train = {"steps": steps, "batch_size": 4, "warmup_steps": 1, "augment_variants": 1, "val_every": 1000, "val_clips": 0,
             "checkpoint_every": 2, "log_every": 1}
    path.write_text(json.dumps({"model": TINY, "train": train}))  # JSON is valid YAML
    return path


def test_train_refuses_to_resume_a_checkpoint_made_on_other_data(tmp_path: Path) -> None:
    make_toy_store(tmp_path / "a.zarr", {"train": 6})
    make_toy_store(tmp_path / "b.zarr", {"train": 6}, seed=1)  # the same clip ids, other clips
    runner = CliRunner()
    args = ["train", "trajectory", "--config", str(_config(tmp_path / "c.yaml", steps=4)), "--out", str(tmp_path / "run"), "--device", "cpu"]
    first = runner.invoke(app, [*args, "--data", str(tmp_path / "a.zarr"), "--steps", "2"])
    assert first.exit_code == 0, first.output
    other = runner.invoke(app, [*args, "--data", str(tmp_path / "b.zarr")])
    assert other.exit_code == 2, other.output  # was: resumed at step 2 on b.zarr without a word
    message = " ".join(other.output.split())
    assert "step_0000002 was trained on" in message and "a.zarr (6 train clips)" in message and "b.zarr (6 train clips)" in message
    assert "new output folder" in message
    same = runner.invoke(app, [*args, "--data", str(tmp_path / "a.zarr")])  # the data it started on resumes
    assert same.exit_code == 0, same.output
    log = json.loads((tmp_path / "run" / "training_log.json").read_text())
    assert [h["step"] for h in log["history"] if "mse" in h] == [1, 2, 3, 4]


@pytest.mark.parametrize("max_clips", ["7", "0"])
def test_eval_max_clips_is_checked_against_the_split(tmp_path: Path, max_clips: str) -> None:
    make_toy_store(tmp_path / "toy.zarr", {"train": 3, "test": 6})
    CT1TrajectoryModel(**TINY).save_pretrained(tmp_path / "m")
    result = CliRunner().invoke(app, ["eval", "trajectory", "--data", str(tmp_path / "toy.zarr"), "--model", str(tmp_path / "m"),
                                      "--report", str(tmp_path / "report"), "--max-clips", max_clips, "--device", "cpu"])
    assert result.exit_code == 2, result.output  # 7 was: evaluated the 6 clips there are, reported as if 7 were asked
    assert not (tmp_path / "report").exists()
    if max_clips == "7":
        assert "max_clips must be a whole number from 1 to 6" in result.output and "'test' split" in result.output


def test_evaluate_checks_max_clips_in_the_library_too(tmp_path: Path) -> None:
    from ct1_sim.trajectory.evaluation import evaluate

    make_toy_store(tmp_path / "toy.zarr", {"test": 2})
    for bad in (0, 3, 1.5):
        with pytest.raises(ValueError, match="max_clips must be a whole number from 1 to 2"):
            evaluate(tmp_path / "toy.zarr", {}, max_clips=bad)  # 0 was: every clip


def test_eval_instructions_on_rendered_scenarios_with_the_shipped_model(tmp_path: Path) -> None:
    """``eval instructions`` end to end: held-out phrasings, the off-road sweep over every maneuver, speed words."""
    from ct1_sim.paths import TRAJECTORY_MODEL, default_model_dir

    runner = CliRunner()
    store = tmp_path / "urban.zarr"
    rendered = runner.invoke(app, ["scenarios", "render", "scenarios/urban.yaml", "--clips", "20", "--out", str(store), "--workers", "1"])
    assert rendered.exit_code == 0, rendered.output
    report = tmp_path / "report"
    result = runner.invoke(app, ["eval", "instructions", "--data", str(store), "--model", str(default_model_dir(TRAJECTORY_MODEL)),
                                 "--report", str(report), "--max-clips", "2", "--samples", "2", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((report / "metrics.json").read_text())
    ct1 = metrics["models"]["ct1"]
    assert metrics["clips"] == 2 and metrics["queries_per_model"] == 2 * 19
    assert set(ct1["offroad_by_instruction"]) == {"straight", "turn_left", "turn_right", "lane_change_left", "lane_change_right", "stop"}
    assert all(0.0 <= v <= 1.0 for v in ct1["offroad_by_instruction"].values())
    assert set(ct1["compliance"]) == {"recorded", "train_phrasing", "test_phrasing"}
    assert set(ct1["speed_words"]) == {"slow_down", "speed_up", "keep_speed", "stop"}
    assert ct1["parser"]["test"]["phrases"] > 1000 and ct1["parser"]["train"]["accuracy"] > ct1["parser"]["test"]["accuracy"] > 0.85
    assert "off-road share of sampled paths" in (report / "report.md").read_text()
    stale = runner.invoke(app, ["eval", "instructions", "--data", str(tmp_path / "none.zarr"), "--model", "model/ct1-tiny", "--report", str(tmp_path / "r2")])
    assert stale.exit_code == 2 and not (tmp_path / "r2").exists()
