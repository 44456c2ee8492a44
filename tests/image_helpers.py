"""Encoded test images: PNG bytes of an array, and "pixel bomb" PNGs whose header claims a huge size."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image


def png_bytes(image: np.ndarray) -> bytes:
    """PNG encoding of ``image`` (any array Pillow takes: RGB uint8, 16-bit grey, ...)."""
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


def pixel_bomb_png(width: int = 30000, height: int = 30000) -> bytes:
    """A 60-byte PNG whose header claims ``width`` x ``height`` RGB pixels (no real pixel data)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
