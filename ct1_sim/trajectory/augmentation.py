"""Geometrically honest augmentation for (image, trajectory, instruction) training triples.

- colour jitter: brightness / contrast / saturation; the geometry is untouched;
- crop: a random window resized back to the full size, with the pixel intrinsics adjusted to match;
- horizontal flip: the image mirrored, the trajectory mirrored across the camera's y-z plane
  (:func:`ct1_sim.geometry.mirror_c2w`) and "left"/"right" swapped in the instruction and the maneuver label.
"""

from __future__ import annotations

import re

import numpy as np

_LR = re.compile(r"(?<![A-Za-z])(left|right|Left|Right|LEFT|RIGHT)(?![A-Za-z])")
_SWAP = {"left": "right", "right": "left", "Left": "Right", "Right": "Left", "LEFT": "RIGHT", "RIGHT": "LEFT"}


def swap_left_right(text: str) -> str:
    """Swap the words left and right (whole words, case kept): maneuver labels and instructions."""
    return _LR.sub(lambda m: _SWAP[m.group(0)], text)


def colour_jitter(image: np.ndarray, rng: np.random.Generator, strength: float = 0.25) -> np.ndarray:
    """Random brightness, contrast and saturation (each ±``strength``) of an RGB uint8 image."""
    x = image.astype(np.float32)
    x *= 1.0 + rng.uniform(-strength, strength)  # brightness
    mean = x.mean()
    x = (x - mean) * (1.0 + rng.uniform(-strength, strength)) + mean  # contrast
    grey = x.mean(axis=-1, keepdims=True)
    x = (x - grey) * (1.0 + rng.uniform(-strength, strength)) + grey  # saturation
    return np.clip(x, 0, 255).astype(np.uint8)


def random_crop(
    image: np.ndarray, K: np.ndarray, rng: np.random.Generator, min_scale: float = 0.85
) -> tuple[np.ndarray, np.ndarray]:
    """A random crop (same aspect, ``min_scale``..1 of the size) resized back to ``(H,W)``, and its ``K``."""
    import cv2

    h, w = image.shape[:2]
    s = rng.uniform(min_scale, 1.0)
    cw, ch = max(8, round(w * s)), max(8, round(h * s))
    x0 = int(rng.integers(0, w - cw + 1))
    y0 = int(rng.integers(0, h - ch + 1))
    crop = cv2.resize(image[y0 : y0 + ch, x0 : x0 + cw], (w, h), interpolation=cv2.INTER_AREA)
    K2 = np.array(K, dtype=np.float64)
    K2[0, 2] -= x0
    K2[1, 2] -= y0
    K2[:2] *= np.array([[w / cw], [h / ch]])
    return crop, K2
