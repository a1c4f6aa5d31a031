"""Pick a training run's checkpoint by validation on painted *training* clips (never the held-out ones).

    .venv/bin/python scripts/select_checkpoint.py runs/translate-small

Scores every epoch checkpoint on four lung clips from the training set, painted with seeds the
training never drew (100, 101), 40 frames each, holes = the painted mask: masked PSNR and flicker ratio.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
VALIDATION_CLIPS = ("convex_Reg_pat1Image_133043.mpeg", "linear_Reg_Image_18122_crop.mp4",
                    "convex_Cov_convex_volpecelli_sonographic_v2.mov", "linear_Vir_prospective_file1.mp4")


def main() -> None:
    from sonosynth.clip import Clip
    from sonosynth.io import read_clip
    from sonosynth.methods.translate.pipeline import Translator, translate
    from sonosynth.methods.translate.scoring import translation_scores
    from sonosynth.methods.translate.train import export_checkpoint
    from sonosynth.synth.holdout import is_held_out
    from sonosynth.synth.overlay import paint_cfd

    run = Path(sys.argv[1])
    data = ROOT.parent / "shared" / "data" / "lung"
    clips = [n for n in VALIDATION_CLIPS if not is_held_out(n)]
    cases = []
    for name in clips:
        grey = read_clip(data / name).grey()[:40]
        for seed in (100, 101):
            cfd, mask, truth = paint_cfd(grey, seed=seed, fps=30.0)
            cases.append((Clip(cfd, fps=30.0), mask, truth))
    with tempfile.TemporaryDirectory() as tmp:
        for ckpt in sorted((run / "checkpoints").glob("epoch*.ckpt")):
            w = export_checkpoint(ckpt, Path(tmp) / f"{ckpt.stem}.safetensors")
            tr = Translator(w)
            s = [translation_scores(translate(c, holes=m, translator=tr).grey(), t, m) for c, m, t in cases]
            print(f"{ckpt.name}: masked PSNR {np.mean([x['psnr'] for x in s]):.2f} dB, "
                  f"flicker {np.mean([x['flicker'] for x in s]):.2f}, box SSIM {np.mean([x['box_ssim'] for x in s]):.3f}")


if __name__ == "__main__":
    main()
