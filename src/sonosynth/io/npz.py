"""NumPy .npz clips: the exact format (array `frames`, uint8 (T,H,W) or (T,H,W,3), scalar `fps`)."""
from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np

from ..clip import Clip
from ..errors import UnreadableInput
from .common import check_size, describe


def read_npz(path: Path) -> Clip:
    try:
        with np.load(path, allow_pickle=False) as z:
            if "frames" not in z.files:
                raise UnreadableInput(f"{path}: .npz has no array named 'frames' (found: {', '.join(z.files) or 'none'})")
            header_shape = _declared_shape(path)
            if header_shape is not None and len(header_shape) in (3, 4):
                check_size(path, header_shape[0], header_shape[1], header_shape[2], header_shape[3] if len(header_shape) == 4 else 1)
            frames = z["frames"]
            fps = _fps(z, path)
            spacing = tuple(float(v) for v in z["spacing"]) if "spacing" in z.files and np.asarray(z["spacing"]).size == 2 else None
    except UnreadableInput:
        raise
    except MemoryError:
        raise
    except Exception as e:
        raise UnreadableInput(f"{path}: not a readable .npz ({describe(e)})") from None
    if frames.dtype != np.uint8:
        raise UnreadableInput(f"{path}: 'frames' must be uint8, got {frames.dtype}")
    if not (frames.ndim == 3 or (frames.ndim == 4 and frames.shape[-1] == 3)):
        raise UnreadableInput(f"{path}: 'frames' must be (T,H,W) or (T,H,W,3), got shape {frames.shape}")
    return Clip(frames, fps=fps, spacing=spacing, source={"path": str(path), "format": "npz", "lossy": False})


def _fps(z, path: Path) -> float:
    """The stored frame rate (30 when there is none); UnreadableInput unless it is one positive, finite number,
    rather than a rate quietly made up for it."""
    if "fps" not in z.files:
        return 30.0
    value = np.asarray(z["fps"])
    fps = float(value.item()) if value.size == 1 and value.dtype.kind in "iuf" else math.nan
    if not (math.isfinite(fps) and fps > 0):
        shown = repr(value.item()) if value.size == 1 else f"{value.size} values"
        raise UnreadableInput(f"{path}: 'fps' must be one positive, finite number of frames per second, got {shown}")
    return fps


def _declared_shape(path: Path) -> tuple[int, ...] | None:
    """Shape from the .npy header inside the zip, read before the data so absurd sizes fail fast."""
    with zipfile.ZipFile(path) as zf, zf.open("frames.npy") as fh:
        version = np.lib.format.read_magic(fh)
        fmt = np.lib.format
        read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, _, _ = read_header(fh)
        return tuple(int(s) for s in shape)


def write_npz(clip: Clip, tmp: Path) -> None:
    """Uncompressed-exact storage; compressed because ultrasound has large black margins."""
    extra = {"spacing": np.asarray(clip.spacing, np.float64)} if clip.spacing else {}
    with open(tmp, "wb") as fh:
        np.savez_compressed(fh, frames=clip.frames, fps=np.float64(clip.fps), **extra)
