"""`sonosynth translate` (colour-Doppler clip in, greyscale B-mode clip out) and `translate-folder` (every clip of a folder)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

MOSTLY_REBUILT = 0.5  # above this share of rebuilt pixels `translate` warns: the fill has too little to go on

# The model's options, shared by `translate` and `translate-folder`.
WEIGHTS = typer.Option(None, "--weights", help="Weights (.safetensors with its .json); default: shipped small model.")
DEVICE = typer.Option("cpu", "--device", help="cpu, cuda or cuda:N.")
BATCH = typer.Option(8, "--batch", help="Frames per network call.")
FRAME_BY_FRAME = typer.Option(False, "--frame-by-frame", help="Ignore other frames (the paper's setting; for comparison).")
SINGLE_PASS = typer.Option(False, "--single-pass",
                           help="One network pass, not the mean with the mirrored input's: about 1.5x faster, slightly worse fills.")
PRECISION = typer.Option("float32", "--precision",
                         help="float32, or bfloat16: 1.4-2x faster where the hardware has bfloat16 arithmetic "
                              "(slower where it has not), fills within a few thousandths of a dB.")
CRF = typer.Option(23, "--crf", min=0, max=51, help="H.264 quality of .mp4 outputs (0 best, 51 worst).")
SPECKLE = typer.Option(None, "--speckle/--no-speckle",
                       help="Add speckle copied from nearby tissue to rebuilt pixels (default: stills only).")


def translate_command(
    src: Path = typer.Argument(..., help="Input clip (DICOM, mp4, avi, mov, png, npz, ...)."),
    out: Path = typer.Option(..., "-o", "--out", help="Output clip; format from the extension (.mp4 .mkv .gif .npz .dcm .png)."),
    weights: Optional[Path] = WEIGHTS,
    device: str = DEVICE,
    batch: int = BATCH,
    mask: Optional[Path] = typer.Option(None, "--mask", help="Use this mask clip (255 = replace) instead of detecting colour."),
    frame_by_frame: bool = FRAME_BY_FRAME,
    single_pass: bool = SINGLE_PASS,
    precision: str = PRECISION,
    speckle: Optional[bool] = SPECKLE,
    crf: int = CRF,
    provenance: Optional[Path] = typer.Option(
        None, "--provenance", help="Also write where each output pixel came from (.mkv .npz .png): 0 the input's own, "
                                   "128 rebuilt with another frame's view of it, 255 inferred from its surroundings alone."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUT (and the --provenance file) if it exists."),
) -> None:
    """Find the colour-Doppler pixels and rebuild the greyscale anatomy under them; every other pixel is kept."""
    from ..io import size_written
    from ..methods.translate.files import translate_file

    done = translate_file(src, out, _translator(weights, device, batch, frame_by_frame, single_pass, precision),
                          overwrite=overwrite, mask=mask, speckle=speckle, provenance=provenance, crf=crf)
    typer.echo(f"wrote {out} ({done.frames} frames, {size_written(out, done.height, done.width)}, {done.fps:g} fps; "
               f"{100 * done.rebuilt:.2f} % of pixels rebuilt, {100 * done.inferred:.0f} % of those inferred "
               "from their surroundings alone)"
               + (f" and {provenance}" if provenance else ""))
    if done.rebuilt > MOSTLY_REBUILT:
        typer.echo(f"warning: {100 * done.rebuilt:.0f} % of the picture was colour (or taken for it): little tissue "
                   "was left to rebuild it from, so the fill there is a guess", err=True)


def translate_folder_command(
    src: Path = typer.Argument(..., help="Folder of clips (searched through its subfolders)."),
    out: Path = typer.Option(..., "-o", "--out", help="Output folder: each clip lands at its own relative path."),
    suffix: Optional[str] = typer.Option(None, "--suffix", help="Output format for every clip (.mp4 .mkv .gif .npz .dcm .png); "
                                         "default: the input's own, else .dcm for DICOM, .png for stills, lossless .mkv for video."),
    weights: Optional[Path] = WEIGHTS,
    device: str = DEVICE,
    batch: int = BATCH,
    frame_by_frame: bool = FRAME_BY_FRAME,
    single_pass: bool = SINGLE_PASS,
    precision: str = PRECISION,
    speckle: Optional[bool] = SPECKLE,
    crf: int = CRF,
    provenance: Optional[Path] = typer.Option(
        None, "--provenance", help="Folder for each clip's provenance map (.mkv at the output's relative path; "
                                   "levels as for `translate --provenance`)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Redo outputs that exist (default: keep them, so a rerun finishes a batch)."),
) -> None:
    """Translate every clip of a folder with one loaded model; a clip that fails is logged and the rest go on.

    Writes OUT/translate_log.csv (each clip: translated, kept or failed, and why; the share of its pixels
    rebuilt, and of those the share inferred from their surroundings alone); exit code 2 if any failed."""
    from ..errors import UserError
    from ..methods.translate.files import FOLDER_LOG, translate_folder

    rows = translate_folder(src, out, _translator(weights, device, batch, frame_by_frame, single_pass, precision), suffix=suffix,
                            overwrite=overwrite, speckle=speckle, maps_dir=provenance, crf=crf,
                            echo=lambda line, failed: typer.echo(line, err=failed))
    counts = {s: sum(r["status"] == s for r in rows) for s in ("translated", "kept", "failed")}
    summary = (f"{counts['translated']} translated, {counts['kept']} kept, {counts['failed']} failed "
               f"of {len(rows)} clips; log: {out / FOLDER_LOG}")
    if counts["failed"]:
        raise UserError(summary)
    typer.echo(summary)


def _translator(weights, device, batch, frame_by_frame, single_pass, precision):
    """A function that loads the model: called only once an input has passed its checks."""
    from ..methods.translate.pipeline import Translator

    return lambda: Translator(weights, device=device, batch=batch, temporal=not frame_by_frame, mirror=not single_pass,
                              precision=precision)


def register(app: typer.Typer) -> None:
    app.command("translate")(translate_command)
    app.command("translate-folder")(translate_folder_command)
