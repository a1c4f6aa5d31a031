"""Configuration of the CFD→greyscale translation model: frozen dataclasses with presets."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ...errors import BadOption


BASE_FILLS = ("pushpull", "navier-stokes")
AT_LEAST_ONE = ("width", "refine_width", "horizon", "batch", "steps", "disc_width", "ckpt_every", "max_side")
MAX_HORIZON = 256  # frames each way; the presets search 16-24, and every step of training builds 2 x horizon copies
SHARES = ("temporal_dropout", "motion", "codec")  # probabilities
KIND_WORDS = {"int": "a whole number", "float": "a number", "bool": "true or false", "str": "text"}


@dataclass(frozen=True)
class TranslateConfig:
    """Everything that defines a model and its training; saved beside the weights."""

    # model
    width: int = 16                 # base channels of the coarse network
    refine_width: int = 16          # base channels of the refinement network
    dilations: tuple[int, ...] = (2, 4, 8, 16)
    horizon: int = 24               # frames searched each way for a pixel visible in another frame
    temporal: bool = True           # False: frame-by-frame model (the paper's setting)
    base_fill: str = "pushpull"     # classical fill the coarse network corrects: "pushpull" or "navier-stokes"
    # data and training
    crop: int = 80                  # training crop side (native pixels; the network is fully convolutional)
    batch: int = 8
    steps: int = 1500
    lr: float = 2e-4
    lr_d: float = 2e-4
    ema: float = 0.0                # decay of a running average of the generator's weights, exported instead (0: off)
    temporal_dropout: float = 0.2   # share of samples trained without temporal input (the ablation mode)
    motion: float = 0.0             # share of samples whose tissue moves under the fixed holes (data.tissue_motion)
    codec: float = 0.0              # share of samples the network sees through H.264 (data.through_h264)
    align: bool = False             # copies from other frames moved with the optical flow in training too (`align`)
    w_hole: float = 6.0             # L1 inside the hole
    w_valid: float = 1.0            # L1 outside the hole (keeps the network's output sane at the seam)
    w_temporal: float = 2.0         # consecutive-output consistency inside the hole
    w_adv: float = 0.01             # hinge GAN (SN-PatchGAN over two consecutive frames)
    w_perceptual: float = 0.05      # I3D early-layer features (spatio-temporal)
    perceptual: str = "i3d"         # "i3d", "none", or a path to a VGG-16 safetensors file
    disc_width: int = 32
    ckpt_every: int = 250
    seed: int = 0
    num_workers: int = 0
    # inference
    max_side: int = 256             # crops larger than this are downscaled for the network

    def __post_init__(self) -> None:
        """Types and ranges, checked here so that a bad YAML or model card fails in one line before a run starts."""
        for f in dataclasses.fields(self):
            value, kind = getattr(self, f.name), f.type
            if kind == "float" and isinstance(value, str):  # YAML 1.1 reads 2e-4 (no dot) as text
                try:
                    value = float(value)
                except ValueError:
                    raise BadOption(f"config field {f.name} must be a number, not {value!r}") from None
            if kind == "float" and isinstance(value, (int, float)) and not isinstance(value, bool):
                if not math.isfinite(value):
                    raise BadOption(f"config field {f.name} must be a finite number, not {value!r}")
                object.__setattr__(self, f.name, float(value))
            elif kind == "tuple[int, ...]":
                ok = isinstance(value, tuple) and value and all(type(d) is int and d >= 1 for d in value)
                if not ok:
                    raise BadOption(f"config field {f.name} must be a list of positive whole numbers, not {value!r}")
            elif type(value).__name__ != kind:
                raise BadOption(f"config field {f.name} must be {KIND_WORDS.get(kind, kind)}, not {value!r}")
        for name in AT_LEAST_ONE:
            if getattr(self, name) < 1:
                raise BadOption(f"config field {name} must be at least 1, not {getattr(self, name)}")
        for name in SHARES:
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise BadOption(f"config field {name} is a share: between 0 and 1, not {getattr(self, name)}")
        if self.crop < 16 or self.crop % 4:
            raise BadOption(f"config field crop must be a multiple of 4, at least 16 (the networks halve it twice), not {self.crop}")
        if not (0 < self.lr <= 1 and 0 < self.lr_d <= 1) or not 0.0 <= self.ema < 1.0 or self.num_workers < 0:
            raise BadOption("config fields lr and lr_d must be in (0, 1], ema in [0, 1), num_workers at least 0")
        if not 0 <= self.seed < 2**32:
            raise BadOption(f"config field seed must be a whole number from 0 to 2**32 - 1, not {self.seed}")
        if self.horizon > MAX_HORIZON:
            raise BadOption(f"config field horizon must be at most {MAX_HORIZON} frames each way, not {self.horizon}")
        if min(self.w_hole, self.w_valid, self.w_temporal, self.w_adv, self.w_perceptual) < 0:
            raise BadOption("config loss weights (w_*) must not be negative")
        if self.base_fill not in BASE_FILLS:
            raise BadOption(f"base_fill must be one of {', '.join(BASE_FILLS)}, not {self.base_fill!r}")

    @classmethod
    def small(cls) -> "TranslateConfig":
        """CPU preset, the shipped model's recipe: 250 steps, minutes on a 2-core CPU (longer runs on 80²
        windows scored worse on validation), ≥25 frames/s at 112². Navier-Stokes as the coarse network's
        base and a stronger temporal term: +1.1 to +1.6 dB on the benchmark (docs/translate.md)."""
        return cls(base_fill="navier-stokes", w_temporal=6.0, steps=250)

    @classmethod
    def full(cls) -> "TranslateConfig":
        """GPU preset: wider networks, 256² crops, longer training."""
        return cls(width=48, refine_width=32, crop=256, batch=16, steps=60000, horizon=16, ckpt_every=2000,
                   num_workers=4, max_side=512, base_fill="navier-stokes", w_temporal=6.0)

    @classmethod
    def tiny(cls) -> "TranslateConfig":
        """For tests: a few seconds of training."""
        return cls(width=4, refine_width=4, dilations=(2, 4), crop=32, batch=2, steps=4, horizon=3,
                   disc_width=4, ckpt_every=2, perceptual="none")

    @classmethod
    def preset(cls, name: str) -> "TranslateConfig":
        presets = {"small": cls.small, "full": cls.full, "tiny": cls.tiny}
        if name not in presets:
            raise BadOption(f"unknown preset {name!r}; choose one of {', '.join(presets)}")
        return presets[name]()

    def override(self, **fields: Any) -> "TranslateConfig":
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(fields) - known)
        if unknown:
            raise BadOption(f"unknown config field(s): {', '.join(unknown)}")
        if isinstance(fields.get("dilations"), list):
            fields["dilations"] = tuple(fields["dilations"])
        return dataclasses.replace(self, **fields)

    def with_yaml(self, path: str | Path) -> "TranslateConfig":
        try:
            data = yaml.safe_load(Path(path).read_text()) or {}
        except OSError as e:
            raise BadOption(f"cannot read config {path}: {e.strerror or e}") from None
        except UnicodeDecodeError:
            raise BadOption(f"config {path} is not UTF-8 text") from None
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise BadOption(f"config {path} is not valid YAML{where}: {getattr(e, 'problem', None) or type(e).__name__}") from None
        if not isinstance(data, dict):
            raise BadOption(f"config {path} must be a mapping of field: value")
        return self.override(**data)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["dilations"] = list(self.dilations)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TranslateConfig":
        return cls().override(**data)
