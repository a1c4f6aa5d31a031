"""Reading the clips that metrics compare: a file, or a folder of files, through sonosynth.io."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..clip import Clip
from ..errors import UnreadableInput

VIDEO_EXT = {".mp4", ".avi", ".mov", ".mpeg", ".mpg", ".mkv", ".gif", ".webm"}
CLIP_EXT = VIDEO_EXT | {".npz", ".dcm", ".mha", ".mhd", ".png", ".jpg", ".jpeg", ".bmp"}


def read_clip(path: str | Path) -> Clip:
    """Read one clip (any format sonosynth.io reads)."""
    from ..io import read_clip as io_read

    return io_read(Path(path))


def clip_paths(path: str | Path) -> list[Path]:
    """A single clip file, or the clip files of a folder (sorted by name, not recursive)."""
    p = Path(path)
    if p.is_file():
        return [p]
    if not p.is_dir():
        raise UnreadableInput(f"{p}: no such file or folder")
    files = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in CLIP_EXT)
    if not files:
        raise UnreadableInput(f"{p}: folder holds no clips ({', '.join(sorted(CLIP_EXT))})")
    return files


def read_grey(path: str | Path) -> np.ndarray:
    """A clip's frames as (T, H, W) uint8 luminance."""
    return read_clip(path).grey()
