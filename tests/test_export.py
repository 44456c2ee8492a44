"""``ct1-sim export``: the pose files CameraCtrl, MotionCtrl and CT-1 read, and that they read back equal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ct1_sim.cli.app import app
from ct1_sim.formats import read_ct1, read_motionctrl, read_realestate10k, write_json
from ct1_sim.formats.export import export_pose_file
from tests.conftest import make_trajectory, random_poses

SIZE = (448, 256)


@pytest.fixture
def trajectory(rng: np.random.Generator):
    return make_trajectory(random_poses(rng, 16), rate_hz=5.0, size=SIZE)


@pytest.mark.parametrize("target", ["cameractrl", "motionctrl", "ct1"])
def test_cli_export_reads_back_equal(target: str, trajectory, tmp_path: Path) -> None:
    src = tmp_path / "traj.json"
    write_json(trajectory, src)
    result = CliRunner().invoke(app, ["export", "--for", target, str(src), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    if target == "cameractrl":
        back = read_realestate10k(tmp_path / "out" / "traj.txt", image_size=SIZE)
        assert (tmp_path / "out" / "traj.txt").read_text().split("\n")[0].startswith("#")  # line 1: the title line
        assert back.allclose(trajectory, atol=1e-9)
    elif target == "ct1":
        back = read_ct1(tmp_path / "out" / "traj.ct1.txt", image_size=SIZE, rate_hz=5.0)
        assert back.allclose(trajectory, atol=1e-9)
    else:
        back = read_motionctrl(tmp_path / "out" / "traj.motionctrl.json", image_size=SIZE, rate_hz=5.0)
        # MotionCtrl stores poses relative to frame 0 and no intrinsics
        assert np.allclose(back.c2w, trajectory.relative_to_first().c2w, atol=1e-9)
        assert np.array_equal(back.timestamps_us, trajectory.timestamps_us)
    assert "read it back with --width 448 --height 256" in result.output


def test_export_from_another_format_and_errors(trajectory, tmp_path: Path) -> None:
    path = export_pose_file(trajectory, "ct1", tmp_path, "a")
    again = export_pose_file(read_ct1(path, image_size=SIZE), "CameraCtrl", tmp_path, "b")
    assert read_realestate10k(again, image_size=SIZE).replace(timestamps_us=trajectory.timestamps_us).allclose(trajectory, atol=1e-9)
    with pytest.raises(ValueError, match="unknown export target 'svd'.*cameractrl, motionctrl, ct1"):
        export_pose_file(trajectory, "svd", tmp_path, "c")
    result = CliRunner().invoke(app, ["export", "--for", "nope", str(path), "--out", str(tmp_path)])
    assert result.exit_code == 2 and "unknown export target" in result.output


def test_an_exported_pose_file_names_its_own_suffix_once(trajectory, tmp_path: Path) -> None:
    """Exporting drive.ct1.txt gives drive.ct1.txt / drive.txt, not drive.ct1.ct1.txt / drive.ct1.txt."""
    src = export_pose_file(trajectory, "ct1", tmp_path / "in", "drive")
    for target, name in (("ct1", "drive.ct1.txt"), ("cameractrl", "drive.txt"), ("motionctrl", "drive.motionctrl.json")):
        result = CliRunner().invoke(app, ["export", "poses", "--for", target, str(src), "--out", str(tmp_path / target)])
        assert result.exit_code == 0, result.output
        assert [p.name for p in (tmp_path / target).iterdir()] == [name]
