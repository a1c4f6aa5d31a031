"""`sonosynth train translate`: one command for CPU, one GPU, several GPUs (DDP) and several nodes."""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Sequence

from ...errors import BadOption, MissingDependency
from .config import TranslateConfig
from .data import ClipBank, EpochSampler, TranslateSamples, epochs_for, list_training_clips
from .weights import save_weights


def train(cfg: TranslateConfig, data: str | Path, out: str | Path, resume: bool = False, exclude: Sequence[str] = (),
          accelerator: str = "auto", devices: str | int = "auto", num_nodes: int = 1, quiet: bool = False,
          card: dict | None = None, max_minutes: float | None = None) -> Path:
    """Train, checkpointing every `cfg.ckpt_every` steps; returns the path of the exported weights.
    `max_minutes` stops the run early (a GPU booked for a fixed time, say); the card then records the steps done."""
    try:
        import lightning as L
        from lightning.pytorch.callbacks import ModelCheckpoint
        from lightning.pytorch.loggers import CSVLogger
    except ImportError:
        raise MissingDependency("training needs the 'train' extra: pip install 'sonosynth[train]'") from None
    import torch
    from torch.utils.data import DataLoader

    from .module import TranslateModule, seed_everything

    if max_minutes is not None and not max_minutes > 0:  # NaN too
        raise BadOption("--max-minutes must be positive")
    strategy = strategy_for(accelerator, devices, num_nodes)
    out = Path(out)
    last = out / "checkpoints" / "last.ckpt"
    first = started_by_hand()
    if first and out.exists() and any(out.iterdir()) and not resume:
        raise BadOption(f"run folder {out} is not empty; pass --resume to continue it or choose another --out")
    if resume and not last.is_file():
        raise BadOption(f"nothing to resume: {last} does not exist")
    seed_everything(cfg.seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    paths = list_training_clips(data, exclude)
    bank = ClipBank(paths)  # read before the run folder is made: a bad clip leaves nothing behind
    out.mkdir(parents=True, exist_ok=True)
    if first:
        (out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2))
        (out / "training_clips.txt").write_text("\n".join(bank.names) + "\n")
    per_rank = cfg.ckpt_every * cfg.batch
    dataset = TranslateSamples(bank, cfg.crop, cfg.horizon, cfg.seed, cfg.temporal_dropout, 2**62,
                               cfg.motion, cfg.codec, cfg.align)
    loader = DataLoader(dataset, batch_size=cfg.batch, sampler=EpochSampler(per_rank),  # rank and world: at fit time
                        num_workers=cfg.num_workers, persistent_workers=False, drop_last=True)
    module = TranslateModule(cfg, run_dir=str(out))
    trainer = L.Trainer(
        accelerator=accelerator, devices=devices, num_nodes=num_nodes, strategy=strategy,
        max_epochs=epochs_for(cfg.steps, cfg.ckpt_every), use_distributed_sampler=False,
        max_time={"minutes": max_minutes} if max_minutes else None,
        default_root_dir=str(out), logger=CSVLogger(str(out), name="logs", version=0), log_every_n_steps=min(10, cfg.ckpt_every),
        callbacks=[ModelCheckpoint(dirpath=str(out / "checkpoints"), every_n_epochs=1, save_last=True, save_top_k=-1,
                                   filename="epoch{epoch:03d}", auto_insert_metric_name=False)],
        # "warn": CUDA has no deterministic backward for some ops (max pooling, bilinear upsampling); on the
        # CPU every op is deterministic either way, so a resumed CPU run still equals an uninterrupted one
        enable_progress_bar=not quiet, enable_model_summary=not quiet, deterministic="warn",
    )
    started = time.time()
    trainer.fit(module, train_dataloaders=loader, ckpt_path=str(last) if resume else None)
    weights = out / "translate.safetensors"
    if trainer.global_rank == 0:
        done = trainer.global_step // 2  # two optimiser steps (G and D) per training step
        info = {"data": [str(p) for p in paths], "command": " ".join(sys.argv), "steps": done,
                "train_seconds_this_run": round(time.time() - started, 1),
                "device": f"{trainer.num_nodes} node(s) x {trainer.num_devices} {type(trainer.accelerator).__name__}"}
        if done < cfg.steps:
            info["stopped_early"] = f"--max-minutes {max_minutes} reached after {done} of {cfg.steps} steps"
        info.update(card or {})
        save_weights(module.generator_state(), cfg, weights, card=info)
        plot_losses(out)
    return weights


