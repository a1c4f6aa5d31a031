"""The sides of a colour box: straight lines around the flow, chosen among the outline candidates.

`doppler.colour_box` finds the candidate pixels (thin, bright, grey, still) and the flow's hull; here
Hough segments become inward-facing lines (a, b, c: a·x + b·y + c ≥ 0 inside), one per side of the flow,
and are checked against the outline they should run along: a still tissue ridge can face the flow
like a side, lie nearer to it, and cut the box.
"""
from __future__ import annotations

import cv2
import numpy as np

SMEAR = 4.0        # pixels a lossy codec smears colour past the box outline
SUPPORT_SHARE = 0.5  # a box side needs this share of the best-supported line on that side


def facing(x1, y1, x2, y2, cx, cy) -> tuple:
    """The line through (x1, y1) and (x2, y2) as (a, b, c) with a unit normal, turned so that (cx, cy) lies on
    its inner side (a*x + b*y + c >= 0)."""
    length = float(np.hypot(x2 - x1, y2 - y1))
    a, b = (y1 - y2) / length, (x2 - x1) / length
    c = -(a * x1 + b * y1)
    return (a, b, c) if a * cx + b * cy + c >= 0 else (-a, -b, -c)


def meet(first: tuple[float, float, float], second: tuple[float, float, float]) -> tuple[float, float] | None:
    """(x, y) where two lines a*x + b*y + c = 0 cross; None when they are within 5° of parallel."""
    (a1, b1, c1), (a2, b2, c2) = first, second
    det = a1 * b2 - a2 * b1
    if abs(det) < np.sin(np.radians(5)):
        return None
    return (b1 * c2 - b2 * c1) / det, (a2 * c1 - a1 * c2) / det


def half_planes(lines: list[tuple[float, float, float]], shape: tuple[int, int]) -> np.ndarray:
    """Intersection of the half-planes a*x + b*y + c >= -1 (each line kept with its inner side)."""
    yy, xx = np.mgrid[: shape[0], : shape[1]].astype(np.float32)
    out = np.ones(shape, bool)
    for a, b, c in lines:
        out &= a * xx + b * yy + c >= -1.0
    return out


