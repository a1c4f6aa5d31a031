"""Shipped and user weights: safetensors for tensors, a JSON beside it for config and model card."""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from ...errors import MissingWeights
from .config import TranslateConfig

DEFAULT_WEIGHTS = "translate_small"


def save_weights(state: dict, cfg: TranslateConfig, path: str | Path, card: dict | None = None) -> None:
    from safetensors.torch import save_file

    from ...io.atomic import atomic_path

    path = Path(path)
    meta = {"method": "translate", "config": cfg.to_dict(), "card": card or {}}
    with atomic_path(path, overwrite=True) as tmp:  # callers decide about overwriting; a crash leaves no half file
        save_file(state, str(tmp))
    with atomic_path(path.with_suffix(".json"), overwrite=True) as tmp:
        tmp.write_text(json.dumps(meta, indent=2) + "\n")


def default_weights_path() -> Path:
    return Path(str(resources.files("sonosynth.weights") / f"{DEFAULT_WEIGHTS}.safetensors"))


def load_generator(path: str | Path | None = None):
    """The generator with its config, from `path` or the shipped default; never unpickles anything."""
    from safetensors.torch import load_file

    from .model import Generator

    path = Path(path) if path else default_weights_path()
    meta_path = path.with_suffix(".json")
    if not path.is_file():
        raise MissingWeights(f"weights file {path} does not exist")
    if not meta_path.is_file():
        raise MissingWeights(f"weights {path} have no config beside them ({meta_path.name})")
    try:
        meta = json.loads(meta_path.read_text())
        cfg = TranslateConfig.from_dict(meta["config"])
        state = load_file(str(path))
    except Exception as e:  # noqa: BLE001 - any parse failure is the file's fault
        raise MissingWeights(f"cannot read weights {path}: {type(e).__name__}: {e}") from None
    gen = Generator(cfg)
    try:
        gen.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise MissingWeights(f"weights {path} do not match their config: {str(e).splitlines()[0]}") from None
    return gen.eval(), cfg, meta
