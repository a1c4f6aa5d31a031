"""LPIPS (Zhang et al. 2018, VGG variant) and a VGG feature distance, from a user-supplied weights file.

No registry package ships these weights, so they are never downloaded or invented: the user
gives one safetensors file holding the VGG-16 trunk in torchvision's naming
(`features.{i}.weight|bias`) and, for LPIPS, its linear heads (`lin{k}.model.1.weight`, as in the
`lpips` package). Without the file the result says `available: False` and why; with a file
lacking the heads, only the VGG distance is given. Frames are grey replicated to 3 channels,
mapped to [-1, 1] and scored at their own size.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import MissingWeights
from .paired import _pair

_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512]
TAPS = (3, 8, 15, 22, 29)  # relu1_2, relu2_2, relu3_3, relu4_3, relu5_3 in torchvision's indexing
CHANNELS = (64, 128, 256, 512, 512)
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)


def _build():
    import torch
    from torch import nn

    layers, cin = [], 3
    for v in _CFG:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(cin, v, 3, padding=1), nn.ReLU(inplace=False)]
            cin = v

    class Perceptual(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(*layers)
            self.lins = nn.ModuleList(nn.Conv2d(c, 1, 1, bias=False) for c in CHANNELS)
            self.register_buffer("shift", torch.tensor(SHIFT).view(1, 3, 1, 1))
            self.register_buffer("scale", torch.tensor(SCALE).view(1, 3, 1, 1))

        def taps(self, x):
            x = (x - self.shift) / self.scale
            out = []
            for i, layer in enumerate(self.features):
                x = layer(x)
                if i in TAPS:
                    out.append(x)
                if i == TAPS[-1]:
                    break
            return out

    return Perceptual()


def load(path: str | Path | None):
    """(model, has_lpips_heads, sha256) from a safetensors file; MissingWeights if absent or unfit."""
    import torch
    from safetensors.torch import load_file

    from ..nn.i3d import sha256

    if path is None:
        raise MissingWeights("no perceptual weights file given (--perceptual-weights VGG16_LPIPS.safetensors)")
    p = Path(path)
    if not p.is_file():
        raise MissingWeights(f"perceptual weights file {p} not found")
    try:
        tensors = load_file(str(p))
    except Exception as e:
        raise MissingWeights(f"{p} is not a readable safetensors file: {e}") from e
    model = _build()
    want = {k: v.shape for k, v in model.features.state_dict().items()}
    trunk = {k[len("features."):]: v for k, v in tensors.items() if k.startswith("features.")}
    trunk = {k: v for k, v in trunk.items() if k in want}
    bad = [k for k in want if k not in trunk or tuple(trunk[k].shape) != tuple(want[k])]
    if bad:
        raise MissingWeights(f"{p} lacks VGG-16 trunk tensors or has wrong shapes: {', '.join(bad[:4])}")
    with torch.no_grad():
        model.features.load_state_dict({k: v.float() for k, v in trunk.items()})
        heads = [tensors.get(f"lin{k}.model.1.weight") for k in range(5)]
        has_heads = all(h is not None and tuple(h.shape) == (1, c, 1, 1) for h, c in zip(heads, CHANNELS))
        if has_heads:
            for lin, h in zip(model.lins, heads):
                lin.weight.copy_(h.float())
    return model.eval(), has_heads, sha256(p)


def _unit(x, eps: float = 1e-10):
    return x / (x.pow(2).sum(1, keepdim=True).sqrt() + eps)


def perceptual(a, b, weights: str | Path | None, device: str = "cpu") -> dict:
    """{'available', 'lpips' (if heads), 'vgg_l1', 'weights_sha256'} averaged over frames, or the reason."""
    import torch

    a, b, _ = _pair(a, b, None)
    try:
        model, has_heads, digest = load(weights)
    except MissingWeights as e:
        return {"available": False, "reason": str(e)}
    model = model.to(device)
    lp, vg = [], []
    with torch.no_grad():
        for t in range(len(a)):
            x, y = (torch.from_numpy(f.astype(np.float32) / 127.5 - 1)[None, None].expand(1, 3, -1, -1).to(device) for f in (a[t], b[t]))
            fx, fy = model.taps(x), model.taps(y)
            vg.append(float(sum((u - v).abs().mean() for u, v in zip(fx, fy))))
            if has_heads:
                lp.append(float(sum(lin((_unit(u) - _unit(v)) ** 2).mean() for lin, u, v in zip(model.lins, fx, fy))))
    out = {"available": True, "vgg_l1": float(np.mean(vg)), "weights_sha256": digest}
    if has_heads:
        out["lpips"] = float(np.mean(lp))
    else:
        out["lpips_reason"] = "weights file has no LPIPS linear heads (lin0..lin4): VGG distance only"
    return out
