"""Compare settings of the temporal stabiliser (`pipeline.stabilise`) on painted *training* clips.

    .venv/bin/python scripts/validate_stabiliser.py [--weights W]

The four validation clips of `select_checkpoint.py`, 40 frames, as recorded ("still") and with
synthetic tissue motion ("moving"), seeds 100 and 101, written lossless (FFV1) and as H.264 crf 23,
read back, holes detected by `rebuild_mask`: what the benchmark does, on clips it never scores.
Prints masked PSNR / flicker ratio per setting. H.264 figures move by about ±0.2 dB between runs
(the encoder is not bit-reproducible from one process to the next); compare settings within a run.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

SETTINGS = {  # name: (centre weight, gain); gain 0 turns the stabiliser off
    "none": (2.0, 0.0),
    "adaptive, gain 1": (2.0, 1.0),
    "adaptive, gain 2 (shipped)": (2.0, 2.0),
    "adaptive, gain 2, centre 1": (1.0, 2.0),
}


def cases(work: Path):
    from select_checkpoint import DATA, VALIDATION_CLIPS
    from sonosynth.clip import Clip
    from sonosynth.io import read_clip, write_clip
    from sonosynth.methods.translate.data import tissue_motion
    from sonosynth.preprocess.doppler import rebuild_mask
    from sonosynth.synth.overlay import paint_cfd

    for k, name in enumerate(VALIDATION_CLIPS):
        clip = read_clip(DATA / "lung" / name)
        grey = clip.grey()[:40]
        moved = tissue_motion(grey.astype(np.float32), np.random.default_rng(1000 + k)).round().astype(np.uint8)
        for kind, frames in (("still", grey), ("moving", moved)):
            for seed in (100, 101):
                cfd, mask, truth = paint_cfd(frames, seed=seed, fps=clip.fps)
                for codec, suffix in (("lossless", ".mkv"), ("H.264", ".mp4")):
                    write_clip(Clip(cfd, fps=clip.fps), work / f"case{suffix}", overwrite=True)
                    coded = read_clip(work / f"case{suffix}")
                    yield f"{kind}, {codec}", coded, rebuild_mask(coded), mask, truth


def main() -> None:
    from sonosynth.methods.translate import pipeline
    from sonosynth.methods.translate.scoring import translation_scores

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default=None, help="default: the shipped small model")
    args = ap.parse_args()
    translator = pipeline.Translator(args.weights)
    scores: dict[str, dict[str, list[dict]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for group, clip, holes, mask, truth in cases(Path(tmp)):
            for setting, (centre, gain) in SETTINGS.items():
                pipeline.STABILISER_CENTRE, pipeline.STABILISER_GAIN = centre, gain
                out = pipeline.translate(clip, holes=holes, translator=translator).grey()
                scores.setdefault(setting, {}).setdefault(group, []).append(translation_scores(out, truth, mask))
    groups = list(next(iter(scores.values())))
    print("| setting | " + " | ".join(groups) + " |\n|---|" + "---|" * len(groups))
    for setting, by_group in scores.items():
        cells = [f"{np.mean([s['psnr'] for s in by_group[g]]):.2f} / {np.mean([s['flicker'] for s in by_group[g]]):.2f}" for g in groups]
        print(f"| {setting} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
