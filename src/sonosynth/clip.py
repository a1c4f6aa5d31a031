"""Clip: the one currency between stages (frames + fps + spacing + provenance)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .errors import UserError


@dataclass
class Clip:
    """A video in display space.

    frames: uint8, (T, H, W) greyscale or (T, H, W, 3) RGB, as the user sees it on the scanner.
    fps: frames per second (a still gets a nominal 1.0 unless its source says otherwise).
    spacing: optional physical pixel size (row, col) in millimetres.
    source: provenance: path, format, and for DICOM the dataset's non-identifying attributes.
    """

    frames: np.ndarray
    fps: float = 30.0
    spacing: tuple[float, float] | None = None
    source: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        f = np.asarray(self.frames)
        if f.dtype != np.uint8:
            raise UserError(f"clip frames must be uint8, got {f.dtype}")
        if f.ndim == 2:
            f = f[None]
        if f.ndim == 4 and f.shape[-1] == 1:
            f = f[..., 0]
        if not (f.ndim == 3 or (f.ndim == 4 and f.shape[-1] == 3)):
            raise UserError(f"clip frames must be (T,H,W) or (T,H,W,3), got shape {f.shape}")
        if f.shape[0] < 1 or f.shape[1] < 2 or f.shape[2] < 2:
            raise UserError(f"clip has no usable frames (shape {f.shape})")
        self.frames = np.ascontiguousarray(f)
        try:
            fps = float(self.fps) if self.fps is not None else 0.0
        except (TypeError, ValueError):
            raise UserError(f"clip fps must be a number, got {self.fps!r}") from None
        # a header without a usable rate or pixel size (0, negative, NaN) gets the nominal rate and no size
        self.fps = fps if np.isfinite(fps) and fps > 0 else 30.0
        self.spacing = _usable_spacing(self.spacing)

    @property
    def n_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def height(self) -> int:
        return int(self.frames.shape[1])

    @property
    def width(self) -> int:
        return int(self.frames.shape[2])

    @property
    def is_rgb(self) -> bool:
        return self.frames.ndim == 4

    def rgb(self) -> np.ndarray:
        """Frames as (T, H, W, 3), replicating greyscale."""
        return self.frames if self.is_rgb else np.repeat(self.frames[..., None], 3, axis=-1)

    def grey(self) -> np.ndarray:
        """Frames as (T, H, W) luminance (BT.601), the greyscale the B-mode shows."""
        if not self.is_rgb:
            return self.frames
        f = self.frames.astype(np.float32)
        y = 0.299 * f[..., 0] + 0.587 * f[..., 1] + 0.114 * f[..., 2]
        return np.clip(np.rint(y), 0, 255).astype(np.uint8)

    def with_frames(self, frames: np.ndarray, **source_updates: Any) -> "Clip":
        """A new clip with other frames and the same timing/provenance (plus updates)."""
        src = dict(self.source)
        src.update(source_updates)
        return replace(self, frames=frames, source=src)


def _usable_spacing(spacing: Any) -> tuple[float, float] | None:
    """(row, col) millimetres if `spacing` is two finite positive numbers, else None (not written anywhere)."""
    try:
        values = tuple(float(v) for v in spacing) if spacing is not None else ()
    except (TypeError, ValueError):
        return None
    return values if len(values) == 2 and all(np.isfinite(v) and v > 0 for v in values) else None

