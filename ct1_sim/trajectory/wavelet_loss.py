"""CT-1's wavelet regularization loss: diffusion MSE plus L1 between multi-level wavelet coefficients
(along time) of the predicted clean trajectory ``x0_hat`` and the true one ``x0``.

``L = mean((eps_hat - eps)^2) + weight * (|A_L(x0_hat) - A_L(x0)|_1 + sum_l |D_l(x0_hat) - D_l(x0)|_1)``

Two transform families, both differentiable:
- ``"haar-average"`` (default, the authors' form): low = (even + odd) / 2, high = (even - odd) / 2, replicate
  padding when a level has odd length. Level-l coefficients equal pywt's orthonormal ``haar`` ones divided by
  ``sqrt(2)**l``.
- any pywt discrete wavelet name (``"haar"``, ``"db2"``, ``"sym4"`` ...): pywt's filter banks through ``ptwt``,
  matching ``pywt.wavedec(x, name, mode=mode, level=levels)`` (``mode="constant"`` is pywt's replicate padding).
Each ``|.|_1`` is the mean absolute difference over that band's coefficients.
"""

from __future__ import annotations

from dataclasses import dataclass

import pywt
import torch
import torch.nn.functional as F

AUTHORS_HAAR = "haar-average"


def haar_average_wavedec(x: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """Authors' averaging Haar along the last axis: ``[A_L, D_L, ..., D_1]`` (pywt's order)."""
    details = []
    approx = x
    for _ in range(levels):
        if approx.shape[-1] % 2:
            approx = torch.cat([approx, approx[..., -1:]], dim=-1)  # replicate padding
        even, odd = approx[..., 0::2], approx[..., 1::2]
        details.append((even - odd) / 2)
        approx = (even + odd) / 2
    return [approx, *reversed(details)]


@dataclass(frozen=True)
class WaveletTransform:
    """Multi-level 1D wavelet transform along the last (time) axis."""

    wavelet: str = AUTHORS_HAAR
    levels: int = 3
    mode: str = "constant"

    def __post_init__(self) -> None:
        if self.levels < 1:
            raise ValueError(f"wavelet levels must be >= 1, got {self.levels}")
        if self.wavelet != AUTHORS_HAAR and self.wavelet not in pywt.wavelist(kind="discrete"):
            raise ValueError(
                f"unknown wavelet {self.wavelet!r}: use {AUTHORS_HAAR!r} or a pywt discrete wavelet such as "
                "'haar', 'db2', 'sym4' (see pywt.wavelist(kind='discrete'))"
            )

    def __call__(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Coefficients ``[A_L, D_L, ..., D_1]`` of ``x (..., T)``."""
        if self.wavelet == AUTHORS_HAAR:
            return haar_average_wavedec(x, self.levels)
        import ptwt

        lead = x.shape[:-1]
        coeffs = ptwt.wavedec(x.reshape(-1, x.shape[-1]), pywt.Wavelet(self.wavelet), mode=self.mode, level=self.levels)
        return [c.reshape(*lead, c.shape[-1]) for c in coeffs]


def wavelet_regularization(x0_hat: torch.Tensor, x0: torch.Tensor, transform: WaveletTransform) -> torch.Tensor:
    """Sum over bands of the mean L1 difference of coefficients; inputs ``(B,T,D)``, transform along T."""
    pred = transform(x0_hat.transpose(1, 2))
    true = transform(x0.transpose(1, 2))
    return sum((p - t).abs().mean() for p, t in zip(pred, true, strict=True))  # type: ignore[return-value]


def ct1_loss(
    eps_hat: torch.Tensor,
    eps: torch.Tensor,
    x0_hat: torch.Tensor,
    x0: torch.Tensor,
    *,
    transform: WaveletTransform | None = WaveletTransform(),
    weight: float = 0.05,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Total loss and its parts (``mse``, ``wavelet``). ``transform=None`` or ``weight=0`` gives plain MSE."""
    mse = F.mse_loss(eps_hat, eps)
    if transform is None or weight == 0:
        return mse, {"mse": float(mse.detach()), "wavelet": 0.0}
    reg = wavelet_regularization(x0_hat, x0, transform)
    return mse + weight * reg, {"mse": float(mse.detach()), "wavelet": float(reg.detach())}
