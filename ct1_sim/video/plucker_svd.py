"""Camera control for large video backbones: Stable Video Diffusion + a Plücker pose encoder (CameraCtrl-style).

``PluckerSVDPipeline`` is diffusers' ``StableVideoDiffusionPipeline`` with one more registered component,
``pose_encoder`` (:class:`~ct1_sim.video.pose_encoder.PluckerPoseEncoder`). Its ``__call__`` takes a
``CameraTrajectory`` besides the image: the path is made relative to its first pose, resampled to ``num_frames``,
turned into Plücker maps at the output size, encoded, and injected into the UNet's down blocks for the whole
denoising loop. Load an SVD checkpoint a user has on disk with :meth:`from_svd`; nothing is downloaded. The pose
encoder must be trained (CameraCtrl-style, on clips with poses) before camera control means anything: ct1-sim ships
no such weights and tests this path with tiny random components (plumbing only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from diffusers import StableVideoDiffusionPipeline

from ct1_sim.geometry import CameraTrajectory
from ct1_sim.video.pipeline_ct1_video import CameraControlledVideoPipeline
from ct1_sim.video.pose_encoder import PluckerPoseEncoder, inject_pose_features
from ct1_sim.video.rollout_session import relative_plucker


class PluckerSVDPipeline(StableVideoDiffusionPipeline):
    """SVD image-to-video with Plücker camera conditioning (see the module docstring)."""

    def __init__(self, vae, image_encoder, unet, scheduler, feature_extractor, pose_encoder: PluckerPoseEncoder) -> None:
        super().__init__(vae=vae, image_encoder=image_encoder, unet=unet, scheduler=scheduler, feature_extractor=feature_extractor)
        self.register_modules(pose_encoder=pose_encoder)

    @classmethod
    def from_svd(cls, path: str | Path, pose_encoder: PluckerPoseEncoder | str | Path | None = None, **kwargs: Any) -> PluckerSVDPipeline:
        """Load a local SVD checkpoint folder (safetensors only) and attach a pose encoder (a fresh one sized for its
        UNet when none is given, or one saved with ``save_pretrained``)."""
        svd = StableVideoDiffusionPipeline.from_pretrained(str(path), use_safetensors=True, local_files_only=True, **kwargs)
        if pose_encoder is None:
            pose_encoder = PluckerPoseEncoder(block_out_channels=tuple(svd.unet.config.block_out_channels),
                                              downscale=svd.vae_scale_factor)
        elif not isinstance(pose_encoder, PluckerPoseEncoder):
            pose_encoder = PluckerPoseEncoder.from_pretrained(str(pose_encoder), use_safetensors=True)
        return cls(**svd.components, pose_encoder=pose_encoder)

    @torch.no_grad()
    def __call__(self, image: Any, trajectory: CameraTrajectory, height: int = 576, width: int = 1024,
                 num_frames: int | None = None, plucker_scale_m: float = 10.0, **kwargs: Any):
        """``StableVideoDiffusionPipeline.__call__`` with the camera following ``trajectory`` (OpenCV axes, metres)."""
        if not isinstance(trajectory, CameraTrajectory):
            raise ValueError(f"trajectory must be a CameraTrajectory, got {type(trajectory).__name__}")
        num_frames = num_frames or self.unet.config.num_frames
        c2w_rel, K = CameraControlledVideoPipeline.prepare_trajectory(trajectory, num_frames, width, height)
        plucker = relative_plucker(c2w_rel, K, (width, height), height, width, plucker_scale_m)  # (F,6,H,W)
        encoder = self.pose_encoder
        features = encoder(plucker.to(device=encoder.device, dtype=encoder.dtype))
        with inject_pose_features(self.unet, features):
            return super().__call__(image, height=height, width=width, num_frames=num_frames, **kwargs)
