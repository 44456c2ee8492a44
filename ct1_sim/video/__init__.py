"""Camera-controlled video generation (CT-1 stage 2): depth, forward warping, a conditional denoiser, evaluation.

Names are imported lazily: ``ct1_sim.video.encode`` (MP4/GIF writing) does not pull in diffusers.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CameraControlledVideoPipeline": "ct1_sim.video.pipeline_ct1_video",
    "CameraControlledVideoPipelineOutput": "ct1_sim.video.pipeline_ct1_video",
    "build_pipeline": "ct1_sim.video.pipeline_ct1_video",
    "to_uint8_frames": "ct1_sim.video.pipeline_ct1_video",
    "DepthNet": "ct1_sim.video.depth_net",
    "WarpDenoiser": "ct1_sim.video.denoiser",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'ct1_sim.video' has no attribute {name!r}")
