"""Copies from other frames, moved with the tissue: optical flow between the frames of a window.

`temporal.nearest_visible` copies the pixel at the same place in another frame, which is right
only while tissue and probe keep still. Lung slides, hearts beat, probes sweep: the pixel seen there
is often the tissue beside. Here the dense optical flow between consecutive frames (DIS, on frames
whose holes are filled smoothly) is measured where both frames show tissue, interpolated into the
holes from around them (what lies under the colour moves with what lies beside it), and chained
from frame to frame, so that each frame within the horizon can be moved onto the target's grid.
A moved frame is used only where it matches the tissue around the target's holes clearly better
than the frame as it lies (`ALIGN_GAIN`), so a still picture gives the plain copies.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch

from ...preprocess.flow import dis_flow
from .repeats import ring_around
from .temporal import smooth_fill

ALIGN_GAIN = 0.2  # a moved frame must lower the mean |difference| around the holes by this share
FLOW_CLEAR = np.ones((5, 5), np.uint8)  # flow this near either frame's holes is interpolated, not measured
MIN_RING = 20  # px of tissue around the holes that both frames must show for the comparison
NEW_PIXELS = False  # whether a moved frame may show a pixel that the frame as it lies hides
LOCAL_GATE = False  # True: the copy gate compares only the tissue within 8 px of the target's holes (tried, docs/translate.md)
DIS_PRESET = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM  # FAST read 0.1 dB lower on the validation clips (docs/translate.md)


def _filled(grey: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """(n,h,w) uint8: frames with their holes filled smoothly (push-pull), so the flow sees no colour edges."""
    t = torch.from_numpy(grey).float()[:, None]
    h = torch.from_numpy(holes)[:, None]
    return smooth_fill(t, h)[:, 0].round().clamp(0, 255).to(torch.uint8).numpy()


def _interpolate_inside(flow: np.ndarray, unknown: np.ndarray) -> np.ndarray:
    """(h,w,2) flow with its `unknown` pixels filled from the measured ones around them."""
    if not unknown.any():
        return flow
    if unknown.all():
        return np.zeros_like(flow)
    f = torch.from_numpy(np.ascontiguousarray(flow.transpose(2, 0, 1)))[:, None]
    u = torch.from_numpy(unknown)[None, None].expand(2, 1, *unknown.shape)
    return smooth_fill(f, u)[:, 0].numpy().transpose(1, 2, 0)


def pair_flows(grey: np.ndarray, holes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flows between two neighbouring frames (grey (2,h,w) uint8, holes (2,h,w) bool): forward maps the
    first frame's grid into the second (pixel p of the first shows what p + forward(p) shows in the
    second), backward the second's into the first."""
    a, b = _filled(grey, holes)
    dis = cv2.DISOpticalFlow_create(DIS_PRESET)
    unknown = cv2.dilate((holes[0] | holes[1]).view(np.uint8), FLOW_CLEAR).astype(bool)
    return (_interpolate_inside(dis_flow(a, b, dis=dis), unknown),
            _interpolate_inside(dis_flow(b, a, dis=dis), unknown))


class FlowCache:
    """The flows of a stream's neighbouring frames, kept by clip index while the window holds them: each
    pair is measured once, not once per window. A window cropped elsewhere starts afresh (memory stays
    one window's worth)."""

    def __init__(self) -> None:
        self.flows: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.crop: tuple | None = None

    def window(self, grey: np.ndarray, holes: np.ndarray, first: int, crop: tuple) -> tuple[list, list]:
        """(forward, backward) lists for the frames of a window whose first frame has clip index `first`."""
        if crop != self.crop:
            self.flows.clear()
            self.crop = crop
        for k in range(len(grey) - 1):
            if first + k not in self.flows:
                self.flows[first + k] = pair_flows(grey[k:k + 2], holes[k:k + 2])
        pairs = [self.flows[first + k] for k in range(len(grey) - 1)]
        return [f for f, _ in pairs], [b for _, b in pairs]

    def forget_before(self, first: int) -> None:
        """Drop the pairs that start before clip index `first` (the window has moved past them)."""
        for k in [k for k in self.flows if k < first]:
            del self.flows[k]


