"""Reading the clips that metrics compare: a file, or a folder of files, through sonosynth.io.

Until ``sonosynth.io.read_clip`` is available, video files fall back to PyAV and .npz to numpy,
so the metrics can be developed and tested on the real lung clips either way.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..clip import Clip
from ..errors import UnreadableInput

VIDEO_EXT = {".mp4", ".avi", ".mov", ".mpeg", ".mpg", ".mkv", ".gif", ".webm"}
CLIP_EXT = VIDEO_EXT | {".npz", ".dcm", ".mha", ".mhd", ".png", ".jpg", ".jpeg", ".bmp"}


def read_clip(path: str | Path) -> Clip:
    """Read one clip (any format sonosynth.io reads)."""
    p = Path(path)
    try:
        from ..io import read_clip as io_read
    except ImportError:
        io_read = None
    if io_read is not None:
        return io_read(p)
    if not p.is_file():
        raise UnreadableInput(f"{p}: no such file")
    try:
        if p.suffix.lower() == ".npz":
            with np.load(p) as z:
                return Clip(np.asarray(z["frames"]), float(z["fps"]) if "fps" in z else 30.0, source={"path": str(p)})
        import av

        with av.open(str(p)) as c:
            stream = c.streams.video[0]
            fps = float(stream.average_rate or 30.0)
            frames = [f.to_ndarray(format="gray") for f in c.decode(stream)]
    except Exception as e:  # any decoder failure is the file's problem, not ours
        raise UnreadableInput(f"{p}: cannot read clip ({type(e).__name__}: {e})") from e
    if not frames:
        raise UnreadableInput(f"{p}: no frames")
    return Clip(np.stack(frames), fps, source={"path": str(p)})


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
