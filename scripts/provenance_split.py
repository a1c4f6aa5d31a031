"""How good are the pixels of each provenance level (`pipeline.provenance_map`)? Masked error split by level.

    .venv/bin/python scripts/provenance_split.py [--domain lung|second] [--frames 40] [--seeds 0 1 2] [--weights W]

The benchmark's held-out lung cases, or its second domain (`benchmarks/translate.py`: first frames, colour painted by the
synthesiser, written lossless and as H.264, read back, holes detected), translated with
`translate(clip, provenance=True)`; the squared error against the truth over the painted pixels is split
by the map's level (128: rebuilt with another frame's view of the pixel; 255: inferred from its
surroundings alone; `scoring.scores_by_provenance`). Prints one line a case and a pooled table.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
DOMAINS = {"lung": "lung (held-out)", "second": "second domain (never trained on)"}  # `benchmarks/translate.py`'s


def main() -> None:
    from sonosynth.clip import Clip
    from sonosynth.io import read_clip, write_clip
    from sonosynth.methods.translate.pipeline import Translator, translate
    from sonosynth.methods.translate.scoring import pooled_psnr, scores_by_provenance
    from sonosynth.progress import set_quiet
    from sonosynth.synth.overlay import paint_cfd

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from translate import domain_cases  # the benchmark's own cases

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--domain", choices=sorted(DOMAINS), default="lung")
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--weights", default=None)
    ap.add_argument("--data", type=Path, default=DATA)
    args = ap.parse_args()
    if not args.data.is_dir():
        sys.exit(f"no data folder {args.data}")
    set_quiet(True)
    translator = Translator(args.weights)
    pooled: dict[tuple[str, str], list] = {}  # (codec, level) → [squared error, pixels, painted pixels]
    with tempfile.TemporaryDirectory() as work:
        for name, grey, fps in domain_cases(args.data, DOMAINS[args.domain], args.frames, quick=False):
            for seed in args.seeds:
                cfd, painted, truth = paint_cfd(grey, seed=seed, fps=fps)
                for codec, suffix in (("lossless", ".mkv"), ("H.264", ".mp4")):
                    path = Path(work) / f"case{suffix}"
                    write_clip(Clip(cfd, fps=fps), path, overwrite=True)
                    out, maps = translate(read_clip(path), translator=translator, provenance=True)
                    line = [name, f"seed {seed}", codec]
                    for level, s in scores_by_provenance(out.grey(), truth, painted, maps).items():
                        total = pooled.setdefault((codec, level), [0.0, 0, 0])
                        total[0] += s["mse"] * s["pixels"] if s["pixels"] else 0.0
                        total[1] += s["pixels"]
                        total[2] += int(painted.sum())
                        line.append(f"{level} {s['share']:.0%} {s['psnr']:.1f} dB" if s["pixels"] else f"{level} -")
                    print(" | ".join(line), flush=True)
    print("\n| codec | level | share of painted pixels | masked PSNR dB |\n|---|---|---|---|")
    for (codec, level), (se, n, painted_total) in pooled.items():
        print(f"| {codec} | {level} | {n / max(1, painted_total):.0%} | {pooled_psnr(se / max(n, 1)):.2f} |")


if __name__ == "__main__":
    main()
