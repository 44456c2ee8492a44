"""Trajectory Diffusion Transformer: pose tokens, adaLN-Zero timestep/cognition conditioning,
cross-attention to the vision-language condition tokens."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Sinusoidal embedding ``(B, dim)`` of (possibly fractional) diffusion timesteps ``(B,)``."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class Attention(nn.Module):
    """Multi-head attention (self or cross) with PyTorch's fused scaled-dot-product kernel.

    For cross-attention the keys/values of a fixed context can be computed once (:meth:`key_values`) and
    reused at every denoising step.
    """

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.out = nn.Linear(dim, dim)

    def key_values(self, context: torch.Tensor) -> torch.Tensor:
        """``(B,M,dim)`` -> stacked keys and values ``(2,B,h,M,dh)``."""
        b, m, d = context.shape
        return self.kv(context).view(b, m, 2, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)

    def forward(self, x: torch.Tensor, kv: torch.Tensor | None = None) -> torch.Tensor:
        b, n, d = x.shape
        kv = self.key_values(x) if kv is None else kv
        q = self.q(x).view(b, n, self.heads, d // self.heads).transpose(1, 2)  # (B,h,N,dh)
        y = F.scaled_dot_product_attention(q, kv[0], kv[1])  # (B,h,N,dh)
        return self.out(y.transpose(1, 2).reshape(b, n, d))


def _modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return x * (1 + scale[:, None]) + shift[:, None]


class DiTBlock(nn.Module):
    """adaLN-Zero self-attention, gated cross-attention to condition tokens, adaLN-Zero MLP."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.self_attn = Attention(dim, heads)
        self.norm_cross = nn.LayerNorm(dim, eps=1e-6)
        self.cross_attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, dim))
        self.ada = nn.Sequential(nn.SiLU(), nn.Linear(dim, 7 * dim))
        nn.init.zeros_(self.ada[1].weight)  # adaLN-Zero: every block starts as the identity
        nn.init.zeros_(self.ada[1].bias)

    def forward(self, x: torch.Tensor, c: torch.Tensor, context_kv: torch.Tensor) -> torch.Tensor:
        sh1, sc1, g1, sh2, sc2, g2, g_cross = self.ada(c).chunk(7, dim=-1)
        x = x + g1[:, None] * self.self_attn(_modulate(self.norm1(x), sh1, sc1))
        x = x + g_cross[:, None] * self.cross_attn(self.norm_cross(x), context_kv)
        return x + g2[:, None] * self.mlp(_modulate(self.norm2(x), sh2, sc2))


class TrajectoryDiT(nn.Module):
    """Predicts the noise ``(B,T,pose_dim)`` added to normalised pose tokens.

    Conditioning: ``c = MLP(timestep embedding) + cognition`` drives adaLN-Zero in every block;
    ``context (B,N,dim)`` condition tokens are attended to by cross-attention.
    """

    def __init__(self, pose_dim: int, num_poses: int, dim: int, depth: int, heads: int, mlp_ratio: float) -> None:
        super().__init__()
        self.dim = dim
        self.embed = nn.Linear(pose_dim, dim)
        self.pos = nn.Parameter(torch.randn(1, num_poses, dim) * 0.02)
        self.t_mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.blocks = nn.ModuleList(DiTBlock(dim, heads, mlp_ratio) for _ in range(depth))
        self.norm_out = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.ada_out = nn.Sequential(nn.SiLU(), nn.Linear(dim, 2 * dim))
        self.head = nn.Linear(dim, pose_dim)
        for layer in (self.ada_out[1], self.head):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def context_key_values(self, context: torch.Tensor) -> list[torch.Tensor]:
        """Cross-attention keys/values of every block for condition tokens ``(B,N,dim)`` (reuse across steps)."""
        return [block.cross_attn.key_values(context) for block in self.blocks]

    def forward(
        self,
        x: torch.Tensor,
        timesteps: torch.Tensor,
        context: torch.Tensor | list[torch.Tensor],
        cognition: torch.Tensor,
    ) -> torch.Tensor:
        """Noise ``(B,T,pose_dim)`` for noisy tokens ``x``; ``context`` is tokens or :meth:`context_key_values`."""
        kvs = self.context_key_values(context) if isinstance(context, torch.Tensor) else context
        h = self.embed(x) + self.pos  # (B,T,dim)
        c = self.t_mlp(timestep_embedding(timesteps, self.dim)) + cognition  # (B,dim)
        for block, kv in zip(self.blocks, kvs, strict=True):
            h = block(h, c, kv)
        shift, scale = self.ada_out(c).chunk(2, dim=-1)
        return self.head(_modulate(self.norm_out(h), shift, scale))
