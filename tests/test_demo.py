"""The README's main job, end to end: without models it says so; with models it predicts and renders every sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ct1_sim.cli.app import app
from ct1_sim.data.samples import load_samples
from ct1_sim.formats import read_trajectory
from ct1_sim.metrics import classify_maneuver


def test_bundled_samples_are_consistent() -> None:
    samples = load_samples()
    assert len(samples) >= 4
    for s in samples:
        assert s.image.shape == (256, 448, 3) and s.instruction and s.speed_mps > 0
        assert classify_maneuver(s.trajectory) == s.maneuver


def test_demo_without_models_is_honest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CT1_SIM_MODELS", str(tmp_path / "no-models"))
    res = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "demo")])
    assert res.exit_code == 0, res.output
    assert "not shipped" in res.output and "not predictions" in res.output
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text())
    assert all("predicted_maneuvers" not in row for row in summary["samples"])
    assert (tmp_path / "demo" / "index.html").read_text().count("<img") >= 3 * len(summary["samples"])


def test_demo_with_a_trajectory_model_predicts_every_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ct1_sim.trajectory.training import train_trajectory_model
    from tests.test_trajectory_model import _tiny_yaml
    from tests.toy_clips import make_toy_store
    from tests.video_helpers import read_video, tiny_pipeline

    make_toy_store(tmp_path / "toy.zarr", {"train": 6})
    train_trajectory_model(tmp_path / "toy.zarr", _tiny_yaml(tmp_path / "tiny.yaml", steps=4), tmp_path / "models" / "ct1-tiny")
    tiny_pipeline().save_pretrained(tmp_path / "models" / "ct1-video-small")
    monkeypatch.setenv("CT1_SIM_MODELS", str(tmp_path / "models"))
    res = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "demo"), "--samples", "3", "--device", "cpu"])
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text())
    for row in summary["samples"]:
        assert len(row["predicted_maneuvers"]) == 3 and row["min_ade_m"] >= 0
        folder = tmp_path / "demo" / row["name"]
        assert len(read_trajectory(folder / "sample_02" / "trajectory.json", "json")) == 16
        assert (folder / "overlay.png").is_file() and (folder / "birds_eye.png").is_file()
        frames = read_video(folder / "generated.mp4")
        assert len(frames) == 16 and frames[0].shape == (256, 448, 3)
        assert len(read_video(folder / "side_by_side.mp4")) == 16
        modes = {name: (folder / name).stat().st_mode & 0o777 for name in ("generated.mp4", "overlay.png")}
        assert modes["generated.mp4"] == modes["overlay.png"]  # videos get the usual permissions, not a temp file's 0600
    page = (tmp_path / "demo" / "index.html").read_text()
    assert page.count("<video") == len(summary["samples"])
