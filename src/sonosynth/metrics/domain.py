"""Domain FVD: the Fréchet distance on features of a network trained on ultrasound.

Kinetics I3D has never seen ultrasound; a distance in the space of a network that has may weigh
what matters clinically. The network is the downstream lung classifier (MONAI 3D ResNet-18),
trained on the real lung clips that are not held out, saved as safetensors with its config in
the file's metadata. Its features are the globally pooled last block (before the classifier).
This is reported beside the standard FVD, never instead of it.
"""
from __future__ import annotations

import dataclasses
import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import MissingWeights
from ..io.atomic import atomic_path
from .downstream import ClsConfig, load_lung, make_model, prepare, train_model
from ..nn.i3d import sha256


def train_domain_net(data: Path, out: Path, cfg: ClsConfig, seed: int = 0, overwrite: bool = False) -> dict:
    """Train the classifier on the non-held-out real lung clips and save it to `out` (.safetensors)."""
    from safetensors.torch import save_file

    from ..synth.holdout import is_held_out

    names, clips, labels = load_lung(data, cfg.size)
    keep = [i for i, n in enumerate(names) if not is_held_out(n)]
    model = train_model([clips[i] for i in keep], labels[keep], cfg, seed)
    meta = {"config": json.dumps(dataclasses.asdict(cfg)), "seed": str(seed), "trained_on": json.dumps([names[i] for i in keep]),
            "task": "lung clip classification, regular vs pathology", "format": "sonosynth domain network v1"}
    with atomic_path(out, overwrite=overwrite) as tmp:
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp), metadata=meta)
    return {"path": str(out), "n_train_clips": len(keep), **meta}


@lru_cache(maxsize=2)
def _load(path: str, device: str):
    import torch
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file

    p = Path(path)
    if not p.is_file():
        raise MissingWeights(f"domain network {p} not found")
    try:
        with safe_open(str(p), "pt") as f:
            meta = f.metadata() or {}
        cfg = ClsConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(meta["config"]).items()})
        model = make_model(cfg)
        model.load_state_dict(load_file(str(p)))
    except (KeyError, ValueError, RuntimeError, OSError, TypeError, SafetensorError) as e:
        raise MissingWeights(f"{p} is not a sonosynth domain network: {e}") from e
    model.fc = torch.nn.Identity()
    return model.eval().to(device), cfg


def check_weights(weights: Path, device: str = "cpu") -> None:
    """Load the network (kept for the run) so a missing or broken file fails before any clip is read."""
    _load(str(weights), device)


def domain_features(wins: list[np.ndarray], weights: Path, device: str = "cpu") -> np.ndarray:
    """(N, D) pooled features of 16-frame uint8 windows (grey) in the domain network."""
    import torch

    model, cfg = _load(str(weights), device)
    out = []
    with torch.no_grad():
        for w in wins:
            x = torch.from_numpy(prepare(w if w.ndim == 3 else w.mean(-1).astype(np.uint8), cfg.size))[None, None]
            out.append(model(x.to(device)).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 1))


def describe(weights: Path) -> dict:
    _, cfg = _load(str(weights), "cpu")
    return {"network": "MONAI 3D ResNet-18 lung classifier (sonosynth domain network), pooled features",
            "input": f"16-frame windows, centre square, area resize to {cfg.size}x{cfg.size}, [-1, 1]",
            "weights_sha256": sha256(Path(weights))}
