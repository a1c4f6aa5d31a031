"""Repeated frames: the same picture stored two or more times in a row.

A frame grabber or a cine exported above the scanner's frame rate repeats frames (in the lung data
about 40 % of the frame pairs of some clips; the PLUS frame-grabber phantom too). The colour drawn on
top still pulses, so the holes differ from one copy to the next. Across a run of copies the hidden
tissue is one picture, so a pixel that one copy hides and another shows is known: it is copied, not
estimated. Chosen on painted training clips (`scripts/validate_inference.py`, docs/translate.md).
"""
from __future__ import annotations

import cv2
import numpy as np

REPEAT_MAX_CHANGE = 0.25  # grey levels: mean |difference| below which two frames are one picture (`repeats`)
SOURCE_MARGIN = 1  # px: a copy's pixels this near its own holes are not copied (a codec blurs the colour's edge)
REPEAT_CONTEXT = 32  # px around the holes where the comparison is made
NEAR_HOLE = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (17, 17))  # within 8 px of colour a codec's ringing pulses with it


def ring_around(hole: np.ndarray) -> np.ndarray:
    """(H,W) bool: the visible pixels within 8 px of `hole` (NEAR_HOLE): the tissue whose motion the hole shares."""
    return cv2.dilate(hole.view(np.uint8), NEAR_HOLE).astype(bool) & ~hole


def repeats(prev: tuple[np.ndarray, np.ndarray], frame: tuple[np.ndarray, np.ndarray],
            max_change: float | None = None) -> bool:
    """Whether `frame` (grey uint8 (H,W), holes bool (H,W)) shows the same picture as `prev`.

    Compared where both show tissue, within REPEAT_CONTEXT px of the holes' box but over 8 px away
    from either frame's holes: a lossy codec spreads the pulsing colour's change into its neighbours."""
    (grey_a, hole_a), (grey_b, hole_b) = prev, frame
    either = hole_a | hole_b
    if not either.any():
        return False
    ys, xs = np.nonzero(either)
    H, W = either.shape
    y0, y1 = max(0, ys.min() - REPEAT_CONTEXT), min(H, ys.max() + 1 + REPEAT_CONTEXT)
    x0, x1 = max(0, xs.min() - REPEAT_CONTEXT), min(W, xs.max() + 1 + REPEAT_CONTEXT)
    near = cv2.dilate(np.ascontiguousarray(either[y0:y1, x0:x1]).view(np.uint8), NEAR_HOLE).astype(bool)
    if near.all():
        return False
    change = np.abs(grey_a[y0:y1, x0:x1].astype(np.int16) - grey_b[y0:y1, x0:x1])[~near]
    return float(change.mean()) <= (REPEAT_MAX_CHANGE if max_change is None else max_change)


def carry_repeats(frame: np.ndarray, hole: np.ndarray, copies: list[tuple[np.ndarray, np.ndarray]],
                  taken: np.ndarray | None = None) -> np.ndarray:
    """`frame`'s rebuilt pixels where another copy of the same picture shows them.

    copies: (grey, holes) of the other frames of `frame`'s run of copies, nearest in time first: a pixel
    hidden here takes the value of the nearest copy that shows it, SOURCE_MARGIN px or more from that
    copy's holes (after H.264 the grey right beside the colour carries some of it: on darkened training
    clips copying it cost 0.4 dB, copying from 1 px away nothing). A pixel no copy shows keeps the
    rebuilt value (carrying one copy's fill to the others steadied it, but a fill far from the
    tissue's edge in one copy is not better than the next copy's: −1.2 dB on a training clip).
    Pixels outside `hole` are never changed. `taken` (bool (H,W)), if given, is set True at the pixels copied."""
    if not hole.any() or not copies:
        return frame
    out = frame.copy()
    todo = hole.copy()
    for grey, other_hole in copies:
        if SOURCE_MARGIN:
            other_hole = cv2.dilate(other_hole.view(np.uint8), np.ones((2 * SOURCE_MARGIN + 1,) * 2, np.uint8)).astype(bool)
        take = todo & ~other_hole
        out[take] = grey[take]
        if taken is not None:
            taken |= take
        todo &= other_hole
        if not todo.any():
            break
    return out
