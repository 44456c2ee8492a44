"""``ct1-sim viz``: 3D camera frustums, bird's-eye view and the paths in the image, as PNG and MP4."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from ct1_sim.cli.app import app
from ct1_sim.formats import write_ct1, write_json
from ct1_sim.geometry import CameraTrajectory, intrinsics_from_fov
from ct1_sim.viz import PALETTE
from ct1_sim.viz.frustums import frustum_corners, to_plot
from ct1_sim.viz.keyframe_panel import keyframe_panel
from tests.toy_clips import arc_path

SIZE = (448, 256)


def _traj(maneuver: str, speed: float, num_poses: int = 16) -> CameraTrajectory:
    ts = np.arange(num_poses, dtype=np.int64) * 200_000
    return CameraTrajectory(c2w=arc_path(maneuver, speed, num_poses), K=intrinsics_from_fov(*SIZE, 64.0), image_size=SIZE, timestamps_us=ts)


def _has_colour(pixels: np.ndarray, rgb: tuple[int, int, int], tol: int = 12, min_pixels: int = 30) -> bool:
    return int((np.abs(pixels[..., :3].astype(int) - np.array(rgb)).max(-1) <= tol).sum()) >= min_pixels


def test_frustum_geometry() -> None:
    traj = _traj("turn_left", 8.0)
    corners = frustum_corners(traj, depth=2.0)  # (T,5,3)
    fx = traj.K[0, 0]
    # the first camera is the identity: base corners 2 m ahead, spread by the field of view; apex at the centre
    assert np.allclose(corners[0, :4, 2], 2.0) and np.allclose(corners[0, 4], 0.0)
    assert np.allclose(np.abs(corners[0, :4, 0]), 2.0 * (SIZE[0] / 2) / fx)
    # every pyramid's axis (apex -> base centre) is that camera's optical axis
    axis = corners[:, :4].mean(1) - corners[:, 4]
    assert np.allclose(axis / 2.0, traj.rotations[:, :, 2], atol=1e-9)
    assert np.allclose(to_plot(np.array([1.0, 2.0, 3.0])), [1.0, 3.0, -2.0])  # x right, z forward, -y up


def test_viz_png_with_truth_and_image(tmp_path: Path) -> None:
    files = []
    for i, (m, v) in enumerate((("straight", 8.0), ("turn_left", 6.0), ("turn_right", 7.0))):
        files.append(tmp_path / f"sample_{i}.json")
        write_json(_traj(m, v), files[-1])
    write_ct1(_traj("turn_left", 7.0), tmp_path / "truth.txt")
    image = np.full((SIZE[1], SIZE[0], 3), 90, np.uint8)
    image[SIZE[1] // 2 :] = 60
    Image.fromarray(image).save(tmp_path / "frame.png")
    out = tmp_path / "viz.png"
    result = CliRunner().invoke(app, ["viz", *map(str, files), "--truth", str(tmp_path / "truth.txt"), "--image", str(tmp_path / "frame.png"),
                                      "--out", str(out), "--width", str(SIZE[0]), "--height", str(SIZE[1])])
    assert result.exit_code == 0, result.output
    pixels = np.asarray(Image.open(out).convert("RGB"))
    assert pixels.shape[1] > 2.5 * pixels.shape[0]  # three panels side by side
    for rgb in PALETTE[:3]:  # one colour per sample
        assert _has_colour(pixels, rgb), rgb
    assert not _has_colour(pixels, PALETTE[3])  # ... and no fourth sample
    assert _has_colour(pixels[:, pixels.shape[1] * 2 // 3 :], (255, 255, 255), tol=20)  # the truth in the image panel


def test_viz_mp4_animates(tmp_path: Path) -> None:
    import cv2

    write_json(_traj("turn_right", 7.0, num_poses=6), tmp_path / "a.json")
    out = tmp_path / "viz.mp4"
    result = CliRunner().invoke(app, ["viz", str(tmp_path / "a.json"), "--out", str(out), "--fps", "8"])
    assert result.exit_code == 0, result.output
    capture = cv2.VideoCapture(str(out))
    frames = []
    while (frame := capture.read())[0]:
        frames.append(frame[1])
    capture.release()
    assert len(frames) == 6 + 8  # one frame per pose, then the full picture held for a second
    assert np.abs(frames[0].astype(int) - frames[5].astype(int)).mean() > 0.5  # poses appear over time
    assert np.array_equal(frames[-1], frames[-2])


def test_viz_errors(tmp_path: Path) -> None:
    write_json(_traj("straight", 5.0), tmp_path / "a.json")
    result = CliRunner().invoke(app, ["viz", str(tmp_path / "a.json"), "--out", str(tmp_path / "x.gif")])
    assert result.exit_code == 2 and "--out must end in .png or .mp4" in result.output


def test_keyframe_panel_draws_samples_and_truth() -> None:
    image = np.full((90, 160, 3), 80, np.uint8)
    panel = keyframe_panel(image, [_traj("straight", 6.0), _traj("turn_left", 6.0)], _traj("turn_left", 7.0).replace(
        K=intrinsics_from_fov(160, 90, 64.0), image_size=(160, 90)), width=320)
    assert panel.shape == (180, 320 + 180, 3)
    for rgb in PALETTE[:2]:
        assert _has_colour(panel, rgb, min_pixels=10)
    assert _has_colour(panel[:, 320:], (0, 0, 0), tol=30, min_pixels=10)  # the truth, black dashed in the top view

