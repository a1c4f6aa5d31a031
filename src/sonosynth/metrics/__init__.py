"""Evaluation metrics: paired (SSIM, MS-SSIM, PSNR, MAE), distribution (FID, KID, FVD), DIV,
temporal flicker, perceptual scores, downstream tasks and the report.

Importing this package is light (numpy/scipy): the torch-based parts load on first use.
"""
from __future__ import annotations

import importlib

from .paired import mae, ms_ssim, psnr, ssim, ssim_frames

_LAZY = {
    "frechet_distance": "frechet",
    "kid": "frechet",
    "gaussian_stats": "frechet",
    "fid": "fid",
    "fid_features": "fid",
    "fvd": "fvd",
    "i3d_features": "fvd",
    "diversity": "div",
    "temporal_flicker": "flicker",
    "warping_error": "flicker",
}


def __getattr__(name: str):
    if name in _LAZY:
        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ssim", "ssim_frames", "ms_ssim", "psnr", "mae", *_LAZY]
