"""The Plücker path for large backbones, end to end with tiny random-initialised SVD components (plumbing only:
no pretrained video weights exist on these machines)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from diffusers import (
    AutoencoderKLTemporalDecoder,
    EulerDiscreteScheduler,
    StableVideoDiffusionPipeline,
    UNetSpatioTemporalConditionModel,
)
from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

from ct1_sim.geometry import CameraTrajectory, intrinsics_from_fov
from ct1_sim.video.plucker_svd import PluckerSVDPipeline
from ct1_sim.video.pose_encoder import PluckerPoseEncoder, inject_pose_features


def tiny_svd(folder: Path) -> Path:
    """Save a tiny random SVD pipeline (the shapes diffusers' own SVD tests use) to ``folder``."""
    torch.manual_seed(0)
    unet = UNetSpatioTemporalConditionModel(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=16, in_channels=8, out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"), cross_attention_dim=32,
        num_attention_heads=8, projection_class_embeddings_input_dim=96, addition_time_embed_dim=32, num_frames=4)
    vae = AutoencoderKLTemporalDecoder(block_out_channels=[32, 64], in_channels=3, out_channels=3,
                                       down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"], latent_channels=4)
    image_encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=32, projection_dim=32, num_hidden_layers=2, num_attention_heads=4, image_size=224, intermediate_size=37,
        patch_size=32))  # SVD resizes the conditioning image to 224 px
    scheduler = EulerDiscreteScheduler(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, prediction_type="v_prediction",
                                       use_karras_sigmas=True, sigma_max=700.0, sigma_min=0.002, timestep_type="continuous")
    pipe = StableVideoDiffusionPipeline(vae=vae, image_encoder=image_encoder, unet=unet, scheduler=scheduler,
                                        feature_extractor=CLIPImageProcessor(crop_size=224, size=224))
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


def path(metres: float, lateral: float = 0.0) -> CameraTrajectory:
    c2w = np.tile(np.eye(4), (4, 1, 1))
    c2w[:, 2, 3] = np.linspace(0, metres, 4)
    c2w[:, 0, 3] = np.linspace(0, lateral, 4)
    return CameraTrajectory(c2w=c2w, K=intrinsics_from_fov(64, 32, 64.0), image_size=(64, 32),
                            timestamps_us=np.arange(4, dtype=np.int64) * 200_000)


def test_plucker_svd_pipeline_runs_and_follows_the_pose_input(tmp_path: Path) -> None:
    pipe = PluckerSVDPipeline.from_svd(tiny_svd(tmp_path / "svd"))
    pipe.set_progress_bar_config(disable=True)
    assert pipe.pose_encoder.config.downscale == pipe.vae_scale_factor == 2
    torch.manual_seed(1)
    for p in pipe.pose_encoder.outs.parameters():  # a "trained" encoder: non-zero output layers
        torch.nn.init.normal_(p, std=0.5)
    image = (np.random.default_rng(0).random((32, 64, 3)) * 255).astype(np.uint8)
    kw = {"height": 32, "width": 64, "num_frames": 4, "num_inference_steps": 2, "decode_chunk_size": 4, "output_type": "np"}
    from PIL import Image

    pil = Image.fromarray(image)
    a = pipe(pil, path(4.0), generator=torch.Generator().manual_seed(0), **kw).frames[0]
    b = pipe(pil, path(4.0), generator=torch.Generator().manual_seed(0), **kw).frames[0]
    c = pipe(pil, path(4.0, lateral=3.0), generator=torch.Generator().manual_seed(0), **kw).frames[0]
    assert a.shape == (4, 32, 64, 3)
    assert np.array_equal(a, b) and not np.allclose(a, c)  # same path same video; another path changes it
    pipe.save_pretrained(tmp_path / "camctrl", safe_serialization=True)
    again = PluckerSVDPipeline.from_svd(tmp_path / "svd", pose_encoder=tmp_path / "camctrl" / "pose_encoder")
    again.set_progress_bar_config(disable=True)
    assert np.array_equal(again(pil, path(4.0), generator=torch.Generator().manual_seed(0), **kw).frames[0], a)
    assert not pipe.unet.down_blocks[0].resnets[0]._forward_hooks  # hooks are removed after the call


def test_fresh_pose_encoder_leaves_the_unet_unchanged_and_shapes_are_checked(tmp_path: Path) -> None:
    svd = StableVideoDiffusionPipeline.from_pretrained(tiny_svd(tmp_path / "svd"))
    enc = PluckerPoseEncoder(block_out_channels=(32, 64), downscale=2)
    feats = enc(torch.randn(4, 6, 32, 64))
    assert [tuple(f.shape) for f in feats] == [(4, 32, 16, 32), (4, 64, 8, 16)]
    assert all(float(f.abs().max()) == 0 for f in feats)
    with pytest.raises(ValueError, match="levels"), inject_pose_features(svd.unet, feats[:1]):
        pass
