"""Trajectory Diffusion Transformer: pose tokens, adaLN-Zero timestep/cognition conditioning,
cross-attention to the vision-language condition tokens.

Tensors are laid out ``(G, K, T, dim)``: G condition groups (a query, or its unconditional copy for
classifier-free guidance), K trajectories per group, T pose tokens. The K trajectories of a group share the
condition tokens and the cognition vector, so cross-attention keys/values are computed once per group
(once per query for a whole sampling run) and the K x T pose tokens of a group attend to them as one
sequence. For sampling, :meth:`TrajectoryDiT.prepare` also computes the adaLN modulations of every
denoising step in one batch, so a step runs only the token-wise layers.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

ACTIVATIONS = {"gelu_tanh": lambda: nn.GELU(approximate="tanh"), "gelu": nn.GELU}


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Sinusoidal embedding ``(*t.shape, dim)`` of (possibly fractional) diffusion timesteps ``t``."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = t.float()[..., None] * freqs
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


def attend(q: torch.Tensor, k_t: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Softmax attention of ``q (...,N,dh)`` over keys given transposed ``k_t (...,dh,M)`` and ``v (...,M,dh)``.

    Written out with two batched matmuls: at these sizes (N, M <= a few hundred, dh <= 64) it is several
    times faster on the CPU than PyTorch's flash-attention kernel, whose per-call cost dominates."""
    scores = torch.matmul(q, k_t).mul_(q.shape[-1] ** -0.5)
    return torch.matmul(torch.softmax(scores, dim=-1), v)


class SelfAttention(nn.Module):
    """Multi-head self-attention over the T pose tokens of each trajectory (one fused q/k/v projection)."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"width {dim} is not divisible by {heads} heads")
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x (B,T,dim)`` -> ``(B,T,dim)``."""
        b, n, d = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)  # (B,h,T,dh)
        y = attend(q, k.transpose(-1, -2), v)
        return self.out(y.transpose(1, 2).reshape(b, n, d))


