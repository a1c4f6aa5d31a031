"""Make a synthetic set for the downstream tests: paint colour flow on real greyscale clips or
images, then translate it back to greyscale with a sonosynth model (holes detected, as a user would).

Clips become `<stem>_seed<N>.mkv` (lossless FFV1, so the classifier sees the model's output and not
the codec's), the names `evaluate-downstream classify --synthetic` expects; stills keep their
name (`--keep-names`), as `evaluate-downstream segment --processed` expects.

    .venv/bin/python scripts/make_translated_set.py ../shared/data/lung -o synth/lung --seed 0 --frames 64
    .venv/bin/python scripts/make_translated_set.py ../shared/data/nerve/test/images -o synth/nerve --seed 0 --keep-names
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sonosynth.io import read_clip, write_clip
from sonosynth.methods.translate.pipeline import Translator, translate
from sonosynth.metrics.clips import clip_paths
from sonosynth.synth.overlay import paint_cfd


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", type=Path, help="folder of greyscale clips or images")
    ap.add_argument("-o", "--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--weights", default=None, help="default: the shipped small model")
    ap.add_argument("--frames", type=int, default=None, help="translate only the first N frames of each clip")
    ap.add_argument("--keep-names", action="store_true", help="write <name> (same extension) instead of <stem>_seed<N>.mkv")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    translator = Translator(args.weights)
    for i, path in enumerate(clip_paths(args.src)):
        dest = args.out / (path.name if args.keep_names else f"{path.stem}_seed{args.seed}.mkv")
        if dest.exists():
            continue  # resumable: a finished file is written atomically
        t0 = time.time()
        clip = read_clip(path)
        if args.frames:
            clip = clip.with_frames(clip.frames[: args.frames])
        cfd, _, _ = paint_cfd(clip.grey(), seed=args.seed * 1000 + i, fps=clip.fps)
        painted = clip.with_frames(cfd)
        out = translate(painted, translator=translator)
        write_clip(out.with_frames(out.grey()), dest)
        print(f"{dest.name}: {clip.n_frames} frames {clip.width}x{clip.height} in {time.time() - t0:.1f} s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
