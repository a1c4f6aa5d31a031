"""CFD→greyscale translation benchmark: sonosynth against classical fillers, in one run, one table.

Cases: clips never trained on, with colour flow painted by the synthesiser (several seeds),
written losslessly (FFV1 .mkv) and as H.264 (.mp4, yuv420p, crf 23), read back through the
real reader, holes found by the real detector (`rebuild_mask`, given to every method alike). Scores compare each method's
output with the greyscale truth over the pixels the painter coloured. H.264 cases are scored twice: against the
un-encoded truth, and against the truth written through the same codec (the greyscale recording the user would
have had; no method can undo the codec outside the colour, which every method keeps). A last row,
"ceiling", puts the truth into the detected holes: the best any method that keeps the pixels outside
its holes can score (it shows what the codec and the mask detection alone cost). Another, "bound",
is what a filler would score that copied perfectly every hidden pixel shown in any frame of the
clip (motion ignored, in its favour) and knew the anatomy of the rest but not its speckle (the
truth's local mean, Gaussian σ 2 px): the most to expect from the input where the speckle was never seen.

H.264 rows of runs before the writer fixed x264's thread count (`io.stream.H264_THREADS`) moved by
up to ±0.3 dB between runs, likely because x264 took its thread count, and with it its output, from
the CPUs it could use, which differed between the machines of those runs. Within one run every
method gets the same decoded input. Lossless rows are reproducible.

    .venv/bin/python benchmarks/translate.py            # full run (held-out lung + second domain + speed)
    .venv/bin/python benchmarks/translate.py --quick    # fewer cases, for a smoke test
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sonosynth.clip import Clip  # noqa: E402
from sonosynth.io import read_clip, write_clip  # noqa: E402
from sonosynth.methods.translate import baselines  # noqa: E402
from sonosynth.methods.translate.pipeline import Translator, translate  # noqa: E402
from sonosynth.methods.translate.scoring import translation_scores  # noqa: E402
from sonosynth.preprocess.doppler import rebuild_mask  # noqa: E402
from sonosynth.synth.holdout import HELD_OUT_LUNG_CLIPS  # noqa: E402
from sonosynth.synth.overlay import paint_cfd  # noqa: E402

CODEC_TRUTH = "H.264, truth through the same codec"
METHODS = ("sonosynth", "sonosynth frame-by-frame", "nearest-in-time", "Telea", "Navier-Stokes")
CEILING = "ceiling: truth in the holes"  # the best any method that keeps the pixels outside its holes can score
BOUND = "bound: truth where seen, its local mean elsewhere"
RSS_RUNS = 3  # the streaming CLI's peak memory is the median of this many runs (one run read 10 % high now and then)
SPEED_RUNS = 3  # frames/s at 112² is the median of this many timed runs
BOUND_SIGMA = 2.0  # px: the truth blurred this much keeps the anatomy and drops the speckle grain


def speckle_blind_bound(truth: np.ndarray, grey: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """The input with every hole pixel that some frame shows set to the truth, and every other hole
    pixel set to the truth's local mean (see the module docstring)."""
    seen = holes & (~holes).any(axis=0)
    local_mean = np.stack([cv2.GaussianBlur(t.astype(np.float32), (0, 0), BOUND_SIGMA) for t in truth])
    return np.where(seen, truth, np.where(holes, np.rint(local_mean).astype(np.uint8), grey))


class PeakRSS:
    """Peak resident memory of this process while a block runs, above what it held before (MB)."""

    def __enter__(self):
        self.base = self.peak = self._rss()
        self.running = True
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()
        return self

    def _rss(self) -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _poll(self):
        while self.running:
            self.peak = max(self.peak, self._rss())
            time.sleep(0.005)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, self._rss())
        self.mb = (self.peak - self.base) / 2**20


