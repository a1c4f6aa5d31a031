"""`sonosynth study create | serve | analyze`: the blinded real-vs-synthetic reader study."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

study_app = typer.Typer(help="Blinded reader study: can clinicians tell synthetic clips from real ones?",
                        no_args_is_help=True)


@study_app.command("create")
def create(
    real: Path = typer.Option(..., "--real", help="Folder of real clips (DICOM, mp4, avi, ...)."),
    synthetic: Path = typer.Option(..., "--synthetic", help="Folder of synthetic clips."),
    out: Path = typer.Option(..., "-o", "--out", help="Study folder to create (holds the key: keep it private)."),
    raters: int = typer.Option(2, "--raters", help="Number of raters (one invite link each)."),
    cases: Optional[int] = typer.Option(None, "--cases", help="Cases in all, half real, half synthetic (default: as many as balance allows)."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed for the choice of cases and each rater's order."),
    size: Optional[int] = typer.Option(None, "--size", help="Side of the square video in pixels (default: smallest clip's long side)."),
    fps: Optional[float] = typer.Option(None, "--fps", help="Frame rate of every study video (default: the lowest input rate)."),
    frames: Optional[int] = typer.Option(None, "--frames", help="Frames per video (default: what the shortest clip fills, at most --max-frames)."),
    max_frames: int = typer.Option(90, "--max-frames", help="Cap on the default frame count."),
    crf: int = typer.Option(18, "--crf", min=0, max=51, help="H.264 quality for every video (lower is better)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing study folder (its answers are lost)."),
) -> None:
    """Pick cases, blind the media (one format, opaque names, no metadata) and write the key and invite tokens."""
    from ..study.create import StudyOptions, create_study

    opts = StudyOptions(raters=raters, cases=cases, seed=seed, size=size, fps=fps, frames=frames,
                        max_frames=max_frames, crf=crf)
    done = create_study(real, synthetic, out, opts, overwrite=overwrite)
    typer.echo(f"study created in {done}; run: sonosynth study serve {done}")


@study_app.command("serve")
def serve(
    study: Path = typer.Argument(..., help="Study folder made by `sonosynth study create`."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="Public address for the printed links (behind a proxy)."),
) -> None:
    """Serve the study; prints the admin link and one invite link per rater."""
    from ..study.app import serve as run

    run(study, host=host, port=port, base_url=base_url)


@study_app.command("analyze")
def analyze(
    study: Path = typer.Argument(..., help="Study folder."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Report folder (default: STUDY/report, refreshed each run)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a report already in --out."),
) -> None:
    """Accuracy (Wilson CI, binomial test), sensitivity/specificity, kappas, realism, CSV of every answer, plots."""
    from ..study.analyze import text_report
    from ..study.report import write_report

    target = out if out is not None else study / "report"
    summary = write_report(study, target, overwrite=overwrite or out is None)
    typer.echo(text_report(summary), nl=False)
    typer.echo(f"report written to {target}")


def register(app: typer.Typer) -> None:
    app.add_typer(study_app, name="study")
