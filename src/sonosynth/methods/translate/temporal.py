"""The temporal part: pixels of a hole that are visible in another frame, found without learning.

In colour-flow Doppler the colour box is fixed but the colour inside it pulses with the heart,
so the anatomy under a colour pixel is often uncovered a few frames earlier or later. For each
frame we look back and forward (up to `horizon` frames) for the nearest frame where the pixel is
visible, and hand the network both values and how far in time they are; the network decides
how much to trust them (tissue moves).
"""
from __future__ import annotations

import torch


def nearest_visible(frames: torch.Tensor, holes: torch.Tensor, horizon: int, direction: int,
                    targets: torch.Tensor | None = None, max_change: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """For frames `targets` (default: all), the value of the nearest frame in `direction` (-1 past, +1 future)
    where each pixel is visible.

    frames: (..., T, H, W) float in [-1, 1]; holes: same shape, bool (True = hidden).
    `max_change`: skip source frames whose tissue, seen in both, differs from the target's by more than
    this share of its brightness (mean |difference| over mean brightness): after a sweep of the probe or
    fast motion, a pixel seen there is other tissue.
    Returns (value, distance), shaped (..., len(targets), H, W); distance is |Δt|/horizon, and 1 (value 0)
    where none was found within the horizon.
    """
    T = frames.shape[-3]
    idx = torch.arange(T) if targets is None else targets
    shape = frames.shape[:-3] + (len(idx),) + frames.shape[-2:]
    value = frames.new_zeros(shape)
    dist = frames.new_ones(shape)
    found = torch.zeros(shape, dtype=torch.bool, device=frames.device)
    target_frames, target_seen = frames[..., idx, :, :], ~holes[..., idx, :, :]
    for step in range(1, horizon + 1):
        src = idx + step * direction
        ok = (src >= 0) & (src < T)
        if not ok.any():
            break
        src_c = src.clamp(0, T - 1)
        source_seen = ~holes[..., src_c, :, :]
        take = source_seen & (~found) & ok.view(-1, 1, 1).to(frames.device)
        if max_change is not None:
            take &= similar_tissue(target_frames, frames[..., src_c, :, :], target_seen & source_seen, max_change)
        value = torch.where(take, frames[..., src_c, :, :], value)
        dist = torch.where(take, torch.full_like(value, step / horizon), dist)
        found |= take
    return value, dist


def similar_tissue(a: torch.Tensor, b: torch.Tensor, seen: torch.Tensor, max_change: float) -> torch.Tensor:
    """(..., 1, 1) bool: whether frames a and b (in [-1, 1]) show the same tissue where both are `seen`."""
    w = seen.to(a.dtype)
    n = w.sum((-2, -1), keepdim=True).clamp(min=1.0)
    change = ((a - b).abs() * w).sum((-2, -1), keepdim=True) / n
    brightness = ((a + b + 2.0) / 2 * w).sum((-2, -1), keepdim=True) / n
    return change <= max_change * brightness.clamp(min=1e-3)


def network_inputs(frames: torch.Tensor, holes: torch.Tensor, centre: slice, horizon: int, temporal: bool,
                   max_change: float | None = None, priors: torch.Tensor | None = None) -> torch.Tensor:
    """Stack the network's input channels for the frames in `centre` of a window.

    frames: (B, T, H, W) in [-1, 1]; holes: (B, T, H, W) bool. For each centre frame t the channels are:
    the frame with its hole zeroed, the hole, frames t-1 and t+1 (holes zeroed) with their holes,
    and the nearest visible past and future values with their time distances (10 channels).
    With temporal=False every temporal channel says "nothing known", which is the frame-by-frame model.
    `priors` (B, n_centre, 4, H, W), if given, replaces the last four (`align.aligned_nearest_visible`).
    Returns (B, n_centre, 10, H, W).
    """
    hole_f = holes.float()
    visible = frames * (1.0 - hole_f)
    T = frames.shape[1]
    idx = torch.arange(T)[centre]
    prev_idx = (idx - 1).clamp(min=0)
    next_idx = (idx + 1).clamp(max=T - 1)
    own = [visible[:, idx], hole_f[:, idx]]
    if temporal:
        neigh = [visible[:, prev_idx], hole_f[:, prev_idx], visible[:, next_idx], hole_f[:, next_idx]]
        if priors is not None:
            return torch.cat([torch.stack(own + neigh, dim=2), priors], dim=2)
        pv, pd = nearest_visible(frames, holes, horizon, -1, idx, max_change)
        nv, nd = nearest_visible(frames, holes, horizon, +1, idx, max_change)
        return torch.stack(own + neigh + [pv, pd, nv, nd], dim=2)
    own_t = torch.stack(own, dim=2)
    return torch.cat([own_t, nothing_known(own_t)], dim=2)


N_INPUTS = 10


def nothing_known(own: torch.Tensor) -> torch.Tensor:
    """The 8 temporal channels saying 'no other frame is known' (value 0, hole or distance 1), shaped like
    `own` (..., 2, H, W) but with 8 channels: what the frame-by-frame model sees."""
    pattern = torch.tensor([0.0, 1.0] * 4, dtype=own.dtype, device=own.device)
    shape = [1] * own.dim()
    shape[-3] = 8
    return pattern.view(shape).expand(*own.shape[:-3], 8, *own.shape[-2:])


def smooth_fill(frames: torch.Tensor, holes: torch.Tensor) -> torch.Tensor:
    """A classical spatial fill of the holes (push-pull over an image pyramid): the starting point the
    network corrects where a pixel is hidden in every nearby frame.

    frames: (N, 1, H, W); holes: (N, 1, H, W) bool. Visible pixels are returned unchanged.
    """
    from torch.nn import functional as F

    weight = (~holes).to(frames.dtype)
    levels = [(frames * weight, weight)]
    while max(levels[-1][0].shape[-2:]) > 1:  # down to 1x1: the same for every frame, whatever the batch
        v, w = levels[-1]
        levels.append((F.avg_pool2d(v, 2, ceil_mode=True), F.avg_pool2d(w, 2, ceil_mode=True)))
    v, w = levels[-1]
    filled = v / w.clamp(min=1e-6)
    for v, w in reversed(levels[:-1]):
        up = F.interpolate(filled, size=v.shape[-2:], mode="bilinear", align_corners=False)
        own = v / w.clamp(min=1e-6)
        alpha = w.clamp(max=1.0)  # fully known pixels keep their own average, empty ones take the coarser level
        filled = alpha * own + (1 - alpha) * up
    return torch.where(holes, filled, frames)
