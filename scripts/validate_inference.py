"""Compare inference settings of the translation pipeline on painted *training* clips.

    .venv/bin/python scripts/validate_inference.py [--weights W [W ...]] [--seeds 100 101] [--only NAME ...] [--groups NAME ...]

Settings: the temporal stabiliser (`stabiliser.stabilise`: centre weight and gain; gain 0 turns it off),
the copy gate (`pipeline.COPY_MAX_CHANGE`: copy a pixel only from frames whose tissue changed
by at most this share of its brightness; none = always copy) and the specks hidden from the network
(`pipeline.SPECK_MAX_AREA`: visible patches up to this many pixels enclosed by colour; 0 = none) and
the frame-by-frame estimate for pixels no frame within the horizon shows (`pipeline.UNSEEN_FRAME_BY_FRAME`)
and the pixels copied between repeated frames (`repeats.REPEAT_MAX_CHANGE`: the largest mean change of
one picture; `repeats.SOURCE_MARGIN`: how far from a copy's colour) and the still pixels (`still.STILL_RANGE`:
the largest spread of a hidden pixel's views in the nearby frames that counts as one value) and whether the
pixels copied from other frames follow the tissue's optical flow (`pipeline.ALIGN_COPIES`) and whether
the network's output is averaged with its output on the mirrored input (`pipeline.FLIP_AVERAGE`) and with
the copies it was handed (`pipeline.COPY_WEIGHT`: a copy d frames away weighs this / d) and whether views all
at or below a dark level count as one still value (`still.STILL_DARK`) and whether, after a lossy codec,
pixels no frame within the horizon shows are mixed with Telea after the copies
(`pipeline.UNSEEN_LOSSY_TELEA`: Telea's weight) and whether the rim the holes are widened by after a lossy
codec keeps its recorded grey where it shows no colour and lies near the fill (`codec_rim.RIM_KEEP_CHANGE`:
how near, in grey levels). Each
row is a `Setting`; the one marked (shipped) must equal the package's switches, or the script stops.
Cases: the four validation clips of `select_checkpoint.py`, 40 frames, as recorded ("still"), with
synthetic tissue motion ("moving", `data.tissue_motion`), swept sideways 1.5 px a frame ("swept", a
freehand sweep) and darkened to a twentieth ("dark", like a frame grabber's near-black phantom), written
lossless (FFV1) and as H.264 crf 23, read back, holes detected by `rebuild_mask`: what the
benchmark does, on clips it never scores. Prints masked PSNR / flicker ratio per setting, then
whole-frame SSIM / PSNR (which the codec rim moves: most of it lies outside the painted mask). H.264
figures of runs before the writer fixed x264's thread count (`io.stream.H264_THREADS`) moved by about
±0.2 dB between runs, likely with the CPU counts of their machines; compare settings within one run.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))


@dataclass(frozen=True)
class Setting:
    """One row: the pipeline's module-level switches. The defaults are the bare pipeline (every later
    addition off), so each row names only what it turns on and keeps the meaning it had when its
    figures in docs/translate.md were taken."""

    stabiliser_centre: float = 2.0        # stabiliser.STABILISER_CENTRE
    stabiliser_gain: float = 0.0          # stabiliser.STABILISER_GAIN (0: no stabiliser)
    copy_gate: float | None = None        # pipeline.COPY_MAX_CHANGE (None: always copy)
    speck_max_area: int = 0               # pipeline.SPECK_MAX_AREA (0: no speck hidden)
    unseen_frame_by_frame: bool = False   # pipeline.UNSEEN_FRAME_BY_FRAME
    repeat_max_change: float = 0.0        # repeats.REPEAT_MAX_CHANGE (0: repeated frames not carried)
    repeat_source_margin: int = 0         # repeats.SOURCE_MARGIN
    still_range: int = -1                 # still.STILL_RANGE (-1: off)
    aligned: bool | str = False           # False, "values" (align.NEW_PIXELS off) or "all"; the "all" row's
                                          # figures were run with align.DIS_PRESET = FAST
    local_gate: bool = False              # align.LOCAL_GATE
    flip_average: bool = False            # pipeline.FLIP_AVERAGE
    copy_weight: float = 0.0              # pipeline.COPY_WEIGHT (0: the network's output alone)
    still_dark: int = -1                  # still.STILL_DARK (-1: off)
    unseen_lossy_telea: float = 0.0       # pipeline.UNSEEN_LOSSY_TELEA (0: off)
    rim_keep_change: float = 0.0          # codec_rim.RIM_KEEP_CHANGE (0: the codec rim rebuilt whole)

    def apply(self) -> None:
        modules = _switch_modules()
        for field, (module, name) in PLAIN_SWITCHES.items():
            setattr(modules[module], name, getattr(self, field))
        modules["pipeline"].CARRY_REPEATS = self.repeat_max_change > 0
        modules["repeats"].REPEAT_MAX_CHANGE = self.repeat_max_change
        modules["pipeline"].ALIGN_COPIES, modules["align"].NEW_PIXELS = bool(self.aligned), self.aligned == "all"

    @classmethod
    def current(cls) -> "Setting":
        """The switches as the package sets them now: what `translate` ships."""
        modules = _switch_modules()
        pipeline, align = modules["pipeline"], modules["align"]
        return cls(**{field: getattr(modules[module], name) for field, (module, name) in PLAIN_SWITCHES.items()},
                   repeat_max_change=modules["repeats"].REPEAT_MAX_CHANGE if pipeline.CARRY_REPEATS else 0.0,
                   aligned=pipeline.ALIGN_COPIES and ("all" if align.NEW_PIXELS else "values"))


PLAIN_SWITCHES = {  # Setting field: (module, name) of the switch it sets as it is; the other two fields set two each
    "stabiliser_centre": ("stabiliser", "STABILISER_CENTRE"), "stabiliser_gain": ("stabiliser", "STABILISER_GAIN"),
    "copy_gate": ("pipeline", "COPY_MAX_CHANGE"), "speck_max_area": ("pipeline", "SPECK_MAX_AREA"),
    "unseen_frame_by_frame": ("pipeline", "UNSEEN_FRAME_BY_FRAME"), "repeat_source_margin": ("repeats", "SOURCE_MARGIN"),
    "still_range": ("still", "STILL_RANGE"), "local_gate": ("align", "LOCAL_GATE"), "flip_average": ("pipeline", "FLIP_AVERAGE"),
    "copy_weight": ("pipeline", "COPY_WEIGHT"), "still_dark": ("still", "STILL_DARK"),
    "unseen_lossy_telea": ("pipeline", "UNSEEN_LOSSY_TELEA"), "rim_keep_change": ("codec_rim", "RIM_KEEP_CHANGE"),
}


def _switch_modules() -> dict:
    from sonosynth.methods.translate import align, codec_rim, pipeline, repeats, stabiliser, still

    return {"align": align, "codec_rim": codec_rim, "pipeline": pipeline, "repeats": repeats, "stabiliser": stabiliser,
            "still": still}


STABILISED = Setting(stabiliser_gain=2.0)
GATED = replace(STABILISED, copy_gate=0.25)
SPECKS_HIDDEN = replace(GATED, speck_max_area=256)
UNSEEN = replace(SPECKS_HIDDEN, unseen_frame_by_frame=True)
REPEATS = replace(UNSEEN, repeat_max_change=0.25, repeat_source_margin=1)
STILL = replace(REPEATS, still_range=1)
FLOW = replace(STILL, aligned="values")
MIRRORED = replace(FLOW, flip_average=True)
BLENDED = replace(MIRRORED, copy_weight=1.0)
SHIPPED = replace(BLENDED, unseen_lossy_telea=1 / 3)
SETTINGS = {  # in the order they were added; each built on the one chosen before it
    "no stabiliser, no gate": Setting(),
    "stabiliser gain 1, no gate": Setting(stabiliser_gain=1.0),
    "stabiliser gain 2, no gate": STABILISED,
    "stabiliser gain 2 centre 1, no gate": replace(STABILISED, stabiliser_centre=1.0),
    "stabiliser gain 2, gate 0.15": replace(STABILISED, copy_gate=0.15),
    "stabiliser gain 2, gate 0.25": GATED,
    "stabiliser gain 2, gate 0.5": replace(STABILISED, copy_gate=0.5),
    "stabiliser gain 2, gate 0.25, specks ≤ 16 px hidden": replace(GATED, speck_max_area=16),
    "stabiliser gain 2, gate 0.25, specks ≤ 64 px hidden": replace(GATED, speck_max_area=64),
    "stabiliser gain 2, gate 0.25, specks ≤ 256 px hidden": SPECKS_HIDDEN,
    "stabiliser gain 2, gate 0.25, specks ≤ 256 px hidden, unseen pixels frame by frame": UNSEEN,
    "stabiliser gain 2, gate 0.25, specks ≤ 256 px hidden, unseen pixels frame by frame, repeats ≤ 0.1":
        replace(UNSEEN, repeat_max_change=0.1),
    "stabiliser gain 2, gate 0.25, specks ≤ 256 px hidden, unseen pixels frame by frame, repeats ≤ 0.25":
        replace(UNSEEN, repeat_max_change=0.25),
    "stabiliser gain 2, gate 0.25, specks ≤ 256 px hidden, unseen pixels frame by frame, repeats ≤ 0.25 1 px clear": REPEATS,
    "... repeats 1 px clear, still pixels within 1 level": STILL,
    "... repeats 1 px clear, still pixels within 2 levels": replace(REPEATS, still_range=2),
    "... still pixels within 1 level, copies follow the flow, new pixels too": replace(STILL, aligned="all"),
    "... still pixels within 1 level, copies follow the flow, no new pixels": FLOW,
    "... copies follow the flow, gate around the holes": replace(FLOW, local_gate=True),
    "... output averaged with the mirrored input's": MIRRORED,
    "... mirrored average, copies blended in at 0.5 / d": replace(MIRRORED, copy_weight=0.5),
    "... mirrored average, copies blended in at 1 / d": BLENDED,
    "... mirrored average, copies blended in at 2 / d": replace(MIRRORED, copy_weight=2.0),
    "... copies blended in at 1 / d, views all ≤ 4 levels still": replace(BLENDED, still_dark=4),
    "... copies blended in at 1 / d, never-seen pixels after a lossy codec 1/4 Telea": replace(BLENDED, unseen_lossy_telea=0.25),
    "... copies blended in at 1 / d, never-seen pixels after a lossy codec 1/3 Telea (shipped)": SHIPPED,
    "... copies blended in at 1 / d, never-seen pixels after a lossy codec 1/2 Telea": replace(BLENDED, unseen_lossy_telea=0.5),
    "... never-seen pixels 1/3 Telea, the codec rim kept where colourless and within 32 levels of the fill":
        replace(SHIPPED, rim_keep_change=32),
    "... never-seen pixels 1/3 Telea, the codec rim kept where colourless and within 64 levels of the fill":
        replace(SHIPPED, rim_keep_change=64),
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
                    holes, rim = rebuild_mask(coded, with_rim=True)
                    yield f"{kind}, {codec}", coded, holes, rim, mask, truth


def main() -> None:
    from sonosynth.methods.translate import pipeline
    from sonosynth.methods.translate.scoring import translation_scores

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", nargs="+", default=[None],
                    help="one or more weights files, each run on the same decoded cases (default: the shipped model)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[100, 101])
    ap.add_argument("--only", nargs="+", default=None, help="run only the settings whose names contain one of these")
    ap.add_argument("--groups", nargs="+", default=None,
                    help='score only the groups whose names contain one of these (e.g. "still" "lossless")')
    args = ap.parse_args()
    if Setting.current() != SHIPPED:
        sys.exit(f"the (shipped) row is not what the package ships: {Setting.current()}")
    translators = {w: pipeline.Translator(w) for w in args.weights}
    settings = {k: v for k, v in SETTINGS.items() if args.only is None or any(o in k for o in args.only)}
    scores: dict[str, dict[str, list[dict]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for group, clip, holes, rim, mask, truth in cases(Path(tmp), args.seeds):
            if args.groups is not None and not any(g in group for g in args.groups):
                continue
            for setting, choice in settings.items():
                choice.apply()
                for weights, translator in translators.items():
                    row = setting if len(translators) == 1 else f"{setting} @ {Path(weights or 'shipped').stem}"
                    out = pipeline.translate(clip, holes=holes, translator=translator, rim=rim).grey()
                    score = translation_scores(out, truth, mask)
                    whole_mse = float(np.mean((out.astype(np.float64) - truth) ** 2))  # pooled, as the masked PSNR is
                    score["whole_psnr"] = 10 * np.log10(255.0**2 / max(whole_mse, 1e-10))
                    scores.setdefault(row, {}).setdefault(group, []).append(score)
    groups = list(next(iter(scores.values())))
    for title, first, second, digits in (("masked PSNR dB / flicker ratio", "psnr", "flicker", 2),
                                         ("whole-frame SSIM / whole-frame PSNR dB", "ssim", "whole_psnr", 4)):
        print(f"\n{title}\n\n| setting | " + " | ".join(groups) + " |\n|---|" + "---|" * len(groups))
        for setting, by_group in scores.items():
            cells = [f"{np.mean([s[first] for s in by_group[g]]):.{digits}f} / {np.mean([s[second] for s in by_group[g]]):.2f}"
                     for g in groups]
            print(f"| {setting} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
