"""Training masks for the inpainting/translation model: CFD-shaped masks plus free-form strokes.

The CFD-shaped masks come from the same colour-box and pulsing-vessel code that paints the
paired data (`flow`), so the model trains on the holes it will meet. Free-form strokes (as in
DeepFill v2: random thick polylines) add shapes the flow code never makes, so the model does
not learn to fill only blobs. Called once per training sample, so it stays cheap.
"""
from __future__ import annotations

import cv2
import numpy as np

from .flow import blur, choose_box, flow


def _pseudo_grey(t: int, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A smooth random brightness field (T,H,W) uint8 with dark blobs, when no clip is given."""
    low = rng.random((max(2, h // 16), max(2, w // 16))).astype(np.float32)
    field = cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC)
    field = np.clip(field * 255, 0, 255).astype(np.uint8)
    return np.broadcast_to(field, (t, h, w))


def cfd_masks(t: int, h: int, w: int, rng: np.random.Generator, grey: np.ndarray | None = None) -> np.ndarray:
    """(T,H,W) bool: a colour box outline plus the pulsing flow regions inside it."""
    g = _pseudo_grey(t, h, w, rng) if grey is None else np.asarray(grey)
    sector = np.ones((h, w), bool) if grey is None else (blur(g.mean(axis=0), 2.0) > 6)
    mean = blur(g.mean(axis=0), 1.5)
    vals = mean[sector]
    dark = (mean < np.percentile(vals, 25)) & sector if vals.size else None
    box = choose_box(sector, dark, rng, "auto" if rng.random() < 0.5 else "rect", n_candidates=4)
    fl = flow(g, box.mask, rng, fps=float(rng.uniform(15, 50)), sigma=1.5)
    out = fl.full((h, w))
    if rng.random() < 0.5:  # chroma bleeding of lossy video: a pixel of margin
        out = np.stack([cv2.dilate(f.astype(np.uint8), np.ones((3, 3), np.uint8)) for f in out]).astype(bool)
    if rng.random() < 0.8:
        out |= box.outline
    return out


def strokes(t: int, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """(T,H,W) bool free-form strokes: 1-4 random thick polylines, static or drifting over time."""
    m = np.zeros((h, w), np.uint8)
    size = min(h, w)
    for _ in range(int(rng.integers(1, 5))):
        x, y = float(rng.uniform(0, w)), float(rng.uniform(0, h))
        width = int(rng.integers(max(2, size // 30), max(3, size // 8)))
        angle = float(rng.uniform(0, 2 * np.pi))
        for _ in range(int(rng.integers(3, 10))):
            angle += float(rng.uniform(-1.2, 1.2))
            step = float(rng.uniform(0.05, 0.25)) * size
            nx = float(np.clip(x + step * np.cos(angle), 0, w - 1))
            ny = float(np.clip(y + step * np.sin(angle), 0, h - 1))
            cv2.line(m, (int(x), int(y)), (int(nx), int(ny)), 1, width)
            cv2.circle(m, (int(nx), int(ny)), width // 2, 1, -1)
            x, y = nx, ny
    if rng.random() < 0.5:
        return np.broadcast_to(m.astype(bool), (t, h, w)).copy()
    dx, dy = rng.uniform(-1.5, 1.5, size=2)  # drifting, like a moving object to remove
    out = np.empty((t, h, w), bool)
    for i in range(t):
        shift = np.float32([[1, 0, dx * i], [0, 1, dy * i]])
        out[i] = cv2.warpAffine(m, shift, (w, h), flags=cv2.INTER_NEAREST) > 0
    return out


def training_masks(t: int, h: int, w: int, rng: np.random.Generator, grey: np.ndarray | None = None) -> np.ndarray:
    """(T,H,W) bool hole masks: CFD-shaped (half), strokes (a quarter) or both (a quarter).

    `grey` (T,H,W uint8), when given, places the flow in its dark regions. Never empty.
    """
    if grey is not None and np.asarray(grey).shape != (t, h, w):
        raise ValueError(f"grey must have shape {(t, h, w)}, got {np.asarray(grey).shape}")
    kind = rng.random()
    out = cfd_masks(t, h, w, rng, grey) if kind < 0.75 else np.zeros((t, h, w), bool)
    if kind >= 0.5 or not out.any():
        out |= strokes(t, h, w, rng)
    return out
