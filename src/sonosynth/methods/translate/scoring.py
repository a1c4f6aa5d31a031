"""Scores of a translation against the greyscale truth, as the benchmark and the demo report them."""
from __future__ import annotations

import numpy as np

from ...metrics import ssim


def translation_scores(out: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """Whole-frame SSIM, SSIM over the colour box (bounding box of all masked pixels), PSNR and MAE pooled
    over all masked pixels of the clip, and the flicker ratio: mean |frame-to-frame change| inside the
    mask (pixels masked in either frame), output over truth (1 = as steady as the real anatomy)."""
    mse, mae = pooled_errors(out, truth, mask, empty=0.0)
    box = np.zeros_like(mask)
    if mask.any():
        ys, xs = np.nonzero(mask.any(axis=0))
        box[:, ys.min():ys.max() + 1, xs.min():xs.max() + 1] = True
    result = {
        "ssim": ssim(out, truth),
        "box_ssim": ssim(out, truth, box) if mask.any() else 1.0,
        "psnr": pooled_psnr(mse),
        "mae": mae,
        "flicker": float("nan"),
    }
    if len(out) > 1:
        pair = mask[1:] | mask[:-1]
        change_out = np.abs(np.diff(out.astype(np.float64), axis=0))[pair].mean()
        change_truth = np.abs(np.diff(truth.astype(np.float64), axis=0))[pair].mean()
        result["flicker"] = float(change_out / max(change_truth, 1e-6))
    return result


def scores_by_provenance(out: np.ndarray, truth: np.ndarray, mask: np.ndarray, maps: np.ndarray) -> dict[str, dict]:
    """The masked pixels split by the provenance map's level (`pipeline.provenance_map`): for "seen elsewhere"
    (128) and "inferred" (255), their share of the masked pixels, count, MSE, PSNR and MAE against the truth."""
    from .pipeline import INFERRED, SEEN_ELSEWHERE

    result = {}
    for label, level in (("seen elsewhere", SEEN_ELSEWHERE), ("inferred", INFERRED)):
        chosen = mask & (maps == level)
        mse, mae = pooled_errors(out, truth, chosen, empty=float("nan"))
        result[label] = {"share": float(chosen.sum() / max(1, mask.sum())), "pixels": int(chosen.sum()), "mse": mse,
                         "psnr": pooled_psnr(mse), "mae": mae}
    return result


def pooled_errors(out: np.ndarray, truth: np.ndarray, chosen: np.ndarray, empty: float) -> tuple[float, float]:
    """(MSE, MAE) pooled over the `chosen` pixels of the whole clip; `empty` for both where none is chosen."""
    d = out[chosen].astype(np.float64) - truth[chosen]
    return (float(np.mean(d**2)), float(np.mean(np.abs(d)))) if d.size else (empty, empty)


def pooled_psnr(mse: float) -> float:
    """PSNR (dB, peak 255) of a pooled MSE; a perfect fill reads 148 dB (MSE floored at 1e-10); NaN stays NaN."""
    return float("nan") if np.isnan(mse) else 10 * np.log10(255.0**2 / max(mse, 1e-10))
