"""Arcs as the top and bottom of a colour box: most scanners draw a fan's box as an annular sector.

`box_sides` fits straight lines. A fan's box has two straight sides along beams, which meet at the
probe's apex, and a top and bottom that are arcs about that apex. A straight line fitted to an arc
leaves its ends (the outline's growth in `doppler._outline` follows them a few pixels), and where
Hough prefers a straight tissue ridge near the flow to the arc, the box stops at the ridge and the
true bottom stays in the output as a white curve. Here, given the sides, the outline pixels are
counted by their distance from the apex: an arc is a distance at which they cover most of the
angle between the sides, which a straight ridge or a straight side does only near its middle.
"""
from __future__ import annotations

import numpy as np

from .box_sides import box_coverage, half_planes, meet, near_outline, rim

ARC_COVERAGE = 0.8  # share of the angle between the sides that an arc's pixels must cover; > 1 = off
ARC_BINS = 32       # angle bins between the sides
ARC_STILLNESS = 0.3  # stillness (`doppler._line_pixels`) a line pixel needs to count: tissue moves, overlays do not
ARC_GAIN = 0.02     # how much more of the box's edge must run along outline pixels for the arcs to be taken


def _apexes(lines: list[tuple[float, float, float]], hull: np.ndarray) -> list[tuple[tuple[float, float], list]]:
    """Each point where two of the box's lines meet well away from the flow (a fan's sides meet at the probe;
    a rectangle's opposite sides never do), with those two lines."""
    ys, xs = np.nonzero(hull)
    extent = max(np.ptp(ys), np.ptp(xs), 8)
    found = []
    for i in range(len(lines)):
        for j in range(i + 1, len(lines)):
            if (crossing := meet(lines[i], lines[j])) is None:
                continue
            px, py = crossing
            if np.hypot(xs - px, ys - py).min() >= 0.3 * extent:  # not a corner of the box
                found.append(((float(px), float(py)), [lines[i], lines[j]]))
    return found


def _arc_radius(dist: np.ndarray, bins: np.ndarray, weight: np.ndarray, radii: np.ndarray) -> float | None:
    """Of `radii` in order (nearest the flow first), the first at which the line pixels (distance `dist`
    from the apex, angle bin `bins`) cover ARC_COVERAGE of the angle bins; None when none does."""
    for r in radii:
        on = np.abs(dist - r) <= 1.5
        if np.unique(bins[on & (weight > ARC_STILLNESS)]).size >= ARC_COVERAGE * ARC_BINS:
            return float(r)
    return None


def _with_arcs(lines: list[tuple[float, float, float]], apex: tuple[float, float], sides: list,
               cand: np.ndarray, stillness: np.ndarray, hull: np.ndarray) -> np.ndarray | None:
    """The box between `sides`, bounded by arcs about `apex` where the outline runs along one nearer the
    apex than the flow or further from it, by the other lines elsewhere; None when no arc is found."""
    (px, py), shape = apex, cand.shape
    wedge = half_planes(sides, shape)
    inside = half_planes([(a, b, c - 2.0) for a, b, c in sides], shape)  # clear of the sides' own pixels
    ys, xs = np.nonzero(cand & inside)
    if ys.size < ARC_BINS or not (wedge & hull).any():
        return None
    yy, xx = np.nonzero(hull)
    hull_dist = np.hypot(xx - px, yy - py)
    centre = np.arctan2(yy.mean() - py, xx.mean() - px)
    ey, ex = np.nonzero(rim(wedge))
    turn = np.angle(np.exp(1j * (np.arctan2(ey - py, ex - px) - centre)))
    angle = np.angle(np.exp(1j * (np.arctan2(ys - py, xs - px) - centre)))
    bins = np.clip(((angle - turn.min()) / max(np.ptp(turn), 1e-6) * ARC_BINS).astype(int), 0, ARC_BINS - 1)
    dist, weight = np.hypot(xs - px, ys - py), stillness[ys, xs]
    top = _arc_radius(dist, bins, weight, np.arange(np.floor(hull_dist.min()) + 2, 0, -1))
    bottom = _arc_radius(dist, bins, weight, np.arange(np.ceil(hull_dist.max()) - 2, dist.max() + 1))
    if top is None and bottom is None:
        return None
    gy, gx = np.mgrid[: shape[0], : shape[1]].astype(np.float32)
    r = np.hypot(gx - px, gy - py)
    box = wedge & (r >= (top or 0) - 1) & (r <= (bottom or np.inf) + 1)
    for a, b, c in (line for line in lines if line not in sides):  # the ends no arc was found for
        if (a * px + b * py + c < 0 and top is None) or (a * px + b * py + c >= 0 and bottom is None):
            box &= half_planes([(a, b, c)], shape)
    return box if (box & hull).sum() >= 0.9 * hull.sum() else None


def arc_box(lines: list[tuple[float, float, float]], cand: np.ndarray, stillness: np.ndarray,
            hull: np.ndarray) -> np.ndarray | None:
    """The box with arcs for its top and bottom (`_with_arcs`, about the apex that fits best), when its edge
    runs along outline pixels for a clearly larger share (ARC_GAIN) than the straight box's; else None."""
    if ARC_COVERAGE > 1 or len(lines) < 2 or not hull.any():
        return None
    near = near_outline(cand)
    best, best_score = None, box_coverage(half_planes(lines, cand.shape), near) + ARC_GAIN
    for apex, sides in _apexes(lines, hull):
        box = _with_arcs(lines, apex, sides, cand, stillness, hull)
        if box is not None and (score := box_coverage(box, near)) >= best_score:
            best, best_score = box, score
    return best
