"""Still pixels: hidden pixels whose every view in the nearby frames shows one value.

The black strip beside an image, the background outside a sector, a printed marker, or tissue on a
near-black phantom do not change from frame to frame. Where the colour hides such a pixel and the
frames around show it, each time with the same value, that value is the answer: the network, which
smooths across the edge between a black strip and bright tissue, put grey there (up to 40 levels
on a painted training clip whose colour reached its black border), and on near-black pictures its
fill moved with the codec noise around the hole while the tissue stood still.
"""
from __future__ import annotations

import numpy as np

STILL_RANGE = 1  # grey levels: the largest spread (max − min) of a pixel's views that counts as one value; < 0 = off
STILL_VIEWS = 3  # fewest frames that must show the pixel
STILL_DARK = -1  # grey level: views all at or below it count as one value whatever their spread (black that the codec dithers); < 0 = off


def fill_still_pixels(frame: np.ndarray, hole: np.ndarray, others: list[tuple[np.ndarray, np.ndarray]],
                      spread: int | None = None, views: int | None = None, dark: int | None = None,
                      taken: np.ndarray | None = None) -> np.ndarray:
    """`frame` (grey uint8 (H,W)) with each `hole` pixel that at least `views` of the `others`
    ((grey, holes) pairs: the frames around it) show, all within `spread` grey levels of each other
    (or all at or below `dark`), set to the mean of those views; every other pixel as it is.
    `taken` (bool (H,W)), if given, is set True at the pixels so set."""
    spread = STILL_RANGE if spread is None else spread
    views = STILL_VIEWS if views is None else views
    dark = STILL_DARK if dark is None else dark
    if spread < 0 or not hole.any() or len(others) < views:
        return frame
    ys, xs = np.nonzero(hole)
    values = np.stack([g[ys, xs] for g, _ in others]).astype(np.int16)  # (frames, hole pixels)
    shown = ~np.stack([h[ys, xs] for _, h in others])
    count = shown.sum(axis=0)
    top = np.where(shown, values, -1).max(axis=0)
    bottom = np.where(shown, values, 256).min(axis=0)
    still = (count >= views) & ((top - bottom <= spread) | (top <= dark))
    if not still.any():
        return frame
    mean = (np.where(shown, values, 0).sum(axis=0) / np.maximum(count, 1))[still]
    out = frame.copy()
    out[ys[still], xs[still]] = np.rint(mean).astype(np.uint8)
    if taken is not None:
        taken[ys[still], xs[still]] = True
    return out
