"""The round trip to model resolution and back.

`to_model` crops the frames to the sector's bounding box and resizes the crop to fit the
model size keeping its aspect ratio; the leftover border is padded with zeros (black, like
the surround of a scan) and split evenly between both sides. `Geometry` records what is
needed to invert that. `paste_back` resizes a model output back to the crop and writes it
into a copy of the original frames only where the edit mask is set, so every pixel outside
the mask comes back byte-identical.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import BadOption


@dataclass(frozen=True)
class Geometry:
    """How model frames map onto the input: `bbox` (y0, y1, x0, x1) crop of the input frame of
    `shape` (H, W); the crop is resized to `inner` (h, w) and placed at `offset` (top, left)
    inside a model frame of `size` (h, w)."""

    shape: tuple[int, int]
    bbox: tuple[int, int, int, int]
    size: tuple[int, int]
    inner: tuple[int, int]
    offset: tuple[int, int]


def _size(size: int | tuple[int, int]) -> tuple[int, int]:
    s = (int(size), int(size)) if np.isscalar(size) else (int(size[0]), int(size[1]))
    if min(s) < 1:
        raise BadOption(f"model size must be positive, got {size}")
    return s


def _resize(frames: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """Resize each frame of (T,h,w[,3]) to hw: area averaging down, bilinear up."""
    down = hw[0] * hw[1] < frames.shape[1] * frames.shape[2]
    interp = cv2.INTER_AREA if down else cv2.INTER_LINEAR
    return np.stack([cv2.resize(f, (hw[1], hw[0]), interpolation=interp) for f in frames])


def to_model(frames: np.ndarray, sector_bbox: tuple[int, int, int, int] | None,
             size: int | tuple[int, int]) -> tuple[np.ndarray, Geometry]:
    """(model frames (T, h, w[,3]) uint8, Geometry) for frames (T,H,W[,3]) uint8."""
    f = np.asarray(frames)
    if f.dtype != np.uint8 or f.ndim not in (3, 4):
        raise BadOption(f"frames must be uint8 (T,H,W) or (T,H,W,3), got {f.dtype} {f.shape}")
    hgt, wid = f.shape[1:3]
    y0, y1, x0, x1 = sector_bbox if sector_bbox is not None else (0, hgt, 0, wid)
    y0, x0 = max(0, int(y0)), max(0, int(x0))
    y1, x1 = min(hgt, int(y1)), min(wid, int(x1))
    if y1 <= y0 or x1 <= x0:
        raise BadOption(f"empty sector bounding box {sector_bbox} for frames of {hgt}x{wid}")
    sh, sw = _size(size)
    ch, cw = y1 - y0, x1 - x0
    scale = min(sh / ch, sw / cw)
    ih, iw = max(1, min(sh, round(ch * scale))), max(1, min(sw, round(cw * scale)))
    top, left = (sh - ih) // 2, (sw - iw) // 2
    out = np.zeros((f.shape[0], sh, sw) + f.shape[3:], np.uint8)
    out[:, top: top + ih, left: left + iw] = _resize(f[:, y0:y1, x0:x1], (ih, iw))
    return out, Geometry((hgt, wid), (y0, y1, x0, x1), (sh, sw), (ih, iw), (top, left))


def from_model(model_frames: np.ndarray, geometry: Geometry) -> np.ndarray:
    """Model frames resized back onto the crop: (T, y1-y0, x1-x0[,3]) uint8."""
    g = geometry
    m = np.asarray(model_frames)
    if m.shape[1:3] != g.size:
        raise BadOption(f"model frames are {m.shape[1:3]}, expected {g.size}")
    top, left = g.offset
    inner = np.ascontiguousarray(m[:, top: top + g.inner[0], left: left + g.inner[1]])
    y0, y1, x0, x1 = g.bbox
    return _resize(inner, (y1 - y0, x1 - x0))


def paste_back(original: np.ndarray, model_frames: np.ndarray, geometry: Geometry,
               mask: np.ndarray | None) -> np.ndarray:
    """A copy of `original` whose pixels under `mask` (T,H,W bool) come from the model frames.

    The model frames may be greyscale while the original is RGB (a translated CFD clip):
    then the result is RGB with the grey replicated under the mask. Pixels outside the mask
    are the original bytes.
    """
    orig = np.asarray(original)
    if orig.shape[1:3] != geometry.shape:
        raise BadOption(f"original frames are {orig.shape[1:3]}, geometry expects {geometry.shape}")
    if mask is None or not np.any(mask):
        return orig.copy()
    mask = np.asarray(mask, bool)
    if mask.shape != orig.shape[:3]:
        raise BadOption(f"mask shape {mask.shape} does not match frames {orig.shape[:3]}")
    back = from_model(model_frames, geometry)
    if orig.ndim == 4 and back.ndim == 3:
        back = np.repeat(back[..., None], 3, axis=-1)
    elif orig.ndim == 3 and back.ndim == 4:
        raise BadOption("cannot paste RGB model frames into a greyscale clip")
    out = orig.copy()
    y0, y1, x0, x1 = geometry.bbox
    region = out[:, y0:y1, x0:x1]
    sel = mask[:, y0:y1, x0:x1]
    region[sel] = back[sel]
    return out