def strategy_for(accelerator: str, devices: str | int, num_nodes: int) -> str:
    """Lightning's own choice for one process; for several, DDP that lets a backward pass leave parameters
    without a gradient: the discriminator's step leaves the generator's alone, which plain DDP takes for
    a bug and stops on."""
    import torch

    if isinstance(devices, str) and devices not in ("auto", "-1"):
        try:
            devices = len([int(d) for d in devices.split(",") if d.strip()]) if "," in devices else int(devices)
        except ValueError:
            raise BadOption(f"--devices must be a number, a list such as 0,1, -1 or auto, not {devices!r}") from None
    if devices in ("auto", "-1", -1):
        gpus = accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available()
        devices = torch.cuda.device_count() if gpus else 1
    if int(devices) < 1 or num_nodes < 1:
        raise BadOption("--devices and --num-nodes must be at least 1")
    return "ddp_find_unused_parameters_true" if num_nodes > 1 or int(devices) > 1 else "auto"


def started_by_hand() -> bool:
    """Whether this process is the one a user started on the first node, which checks and sets up the run
    folder; not a rank that Lightning's DDP launcher, torchrun or SLURM started (they rerun the same command
    and find the folder already set up) nor the first process of another node (`NODE_RANK` > 0)."""
    ranks = ("RANK", "LOCAL_RANK", "NODE_RANK", "GROUP_RANK", "SLURM_PROCID", "SLURM_NODEID")
    return all(os.environ.get(k, "0") == "0" for k in ranks)


def export_checkpoint(ckpt: str | Path, out: str | Path, card: dict | None = None, overwrite: bool = False) -> Path:
    """Generator weights of a training checkpoint as safetensors + JSON (tensors only; nothing is unpickled
    beyond plain tensors and containers)."""
    import torch

    from ...errors import MissingWeights
    from ...io.atomic import check_writable

    out = check_writable(out, overwrite)
    check_writable(out.with_suffix(".json"), overwrite)  # the model card beside it is an output too
    try:
        state = torch.load(str(ckpt), map_location="cpu", weights_only=True)
        cfg = TranslateConfig.from_dict(state["hyper_parameters"]["cfg"])
    except Exception as e:  # noqa: BLE001 - any failure here is the file's fault
        raise MissingWeights(f"cannot read training checkpoint {ckpt}: {type(e).__name__}: {e}") from None
    steps = int(state["global_step"]) // 2  # two optimiser steps (G and D) per training step
    cfg = cfg.override(steps=steps)
    prefix = "generator_ema." if any(k.startswith("generator_ema.") for k in state["state_dict"]) else "generator."
    gen = {k[len(prefix):]: v.contiguous() for k, v in state["state_dict"].items() if k.startswith(prefix)}
    info = {"steps": steps, "epochs_completed": int(state["epoch"]) + 1, "checkpoint": Path(ckpt).name}
    info.update(card or {})
    save_weights(gen, cfg, out, card=info)
    return out


def plot_losses(out: Path) -> None:
    """Loss curves from the CSV log to `losses.png` (best effort: a plot must not fail a finished run)."""
    try:
        import csv

        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        rows = list(csv.DictReader((out / "logs" / "version_0" / "metrics.csv").open()))
        keys = ["hole_l1", "valid_l1", "temporal_l1", "adv_g", "perceptual", "d_loss"]
        fig, axes = plt.subplots(2, 3, figsize=(12, 6))
        for ax, key in zip(axes.flat, keys):
            pts = [(int(r["step"]), float(r[key])) for r in rows if r.get(key)]
            if pts:
                ax.plot(*zip(*pts), lw=0.8)
            ax.set_title(key)
            ax.set_xlabel("step")
        fig.tight_layout()
        fig.savefig(out / "losses.png", dpi=90)
        plt.close(fig)
    except Exception as e:  # noqa: BLE001
        print(f"note: loss plot not written ({e})", file=sys.stderr)
