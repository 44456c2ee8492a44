"""Input frames: the one image decoder (with the one pixel limit) and the check every model entry point applies.

:func:`decode_image` turns an image file or encoded bytes (the CLI, the HTTP service, ROS messages, curation, the
bundled samples) into RGB uint8 ``(H,W,3)``; :func:`as_rgb_array` checks a PIL image or array handed to a model.
Both scale 16-bit frames to 8 bits (Pillow's own ``convert("RGB")`` clips them at 255, which turns them white).
Pillow reads every header and makes every check; 8-bit RGB JPEG/PNG bytes (camera frames) are then decoded by
OpenCV, to the same pixels, faster (:func:`_opencv_rgb`).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

#: The largest image any entry point decodes (width x height, px): 4096x4096, 16.8 Mpx. Camera frames up to 4K UHD
#: (3840x2160) fit; the models work at a few hundred pixels a side, so anything larger only costs memory (an RGB
#: frame at the limit is 50 MB). A larger header (a "pixel bomb") is refused before any pixel is decoded.
MAX_IMAGE_PIXELS = 4096 * 4096
#: Encodings :func:`decode_image` accepts by default.
IMAGE_FORMATS = ("JPEG", "PNG")


class ImageDecodeError(ValueError):
    """Data that is not a usable image: not an image, the wrong encoding, truncated, too large or too small."""


def pil_to_rgb(image: Image.Image) -> np.ndarray:
    """RGB uint8 ``(H,W,3)`` of a PIL image of any mode.

    16-bit grey (modes ``I;16*``) is scaled by 255/65535. 32-bit grey (``I``, ``F``) carries no bit depth, so its
    full scale is read off the values: 255 when they all fit in 8 bits, else 65535 (``F``: 1.0 when they fit in
    [0, 1]). Other modes go through Pillow's ``convert("RGB")`` (16-bit RGB PNGs already open as 8-bit RGB)."""
    if image.mode.startswith("I") or image.mode == "F":
        grey = np.asarray(image, dtype=np.float64)
        if image.mode.startswith("I;16"):
            full_scale = 65535.0
        else:
            peak = grey.max(initial=0.0)
            full_scale = 1.0 if image.mode == "F" and peak <= 1.0 else 255.0 if peak <= 255 else 65535.0
        grey = np.clip(np.rint(grey * (255.0 / full_scale)), 0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if image.mode == "RGB":  # convert() would copy it, and np.asarray copies once more
        return np.asarray(image)
    return np.asarray(image.convert("RGB"))


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CV_RGB = cv2.IMREAD_COLOR_RGB | cv2.IMREAD_IGNORE_ORIENTATION  # as Pillow: RGB order, EXIF orientation not applied


def _opencv_rgb(im: Image.Image, data: bytes) -> np.ndarray | None:
    """The pixels of an 8-bit RGB JPEG or PNG (``im``: Pillow's header of ``data``) decoded by OpenCV, or None
    to leave the image to Pillow.

    OpenCV decodes these ~20-40 % faster (0.31 vs 0.51 ms for the 448x256 sample as JPEG, 1.39 vs 1.74 ms as
    PNG), with the same libjpeg-turbo and libpng, to the same pixels (tests compare them). Every other kind (grey,
    palette, alpha, 16-bit, CMYK) goes to Pillow, and so does a JPEG that does not end in its end-of-image marker
    (OpenCV would return a truncated one grey-filled) or anything OpenCV does not decode to the header's size."""
    if im.mode != "RGB":
        return None
    if im.format == "PNG":  # IHDR right after the signature: bit depth at byte 24, colour type (2: RGB) at 25
        if not (data.startswith(_PNG_SIGNATURE) and data[12:16] == b"IHDR" and data[24] == 8 and data[25] == 2):
            return None
    elif im.format != "JPEG" or not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        return None
    rgb = cv2.imdecode(np.frombuffer(data, np.uint8), _CV_RGB)
    if rgb is None or rgb.shape != (im.height, im.width, 3):
        return None
    return rgb


def _too_big(what: str) -> ImageDecodeError:
    side = int(MAX_IMAGE_PIXELS**0.5)
    return ImageDecodeError(f"{what} over the {MAX_IMAGE_PIXELS / 1e6:.1f} Mpx limit ({side}x{side}); "
                            "give a camera frame (downscale it)")


def decode_image(source: bytes | str | Path, *, name: str | None = None, formats: tuple[str, ...] = IMAGE_FORMATS,
                 min_side: int = 1) -> np.ndarray:
    """RGB uint8 ``(H,W,3)`` pixels of an image file (a path) or of encoded image bytes.

    ``name`` says what the image is in error messages (default: the path, or "the image"); ``formats`` are the
    Pillow format names accepted. Raises :class:`ImageDecodeError` for data that is not an image in one of
    ``formats``, is truncated or corrupt, is over :data:`MAX_IMAGE_PIXELS` or has a side under ``min_side``
    (px); ``FileNotFoundError`` / ``ValueError`` for a path that is missing or a folder.
    """
    data: bytes | None = None
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        label, fp = name or "the image", io.BytesIO(data)
    else:
        path = Path(source)
        label, fp = name or str(path), path
        if path.is_dir():
            raise ImageDecodeError(f"{path} is a folder; give an image file ({' or '.join(formats)})")
        if not path.is_file():
            raise FileNotFoundError(f"no image at {path}")
    try:
        with Image.open(fp) as im:
            if im.format not in formats:
                raise ImageDecodeError(f"{label} is {im.format or 'an unknown'} data, not {' or '.join(formats)}")
            if im.width * im.height > MAX_IMAGE_PIXELS:
                raise _too_big(f"{label} is {im.width}x{im.height} px,")
            if min(im.width, im.height) < min_side:
                raise ImageDecodeError(f"{label} is {im.width}x{im.height} px; at least {min_side}x{min_side} is needed")
            fast = _opencv_rgb(im, data) if data is not None else None
            if fast is not None:
                return fast
            im.load()  # the full decode: a truncated file fails here, not later in a model
            return pil_to_rgb(im)
    except Image.DecompressionBombError:  # Pillow refuses far larger headers in open() itself
        raise _too_big(f"{label} claims a size") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        if isinstance(err, ImageDecodeError):
            raise
        raise ImageDecodeError(f"{label} is not a readable {' or '.join(formats)} image ({err})") from None


def as_rgb_array(image: Any, name: str = "image", min_side: int = 8) -> np.ndarray:
    """An RGB uint8 ``(H,W,3)`` array from a PIL image (any mode) or an array; a clear error otherwise."""
    if isinstance(image, Image.Image):
        arr = pil_to_rgb(image)
    else:
        arr = np.asarray(image)
        if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
            raise ValueError(f"{name} must be an RGB uint8 array (H,W,3) or a PIL image; got {arr.dtype} {arr.shape}")
    if min(arr.shape[:2]) < min_side:
        raise ValueError(f"{name} is too small ({arr.shape[1]}x{arr.shape[0]} px); give at least {min_side}x{min_side}")
    return arr