def run_methods(clip: Clip, holes: np.ndarray, translator: Translator, frame_translator: Translator,
                rim: np.ndarray | None = None):
    """Every method on the same holes; sonosynth is also handed the codec rim (`rim`), as when it finds the
    holes itself (`codec_rim`: off as shipped)."""
    grey = clip.grey()
    runs = {
        "sonosynth": lambda: translate(clip, holes=holes, translator=translator, rim=rim).grey(),
        "sonosynth frame-by-frame": lambda: translate(clip, holes=holes, translator=frame_translator, rim=rim).grey(),
        "nearest-in-time": lambda: baselines.nearest_in_time(grey, holes),
        "Telea": lambda: baselines.telea(grey, holes),
        "Navier-Stokes": lambda: baselines.navier_stokes(grey, holes),
    }
    for name, fn in runs.items():
        with PeakRSS() as mem:
            t = time.perf_counter()
            out = fn()
            dt = time.perf_counter() - t
        yield name, out, {"fps": len(out) / dt, "ram_mb": mem.mb}


def load_grey(path: Path, frames: int) -> np.ndarray:
    return read_clip(path).grey()[:frames]


def domain_cases(data: Path, domain: str, frames: int, quick: bool) -> list[tuple[str, np.ndarray, float]]:
    """(name, grey frames, fps) of the clips of one domain, none of which the shipped model trained on."""
    if domain == "lung (held-out)":
        names = HELD_OUT_LUNG_CLIPS[:2] if quick else HELD_OUT_LUNG_CLIPS
        return [(n, load_grey(data / "lung" / n, frames), read_clip(data / "lung" / n).fps) for n in names]
    cases = []
    from pydicom.data import get_testdata_file

    cine = read_clip(get_testdata_file("examples_ybr_color.dcm"))
    cases.append(("pydicom examples_ybr_color.dcm (cardiac)", cine.grey()[:frames], cine.fps))
    if not quick:
        for p in sorted((data / "plus").glob("*.mh[ad]")):
            c = read_clip(p)
            if c.n_frames >= 8:
                cases.append((p.name, c.grey()[:frames], c.fps))
    return cases


def evaluate(data: Path, seeds: list[int], frames: int, quick: bool, weights: str | None, work: Path,
             true_mask_holes: bool = False, precision: str = "float32"):
    translator = Translator(weights, temporal=True, precision=precision)
    frame_translator = Translator(weights, temporal=False, precision=precision)
    rows = []
    for domain in ("lung (held-out)", "second domain (never trained on)"):
        for name, grey, fps in domain_cases(data, domain, frames, quick):
            for seed in seeds:
                cfd, true_mask, truth = paint_cfd(grey, seed=seed, fps=fps)
                for codec, suffix in (("lossless", ".mkv"), ("H.264", ".mp4")):
                    path = work / f"case{suffix}"
                    write_clip(Clip(cfd, fps=fps), path, overwrite=True)
                    clip = read_clip(path)
                    holes, rim = (true_mask, None) if true_mask_holes else rebuild_mask(clip, with_rim=True)
                    truths = {codec: truth}
                    if codec != "lossless":  # what the same scan recorded without colour would look like after the codec
                        write_clip(Clip(truth, fps=fps), work / f"truth{suffix}", overwrite=True)
                        truths[CODEC_TRUTH] = read_clip(work / f"truth{suffix}").grey()
                    references = [(CEILING, np.where(holes, truth, clip.grey()), {}),  # no speed: nothing was computed
                                  (BOUND, speckle_blind_bound(truth, clip.grey(), holes), {})]
                    for method, out, perf in [*run_methods(clip, holes, translator, frame_translator, rim), *references]:
                        for label, reference in truths.items():
                            row = {"domain": domain, "clip": name, "seed": seed, "codec": label, "method": method}
                            row.update(translation_scores(out, reference, true_mask))
                            row.update(perf)
                            rows.append(row)
                    print(f"  {domain} | {name} | seed {seed} | {codec}: done", file=sys.stderr)
    return rows


