"""The codec rim: hole pixels rebuilt only because a lossy codec may have disturbed them.

After a lossy codec `rebuild_mask` widens the holes by `doppler.LOSSY_MARGIN` px, since the codec smears
colour a pixel or two past where any chroma shows. Most of that rim is tissue the colour never covered:
on painted training clips after H.264 its pixels read 34.7 dB against the truth as recorded and 28.2 dB
as rebuilt. So a rim pixel keeps its recorded grey where it shows no colour and the fill agrees with
it; where the recorded grey is far from the fill, it is more often faint colour the detector missed
(a dark or pale flow colour whose chroma the codec flattened) than tissue, and the fill stays.

Off as shipped (`RIM_KEEP_CHANGE` 0): whole-frame SSIM rose a little, but the rim's pixel-by-pixel
choice between recorded grey and fill changes from frame to frame, so the flicker rose, and the masked
PSNR fell (docs/translate.md, *Found and not yet fixed*). Kept for users who want the recorded pixels.
"""
from __future__ import annotations

import numpy as np

from ...preprocess.doppler import chroma

RIM_KEEP_CHROMA = 16  # a rim pixel with chroma below this shows no colour (`doppler.looks_lossy`'s faint chroma)
RIM_KEEP_CHANGE = 0  # ... and keeps its recorded grey when the fill differs from it by less than this (0 = off;
                     # 64 was tried and is off: the held-out masked PSNR fell and the flicker rose, docs/translate.md)


def keep_clean_rim(frames: np.ndarray, grey: np.ndarray, rebuilt: np.ndarray, rim: np.ndarray) -> np.ndarray:
    """`rebuilt` (T,H,W) uint8 with the recorded `grey` restored at the `clean_rim` pixels."""
    keep = clean_rim(frames, grey, rebuilt, rim)
    return np.where(keep, grey, rebuilt) if keep.any() else rebuilt


def clean_rim(frames: np.ndarray, grey: np.ndarray, rebuilt: np.ndarray, rim: np.ndarray) -> np.ndarray:
    """(T,H,W) bool: the `rim` pixels that show no colour in `frames` (T,H,W[,3]) and whose recorded `grey`
    lies within RIM_KEEP_CHANGE grey levels of the fill `rebuilt`; none while RIM_KEEP_CHANGE is 0."""
    if RIM_KEEP_CHANGE <= 0 or not rim.any():
        return np.zeros(rim.shape, bool)
    colourless = chroma(frames) < RIM_KEEP_CHROMA if frames.ndim == 4 else np.ones(grey.shape, bool)
    near = np.abs(grey.astype(np.int16) - rebuilt) < RIM_KEEP_CHANGE
    return rim & colourless & near
