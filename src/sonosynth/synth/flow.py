"""Where colour flow sits and how it pulses: shared by the CFD painter and the training masks.

A scanner draws colour only inside a fixed colour box, and only where the B-mode is dark
(blood is anechoic; the write-priority setting hides colour over bright tissue). Inside a
vessel the velocity profile is laminar: fastest at the centre. With each heartbeat the flow
fills the vessel at systole and shrinks towards its core (or vanishes) at diastole, which is
why the anatomy under the colour is visible in some frames.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class ColourBox:
    """The colour box: its polygon (x, y vertices), interior mask and 1-px outline, both (H, W) bool."""

    polygon: np.ndarray
    mask: np.ndarray
    outline: np.ndarray


@dataclass(frozen=True)
class Flow:
    """Per-frame flow geometry inside the window `win` (a slice pair of the frame): `colour`
    (T,h,w) bool, `depth` (T,h,w) float32 in [0, 1] (0 at a vessel wall, 1 at its centre),
    `sign` (h,w) +1 towards / -1 away, `beat` (T,) in [0, 1]."""

    win: tuple[slice, slice]
    colour: np.ndarray
    depth: np.ndarray
    sign: np.ndarray
    beat: np.ndarray

    def full(self, shape: tuple[int, int]) -> np.ndarray:
        """The colour regions as (T, H, W) bool on the whole frame."""
        out = np.zeros((self.colour.shape[0], *shape), bool)
        out[(slice(None), *self.win)] = self.colour
        return out


def _polygon(cx: float, cy: float, bw: float, bh: float, top_ratio: float) -> np.ndarray:
    """Rectangle (top_ratio 1) or sector-shaped trapezoid narrower at the top, like a fan's box."""
    tw = bw * top_ratio
    return np.array([[cx - tw / 2, cy - bh / 2], [cx + tw / 2, cy - bh / 2],
                     [cx + bw / 2, cy + bh / 2], [cx - bw / 2, cy + bh / 2]], np.float32)


ARC_POINTS = 24  # vertices along each arc of an annular box


def _annulus(cx: float, cy: float, bw: float, bh: float, top_ratio: float) -> np.ndarray:
    """The trapezoid's annular twin, as most scanners draw a fan's colour box: the same straight
    sides along the beams, and curved top and bottom (arcs about the point where the sides meet)."""
    tw = bw * top_ratio
    top, bottom = cy - bh / 2, cy + bh / 2
    apex = top - tw * bh / (bw - tw)
    half_angle = np.arctan2(bw / 2, bottom - apex)
    angles = np.linspace(-half_angle, half_angle, ARC_POINTS)
    r_top, r_bottom = top - apex, bottom - apex
    upper = np.stack([cx + r_top * np.sin(angles), apex + r_top * np.cos(angles)], 1)
    lower = np.stack([cx + r_bottom * np.sin(angles[::-1]), apex + r_bottom * np.cos(angles[::-1])], 1)
    return np.concatenate([upper, lower]).astype(np.float32)


