"""`sonosynth demo`: the README's main job on real inputs that ship with pydicom (no download)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def demo(
    out: Path = typer.Option(Path("demo-out"), "-o", "--out", help="Folder for the videos, pictures and scores."),
    weights: Optional[Path] = typer.Option(None, "--weights", help="Weights to use instead of the shipped model."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the painted colour flow."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace files already in OUT."),
) -> None:
    """Paint colour flow on pydicom's real cardiac cine, translate it back to greyscale, score it against the
    truth (with Telea for comparison); also translate pydicom's real power-Doppler image."""
    from ..methods.translate.demo import run_demo, summary

    scores = run_demo(out, overwrite=overwrite, weights=weights, seed=seed)
    typer.echo(summary(scores))
    typer.echo(f"wrote {out}/cardiac_side_by_side.mp4 (CFD | sonosynth | Telea | truth), {out}/cardiac_translated.mp4, "
               f"{out}/cardiac_provenance.mkv, {out}/power_doppler_before_after.png and {out}/scores.json")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
