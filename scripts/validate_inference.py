"""Compare inference settings of the translation pipeline on painted *training* clips.

    .venv/bin/python scripts/validate_inference.py [--weights W [W ...]] [--seeds 100 101] [--only NAME ...]

Settings: the temporal stabiliser (`pipeline.stabilise`: centre weight and gain; gain 0 turns it off),
the copy gate (`pipeline.COPY_MAX_CHANGE`: copy a pixel only from frames whose tissue changed
by at most this share of its brightness; none = always copy) and the specks hidden from the network
(`pipeline.SPECK_MAX_AREA`: visible patches up to this many pixels enclosed by colour; 0 = none) and
the frame-by-frame estimate for pixels no frame within the horizon shows (`pipeline.UNSEEN_FRAME_BY_FRAME`)
and the pixels copied between repeated frames (`repeats.REPEAT_MAX_CHANGE`: the largest mean change of
one picture; `repeats.SOURCE_MARGIN`: how far from a copy's colour) and the still pixels (`still.STILL_RANGE`:
the largest spread of a hidden pixel's views in the nearby frames that counts as one value) and whether the
pixels copied from other frames follow the tissue's optical flow (`pipeline.ALIGN_COPIES`).
Cases: the four validation clips of `select_checkpoint.py`, 40 frames, as recorded ("still"), with
synthetic tissue motion ("moving", `data.tissue_motion`), swept sideways 1.5 px a frame ("swept", a
freehand sweep) and darkened to a twentieth ("dark", like a frame grabber's near-black phantom), written
lossless (FFV1) and as H.264 crf 23, read back, holes detected by `rebuild_mask`: what the
benchmark does, on clips it never scores. Prints masked PSNR / flicker ratio per setting. H.264
figures move by about ±0.2 dB between runs (the encoder is not bit-reproducible from one process
to the next); compare settings within one run.
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

SETTINGS = {  # name: (stabiliser centre weight, stabiliser gain, copy gate, largest speck hidden, unseen pixels frame by frame,
            #        repeated frames: largest mean change of one picture (0 = not carried), px kept clear of a copy's colour,
            #        still pixels: largest spread of one value's views (-1 = off), copies moved with the optical flow:
            #        False, "values" (a moved frame lends only pixels it shows as it lies) or "all"; the "all" row's figures
            #        in docs/translate.md were run with align.DIS_PRESET = FAST; whether the copy gate compares only
            #        the tissue around the holes, `align.LOCAL_GATE`; whether the output is averaged with the
            #        output on the mirrored input, `pipeline.FLIP_AVERAGE`)
    "no stabiliser, no gate": (2.0, 0.0, None, 0, False, 0.0, 0, -1, False, False, False),
    "stabiliser gain 1, no gate": (2.0, 1.0, None, 0, False, 0.0, 0, -1, False, False, False),
    "stabiliser gain 2, no gate": (2.0, 2.0, None, 0, False, 0.0, 0, -1, False, False, False),
    "stabiliser gain 2 centre 1, no gate": (1.0, 2.0, None, 0, False, 0.0, 0, -1, False, False, False),
    "stabiliser gain 2, gate 0.15": (2.0, 2.0, 0.15, 0, False, 0.0, 0, -1, False, False, False),
    "stabiliser gain 2, gate 0.25": (2.0, 2.0, 0.25, 0, False, 0.0, 0, -1, False, False, False),
    "stabiliser gain 2, gate 0.5": (2.0, 2.0, 0.5, 0, False, 0.0, 0, -1, False, False, False),
    "stabiliser gain 2, gate 0.25, specks ≤ 16 px hidden": (2.0, 2.0, 0.25, 16, False, 0.0, 0, -1, False, False, False),
    "stabiliser gain 2, gate 0.25, specks ≤ 64 px hidden": (2.0, 2.0, 0.25, 64, False, 0.0, 0, -1, False, False, False),
    "stabiliser gain 2, gate 0.25, specks ≤ 256 px hidden": (2.0, 2.0, 0.25, 256, False, 0.0, 0, -1, False, False, False),
    "stabiliser gain 2, gate 0.25, specks ≤ 256 px hidden, unseen pixels frame by frame": (2.0, 2.0, 0.25, 256, True, 0.0, 0, -1, False, False, False),
    "stabiliser gain 2, gate 0.25, specks ≤ 256 px hidden, unseen pixels frame by frame, repeats ≤ 0.1": (2.0, 2.0, 0.25, 256, True, 0.1, 0, -1, False, False, False),
    "stabiliser gain 2, gate 0.25, specks ≤ 256 px hidden, unseen pixels frame by frame, repeats ≤ 0.25": (2.0, 2.0, 0.25, 256, True, 0.25, 0, -1, False, False, False),
    "stabiliser gain 2, gate 0.25, specks ≤ 256 px hidden, unseen pixels frame by frame, repeats ≤ 0.25 1 px clear": (2.0, 2.0, 0.25, 256, True, 0.25, 1, -1, False, False, False),
    "... repeats 1 px clear, still pixels within 1 level": (2.0, 2.0, 0.25, 256, True, 0.25, 1, 1, False, False, False),
    "... repeats 1 px clear, still pixels within 2 levels": (2.0, 2.0, 0.25, 256, True, 0.25, 1, 2, False, False, False),
    "... still pixels within 1 level, copies follow the flow, new pixels too": (2.0, 2.0, 0.25, 256, True, 0.25, 1, 1, "all", False, False),
    "... still pixels within 1 level, copies follow the flow, no new pixels (shipped)": (2.0, 2.0, 0.25, 256, True, 0.25, 1, 1, "values", False, False),
    "... copies follow the flow, gate around the holes": (2.0, 2.0, 0.25, 256, True, 0.25, 1, 1, "values", True, False),
    "... shipped, output averaged with the mirrored input's": (2.0, 2.0, 0.25, 256, True, 0.25, 1, 1, "values", False, True),
}
SWEEP_PX_PER_FRAME = 1.5
DARK_GAIN = 0.05


def swept(grey: np.ndarray) -> np.ndarray:
    """A window sliding sideways over the frames (even width, for H.264): a freehand sweep."""
    T, _, W = grey.shape
    width = (W - int(SWEEP_PX_PER_FRAME * (T - 1)) - 1) // 2 * 2
    return np.ascontiguousarray(np.stack([g[:, int(SWEEP_PX_PER_FRAME * t):][:, :width] for t, g in enumerate(grey)]))


def cases(work: Path, seeds: list[int]):
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
        dark = (grey * DARK_GAIN).round().astype(np.uint8)
        for kind, frames in (("still", grey), ("moving", moved), ("swept", swept(grey)), ("dark", dark)):
            for seed in seeds:
                cfd, mask, truth = paint_cfd(frames, seed=seed, fps=clip.fps)
                for codec, suffix in (("lossless", ".mkv"), ("H.264", ".mp4")):
                    write_clip(Clip(cfd, fps=clip.fps), work / f"case{suffix}", overwrite=True)
                    coded = read_clip(work / f"case{suffix}")
                    yield f"{kind}, {codec}", coded, rebuild_mask(coded), mask, truth


def main() -> None:
    from sonosynth.methods.translate import align, pipeline, repeats, still
    from sonosynth.methods.translate.scoring import translation_scores

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", nargs="+", default=[None],
                    help="one or more weights files, each run on the same decoded cases (default: the shipped model)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[100, 101])
    ap.add_argument("--only", nargs="+", default=None, help="run only the settings whose names contain one of these")
    args = ap.parse_args()
    translators = {w: pipeline.Translator(w) for w in args.weights}
    settings = {k: v for k, v in SETTINGS.items() if args.only is None or any(o in k for o in args.only)}
    scores: dict[str, dict[str, list[dict]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for group, clip, holes, mask, truth in cases(Path(tmp), args.seeds):
            for setting, (centre, gain, gate, specks, unseen, repeat, clear, still_range, aligned, local, flip) in settings.items():
                pipeline.STABILISER_CENTRE, pipeline.STABILISER_GAIN, pipeline.COPY_MAX_CHANGE = centre, gain, gate
                pipeline.SPECK_MAX_AREA, pipeline.UNSEEN_FRAME_BY_FRAME = specks, unseen
                pipeline.CARRY_REPEATS, repeats.REPEAT_MAX_CHANGE, repeats.SOURCE_MARGIN = repeat > 0, repeat, clear
                still.STILL_RANGE, pipeline.ALIGN_COPIES, align.NEW_PIXELS = still_range, bool(aligned), aligned == "all"
                align.LOCAL_GATE, pipeline.FLIP_AVERAGE = local, flip
                for weights, translator in translators.items():
                    row = setting if len(translators) == 1 else f"{setting} @ {Path(weights or 'shipped').stem}"
                    out = pipeline.translate(clip, holes=holes, translator=translator).grey()
                    scores.setdefault(row, {}).setdefault(group, []).append(translation_scores(out, truth, mask))
    groups = list(next(iter(scores.values())))
    print("| setting | " + " | ".join(groups) + " |\n|---|" + "---|" * len(groups))
    for setting, by_group in scores.items():
        cells = [f"{np.mean([s['psnr'] for s in by_group[g]]):.2f} / {np.mean([s['flicker'] for s in by_group[g]]):.2f}" for g in groups]
        print(f"| {setting} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
