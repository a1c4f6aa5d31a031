"""Distances between two sets of feature vectors: Fréchet distance (FID/FVD) and KID.

The Fréchet distance between Gaussians fitted to the two sets is
``|mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2))``. The trace of the matrix square root is
computed from the eigenvalues of ``sqrt(S1) S2 sqrt(S1)`` (symmetric, so a stable `eigh`
suffices) instead of an iterative `sqrtm` of the non-symmetric product; the tests check it
against scipy.linalg.sqrtm.
KID (Bińkowski et al. 2018) is the unbiased MMD^2 with the cubic polynomial kernel
``(x.y / d + 1)^3``, averaged over random subsets: it has no bias from small N, which FID has.
"""
from __future__ import annotations

import numpy as np

from ..errors import BadOption


def _features(x, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise BadOption(f"{name} features must be (N, D), got shape {x.shape}")
    if x.shape[0] < 2:
        raise BadOption(f"{name} needs at least 2 samples for a covariance, got {x.shape[0]}")
    if not np.isfinite(x).all():
        raise BadOption(f"{name} features contain NaN or inf")
    return x


def gaussian_stats(x) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased) covariance of (N, D) features."""
    x = _features(x, "input")
    return x.mean(0), np.cov(x, rowvar=False)


def _psd_sqrt(s: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((s + s.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_from_stats(mu1, s1, mu2, s2) -> float:
    """Fréchet distance between N(mu1, s1) and N(mu2, s2)."""
    mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
    s1, s2 = np.atleast_2d(s1), np.atleast_2d(s2)
    if mu1.shape != mu2.shape or s1.shape != s2.shape:
        raise BadOption(f"feature statistics differ in dimension: {mu1.shape} vs {mu2.shape}")
    r1 = _psd_sqrt(s1)
    m = r1 @ s2 @ r1
    tr_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None)).sum()
    d = float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt)
    return max(d, 0.0)


def frechet_distance(x, y) -> float:
    """Fréchet distance between Gaussians fitted to feature sets x (N, D) and y (M, D)."""
    x, y = _features(x, "first"), _features(y, "second")
    if x.shape[1] != y.shape[1]:
        raise BadOption(f"feature dimensions differ: {x.shape[1]} vs {y.shape[1]}")
    return frechet_from_stats(*gaussian_stats(x), *gaussian_stats(y))


def _mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    d = x.shape[1]
    kxx = (x @ x.T / d + 1) ** 3
    kyy = (y @ y.T / d + 1) ** 3
    kxy = (x @ y.T / d + 1) ** 3
    m, n = len(x), len(y)
    return float(
        (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
        + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
        - 2 * kxy.mean()
    )


def kid(x, y, subsets: int = 100, subset_size: int = 1000, seed: int = 0) -> tuple[float, float]:
    """Kernel Inception Distance: mean and std of the unbiased MMD^2 over random subsets."""
    x, y = _features(x, "first"), _features(y, "second")
    if x.shape[1] != y.shape[1]:
        raise BadOption(f"feature dimensions differ: {x.shape[1]} vs {y.shape[1]}")
    size = min(subset_size, len(x), len(y))
    rng = np.random.default_rng(seed)
    if size == len(x) == len(y):
        subsets = 1  # every subset would be the whole set
    vals = [
        _mmd2_unbiased(x[rng.choice(len(x), size, replace=False)], y[rng.choice(len(y), size, replace=False)])
        for _ in range(subsets)
    ]
    return float(np.mean(vals)), float(np.std(vals))
