"""Camera-controlled video generation (CT-1 stage 2): depth, forward warping, a conditional denoiser, evaluation."""

from ct1_sim.video.denoiser import WarpDenoiser
from ct1_sim.video.depth_net import DepthNet
from ct1_sim.video.pipeline_ct1_video import (
    CameraControlledVideoPipeline,
    CameraControlledVideoPipelineOutput,
    build_pipeline,
    to_uint8_frames,
)

__all__ = ["CameraControlledVideoPipeline", "CameraControlledVideoPipelineOutput", "DepthNet", "WarpDenoiser",
           "build_pipeline", "to_uint8_frames"]
