"""Paired frame metrics (SSIM, MS-SSIM, PSNR, MAE), whole-frame or restricted to a mask.

Numpy/scipy only, so the translation benchmark can import them without torch.
SSIM follows Wang et al. 2004 exactly as scikit-image computes it with
``gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255``:
Gaussian window (truncated at 3.5 sigma, reflect padding), and the whole-frame
score is the mean of the SSIM map without its 5-pixel border. A masked score is
the mean of the (full) SSIM map over the mask, or over the mask's bounding box.
Clip scores are the mean of the per-frame scores; frames whose mask is empty are
left out of masked means.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..errors import BadOption

SIGMA = 1.5
TRUNCATE = 3.5
C1 = (0.01 * 255) ** 2
C2 = (0.03 * 255) ** 2
_PAD = int(TRUNCATE * SIGMA + 0.5)  # 5: skimage's border crop for the mean
MS_WEIGHTS = np.array([0.0448, 0.2856, 0.3001, 0.2363, 0.1333])
REGIONS = ("mask", "bbox")


def _as_frames(a: np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype != np.uint8:
        raise BadOption(f"{name} must be uint8 frames, got dtype {a.dtype}")
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3:
        raise BadOption(f"{name} must be (T,H,W) or (H,W) greyscale, got shape {a.shape} (convert RGB with Clip.grey())")
    if a.shape[0] < 1 or min(a.shape[1:]) < 2:
        raise BadOption(f"{name} has no usable frames (shape {a.shape})")
    return a


def _pair(a, b, mask, region: str = "mask"):
    """Validate a pair (and mask); return float64-ready frames and a per-frame bool mask or None."""
    a = _as_frames(a, "first input")
    b = _as_frames(b, "second input")
    if a.shape != b.shape:
        raise BadOption(f"inputs differ in shape: {a.shape} vs {b.shape}")
    if region not in REGIONS:
        raise BadOption(f"region must be one of {REGIONS}, got {region!r}")
    if mask is None:
        return a, b, None
    m = np.asarray(mask)
    if m.dtype != bool:
        raise BadOption(f"mask must be a bool array, got dtype {m.dtype}")
    if m.ndim == 2 and m.shape == a.shape[1:]:
        m = np.broadcast_to(m, a.shape)
    if m.shape != a.shape:
        raise BadOption(f"mask shape {m.shape} does not match frames {a.shape}")
    if not m.any():
        raise BadOption("mask is empty: nothing to measure")
    if region == "bbox":
        m = np.stack([_bbox_mask(f) for f in m])
    return a, b, m


def _bbox_mask(m: np.ndarray) -> np.ndarray:
    """The bounding box of a 2-D mask, as a mask (empty stays empty)."""
    out = np.zeros_like(m, dtype=bool)
    rows, cols = np.flatnonzero(m.any(1)), np.flatnonzero(m.any(0))
    if rows.size:
        out[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1] = True
    return out


def _masked_frame_mean(values: np.ndarray, m: np.ndarray | None) -> np.ndarray:
    """Per-frame mean of a (T,H,W) array over its mask; NaN for frames with an empty mask."""
    if m is None:
        return values.reshape(values.shape[0], -1).mean(1)
    n = m.reshape(m.shape[0], -1).sum(1)
    s = np.where(m, values, 0.0).reshape(m.shape[0], -1).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, s / np.maximum(n, 1), np.nan)


def _ssim_terms(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Luminance and contrast-structure maps of two float frames (skimage's formulation)."""
    g = lambda z: ndimage.gaussian_filter(z, sigma=SIGMA, truncate=TRUNCATE, mode="reflect")
    ux, uy = g(x), g(y)
    vx = g(x * x) - ux * ux
    vy = g(y * y) - uy * uy
    vxy = g(x * y) - ux * uy
    lum = (2 * ux * uy + C1) / (ux * ux + uy * uy + C1)
    cs = (2 * vxy + C2) / (vx + vy + C2)
    return lum, cs


def ssim_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """SSIM map of each frame pair, (T,H,W) float64."""
    a, b, _ = _pair(a, b, None)
    out = np.empty(a.shape, np.float64)
    for t in range(a.shape[0]):
        lum, cs = _ssim_terms(a[t].astype(np.float64), b[t].astype(np.float64))
        out[t] = lum * cs
    return out


