"""Gated convolutions (DeepFill v2): each layer yields features and a soft gate, out = act(f) * sigmoid(g).

The gate lets a layer learn, per pixel, how much of a free-form hole to trust, which plain
convolutions (or partial convolutions with a hard rule) cannot.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class GatedConv2d(nn.Module):
    """One convolution producing 2·out channels split into features and gate ('same' padding)."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, stride: int = 1, dilation: int = 1, activation: bool = True):
        super().__init__()
        pad = dilation * (kernel - 1) // 2
        self.conv = nn.Conv2d(cin, 2 * cout, kernel, stride=stride, padding=pad, dilation=dilation)
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f, g = self.conv(x).chunk(2, dim=1)
        if self.activation:
            f = F.elu(f)
        return f * torch.sigmoid(g)


class GatedUp2d(nn.Module):
    """Nearest ×2 upsampling followed by a gated convolution (no checkerboard artefacts)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = GatedConv2d(cin, cout, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class DilatedStack(nn.Module):
    """Gated convolutions with growing dilation: context from far across a large hole at low cost."""

    def __init__(self, channels: int, dilations: tuple[int, ...]):
        super().__init__()
        self.layers = nn.ModuleList(GatedConv2d(channels, channels, 3, dilation=d) for d in dilations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = x + layer(x)
        return x
