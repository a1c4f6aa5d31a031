"""Temporal consistency: flicker of an output against its truth, and flow-warping error.

Flicker (per frame pair): mean |(out[t+1] - out[t]) - (truth[t+1] - truth[t])|, in grey levels:
0 when the output changes from frame to frame exactly as the truth does, large when it shimmers.
Warping error (Lai et al. 2018): optical flow from frame t+1 to t is computed on the reference
(the truth, or the output itself when there is none) with a classical method (OpenCV DIS or
Farneback); output frame t is warped along it and compared with output frame t+1 over the pixels
that pass a forward-backward consistency check (occlusions excluded).
"""
from __future__ import annotations

import cv2
import numpy as np

from ..errors import BadOption
from ..preprocess.flow import dis_flow
from .paired import _pair

FLOW_METHODS = ("dis", "farneback")


def temporal_flicker(out, truth, mask=None) -> float:
    """Mean absolute difference of frame-to-frame changes, output vs truth (grey levels)."""
    a, b, m = _pair(out, truth, mask)
    if len(a) < 2:
        raise BadOption("flicker needs at least 2 frames")
    da = np.diff(a.astype(np.float64), axis=0)
    db = np.diff(b.astype(np.float64), axis=0)
    d = np.abs(da - db)
    if m is None:
        return float(d.mean())
    mm = m[1:] | m[:-1]
    return float(d[mm].mean()) if mm.any() else float("nan")


def optical_flow(prev: np.ndarray, nxt: np.ndarray, method: str = "dis") -> np.ndarray:
    """Dense flow f (H,W,2) on nxt's grid with nxt(x) ~ prev(x + f(x))."""
    prev, nxt = np.ascontiguousarray(prev), np.ascontiguousarray(nxt)
    if method == "dis":
        return dis_flow(nxt, prev)  # padded on small frames, where OpenCV's DIS raises or crashes
    if method == "farneback":
        return cv2.calcOpticalFlowFarneback(nxt, prev, None, 0.5, 4, 15, 3, 5, 1.2, 0)
    raise BadOption(f"flow method must be one of {FLOW_METHODS}, got {method!r}")


def _warp(img: np.ndarray, flow: np.ndarray) -> np.ndarray:
    h, w = flow.shape[:2]
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(img, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def warping_error(out, reference=None, mask=None, method: str = "dis") -> float:
    """Mean |out[t+1] - warp(out[t])| over non-occluded (and masked) pixels, in grey levels."""
    ref = out if reference is None else reference
    a, r, m = _pair(out, ref, mask)
    if len(a) < 2:
        raise BadOption("warping error needs at least 2 frames")
    errs, weights = [], []
    for t in range(len(a) - 1):
        back = optical_flow(r[t], r[t + 1], method)  # for pixels of t+1, where they were at t
        fwd = optical_flow(r[t + 1], r[t], method)
        # forward-backward check: following back then fwd should return to the start
        round_trip = back + _warp(fwd, back)
        ok = (round_trip**2).sum(-1) < 0.01 * ((back**2).sum(-1) + (_warp(fwd, back) ** 2).sum(-1)) + 0.5
        if m is not None:
            ok &= m[t + 1]
        if not ok.any():
            continue
        warped = _warp(a[t].astype(np.float32), back)
        errs.append(float(np.abs(a[t + 1].astype(np.float32) - warped)[ok].mean()))
        weights.append(int(ok.sum()))
    if not errs:
        return float("nan")
    return float(np.average(errs, weights=weights))
