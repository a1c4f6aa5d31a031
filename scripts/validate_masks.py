"""Check a change to the Doppler mask on painted *training* lung clips (never the held-out ones).

    .venv/bin/python scripts/validate_masks.py [--clips 24] [--seeds 10 11] [--gain 1] [--box-shape auto] [--set [MODULE.]NAME=VALUE ...]

Each training clip (every third of the lung set's non-held-out clips, then the ones after them, up to
`--clips`) gets CFD painted (first 40 frames), written lossless (FFV1) and as H.264 crf 23, read back
once (`--gain 0.05`: the grey darkened to a twentieth first, like a frame grabber's near-black
recording, with the painted colour and outline at full strength). Per codec it prints the mean IoU
of `doppler_mask` with the painter's mask, and what truth put into `rebuild_mask`'s holes would score
over the painted pixels (PSNR of the mean of the cases' squared errors): a painted pixel the holes
miss stays in the output, and an outline pixel left there is a line ~150 grey levels too bright,
which IoU hardly weighs. `--set` overrides constants of `sonosynth.preprocess.doppler` (or, named
`box_sides.NAME`, `box_arcs.NAME` or `box_runs.NAME`, of those modules) for a second column, computed on the same decoded clips, so that
the two columns see the same encoder output.
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


def training_clips(count: int) -> list[str]:
    from select_checkpoint import DATA
    from sonosynth.synth.holdout import is_held_out

    names = [p.name for p in sorted((DATA / "lung").iterdir()) if p.suffix != ".csv" and not is_held_out(p.name)]
    return (names[::3] + names[1::3] + names[2::3])[:count]


def scores(clip, painted: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """(mask IoU, squared error over the painted pixels of truth put into the holes)."""
    from sonosynth.preprocess.doppler import doppler_mask, rebuild_mask

    found = doppler_mask(clip)
    missed = painted & ~rebuild_mask(clip)
    err = (clip.grey().astype(np.float64) - truth)[missed]
    return float((found & painted).sum() / max((found | painted).sum(), 1)), float((err**2).sum() / painted.sum())


def main() -> None:
    from select_checkpoint import DATA
    from sonosynth.clip import Clip
    from sonosynth.io import read_clip, write_clip
    from sonosynth.preprocess import box_arcs, box_runs, box_sides, doppler
    from sonosynth.synth.overlay import paint_cfd

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=24)
    ap.add_argument("--seeds", type=int, nargs="+", default=[10, 11])
    ap.add_argument("--gain", type=float, default=1.0, help="scale the grey by this before painting (dark clips)")
    ap.add_argument("--box-shape", default="auto", help="the painter's box shape (auto, rect, sector, annulus)")
    ap.add_argument("--set", nargs="*", default=[], metavar="[MODULE.]NAME=VALUE", help="constants of doppler (or of box_sides, box_arcs, box_runs as MODULE.NAME) for a second column")
    args = ap.parse_args()
    overrides = {k: float(v) if "." in v else int(v) for k, v in (s.split("=", 1) for s in args.set)}
    modules = {"doppler": doppler, "box_sides": box_sides, "box_arcs": box_arcs, "box_runs": box_runs}

    def owner(name: str):  # "NAME" is doppler's, "MODULE.NAME" that module's (box_sides, box_arcs, box_runs)
        module, _, constant = name.rpartition(".")
        if module not in ("", *modules) or not hasattr(modules[module or "doppler"], constant):
            raise SystemExit(f"no constant {name} in sonosynth.preprocess.{module or 'doppler'}")
        return modules[module or "doppler"], constant

    for name in overrides:
        owner(name)
    defaults = {name: getattr(*owner(name)) for name in overrides}
    columns = {"as shipped": defaults} | ({"with " + " ".join(args.set): overrides} if overrides else {})
    results: dict[str, dict[str, list[tuple[float, float]]]] = {c: {} for c in columns}
    with tempfile.TemporaryDirectory() as tmp:
        for name in training_clips(args.clips):
            src = read_clip(DATA / "lung" / name)
            for seed in args.seeds:
                grey = np.clip(np.rint(src.grey()[:40] * args.gain), 0, 255).astype(np.uint8)
                rgb, painted, truth = paint_cfd(grey, seed=seed, fps=src.fps, box_shape=args.box_shape)
                for codec, suffix in (("lossless", ".mkv"), ("H.264", ".mp4")):
                    write_clip(Clip(rgb, fps=src.fps), Path(tmp) / f"case{suffix}", overwrite=True)
                    clip = read_clip(Path(tmp) / f"case{suffix}")
                    for column, values in columns.items():
                        for key, value in values.items():
                            setattr(*owner(key), value)
                        results[column].setdefault(codec, []).append(scores(clip, painted, truth))
                    for key, value in defaults.items():
                        setattr(*owner(key), value)
            print(f"  {name}: done", file=sys.stderr)
    print("| masks | " + " | ".join(f"{codec}: IoU, truth in holes dB" for codec in ("lossless", "H.264")) + " |")
    print("|---|---|---|")
    for column, by_codec in results.items():
        cells = []
        for codec in ("lossless", "H.264"):
            r = np.array(by_codec[codec])
            cells.append(f"{r[:, 0].mean():.4f}, {10 * np.log10(255.0**2 / max(r[:, 1].mean(), 1e-10)):.1f}")
        print(f"| {column} ({len(r)} cases) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
