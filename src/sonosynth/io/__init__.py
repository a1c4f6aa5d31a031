"""read_clip / write_clip: formats chosen by content (magic bytes) with the extension as a hint.

Readers: DICOM, video (mp4/avi/mov/mpeg/mkv/gif/...), stills (png/jpg/bmp/tiff), folders of
numbered frames, MetaImage (.mha/.mhd, optional SimpleITK), .npz. Writers: .mp4 (H.264),
.mkv (FFV1, lossless), .gif, .npz, .png (one frame), .dcm. Every write is atomic and refuses
to replace an existing file unless overwrite=True.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..clip import Clip
from ..errors import BadOption, UserError
from .atomic import atomic_path, atomic_paths, check_writable
from .detect import check_readable, sniff

WRITE_FORMATS = (".mp4", ".mkv", ".gif", ".npz", ".png", ".dcm")


def read_clip(path: str | os.PathLike) -> Clip:
    """Read any supported input into a Clip (frames uint8 in display space); UnreadableInput if it can't."""
    p = check_readable(path)
    kind = sniff(p)
    if kind == "dicom":
        from .dicom import read_dicom as reader
    elif kind == "video":
        from .video import read_video as reader
    elif kind == "image":
        from .image import read_image as reader
    elif kind == "frames":
        from .image import read_frame_folder as reader
    elif kind == "metaimage":
        from .metaimage import read_metaimage as reader
    else:
        from .npz import read_npz as reader
    try:
        return reader(p)
    except UserError as e:
        if str(p) in str(e):
            raise
        raise type(e)(f"{p}: {e}") from None  # e.g. Clip's own shape checks: say which file


def check_output_format(path: str | os.PathLike) -> Path:
    """BadOption unless the extension names a format write_clip can produce."""
    if not isinstance(path, (str, os.PathLike)):
        raise BadOption(f"an output is a path to a file, not {type(path).__name__}")
    target = Path(path)
    if target.suffix.lower() not in WRITE_FORMATS:
        raise BadOption(f"cannot write {target.suffix or 'a file without extension'}: choose one of {', '.join(WRITE_FORMATS)}")
    return target


def check_clip_outputs(*paths: str | os.PathLike | None, overwrite: bool = False, frames: int | None = None,
                       inputs: tuple[str | os.PathLike | None, ...] = ()) -> None:
    """Before any work: every clip output given (None = not asked for) has a writable format, may be written,
    holds `frames` frames (when known: a .png holds one), is none of the `inputs` (not even through a link:
    --overwrite replaces outputs, never what the user handed in), and no two are one file (the second write
    would be refused after the first had landed)."""
    from .image import check_png_frames

    given = [Path(p) for p in paths if p is not None]
    for target in given:
        check_writable(check_output_format(target), overwrite)
        if frames is not None and target.suffix.lower() == ".png":
            check_png_frames(frames)
        for source in (Path(i) for i in inputs if i is not None):
            if target.exists() and source.exists() and os.path.samefile(target, source):
                raise BadOption(f"{target} is the input {source} itself: write elsewhere (the input is left alone)")
    where = [t.resolve() for t in given]
    if len(set(where)) < len(where):
        raise BadOption(f"two outputs are the same file: {' and '.join(str(t) for t in given)}")


def size_written(path: str | os.PathLike, height: int, width: int) -> str:
    """The size a clip of `height` x `width` is written at in `path`, as "HxW (HxW)" for messages: an .mp4
    (H.264 yuv420p) stores even sides, an odd side gaining one repeated row or column (`write_clip`)."""
    if Path(path).suffix.lower() == ".mp4" and (height % 2 or width % 2):
        return f"{height + height % 2}x{width + width % 2} (HxW; {height}x{width} padded to even sides for H.264)"
    return f"{height}x{width} (HxW)"


def write_clip(clip: Clip, path: str | os.PathLike, overwrite: bool = False, crf: int = 23) -> Path:
    """Write by extension (see WRITE_FORMATS); `crf` is the H.264 quality for .mp4 (lower is better).

    H.264 in yuv420p needs even sides, so an .mp4 of an odd-sized clip gains one repeated
    last row and/or column; .mkv, .npz and .dcm keep every pixel exactly.
    """
    return write_clips([(clip, path)], overwrite, crf)[0]


def write_clips(items: list[tuple[Clip, str | os.PathLike]], overwrite: bool = False, crf: int = 23) -> list[Path]:
    """Write several clips as one: each goes to a temporary beside its target, and only when every one
    is written are they renamed into place, so a failure (a full disk at the second) leaves none."""
    if not all(isinstance(clip, Clip) for clip, _ in items):
        raise BadOption("write_clip takes a sonosynth Clip (sonosynth.read_clip(path), or Clip(frames, fps))")
    targets = [check_output_format(path) for _, path in items]
    with atomic_paths(targets, overwrite) as temporaries:
        for (clip, _), tmp in zip(items, temporaries):
            encode_clip(clip, tmp, crf)
    return targets


def encode_clip(clip: Clip, tmp: Path, crf: int = 23) -> None:
    """Encode `clip` into the file `tmp` by its extension, with no checks: for a caller's own atomic writes."""
    ext = tmp.suffix.lower()
    if ext == ".mp4":
        from .video import write_mp4

        write_mp4(clip, tmp, crf=crf)
    elif ext == ".mkv":
        from .video import write_mkv

        write_mkv(clip, tmp)
    elif ext == ".gif":
        from .gif import write_gif

        write_gif(clip, tmp)
    elif ext == ".npz":
        from .npz import write_npz

        write_npz(clip, tmp)
    elif ext == ".png":
        from .image import write_png

        write_png(clip, tmp)
    else:
        from .dicom_write import write_dicom

        write_dicom(clip, tmp)


__all__ = ["read_clip", "write_clip", "write_clips", "encode_clip", "check_output_format", "WRITE_FORMATS",
           "atomic_path", "size_written"]
