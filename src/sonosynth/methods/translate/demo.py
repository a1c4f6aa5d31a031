"""The README's main job on real inputs that ship with pydicom, so it needs no download.

1. pydicom's 30-frame SonoSite cardiac cine, greyscale, painted with synthetic colour flow
   (so the truth is known), translated back to greyscale: side-by-side video, provenance map and scores.
2. pydicom's real GE power-Doppler image, translated: before/after picture.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ...clip import Clip
from ...errors import BadOption
from . import baselines
from .pipeline import Translator, resize_for_display, translate
from .scoring import scores_by_provenance, translation_scores


def side_by_side(*panels: np.ndarray, width: int = 320) -> np.ndarray:
    """Frames (T,H,W) or (T,H,W,3) placed left to right at a common width, as RGB."""
    shown = []
    for p in panels:
        rgb = p if p.ndim == 4 else np.repeat(p[..., None], 3, axis=-1)
        shown.append(resize_for_display(rgb, width))
    return np.concatenate(shown, axis=2)


def run_demo(out_dir: Path, overwrite: bool = False, weights: str | Path | None = None, seed: int = 0) -> dict:
    from pydicom.data import get_testdata_file

    from ...io import read_clip
    from ...preprocess.doppler import rebuild_mask
    from ...synth.overlay import paint_cfd

    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise BadOption(f"output {out_dir} is a file, not a folder")
    if out_dir.exists() and any(out_dir.iterdir()) and not overwrite:
        raise BadOption(f"output folder {out_dir} is not empty; pass --overwrite to replace its files")
    translator = Translator(weights)  # bad weights are refused before the folder is made

    cine = read_clip(get_testdata_file("examples_ybr_color.dcm"))
    truth = cine.grey()
    cfd, true_mask, _ = paint_cfd(truth, seed=seed, fps=cine.fps)
    cfd_clip = Clip(cfd, fps=cine.fps, source={"derivation": "sonosynth synthetic colour-flow overlay"})
    holes = rebuild_mask(cfd_clip)
    ours_clip, where = translate(cfd_clip, holes=holes, translator=translator, provenance=True)
    ours = ours_clip.grey()
    telea = baselines.telea(cfd_clip.grey(), holes)
    scores = {
        "input": "pydicom examples_ybr_color.dcm (30-frame cardiac cine), synthetic colour flow painted with seed %d" % seed,
        "mask_iou": float((holes & true_mask).sum() / max(1, (holes | true_mask).sum())),
        "sonosynth": translation_scores(ours, truth, true_mask),
        "sonosynth_by_provenance": scores_by_provenance(ours, truth, true_mask, where),
        "telea": translation_scores(telea, truth, true_mask),
    }
    video = side_by_side(cfd, ours, telea, truth)
    power = read_clip(get_testdata_file("examples_jpeg2k.dcm"))
    power_holes = rebuild_mask(power)
    power_out = translate(power, holes=power_holes, translator=translator)
    still = side_by_side(power.rgb(), power_out.rgb(), width=480)
    scores["power_doppler"] = {"input": "pydicom examples_jpeg2k.dcm (GE power Doppler, JPEG 2000)",
                               "rebuilt_fraction": float(power_holes.mean())}
    outputs = {
        "cardiac_side_by_side.mp4": Clip(video, fps=cine.fps,
                                         source={"derivation": "sonosynth demo: CFD | sonosynth | Telea | truth"}),
        "cardiac_translated.mp4": Clip(ours, fps=cine.fps, source={"derivation": "sonosynth CFD-to-greyscale translation"}),
        "cardiac_provenance.mkv": Clip(where, fps=cine.fps),
        "power_doppler_before_after.png": Clip(still[:1], fps=1.0),
        "scores.json": json.dumps(scores, indent=2) + "\n",
    }
    _write_all(out_dir, outputs)
    return scores


def _write_all(out_dir: Path, outputs: dict) -> None:
    """Every output or none: each is written beside its target and renamed only when all are written
    (a full disk part-way leaves no half-filled folder; a folder made here is removed again)."""
    from ...io import encode_clip
    from ...io.atomic import atomic_paths, made_folder

    with made_folder(out_dir), atomic_paths([out_dir / name for name in outputs], overwrite=True) as temporaries:
        for content, tmp in zip(outputs.values(), temporaries):
            if isinstance(content, str):
                tmp.write_text(content)
            else:
                encode_clip(content, tmp)


def summary(scores: dict) -> str:
    s, t = scores["sonosynth"], scores["telea"]
    seen, inferred = scores["sonosynth_by_provenance"]["seen elsewhere"], scores["sonosynth_by_provenance"]["inferred"]
    return (f"cardiac cine with painted colour flow (mask IoU {scores['mask_iou']:.3f}):\n"
            f"  sonosynth: masked PSNR {s['psnr']:.1f} dB, colour-box SSIM {s['box_ssim']:.3f}, "
            f"whole-frame SSIM {s['ssim']:.3f}, flicker ratio {s['flicker']:.2f}\n"
            f"  Telea:     masked PSNR {t['psnr']:.1f} dB, colour-box SSIM {t['box_ssim']:.3f}, "
            f"whole-frame SSIM {t['ssim']:.3f}, flicker ratio {t['flicker']:.2f}\n"
            f"  sonosynth's pixels seen in another frame: {seen['share']:.0%} of the painted ones, masked PSNR "
            f"{seen['psnr']:.1f} dB; inferred from their surroundings alone: {inferred['share']:.0%}, {inferred['psnr']:.1f} dB "
            f"(cardiac_provenance.mkv)\n"
            f"power Doppler still: {100 * scores['power_doppler']['rebuilt_fraction']:.2f} % of pixels were rebuilt (the colour, and a 2-px rim where the codec was lossy)")
