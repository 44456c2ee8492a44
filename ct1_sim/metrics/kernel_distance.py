"""Kernel Inception Distance's estimator on any feature set (numpy only).

KID (Binkowski et al. 2018) is the squared maximum mean discrepancy between two feature sets under the cubic
polynomial kernel ``k(x, y) = (x.y / d + 1)^3``, with the unbiased estimator (diagonal terms left out), so it has
no bias at small sample counts and can be slightly negative when the sets match. Which network makes the features
decides what the number means: ct1-sim reports it on ImageNet MobileNetV2 pooled features as **KID-MobileNetV2**
(:mod:`ct1_sim.pretrained.image_features`), which is not comparable with Inception-based KID.
"""

from __future__ import annotations

import numpy as np


def _polynomial_kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = a.shape[1]
    return (a @ b.T / d + 1.0) ** 3


def kernel_distance(real: np.ndarray, fake: np.ndarray) -> float:
    """Unbiased MMD^2 between feature sets ``real (N,d)`` and ``fake (M,d)`` (N, M >= 2) under the cubic kernel."""
    real = np.asarray(real, dtype=np.float64)
    fake = np.asarray(fake, dtype=np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"feature sets must be (N,d) and (M,d) with the same d; got {real.shape} and {fake.shape}")
    n, m = len(real), len(fake)
    if n < 2 or m < 2:
        raise ValueError(f"KID needs at least 2 samples per set; got {n} and {m}")
    k_rr, k_ff, k_rf = _polynomial_kernel(real, real), _polynomial_kernel(fake, fake), _polynomial_kernel(real, fake)
    term_rr = (k_rr.sum() - np.trace(k_rr)) / (n * (n - 1))
    term_ff = (k_ff.sum() - np.trace(k_ff)) / (m * (m - 1))
    return float(term_rr + term_ff - 2 * k_rf.mean())
