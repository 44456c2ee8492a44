"""Pose formats: round trips, hand-written files, bad files, peer files, and `ct1-sim convert`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation
from typer.testing import CliRunner

from ct1_sim.cli.app import app
from ct1_sim.formats import FORMATS, TrajectoryFormatError, convert_trajectory_file, read_trajectory, write_trajectory
from ct1_sim.geometry import CameraTrajectory

PEER = Path(__file__).resolve().parents[2] / "shared" / "peer-data"


@st.composite
def trajectories(draw: st.DrawFn, on_rate_grid: bool = False) -> CameraTrajectory:
    n = draw(st.integers(1, 20))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    c2w = np.tile(np.eye(4), (n, 1, 1))
    c2w[:, :3, :3] = Rotation.random(n, random_state=seed).as_matrix()
    c2w[:, :3, 3] = rng.uniform(-100, 100, size=(n, 3))
    w, h = draw(st.integers(16, 2000)), draw(st.integers(16, 2000))
    fx, fy = draw(st.floats(10, 3000)), draw(st.floats(10, 3000))
    cx, cy = w / 2 + draw(st.floats(-5, 5)), h / 2 + draw(st.floats(-5, 5))
    K = np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1.0]])
    if on_rate_grid:
        ts = np.arange(n, dtype=np.int64) * 200_000
    else:
        ts = np.cumsum(rng.integers(1, 10**6, size=n)).astype(np.int64) + draw(st.integers(0, 10**12))
    return CameraTrajectory(c2w=c2w, K=K, image_size=(w, h), timestamps_us=ts)


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(traj=trajectories())
def test_json_and_realestate10k_round_trip(tmp_path: Path, traj: CameraTrajectory) -> None:
    for fmt in ("json", "realestate10k"):
        path = tmp_path / f"t.{fmt}"
        write_trajectory(traj, path, fmt)
        back = read_trajectory(path, fmt, image_size=traj.image_size)
        assert back.allclose(traj, atol=1e-6), fmt


@SETTINGS
@given(traj=trajectories(on_rate_grid=True))
def test_ct1_and_motionctrl_round_trip(tmp_path: Path, traj: CameraTrajectory) -> None:
    write_trajectory(traj, tmp_path / "t.txt", "ct1")
    assert read_trajectory(tmp_path / "t.txt", "ct1", image_size=traj.image_size, rate_hz=5.0).allclose(traj, atol=1e-6)
    write_trajectory(traj, tmp_path / "t.json", "motionctrl")
    back = read_trajectory(tmp_path / "t.json", "motionctrl", image_size=traj.image_size, rate_hz=5.0)
    np.testing.assert_allclose(back.c2w, traj.relative_to_first().c2w, atol=1e-6)
    np.testing.assert_array_equal(back.timestamps_us, traj.timestamps_us)


def test_hand_written_files(tmp_path: Path) -> None:
    # a camera 1 m forward of the origin: world-to-camera t = [0, 0, -1]
    (tmp_path / "re.txt").write_text(
        "https://www.youtube.com/watch?v=x\n"
        "0 0.5 0.875 0.5 0.5 0 0 1 0 0 0 0 1 0 0 0 0 1 0\n"
        "100000 0.5 0.875 0.5 0.5 0 0 1 0 0 0 0 1 0 0 0 0 1 -1\n"
    )
    t = read_trajectory(tmp_path / "re.txt", "realestate10k", image_size=(448, 256))
    np.testing.assert_allclose(t.positions[1], [0, 0, 1])
    np.testing.assert_allclose(t.K, [[224, 0, 224], [0, 224, 128], [0, 0, 1]])
    np.testing.assert_array_equal(t.timestamps_us, [0, 100000])
    # CT-1 text with and without a first text line, trailing spaces as in the authors' files
    body = "0 288.0 512.0 256.0 256.0 0.0 0.0 1 0 0 0 0 1 0 0 0 0 1 0 \n1 288.0 512.0 256.0 256.0 0.0 0.0 0 0 -1 0 0 1 0 0 1 0 0 -2 \n"
    for name, text in (("plain.txt", body), ("header.txt", "case 1 predicted\n" + body)):
        (tmp_path / name).write_text(text)
        t = read_trajectory(tmp_path / name, "ct1")
        assert t.image_size == (512, 512) and len(t) == 2
        # w2c R = R_y(-90): the camera looks along world -x... its centre is -R^T t
        np.testing.assert_allclose(t.positions[1], [2, 0, 0], atol=1e-12)
        np.testing.assert_array_equal(t.timestamps_us, [0, 200_000])
    (tmp_path / "m.json").write_text(json.dumps([[1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, -3]]))
    t = read_trajectory(tmp_path / "m.json", "motionctrl")
    np.testing.assert_allclose(t.positions[1], [0, 0, 3])
    assert t.image_size == (448, 256)


def test_cross_format_conversion_keeps_the_relative_path(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    c2w = np.tile(np.eye(4), (6, 1, 1))
    c2w[:, :3, :3] = Rotation.random(6, random_state=1).as_matrix()
    c2w[:, :3, 3] = rng.normal(size=(6, 3))
    src = CameraTrajectory(c2w=c2w, K=np.array([[300.0, 0, 224], [0, 300, 128], [0, 0, 1]]), image_size=(448, 256),
                           timestamps_us=np.arange(6) * 200_000)
    write_trajectory(src, tmp_path / "a.txt", "realestate10k")
    previous, prev_fmt = tmp_path / "a.txt", "realestate10k"
    for fmt in ("ct1", "motionctrl", "json", "realestate10k"):
        out = tmp_path / f"b.{fmt}"
        convert_trajectory_file(previous, out, prev_fmt, fmt, image_size=(448, 256))
        previous, prev_fmt = out, fmt
    back = read_trajectory(previous, "realestate10k", image_size=(448, 256))
    np.testing.assert_allclose(back.relative_to_first().c2w, src.relative_to_first().c2w, atol=1e-6)


@pytest.mark.parametrize(
    ("text", "fmt", "message", "line"),
    [
        ("url\n0 0.5 0.8 0.5 0.5 0 0 1 0 0 0 0 1 0 0 0 0 1\n", "realestate10k", "expected 19 numbers", 2),
        ("url\n0 0.5 0.8 0.5 0.5 0 0 1 0 0 0 0 1 0 0 0 0 1 abc\n", "realestate10k", "'abc' is not a number", 2),
        ("url\n0 0.5 0.8 0.5 0.5 0 0 1 0 0 0 0 1 0 0 0 0 1 nan\n", "realestate10k", "NaN", 2),
        ("url\n0 0.5 0.8 0.5 0.5 0 0 1 0 0 0 0 1 0 0 0 0 1 0\n0 0.5 0.8 0.5 0.5 0 0 2 0 0 0 0 1 0 0 0 0 1 0\n", "realestate10k", "not a rigid", 3),
        ("url\n5 0.5 0.8 0.5 0.5 0 0 1 0 0 0 0 1 0 0 0 0 1 0\n5 0.5 0.8 0.5 0.5 0 0 1 0 0 0 0 1 0 0 0 0 1 0\n", "realestate10k", "strictly increasing", 3),
        ("url\n", "realestate10k", "no poses", None),
        ("0 288 512 256 256 0 0 1 0 0 0 0 1 0 0 0 0 1 0\n1 288 512 256\n", "ct1", "expected 19 numbers", 2),
        ("[[1, 0, 0]]", "motionctrl", "12 numbers", None),
        ("{\"c2w\": [}", "json", "not valid JSON", 1),
    ],
)
def test_bad_files_name_the_line(tmp_path: Path, text: str, fmt: str, message: str, line: int | None) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(TrajectoryFormatError, match=message) as info:
        read_trajectory(path, fmt, image_size=(448, 256))
    assert info.value.line == line
    if line is not None:
        assert f"bad.txt:{line}:" in str(info.value)


def test_unknown_format_and_failed_write_keep_old_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown trajectory format"):
        read_trajectory(tmp_path / "x", "colmap")
    with pytest.raises(TrajectoryFormatError, match="no such file"):
        read_trajectory(tmp_path / "missing.txt", "ct1")
    good = tmp_path / "keep.txt"
    good.write_text("precious\n")
    with pytest.raises(ValueError):
        convert_trajectory_file(tmp_path / "missing.txt", good, "ct1", "json")
    assert good.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]  # no temp files left


@pytest.mark.skipif(not PEER.is_dir(), reason="shared/peer-data is not beside this checkout")
def test_reads_real_peer_files_as_they_are() -> None:
    for path in sorted((PEER / "cameractrl").glob("*.txt")):
        traj = read_trajectory(path, "realestate10k", image_size=(1280, 720))
        assert len(traj) == 16
    for path in sorted((PEER / "ct1").glob("*.txt")):
        traj = read_trajectory(path, "ct1")
        assert len(traj) == 73 and traj.image_size == (512, 512)
        assert read_trajectory(path).allclose(traj)  # the format is recognised from the content


def test_cli_convert_all_formats(tmp_path: Path) -> None:
    runner = CliRunner()
    (tmp_path / "in.txt").write_text(
        "any text\n0 0.5 0.875 0.5 0.5 0 0 1 0 0 0 0 1 0 0 0 0 1 0\n200000 0.5 0.875 0.5 0.5 0 0 1 0 0 0 0 1 0 0 0 0 1 -2\n"
    )
    src, src_fmt = tmp_path / "in.txt", "realestate10k"
    for fmt in FORMATS:
        dst = tmp_path / f"out_{fmt}"
        result = runner.invoke(app, ["convert", str(src), str(dst), "--from", src_fmt, "--to", fmt, "--width", "448", "--height", "256"])
        assert result.exit_code == 0, result.output
        assert "wrote" in result.output
        src, src_fmt = dst, fmt
    final = read_trajectory(src, src_fmt, image_size=(448, 256))
    np.testing.assert_allclose(final.positions[-1], [0, 0, 2], atol=1e-9)
    bad = runner.invoke(app, ["convert", str(tmp_path / "nope.txt"), str(tmp_path / "o.json"), "--from", "ct1", "--to", "json"])
    assert bad.exit_code == 2 and "error:" in bad.output and "Traceback" not in bad.output
