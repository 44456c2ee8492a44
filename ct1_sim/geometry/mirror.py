"""Left-right mirroring of camera poses: the pose a mirrored camera has in the mirrored world (numpy only).

Flipping an image horizontally is the same as seeing the world reflected across the camera's y-z plane. In OpenCV
camera axes (x right, y down, z forward) with ``M = diag(-1, 1, 1, 1)``, the mirrored pose is ``c2w' = M c2w M``:
a path turning left becomes the same path turning right, at the same speed and height.
"""

from __future__ import annotations

import numpy as np

#: Reflection across the y-z plane (x -> -x), homogeneous.
_MIRROR_X = np.diag([-1.0, 1.0, 1.0, 1.0])


def mirror_c2w(c2w: np.ndarray) -> np.ndarray:
    """Camera-to-world poses ``(...,4,4)`` (OpenCV axes, metres) of the left-right mirrored world seen by a
    mirrored camera, as float64. Applying it twice gives the input back."""
    return _MIRROR_X @ np.asarray(c2w, dtype=np.float64) @ _MIRROR_X