def ssim_frames(a, b, mask=None, region: str = "mask") -> np.ndarray:
    """Per-frame SSIM (T,), whole-frame (border cropped as skimage) or over mask/bbox."""
    a, b, m = _pair(a, b, mask, region)
    s = ssim_map(a, b)
    if m is None:
        p = _PAD
        inner = s[:, p:-p, p:-p] if min(s.shape[1:]) > 2 * p else s
        return inner.reshape(s.shape[0], -1).mean(1)
    return _masked_frame_mean(s, m)


def ssim(a, b, mask=None, region: str = "mask") -> float:
    """Mean SSIM over frames (data range 255). `region='bbox'` scores the mask's bounding box."""
    return float(np.nanmean(ssim_frames(a, b, mask, region)))


def ms_ssim_frames(a, b, mask=None, region: str = "mask") -> np.ndarray:
    """Per-frame MS-SSIM (5 scales, Wang 2003 weights, 2x2 mean downsampling).

    Negative contrast-structure terms are clipped at 0 (as common implementations do) so that
    fractional powers stay real. A mask is downsampled with the frames (kept where >= half set).
    """
    a, b, m = _pair(a, b, mask, region)
    if min(a.shape[1:]) < 2 ** (len(MS_WEIGHTS) - 1) * 11:
        raise BadOption(f"MS-SSIM needs frames of at least 176 pixels a side, got {a.shape[1:]}")
    out = np.empty(a.shape[0])
    for t in range(a.shape[0]):
        x, y = a[t].astype(np.float64), b[t].astype(np.float64)
        mt = None if m is None else m[t].astype(np.float64)
        if mt is not None and not mt.any():
            out[t] = np.nan
            continue
        score = 1.0
        for level, w in enumerate(MS_WEIGHTS):
            lum, cs = _ssim_terms(x, y)
            sel = None if mt is None else mt >= 0.5
            if sel is not None and not sel.any():  # mask vanished at a coarse scale: use its whole box
                sel = _bbox_mask(mt > 0) if (mt > 0).any() else np.ones_like(sel)
            mean = (lambda v: v.mean()) if sel is None else (lambda v: v[sel].mean())
            if level == len(MS_WEIGHTS) - 1:
                score *= max(mean(lum * cs), 0.0) ** w
            else:
                score *= max(mean(cs), 0.0) ** w
                x, y = _down2(x), _down2(y)
                mt = None if mt is None else _down2(mt)
        out[t] = score
    return out


def _down2(z: np.ndarray) -> np.ndarray:
    h, w = (z.shape[0] // 2) * 2, (z.shape[1] // 2) * 2
    z = z[:h, :w]
    return 0.25 * (z[0::2, 0::2] + z[1::2, 0::2] + z[0::2, 1::2] + z[1::2, 1::2])


def ms_ssim(a, b, mask=None, region: str = "mask") -> float:
    """Mean MS-SSIM over frames."""
    return float(np.nanmean(ms_ssim_frames(a, b, mask, region)))


def mae_frames(a, b, mask=None, region: str = "mask") -> np.ndarray:
    """Per-frame mean absolute error in grey levels (0-255)."""
    a, b, m = _pair(a, b, mask, region)
    d = np.abs(a.astype(np.float64) - b.astype(np.float64))
    return _masked_frame_mean(d, m)


def mae(a, b, mask=None, region: str = "mask") -> float:
    """Mean absolute error (L1) in grey levels, averaged over frames."""
    return float(np.nanmean(mae_frames(a, b, mask, region)))


def psnr_frames(a, b, mask=None, region: str = "mask") -> np.ndarray:
    """Per-frame PSNR in dB (peak 255); identical frames give +inf."""
    a, b, m = _pair(a, b, mask, region)
    d = (a.astype(np.float64) - b.astype(np.float64)) ** 2
    mse = _masked_frame_mean(d, m)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(255.0**2 / mse)


def psnr(a, b, mask=None, region: str = "mask") -> float:
    """Mean of per-frame PSNR (dB); +inf when every measured frame is identical."""
    return float(np.nanmean(psnr_frames(a, b, mask, region)))
