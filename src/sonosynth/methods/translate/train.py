"""`sonosynth train translate`: one command for CPU, one GPU, several GPUs (DDP) and several nodes."""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Sequence

from ...errors import BadOption, Interrupted, MissingDependency, first_line
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

    from ...nn.perceptual import check_perceptual
    from .module import TranslateModule, seed_everything

    quiet_lightning(quiet)
    if max_minutes is not None and not 0 < max_minutes < float("inf"):  # NaN too
        raise BadOption("--max-minutes must be a positive number of minutes")
    check_accelerator(accelerator)
    if str(devices) == "-1":  # Lightning's "every device" takes -1 for GPUs only; count them here for any kind
        devices = device_count(accelerator)
    strategy = strategy_for(accelerator, devices, num_nodes)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise BadOption(f"--out {out} is a file; a run folder is a folder (the file is left alone)")
    last = out / "checkpoints" / "last.ckpt"
    first = started_by_hand()
    if first and out.exists() and any(out.iterdir()) and not resume and not never_checkpointed(out):
        raise BadOption(f"run folder {out} is not empty; pass --resume to continue it or choose another --out")
    if resume and not last.is_file():
        hint = "; it stopped before its first checkpoint: run again without --resume" if never_checkpointed(out) else ""
        raise BadOption(f"nothing to resume: {last} does not exist{hint}")
    seed_everything(cfg.seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    check_perceptual(cfg.perceptual)
    paths = list_training_clips(data, exclude)
    bank = ClipBank(paths)  # read before the run folder is made: a bad clip leaves nothing behind
    if resume and first:
        check_same_run(out, cfg, bank.names)
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
        default_root_dir=str(out), logger=CSVLogger(str(out), name="logs", version=log_version(out, resume)),
        log_every_n_steps=min(10, cfg.ckpt_every),
        # no version counter: a run folder moved or copied and resumed wrote last-v1.ckpt beside a stale last.ckpt,
        # from which the next --resume started again
        callbacks=[ModelCheckpoint(dirpath=str(out / "checkpoints"), every_n_epochs=1, save_last=True, save_top_k=-1,
                                   filename="epoch{epoch:03d}", auto_insert_metric_name=False,
                                   enable_version_counter=False)],
        # "warn": CUDA has no deterministic backward for some ops (max pooling, bilinear upsampling); on the
        # CPU every op is deterministic either way, so a resumed CPU run still equals an uninterrupted one
        enable_progress_bar=not quiet, enable_model_summary=not quiet, deterministic="warn",
    )
    started = time.time()
    try:
        trainer.fit(module, train_dataloaders=loader, ckpt_path=str(last) if resume else None)
    except SystemExit:  # Lightning's answer to SIGTERM or Ctrl-C, after its graceful shutdown
        raise Interrupted(stopped_message(out, trainer)) from None
    if trainer.interrupted:
        raise Interrupted(stopped_message(out, trainer))
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


ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps")
SETUP_FILES = {"config.json", "training_clips.txt", "logs", "previews"}  # what a run writes before its first checkpoint
RESUMABLE_CHANGES = {"steps", "num_workers"}  # config fields a resumed run may change: neither alters what is learnt


def check_accelerator(accelerator: str) -> None:
    """Refuse an accelerator Lightning cannot use here before anything is written (it would fail inside fit)."""
    import torch

    if accelerator not in ACCELERATORS:
        raise BadOption(f"--accelerator must be one of {', '.join(ACCELERATORS)}, not {accelerator!r}")
    if accelerator in ("gpu", "cuda") and not torch.cuda.is_available():
        raise BadOption(f"--accelerator {accelerator}: PyTorch sees no CUDA GPU here (use cpu or auto)")
    if accelerator == "mps" and not torch.backends.mps.is_available():
        raise BadOption("--accelerator mps: no Apple GPU here (use cpu or auto)")


def device_count(accelerator: str) -> int:
    import torch

    gpus = accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available()
    return torch.cuda.device_count() if gpus else 1


def never_checkpointed(out: Path) -> bool:
    """A run folder holding only what a run writes before its first checkpoint (one killed or failed early):
    a fresh run may start there, and `--resume` has nothing to continue."""
    if not out.is_dir():
        return False
    names = {p.name for p in out.iterdir()}
    checkpoints = out / "checkpoints"
    return names <= SETUP_FILES | {"checkpoints"} and not (checkpoints.is_dir() and any(checkpoints.iterdir()))


