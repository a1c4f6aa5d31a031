"""Reading the clips that metrics compare: a file, or a folder of files, through sonosynth.io."""
from __future__ import annotations

import zipfile
import zlib
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


def read_mask(path: str | Path) -> np.ndarray:
    """A mask as bool (T,H,W), or (H,W) for one frame meant for every frame.

    Read like `translate --mask` reads its mask (any clip sonosynth reads, so the outputs of
    `sonosynth mask` and `overlay --truth-mask` work), plus the .npz with an array named 'mask'
    that evaluate took first. Any non-zero pixel is in the mask (0/1 label images work), except
    in lossy files, where codec noise around the edges must not count: there it is >= 128.
    """
    p = Path(path)
    m = _npz_mask_array(p)
    if m is None:
        clip = read_clip(p)
        grey = clip.grey()
        m = grey >= 128 if clip.source.get("lossy") else grey > 0
    return m[0] if m.ndim == 3 and len(m) == 1 else m


def _npz_mask_array(path: Path) -> np.ndarray | None:
    """The array named 'mask' of an .npz, as bool; None for any other file (read_clip reads and judges those)."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return None
    if "mask.npy" not in names:
        if "frames.npy" not in names:
            raise UnreadableInput(f"{path}: an .npz mask needs an array named 'frames' (as `sonosynth mask` writes) or 'mask'")
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            m = z["mask"]
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as e:
        raise UnreadableInput(f"{path}: not a readable .npz mask ({type(e).__name__}: {e})") from None
    if m.dtype.kind not in "biuf" or m.ndim not in (2, 3) or 0 in m.shape:
        raise UnreadableInput(f"{path}: 'mask' must be a non-empty numeric (H,W) or (T,H,W) array, got {m.dtype} {m.shape}")
    return m.astype(bool)
