"""A box side that both its neighbours run on past is a tissue ridge, not the box's edge.

`box_sides` scores a box by the share of its edge that runs along outline pixels. A still tissue ridge
across the box, nearer the flow than the true bottom, can score about as well as the bottom (after
H.264, which blurs the thin bottom line, 0.81 against 0.83 on a painted training clip), and the box
stops there, leaving the true sides below it and the bottom in the output as bright lines. What tells
the two apart is that the box's sides go on past the ridge and end at the true bottom. So each side
whose two neighbours run on past it along outline pixels is moved to where those runs end.
"""
from __future__ import annotations

import numpy as np

from .box_sides import bounding, facing, half_planes, meet, near_outline, refit

RUN_ON = 15  # px both neighbouring sides must run on along outline pixels past a side to move it; 0 = off
RUN_GAP = 6  # px a run may go without outline pixels (a lossy codec blurs a thin line away in places)
RUN_SNAP = 24  # px a run's end may slide along its side to meet the far side (`_snapped`)
RUN_PASSES = 3  # moves and refits: a side fitted to a short stretch drifts off the outline further on


def _run(line: tuple[float, float, float], start: np.ndarray, step: np.ndarray, near: np.ndarray) -> int:
    """How far from `start`, going by `step` (a unit vector along `line`), the line stays on outline pixels
    (`near`, or a pixel beside it across the line), allowing gaps of RUN_GAP px."""
    h, w = near.shape
    across = np.array(line[:2])
    last = t = 0
    while t - last <= RUN_GAP:
        t += 1
        x, y = start + t * step
        if not (0 <= x < w and 0 <= y < h):
            break
        if any(near[min(max(int(round(py)), 0), h - 1), min(max(int(round(px)), 0), w - 1)]
               for px, py in ((x, y), (x, y) + across, (x, y) - across)):
            last = t
    return last


def _snapped(ends: list[tuple[np.ndarray, np.ndarray]], cand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two run ends (point, unit step along its side), each slid along its side by up to RUN_SNAP px
    either way to where the segment between them runs along the most line pixels (`cand`, not widened, so
    that it lands on the line and not a pixel beside it): a run ends at the last outline pixel it met,
    which a codec's gaps may leave short of the corner."""
    h, w = cand.shape
    shifts = sorted(range(-RUN_SNAP, RUN_SNAP + 1), key=abs)
    best, best_share = (ends[0][0], ends[1][0]), -1.0
    for s1 in shifts:
        for s2 in shifts:
            p1, p2 = ends[0][0] + s1 * ends[0][1], ends[1][0] + s2 * ends[1][1]
            t = np.linspace(0.0, 1.0, max(2, int(np.hypot(*(p2 - p1)))))
            xs = np.clip(np.rint(p1[0] + t * (p2[0] - p1[0])).astype(int), 0, w - 1)
            ys = np.clip(np.rint(p1[1] + t * (p2[1] - p1[1])).astype(int), 0, h - 1)
            if (share := float(cand[ys, xs].mean())) > best_share:
                best, best_share = (p1, p2), share
    return best


def _moved(side: tuple[float, float, float], sides: list[tuple[float, float, float]], box: np.ndarray,
           cand: np.ndarray, near: np.ndarray, centre: np.ndarray) -> tuple[float, float, float] | None:
    """`side` moved to the line through the ends of its two neighbours' runs past it, facing `centre`;
    None when it has not two neighbours meeting it at a corner of `box`, or either runs on less than RUN_ON."""
    h, w = box.shape
    ends = []
    for other in sides:
        crossing = None if other is side else meet(side, other)
        if crossing is None:
            continue
        corner = np.array(crossing)
        cx, cy = int(round(corner[0])), int(round(corner[1]))
        if not (0 < cx < w - 1 and 0 < cy < h - 1 and box[cy - 1: cy + 2, cx - 1: cx + 2].any()):
            continue  # the lines cross away from the box: not neighbours
        step = np.array([-other[1], other[0]])
        if side[0] * (corner[0] + step[0]) + side[1] * (corner[1] + step[1]) + side[2] > 0:
            step = -step  # along the neighbour, out past the side
        length = _run(other, corner, step, near)
        if length < RUN_ON:
            return None
        ends.append((corner + length * step, step))
    if len(ends) != 2:
        return None
    (x1, y1), (x2, y2) = _snapped(ends, cand)
    a, b, c = facing(x1, y1, x2, y2, *centre)
    return float(a), float(b), float(c)


def sides_run_on(lines: list[tuple[float, float, float]], cand: np.ndarray,
                 hull: np.ndarray) -> list[tuple[float, float, float]]:
    """`lines` with each side that its neighbours run on past moved to where they end (`_moved`), and all
    fitted again (`box_sides.refit`); the lines that bound nothing are left out once a side moves (a
    ridge that faced the flow beyond the old side would cut the larger box). Unchanged when none moves."""
    if RUN_ON <= 0 or len(lines) < 3 or not hull.any():
        return lines
    near = near_outline(cand)
    ys, xs = np.nonzero(hull)
    centre = np.array([xs.mean(), ys.mean()])
    current, moved = list(lines), False
    for _ in range(RUN_PASSES):
        sides = list(bounding(dict(enumerate(current)), cand.shape).values())
        box = half_planes(sides, cand.shape)
        changed = False
        for i, side in enumerate(before := list(sides)):
            new = _moved(side, before, box, cand, near, centre)
            if new is not None and (half_planes([new], cand.shape) & hull).sum() >= 0.99 * hull.sum():
                sides[i], changed = new, True
        if not changed:
            break
        current, moved = refit(sides, cand), True
    return current if moved else lines
