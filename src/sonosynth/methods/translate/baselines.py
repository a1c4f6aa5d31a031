"""Classical hole fillers that the translation model is benchmarked against.

All take greyscale frames (T,H,W) uint8 and holes (T,H,W) bool and return filled frames;
pixels outside the holes are returned unchanged.
"""
from __future__ import annotations

import cv2
import numpy as np


def _per_frame(grey: np.ndarray, holes: np.ndarray, flag: int) -> np.ndarray:
    out = grey.copy()
    for t in range(len(grey)):
        if holes[t].any():
            out[t] = cv2.inpaint(grey[t], holes[t].astype(np.uint8), 3, flag)
    return out


def telea(grey: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """OpenCV's fast-marching inpainting (Telea 2004), frame by frame."""
    return _per_frame(grey, holes, cv2.INPAINT_TELEA)


def navier_stokes(grey: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """OpenCV's Navier-Stokes inpainting (Bertalmio et al. 2001), frame by frame."""
    return _per_frame(grey, holes, cv2.INPAINT_NS)


def nearest_in_time(grey: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """Each hole pixel takes its value from the nearest frame (either way) where it is visible;
    pixels hidden in every frame fall back to Telea."""
    T = len(grey)
    out = grey.copy()
    best = np.full(holes.shape, T + 1, dtype=np.int32)
    for src in range(T):
        visible = ~holes[src]
        for t in range(T):
            d = abs(t - src)
            take = holes[t] & visible & (d < best[t])
            if take.any():
                out[t][take] = grey[src][take]
                best[t][take] = d
    never = holes & (best > T)
    if never.any():
        out = np.where(never, telea(out, never), out)
    return out
