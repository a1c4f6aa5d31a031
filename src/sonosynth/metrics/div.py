"""DIV: how different several samples generated from one condition are (LDDM, cINN).

A deterministic generator scores 0. Two scores: the mean pairwise L1 between samples in grey
levels (pixel DIV), and the mean pairwise Euclidean distance between their I3D pooled features
(feature DIV, 16-frame windows as FVD). Higher means more diverse; compare only at equal K, T, size.
"""
from __future__ import annotations

import itertools

import numpy as np

from ..errors import BadOption


def _samples(samples) -> np.ndarray:
    s = np.asarray(samples)
    if s.dtype != np.uint8 or s.ndim != 4:
        raise BadOption(f"DIV needs K samples of one condition as uint8 (K,T,H,W), got {s.dtype} {s.shape}")
    if s.shape[0] < 2:
        raise BadOption("DIV needs at least 2 samples of the same condition")
    return s


def pixel_diversity(samples) -> float:
    s = _samples(samples).astype(np.float32)
    return float(np.mean([np.abs(s[i] - s[j]).mean() for i, j in itertools.combinations(range(len(s)), 2)]))


def feature_diversity(samples, device: str = "cpu") -> float:
    from .fvd import i3d_features, windows

    s = _samples(samples)
    _, pooled = i3d_features([windows(x, 1)[0] for x in s], device)
    return float(np.mean([np.linalg.norm(pooled[i] - pooled[j]) for i, j in itertools.combinations(range(len(s)), 2)]))


def diversity(samples, features: bool = False, device: str = "cpu") -> dict:
    """{'div_pixel': ..., 'div_i3d': ... (only with features=True)} for K samples (K,T,H,W)."""
    out = {"div_pixel": pixel_diversity(samples), "k": int(len(samples))}
    if features:
        out["div_i3d"] = feature_diversity(samples, device)
    return out