def check_same_run(out: Path, cfg: TranslateConfig, clip_names: list[str]) -> None:
    """`--resume` continues the run it finds: a changed config (but for `RESUMABLE_CHANGES`) or other
    training clips would make a different run than the record says, so it is refused before anything is written."""
    try:
        saved = TranslateConfig.from_dict(json.loads((out / "config.json").read_text())).to_dict()
        saved_clips = (out / "training_clips.txt").read_text().split()
    except (OSError, ValueError) as e:
        raise BadOption(f"cannot resume {out}: its config.json or training_clips.txt is unreadable ({e})") from None
    changed = sorted(k for k, v in cfg.to_dict().items() if saved.get(k) != v and k not in RESUMABLE_CHANGES)
    if changed:
        raise BadOption(f"--resume continues the run as it was; these config fields differ from {out / 'config.json'}: "
                        f"{', '.join(changed)} (only {', '.join(sorted(RESUMABLE_CHANGES))} may change)")
    if saved_clips != list(clip_names):
        raise BadOption(f"--resume continues the run as it was; --data gives other clips than {out / 'training_clips.txt'}")
    done = checkpointed_epochs(out) * cfg.ckpt_every
    if done > cfg.steps:
        raise BadOption(f"--resume: {out} has trained {done} steps already; --steps {cfg.steps} would undo them "
                        f"(give at least {done})")
    if epochs_for(cfg.steps, cfg.ckpt_every) * cfg.ckpt_every <= done and (out / "translate.safetensors").is_file():
        raise BadOption(f"--resume: {out} has done its {done} steps and exported {out / 'translate.safetensors'}; "
                        "give more --steps to train further")


def checkpointed_epochs(out: Path) -> int:
    """Epochs (of `ckpt_every` steps) a run folder's checkpoints have done, from their names (epochNNN.ckpt)."""
    numbers = [int(p.stem[5:]) for p in (out / "checkpoints").glob("epoch*.ckpt") if p.stem[5:].isdigit()]
    return max(numbers, default=-1) + 1


def stopped_message(out: Path, trainer) -> str:
    last = out / "checkpoints" / "last.ckpt"
    where = f"continue with --resume from {last}" if last.is_file() else "no checkpoint yet: run again without --resume"
    return f"training stopped by a signal after {trainer.global_step // 2} steps; no weights exported; {where}"


def quiet_lightning(quiet: bool) -> None:
    """Lightning's notes on stderr (hardware found, a logger tip, why fit stopped) only when not --quiet; its
    deprecation notice about its own internals (torch's pytree API) never: the user can do nothing about it."""
    import logging
    import warnings

    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")
    if quiet:
        for name in ("lightning.pytorch", "lightning.fabric"):
            logging.getLogger(name).setLevel(logging.WARNING)


def strategy_for(accelerator: str, devices: str | int, num_nodes: int) -> str:
    """Lightning's own choice for one process; for several, DDP that lets a backward pass leave parameters
    without a gradient: the discriminator's step leaves the generator's alone, which plain DDP takes for
    a bug and stops on."""
    if isinstance(devices, str) and devices != "auto":
        try:
            devices = len([int(d) for d in devices.split(",") if d.strip()]) if "," in devices else int(devices)
        except ValueError:
            raise BadOption(f"--devices must be a number, a list such as 0,1, -1 or auto, not {devices!r}") from None
    if devices == "auto":
        devices = device_count(accelerator)
    if int(devices) < 1 or num_nodes < 1:
        raise BadOption("--devices and --num-nodes must be at least 1")
    if accelerator == "cpu" and int(devices) > max(2, os.cpu_count() or 1):  # one training process per device
        raise BadOption(f"--devices {devices} CPU processes on a machine with {os.cpu_count()} cores; ask for at most that")
    if accelerator in ("gpu", "cuda") and int(devices) > device_count(accelerator):
        raise BadOption(f"--devices {devices}: this machine has {device_count(accelerator)} usable GPU(s)")
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
    from .model import Generator

    try:
        state = torch.load(str(ckpt), map_location="cpu", weights_only=True)
        cfg = TranslateConfig.from_dict(state["hyper_parameters"]["cfg"])
        steps = int(state["global_step"]) // 2  # two optimiser steps (G and D) per training step
        epochs = int(state["epoch"]) + 1
        prefix = "generator_ema." if any(k.startswith("generator_ema.") for k in state["state_dict"]) else "generator."
        gen = {k[len(prefix):]: v.contiguous() for k, v in state["state_dict"].items() if k.startswith(prefix)}
        Generator(cfg).load_state_dict(gen, strict=True)  # what translate will load: refuse here, not there
    except Exception as e:  # noqa: BLE001 - any failure here is the file's fault
        # torch's own text may advise weights_only=False, which would unpickle whatever the file holds: not shown
        raise MissingWeights(f"{ckpt} is not a translation training checkpoint sonosynth can export "
                             f"({type(e).__name__}: {first_line(e)[:160]})") from None
    cfg = cfg.override(steps=steps)
    info = {"steps": steps, "epochs_completed": epochs, "checkpoint": Path(ckpt).name}
    info.update(card or {})
    save_weights(gen, cfg, out, card=info)
    return out


def log_version(out: Path, resume: bool) -> int:
    """A resumed run logs into a folder of its own (logs/version_N): Lightning's CSV logger would start its
    metrics.csv afresh and lose the rows before the resume. A fresh run is version 0."""
    return len(list((out / "logs").glob("version_*"))) if resume else 0


def plot_losses(out: Path) -> None:
    """Loss curves from the CSV log to `losses.png` (best effort: a plot must not fail a finished run)."""
    try:
        import csv

        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        logs = sorted((out / "logs").glob("version_*/metrics.csv"), key=lambda p: int(p.parent.name.split("_")[1]))
        rows = [row for log in logs for row in csv.DictReader(log.open())]  # a resumed run's logs, in order
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
