"""Trainable fusion of frozen image tokens, the instruction embedding and the ego speed into condition
tokens (for cross-attention) and one pooled "cognition" vector (for adaLN), as CT-1 conditions its DiT."""

from __future__ import annotations

import math

import torch
from torch import nn


def speed_features(speed_mps: torch.Tensor, scale_mps: float, num: int = 8) -> torch.Tensor:
    """Fourier features ``(B, 2*num)`` of speeds ``(B,)`` in m/s."""
    x = (speed_mps.float() / scale_mps)[:, None]
    freqs = (2.0 ** torch.arange(num, device=x.device, dtype=torch.float32)) * math.pi / 4
    return torch.cat([torch.sin(x * freqs), torch.cos(x * freqs)], dim=-1)


class ConditionFusion(nn.Module):
    """``(image tokens, text embedding, speed)`` -> ``(tokens (B,N+2,dim), cognition (B,dim))``.

    ``drop_condition`` (B,) bool replaces image and instruction by learned null embeddings (classifier-free
    guidance); ``speed_known`` (B,) bool replaces the speed by a learned "unknown speed" embedding.
    """

    def __init__(self, image_dim: int, text_dim: int, num_image_tokens: int, dim: int, layers: int, heads: int, speed_scale_mps: float) -> None:
        super().__init__()
        self.speed_scale_mps = speed_scale_mps
        self.image_proj = nn.Sequential(nn.LayerNorm(image_dim), nn.Linear(image_dim, dim))
        self.image_pos = nn.Parameter(torch.randn(1, num_image_tokens, dim) * 0.02)
        self.text_proj = nn.Sequential(nn.Linear(text_dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.speed_proj = nn.Sequential(nn.Linear(16, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.null_image = nn.Parameter(torch.zeros(1, 1, dim))
        self.null_text = nn.Parameter(torch.zeros(1, dim))
        self.unknown_speed = nn.Parameter(torch.zeros(1, dim))
        self.type_emb = nn.Parameter(torch.randn(3, dim) * 0.02)  # image, text, speed
        layer = nn.TransformerEncoderLayer(dim, heads, int(dim * 4), dropout=0.0, activation="gelu", batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False) if layers > 0 else nn.Identity()
        self.norm = nn.LayerNorm(dim)
        self.cognition = nn.Sequential(nn.Linear(2 * dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        # instruction embeddings share a large common component ("turn left" and "turn right" are close in any
        # sentence space); whitening with training-set statistics makes the words that matter stand out
        self.register_buffer("text_mean", torch.zeros(text_dim))
        self.register_buffer("text_std", torch.ones(text_dim))

    def set_text_statistics(self, embeddings: torch.Tensor) -> None:
        """Per-dimension mean/std of training instruction embeddings ``(N, text_dim)`` (saved with the weights)."""
        self.text_mean.copy_(embeddings.mean(0))
        self.text_std.copy_(embeddings.std(0).clamp(min=1e-3))

    def forward(
        self,
        image_tokens: torch.Tensor,
        text_embedding: torch.Tensor,
        speed_mps: torch.Tensor,
        speed_known: torch.Tensor,
        drop_condition: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        dt = self.image_pos.dtype  # the frozen backbones give float32; the fusion may run in another dtype
        img = self.image_proj(image_tokens.to(dt)) + self.image_pos  # (B,N,dim)
        txt = self.text_proj(((text_embedding - self.text_mean) / self.text_std).to(dt))  # (B,dim)
        drop = drop_condition.view(-1, 1)
        img = torch.where(drop[:, :, None], self.null_image.expand_as(img), img)
        txt = torch.where(drop, self.null_text.expand_as(txt), txt)
        spd = self.speed_proj(speed_features(torch.nan_to_num(speed_mps), self.speed_scale_mps).to(dt))
        spd = torch.where(speed_known.view(-1, 1), spd, self.unknown_speed.expand_as(spd))
        tokens = torch.cat(
            [img + self.type_emb[0], (txt + self.type_emb[1])[:, None], (spd + self.type_emb[2])[:, None]], dim=1
        )
        tokens = self.norm(self.encoder(tokens))
        cognition = self.cognition(torch.cat([tokens[:, :-2].mean(1), tokens[:, -2] + tokens[:, -1]], dim=-1))
        return tokens, cognition
