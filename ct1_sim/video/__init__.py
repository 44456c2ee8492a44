"""Camera-controlled video generation (CT-1 stage 2): depth, a 3D point cache, a generative inpainting denoiser, evaluation.

Names are imported lazily, so importing the package does not pull in diffusers (MP4/GIF writing is ``ct1_sim.media``).
"""

from __future__ import annotations

from ct1_sim.lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "CameraControlledVideoPipeline": "pipeline_ct1_video",
    "CameraControlledVideoPipelineOutput": "pipeline_ct1_video",
    "build_pipeline": "pipeline_ct1_video",
    "to_uint8_frames": "pipeline_ct1_video",
    "MobileNetDepth": "depth_mobilenet",
    "InpaintDenoiser": "inpaint_denoiser",
    "PointCache": "point_cache",
})
