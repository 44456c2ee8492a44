"""``ct1-sim sim run|eval``: the files a run writes (looked at, not only listed) and clear errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import imageio.v3 as iio
import numpy as np
from PIL import Image
from typer.testing import CliRunner

from ct1_sim.cli.app import app


def run(*args: str):  # click Result
    return CliRunner().invoke(app, list(args))


def test_sim_run_writes_video_bev_and_metrics(tmp_path: Path) -> None:
    out = tmp_path / "drive"
    result = run("sim", "run", "--world", "procedural", "--policy", "expert", "--town", "0",
                 "--route", "turn left at the next intersection, then go straight", "--seconds", "6", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "PDMS" in result.output
    metrics = json.loads((out / "metrics.json").read_text())
    s = metrics["summary"]
    assert s["termination"] == "time_limit" and s["duration_s"] == 6.0 and s["nc"] == 1.0
    assert [m["kind"] for m in s["maneuvers"]] == ["turn_left", "straight"]
    assert len(metrics["steps"]) == 60
    frames = iio.imread(out / "camera.mp4")
    assert frames.shape[1:] == (256, 448, 3) and len(frames) == 61
    assert frames.std() > 20  # a scene, not a blank frame
    bev = np.asarray(Image.open(out / "bev.png").convert("RGB"))
    assert bev.shape[0] > 500 and len(np.unique(bev.reshape(-1, 3), axis=0)) > 50
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drive"]  # no staging folder left behind


def test_sim_run_announces_maneuvers_as_far_ahead_as_told(tmp_path: Path) -> None:
    """--announce-m moves the maneuver's instruction: at 60 m the drive (starting ~50 m before its junction) hears it
    from the first step, at 5 m it follows the road first and hears the same words later (same town, route, seed)."""
    said = {}
    for metres in ("60", "5"):
        out = tmp_path / metres
        result = run("sim", "run", "--policy", "expert", "--town", "0", "--route", "turn left at the next intersection",
                     "--seconds", "8", "--announce-m", metres, "--out", str(out))
        assert result.exit_code == 0, result.output
        said[metres] = [s["instruction"] for s in json.loads((out / "metrics.json").read_text())["steps"]]
    turn = said["60"][0]
    assert set(said["60"]) == {turn}
    assert said["5"][0] != turn and turn in said["5"]
    assert said["5"].index(turn) > 20  # told only once the junction was near


def test_sim_eval_writes_a_summary_per_policy(tmp_path: Path) -> None:
    result = run("sim", "eval", "--policies", "expert,constant-velocity", "--episodes", "2", "--towns", "1", "--seconds", "40",
                 "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert set(summary["policies"]) == {"expert", "constant-velocity"}
    for s in summary["policies"].values():
        assert s["episodes"] == 2 and 0.0 <= s["pdms"] <= 1.0
        assert {"nc", "dac", "ttc", "ep", "comfort", "route_completion", "instruction_success"} <= set(s)
    expert, cv = summary["policies"]["expert"], summary["policies"]["constant-velocity"]
    assert expert["pdms"] > cv["pdms"] and expert["route_completion"] > cv["route_completion"]
    assert expert["instruction_success_all"] == 1.0 > cv["instruction_success_all"]
    assert len(json.loads((tmp_path / "episodes" / "expert.json").read_text())) == 2


def test_sim_run_in_the_neural_world_writes_generated_frames(tmp_path: Path) -> None:
    """--world neural: frame 0 is the procedural render, the others come from the video model (a tiny saved one)."""
    from tests.video_helpers import tiny_pipeline

    model = tmp_path / "video"
    tiny_pipeline().save_pretrained(model)
    args = ("--policy", "expert", "--town", "0", "--seconds", "1", "--speed", "6")
    neural = run("sim", "run", "--world", "neural", "--video-model", str(model), "--device", "cpu", *args, "--out", str(tmp_path / "n"))
    procedural = run("sim", "run", "--world", "procedural", *args, "--out", str(tmp_path / "p"))
    assert neural.exit_code == 0 and procedural.exit_code == 0, neural.output + procedural.output
    n, p = iio.imread(tmp_path / "n" / "camera.mp4"), iio.imread(tmp_path / "p" / "camera.mp4")
    assert len(n) == 6 and len(p) == 11  # 1 s at 5 Hz (the neural default) and at 10 Hz, plus the reset frame
    assert np.abs(n[0].astype(int) - p[0].astype(int)).mean() < 3  # the same start frame (up to video coding)
    assert np.abs(n[-1].astype(int) - p[-1].astype(int)).mean() > 3  # a random tiny model generates something else
    sn = json.loads((tmp_path / "n" / "metrics.json").read_text())["summary"]
    sp = json.loads((tmp_path / "p" / "metrics.json").read_text())["summary"]
    assert sn["route"] == sp["route"] and sn["nc"] == sp["nc"] == 1.0  # scores from the same exact twin


def test_sim_bad_input_is_one_clear_error(tmp_path: Path) -> None:
    for args, words in [
        (("--world", "dreamland"), "choose procedural or neural"),
        (("--policy", "joyride"), "unknown policy"),
        (("--route", "moonwalk"), "exactly one of left, right or straight"),
        (("--town", "1", "--town-seed", "5"), "not both"),
        (("--policy", "ct1", "--trajectory-model", str(tmp_path)), "has no config.json"),
    ]:
        result = run("sim", "run", *args, "--out", str(tmp_path / "x"))
        assert result.exit_code == 2, result.output
        assert words in result.output
    assert not (tmp_path / "x").exists()