def _fill(poly: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    cv2.fillPoly(m, [np.round(poly).astype(np.int32)], 1)
    return m.astype(bool)


def is_fan(sector: np.ndarray) -> bool:
    """A fan (convex/phased probe) is much narrower at its top than at its widest row."""
    rows = np.flatnonzero(sector.any(axis=1))
    if rows.size < 4:
        return False
    widths = sector.sum(axis=1)
    top = widths[rows[0]: rows[0] + max(1, rows.size // 10)].mean()
    return bool(top < 0.8 * widths.max())


def choose_box(sector: np.ndarray, dark: np.ndarray | None, rng: np.random.Generator,
               shape: str = "auto", n_candidates: int = 10) -> ColourBox:
    """A colour box inside the sector, over anatomy with some (not all) dark, blood-like area.

    `dark` (H,W) bool marks dark pixels; the candidate whose dark fraction is nearest 0.25 wins.
    """
    h, w = sector.shape
    ys, xs = np.nonzero(sector)
    if ys.size == 0:
        sector = np.ones((h, w), bool)
        ys, xs = np.nonzero(sector)
    image = sector
    sh, sw = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    fan = is_fan(sector) if shape == "auto" else shape in ("sector", "annulus")
    outline = _annulus if shape == "annulus" else _polygon
    # keep clear of the sector's edge: its fall-off in brightness is not blood
    r = max(1, int(0.04 * min(sh, sw)))
    core = cv2.erode(sector.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1,) * 2)).astype(bool)
    if core.sum() > 0.25 * sector.sum():
        sector = core
        ys, xs = np.nonzero(sector)
    top_ratio = rng.uniform(0.45, 0.8) if fan else 1.0
    bh, bw = rng.uniform(0.3, 0.6) * sh, rng.uniform(0.3, 0.6) * sw
    best, best_score = None, np.inf
    for attempt in range(4 * n_candidates):
        i = rng.integers(ys.size)
        poly = outline(float(xs[i]), float(ys[i]), max(bw, 12.0), max(bh, 12.0), top_ratio)
        m = _fill(poly, (h, w))
        area = m.sum()
        if area == 0 or (m & sector).sum() < 0.98 * area:
            if attempt % n_candidates == n_candidates - 1:
                bh, bw = 0.8 * bh, 0.8 * bw  # nothing fits: smaller boxes
            continue
        score = 0.0 if dark is None else abs((dark & m).sum() / area - 0.25)
        if score < best_score:
            best, best_score = poly, score
        if dark is None or attempt >= n_candidates:
            if best is not None:
                break
    if best is None:  # a tiny sector: the central half of its bounding box
        best = _polygon(xs.mean(), ys.mean(), sw / 2, sh / 2, 1.0)
    mask = _fill(best, (h, w)) & image
    line = np.zeros((h, w), np.uint8)
    cv2.polylines(line, [np.round(best).astype(np.int32)], True, 1, 1)
    return ColourBox(best, mask, line.astype(bool) & image)


def blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian-smoothed float32 copy of an (H, W) image: speckle averaged into tissue brightness."""
    return cv2.GaussianBlur(image.astype(np.float32), (0, 0), sigma)


def beat(n: int, fps: float, period: float, phase: float) -> np.ndarray:
    """Cardiac-like waveform in [0, 1]: a sharp systolic peak and a smaller diastolic wave."""
    frac = (np.arange(n) / fps / period + phase) % 1.0
    sys_ = np.exp(-0.5 * ((frac - 0.2) / 0.11) ** 2)
    dia = 0.45 * np.exp(-0.5 * ((frac - 0.55) / 0.12) ** 2)
    w = sys_ + dia + np.exp(-0.5 * ((frac + 0.8) / 0.11) ** 2)  # wrap of the peak
    return (w / w.max() if w.max() > 0 else w).astype(np.float32) if n else w.astype(np.float32)


def _vessels(mean: np.ndarray, box: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float | None]:
    """Dark blobs of reasonable size inside the box (or ellipses in its darkest part) and the
    darkness threshold used (None for the ellipse fallback)."""
    h, w = mean.shape
    vals = mean[box]
    area = int(box.sum())
    min_area = max(8, int(0.01 * area))
    if vals.size:
        thr = float(np.percentile(vals, rng.uniform(12, 30)))
        thr = min(thr, float(np.percentile(vals, 50)) - 1.0)
        dark = ((mean < thr) & box).astype(np.uint8)
        dark = cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        n, lab, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
        keep = [i for i in 1 + np.argsort(-stats[1:, cv2.CC_STAT_AREA]) if stats[i, cv2.CC_STAT_AREA] >= min_area]
        keep = keep[: int(rng.integers(1, 4))]
        if keep:
            return np.isin(lab, keep), thr
    zone = np.zeros((h, w), np.uint8)
    inner = cv2.erode(box.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    inner = inner if inner.any() else box
    blur = cv2.GaussianBlur(mean, (0, 0), max(2.0, min(h, w) / 40))
    ys, xs = np.nonzero(inner)
    if ys.size == 0:
        return zone.astype(bool), None
    bys, bxs = np.nonzero(box)
    bh, bw = np.ptp(bys) + 1, np.ptp(bxs) + 1
    order = np.argsort(blur[ys, xs])
    for k in range(int(rng.integers(1, 3))):
        j = order[min(k * max(1, order.size // 7), order.size - 1)]
        axes = (max(2, int(bw * rng.uniform(0.08, 0.2))), max(2, int(bh * rng.uniform(0.05, 0.15))))
        cv2.ellipse(zone, (int(xs[j]), int(ys[j])), axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
    return zone.astype(bool) & box, None


def flow(grey: np.ndarray, box: np.ndarray, rng: np.random.Generator, fps: float = 30.0,
         period: float | None = None, sigma: float = 1.5) -> Flow:
    """Pulsing colour regions inside `box` (H,W bool) of a greyscale clip (T,H,W)."""
    t, h, w = grey.shape
    by, bx = np.nonzero(box)
    if by.size == 0:
        empty = (slice(0, 0), slice(0, 0))
        return Flow(empty, np.zeros((t, 0, 0), bool), np.zeros((t, 0, 0), np.float32),
                    np.ones((0, 0), np.float32), np.zeros(t, np.float32))
    # the box's bounding window: everything below happens there only (long cines stay cheap)
    win = np.s_[by.min(): by.max() + 1, bx.min(): bx.max() + 1]
    inside = box[win]
    mean = blur(grey[(slice(None), *win)].mean(axis=0), sigma)
    zone, thr = _vessels(mean, inside, rng)
    period = float(rng.uniform(0.6, 1.2)) if period is None else float(period)
    wave = beat(t, fps, period, float(rng.uniform(0, 1)))
    floor = float(rng.uniform(0.4, 1.1))  # >1: colour vanishes at end-diastole
    n, lab = cv2.connectedComponents(zone.astype(np.uint8), connectivity=8)
    signs = np.where(rng.random(max(n, 1)) < 0.5, 1.0, -1.0).astype(np.float32)
    sign = np.ones(inside.shape, np.float32)
    if n > 1:  # every pixel takes the sign of its nearest vessel
        _, idx = cv2.distanceTransformWithLabels((lab == 0).astype(np.uint8), cv2.DIST_L2, 3,
                                                labelType=cv2.DIST_LABEL_PIXEL)
        near = np.zeros(idx.max() + 1, np.int32)
        near[idx[lab > 0]] = lab[lab > 0]
        sign = signs[near[idx]]
    grow = cv2.dilate(zone.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool) & inside
    colour = np.zeros((t, *inside.shape), bool)
    depth = np.zeros((t, *inside.shape), np.float32)
    for i in range(t):
        if thr is None:
            region = zone.astype(np.uint8)
        else:
            region = (grow & (blur(grey[i][win], sigma) < thr)).astype(np.uint8)
        if not region.any():
            continue
        d = cv2.distanceTransform(region, cv2.DIST_L2, 3)
        nl, rl = cv2.connectedComponents(region, connectivity=8)
        peak = np.zeros(nl, np.float32)
        np.maximum.at(peak, rl.ravel(), d.ravel())
        nd = d / np.maximum(peak[rl], 1.0)
        depth[i] = nd
        colour[i] = (region > 0) & (nd > (1.0 - wave[i]) * floor)
    return Flow(win, colour, depth, sign, wave)
