"""`sonosynth mask` (Doppler mask of a clip) and `sonosynth overlay` (paint synthetic CFD)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import typer


def preview_frames(frames: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """RGB frames with the mask tinted green and its outline drawn, for looking at a mask."""
    import cv2

    rgb = frames if frames.ndim == 4 else np.repeat(frames[..., None], 3, axis=-1)
    out = rgb.copy()
    tint = np.array([0, 255, 0], np.float32)
    for i in range(out.shape[0]):
        m = mask[i]
        out[i][m] = (0.5 * out[i][m] + 0.5 * tint).astype(np.uint8)
        edge = m & ~cv2.erode(m.view(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        out[i][edge] = (255, 0, 255)
    return out


def preview_clip(clip, mask: np.ndarray, path: Path):
    """The preview to write at `path`: a PNG shows the frame with the most mask, a video shows every frame."""
    from ..clip import Clip

    frames = preview_frames(clip.frames, mask)
    if path.suffix.lower() == ".png":
        k = int(mask.reshape(mask.shape[0], -1).sum(axis=1).argmax())
        frames = frames[k: k + 1]
    return Clip(frames, fps=clip.fps, source={"derivation": "sonosynth mask preview"})


def mask_command(
    file: Path = typer.Argument(..., help="Input clip (DICOM, video, image, npz...)."),
    output: Path = typer.Option(..., "-o", "--output", help="Mask clip to write (.npz keeps it exact)."),
    preview: Path = typer.Option(None, "--preview", help="Also write an overlay to look at (.png or .mp4)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing outputs."),
) -> None:
    """Write the colour-Doppler mask of FILE: 255 where flow colour (or the colour-box outline) is, 0 elsewhere."""
    from ..clip import Clip
    from ..io import check_clip_outputs, read_clip, write_clips
    from ..preprocess.doppler import doppler_mask

    check_clip_outputs(output, preview, overwrite=overwrite, inputs=(file,))
    clip = read_clip(file)
    check_clip_outputs(output, overwrite=overwrite, frames=clip.n_frames)  # a .png preview is a still of frame 0
    mask = doppler_mask(clip)
    out = Clip((mask * 255).astype(np.uint8), fps=clip.fps, spacing=clip.spacing,
               source={"derivation": "sonosynth Doppler mask"})
    outputs = [(out, output)] + ([(preview_clip(clip, mask, preview), preview)] if preview is not None else [])
    write_clips(outputs, overwrite=overwrite)  # both or neither
    typer.echo(f"{output}: {mask.shape[0]} frames, Doppler fraction {mask.mean():.4f}")


def overlay_command(
    file: Path = typer.Argument(..., help="Greyscale input clip."),
    output: Path = typer.Option(..., "-o", "--output", help="Painted clip to write."),
    seed: int = typer.Option(..., "--seed", min=0, help="Random seed: the same seed gives the same bytes."),
    style: str = typer.Option("cfd", "--style", help="cfd (velocity map) or power (power Doppler)."),
    box_shape: str = typer.Option("auto", "--box-shape",
                                  help="auto (trapezoid on fan images, else rectangle), rect, sector or annulus (arcs top and bottom)."),
    truth_mask: Path = typer.Option(None, "--truth-mask", help="Also write the exact painted mask (.npz)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing outputs."),
) -> None:
    """Paint a synthetic colour-flow overlay on a greyscale clip (paired data with known truth)."""
    from ..clip import Clip
    from ..io import check_clip_outputs, read_clip, write_clips
    from ..synth.overlay import paint_cfd

    check_clip_outputs(output, truth_mask, overwrite=overwrite, inputs=(file,))
    clip = read_clip(file)
    check_clip_outputs(output, truth_mask, overwrite=overwrite, frames=clip.n_frames)
    rgb, mask, _ = paint_cfd(clip.grey(), seed, clip.fps, style=style, box_shape=box_shape)
    derived = f"synthetic colour-Doppler overlay (sonosynth overlay, style {style}, box {box_shape}, seed {seed})"
    outputs = [(Clip(rgb, fps=clip.fps, spacing=clip.spacing, source={"derivation": derived}), output)]
    if truth_mask is not None:
        outputs.append((Clip((mask * 255).astype(np.uint8), fps=clip.fps, source={"derivation": derived}), truth_mask))
    write_clips(outputs, overwrite=overwrite)  # both or neither
    typer.echo(f"{output}: {rgb.shape[0]} frames, painted fraction {mask.mean():.4f}")


def register(app: typer.Typer) -> None:
    app.command("mask")(mask_command)
    app.command("overlay")(overlay_command)
