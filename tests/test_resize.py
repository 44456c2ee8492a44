"""``resize_bilinear`` gives Pillow's bilinear pixels exactly, on its 2x fast path and elsewhere."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from ct1_sim.resize import resize_bilinear


@pytest.mark.parametrize(("height", "width", "size"), [
    (256, 448, (224, 128)),  # the project's frames to the trajectory model's input: the 2x fast path
    (128, 224, (112, 64)), (90, 160, (45, 45)), (12, 14, (7, 6)), (4, 4, (2, 2)),  # 2x, and 2x in one axis only
    (900, 1600, (224, 128)), (37, 61, (20, 11)), (64, 112, (224, 128)),  # other reductions and an enlargement
    (512, 128, (64, 256)), (10, 4, (2, 5)), (8, 4, (2, 4)),  # tall frames (over 2:1 Pillow runs the rows first); 2:1 exactly
])
def test_resize_bilinear_is_pillows_bit_for_bit(height: int, width: int, size: tuple[int, int]) -> None:
    rng = np.random.default_rng(height * width)
    for frame in (rng.integers(0, 256, (height, width, 3), dtype=np.uint8),
                  np.full((height, width, 3), 255, np.uint8), np.zeros((height, width, 3), np.uint8)):
        want = np.asarray(Image.fromarray(frame).resize(size, Image.BILINEAR))
        got = resize_bilinear(frame, size)
        assert got.dtype == np.uint8 and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
    view = np.random.default_rng(1).integers(0, 256, (height, width + 2, 3), dtype=np.uint8)[:, 1:-1]  # a non-contiguous crop
    np.testing.assert_array_equal(resize_bilinear(view, size), np.asarray(Image.fromarray(np.ascontiguousarray(view)).resize(size, Image.BILINEAR)))


def test_the_fast_path_runs_for_the_project_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    from ct1_sim import resize

    passes: list[int] = []
    original = resize._halve
    monkeypatch.setattr(resize, "_halve", lambda arr, axis: passes.append(axis) or original(arr, axis))
    frame = np.random.default_rng(0).integers(0, 256, (256, 448, 3), dtype=np.uint8)
    np.testing.assert_array_equal(resize.resize_bilinear(frame, (224, 128)), np.asarray(Image.fromarray(frame).resize((224, 128), Image.BILINEAR)))
    assert passes == [1, 0]  # columns, then rows, on OpenCV
    resize.resize_bilinear(frame, (200, 128))
    assert passes == [1, 0]  # not a 2x reduction: Pillow
