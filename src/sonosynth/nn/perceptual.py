"""Perceptual losses from real pretrained networks: Kinetics-400 I3D (spatio-temporal) or a user's VGG-16.

Inputs are frames in [-1, 1] shaped (B, T, H, W); features are compared with L1, layer by layer.
No random-weight substitute: a missing network is an error the user sees.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import MissingWeights

VGG16_CONVS = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512)
VGG_LAYERS = (3, 8, 15)  # relu1_2, relu2_2, relu3_3 in torchvision's `features` numbering


class VGGFeatures(nn.Module):
    """VGG-16 `features` up to relu3_3, loaded from a safetensors file with torchvision's key names."""

    def __init__(self, weights: Path):
        super().__init__()
        layers: list[nn.Module] = []
        cin = 3
        for v in VGG16_CONVS:
            if v == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                layers += [nn.Conv2d(cin, v, 3, padding=1), nn.ReLU(inplace=False)]
                cin = v
        self.features = nn.Sequential(*layers[: max(VGG_LAYERS) + 1])
        from safetensors.torch import load_file

        try:
            state = load_file(str(weights))
        except Exception as e:
            raise MissingWeights(f"cannot read VGG weights {weights}: {e}") from None
        state = {k: v for k, v in state.items() if k.startswith("features.") and int(k.split(".")[1]) <= max(VGG_LAYERS)}
        missing = self.load_state_dict(state, strict=False).missing_keys
        if missing:
            raise MissingWeights(f"VGG weights {weights} lack {len(missing)} tensors (e.g. {missing[0]})")
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        self.requires_grad_(False).eval()

    def forward(self, frames: torch.Tensor) -> list[torch.Tensor]:
        x = ((frames.flatten(0, 1).unsqueeze(1).repeat(1, 3, 1, 1) + 1) / 2 - self.mean) / self.std
        feats = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in VGG_LAYERS:
                feats.append(x)
        return feats


class I3DFeatures(nn.Module):
    """Early and middle layers of the Kinetics-400 I3D that FVD uses: motion-aware texture features."""

    def __init__(self):
        super().__init__()
        from .i3d import max_pool_same, pretrained_i3d_stem

        self.net = pretrained_i3d_stem("Mixed_3b")
        self.pool = max_pool_same

    def forward(self, frames: torch.Tensor) -> list[torch.Tensor]:
        x = frames.unsqueeze(1).repeat(1, 3, 1, 1, 1)  # (B, 3, T, H, W) in [-1, 1]
        early = self.net.conv1(x)
        middle = self.net.conv2c(self.net.conv2b(self.pool(early, (1, 3, 3), (1, 2, 2))))
        mixed = self.net.blocks["Mixed_3b"](self.pool(middle, (1, 3, 3), (1, 2, 2)))
        return [early, middle, mixed]


class PerceptualLoss(nn.Module):
    def __init__(self, features: nn.Module):
        super().__init__()
        self.features = features

    def train(self, mode: bool = True):  # the pretrained network always stays in eval mode
        super().train(mode)
        self.features.eval()
        return self

    def forward(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            real_feats = self.features(real)
        fake_feats = self.features(fake)
        return sum(F.l1_loss(f, r) for f, r in zip(fake_feats, real_feats)) / len(fake_feats)


def check_perceptual(spec: str) -> None:
    """Refuse a perceptual network that names neither a packaged one nor a file (before a run folder is made)."""
    if spec not in ("none", "i3d") and not Path(spec).is_file():
        raise MissingWeights(f"perceptual network {spec!r}: not 'i3d', 'none' or an existing VGG-16 safetensors file")


def load_perceptual(spec: str) -> PerceptualLoss | None:
    """'none' → None; 'i3d' → the packaged Kinetics-400 I3D; otherwise a path to VGG-16 safetensors."""
    check_perceptual(spec)
    if spec == "none":
        return None
    if spec == "i3d":
        return PerceptualLoss(I3DFeatures())
    return PerceptualLoss(VGGFeatures(Path(spec)))
