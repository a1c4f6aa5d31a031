"""Lung clips held apart from every training run: all benchmarks report on these only."""
from __future__ import annotations

HELD_OUT_LUNG_CLIPS: tuple[str, ...] = (
    "convex_Reg_pat4Image_140705.mpeg",
    "convex_Reg_pat3Image_135215.mpeg",
    "linear_Reg_Image_181432_crop.mp4",
    "convex_Cov_convex_volpecelli_sonographic_v5.mov",
    "convex_Vir_whitelung_h1n1.mp4",
    "linear_Pneu_prospective_file3.mp4",
)


def is_held_out(name: str) -> bool:
    """True if a lung clip file name (or path ending in it) is one of the held-apart clips."""
    return name.replace("\\", "/").rsplit("/", 1)[-1] in HELD_OUT_LUNG_CLIPS