class CrossAttention(nn.Module):
    """Multi-head attention of pose tokens to condition tokens; the context's keys/values are computed once
    (:meth:`key_values`) and reused at every denoising step."""

    def __init__(self, dim: int, heads: int, context_dim: int | None = None) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"width {dim} is not divisible by {heads} heads")
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(context_dim or dim, 2 * dim)
        self.out = nn.Linear(dim, dim)

    def key_values(self, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(G,M,context_dim)`` -> transposed keys ``(G,h,dh,M)`` and values ``(G,h,M,dh)``, contiguous."""
        g, m, _ = context.shape
        d = self.q.out_features
        k, v = self.kv(context).view(g, m, 2, self.heads, d // self.heads).unbind(2)  # (G,M,h,dh)
        return k.permute(0, 2, 3, 1).contiguous(), v.transpose(1, 2).contiguous()

    def forward(self, x: torch.Tensor, kv: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        """``x (G,N,dim)`` attends to the keys/values of its group -> ``(G,N,dim)``."""
        g, n, d = x.shape
        q = self.q(x).view(g, n, self.heads, d // self.heads).transpose(1, 2)  # (G,h,N,dh)
        y = attend(q, *kv)
        return self.out(y.transpose(1, 2).reshape(g, n, d))


class Modulation(NamedTuple):
    """adaLN-Zero parameters of one block, each broadcastable to ``(G,K,T,dim)``; ``scale*`` are 1 + scale."""

    shift1: torch.Tensor
    scale1: torch.Tensor
    gate1: torch.Tensor
    shift2: torch.Tensor
    scale2: torch.Tensor
    gate2: torch.Tensor
    gate_cross: torch.Tensor


class DiTBlock(nn.Module):
    """adaLN-Zero self-attention, gated cross-attention to condition tokens, adaLN-Zero MLP."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float, context_dim: int | None = None, activation: str = "gelu_tanh") -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.self_attn = SelfAttention(dim, heads)
        self.norm_cross = nn.LayerNorm(dim, eps=1e-6)
        self.cross_attn = CrossAttention(dim, heads, context_dim)
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), ACTIVATIONS[activation](), nn.Linear(hidden, dim))
        self.ada = nn.Linear(dim, 7 * dim)  # applied to SiLU(c)
        nn.init.zeros_(self.ada.weight)  # adaLN-Zero: every block starts as the identity
        nn.init.zeros_(self.ada.bias)

    def modulation(self, c_silu: torch.Tensor) -> Modulation:
        """adaLN parameters for ``SiLU(c)`` of shape ``(..., dim)`` -> each ``(..., 1, dim)``."""
        sh1, sc1, g1, sh2, sc2, g2, gc = self.ada(c_silu).unsqueeze(-2).chunk(7, dim=-1)
        return Modulation(sh1, sc1 + 1, g1, sh2, sc2 + 1, g2, gc)

    def forward(self, x: torch.Tensor, mod: Modulation, context_kv: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        """``x (G,K,T,dim)``; ``mod`` broadcastable to it; ``context_kv`` from :meth:`CrossAttention.key_values`."""
        g, k, t, d = x.shape
        h = torch.addcmul(mod.shift1, self.norm1(x), mod.scale1)
        x = torch.addcmul(x, mod.gate1, self.self_attn(h.view(g * k, t, d)).view(g, k, t, d))
        x = torch.addcmul(x, mod.gate_cross, self.cross_attn(self.norm_cross(x).view(g, k * t, d), context_kv).view(g, k, t, d))
        h = torch.addcmul(mod.shift2, self.norm2(x), mod.scale2)
        return torch.addcmul(x, mod.gate2, self.mlp(h))


class PreparedCondition(NamedTuple):
    """Everything the DiT needs from the condition for a whole sampling run (:meth:`TrajectoryDiT.prepare`)."""

    context_kv: list[tuple[torch.Tensor, torch.Tensor]]  # per block
    block_modulations: list[list[Modulation]]  # [step][block], each (G,1,1,dim)
    out_modulations: list[tuple[torch.Tensor, torch.Tensor]]  # [step] (shift, 1 + scale)


class TrajectoryDiT(nn.Module):
    """Predicts the noise ``(G,K,T,pose_dim)`` added to normalised pose tokens.

    Conditioning: ``c = MLP(timestep embedding) + cognition`` drives adaLN-Zero in every block;
    ``context (G,N,context_dim)`` condition tokens are attended to by cross-attention. ``context_dim``
    (the fusion's width) may differ from the DiT's own width ``dim``.
    """

    def __init__(
        self,
        pose_dim: int,
        num_poses: int,
        dim: int,
        depth: int,
        heads: int,
        mlp_ratio: float,
        context_dim: int | None = None,
        activation: str = "gelu_tanh",
    ) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; use one of {sorted(ACTIVATIONS)}")
        self.dim = dim
        self.embed = nn.Linear(pose_dim, dim)
        self.pos = nn.Parameter(torch.randn(1, num_poses, dim) * 0.02)
        self.t_mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        # the cognition vector comes at the fusion's width
        self.cognition_proj = nn.Linear(context_dim, dim) if context_dim not in (None, dim) else nn.Identity()
        self.blocks = nn.ModuleList(DiTBlock(dim, heads, mlp_ratio, context_dim, activation) for _ in range(depth))
        self.norm_out = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.ada_out = nn.Linear(dim, 2 * dim)  # applied to SiLU(c)
        self.head = nn.Linear(dim, pose_dim)
        for layer in (self.ada_out, self.head):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def context_key_values(self, context: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Cross-attention keys/values of every block for condition tokens ``(G,N,context_dim)``."""
        return [block.cross_attn.key_values(context) for block in self.blocks]

    def _conditioning(self, timesteps: torch.Tensor, cognition: torch.Tensor) -> torch.Tensor:
        """``SiLU(c)`` for timesteps ``(G,K)`` (or ``(S,1,1)``) and cognition ``(G,context_dim)`` -> ``(...,G,K|1,dim)``."""
        c = self.t_mlp(timestep_embedding(timesteps, self.dim).to(self.pos.dtype)) + self.cognition_proj(cognition)[:, None]
        return F.silu(c)

    def _out_modulation(self, c_silu: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Final adaLN shift and 1 + scale, each ``(..., 1, dim)``."""
        shift, scale = self.ada_out(c_silu).unsqueeze(-2).chunk(2, dim=-1)
        return shift, scale + 1

    def _run(self, x: torch.Tensor, kvs: list, mods: list[Modulation], out_mod: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        h = self.embed(x) + self.pos  # (G,K,T,dim)
        for block, kv, mod in zip(self.blocks, kvs, mods, strict=True):
            h = block(h, mod, kv)
        shift, scale = out_mod
        return self.head(torch.addcmul(shift, self.norm_out(h), scale))

    def forward(
        self,
        x: torch.Tensor,
        timesteps: torch.Tensor,
        context: torch.Tensor,
        cognition: torch.Tensor,
    ) -> torch.Tensor:
        """Noise ``(G,K,T,pose_dim)`` for noisy tokens ``x (G,K,T,pose_dim)`` (training).

        Args:
            timesteps: ``(G,K)`` or ``(G,1)``.
            context: condition tokens ``(G,N,context_dim)``.
            cognition: ``(G,context_dim)``.
        """
        c = self._conditioning(timesteps, cognition)
        return self._run(x, self.context_key_values(context), [b.modulation(c) for b in self.blocks], self._out_modulation(c))

    def prepare(self, timesteps: torch.Tensor, context: torch.Tensor, cognition: torch.Tensor) -> PreparedCondition:
        """Condition-only work of a sampling run over ``timesteps (S,)``, done once, batched over the S steps."""
        c = self._conditioning(timesteps.reshape(-1, 1, 1), cognition)  # (S,G,1,dim)
        per_block = [b.modulation(c) for b in self.blocks]  # [block] of (S,G,1,1,dim)
        shift, scale = self._out_modulation(c)
        steps = range(c.shape[0])
        return PreparedCondition(
            context_kv=self.context_key_values(context),
            block_modulations=[[Modulation(*(p[s] for p in m)) for m in per_block] for s in steps],
            out_modulations=[(shift[s], scale[s]) for s in steps],
        )

    def denoise_step(self, x: torch.Tensor, prepared: PreparedCondition, step: int) -> torch.Tensor:
        """Noise for ``x (G,K,T,pose_dim)`` at step ``step`` of a :meth:`prepare`-d run."""
        return self._run(x, prepared.context_kv, prepared.block_modulations[step], prepared.out_modulations[step])
