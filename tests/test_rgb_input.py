"""The one image decoder: 16-bit frames scaled (not clipped white), one pixel limit, clear errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from ct1_sim.data.samples import load_samples
from ct1_sim.rgb_input import MAX_IMAGE_PIXELS, ImageDecodeError, decode_image
from tests.image_helpers import pixel_bomb_png, png_bytes

SIXTEEN_BIT = np.array([[0, 257, 32896, 65535], [100, 1000, 40000, 65000]], dtype=np.uint16)
#: round(v * 255 / 65535), computed by hand: 257 -> 1, 32896 -> 128, 100 -> 0, 1000 -> 3.89 -> 4, 40000 -> 155.6 -> 156
EIGHT_BIT = np.array([[0, 1, 128, 255], [0, 4, 156, 253]], dtype=np.uint8)


def test_a_16_bit_grey_png_decodes_to_the_right_8_bit_values() -> None:
    rgb = decode_image(png_bytes(SIXTEEN_BIT))
    assert rgb.shape == (2, 4, 3) and rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb[:, :, 0], EIGHT_BIT)
    assert (rgb[:, :, 0] == rgb[:, :, 2]).all()


def test_a_dark_16_bit_frame_stays_dark() -> None:
    """All values under 256 are still 16-bit values (of 65535), not 8-bit ones."""
    dark = np.full((8, 8), 200, np.uint16)
    assert decode_image(png_bytes(dark)).max() == 1  # 200 / 257


def test_a_16_bit_rgb_png_decodes_to_its_high_bytes() -> None:
    rgb16 = np.random.default_rng(0).integers(0, 65536, (6, 5, 3)).astype(np.uint16)
    ok, buf = cv2.imencode(".png", rgb16[:, :, ::-1])  # OpenCV writes BGR
    assert ok
    np.testing.assert_array_equal(decode_image(buf.tobytes()), (rgb16 >> 8).astype(np.uint8))


def test_the_bundled_samples_loader_scales_16_bit_frames(tmp_path: Path) -> None:
    Image.fromarray(SIXTEEN_BIT).save(tmp_path / "grey16.png")
    (tmp_path / "samples.json").write_text(json.dumps([{"file": "grey16.png", "instruction": "go straight"}]))
    (sample,) = load_samples(tmp_path)
    np.testing.assert_array_equal(sample.image[:, :, 1], EIGHT_BIT)


def test_over_the_pixel_limit_is_a_clear_error_before_decoding() -> None:
    assert MAX_IMAGE_PIXELS == 4096 * 4096
    with pytest.raises(ImageDecodeError, match=r"frame.png is 4097x4096 px, over the 16.8 Mpx limit \(4096x4096\); "
                                               r"give a camera frame"):
        decode_image(pixel_bomb_png(4097, 4096), name="frame.png")
    with pytest.raises(ImageDecodeError, match="not a readable"):  # at the limit the size passes (then no pixel data)
        decode_image(pixel_bomb_png(4096, 4096))
    # Pillow's own bomb guard answers first unless something in the process has switched it off (PIL's
    # MAX_IMAGE_PIXELS is a global); either way the error names the limit and nothing is decoded
    with pytest.raises(ImageDecodeError, match=r"(claims a size|is 100000x100000 px), over the 16.8 Mpx limit|claims a size over"):
        decode_image(pixel_bomb_png(100000, 100000))


def test_bad_data_and_paths_are_clear_errors(tmp_path: Path) -> None:
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, format="GIF")
    with pytest.raises(ImageDecodeError, match="the image is GIF data, not JPEG or PNG"):
        decode_image(gif.getvalue())
    with pytest.raises(ImageDecodeError, match="is not a readable JPEG or PNG image"):
        decode_image(png_bytes(np.zeros((64, 64, 3), np.uint8))[:60])  # truncated
    with pytest.raises(ImageDecodeError, match="not a readable"):
        decode_image(b"just text")
    with pytest.raises(ImageDecodeError, match="is 8x8 px; at least 16x16 is needed"):
        decode_image(png_bytes(np.zeros((8, 8, 3), np.uint8)), min_side=16)
    with pytest.raises(ImageDecodeError, match="is a folder; give an image file"):
        decode_image(tmp_path)
    with pytest.raises(FileNotFoundError, match="no image at"):
        decode_image(tmp_path / "missing.png")


def _pillow_pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


def _encoded(arr: np.ndarray, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    Image.fromarray(arr).save(out, format=fmt, **options)
    return out.getvalue()


@pytest.mark.parametrize("options", [
    {"format": "PNG"}, {"format": "PNG", "optimize": True}, {"format": "PNG", "interlace": 1},
    {"format": "JPEG", "quality": 90}, {"format": "JPEG", "quality": 50, "subsampling": 0},
    {"format": "JPEG", "quality": 75, "progressive": True}, {"format": "JPEG", "quality": 95, "subsampling": 1},
])
def test_the_fast_rgb_decoder_gives_pillows_pixels(options: dict) -> None:
    """8-bit RGB JPEG and PNG take OpenCV's decoder (`_opencv_rgb`); every pixel must be what Pillow decodes, for
    random, smooth and odd-sized frames and the bundled samples."""
    from ct1_sim.rgb_input import _opencv_rgb

    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:97, 0:131]
    smooth = np.stack([(xx * 2) % 256, (yy * 3) % 256, (xx + yy) % 256], axis=2).astype(np.uint8)
    frames = [rng.integers(0, 256, (64, 48, 3), dtype=np.uint8), smooth, load_samples()[0].image]
    options = dict(options)
    fmt = options.pop("format")
    for arr in frames:
        data = _encoded(arr, fmt, **options)
        with Image.open(io.BytesIO(data)) as im:
            assert _opencv_rgb(im, data) is not None  # the fast path is taken
        np.testing.assert_array_equal(decode_image(data), _pillow_pixels(data))


def test_a_jpeg_with_an_orientation_tag_is_not_rotated() -> None:
    """Pillow does not apply EXIF orientation and neither may the fast path (OpenCV would by default)."""
    arr = np.zeros((40, 80, 3), np.uint8)
    arr[:, :40] = 255
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    data = _encoded(arr, "JPEG", quality=95, exif=exif.tobytes())
    out = decode_image(data)
    assert out.shape == (40, 80, 3)
    np.testing.assert_array_equal(out, _pillow_pixels(data))


def test_truncated_jpegs_and_other_kinds_go_to_pillow() -> None:
    """A JPEG cut short is an error (OpenCV alone would grey-fill it); trailing bytes after the end marker decode;
    grey, alpha and palette images keep Pillow's conversion."""
    from ct1_sim.rgb_input import _opencv_rgb

    arr = np.random.default_rng(5).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    jpeg = _encoded(arr, "JPEG", quality=90)
    with pytest.raises(ImageDecodeError, match="is not a readable JPEG or PNG image"):
        decode_image(jpeg[: len(jpeg) // 2])
    np.testing.assert_array_equal(decode_image(jpeg + b"\x00\x00"), _pillow_pixels(jpeg))
    for mode in ("L", "RGBA", "P"):
        data = _encoded(np.asarray(Image.fromarray(arr).convert(mode)), "PNG")
        with Image.open(io.BytesIO(data)) as im:
            assert _opencv_rgb(im, data) is None
        np.testing.assert_array_equal(decode_image(data), _pillow_pixels(data))
