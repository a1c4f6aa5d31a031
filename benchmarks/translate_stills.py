"""Real colour-Doppler stills and clips before/after translation, to look at, with what colour is left.

    .venv/bin/python benchmarks/translate_stills.py -o bench-out/stills

For every file of `../shared/data/doppler` with colour flow in its scan sector: a PNG with the input
beside the translation (first frame), and a table: share of the sector rebuilt, and the share of the
sector still coloured after translation (chroma ≥ 40, the Doppler mask's weak-colour level; 0 means
no colour left inside the sector), and how the rebuilt pixels' fine texture compares with the tissue
around them (std of image minus its Gaussian blur σ 1.5, inside the holes over a 6-px ring outside
them; 1 = no texture seam) without and with the added speckle. Colour outside the sector (colour
bars, logos) is kept by design.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sonosynth.clip import Clip  # noqa: E402
from sonosynth.errors import UserError  # noqa: E402
from sonosynth.io import read_clip, write_clip  # noqa: E402
from sonosynth.methods.translate.pipeline import Translator, resize_for_display, translate  # noqa: E402
from sonosynth.preprocess.doppler import CHROMA_LOW, chroma, rebuild_mask  # noqa: E402
from sonosynth.preprocess.sector import sector_mask  # noqa: E402


def texture_seam(grey: np.ndarray, holes: np.ndarray, sector: np.ndarray) -> float:
    """Fine texture inside the holes over that of a 6-px ring of kept tissue around them."""
    f = grey.astype(np.float32)
    fine = f - cv2.GaussianBlur(f, (0, 0), 1.5)
    ring = cv2.dilate(holes.view(np.uint8), np.ones((13, 13), np.uint8)).astype(bool) & ~holes & sector
    inside = holes & sector
    return float(fine[inside].std() / max(fine[ring].std(), 1e-6))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "doppler")
    ap.add_argument("-o", "--out", type=Path, default=Path("bench-out/stills"))
    ap.add_argument("--weights", default=None)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    tr = Translator(args.weights)
    print("| file | frames | size | sector rebuilt % | sector coloured before % | after % "
          "| texture in/around, smooth fill | with speckle |\n|---|---|---|---|---|---|---|---|")
    for path in sorted(args.data.iterdir()):
        try:
            clip = read_clip(path)
        except UserError:
            continue  # licence texts and the like
        holes = rebuild_mask(clip)
        if not clip.is_rgb or not holes.any() or "boxmask" in path.name:
            continue
        sector = sector_mask(clip)
        out = translate(clip, holes=holes, translator=tr)
        smooth = translate(clip, holes=holes, translator=tr, speckle=False)
        coloured = lambda c: 100 * float((chroma(c.rgb()[0]) >= CHROMA_LOW)[sector].mean())  # noqa: E731
        print(f"| {path.name} | {clip.n_frames} | {clip.width}x{clip.height} | {100 * holes[0][sector].mean():.2f} "
              f"| {coloured(clip):.2f} | {coloured(out):.3f} | {texture_seam(smooth.grey()[0], holes[0], sector):.2f} "
              f"| {texture_seam(out.grey()[0], holes[0], sector):.2f} |")
        pair = np.concatenate([resize_for_display(clip.rgb()[:1], 640), resize_for_display(out.rgb()[:1], 640)], axis=2)
        write_clip(Clip(pair, fps=1.0), args.out / f"{path.stem}_before_after.png", overwrite=True)


if __name__ == "__main__":
    main()
