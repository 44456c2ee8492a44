"""MP4 and GIF writing: files read back with the right frames, and a failed encode leaves nothing behind."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from ct1_sim.media import mp4_bytes, write_gif, write_mp4


def _frames(t: int = 5, h: int = 33, w: int = 47) -> np.ndarray:
    frames = np.zeros((t, h, w, 3), np.uint8)
    for i in range(t):
        frames[i, :, : (i + 1) * w // t] = 200  # a bar growing frame by frame
    return frames


def _read_mp4(path: Path) -> np.ndarray:
    capture, frames = cv2.VideoCapture(str(path)), []
    while (got := capture.read())[0]:
        frames.append(got[1][:, :, ::-1])
    capture.release()
    return np.stack(frames)


def test_mp4_reads_back_with_every_frame_at_an_even_size(tmp_path: Path) -> None:
    path = write_mp4(_frames(), tmp_path / "clip.mp4", fps=5.0)
    back = _read_mp4(path)
    assert back.shape == (5, 34, 48, 3)  # odd sizes padded by one row/column for yuv420p
    np.testing.assert_allclose(back[:, :33, :47].mean(axis=(1, 2, 3)), _frames().mean(axis=(1, 2, 3)), atol=6)
    assert os.listdir(tmp_path) == ["clip.mp4"]
    assert mp4_bytes(_frames())[4:8] == b"ftyp"


def test_gif_loops_over_every_frame(tmp_path: Path) -> None:
    path = write_gif(_frames(), tmp_path / "clip.gif", fps=4.0)
    with Image.open(path) as im:
        assert im.n_frames == 5 and im.info["loop"] == 0 and im.info["duration"] == 250


def test_bad_frames_are_refused_and_nothing_is_written(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"uint8 \(T,H,W,3\)"):
        write_mp4(_frames().astype(np.float32), tmp_path / "x.mp4")
    with pytest.raises(ValueError, match="no frames"):
        write_gif(_frames()[:0], tmp_path / "x.gif")
    assert os.listdir(tmp_path) == []
