"""`sonosynth train METHOD`: train a method's model (translate today)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

train_app = typer.Typer(help="Train a model.", no_args_is_help=True)


@train_app.command("translate")
def train_translate(
    data: Path = typer.Option(..., "--data", help="Folder of greyscale clips, or a .txt/.csv manifest (csv: a 'file' column)."),
    out: Path = typer.Option(..., "--out", help="Run folder: checkpoints, logs, previews, exported weights."),
    preset: str = typer.Option("small", "--preset", help="small (CPU, minutes: the shipped recipe), full (GPU, 256², wider), tiny (tests)."),
    config: Optional[Path] = typer.Option(None, "--config", help="YAML file overriding preset fields."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Override the number of training steps."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out from its last checkpoint."),
    exclude_held_out: bool = typer.Option(True, "--exclude-held-out/--include-held-out",
                                          help="Leave out the lung clips that benchmarks report on."),
    accelerator: str = typer.Option("auto", "--accelerator", help="cpu, gpu or auto."),
    devices: str = typer.Option("auto", "--devices", help="Number of devices per node, or auto."),
    num_nodes: int = typer.Option(1, "--num-nodes", help="Nodes (SLURM/torchrun set the rest)."),
    max_minutes: Optional[float] = typer.Option(None, "--max-minutes",
                                                help="Stop after this many minutes of training and export what is there."),
) -> None:
    """Train the CFD→greyscale translation model from greyscale clips alone (holes come from the synthesiser)."""
    from ..methods.translate.config import TranslateConfig
    from ..methods.translate.train import started_by_hand, train
    from ..progress import is_quiet
    from ..synth.holdout import HELD_OUT_LUNG_CLIPS

    cfg = TranslateConfig.preset(preset)
    if config is not None:
        cfg = cfg.with_yaml(config)
    if steps is not None:
        cfg = cfg.override(steps=steps)
    dev: int | str = int(devices) if devices.isdigit() else devices
    weights = train(cfg, data, out, resume=resume, exclude=HELD_OUT_LUNG_CLIPS if exclude_held_out else (),
                    accelerator=accelerator, devices=dev, num_nodes=num_nodes, quiet=is_quiet(), max_minutes=max_minutes,
                    card={"preset": preset, "held_out": list(HELD_OUT_LUNG_CLIPS) if exclude_held_out else []})
    if started_by_hand():  # the other ranks of a DDP run end here too; one line is enough
        typer.echo(f"weights: {weights}")


@train_app.command("export")
def export(
    checkpoint: Path = typer.Argument(..., help="A training checkpoint (RUN/checkpoints/*.ckpt)."),
    out: Path = typer.Option(..., "-o", "--out", help="Weights file to write (.safetensors; the .json goes beside it)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUT if it exists."),
) -> None:
    """Export the generator of a checkpoint as weights that `sonosynth translate --weights` takes."""
    from ..errors import BadOption
    from ..methods.translate.train import export_checkpoint

    if out.suffix != ".safetensors":
        raise BadOption("--out must end in .safetensors")
    if not checkpoint.is_file():
        raise BadOption(f"checkpoint {checkpoint} does not exist")
    typer.echo(f"weights: {export_checkpoint(checkpoint, out, overwrite=overwrite)}")


def register(app: typer.Typer) -> None:
    app.add_typer(train_app, name="train")
