"""``ct1-sim viz``: 3D camera frustums, bird's-eye view and the paths in the image, as PNG and MP4."""

from __future__ import annotations

from pathlib import Path

import numpy as np
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


def _near(pixels: np.ndarray, rgb: tuple[int, int, int], tol: int) -> np.ndarray:
    """``(H,W)`` mask of the pixels within ``tol`` of ``rgb`` in every channel."""
    return np.abs(pixels[..., :3].astype(int) - np.array(rgb)).max(-1) <= tol


def _has_colour(pixels: np.ndarray, rgb: tuple[int, int, int], tol: int = 12, min_pixels: int = 30) -> bool:
    return int(_near(pixels, rgb, tol).sum()) >= min_pixels


def _dense_box(mask: np.ndarray) -> tuple[slice, slice]:
    """The box (rows, columns) of a solid region of a mask: the rows and columns holding more than half as many of
    its pixels as the densest one (stray matches elsewhere, such as in a legend, fall outside)."""
    rows = np.flatnonzero(mask.sum(1) > 0.5 * mask.sum(1).max())
    cols = np.flatnonzero(mask.sum(0) > 0.5 * mask.sum(0).max())
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


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
    # the truth, white dashed, inside the drawn camera image (found by its two greys; the figure around it is white)
    image_panel = pixels[:, pixels.shape[1] * 2 // 3 :]
    inside = image_panel[_dense_box(_near(image_panel, (90, 90, 90), 2) | _near(image_panel, (60, 60, 60), 2))]
    assert _has_colour(inside, (255, 255, 255), tol=20)


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
    assert _has_colour(panel[:, :320], (255, 255, 255), tol=20, min_pixels=10)  # the truth, white dashed in the image
    # the truth, black dashed in the top view: the camera triangle is grey 30 and the text grey 80, so pixels darker
    # than 15 are the truth's; turning left, they run from the camera (bottom centre) up the left half
    top = panel[:, 320:]
    rows, cols = np.nonzero(_near(top, (0, 0, 0), 15))
    assert len(rows) >= 20
    assert cols.mean() < top.shape[1] / 2 and rows.max() - rows.min() > top.shape[0] / 3

