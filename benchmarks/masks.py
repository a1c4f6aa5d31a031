"""Doppler-mask acceptance benchmark: prints one table.

Painted clips: the synthesiser paints CFD on the held-out lung clips (never used for tuning)
with several seeds; we score `doppler_mask` against the exact painted mask after a lossless
write (FFV1 .mkv) and after H.264 (yuv420p, crf 23), both through sonosynth's own writer and
reader. Baseline: a naive "any saturated pixel" threshold (chroma > 30). Also: colour-box IoU
on the apical echo still with its hand mask, false positives on three greyscale carotid
screenshots, and the Doppler fraction of real colour stills (previews saved for inspection).

    python benchmarks/masks.py [--data ../shared/data] [--frames 60] [--seeds 0 1] [--previews DIR]
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from sonosynth.clip import Clip
from sonosynth.commands.doppler import write_preview
from sonosynth.io import read_clip, write_clip
from sonosynth.preprocess.doppler import chroma, colour_box, doppler_mask
from sonosynth.preprocess.sector import sector_mask
from sonosynth.synth.holdout import HELD_OUT_LUNG_CLIPS
from sonosynth.synth.overlay import paint_cfd

ROOT = Path(__file__).resolve().parents[1]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def naive(clip: Clip) -> np.ndarray:
    return chroma(clip.rgb()) > 30 if clip.is_rgb else np.zeros(clip.frames.shape[:3], bool)


def painted_rows(data: Path, frames: int, seeds: list[int], tmp: Path) -> list[tuple]:
    rows = []
    for name in HELD_OUT_LUNG_CLIPS:
        src = read_clip(data / "lung" / name)
        grey = src.grey()[:frames]
        grey = grey[:, : grey.shape[1] // 2 * 2, : grey.shape[2] // 2 * 2]  # even sides: H.264 keeps every pixel
        for seed in seeds:
            rgb, truth, _ = paint_cfd(grey, seed, src.fps, style="cfd" if seed % 2 == 0 else "power")
            for kind, ext in (("lossless", ".mkv"), ("h264", ".mp4")):
                path = tmp / f"{name}.{seed}{ext}"
                write_clip(Clip(rgb, fps=src.fps), path, overwrite=True)
                back = read_clip(path)
                rows.append((name, seed, kind, iou(doppler_mask(back), truth), iou(naive(back), truth)))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--frames", type=int, default=60, help="frames painted per clip")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--previews", type=Path, default=None, help="folder for preview PNGs of the real stills")
    args = ap.parse_args()
    dop = args.data / "doppler"
    with tempfile.TemporaryDirectory() as tmp:
        rows = painted_rows(args.data, args.frames, args.seeds, Path(tmp))
    print("| test | sonosynth | naive chroma>30 | target |")
    print("|---|---|---|---|")
    for kind, target in (("lossless", 0.95), ("h264", 0.90)):
        ours = [r[3] for r in rows if r[2] == kind]
        base = [r[4] for r in rows if r[2] == kind]
        print(f"| painted held-out lung, {kind}: mean IoU (min) over {len(ours)} | {np.mean(ours):.3f} ({min(ours):.3f}) "
              f"| {np.mean(base):.3f} ({min(base):.3f}) | >= {target} |")
    apical = read_clip(dop / "cfd_apical_img7.jpg")
    hand = read_clip(dop / "cfd_apical_img7_boxmask.png").grey()[0] > 127
    hull = naive(apical)[0]
    print(f"| apical colour-box IoU | {iou(colour_box(apical), hand):.3f} | {iou(hull, hand):.3f} (saturated pixels) | >= 0.90 |")
    for p in sorted(dop.glob("2015*VAS.png")):
        clip = read_clip(p)
        sec = sector_mask(clip)
        ours, base = doppler_mask(clip)[0], naive(clip)[0]
        print(f"| {p.name}: Doppler in sector | {100 * (ours & sec).sum() / sec.sum():.3f} % "
              f"| {100 * (base & sec).sum() / sec.sum():.3f} % | < 0.5 % |")
    for name in ("US1_UNCR.dcm", "color-pl.dcm", "201711081140010077VAS.png"):
        clip = read_clip(dop / name)
        m = doppler_mask(clip)
        print(f"| {name}: Doppler fraction of frame | {m.mean():.4f} | {naive(clip).mean():.4f} | (look at preview) |")
        if args.previews is not None:
            args.previews.mkdir(parents=True, exist_ok=True)
            write_preview(clip, m, args.previews / f"{Path(name).stem}_mask.png", overwrite=True)


if __name__ == "__main__":
    main()