def speed(weights: str | None, work: Path, precision: str = "float32") -> dict[str, float]:
    """frames/s at 112×112 (2 CPU threads; median of SPEED_RUNS runs: single runs on a shared 2-core machine
    vary by ±15 %) and peak RAM of the streaming CLI for 100 vs 2,000 frames (median of RSS_RUNS runs)."""
    from translate_speed import median_fps, speed_clip

    clip = speed_clip(112)
    cfd = clip.frames
    holes = rebuild_mask(clip)
    tr = Translator(weights, precision=precision)
    translate(Clip(cfd[:20], fps=30.0), holes=holes[:20], translator=tr)  # warm-up
    result = {"fps_112": median_fps(lambda: translate(clip, holes=holes, translator=tr), len(cfd), SPEED_RUNS)}
    exe = Path(sys.executable).with_name("sonosynth")
    for n in (100, 2000):
        src = work / f"long{n}.mkv"
        reps = -(-n // len(cfd))
        write_clip(Clip(np.concatenate([cfd] * reps)[:n], fps=30.0), src, overwrite=True)
        cmd = [str(exe), "--quiet", "translate", str(src), "-o", str(work / f"long{n}_out.mkv"), "--overwrite",
               "--precision", precision]
        if weights:
            cmd += ["--weights", weights]
        peaks = []
        for _ in range(RSS_RUNS):
            proc = subprocess.run(["/usr/bin/env", "python3", "-c",
                                   "import resource,subprocess,sys; subprocess.run(sys.argv[1:],check=True); "
                                   "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"] + cmd,
                                  capture_output=True, text=True)
            if proc.returncode:
                raise SystemExit(f"streaming run failed: {proc.stderr.strip()}")
            peaks.append(int(proc.stdout.split()[-1]) / 1024)
        result[f"peak_rss_mb_{n}"] = float(np.median(peaks))
    return result


def table(rows: list[dict], domain: str, codec: str) -> str:
    cols = ("ssim", "box_ssim", "psnr", "mae", "flicker", "fps", "ram_mb")
    head = "| method | whole SSIM | box SSIM | masked PSNR dB | masked MAE | flicker ratio | frames/s | peak RAM MB |\n|---|---|---|---|---|---|---|---|"
    lines = [f"\n{domain}, {codec} ({len({(r['clip'], r['seed']) for r in rows if r['domain'] == domain})} cases)", head]
    for method in METHODS + (CEILING, BOUND):
        sel = [r for r in rows if r["domain"] == domain and r["codec"] == codec and r["method"] == method]
        vals = [np.mean([r[c] for r in sel]) if c in sel[0] else np.nan for c in cols]
        lines.append(f"| {method} | " + " | ".join("–" if np.isnan(v) else f"{v:.3f}" if c in ("ssim", "box_ssim", "flicker")
                                                   else f"{v:.1f}" for c, v in zip(cols, vals)) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--weights", default=None, help="default: the shipped small model")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--frames", type=int, default=60, help="frames per clip (from the start)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", type=Path, default=None, help="also write every row here")
    ap.add_argument("--true-mask", action="store_true",
                    help="give every method the painter's true mask instead of the detected one (isolates the filling)")
    ap.add_argument("--no-speed", action="store_true", help="skip the speed and memory measurement")
    ap.add_argument("--precision", default="float32", choices=("float32", "bfloat16"), help="of sonosynth's networks")
    args = ap.parse_args()
    if not args.data.is_dir():
        raise SystemExit(f"data folder {args.data} not found (pass --data)")
    import torch

    torch.set_num_threads(2)
    seeds = args.seeds[:1] if args.quick else args.seeds
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rows = evaluate(args.data, seeds, args.frames, args.quick, args.weights, work, args.true_mask, args.precision)
        spd = None if args.no_speed else speed(args.weights, work, args.precision)
    print(f"sonosynth's networks in {args.precision}; holes: " + ("the painter's true mask" if args.true_mask else "detected by sonosynth.preprocess.rebuild_mask (the Doppler mask, + 2 px after a lossy codec), the same for every method")
          + "; scores over the painter's true mask")
    for domain in ("lung (held-out)", "second domain (never trained on)"):
        for codec in ("lossless", "H.264", CODEC_TRUTH):
            print(table(rows, domain, codec))
    if spd:
        print(f"\nspeed: {spd['fps_112']:.1f} frames/s at 112x112 on CPU ({torch.get_num_threads()} threads); "
              f"streaming CLI peak RSS {spd['peak_rss_mb_100']:.0f} MB for 100 frames, {spd['peak_rss_mb_2000']:.0f} MB for 2,000 "
              f"({100 * (spd['peak_rss_mb_2000'] / spd['peak_rss_mb_100'] - 1):+.1f} %)")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "speed": spd}, indent=1))


if __name__ == "__main__":
    main()
