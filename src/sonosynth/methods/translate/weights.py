"""Shipped and user weights: safetensors for tensors, a JSON beside it for config and model card."""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from ...errors import MissingWeights, first_line
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
    if path.is_dir():
        raise MissingWeights(f"weights {path} is a folder: give the .safetensors file (its .json card beside it)")
    if not path.is_file():
        raise MissingWeights(f"weights file {path} does not exist")
    meta_path = path.with_suffix(".json")
    if not meta_path.is_file():
        raise MissingWeights(f"weights {path} have no config beside them ({meta_path.name})")
    try:
        meta = json.loads(meta_path.read_text())
        if not isinstance(meta, dict) or not isinstance(meta.get("config"), dict) or not isinstance(meta.get("card", {}), dict):
            raise ValueError("expected a mapping with a 'config' mapping and an optional 'card' mapping")
        if meta.get("method", "translate") != "translate":
            raise ValueError(f"these are weights of {meta['method']!r}, not of the translation networks")
        cfg = TranslateConfig.from_dict(meta["config"])
        state = load_file(str(path))
    except Exception as e:  # noqa: BLE001 - any parse failure is the file's fault
        raise MissingWeights(f"cannot read weights {path}: {type(e).__name__}: {e}") from None
    bad = [name for name, t in state.items() if t.is_floating_point() and not bool(t.isfinite().all())]
    if bad:  # what a diverged training run exports; it would turn every rebuilt pixel black
        raise MissingWeights(f"weights {path} hold NaN or infinite values ({len(bad)} of {len(state)} tensors, "
                             f"e.g. {bad[0]}): a training run that diverged?")
    try:
        gen = Generator(cfg)
    except (RuntimeError, MemoryError) as e:  # e.g. a card asking for networks millions of channels wide
        raise MissingWeights(f"weights {path}: the networks their config describes cannot be built here "
                             f"({type(e).__name__}: {first_line(e)})") from None
    try:
        gen.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise MissingWeights(f"weights {path} do not match their config: {mismatch_detail(e)}") from None
    return gen.eval(), cfg, meta


def mismatch_detail(e: RuntimeError) -> str:
    """torch's load_state_dict message opens with a header line ("Error(s) in loading state_dict for
    Generator:"); the first line after it says what differs (a size, missing or unexpected keys)."""
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    detail = lines[1] if len(lines) > 1 else first_line(e)
    return detail if len(detail) <= 240 else detail[:237] + "..."
