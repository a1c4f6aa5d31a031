"""LightningModule: manual GAN optimisation of the two-stage generator and the SN-PatchGAN."""
from __future__ import annotations

import copy
from pathlib import Path

import lightning as L
import numpy as np
import torch

from ...nn.patchgan import hinge_d_loss, hinge_g_loss
from .config import TranslateConfig
from .model import Generator, make_discriminator
from .temporal import network_inputs, nothing_known

def masked_l1(a: torch.Tensor, b: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    return (torch.abs(a - b) * weight).sum() / weight.sum().clamp(min=1.0)


def drop_temporal(x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """Replace the temporal channels of samples with keep=False by 'nothing known' (the frame-by-frame mode)."""
    blank = nothing_known(x[:, :, :2])
    k = keep.view(-1, 1, 1, 1, 1)
    return torch.cat([x[:, :, :2], torch.where(k, x[:, :, 2:], blank)], dim=2)


class TranslateModule(L.LightningModule):
    """Pixel (hole and valid L1, both stages) + temporal consistency + hinge adversarial + perceptual losses."""

    def __init__(self, cfg: TranslateConfig, run_dir: str | None = None):
        super().__init__()
        self.save_hyperparameters({"cfg": cfg.to_dict(), "run_dir": run_dir})
        self.cfg = cfg
        self.run_dir = Path(run_dir) if run_dir else None
        self.automatic_optimization = False
        torch.manual_seed(cfg.seed)
        self.generator = Generator(cfg)
        self.discriminator = make_discriminator(cfg)
        # the exported generator when cfg.ema > 0: an average over steps smooths out step-to-step swings
        self.generator_ema = copy.deepcopy(self.generator).requires_grad_(False) if cfg.ema > 0 else None
        from ...nn.perceptual import load_perceptual

        # kept out of the module's state: the frozen network is rebuilt from its package, not checkpointed
        object.__setattr__(self, "perceptual", load_perceptual(cfg.perceptual) if cfg.w_perceptual > 0 else None)

    def on_fit_start(self) -> None:
        if self.perceptual is not None:
            self.perceptual.to(self.device)

    def configure_optimizers(self):
        g = torch.optim.Adam(self.generator.parameters(), lr=self.cfg.lr, betas=(0.5, 0.999))
        d = torch.optim.Adam(self.discriminator.parameters(), lr=self.cfg.lr_d, betas=(0.5, 0.999))
        return [g, d]

    def forward_pair(self, batch: dict[str, torch.Tensor]):
        """Run the generator on the two centre frames of each window; return what the losses need."""
        h = self.cfg.horizon
        frames, holes = batch["frames"], batch["holes"]
        centre = slice(h, h + 2)
        x = network_inputs(batch["seen"], holes, centre, h, temporal=self.cfg.temporal, priors=batch.get("priors"))
        x = drop_temporal(x, batch["temporal"] & self.cfg.temporal)
        B = x.shape[0]
        coarse, refined = self.generator(x.flatten(0, 1))
        truth = frames[:, centre].reshape(B * 2, 1, *frames.shape[2:])
        hole = holes[:, centre].reshape(B * 2, 1, *frames.shape[2:]).float()
        out = refined * hole + truth * (1 - hole)
        return coarse, refined, out, truth, hole, B

    @staticmethod
    def pairs(t: torch.Tensor, B: int) -> torch.Tensor:
        return t.view(B, 2, *t.shape[1:])

    def disc_input(self, out: torch.Tensor, hole: torch.Tensor, B: int) -> torch.Tensor:
        o, m = self.pairs(out, B), self.pairs(hole, B)
        return torch.cat([o[:, 0], o[:, 1], torch.maximum(m[:, 0], m[:, 1])], dim=1)

    def training_step(self, batch, batch_idx):
        opt_g, opt_d = self.optimizers()
        cfg = self.cfg
        coarse, refined, out, truth, hole, B = self.forward_pair(batch)
        # discriminator
        real_in = self.disc_input(truth, hole, B)
        fake_in = self.disc_input(out.detach(), hole, B)
        d_loss = hinge_d_loss(self.discriminator(real_in), self.discriminator(fake_in))
        opt_d.zero_grad(set_to_none=True)
        self.manual_backward(d_loss)
        opt_d.step()
        # generator
        l_hole = masked_l1(coarse, truth, hole) + masked_l1(refined, truth, hole)
        l_valid = masked_l1(coarse, truth, 1 - hole) + masked_l1(refined, truth, 1 - hole)
        o, t, m = self.pairs(out, B), self.pairs(truth, B), self.pairs(hole, B)
        l_temporal = masked_l1(o[:, 1] - o[:, 0], t[:, 1] - t[:, 0], torch.maximum(m[:, 0], m[:, 1]))
        l_adv = hinge_g_loss(self.discriminator(self.disc_input(out, hole, B)))
        loss = cfg.w_hole * l_hole + cfg.w_valid * l_valid + cfg.w_temporal * l_temporal + cfg.w_adv * l_adv
        l_perc = torch.zeros(())
        if self.perceptual is not None:
            l_perc = self.perceptual(o.squeeze(2), t.squeeze(2))
            loss = loss + cfg.w_perceptual * l_perc
        opt_g.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        opt_g.step()
        self.update_ema()
        self.log_dict({"loss": loss.detach(), "hole_l1": l_hole.detach(), "valid_l1": l_valid.detach(),
                       "temporal_l1": l_temporal.detach(), "adv_g": l_adv.detach(), "perceptual": l_perc.detach(),
                       "d_loss": d_loss.detach()}, prog_bar=False, on_step=True)
        if self.run_dir is not None and batch_idx == 0 and self.global_rank == 0:
            self.save_preview(batch, out, B)

    @torch.no_grad()
    def update_ema(self) -> None:
        """Running average of the generator; the decay ramps up over the first steps so early weights fade."""
        if self.generator_ema is None:
            return
        step = self.global_step // 2  # two optimiser steps (G and D) per training step
        decay = min(self.cfg.ema, (1 + step) / (10 + step))
        for avg, new in zip(self.generator_ema.state_dict().values(), self.generator.state_dict().values()):
            avg.copy_(avg * decay + new * (1 - decay) if avg.is_floating_point() else new)

    @torch.no_grad()
    def save_preview(self, batch, out: torch.Tensor, B: int) -> None:
        """A PNG per epoch: input with hole, output, truth (first samples of the batch)."""
        from PIL import Image

        h = self.cfg.horizon
        rows = []
        for i in range(min(B, 4)):
            truth = batch["frames"][i, h]
            hole = batch["holes"][i, h]
            shown = torch.where(hole, torch.ones_like(truth), truth)
            rows.append(torch.cat([shown, out.view(B, 2, *out.shape[1:])[i, 0, 0], truth], dim=1))
        img = ((torch.cat(rows, 0).clamp(-1, 1) + 1) * 127.5).round().byte().cpu().numpy()
        folder = self.run_dir / "previews"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(folder / f"epoch{self.current_epoch:04d}.png")

    def generator_state(self) -> dict[str, torch.Tensor]:
        """The weights to export: the running average when there is one."""
        gen = self.generator_ema if self.generator_ema is not None else self.generator
        return {k: v.detach().cpu().contiguous() for k, v in gen.state_dict().items()}


def seed_everything(seed: int) -> None:
    np.random.seed(seed)
    torch.manual_seed(seed)
