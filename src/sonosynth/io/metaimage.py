"""MetaImage sequences (.mha, .mhd + .raw) through SimpleITK, an optional extra (`sonosynth[mha]`).

PLUS toolkit sequences carry per-frame timestamps in the header; fps comes from them.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..clip import Clip
from ..errors import MissingDependency, UnreadableInput
from .common import check_size, maybe_grey, window_to_uint8

_TIMESTAMP = re.compile(rb"Seq_Frame\d+_Timestamp\s*=\s*([-+\d.eE]+)")
_FIELD = re.compile(rb"^\s*(DimSize|ElementType|ElementNumberOfChannels|CompressedData|ElementDataFile)\s*=\s*(.*?)\s*$", re.M)
_ELEMENT_BYTES = {"MET_UCHAR": 1, "MET_CHAR": 1, "MET_USHORT": 2, "MET_SHORT": 2, "MET_UINT": 4, "MET_INT": 4,
                  "MET_FLOAT": 4, "MET_ULONG": 8, "MET_LONG": 8, "MET_DOUBLE": 8}


def _header(path: Path) -> tuple[bytes, int]:
    """The text header and its length in bytes (an .mha's binary data starts right after it)."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 20)
    end = head.find(b"ElementDataFile")
    if end < 0:
        return head, len(head)
    stop = head.find(b"\n", end)
    stop = len(head) if stop < 0 else stop + 1
    return head[:stop], stop


def _check_header(path: Path, header: bytes, header_len: int) -> None:
    """Declared size against memory and against the bytes really present (SimpleITK would print to stderr)."""
    fields = {k.decode(): v.decode(errors="replace") for k, v in _FIELD.findall(header)}
    try:
        size = [int(v) for v in fields.get("DimSize", "").split()]
    except ValueError:
        raise UnreadableInput(f"{path}: invalid DimSize in MetaImage header") from None
    if not size:
        raise UnreadableInput(f"{path}: MetaImage header has no DimSize")
    w, h, t = (size + [1, 1, 1])[:3]
    channels = int(fields.get("ElementNumberOfChannels", "1") or 1)
    check_size(path, t, h, w, max(channels, 1))
    datafile = fields.get("ElementDataFile", "")
    if datafile in ("", "LIST") or "%" in datafile or fields.get("CompressedData", "False").lower() == "true":
        return
    if datafile == "LOCAL":
        have = path.stat().st_size - header_len
    else:
        raw = path.parent / datafile
        if not raw.is_file():
            raise UnreadableInput(f"{path}: its data file {datafile} is missing")
        have = raw.stat().st_size
    need = w * h * t * max(channels, 1) * _ELEMENT_BYTES.get(fields.get("ElementType", ""), 1)
    if have < need:
        raise UnreadableInput(f"{path}: truncated: the header declares {need} bytes of pixels but only {have} are present")


def _fps_from_timestamps(header: bytes) -> float | None:
    ts = np.array([float(t) for t in _TIMESTAMP.findall(header)])
    if ts.size < 2:
        return None
    steps = np.diff(ts)
    steps = steps[steps > 0]
    return float(1.0 / np.median(steps)) if steps.size else None


def read_metaimage(path: Path) -> Clip:
    try:
        import SimpleITK as sitk
    except ImportError:
        raise MissingDependency("reading .mha/.mhd needs SimpleITK: pip install 'sonosynth[mha]'") from None
    header, header_len = _header(path)
    _check_header(path, header, header_len)
    try:
        image = sitk.ReadImage(str(path))
        arr = sitk.GetArrayFromImage(image)
        spacing = image.GetSpacing()
    except MemoryError:
        raise
    except Exception as e:
        raise UnreadableInput(f"{path}: not a readable MetaImage ({str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__})") from None
    ncomp = image.GetNumberOfComponentsPerPixel()
    if ncomp not in (1, 3) or arr.ndim - (ncomp == 3) not in (2, 3):
        raise UnreadableInput(f"{path}: unsupported MetaImage layout (shape {arr.shape}, {ncomp} components)")
    if arr.ndim - (ncomp == 3) == 2:
        arr = arr[None]
    frames = maybe_grey(window_to_uint8(arr), lossy=False)
    fps = _fps_from_timestamps(header) or 30.0
    sp = (float(spacing[1]), float(spacing[0])) if len(spacing) >= 2 else None
    return Clip(frames, fps=fps, spacing=sp, source={"path": str(path), "format": "metaimage", "lossy": False})
