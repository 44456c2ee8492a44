"""The CT-1 wavelet regularization: authors' averaging Haar and pywt filter banks, each vs its reference."""

from __future__ import annotations

import numpy as np
import pytest
import pywt
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ct1_sim.trajectory.wavelet_loss import (
    WaveletTransform,
    ct1_loss,
    haar_average_wavedec,
    wavelet_regularization,
)


def _authors_reference(x: np.ndarray, levels: int) -> list[np.ndarray]:
    """The formula on the architecture page, one level at a time in numpy."""
    details, a = [], x.astype(np.float64)
    for _ in range(levels):
        if len(a) % 2:
            a = np.append(a, a[-1])
        details.append((a[0::2] - a[1::2]) / 2)
        a = (a[0::2] + a[1::2]) / 2
    return [a, *details[::-1]]


@settings(max_examples=40, deadline=None)
@given(length=st.integers(8, 40), seed=st.integers(0, 2**31 - 1))
def test_authors_haar_matches_reference_and_scaled_pywt(length: int, seed: int) -> None:
    x = np.random.default_rng(seed).normal(size=length)
    ours = [c.numpy() for c in haar_average_wavedec(torch.tensor(x)[None], 3)]
    for got, want in zip(ours, _authors_reference(x, 3), strict=True):
        np.testing.assert_allclose(got[0], want, atol=1e-12)
    if length % 8 == 0:  # no padding involved: level-l coefficients are pywt's haar / sqrt(2)^l
        ref = pywt.wavedec(x, "haar", level=3)
        scales = [np.sqrt(2) ** 3, np.sqrt(2) ** 3, np.sqrt(2) ** 2, np.sqrt(2)]
        for got, want, s in zip(ours, ref, scales, strict=True):
            np.testing.assert_allclose(got[0], want / s, atol=1e-12)


@pytest.mark.parametrize("name", ["haar", "db2", "sym3"])
def test_pywt_filter_banks_match_pywt(name: str) -> None:
    x = np.random.default_rng(1).normal(size=(3, 16))
    ours = WaveletTransform(name, levels=3)(torch.tensor(x))
    for row in range(3):
        ref = pywt.wavedec(x[row], name, mode="constant", level=3)
        for got, want in zip(ours, ref, strict=True):
            np.testing.assert_allclose(got[row].numpy(), want, atol=1e-10)


def test_loss_is_mse_plus_weighted_l1_of_bands_and_differentiable() -> None:
    g = torch.Generator().manual_seed(0)
    eps, eps_hat = torch.randn(4, 16, 9, generator=g), torch.randn(4, 16, 9, generator=g)
    x0 = torch.randn(4, 16, 9, generator=g)
    x0_hat = torch.randn(4, 16, 9, generator=g, requires_grad=True)
    loss, parts = ct1_loss(eps_hat, eps, x0_hat, x0, weight=0.05)
    bands_hat = _authors_reference  # reference over each (batch, dim) series
    ref_reg = 0.0
    xh, xt = x0_hat.detach().numpy(), x0.numpy()
    per_band = [[], [], [], []]
    for b in range(4):
        for d in range(9):
            for i, (p, t) in enumerate(zip(bands_hat(xh[b, :, d], 3), bands_hat(xt[b, :, d], 3), strict=True)):
                per_band[i].append(np.abs(p - t))
    ref_reg = sum(np.mean(np.concatenate(band)) for band in per_band)
    expected = float(((eps_hat - eps) ** 2).mean()) + 0.05 * ref_reg
    assert float(loss.detach()) == pytest.approx(expected, rel=1e-6)
    assert parts["wavelet"] == pytest.approx(ref_reg, rel=1e-6)
    loss.backward()
    assert x0_hat.grad is not None and torch.isfinite(x0_hat.grad).all() and x0_hat.grad.abs().sum() > 0


def test_identical_trajectories_have_zero_regularization_and_bad_names_fail() -> None:
    x = torch.randn(2, 16, 9)
    assert float(wavelet_regularization(x, x.clone(), WaveletTransform())) == 0.0
    with pytest.raises(ValueError, match="unknown wavelet"):
        WaveletTransform("not-a-wavelet")
