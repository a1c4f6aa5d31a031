"""`sonosynth demo`: Doppler masks on real data that ships with pydicom (no download needed).

Temporary: the translation demo will replace it. It previews the Doppler mask of pydicom's
real GE power-Doppler example, and of a CFD-painted greyscale copy of its real 30-frame
SonoSite cardiac cine, where it also reports the mask IoU against the painted truth.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import typer


def demo_command(
    outdir: Path = typer.Option(..., "-o", "--output", help="Folder for the preview files (created if missing)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing previews."),
) -> None:
    """Detect and preview Doppler masks on pydicom's real ultrasound examples."""
    from pydicom.data import get_testdata_file

    from ..clip import Clip
    from ..errors import MissingDependency
    from ..io import read_clip, write_clip
    from ..io.atomic import check_writable
    from ..preprocess.doppler import doppler_mask
    from ..synth.overlay import paint_cfd
    from .doppler import write_preview

    outdir.mkdir(parents=True, exist_ok=True)
    names = ("power_doppler_mask.png", "cardiac_painted.mp4", "cardiac_painted_mask.mp4", "cardiac_painted_mask.png")
    for name in names:
        check_writable(outdir / name, overwrite)
    power, cine = get_testdata_file("examples_jpeg2k.dcm"), get_testdata_file("examples_ybr_color.dcm")
    if power is None or cine is None:
        raise MissingDependency("pydicom's test data (examples_jpeg2k.dcm, examples_ybr_color.dcm) is not installed")
    clip = read_clip(power)
    mask = doppler_mask(clip)
    write_preview(clip, mask, outdir / names[0], overwrite)
    typer.echo(f"power Doppler example: Doppler fraction {mask.mean():.4f} -> {outdir / names[0]}")

    grey = read_clip(cine)
    rgb, truth, _ = paint_cfd(grey.grey(), seed=0, fps=grey.fps)
    painted = Clip(rgb, fps=grey.fps, source={"derived": "synthetic colour-Doppler overlay (sonosynth demo, seed 0)"})
    write_clip(painted, outdir / names[1], overwrite=overwrite)
    found = doppler_mask(painted)
    write_preview(painted, found, outdir / names[2], overwrite)
    write_preview(painted, found, outdir / names[3], overwrite)
    iou = float((found & truth).sum() / max(1, (found | truth).sum()))
    typer.echo(f"painted cardiac cine ({rgb.shape[0]} frames): mask IoU vs painted truth (lossless) {iou:.3f} -> {outdir}")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
