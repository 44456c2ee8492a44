"""The one check every model entry point applies to an input frame."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image


def as_rgb_array(image: Any, name: str = "image", min_side: int = 8) -> np.ndarray:
    """An RGB uint8 ``(H,W,3)`` array from a PIL image (any mode) or an array; a clear error otherwise."""
    if isinstance(image, Image.Image):
        arr = np.asarray(image.convert("RGB"))
    else:
        arr = np.asarray(image)
        if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
            raise ValueError(f"{name} must be an RGB uint8 array (H,W,3) or a PIL image; got {arr.dtype} {arr.shape}")
    if min(arr.shape[:2]) < min_side:
        raise ValueError(f"{name} is too small ({arr.shape[1]}x{arr.shape[0]} px); give at least {min_side}x{min_side}")
    return arr
