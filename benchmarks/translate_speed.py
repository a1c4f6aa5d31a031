"""Translation speed: frames/s of sonosynth and the classical fillers on one clip, per frame size and device.

The clip is synthetic speckle (gamma-distributed grey levels, a dark vessel-like region, slow motion)
with colour flow painted by the synthesiser; holes come from the real detector, given to every
method alike. sonosynth is timed whole (mask to output: copies from other frames, alignment, both
networks, the stabiliser) and, on its own line, the two networks alone on whole frames ("networks
alone"; the pipeline crops around the holes, so this can be slower than the whole), which is what a
GPU speeds up. Each figure is the median of `--repeats` timed runs after a warm-up. The classical
fillers always run on the CPU.

    .venv/bin/python benchmarks/translate_speed.py                           # 112² and 256² on the CPU, 2 threads
    python3 benchmarks/translate_speed.py --device cuda --threads 0          # on a GPU, every CPU thread
    python3 benchmarks/translate_speed.py --weights A.safetensors B.safetensors   # several models in one table
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sonosynth.clip import Clip  # noqa: E402
from sonosynth.methods.translate import baselines  # noqa: E402
from sonosynth.methods.translate.pipeline import Translator, translate  # noqa: E402
from sonosynth.preprocess.doppler import rebuild_mask  # noqa: E402
from sonosynth.progress import set_quiet  # noqa: E402
from sonosynth.synth.overlay import paint_cfd  # noqa: E402


def speed_clip(size: int, frames: int = 240, seed: int = 0) -> Clip:
    """A size×size colour-flow clip of synthetic speckle: the same scene at every size."""
    rng = np.random.default_rng(seed)
    base = rng.gamma(2.0, 35.0, (size, size)).clip(0, 255)
    a, b = size * 40 // 112, size * 80 // 112
    base[a:b, size * 30 // 112:b] *= 0.2
    grey = np.stack([np.roll(base, t % 7, axis=0) for t in range(frames)]).astype(np.uint8)
    cfd, _, _ = paint_cfd(grey, seed=seed, fps=30.0)
    return Clip(cfd, fps=30.0)


def median_fps(fn, frames: int, repeats: int, sync=lambda: None) -> float:
    times = []
    for _ in range(repeats):
        sync()
        t = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t)
    return frames / float(np.median(times))


def networks_alone_fps(tr: Translator, holes: np.ndarray, repeats: int, sync) -> float:
    """The generator alone on batches of `tr.batch` whole frames with the clip's own holes (mirrored pass
    included when the translator makes one; the Navier-Stokes base fill inside it runs on the CPU)."""
    import torch

    from sonosynth.methods.translate.temporal import N_INPUTS

    n = tr.batch * (2 if tr.mirror else 1)
    x = torch.rand(n, N_INPUTS, *holes.shape[1:], device=tr.device) * 2 - 1
    x[:, 1] = torch.from_numpy(holes[:n]).to(tr.device, torch.float32)
    with torch.inference_mode(), tr.autocast():
        tr.generator(x)  # warm-up
        return median_fps(lambda: tr.generator(x), tr.batch, max(repeats, 5), sync)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[112, 256])
    ap.add_argument("--device", default="cpu", help="where sonosynth's networks run: cpu or cuda")
    ap.add_argument("--weights", nargs="+", default=[None], help="default: the shipped small model")
    ap.add_argument("--threads", type=int, default=2, help="CPU threads for torch (0: torch's default, every core)")
    ap.add_argument("--frames", type=int, default=240)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--precisions", nargs="+", default=["float32", "bfloat16"],
                    help="the networks' arithmetic, each its own rows (bfloat16 pays only where the hardware has it)")
    args = ap.parse_args()
    import torch

    set_quiet(True)
    if args.threads:
        torch.set_num_threads(args.threads)
    sync = torch.cuda.synchronize if args.device.startswith("cuda") else (lambda: None)
    where = torch.cuda.get_device_name() if args.device.startswith("cuda") else f"CPU, {torch.get_num_threads()} threads"
    print(f"frames/s, median of {args.repeats} runs over {args.frames} frames; networks on: {where}; "
          f"classical fillers on the CPU; 'networks alone' runs both networks on whole frames, batch 8, mirrored pass included")
    print("| method | weights | size | frames/s |\n|---|---|---|---|")
    for size in args.sizes:
        clip = speed_clip(size, args.frames)
        holes = rebuild_mask(clip)
        grey = clip.grey()
        for weights, precision in [(w, p) for w in args.weights for p in args.precisions]:
            label = (Path(weights).stem if weights else "shipped small") + ("" if precision == "float32" else f", {precision}")
            tr = Translator(weights, device=args.device, precision=precision)
            translate(Clip(clip.frames[:20], fps=30.0), holes=holes[:20], translator=tr)  # warm-up
            fps = median_fps(lambda: translate(clip, holes=holes, translator=tr), args.frames, args.repeats, sync)
            print(f"| sonosynth | {label} | {size}² | {fps:.1f} |", flush=True)
            print(f"| sonosynth, networks alone | {label} | {size}² | {networks_alone_fps(tr, holes, args.repeats, sync):.1f} |",
                  flush=True)
        for name, fn in (("Telea", baselines.telea), ("Navier-Stokes", baselines.navier_stokes),
                         ("nearest-in-time", baselines.nearest_in_time)):
            print(f"| {name} | – | {size}² | {median_fps(lambda: fn(grey, holes), args.frames, args.repeats):.1f} |", flush=True)


if __name__ == "__main__":
    main()
