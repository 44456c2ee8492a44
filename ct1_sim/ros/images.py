"""``sensor_msgs/msg/CompressedImage`` <-> RGB pixels, with errors that say what was wrong with the message.

rosbridge carries ``uint8[] data`` as a base64 string (it also accepts a list of ints on input); both are read.
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Mapping
from typing import Any

import numpy as np

from ct1_sim.rgb_input import ImageDecodeError, decode_image
from ct1_sim.ros.messages import header

#: Declared formats the bridge decodes (the part of ``format`` after ';' for ``image_transport`` strings such as
#: ``"bgr8; jpeg compressed bgr8"``).
SUPPORTED_FORMATS = ("jpeg", "png")


class ImageMessageError(ValueError):
    """A CompressedImage that cannot be used: unsupported format, bad base64, truncated or corrupt data."""


def _declared_format(fmt: Any) -> str:
    if not isinstance(fmt, str) or not fmt.strip():
        raise ImageMessageError(f"CompressedImage.format must name the encoding ('jpeg' or 'png'), got {fmt!r}")
    words = fmt.lower().replace(";", " ").split()
    for word in words:
        if word in ("jpeg", "jpg"):
            return "jpeg"
        if word == "png":
            return "png"
    raise ImageMessageError(f"unsupported CompressedImage format {fmt!r}; publish {' or '.join(SUPPORTED_FORMATS)}")


def _payload(data: Any) -> bytes:
    if isinstance(data, str):
        try:
            return base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as err:
            raise ImageMessageError(f"CompressedImage.data is not valid base64 ({err})") from None
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    if isinstance(data, list):
        try:
            return bytes(data)
        except (TypeError, ValueError) as err:
            raise ImageMessageError(f"CompressedImage.data must be bytes 0-255 ({err})") from None
    raise ImageMessageError(f"CompressedImage.data must be a base64 string or a list of bytes, got {type(data).__name__}")


def decode_compressed_image(msg: Mapping[str, Any]) -> np.ndarray:
    """RGB uint8 ``(H, W, 3)`` pixels of a CompressedImage message dict (JPEG or PNG).

    Raises :class:`ImageMessageError` naming the problem: an unsupported or mismatching ``format``, bad base64,
    empty, truncated or corrupt data, or an image over :data:`ct1_sim.rgb_input.MAX_IMAGE_PIXELS`.
    """
    if not isinstance(msg, Mapping):
        raise ImageMessageError(f"expected a sensor_msgs/msg/CompressedImage object, got {type(msg).__name__}")
    declared = _declared_format(msg.get("format"))
    data = _payload(msg.get("data"))
    if not data:
        raise ImageMessageError("CompressedImage.data is empty")
    try:
        return decode_image(data, name=f"CompressedImage.data ({len(data)} bytes; format says {declared!r})",
                            formats=(declared.upper(),))
    except ImageDecodeError as err:
        raise ImageMessageError(str(err)) from None


def compress_rgb(rgb: np.ndarray, fmt: str = "jpeg", quality: int = 90) -> bytes:
    """The ``fmt`` (``jpeg`` | ``png``) bytes of RGB uint8 ``(H,W,3)`` pixels (``quality`` 1-95 for JPEG; PNG is exact)."""
    from PIL import Image

    if fmt not in SUPPORTED_FORMATS:
        raise ValueError(f"fmt must be one of {SUPPORTED_FORMATS}, got {fmt!r}")
    arr = np.asarray(rgb)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
        raise ValueError(f"image must be RGB uint8 (H,W,3), got {arr.shape} {arr.dtype}")
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG" if fmt == "jpeg" else "PNG", **({"quality": quality} if fmt == "jpeg" else {}))
    return buf.getvalue()


def encode_compressed_image(rgb: np.ndarray, stamp_ns: int, frame_id: str, fmt: str = "jpeg", quality: int = 90) -> dict[str, Any]:
    """CompressedImage message dict (``data`` base64, as rosbridge sends ``uint8[]``) of RGB uint8 ``(H,W,3)`` pixels."""
    data = compress_rgb(rgb, fmt, quality)
    return {"header": header(stamp_ns, frame_id), "format": fmt, "data": base64.b64encode(data).decode("ascii")}
