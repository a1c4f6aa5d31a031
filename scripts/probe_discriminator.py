"""Can a discriminator tell the shipped generator's fills from the truth? Trains one alone and prints its loss.

    .venv/bin/python scripts/probe_discriminator.py [--layers 4] [--width 32] [--steps 300] [--plain] [--hole-only]

Why: in every small-preset run the SN-PatchGAN's hinge loss stays at 2.000, its value when real and
rebuilt windows score alike, so the adversarial term hands the generator no signal. This probe
freezes the shipped generator, draws training windows (non-held-out lung clips, the training
sampler), and trains a fresh discriminator on truth vs fill for `--steps` steps; a loss that falls
well below 2 means that discriminator could teach the generator something. `--plain` drops spectral
norm, `--hole-only` scores only the patches that hold rebuilt pixels.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "lung"


def main() -> None:
    from sonosynth.methods.translate.data import ClipBank, TranslateSamples, list_training_clips
    from sonosynth.methods.translate.module import TranslateModule
    from sonosynth.methods.translate.weights import load_generator
    from sonosynth.nn.patchgan import SNPatchGAN
    from sonosynth.synth.holdout import HELD_OUT_LUNG_CLIPS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--plain", action="store_true", help="no spectral norm")
    ap.add_argument("--hole-only", action="store_true", help="score only the patches that hold rebuilt pixels")
    args = ap.parse_args()
    torch.manual_seed(0)
    generator, cfg, _ = load_generator()
    module = TranslateModule(cfg.override(perceptual="none"))
    module.generator.load_state_dict(generator.state_dict())
    bank = ClipBank(list_training_clips(DATA, HELD_OUT_LUNG_CLIPS))
    windows = iter(DataLoader(TranslateSamples(bank, cfg.crop, cfg.horizon, 0, cfg.temporal_dropout, 10**9),
                              batch_size=cfg.batch))
    disc = SNPatchGAN(3, args.width, args.layers, spectral=not args.plain)
    opt = torch.optim.Adam(disc.parameters(), lr=cfg.lr_d, betas=(0.5, 0.999))
    for step in range(args.steps):
        with torch.no_grad():
            _, _, out, truth, hole, B = module.forward_pair(next(windows))
        real_in, fake_in = module.disc_input(truth, hole, B), module.disc_input(out, hole, B)
        real, fake = disc(real_in), disc(fake_in)
        weight = torch.ones_like(real)
        if args.hole_only:
            weight = nn.functional.adaptive_max_pool2d(real_in[:, 2:3], real.shape[-2:])
        loss = ((torch.relu(1 - real) + torch.relu(1 + fake)) * weight).sum() / weight.sum().clamp(min=1.0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 50 == 0 or step == args.steps - 1:
            print(f"step {step}: hinge loss {loss.item():.4f}, mean score truth {real.mean().item():+.4f}, "
                  f"fill {fake.mean().item():+.4f}", flush=True)


if __name__ == "__main__":
    main()
