"""The one check every model entry point applies to an input frame."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image


def pil_to_rgb(image: Image.Image) -> np.ndarray:
    """RGB uint8 ``(H,W,3)`` of a PIL image of any mode.

    16-bit and 32-bit grey images (modes ``I;16*``, ``I``, ``F``) are scaled to 8 bits: Pillow's own conversion clips
    them at 255, which turns a 16-bit frame white."""
    if image.mode.startswith("I") or image.mode == "F":
        grey = np.asarray(image, dtype=np.float64)
        peak = grey.max(initial=0.0)
        full_scale = 1.0 if image.mode == "F" and peak <= 1.0 else 255.0 if peak <= 255 else 65535.0
        grey = np.clip(np.rint(grey * (255.0 / full_scale)), 0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    return np.asarray(image.convert("RGB"))


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
