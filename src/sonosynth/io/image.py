"""Still images (png, jpg, bmp, tiff) as 1-frame clips, folders of numbered frames, and the PNG writer."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..clip import Clip
from ..errors import BadOption, UnreadableInput
from .common import check_size, describe, maybe_grey, window_to_uint8
from .detect import IMAGE_EXT

_LOSSY_FORMATS = {"JPEG", "MPO", "WEBP"}


def _load(path: Path, every_page: bool = False) -> tuple[np.ndarray, bool]:
    """Decode a still to uint8 (N,H,W) or (N,H,W,3), each picture turned as its EXIF orientation says viewers
    show it (a phone photo of a screen is stored sideways and says so); returns (frames, lossy). N is 1, or
    with `every_page` a multi-page TIFF's page count (a frame stack, as ImageJ saves one); 16-bit pages share
    one window, so that brightness does not jump between frames."""
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = None  # our own size check below gives the clearer message
    try:
        with Image.open(path) as opened:
            pages = getattr(opened, "n_frames", 1) if every_page and opened.format == "TIFF" else 1
            check_size(path, pages, opened.height, opened.width, 3)
            lossy = opened.format in _LOSSY_FORMATS
            arrays = []
            for k in range(pages):
                opened.seek(k)
                arrays.append(_page_array(ImageOps.exif_transpose(opened)))
    except UnreadableInput:
        raise
    except MemoryError:
        raise
    except Exception as e:
        raise UnreadableInput(f"{path}: not a readable image ({describe(e)})") from None
    if len({a.shape[:2] for a in arrays}) > 1:
        raise UnreadableInput(f"{path}: its pages differ in size ({', '.join(sorted({str(a.shape[:2]) for a in arrays}))})")
    wide = [a.dtype != np.uint8 for a in arrays]
    if any(wide):
        windowed = iter(window_to_uint8(np.stack([a for a, w in zip(arrays, wide) if w])))
        arrays = [next(windowed) if w else a for a, w in zip(arrays, wide)]
    if len({a.ndim for a in arrays}) > 1:
        arrays = [a if a.ndim == 3 else _grey_to_rgb(a) for a in arrays]
    return np.stack(arrays).astype(np.uint8), lossy


def _page_array(im) -> np.ndarray:
    """One picture as uint8 (H,W) or (H,W,3), or a 16-bit/float one as its values (H,W) for a shared window."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F", "L", "RGB"):
        return np.asarray(im)
    if im.mode in ("LA", "1"):
        return np.asarray(im.convert("L"))
    return np.asarray(im.convert("RGB"))  # P, RGBA, CMYK, YCbCr...: what a viewer shows


def read_image(path: Path) -> Clip:
    frames, lossy = _load(path, every_page=True)
    return Clip(maybe_grey(frames, lossy), fps=1.0, source={"path": str(path), "format": "image", "lossy": lossy})


def numbered_frames(folder: Path) -> list[Path]:
    """Image files named with a number, in numeric order; all must share one extension."""
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXT and re.search(r"\d+", p.stem)]
    if not files:
        raise UnreadableInput(f"{folder}: a directory, not a file, and it holds no numbered image frames")
    exts = {p.suffix.lower() for p in files}
    if len(exts) > 1:
        raise UnreadableInput(f"{folder}: numbered frames mix extensions ({', '.join(sorted(exts))})")
    return sorted(files, key=lambda p: (int(re.findall(r"\d+", p.stem)[-1]), p.name))


def read_frame_folder(folder: Path) -> Clip:
    """Numbered stills as one clip: RGB when any frame is, greyscale frames then repeated into three channels
    (whatever their order), and back to greyscale at the end when every colour frame turns out grey."""
    from ..progress import progress

    files = numbered_frames(folder)
    first, lossy = _load(files[0])
    first = first[0]
    check_size(folder, len(files), first.shape[0], first.shape[1], 3)
    out = np.empty((len(files), *first.shape), np.uint8)
    out[0] = first
    for i, p in enumerate(progress(files[1:], desc="reading frames", unit="frame"), start=1):
        arr, lossy_i = _load(p)
        arr = arr[0]
        if arr.shape[:2] != first.shape[:2]:
            raise UnreadableInput(f"{p}: size {arr.shape[:2]} differs from the first frame's {first.shape[:2]}")
        if arr.ndim > out.ndim - 1:
            out = _grey_to_rgb(out)  # the first colour frame: the frames so far become RGB
        out[i] = arr if arr.ndim == out.ndim - 1 else _grey_to_rgb(arr)
        lossy = lossy or lossy_i
    return Clip(maybe_grey(out, lossy), fps=30.0, source={"path": str(folder), "format": "frames", "lossy": lossy})


def _grey_to_rgb(grey: np.ndarray) -> np.ndarray:
    return np.repeat(grey[..., None], 3, axis=-1)


def check_png_frames(n_frames: int) -> None:
    """A .png holds one frame: refuse more before any work is done, not after."""
    if n_frames != 1:
        raise BadOption(f"a .png holds one frame but the clip has {n_frames}; write .mp4, .mkv, .gif, .npz or .dcm instead")


def write_png(clip: Clip, tmp: Path) -> None:
    from PIL import Image

    check_png_frames(clip.n_frames)
    Image.fromarray(clip.frames[0]).save(tmp, format="PNG")
