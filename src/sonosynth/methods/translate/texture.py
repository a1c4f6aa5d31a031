"""Speckle for rebuilt pixels that no other frame shows: fine texture copied from nearby tissue.

A still has no other frame to copy from, and the small network's fill of it is smooth: a
visible seam against the speckle around it. Speckle is a multiplicative, locally stationary
texture, so we take it from real tissue: the fine residual (image minus its Gaussian blur) of a
nearby window that is fully visible and of similar brightness, scaled by the brightness ratio,
added to the network's fill as far as the fill lacks it (variances of independent textures add).
The network keeps the anatomy (the low frequencies); the texture only adds what it lacks. Tiles
keep each copied window small enough to fit beside the holes.
"""
from __future__ import annotations

import cv2
import numpy as np

SIGMA = 1.5   # the residual below this blur scale is speckle (the texture diagnostic of docs/translate.md)
TILE = 24     # side of a copied window (px)
DIRECTIONS = 16


def _blur(img: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Gaussian blur of the weighted pixels only (normalised convolution): holes do not leak in."""
    num = cv2.GaussianBlur(img * weight, (0, 0), SIGMA)
    den = cv2.GaussianBlur(weight, (0, 0), SIGMA)
    return num / np.maximum(den, 1e-3)


def add_speckle(filled: np.ndarray, holes: np.ndarray, image: np.ndarray | None = None) -> np.ndarray:
    """Fine texture added to the hole pixels of one rebuilt greyscale frame.

    filled: (H, W) uint8, the rebuilt frame; holes: (H, W) bool, the rebuilt pixels; image: (H, W) bool,
    where texture may be taken from (the scan sector; default everywhere). Deterministic. Returns uint8.
    """
    if image is None:
        image = np.ones(holes.shape, bool)
    holes = holes & image
    if not holes.any():
        return filled
    f = filled.astype(np.float32)
    source_ok = ~holes & image
    low = _blur(f, source_ok.astype(np.float32))          # brightness of the visible tissue
    residual = np.where(source_ok, f - low, 0.0)          # its speckle
    fill_low = cv2.GaussianBlur(f, (0, 0), SIGMA)         # brightness the network gave the holes
    fill_fine = f - fill_low                              # the texture the network gave them
    usable = cv2.erode(source_ok.view(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)  # no seam pixels as source
    integral = cv2.integral(usable.astype(np.uint8), sdepth=cv2.CV_32S)
    out = f.copy()
    h, w = holes.shape
    for y0 in range(0, h, TILE):
        for x0 in range(0, w, TILE):
            y1, x1 = min(h, y0 + TILE), min(w, x0 + TILE)
            tile = holes[y0:y1, x0:x1]
            if not tile.any():
                continue
            shift = _best_shift(integral, low, fill_low, (y0, y1, x0, x1), tile)
            if shift is None:
                continue
            dy, dx = shift
            src = residual[y0 + dy:y1 + dy, x0 + dx:x1 + dx]
            gain = fill_low[y0:y1, x0:x1] / np.maximum(low[y0 + dy:y1 + dy, x0 + dx:x1 + dx], 8.0)
            speckle = src * np.clip(gain, 0.5, 1.5)
            # add only the texture the fill lacks: independent textures add in variance
            have = float(fill_fine[y0:y1, x0:x1][tile].std())
            want = float(speckle[tile].std())
            missing = np.sqrt(max(0.0, 1.0 - (have / want) ** 2)) if want > 0 else 0.0
            out[y0:y1, x0:x1] += np.where(tile, missing * speckle, 0.0)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _best_shift(integral: np.ndarray, low: np.ndarray, fill_low: np.ndarray, box: tuple[int, int, int, int],
                tile: np.ndarray) -> tuple[int, int] | None:
    """The shift to a nearby, fully visible, edge-free window whose brightness is most like the fill's."""
    y0, y1, x0, x1 = box
    h, w = low.shape
    target = float(fill_low[y0:y1, x0:x1][tile].mean())
    best, best_cost = None, np.inf
    for radius in (TILE, 2 * TILE, 4 * TILE, 8 * TILE):
        for k in range(DIRECTIONS):
            a = 2 * np.pi * k / DIRECTIONS
            dy, dx = int(round(radius * np.sin(a))), int(round(radius * np.cos(a)))
            sy0, sy1, sx0, sx1 = y0 + dy, y1 + dy, x0 + dx, x1 + dx
            if sy0 < 0 or sx0 < 0 or sy1 > h or sx1 > w:
                continue
            inside = integral[sy1, sx1] - integral[sy0, sx1] - integral[sy1, sx0] + integral[sy0, sx0]
            if inside < (sy1 - sy0) * (sx1 - sx0):
                continue
            window = low[sy0:sy1, sx0:sx1]
            cost = abs(float(window.mean()) - target) + float(window.std())  # alike, and no edge in it
            if cost < best_cost:
                best, best_cost = (dy, dx), cost
        if best is not None and best_cost < 0.25 * max(target, 8.0):
            break  # near and alike enough: farther tissue is less likely the same kind
    return best