def aligned_nearest_visible(grey: np.ndarray, holes: np.ndarray, targets: range, horizon: int,
                            max_change: float | None, flows: tuple[list, list] | None = None) -> tuple[np.ndarray, ...]:
    """Like `temporal.nearest_visible` in both directions, with each other frame moved onto the target.

    grey: (T,h,w) uint8; holes: (T,h,w) bool; flows: `FlowCache.window` of them (measured here if not
    given). Returns (past value, past distance, future value, future distance), each (len(targets), h, w)
    float32: values in [-1, 1], distance |Δt|/horizon, 1 (value 0) where nothing was found.
    """
    forward, backward = flows or FlowCache().window(grey, holes, 0, ())
    T, h, w = grey.shape
    grid = np.stack(np.mgrid[0:h, 0:w][::-1], axis=-1).astype(np.float32)  # (x, y) per pixel
    as_float = grey.astype(np.float32), holes.astype(np.float32)  # once a window, not once per pair of frames
    out = [np.zeros((len(targets), h, w), np.float32) for _ in range(4)]
    out[1][:] = 1.0
    out[3][:] = 1.0
    for i, t in enumerate(targets):
        if not holes[t].any():
            continue
        ring = ring_around(holes[t])
        for direction, (value, dist) in ((-1, (out[0][i], out[1][i])), (+1, (out[2][i], out[3][i]))):
            between = backward if direction < 0 else forward  # between[k]: frames k and k + 1
            found = np.zeros((h, w), bool)
            to_source = np.zeros((h, w, 2), np.float32)  # t's grid → source's grid, chained
            for step in range(1, horizon + 1):
                s = t + step * direction
                if not 0 <= s < T:
                    break
                step_flow = between[s - 1] if direction > 0 else between[s]
                moved_grid = grid + to_source
                to_source += cv2.remap(step_flow, moved_grid, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
                src, src_hidden = _source(as_float[0][s], holes[s], as_float[1][s], as_float[0][t], ring, grid + to_source)
                take = ~src_hidden & ~found  # outside the holes too, as `nearest_visible` does: the network saw that
                if not take.any():  # nothing this frame could lend: the gate need not be asked
                    continue
                compared = (ring if LOCAL_GATE else ~holes[t]) & ~src_hidden
                if max_change is not None and not _similar(grey[t], src, compared, max_change):
                    continue
                value[take] = src[take] / 127.5 - 1.0
                dist[take] = step / horizon
                found |= take
                if found.all():
                    break
    return tuple(out)


def _source(plain: np.ndarray, plain_hidden: np.ndarray, hole_s: np.ndarray, target: np.ndarray, ring: np.ndarray,
            where: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Source frame s as lying, or moved onto the target's grid (`where`: for each target pixel, its place
    in s) when that matches the target's tissue around its holes clearly better. `plain`, `target`: the two
    frames' grey, float32; `plain_hidden`, `hole_s`: s's holes as bool and float32. Returns (grey, hidden)."""
    # `where` is one (h, w, 2) map, not its x and y halves: those are strided views that cv2 would copy each call
    moved = cv2.remap(plain, where, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    moved_hidden = cv2.remap(hole_s, where, None, cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_CONSTANT, borderValue=1.0) > 0.01
    both_plain, both_moved = ring & ~plain_hidden, ring & ~moved_hidden
    if both_plain.sum() < MIN_RING or both_moved.sum() < MIN_RING:
        return plain, plain_hidden
    error_plain = np.abs(target[both_plain] - plain[both_plain]).mean()
    error_moved = np.abs(target[both_moved] - moved[both_moved]).mean()
    if error_moved < (1.0 - ALIGN_GAIN) * error_plain:
        return moved, moved_hidden if NEW_PIXELS else moved_hidden | plain_hidden
    return plain, plain_hidden


def _similar(target: np.ndarray, source: np.ndarray, seen: np.ndarray, max_change: float) -> bool:
    """The copy gate (`temporal.similar_tissue`) for one pair of frames in grey levels, in numpy: its
    torch form costs more in conversions than in sums on a crop this small (a third of this module's time)."""
    a = target[seen].astype(np.float64)
    b = source[seen].astype(np.float64)
    n = max(a.size, 1)
    change = np.abs(a - b).sum() / 127.5 / n  # |Δ| in the [-1, 1] units of `similar_tissue`
    brightness = (a + b).sum() / 255.0 / n     # (a + b + 2) / 2 in those units
    return bool(change <= max_change * max(brightness, 1e-3))
