"""`sonosynth info` and `sonosynth convert`: look at a clip, and change its format."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

#: RGB clips whose channels never differ by more than this are greyscale under a display tint.
TINT_TOLERANCE = 40


def _colour(clip) -> str:
    from ..io.common import channels_agree

    if not clip.is_rgb:
        return "greyscale"
    return "tinted greyscale" if channels_agree(clip.frames, TINT_TOLERANCE) else "colour"


def doppler_fraction(clip) -> float | None:
    """Mean over frames of the share of sector pixels flagged as colour Doppler (None if unavailable)."""
    if not clip.is_rgb:
        return 0.0  # no colour, no Doppler
    try:
        from ..preprocess.doppler import doppler_mask
    except ImportError:
        return None
    mask = doppler_mask(clip)
    try:
        from ..preprocess.sector import sector_mask

        sector = sector_mask(clip)
    except ImportError:
        sector = None
    if sector is None or not sector.any():
        return float(mask.mean())
    return float((mask & sector[None]).sum(axis=(1, 2)).mean() / sector.sum())


def describe(path: Path, with_doppler: bool = True) -> dict[str, Any]:
    from ..io import read_clip

    clip = read_clip(path)
    src = clip.source
    info: dict[str, Any] = {
        "path": str(path),
        "format": src.get("format"),
        "encoding": src.get("codec") or src.get("TransferSyntax") or ("lossy" if src.get("lossy") else "lossless"),
        "frames": clip.n_frames,
        "height": clip.height,
        "width": clip.width,
        "fps": round(clip.fps, 3),
        "duration_s": round(clip.n_frames / clip.fps, 3),
        "colour": _colour(clip),
        "spacing_mm": list(clip.spacing) if clip.spacing else None,
    }
    for key in ("Modality", "Manufacturer", "PhotometricInterpretation"):
        if key in src:
            info[key] = src[key]
    if with_doppler:
        info["doppler_fraction"] = doppler_fraction(clip)
    return info


def _text(info: dict[str, Any]) -> str:
    lines = [f"{info['path']}",
             f"  format     {info['format']} ({info['encoding']})",
             f"  frames     {info['frames']}",
             f"  size       {info['height']}x{info['width']} (HxW)",
             f"  fps        {info['fps']:g} ({info['duration_s']:g} s)",
             f"  colour     {info['colour']}"]
    if info.get("spacing_mm"):
        lines.append(f"  spacing    {info['spacing_mm'][0]:.4g} x {info['spacing_mm'][1]:.4g} mm")
    if "doppler_fraction" in info:
        d = info["doppler_fraction"]
        lines.append(f"  doppler    {'unavailable' if d is None else f'{100 * d:.2f} % of the sector'}")
    return "\n".join(lines)


def info(
    file: Path = typer.Argument(..., readable=False, help="A clip: DICOM, video, image, folder of numbered frames, .mha/.mhd or .npz."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of text."),
    no_doppler: bool = typer.Option(False, "--no-doppler", help="Skip the colour-Doppler measurement (faster)."),
) -> None:
    """Frames, size, fps, format, colour and the colour-Doppler fraction of a clip."""
    data = describe(file, with_doppler=not no_doppler)
    typer.echo(json.dumps(data) if as_json else _text(data))


def convert(
    src: Path = typer.Argument(..., readable=False, help="Input clip (any format sonosynth reads)."),
    dst: Path = typer.Argument(..., help="Output: .mp4 (H.264 yuv420p; an odd height or width gains one repeated edge row/column), "
                            ".mkv (FFV1, lossless), .gif, .npz (exact), .png (one frame) or .dcm."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace DST if it exists."),
    crf: int = typer.Option(23, "--crf", min=0, max=51, help="H.264 quality for .mp4 (0 best, 51 worst)."),
) -> None:
    """Convert a clip to another format. A .dcm output is always marked derived and synthetic, with no patient data."""
    from ..io import check_clip_outputs, read_clip, size_written, write_clip

    check_clip_outputs(dst, overwrite=overwrite, inputs=(src,))  # fail before a long decode
    clip = read_clip(src)
    check_clip_outputs(dst, overwrite=overwrite, frames=clip.n_frames)
    write_clip(clip, dst, overwrite=overwrite, crf=crf)
    typer.echo(f"wrote {dst} ({clip.n_frames} frames, {size_written(dst, clip.height, clip.width)})")


def register(app: typer.Typer) -> None:
    app.command("info")(info)
    app.command("convert")(convert)
