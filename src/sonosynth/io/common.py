"""Helpers shared by the readers: size guards, greyscale detection, windowing to uint8."""
from __future__ import annotations

import math
import os

import numpy as np

from ..errors import BadOption, UnreadableInput, one_line

#: Largest decoded clip we accept, in bytes (override with SONOSYNTH_MAX_BYTES).
DEFAULT_MAX_BYTES = 8 * 1024**3
#: Largest frame side we accept: no ultrasound scanner makes bigger frames; a header that says so is corrupt.
MAX_SIDE = 16384
#: Lossy codecs (H.264, MPEG, JPEG) bleed chroma into greyscale pictures by a few levels.
LOSSY_GREY_TOLERANCE = 6


def max_bytes() -> int:
    try:
        return int(os.environ.get("SONOSYNTH_MAX_BYTES", DEFAULT_MAX_BYTES))
    except ValueError:
        return DEFAULT_MAX_BYTES


def describe(error: BaseException) -> str:
    """A library's exception as "Type: message" on one line: pydicom, for one, lists each decoder's failure on a
    line of its own, and the CLI promises one line per problem."""
    lines = [one_line(line) for line in str(error).splitlines()]
    text = ""
    for line in filter(None, lines):
        text += ("" if not text else " " if text.endswith(":") else "; ") + line
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def check_fps_range(fps: float, fmt: str, lowest: float, highest: float = math.inf) -> None:
    """BadOption when a `fmt` file cannot store `fps`: its writer would fail, or quietly store another rate."""
    if lowest <= fps <= highest:
        return
    held = f"{lowest:g} to {highest:g} fps" if highest < math.inf else f"{lowest:g} fps or more"
    raise BadOption(f"a {fmt} file cannot store {fps:g} fps (it holds {held}); write .npz or .dcm to keep this rate")


def check_size(path, frames: int, height: int, width: int, channels: int = 1, bytes_per_sample: int = 1) -> None:
    """Refuse absurd or empty declared sizes before allocating anything."""
    if frames < 1 or height < 1 or width < 1:
        raise UnreadableInput(f"{path}: no image data ({frames} frames of {height}x{width})")
    if height > MAX_SIDE or width > MAX_SIDE:
        raise UnreadableInput(f"{path}: frame size {height}x{width} is beyond any ultrasound image (max side {MAX_SIDE})")
    need = frames * height * width * channels * bytes_per_sample
    if need > max_bytes():
        raise UnreadableInput(
            f"{path}: {frames} frames of {height}x{width}x{channels} need {need / 1024**3:.1f} GiB, "
            f"over the {max_bytes() / 1024**3:.1f} GiB limit (set SONOSYNTH_MAX_BYTES to raise it)"
        )


def channels_agree(frames, tol: int) -> bool:
    """True when no pixel's R, G and B differ by more than `tol` (stops at the first frame that does).

    `frames`: a (T,H,W[,3]) array or a list of (H,W[,3]) frames.
    """
    for f in frames:  # per frame: bounded memory, early exit on colour
        if f.ndim != 3:
            return True
        r, g, b = f[..., 0], f[..., 1], f[..., 2]
        for x, y in ((r, g), (g, b), (r, b)):
            if tol == 0:
                if not np.array_equal(x, y):
                    return False
            elif (np.maximum(x, y) - np.minimum(x, y)).max() > tol:
                return False
    return True


def maybe_grey(frames, lossy: bool) -> np.ndarray:
    """Frames whose channels agree (exactly, or within codec bleeding when lossy) -> (T,H,W); else (T,H,W,3).

    Lossless sources collapse only when R == G == B exactly, so round trips stay exact;
    lossy sources collapse to the channel mean when no pixel differs by more than
    LOSSY_GREY_TOLERANCE. Tinted greyscale (sepia/blue B-mode maps) stays RGB: that is what
    the user sees. `frames` may be a list of per-frame arrays (a decoder's output): it is
    emptied as the result fills, so memory peaks near one copy of the clip, not two.
    """
    if isinstance(frames, np.ndarray) and frames.ndim != 4:
        return frames
    if channels_agree(frames, 0):
        mode = "first"
    elif lossy and channels_agree(frames, LOSSY_GREY_TOLERANCE):
        mode = "mean"
    elif isinstance(frames, np.ndarray):
        return frames
    else:
        mode = "rgb"
    first = frames[0]
    shape = first.shape if mode == "rgb" or first.ndim == 2 else first.shape[:2]
    out = np.empty((len(frames), *shape), np.uint8)
    for i in range(len(frames)):
        f = frames[i]
        if f.ndim == 2 or mode == "rgb":
            out[i] = f
        elif mode == "first":
            out[i] = f[..., 0]
        else:
            out[i] = (f.astype(np.uint16).sum(axis=-1) + 1) // 3
        if isinstance(frames, list):
            frames[i] = None  # release as we go
    return out


def window_to_uint8(data: np.ndarray, center: float | None = None, width: float | None = None) -> np.ndarray:
    """Map wider integers (16-bit DICOM/PNG) to uint8: a given window, else min-max over the whole clip."""
    if data.dtype == np.uint8:
        return data
    d = data.astype(np.float32)
    if center is not None and width is not None and width > 1:
        lo, hi = center - 0.5 - (width - 1) / 2, center - 0.5 + (width - 1) / 2
    else:
        lo, hi = float(d.min()), float(d.max())
    if hi <= lo:
        return np.zeros(data.shape, np.uint8)
    return np.clip(np.rint((d - lo) / (hi - lo) * 255.0), 0, 255).astype(np.uint8)
