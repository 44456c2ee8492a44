"""The generator's adversarial fine-tune: the hole discriminator, its losses, the balance, training and resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from ct1_sim.data import ClipStore
from ct1_sim.video.hole_discriminator import (
    HoleDiscriminator,
    adaptive_weight,
    composite,
    discriminator_loss,
    generator_adversarial_loss,
    hole_patch_weights,
)
from tests.video_helpers import render_clips, tiny_pipeline

TINY = ("depth_net: {decoder_channels: [16, 16, 8, 8]}\n"
        "denoiser: {block_out_channels: [16, 32], attention_head_dim: 8, embed_channels: 16}\n"
        "generator_crop: [128, 64]\nval_clips: 0\ncheckpoint_every: 1\nlog_every: 1\nseed: 0\n")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> ClipStore:
    return render_clips(tmp_path_factory.mktemp("adv") / "clips.zarr", [("urban", "intersection")])


def test_the_discriminator_scores_patches_and_only_holes_count() -> None:
    torch.manual_seed(0)
    disc = HoleDiscriminator()
    frame, mask = torch.rand(2, 3, 64, 128) * 2 - 1, torch.ones(2, 1, 64, 128)
    assert disc(frame, mask).shape == (2, 1, 8, 16)
    mask[:, :, 16:32, 40:56] = 0  # a 16x16 hole: two by two patches of 8 px
    w = hole_patch_weights(mask)
    assert float(w.sum()) == pytest.approx(2 * 4) and float(w.max()) == 1.0
    target, estimate = torch.rand(2, 3, 64, 128), torch.rand(2, 3, 64, 128)
    fake = composite(estimate, target, mask)
    assert torch.equal(fake[mask.expand_as(fake) > 0], target[mask.expand_as(target) > 0])  # valid pixels stay the truth
    assert torch.equal(fake[:, :, 16:32, 40:56], estimate[:, :, 16:32, 40:56])
    loss, parts = discriminator_loss(disc, target, fake, mask)
    assert float(loss.detach()) > 0 and set(parts) == {"d_real", "d_fake"}
    no_holes = torch.ones_like(mask)  # nothing to judge: no loss, no gradient
    assert float(discriminator_loss(disc, target, target, no_holes)[0].detach()) == 0.0
    assert float(generator_adversarial_loss(disc, target, no_holes).detach()) == 0.0


def test_adaptive_weight_balances_the_gradient_norms() -> None:
    layer = torch.nn.Linear(4, 4)
    x = torch.randn(8, 4)
    y = layer(x)
    rec, adv = y.square().mean(), 10.0 * y.sum()
    g_rec = torch.autograd.grad(rec, layer.weight, retain_graph=True)[0]
    g_adv = torch.autograd.grad(adv, layer.weight, retain_graph=True)[0]
    w = adaptive_weight(rec, adv, layer.weight, 0.5)
    assert float(w) == pytest.approx(0.5 * float(g_rec.norm()) / (float(g_adv.norm()) + 1e-4), rel=1e-5)
    assert not w.requires_grad


def test_adversarial_fine_tune_trains_both_resumes_and_changes_the_generator(tmp_path: Path, rendered: ClipStore) -> None:
    """Same data, seed and steps with and without the adversarial term: the discriminator trains and checkpoints
    beside the generator, the run resumes both, and the generator's weights differ from the MSE-only run's."""
    from ct1_sim.video.training import train_video_model

    base = tiny_pipeline()
    base.save_pretrained(tmp_path / "base")
    runs = {}
    for name, adv in (("mse", ""), ("adv", "adversarial: {weight: 0.5, start_step: 1, lr: 1.0e-3}\n")):
        cfg = tmp_path / f"{name}.yaml"
        cfg.write_text(f"init_from: {tmp_path / 'base'}\n" + TINY + adv + "depth: {steps: 0}\ndenoise: {steps: 3, batch_size: 2, warmup_steps: 1}\n")
        runs[name] = (cfg, tmp_path / name)
        assert train_video_model(rendered.path, cfg, runs[name][1]) is not None
    out = runs["adv"][1]
    assert (out / "checkpoints" / "discriminator" / "step_0000003").is_dir()
    log = json.loads((out / "training_log.json").read_text())["history"]["generator"]
    assert [h["step"] for h in log] == [1, 2, 3]
    assert "g_adv" not in log[0] and {"g_adv", "adv_weight", "d_loss", "d_real", "d_fake"} <= set(log[1])  # from step 1 on
    d_before = load_file(str(out / "checkpoints" / "discriminator" / "step_0000003" / "weights.safetensors"))
    pipe = train_video_model(rendered.path, runs["adv"][0], out, denoise_steps=4)  # resumes both at step 3
    assert pipe is not None
    log = json.loads((out / "training_log.json").read_text())["history"]["generator"]
    assert [h["step"] for h in log] == [1, 2, 3, 4]
    d_after = load_file(str(out / "checkpoints" / "discriminator" / "step_0000004" / "weights.safetensors"))
    assert any(not torch.equal(d_before[k], d_after[k]) for k in d_before)  # the discriminator went on training
    mse = load_file(str(runs["mse"][1] / "denoiser" / "diffusion_pytorch_model.safetensors"))
    adv3 = load_file(str(runs["adv"][1] / "checkpoints" / "generator" / "step_0000003" / "ema.safetensors"))
    mse3 = load_file(str(runs["mse"][1] / "checkpoints" / "generator" / "step_0000003" / "ema.safetensors"))
    assert set(mse) == set(adv3)
    assert any(not torch.equal(adv3[k], mse3[k]) for k in mse3)  # the adversarial term moved the generator


def test_bad_adversarial_settings_are_a_clear_error(tmp_path: Path) -> None:
    from ct1_sim.video.training import load_video_config

    cfg = tmp_path / "bad.yaml"
    cfg.write_text("adversarial: {weight: -1}\n")
    with pytest.raises(ValueError, match="adversarial: weight >= 0"):
        load_video_config(cfg)
