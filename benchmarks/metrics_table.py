"""The metrics table: real vs real, real vs progressively corrupted, and (given) real vs generated.

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/metrics_table.py [--fake FOLDER] [--domain-weights W]

The lung clips are split (seeded) into two disjoint halves A and B. Rows: (a) A vs B, the floor
that any generated set is measured against at this N; (b) A vs B corrupted at graded levels;
(c) A vs the given generated clips (e.g. translation output). Protocol: 2 evenly spaced 16-frame
windows per clip; FVD on I3D logits (and pooled features), frames resized bilinearly to 224;
FID/KID on frames 0 and 8 of each window, resized to 299. Sample sizes are printed: at this N,
FID and FVD are biased upward, so compare rows only with each other.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "lung")
    ap.add_argument("--fake", type=Path, help="generated clips to add as row (c)")
    ap.add_argument("--domain-weights", type=Path, help="domain network (sonosynth evaluate-downstream domain-net)")
    ap.add_argument("--windows", type=int, default=2, help="16-frame windows per clip")
    ap.add_argument("--levels", default="0.25,0.5,1.0")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="also write the rows here")
    args = ap.parse_args()

    import torch

    from sonosynth.metrics import bench
    from sonosynth.metrics.clips import clip_paths

    torch.set_num_threads(1)
    t0 = time.time()
    paths = clip_paths(args.data)
    order = np.random.default_rng(args.seed).permutation(len(paths))
    half_a = [paths[i] for i in sorted(order[: len(paths) // 2 + len(paths) % 2])]
    half_b = [paths[i] for i in sorted(order[len(paths) // 2 + len(paths) % 2 :])]
    wins_a, wins_b = bench.load_windows(half_a, args.windows), bench.load_windows(half_b, args.windows)
    print(f"A: {len(half_a)} clips, {len(wins_a)} windows; B: {len(half_b)} clips, {len(wins_b)} windows", flush=True)
    fa = bench.features(wins_a, args.domain_weights)
    fb = bench.features(wins_b, args.domain_weights)
    rows = [{"set": "(a) real A vs real B", "level": None, **bench.compare(fa, fb)}]
    print(bench.format_rows(rows), flush=True)
    levels = [float(x) for x in args.levels.split(",")]
    rows += [{**r, "set": f"(b) A vs B + {r['set']}"} for r in
             bench.corruption_curve(fa, wins_b, levels, domain_weights=args.domain_weights, log=lambda s: print(s, flush=True))]
    if args.fake:
        wins_f = bench.load_windows(clip_paths(args.fake), args.windows)
        rows.append({"set": f"(c) A vs {args.fake.name}", "level": None, **bench.compare(fa, bench.features(wins_f, args.domain_weights))})
    print("\n" + bench.format_rows(rows))
    curve = [{**r, "set": r["set"].split(" + ")[-1]} for r in rows if r["set"].startswith("(b)")]
    base = {**rows[0], "level": 0.0}
    curve = [{**base, "set": name} for name in dict.fromkeys(r["set"] for r in curve)] + curve
    for metric in ("FVD", "FID"):
        print(f"{metric} rises with every corruption level (from the A-vs-B floor):", bench.monotonic(curve, metric))
    print(f"N: FID {len(fa['fid'])} vs {len(fb['fid'])} frames, FVD {len(fa['logits'])} vs {len(fb['logits'])} windows; "
          f"{time.time() - t0:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    sys.exit(main())
