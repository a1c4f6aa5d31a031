"""Paint a realistic colour-flow (CFD) or power-Doppler overlay on a greyscale clip: paired data.

`paint_cfd` returns (cfd_rgb, mask, truth): the painted clip, the exact set of pixels it
changed, and the greyscale under them. The painting follows what scanners do: a fixed colour
box (rectangle, or a trapezoid on fan images) with a thin grey outline; colour only in dark,
blood-like regions (see `flow`), pulsing with a cardiac period; a velocity map that is red to
yellow towards the probe and blue to cyan away, fastest at the vessel centre; aliasing where
the velocity exceeds the Nyquist limit (wrap-around plus a yellow/cyan mosaic); speckled
low-velocity edges and a blooming rim blended with the tissue under it.
"""
from __future__ import annotations

import cv2
import numpy as np

from ..errors import BadOption
from ..preprocess.sector import sector_mask
from .flow import blur, choose_box, flow


def _velocity_lut() -> np.ndarray:
    """256 RGB entries for velocity -1..1 (Nyquist units): blue-cyan away, red-yellow towards.
    Even zero velocity is dark red/blue, never grey, so every colour pixel has chroma."""
    v = np.linspace(-1.0, 1.0, 256)
    a = np.abs(v)
    main = 80 + 175 * np.clip(a / 0.6, 0, 1)
    hot = 235 * np.clip((a - 0.55) / 0.45, 0, 1)
    lut = np.zeros((256, 3))
    lut[:, 0] = np.where(v >= 0, main, 0)
    lut[:, 2] = np.where(v >= 0, 0, main)
    lut[:, 1] = hot
    return np.clip(np.rint(lut), 0, 255).astype(np.float32)


def _power_lut() -> np.ndarray:
    """256 RGB entries for power 0..1: dark red-brown through orange to pale yellow."""
    a = np.linspace(0.0, 1.0, 256)
    lut = np.stack([110 + 145 * a, 15 + 210 * a ** 1.4, 5 + 70 * a ** 3], axis=1)
    return np.clip(np.rint(lut), 0, 255).astype(np.float32)


VELOCITY_LUT = _velocity_lut()
POWER_LUT = _power_lut()
STYLES = ("cfd", "power")
BOX_SHAPES = ("auto", "rect", "sector", "annulus")


def _check(grey: np.ndarray, style: str, box_shape: str) -> np.ndarray:
    g = np.asarray(grey)
    if g.ndim == 2:
        g = g[None]
    if g.dtype != np.uint8 or g.ndim != 3 or min(g.shape) < 1 or g.shape[1] < 8 or g.shape[2] < 8:
        raise BadOption(f"paint_cfd needs greyscale uint8 frames (T,H,W) of at least 8x8, got {g.dtype} {g.shape}")
    if style not in STYLES:
        raise BadOption(f"unknown overlay style {style!r}; choose from {', '.join(STYLES)}")
    if box_shape not in BOX_SHAPES:
        raise BadOption(f"unknown box shape {box_shape!r}; choose from {', '.join(BOX_SHAPES)}")
    return g


def paint_cfd(grey: np.ndarray, seed: int, fps: float = 30.0, *, style: str = "cfd",
              box_shape: str = "auto", period: float | None = None, outline: bool = True,
              aliasing: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Paint colour flow on `grey` (T,H,W uint8); the same seed gives the same bytes.

    style: "cfd" (velocity map) or "power" (power-Doppler map); box_shape: "auto" (trapezoid
    on fan images, rectangle otherwise), "rect", "sector" (trapezoid) or "annulus" (a trapezoid
    whose top and bottom are arcs); period: cardiac period in seconds
    (default: drawn from 0.6-1.2 s). Returns (cfd_rgb (T,H,W,3) uint8, mask (T,H,W) bool:
    exactly the pixels that differ from the greyscale, truth (T,H,W) uint8: the input).
    """
    truth = _check(grey, style, box_shape)
    t, h, w = truth.shape
    rng = np.random.default_rng(seed)
    sector = sector_mask(truth)
    sigma = max(1.5, min(h, w) / 120)
    mean = blur(truth.mean(axis=0), sigma)
    inside = mean[sector]
    dark = (mean < np.percentile(inside, 25)) & sector if inside.size else None
    box = choose_box(sector, dark, rng, box_shape)
    fl = flow(truth, box.mask, rng, fps, period, sigma)
    vmax = float(rng.uniform(0.5, 1.3))  # peak velocity in Nyquist units: > 1 aliases
    out = np.repeat(truth[..., None], 3, axis=-1)
    win = fl.win
    box_win = box.mask[win]
    lut = VELOCITY_LUT if style == "cfd" else POWER_LUT
    for i in range(t):
        col = fl.colour[i]
        profile = 1.0 - (1.0 - fl.depth[i]) ** 2  # laminar: fastest at the centre
        speed = vmax * (0.3 + 0.7 * fl.beat[i]) * profile
        col = col & ~((profile < 0.15) & (rng.random(col.shape) < 0.3))  # speckled slow edges
        rim = np.zeros_like(col)
        if fl.beat[i] > 0.5:  # blooming: colour bleeds one pixel over the wall at systole
            rim = cv2.dilate(col.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & ~col & box_win
        paint = col | rim
        if not paint.any():
            continue
        if style == "cfd":
            v = fl.sign * np.where(rim, 0.1 * vmax, speed)
            if aliasing:
                cells = rng.normal(size=((col.shape[0] + 1) // 2, (col.shape[1] + 1) // 2))
                mosaic = np.repeat(np.repeat(cells, 2, 0), 2, 1)[: col.shape[0], : col.shape[1]]
                v = v + 0.3 * mosaic * np.clip((np.abs(v) - 0.8) / 0.2, 0, 1)
                v = (v + 1.0) % 2.0 - 1.0  # beyond Nyquist the colour wraps to the other direction
            else:
                v = np.clip(v, -1.0, 1.0)
            idx = np.rint((v + 1.0) * 127.5)
        else:
            amp = np.where(rim, 0.1, speed / max(vmax, 1.0)) + 0.08 * rng.normal(size=col.shape)
            idx = np.rint(np.clip(amp, 0, 1) * 255)
        colour = lut[idx.astype(np.int64).clip(0, 255)]
        alpha = np.where(rim, 0.5, np.where(profile < 0.25, 0.75, 1.0))[..., None]
        under = out[i][win].astype(np.float32)
        blend = np.rint(alpha * colour + (1 - alpha) * under).astype(np.uint8)
        out[i][win][paint] = blend[paint]
    if outline:
        out[:, box.outline] = int(rng.integers(150, 236))
    mask = (out != truth[..., None]).any(axis=-1)
    return out, mask, truth
