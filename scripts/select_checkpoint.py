"""Pick a training run's checkpoint by validation on painted *training* clips (never the held-out ones).

    .venv/bin/python scripts/select_checkpoint.py runs/translate-small [more runs or .safetensors ...]

Scores every epoch checkpoint of each run (and any weights file named) on four lung clips from the
training set, 40 frames each, painted with seeds the training never drew (100, 101), holes = the
painted mask: masked PSNR and flicker ratio, on the clips as recorded ("still") and with a smooth
synthetic tissue motion under the fixed colour box ("moving", `data.tissue_motion`), which stands in for
cardiac and hand-held clips the lung set has few of; and "other domain": PLUS's 5-frame Ultrasonix
sequence (another scanner and anatomy, too short for the benchmark, which takes PLUS sequences of 8
frames or more). The rule: highest "still" masked PSNR among checkpoints whose "still" flicker ratio
is within 0.8-1.25; the "moving" and "other domain" scores are information (the moving flicker did
not predict the held-out flicker: docs/translate.md).
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
OTHER_DOMAIN_CLIP = "UltrasonixCurvilinearScanConvertedData.igs.mha"  # PLUS, 5 frames: not in the benchmark
VALIDATION_CLIPS = ("convex_Reg_pat1Image_133043.mpeg", "linear_Reg_Image_18122_crop.mp4",
                    "convex_Cov_convex_volpecelli_sonographic_v2.mov", "linear_Vir_prospective_file1.mp4")


def validation_cases() -> dict[str, list]:
    from sonosynth.clip import Clip
    from sonosynth.io import read_clip
    from sonosynth.methods.translate.data import tissue_motion
    from sonosynth.synth.holdout import is_held_out
    from sonosynth.synth.overlay import paint_cfd

    data = DATA / "lung"
    cases: dict[str, list] = {"still": [], "moving": []}
    for k, name in enumerate(n for n in VALIDATION_CLIPS if not is_held_out(n)):
        grey = read_clip(data / name).grey()[:40]
        moved = tissue_motion(grey.astype(np.float32), np.random.default_rng(1000 + k)).round().astype(np.uint8)
        for kind, frames in (("still", grey), ("moving", moved)):
            for seed in (100, 101):
                cfd, mask, truth = paint_cfd(frames, seed=seed, fps=30.0)
                cases[kind].append((Clip(cfd, fps=30.0), mask, truth))
    plus = DATA / "plus" / OTHER_DOMAIN_CLIP
    if plus.is_file():
        clip = read_clip(plus)
        cases["other domain"] = [(Clip(cfd, fps=clip.fps), mask, truth) for cfd, mask, truth in
                                 (paint_cfd(clip.grey(), seed=s, fps=clip.fps) for s in (100, 101, 102, 103))]
    return cases


def main() -> None:
    from sonosynth.methods.translate.pipeline import Translator, translate
    from sonosynth.methods.translate.scoring import translation_scores
    from sonosynth.methods.translate.train import export_checkpoint

    cases = validation_cases()
    with tempfile.TemporaryDirectory() as tmp:
        candidates = []
        for arg in map(Path, sys.argv[1:]):
            if arg.suffix == ".safetensors":
                candidates.append((str(arg), arg))
            for ckpt in sorted((arg / "checkpoints").glob("epoch*.ckpt")) if arg.is_dir() else ():
                candidates.append((f"{arg.name}/{ckpt.name}", export_checkpoint(ckpt, Path(tmp) / f"{arg.name}-{ckpt.stem}.safetensors")))
        for label, weights in candidates:
            tr = Translator(weights)
            parts = []
            for kind, kind_cases in cases.items():
                s = [translation_scores(translate(c, holes=m, translator=tr).grey(), t, m) for c, m, t in kind_cases]
                parts.append(f"{kind}: masked PSNR {np.mean([x['psnr'] for x in s]):.2f} dB, "
                             f"flicker {np.mean([x['flicker'] for x in s]):.2f}, box SSIM {np.mean([x['box_ssim'] for x in s]):.3f}")
            print(f"{label}: " + " | ".join(parts), flush=True)


if __name__ == "__main__":
    main()
