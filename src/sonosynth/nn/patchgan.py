"""Spectral-norm PatchGAN discriminator (SN-PatchGAN, hinge loss) as in DeepFill v2.

Every output cell judges one patch, so the adversarial signal covers free-form holes anywhere.
Fed several consecutive frames stacked as channels, it also judges temporal coherence.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


class SNPatchGAN(nn.Module):
    """Stride-2 5×5 spectral-norm convolutions with leaky ReLU; output is a map of patch scores."""

    def __init__(self, cin: int, width: int = 32, layers: int = 6, spectral: bool = True):
        super().__init__()
        norm = spectral_norm if spectral else (lambda conv: conv)  # spectral=False: a plain PatchGAN (probes)
        mods: list[nn.Module] = []
        c = cin
        for i in range(layers):
            cout = width * min(2 ** i, 4)
            mods += [norm(nn.Conv2d(c, cout, 5, stride=2, padding=2)), nn.LeakyReLU(0.2, inplace=True)]
            c = cout
        mods.append(norm(nn.Conv2d(c, 1, 3, padding=1)))
        self.net = nn.Sequential(*mods)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def hinge_d_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    return torch.relu(1.0 - real_scores).mean() + torch.relu(1.0 + fake_scores).mean()


def hinge_g_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    return -fake_scores.mean()
