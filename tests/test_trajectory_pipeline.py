"""``CT1TrajectoryPipeline``: diffusers call conventions on a tiny seeded model, and the model's own config handling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ct1_sim.clip_spec import pose_timestamps_us
from ct1_sim.geometry import CameraTrajectory
from ct1_sim.trajectory import CT1TrajectoryModel, CT1TrajectoryPipeline, CT1TrajectoryPipelineOutput
from ct1_sim.trajectory.backbones import MobileNetMiniLMBackbone
from ct1_sim.trajectory.pose_tokens import tokens_to_trajectories

TINY = dict(hidden_size=32, fusion_layers=1, dit_layers=1, dit_heads=2, inference_steps=2)


@pytest.fixture(scope="module")
def pipe() -> CT1TrajectoryPipeline:
    torch.manual_seed(0)
    model = CT1TrajectoryModel(**TINY, encoder=MobileNetMiniLMBackbone()).eval()
    with torch.no_grad():  # adaLN-Zero starts every block as the identity: give the DiT something to compute
        for p in model.dit.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    pipe = CT1TrajectoryPipeline.for_model(model, runtime="torch")
    return pipe


IMAGES = [np.random.default_rng(i).integers(0, 255, size=(64, 112, 3), dtype=np.uint8) for i in range(2)]


def test_call_conventions_output_types_and_return_dict(pipe: CT1TrajectoryPipeline) -> None:
    out = pipe(IMAGES[0], "turn left", speed=6.0, num_samples=3, generator=torch.Generator().manual_seed(0))
    assert isinstance(out, CT1TrajectoryPipelineOutput)
    (paths,) = out.trajectories
    assert len(paths) == 3 and all(isinstance(p, CameraTrajectory) and p.image_size == (112, 64) for p in paths)
    np.testing.assert_array_equal(paths[0].timestamps_us, np.arange(16) * 200_000)
    as_np = pipe(IMAGES[0], "turn left", speed=6.0, num_samples=3, generator=torch.Generator().manual_seed(0), output_type="np").trajectories
    assert as_np.shape == (1, 3, 16, 4, 4)
    np.testing.assert_allclose(as_np[0], np.stack([p.c2w for p in paths]), atol=1e-12)
    (as_pt,) = pipe(IMAGES[0], "turn left", speed=6.0, num_samples=3, generator=torch.Generator().manual_seed(0), output_type="pt",
                    return_dict=False)
    assert isinstance(as_pt, torch.Tensor) and torch.equal(as_pt, torch.from_numpy(as_np))
    with pytest.raises(ValueError, match="output_type"):
        pipe(IMAGES[0], "go", output_type="pil")


def test_a_query_gets_its_own_samples_alone_or_in_a_batch(pipe: CT1TrajectoryPipeline) -> None:
    def gens() -> list[torch.Generator]:
        return [torch.Generator().manual_seed(10 + i) for i in range(2)]

    batch = pipe(IMAGES, ["turn left", "stop"], speed=[5.0, None], num_samples=2, generator=gens(), output_type="np").trajectories
    alone = pipe(IMAGES[1], "stop", num_samples=2, generator=gens()[1], output_type="np").trajectories
    np.testing.assert_allclose(batch[1], alone[0], atol=1e-5)
    with pytest.raises(ValueError, match="2 images but 1 instructions"):
        pipe(IMAGES, ["go"])
    with pytest.raises(ValueError, match="3 speeds for 2 queries"):
        pipe(IMAGES, ["go", "go"], speed=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="1 generators for 2 queries"):
        pipe(IMAGES, ["go", "go"], generator=[torch.Generator()])


def test_steps_and_guidance_change_the_samples(pipe: CT1TrajectoryPipeline) -> None:
    def run(**kw: object) -> np.ndarray:
        return pipe(IMAGES[0], "turn right", num_samples=2, generator=torch.Generator().manual_seed(1), output_type="np", **kw).trajectories

    default = run()
    np.testing.assert_array_equal(default, run(num_inference_steps=2, guidance_scale=1.5))  # the config's defaults
    assert not np.allclose(default, run(num_inference_steps=5))
    assert not np.allclose(default, run(guidance_scale=1.0))


def test_tokens_to_trajectories_is_the_one_conversion() -> None:
    tokens = torch.zeros(2, 1, 16, 9)
    tokens[..., 3] = tokens[..., 7] = 1.0  # identity rotations
    tokens[..., 2] = torch.arange(16.0)  # 1 m forward per pose
    a, b = tokens_to_trajectories(tokens, [(448, 256), (160, 90)], rate_hz=5.0)
    assert a[0].image_size == (448, 256) and b[0].image_size == (160, 90)
    np.testing.assert_allclose(a[0].positions[:, 2], np.arange(16.0))
    np.testing.assert_array_equal(pose_timestamps_us(4, 3.0), [0, 333_333, 666_667, 1_000_000])  # rounded per pose, not cumulated


def test_config_files_are_checked_and_saving_keeps_the_config(tmp_path: Path, pipe: CT1TrajectoryPipeline) -> None:
    model = pipe.model
    before = dict(model.config)
    pipe.save_pretrained(tmp_path / "m")
    assert dict(model.config) == before
    again = CT1TrajectoryPipeline.from_pretrained(tmp_path / "m", device="cpu", runtime="torch", encoder=model.encoder)
    np.testing.assert_allclose(
        again(IMAGES[0], "go", num_samples=2, generator=torch.Generator().manual_seed(0), output_type="np").trajectories,
        pipe(IMAGES[0], "go", num_samples=2, generator=torch.Generator().manual_seed(0), output_type="np").trajectories, atol=1e-6)
    config = tmp_path / "m" / "config.json"
    config.write_text(config.read_text().replace('"dit_layers"', '"dit_layerz"'))
    with pytest.raises(ValueError, match=r"config.json: dit_layerz is not a key at the top level; use num_poses, "):
        CT1TrajectoryModel.from_pretrained(tmp_path / "m", device="cpu", encoder=model.encoder)
    config.write_text(config.read_text().replace('"dit_layerz": 1', '"dit_layers": 0'))
    with pytest.raises(ValueError, match="config.json: invalid CT1TrajectoryModel config: dit_layers must be >= 1"):
        CT1TrajectoryModel.from_pretrained(tmp_path / "m", device="cpu", encoder=model.encoder)


def test_onnx_graphs_built_at_two_thread_counts_in_one_process() -> None:
    """Graphs built under two torch thread counts in one process both run and agree (each session has threads of its
    own), e.g. a service test after a 1-thread replica comparison."""
    import subprocess
    import sys

    code = (
        "import torch\nfrom torch import nn\nfrom ct1_sim.trajectory.onnx_graphs import OrtGraph\n"
        "lin = nn.Linear(4, 3)\ntorch.set_num_threads(2)\na = OrtGraph(lin, lin, [torch.zeros(1, 4)], ['x'])\n"
        "torch.set_num_threads(1)\nb = OrtGraph(lin, lin, [torch.zeros(1, 4)], ['x'])\nx = torch.randn(1, 4)\n"
        "assert torch.allclose(b(x), lin(x).detach(), atol=1e-5) and torch.allclose(a(x), b(x))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
