"""Which reader a path needs: decided by content (magic bytes), with the extension as a hint."""
from __future__ import annotations

import errno
import os
from pathlib import Path

from ..errors import UnreadableInput

VIDEO_EXT = {".mp4", ".m4v", ".avi", ".mov", ".mpeg", ".mpg", ".mkv", ".webm", ".gif", ".wmv", ".ogv"}
IMAGE_EXT = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}
DICOM_EXT = {".dcm", ".dicom", ".dic"}
META_EXT = {".mha", ".mhd"}

_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"BM", b"II*\x00", b"MM\x00*")
_VIDEO_MAGIC = (b"\x1a\x45\xdf\xa3", b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3", b"RIFF")  # mkv, mpeg-ps, mpeg-es, avi


def check_readable(path: str | os.PathLike) -> Path:
    """A clear error for missing, looping, unopenable or empty inputs (before any decoder sees them)."""
    if not isinstance(path, (str, os.PathLike)):
        raise UnreadableInput(f"an input is a path to a file or folder, not {type(path).__name__}")
    p = Path(path)
    try:
        p.stat()
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise UnreadableInput(f"{p}: symbolic link loop") from None
        if e.errno in (errno.EACCES, errno.EPERM):
            raise UnreadableInput(f"{p}: cannot be opened (permission denied)") from None
        if p.is_symlink():
            raise UnreadableInput(f"{p}: broken symbolic link") from None
        raise UnreadableInput(f"{p}: no such file") from None
    if p.is_dir():
        return p
    if not p.is_file():
        raise UnreadableInput(f"{p}: not a regular file")
    try:
        with open(p, "rb") as fh:
            fh.read(1)
    except OSError as e:
        raise UnreadableInput(f"{p}: cannot be opened ({e.strerror or e})") from None
    if p.stat().st_size == 0:
        raise UnreadableInput(f"{p}: empty file (0 bytes)")
    return p


def sniff(path: Path) -> str:
    """One of dicom, video, image, frames (folder), metaimage, npz; else UnreadableInput."""
    if path.is_dir():
        return "frames"
    with open(path, "rb") as fh:
        head = fh.read(512)
    ext = path.suffix.lower()
    if len(head) >= 132 and head[128:132] == b"DICM":
        return "dicom"
    if head.startswith(b"GIF87a") or head.startswith(b"GIF89a"):
        return "video"
    if head.startswith(_IMAGE_MAGIC):
        return "image"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "npz"
    if head[:64].lstrip().startswith((b"ObjectType", b"NDims")) or (ext in META_EXT and b"NDims" in head):
        return "metaimage"
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip") or head.startswith(_VIDEO_MAGIC):
        return "video"
    if ext in DICOM_EXT:
        return "dicom"  # DICOM without the 128-byte preamble: let pydicom decide
    if ext in VIDEO_EXT:
        return "video"
    if ext in IMAGE_EXT | {".npz"} | META_EXT:
        kind = {".npz": "npz"}.get(ext, "metaimage" if ext in META_EXT else "image")
        raise UnreadableInput(f"{path}: not a valid {ext} file (its content does not match the {kind} format)")
    raise UnreadableInput(f"{path}: unrecognised file format (expected DICOM, video, image, .mha/.mhd or .npz)")
