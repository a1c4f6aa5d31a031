"""Scan-sector mask: the image region of a clip (fan or rectangle), without text, colour bars, ECG or logos.

Ultrasound image content is speckle: it has local texture and, in a cine, it changes over
time. Annotations are flat, sparse and static. We score every pixel by texture (+ motion),
keep the largest connected blob, close its gaps and fill its convex hull: fans and
rectangles are both convex, so the hull repairs dark regions inside the image (vessels,
shadows, black lungs) that have no texture of their own. A frame grabber may record a nearly
black image beside a bright text panel: when the chosen blob of a cine does not change over time,
the image is the hull of the moving blobs outside it.
"""
from __future__ import annotations

import cv2
import numpy as np

from ..clip import Clip


def sample_frames(clip: Clip | np.ndarray, n: int = 16) -> np.ndarray:
    """At most n frames spread over the clip, as float32 luminance (T', H, W): enough to see
    motion, cheap on long cines."""
    f = clip.frames if isinstance(clip, Clip) else np.asarray(clip)
    if f.ndim == 2:
        f = f[None]
    idx = np.unique(np.linspace(0, f.shape[0] - 1, min(n, f.shape[0])).round().astype(int))
    f = f[idx].astype(np.float32)
    if f.ndim == 4:
        f = 0.299 * f[..., 0] + 0.587 * f[..., 1] + 0.114 * f[..., 2]
    return f


def _evidence(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel evidence of image content (local texture and temporal change, on [0, inf)), and the
    temporal change alone."""
    mean = frames.mean(axis=0)
    k = 7
    m1 = cv2.blur(mean, (k, k))
    m2 = cv2.blur(mean * mean, (k, k))
    texture = np.sqrt(np.maximum(m2 - m1 * m1, 0.0))
    motion = frames.std(axis=0) if frames.shape[0] > 1 else np.zeros_like(mean)
    motion = cv2.blur(motion, (k, k))
    bright = cv2.blur(mean, (15, 15)) > 6.0  # the black surround of a fan is not image
    return np.where(bright, np.maximum(texture, 2.0 * motion), 0.0), motion


STATIC_MOTION = 1.0  # median temporal change (grey levels) inside a cine's sector below which it is an overlay
                     # (text panel: 0.5; the lung, PLUS and pydicom cines: 2.4 and more)
MOVING = 1.5         # temporal change that marks image content when the textured blob was an overlay


def _components(cand: np.ndarray, close_radius: int = 0) -> tuple[np.ndarray, np.ndarray] | None:
    """Connected blobs of a candidate map after removing specks (and closing gaps): (labels, areas of
    labels 1..n), or None when there is none."""
    cand = cv2.morphologyEx(cand.astype(np.uint8), cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    if close_radius:
        ker = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * close_radius + 1, 2 * close_radius + 1))
        cand = cv2.morphologyEx(cand, cv2.MORPH_CLOSE, ker)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(cand, connectivity=8)
    return None if n <= 1 else (lab, stats[1:, cv2.CC_STAT_AREA])


def _largest_blob(cand: np.ndarray, radius: int) -> np.ndarray | None:
    """The largest blob of a candidate map, its gaps up to `radius` closed."""
    found = _components(cand, radius)
    return None if found is None else found[0] == 1 + int(np.argmax(found[1]))


def _moving_blobs(cand: np.ndarray) -> np.ndarray | None:
    """All sizeable moving blobs together (a dark image's echoes are scattered, so no single blob is it)."""
    found = _components(cand)
    if found is None:
        return None
    lab, area = found
    return np.isin(lab, 1 + np.flatnonzero(area >= 0.05 * area.max()))


def sector_mask(clip: Clip | np.ndarray) -> np.ndarray:
    """Bool (H, W): True inside the scan sector (fan or rectangle) of the clip.

    In a cine whose largest textured blob does not change over time (a text panel beside a dark
    image, as frame grabbers record), the image is the hull of the sizeable moving blobs outside it.
    """
    frames = sample_frames(clip)
    _, h, w = frames.shape
    ev, motion = _evidence(frames)
    r = max(3, int(round(min(h, w) / 60)))
    blob = _largest_blob(ev > 3.0, r)
    if blob is None:
        return np.ones((h, w), bool)  # no texture anywhere: treat the whole frame as image
    sector = _hull(blob)
    if frames.shape[0] > 1 and np.median(motion[sector]) < STATIC_MOTION:
        overlay = cv2.dilate(sector.view(np.uint8), np.ones((2 * r + 1, 2 * r + 1), np.uint8)).astype(bool)
        moving = _moving_blobs((motion > MOVING) & ~overlay)
        if moving is not None:
            sector = _hull(moving)
    return sector


def _hull(blob: np.ndarray) -> np.ndarray:
    """The filled convex hull of a blob: fans and rectangles are convex."""
    hull = cv2.convexHull(cv2.findNonZero(blob.astype(np.uint8)))
    out = np.zeros(blob.shape, np.uint8)
    cv2.fillPoly(out, [hull.reshape(-1, 2)], 1)
    return out.astype(bool)


def sector_bbox(clip_or_mask: Clip | np.ndarray) -> tuple[int, int, int, int]:
    """(y0, y1, x0, x1), end-exclusive, of the sector (pass a bool mask or a clip)."""
    m = clip_or_mask
    if not (isinstance(m, np.ndarray) and m.dtype == bool and m.ndim == 2):
        m = sector_mask(m)
    ys = np.flatnonzero(m.any(axis=1))
    xs = np.flatnonzero(m.any(axis=0))
    if ys.size == 0:
        return 0, m.shape[0], 0, m.shape[1]
    return int(ys[0]), int(ys[-1]) + 1, int(xs[0]), int(xs[-1]) + 1
