"""FVD (and FID) against graded corruption: the curve that shows the metric measures what it claims.

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/metrics_sanity.py [--clips 8] [--levels 0,0.25,0.5,0.75,1]

Reference: one 16-frame window from each of the first N held-out and other lung clips; each
corruption (noise, blur, frozen frames, shuffled frames) is applied at graded levels to the same
windows and compared with the clean ones. Level 0 is the set with itself (0). A metric that
does its job rises monotonically along every row; FID, a per-frame metric, is expected to stay
flat for frozen and shuffled frames, which is why FVD exists.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "lung")
    ap.add_argument("--clips", type=int, default=8)
    ap.add_argument("--levels", default="0,0.25,0.5,0.75,1")
    args = ap.parse_args()

    import torch

    from sonosynth.metrics import bench
    from sonosynth.metrics.clips import clip_paths

    torch.set_num_threads(1)
    t0 = time.time()
    wins = bench.load_windows(clip_paths(args.data)[:: max(1, 43 // args.clips)][: args.clips], 1)
    ref = bench.features(wins)
    levels = [float(x) for x in args.levels.split(",")]
    rows = bench.corruption_curve(ref, wins, levels, log=lambda s: print(s, flush=True))
    print("\n" + bench.format_rows(rows))
    for metric in ("FVD", "FVD pooled", "FID"):
        print(f"{metric} monotonic:", bench.monotonic(rows, metric))
    print(f"N = {len(wins)} windows, {2 * len(wins)} FID frames; {time.time() - t0:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
