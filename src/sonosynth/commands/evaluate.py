"""`sonosynth evaluate` (metrics report) and `sonosynth evaluate-downstream` (classification/segmentation).

The downstream tests are a separate command group rather than `evaluate downstream`, because
`evaluate` takes its inputs as options and a typer group cannot also be such a command.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from ..device import check_device
from ..errors import BadOption

DEVICE_HELP = "cpu, cuda or cuda:N."


def _threads(device: str) -> None:
    import torch

    if device == "cpu":
        torch.set_num_threads(max(1, min(torch.get_num_threads(), 4)))


def evaluate(
    real: Path = typer.Option(..., "--real", "-r", help="Real clip, or folder of clips."),
    fake: Path = typer.Option(..., "--fake", "-f", help="Generated clip, or folder of clips."),
    out: Path = typer.Option(..., "-o", "--out", help="Report folder to create (metrics.json, index.html)."),
    pairs: bool = typer.Option(False, "--pairs", help="Real and fake are pairs (same names, or same order): adds SSIM, PSNR, MAE, flicker..."),
    mask: Optional[Path] = typer.Option(None, "--mask", help="Mask for all pairs (any clip or image, as `translate --mask`: e.g. the .npz `sonosynth mask` writes; or an .npz with an array 'mask'), or a folder with one per fake clip (same stem). Needs --pairs."),
    metrics: Optional[str] = typer.Option(None, "--metrics", help="Comma-separated: ssim,ms_ssim,psnr,mae,flicker,warp,lpips,fid,kid,fvd,domain (default: all)."),
    device: str = typer.Option("cpu", "--device", help=DEVICE_HELP),
    frames_per_clip: int = typer.Option(8, "--frames-per-clip", min=1, help="Frames per clip for FID/KID (evenly spaced)."),
    windows_per_clip: int = typer.Option(4, "--windows-per-clip", min=1, help="16-frame windows per clip for FVD (evenly spaced)."),
    perceptual_weights: Optional[Path] = typer.Option(None, "--perceptual-weights", help="VGG-16 (+ LPIPS heads) safetensors; without it LPIPS is reported as unavailable."),
    domain_weights: Optional[Path] = typer.Option(None, "--domain-weights", help="Domain network from `evaluate-downstream domain-net`, for domain FVD."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing report folder."),
) -> None:
    """Compare generated clips with real ones and write a report with its protocol stated."""
    from ..metrics import suite
    from ..io.atomic import check_replaceable_folder
    from ..metrics.report import REPORT_FILES, write_report

    check_replaceable_folder(out, REPORT_FILES, "metrics report", overwrite)  # before the long part
    opts = suite.Options(metrics=suite.parse_metrics(metrics), pairs=pairs, mask=mask, device=check_device(device),
                         frames_per_clip=frames_per_clip, windows_per_clip=windows_per_clip,
                         perceptual_weights=perceptual_weights, domain_weights=domain_weights)
    if mask is not None and not mask.exists():
        raise BadOption(f"mask {mask} not found")
    _threads(opts.device)
    results = suite.run(real, fake, opts)
    write_report(results, out, overwrite=overwrite)
    summary = dict(results.get("distribution", {}))
    if "paired" in results:
        summary.update({k: round(v["mean"], 4) for k, v in results["paired"]["summary"].items()})
    from ..metrics.report import json_safe

    # valid JSON on stdout: a score that is not finite (PSNR of identical clips) is written as a string, as in the report
    typer.echo(json.dumps(json_safe({k: (round(v, 4) if isinstance(v, float) else v) for k, v in summary.items()})))
    for w in results.get("warnings", []):
        typer.echo(f"warning: {w}", err=True)
    typer.echo(f"report: {out / 'index.html'}", err=True)


downstream = typer.Typer(help="Downstream tests: lung clip classification, nerve segmentation, and the domain network.",
                         no_args_is_help=True)


def _write_json(result: dict, out: Path, overwrite: bool) -> None:
    from ..io.atomic import atomic_path
    from ..metrics.report import json_safe

    with atomic_path(out, overwrite=overwrite) as tmp:
        tmp.write_text(json.dumps(json_safe(result), indent=1))


def _run_downstream(run, cfg_cls, data: Path, extra, preset: str, seeds: Optional[str], out: Path, overwrite: bool) -> dict:
    """Shared by classify/segment: check the output, pick the preset and seeds, run, write the JSON."""
    import dataclasses

    from ..io.atomic import check_writable

    check_writable(out, overwrite)
    cfg = _preset(cfg_cls, preset)
    if seeds is not None:  # an empty --seeds is refused, not taken for the preset's
        cfg = dataclasses.replace(cfg, seeds=_seeds(seeds))
    _threads("cpu")
    result = run(data, cfg, extra, log=lambda s: typer.echo(s, err=True))
    _write_json(result, out, overwrite)
    return result


PRESET_HELP = "small (2-core CPU, well under an hour) or full (GPU)."
SEEDS_HELP = "Comma-separated seeds (default: the preset's)."


@downstream.command("classify")
def classify(
    data: Path = typer.Option(Path("../shared/data/lung"), "--data", help="Lung data folder with clips.csv."),
    synthetic: Optional[Path] = typer.Option(None, "--synthetic", help="Folder of synthetic clips, each named after its source lung clip (stem prefix)."),
    preset: str = typer.Option("small", "--preset", help=PRESET_HELP),
    seeds: Optional[str] = typer.Option(None, "--seeds", help=SEEDS_HELP),
    out: Path = typer.Option(..., "-o", "--out", help="JSON file for the table."),
    overwrite: bool = typer.Option(False, "--overwrite"),
) -> None:
    """Cross-validated F1/accuracy of a 3D ResNet-18 trained on real, synthetic, real+synthetic clips."""
    from ..metrics.downstream import ClsConfig, run_classification

    result = _run_downstream(run_classification, ClsConfig, data, synthetic, preset, seeds, out, overwrite)
    for name, row in result["table"].items():
        typer.echo(f"{name:32s} " + "  ".join(f"{k} {v['mean']:.3f} ± {v['ci95']:.3f}" for k, v in row.items()))


@downstream.command("segment")
def segment(
    data: Path = typer.Option(Path("../shared/data/nerve"), "--data", help="Nerve data folder (images/, masks/, test/)."),
    processed: Optional[Path] = typer.Option(None, "--processed", help="Folder of processed/translated test images, same names as test/images."),
    preset: str = typer.Option("small", "--preset", help=PRESET_HELP),
    seeds: Optional[str] = typer.Option(None, "--seeds", help=SEEDS_HELP),
    out: Path = typer.Option(..., "-o", "--out", help="JSON file for the table."),
    overwrite: bool = typer.Option(False, "--overwrite"),
) -> None:
    """Dice of a U-Net to the hand masks, and between its segmentations of real and processed images."""
    from ..metrics.downstream_seg import SegConfig, run_segmentation

    result = _run_downstream(run_segmentation, SegConfig, data, processed, preset, seeds, out, overwrite)
    for name, row in result["table"].items():
        typer.echo(f"{name:45s} {row['mean']:.3f} ± {row['ci95']:.3f} (n={row['n']})")


@downstream.command("domain-net")
def domain_net(
    data: Path = typer.Option(Path("../shared/data/lung"), "--data", help="Lung data folder with clips.csv."),
    out: Path = typer.Option(..., "-o", "--out", help="Weights file to write (.safetensors)."),
    preset: str = typer.Option("small", "--preset", help="small or full."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the network's initial weights and of the sample order."),
    overwrite: bool = typer.Option(False, "--overwrite"),
) -> None:
    """Train the lung classifier on the non-held-out clips and save it as the domain-FVD network."""
    from ..io.atomic import check_writable
    from ..metrics.domain import train_domain_net
    from ..metrics.downstream import ClsConfig

    if out.suffix != ".safetensors":
        raise BadOption("the domain network is written as .safetensors")
    check_writable(out, overwrite)
    _threads("cpu")
    info = train_domain_net(data, out, _preset(ClsConfig, preset), seed, overwrite)
    typer.echo(f"wrote {info['path']} (trained on {info['n_train_clips']} clips)")


def _preset(cls, name: str):
    if name not in ("small", "full"):
        raise BadOption(f"--preset must be small or full, got {name!r}")
    return getattr(cls, name)()


MAX_SEED = 2**32 - 1  # numpy's and PyTorch's seeds stop here


def _seeds(text: str) -> tuple[int, ...]:
    """Distinct seeds: a seed given twice would count as two independent runs and narrow the interval."""
    parts = [s.strip() for s in text.split(",")]
    try:
        seeds = tuple(int(s) for s in parts)
    except ValueError:
        seeds = ()
    if not seeds or min(seeds) < 0 or max(seeds) > MAX_SEED or len(set(seeds)) < len(seeds):
        raise BadOption(f"--seeds must be distinct comma-separated whole numbers from 0 to {MAX_SEED}, got {text!r}")
    return seeds


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate)
    app.add_typer(downstream, name="evaluate-downstream")
