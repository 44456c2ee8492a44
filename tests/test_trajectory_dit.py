"""Trajectory DiT: the sampling path (condition prepared once, grouped samples) computes exactly what the
training path computes."""

from __future__ import annotations

import torch
from diffusers import DDIMScheduler

from ct1_sim.trajectory.dit import TrajectoryDiT


def _random_dit(context_dim: int | None = None, activation: str = "gelu") -> TrajectoryDiT:
    torch.manual_seed(0)
    dit = TrajectoryDiT(9, 16, 32, 2, 4, 2.0, context_dim=context_dim, activation=activation).eval()
    with torch.no_grad():
        for p in dit.parameters():  # adaLN-Zero starts at the identity: make every path matter
            p.normal_(0, 0.2)
    return dit


def test_prepared_sampling_step_equals_training_forward() -> None:
    dit = _random_dit(context_dim=48)
    g, k = 3, 5
    context, cognition = torch.randn(g, 7, 48), torch.randn(g, 48)
    x = torch.randn(g, k, 16, 9)
    scheduler = DDIMScheduler(num_train_timesteps=100, beta_schedule="squaredcos_cap_v2")
    scheduler.set_timesteps(10)
    with torch.no_grad():
        prepared = dit.prepare(scheduler.timesteps, context, cognition)
        for i, t in enumerate(scheduler.timesteps):
            reference = dit(x, t.expand(g, k), context, cognition)  # per-sample timesteps, context given whole
            torch.testing.assert_close(dit.denoise_step(x, prepared, i), reference, rtol=1e-5, atol=1e-5)
        # samples of a group are independent: one alone gives what it gives among others
        alone = dit(x[:, :1], torch.full((g, 1), 50), context, cognition)
        together = dit(x, torch.full((g, k), 50), context, cognition)
        torch.testing.assert_close(alone, together[:, :1], rtol=1e-5, atol=1e-5)

