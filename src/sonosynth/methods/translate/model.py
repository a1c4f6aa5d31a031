"""Two-stage gated-convolution generator (coarse structure, then speckle refinement) and its discriminator.

Follows Tomic et al. (DeepFill v2 lineage): a coarse network rebuilds the anatomy under the hole,
a refinement network restores realistic texture. sonosynth's networks also see the temporal
channels of `temporal.network_inputs` (neighbouring frames and pixels visible in other frames).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ...nn.gated import DilatedStack, GatedConv2d, GatedUp2d
from ...nn.patchgan import SNPatchGAN
from . import baselines
from .config import TranslateConfig
from .temporal import N_INPUTS, smooth_fill

PRIOR_CHANNELS = slice(6, 10)  # nearest visible past/future values and distances


def seen_elsewhere(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The hole pixel as seen in the nearest past/future frame where it is visible (the closer weighs more),
    and whether it was seen at all; from the prior channels of the network input."""
    past, past_d, future, future_d = x[:, PRIOR_CHANNELS].chunk(4, dim=1)
    wp, wf = 1 - past_d, 1 - future_d  # 0 where nothing was found
    total = wp + wf
    seen = (wp * past + wf * future) / total.clamp(min=1e-6)
    return seen, (total > 0).to(x.dtype)


class CoarseNet(nn.Module):
    """Encoder to ¼ resolution, dilated gated context, decoder with additive skips.

    Its own estimate is a learnt correction of a classical spatial fill (`spatial_fill`); its output blends,
    per pixel, that estimate with the pixel seen in another frame by a learnt trust: copying what was
    visible is easy to learn, and the network learns when tissue moved too much."""

    def __init__(self, cin: int, w: int, dilations: tuple[int, ...], base_fill: str = "pushpull"):
        super().__init__()
        self.base_fill = base_fill
        self.e1 = GatedConv2d(cin, w, 3)
        self.e2 = GatedConv2d(w, 2 * w, 3, stride=2)
        self.e3 = GatedConv2d(2 * w, 4 * w, 3, stride=2)
        self.context = DilatedStack(4 * w, dilations)
        self.u2 = GatedUp2d(4 * w, 2 * w)
        self.u1 = GatedUp2d(2 * w, w)
        self.out = nn.Conv2d(w, 2, 3, padding=1)  # a correction of the spatial fill, and a trust in other frames
        with torch.no_grad():
            self.out.weight[0].mul_(0.1)
            self.out.bias[0] = 0.0
            self.out.bias[1] = 2.0  # start by trusting a pixel seen in another frame

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s1 = self.e1(x)
        s2 = self.e2(s1)
        y = self.context(self.e3(s2))
        y = self.u2(y) + s2
        y = self.u1(y) + s1
        correction, gate = self.out(y).chunk(2, dim=1)
        seen, known = seen_elsewhere(x)
        own = (spatial_fill(x[:, 0:1], x[:, 1:2] > 0.5, self.base_fill) + correction).clamp(-1, 1)
        trust = torch.sigmoid(gate) * known
        return trust * seen + (1 - trust) * own


def spatial_fill(frames: torch.Tensor, holes: torch.Tensor, method: str) -> torch.Tensor:
    """The classical fill the coarse network corrects: "pushpull" (`smooth_fill`, in torch) or
    "navier-stokes" (OpenCV's, on 8-bit frames: it carries edges into the hole, which push-pull blurs).
    An input, not a learnt part: no gradient flows through it."""
    if method == "pushpull":  # the config admits only these two (config.BASE_FILLS)
        return smooth_fill(frames, holes)
    grey = ((frames.detach()[:, 0].float().cpu().numpy() + 1.0) * 127.5).round().clip(0, 255).astype(np.uint8)
    filled = baselines.navier_stokes(grey, holes[:, 0].cpu().numpy())
    return torch.from_numpy(filled).to(frames.device, frames.dtype)[:, None] / 127.5 - 1.0


class RefineNet(nn.Module):
    """Texture stage at ½ resolution with a dilated branch; predicts a correction of the coarse result."""

    def __init__(self, cin: int, w: int, dilations: tuple[int, ...]):
        super().__init__()
        self.e1 = GatedConv2d(cin, w, 3)
        self.e2 = GatedConv2d(w, 2 * w, 3, stride=2)
        self.context = DilatedStack(2 * w, dilations)
        self.u1 = GatedUp2d(2 * w, w)
        self.out = nn.Conv2d(w, 1, 3, padding=1)
        nn.init.zeros_(self.out.weight)  # starts as the identity on the coarse result
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s1 = self.e1(x)
        y = self.context(self.e2(s1))
        y = self.u1(y) + s1
        return self.out(y)


class Generator(nn.Module):
    """Maps network inputs (N, 10, H, W) to (coarse, refined) frames in [-1, 1]; H and W multiples of 4."""

    def __init__(self, cfg: TranslateConfig):
        super().__init__()
        self.coarse = CoarseNet(N_INPUTS, cfg.width, cfg.dilations, cfg.base_fill)
        self.refine = RefineNet(2 + 4, cfg.refine_width, cfg.dilations[:2])

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        frame, hole = x[:, 0:1], x[:, 1:2]
        coarse = self.coarse(x)
        composite = coarse * hole + frame * (1.0 - hole)
        refined = torch.tanh(torch.atanh(composite.clamp(-0.999, 0.999)) + self.refine(torch.cat([composite, hole, x[:, PRIOR_CHANNELS]], 1)))
        return coarse, refined


def make_discriminator(cfg: TranslateConfig) -> SNPatchGAN:
    """Judges two consecutive frames and their hole (3 channels): texture and temporal coherence at once."""
    return SNPatchGAN(3, width=cfg.disc_width, layers=4 if cfg.crop <= 128 else 6)