def box_lines(cand: np.ndarray, stillness: np.ndarray, hull: np.ndarray) -> list[tuple[float, float, float]]:
    """The strongest straight edge on each side of the flow hull, as inward-facing lines."""
    ys, xs = np.nonzero(hull)
    cy, cx = ys.mean(), xs.mean()
    size = max(np.ptp(ys), np.ptp(xs), 8)
    segs = cv2.HoughLinesP(cand.astype(np.uint8) * 255, 1, np.pi / 360, threshold=max(10, int(size * 0.15)),
                           minLineLength=max(8, int(size * 0.15)), maxLineGap=10)
    if segs is None:
        return []
    py, px = np.nonzero(cand)
    weight = stillness[py, px]
    px, py = px.astype(np.float32), py.astype(np.float32)
    hull_pts = cv2.convexHull(cv2.findNonZero(hull.astype(np.uint8))).reshape(-1, 2).astype(np.float32)
    by_side: dict[int, list[tuple[float, np.ndarray, tuple[float, float, float]]]] = {}
    for x1, y1, x2, y2 in segs.reshape(-1, 4).astype(np.float32):
        a, b, c = facing(x1, y1, x2, y2, cx, cy)  # facing the flow
        if (hull_pts @ np.array([a, b]) + c).min() < -SMEAR:
            continue  # cuts through the flow: not the box edge
        side = int(((np.degrees(np.arctan2(-b, -a)) + 360 + 22.5) % 360) // 45)  # 8 outward directions
        on_line = np.abs(a * px + b * py + c) <= 1.0
        by_side.setdefault(side, []).append((float(a * cx + b * cy + c), on_line, (float(a), float(b), float(c))))
    # support of a line: the stillness of the candidates on it (an overlay line stays put, tissue
    # does not), counted at first along the whole line, then only between the other sides found
    # (a tissue line that carries on past the box no longer counts where it lies outside it)
    keep = {side: np.ones(len(px), bool) for side in by_side}
    chosen: dict[int, tuple[float, float, float]] = {}
    supported: dict[int, list[tuple[float, float, tuple[float, float, float]]]] = {}
    for _ in range(3):
        for side, cands in by_side.items():
            supported[side] = [(d, float(weight[on & keep[side]].sum()), line) for d, on, line in cands]
            chosen[side] = pick_line(supported[side])
        for side in by_side:
            keep[side] = np.ones(len(px), bool)
            for other, (a, b, c) in chosen.items():
                if other != side:
                    keep[side] &= a * px + b * py + c >= -SMEAR
    return best_covered(chosen, {side: alternatives(cands) for side, cands in supported.items()}, cand)


def alternatives(cands: list[tuple[float, float, tuple[float, float, float]]]) -> list[tuple[float, float, float]]:
    """Of (distance to the flow, support, line), in Hough's order (most votes first): the lines `_swapped`
    may put in a side's place, the first SWAP_OPTIONS and the NEAREST_OPTIONS nearest to the flow. The
    nearest, because where flow touches the outline a lossy codec makes the outline pulse with it and its
    support (stillness) falls: after H.264 the cardiac cine's bottom side had 0.37 of the support of a
    sector line further down, and was not among the first lines at all."""
    first = [line for _, _, line in cands[:SWAP_OPTIONS]]
    nearest = [line for _, _, line in sorted(cands, key=lambda c: c[0])[:NEAREST_OPTIONS]]
    return list(dict.fromkeys(first + nearest))


SWAP_GAIN = 0.1  # how much more of the box's edge must run along outline pixels for other sides to be taken
SWAP_STEP = 0.01  # ... and for one change on the way
SWAP_OPTIONS = 6  # lines tried on each side: the first Hough found ...
NEAREST_OPTIONS = 6  # ... and the nearest to the flow (`alternatives`)


def rim(mask: np.ndarray) -> np.ndarray:
    """(H,W) bool: the pixels of `mask` that touch its outside (8-neighbourhood)."""
    return mask & ~cv2.erode(mask.view(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)


def near_outline(cand: np.ndarray) -> np.ndarray:
    """The line pixels widened by one pixel: an edge pixel next to one runs along the outline."""
    return cv2.dilate(cand.view(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)


def edge_coverage(lines: list[tuple[float, float, float]], near: np.ndarray) -> float:
    """Share of the box's edge (inside the frame) that runs along outline pixels (`near`: `near_outline` of the line pixels)."""
    return box_coverage(half_planes(lines, near.shape), near)


def box_coverage(box: np.ndarray, near: np.ndarray) -> float:
    """`edge_coverage` of a box given as a mask."""
    edge = rim(box)
    edge[[0, -1]] = False
    edge[:, [0, -1]] = False
    return float(near[edge].mean()) if edge.any() else 0.0


def best_covered(chosen: dict[int, tuple[float, float, float]], candidates: dict[int, list[tuple[float, float, float]]],
                 cand: np.ndarray) -> list[tuple[float, float, float]]:
    """`_swapped`; where no change covers clearly more, `_swapped` again without the sides that bound nothing.

    Such a line (a ridge below a false bottom side) bounds nothing until the false side gives way, and then it
    cuts the true box, so no single change covered more: on a painted lung clip a still tissue ridge part-way
    down kept the bottom side's place (mask IoU 0.80; 0.96 with it dropped). Tried second, not first: dropped
    first, they changed which sides the swaps ended on elsewhere."""
    lines = _swapped(chosen, candidates, cand)
    if lines == list(chosen.values()):
        fewer = bounding(chosen, cand.shape)
        if len(fewer) < len(chosen) and (second := _swapped(fewer, candidates, cand)) != list(fewer.values()):
            lines = second
    return lines


def _swapped(chosen: dict[int, tuple[float, float, float]], candidates: dict[int, list[tuple[float, float, float]]],
             cand: np.ndarray) -> list[tuple[float, float, float]]:
    """The sides, with some replaced by other lines found on their side, or dropped, when the box's edge then runs
    along outline pixels for a clearly larger share (SWAP_GAIN): on the Prostate phantom after H.264 a slanted probe
    echo lay nearer to the flow than the box's blurred bottom side and took its place, and another cut a corner off.
    One side at a time, each change taken if it covers more; the result only if it covers clearly more in all."""
    near = near_outline(cand)
    current = dict(chosen)
    start = score = edge_coverage(list(current.values()), near)
    for _ in range(4):
        changed = False
        for side in candidates:
            others = [kept for other, kept in current.items() if other != side]
            for line in candidates[side] + ([None] if len(others) >= 3 else []):
                if line == current.get(side) or (line is None and side not in current):
                    continue
                trial = edge_coverage(others + ([line] if line else []), near)
                if trial > score + SWAP_STEP:
                    score, changed = trial, True
                    if line is None:
                        del current[side]
                    else:
                        current[side] = line
                    others = [kept for other, kept in current.items() if other != side]
        if not changed:
            break
    return list((current if score >= start + SWAP_GAIN else chosen).values())


def bounding(sides: dict[int, tuple[float, float, float]], shape: tuple[int, int]) -> dict[int, tuple[float, float, float]]:
    """The sides without those that bound nothing: the box is the same without them."""
    kept = dict(sides)
    for side in sorted(sides):
        others = [line for other, line in kept.items() if other != side]
        if len(others) >= 2 and not (half_planes(others, shape) & ~half_planes([kept[side]], shape)).any():
            del kept[side]
    return kept


def pick_line(cands: list[tuple[float, float, tuple[float, float, float]]]) -> tuple[float, float, float]:
    """Of (distance to the flow, support, line): the nearest of the well-supported lines (tissue
    lines lie further out too), then the best-supported one within a few pixels of it (Hough gives
    slanted near-duplicates)."""
    top = max(sup for _, sup, _ in cands)
    good = [(d, sup, line) for d, sup, line in cands if sup >= SUPPORT_SHARE * top]
    nearest = min(d for d, _, _ in good)
    return max((sup, line) for d, sup, line in good if d <= nearest + 12)[1]


CUT_COVERAGE = 0.8  # share of a dropped side's replacement edges that must be outline pixels


def without_corner_cuts(lines: list[tuple[float, float, float]], cand: np.ndarray) -> list[tuple[float, float, float]]:
    """`lines` less those that only cut a corner off the box: a still tissue ridge inside the box (the
    bright streaks of the Prostate phantom) can face the flow like a side and be nearer to it than the
    outline. Without such a line the box's new edges run along outline pixels (the two sides it cut
    meet at their corner); without a true side they run into open tissue or the frame's edge, which
    counts neither way."""
    h, w = cand.shape
    near = near_outline(cand)
    inner = np.zeros((h, w), bool)
    inner[1:-1, 1:-1] = True
    dropped = True
    while dropped and len(lines) > 2:
        dropped = False
        box = cv2.dilate(half_planes(lines, (h, w)).view(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        for i in range(len(lines)):
            rest = lines[:i] + lines[i + 1:]
            wider = half_planes(rest, (h, w))
            new_edge = rim(wider) & ~box & inner
            if new_edge.sum() >= 10 and near[new_edge].mean() >= CUT_COVERAGE:
                lines, dropped = rest, True
                break
    return lines


def refit(lines: list[tuple[float, float, float]], cand: np.ndarray) -> list[tuple[float, float, float]]:
    """Each side fitted again to the line pixels within 2 px of it along the box: Hough's angle steps
    leave a long, stepped side (the cardiac cine's left side, 1 px wide) up to 3 px off at one end,
    where its pixels then fall outside the outline's band and stay in the output."""
    if len(lines) < 2:
        return lines
    h, w = cand.shape
    zone = cv2.dilate(half_planes(lines, (h, w)).view(np.uint8), np.ones((9, 9), np.uint8)).astype(bool) & cand
    ys, xs = np.nonzero(zone)
    px, py = xs.astype(np.float32), ys.astype(np.float32)
    out = []
    for a, b, c in lines:
        on = np.abs(a * px + b * py + c) <= 2.0
        if on.sum() < 10:
            out.append((a, b, c))
            continue
        vx, vy, x0, y0 = cv2.fitLine(np.stack([px[on], py[on]], 1), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        na, nb = -vy, vx  # the unit normal, turned to face the flow as the old line did
        if na * a + nb * b < 0:
            na, nb = -na, -nb
        nc = -(na * x0 + nb * y0)
        support = int((np.abs(a * px + b * py + c) <= 1.0).sum())
        if na * a + nb * b < np.cos(np.radians(3)) or (np.abs(na * px + nb * py + nc) <= 1.0).sum() < 1.1 * support:
            out.append((a, b, c))  # a different line, or no better fit of this one
            continue
        out.append((float(na), float(nb), float(nc)))
    return out


def closed(box: np.ndarray) -> bool:
    """True when the box's own sides enclose it: it touches no edge of the frame (where the band
    around the flow would have to stand in for a side not found)."""
    return bool(box.any()) and not (box[0].any() or box[-1].any() or box[:, 0].any() or box[:, -1].any())
