"""Graded corruptions of a clip, for checking that the distribution metrics respond to them.

Each takes (T,H,W) uint8, a level in [0, 1] (0 = untouched) and a seed; the sanity benchmark
and tests require FVD to grow as the level grows.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage


def noise(clip: np.ndarray, level: float, seed: int = 0) -> np.ndarray:
    """Additive Gaussian noise of sigma 60 * level grey levels."""
    rng = np.random.default_rng(seed)
    return np.clip(clip + rng.normal(0, 60 * level, clip.shape), 0, 255).astype(np.uint8)


def blur(clip: np.ndarray, level: float, seed: int = 0) -> np.ndarray:
    """Spatial Gaussian blur of sigma 6 * level pixels."""
    if level <= 0:
        return clip.copy()
    return ndimage.gaussian_filter(clip.astype(np.float32), (0, 6 * level, 6 * level)).round().astype(np.uint8)


def freeze(clip: np.ndarray, level: float, seed: int = 0) -> np.ndarray:
    """Hold frames: each frame is repeated for 1 + round(15 * level) frames (a stuttering video)."""
    hold = 1 + int(round(15 * level))
    idx = (np.arange(len(clip)) // hold) * hold
    return clip[idx]


def shuffle(clip: np.ndarray, level: float, seed: int = 0) -> np.ndarray:
    """Swap a fraction `level` of the frames into random temporal positions."""
    rng = np.random.default_rng(seed)
    idx = np.arange(len(clip))
    k = int(round(level * len(clip)))
    if k >= 2:
        chosen = rng.choice(len(clip), k, replace=False)
        idx[chosen] = rng.permutation(chosen)
    return clip[idx]


CORRUPTIONS = {"noise": noise, "blur": blur, "frozen frames": freeze, "shuffled frames": shuffle}
