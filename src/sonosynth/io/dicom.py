"""DICOM reader: single and multi-frame, every photometric interpretation an ultrasound scanner writes.

Pixels come out in display space: YBR converted to RGB, palettes applied, MONOCHROME1
inverted, 16-bit windowed to 8 bits. Only non-identifying attributes reach `Clip.source`.
"""
from __future__ import annotations

import logging
import math
import warnings
from pathlib import Path

import numpy as np

from ..clip import Clip
from ..errors import UnreadableInput
from .common import check_size, describe, maybe_grey, window_to_uint8

#: Attributes copied into Clip.source: device and encoding facts, nothing about the patient or visit.
SAFE_ATTRIBUTES = (
    "Modality", "Manufacturer", "ManufacturerModelName", "SOPClassUID", "PhotometricInterpretation",
    "BitsAllocated", "BitsStored", "SamplesPerPixel", "NumberOfFrames", "Rows", "Columns",
    "BurnedInAnnotation", "LossyImageCompression", "ImageType",
)
_LOSSY_SYNTAXES = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.91"}


def _open(path: Path):
    """The parsed dataset; UnreadableInput for garbage, and for a cut file that lost its pixel data."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = _parse(path)
    if "PixelData" not in ds:
        where = _cut_inside(ds, [str(w.message) for w in caught])
        if where:
            raise UnreadableInput(f"{path}: truncated: the file ends inside {where}")
    return ds


def _cut_inside(ds, warned: list[str]) -> str | None:
    """What a cut file ends inside, from pydicom's own account (None when nothing shows a cut).

    pydicom reads a cut file without raising: an element of undefined length (encapsulated pixel
    data, a sequence) that meets the end of the file makes it warn and drop every element; an
    element of stated length is kept with fewer bytes than it states.
    """
    if any(w.startswith("End of file reached before delimiter") for w in warned):
        return "its compressed pixel data (or a sequence)"
    if not ds.keys():
        return None
    last = ds.get_item(list(ds.keys())[-1])  # still raw: the bytes as read
    value, length = getattr(last, "value", None), getattr(last, "length", None)
    if isinstance(value, bytes) and isinstance(length, int) and length != 0xFFFFFFFF and len(value) < length:
        return f"element {last.tag}, which states {length} bytes but has {len(value)}"
    return None


def _parse(path: Path):
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        try:
            return pydicom.dcmread(path)
        except InvalidDicomError:
            ds = pydicom.dcmread(path, force=True)  # no 128-byte preamble: still DICOM if it parses to pixels
            if "PixelData" not in ds and "SOPClassUID" not in ds:
                raise UnreadableInput(f"{path}: not a DICOM file") from None
            return ds
    except UnreadableInput:
        raise
    except Exception as e:  # pydicom raises many kinds on garbage
        raise UnreadableInput(f"{path}: not a readable DICOM file ({describe(e)})") from None


def _int(ds, name: str, default: int) -> int:
    try:
        v = ds.get(name, default)
        return int(v if v not in (None, "") else default)
    except (TypeError, ValueError):
        raise UnreadableInput(f"invalid {name} value {ds.get(name)!r}") from None


def _numbers(ds, name: str) -> list[float]:
    """Every value of an optional numeric attribute (timing, spacing, window), or [] when it is absent or any
    value is not a finite number: such metadata is then ignored, as if missing, rather than refusing the image."""
    try:
        value = ds.get(name)
        if value is None or value == "":
            return []
        numbers = [float(v) for v in ([value] if isinstance(value, (str, bytes, int, float)) else value)]
    except (TypeError, ValueError):
        return []
    return numbers if all(math.isfinite(v) for v in numbers) else []


def _number(ds, name: str) -> float | None:
    """The first value of an optional numeric attribute, or None (see `_numbers`)."""
    return next(iter(_numbers(ds, name)), None)


def _fps(ds) -> float | None:
    """Frame Time (ms), else Cine Rate, else Recommended Display Frame Rate, else mean Frame Time Vector."""
    ft = _number(ds, "FrameTime")
    if ft and ft > 0:
        return 1000.0 / ft
    for name in ("CineRate", "RecommendedDisplayFrameRate"):
        r = _number(ds, name)
        if r and r > 0:
            return r
    steps = [v for v in _numbers(ds, "FrameTimeVector")[1:] if v > 0]
    return 1000.0 / (sum(steps) / len(steps)) if steps else None


def _spacing(ds) -> tuple[float, float] | None:
    """(row, col) mm from Pixel Spacing, else from the first ultrasound region in centimetres."""
    ps = _numbers(ds, "PixelSpacing")
    if len(ps) == 2 and ps[0] > 0 and ps[1] > 0:
        return ps[0], ps[1]
    for region in ds.get("SequenceOfUltrasoundRegions", []) or []:
        if region.get("PhysicalUnitsXDirection") == 3 and region.get("PhysicalUnitsYDirection") == 3:
            dx, dy = abs(_number(region, "PhysicalDeltaX") or 0.0), abs(_number(region, "PhysicalDeltaY") or 0.0)
            if dx > 0 and dy > 0:
                return dy * 10.0, dx * 10.0
    return None


def _decoder(ds, path: Path):
    from pydicom.pixels import get_decoder

    tsyntax = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
    if tsyntax is None:
        from pydicom.uid import ImplicitVRLittleEndian

        tsyntax = ImplicitVRLittleEndian
    try:
        dec = get_decoder(tsyntax)
    except NotImplementedError:
        raise UnreadableInput(f"{path}: unsupported transfer syntax {getattr(tsyntax, 'name', tsyntax)} ({tsyntax})") from None
    if not dec.is_available:
        raise UnreadableInput(f"{path}: no decoder installed for transfer syntax {tsyntax.name}")
    return tsyntax, dec


def read_dicom(path: Path) -> Clip:
    """Read with pydicom's warnings and log lines silenced: the CLI promises one line per problem."""
    logger = logging.getLogger("pydicom")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _read(path)
    finally:
        logger.setLevel(level)


def _read(path: Path) -> Clip:
    ds = _open(path)
    if "PixelData" not in ds:
        raise UnreadableInput(f"{path}: DICOM file has no pixel data")
    tsyntax, dec = _decoder(ds, path)
    rows, cols = _int(ds, "Rows", 0), _int(ds, "Columns", 0)
    n = _int(ds, "NumberOfFrames", 1)
    spp, bits = _int(ds, "SamplesPerPixel", 1), _int(ds, "BitsAllocated", 8)
    if spp not in (1, 3) or bits not in (1, 8, 16, 32):
        raise UnreadableInput(f"{path}: unsupported pixel layout ({spp} samples of {bits} bits)")
    check_size(path, n, rows, cols, 3 if spp == 3 or "PALETTE" in str(ds.get("PhotometricInterpretation", "")) else 1, max(1, bits // 8))
    if not tsyntax.is_compressed:
        from pydicom.pixels.utils import get_expected_length

        need = get_expected_length(ds, unit="bytes")  # knows YBR_FULL_422's 2 bytes per pixel
        have = len(ds.PixelData)
        if have < need:
            raise UnreadableInput(f"{path}: pixel data holds {have} bytes but the header declares {need} ({n} frames of {rows}x{cols})")
    frames = _decode_frames(ds, dec, path, n, bits)
    fps = _fps(ds) or (30.0 if n > 1 else 1.0)
    source = {"path": str(path), "format": "dicom", "TransferSyntaxUID": str(tsyntax), "TransferSyntax": tsyntax.name, "lossy": str(tsyntax) in _LOSSY_SYNTAXES}
    for name in SAFE_ATTRIBUTES:
        if name in ds and ds.get(name) not in (None, ""):
            v = ds.get(name)
            source[name] = list(v) if name == "ImageType" else (str(v) if not isinstance(v, (int, float)) else v)
    if str(ds.get("LossyImageCompression", "")) == "01":
        source["lossy"] = True
    return Clip(maybe_grey(frames, source["lossy"]), fps=fps, spacing=_spacing(ds), source=source)


def _decode_frames(ds, dec, path: Path, n: int, bits: int) -> np.ndarray:
    """Decode frame by frame into one preallocated array, converting each frame to display space."""
    from pydicom.pixels import apply_color_lut, convert_color_space

    out = None
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip()
    try:
        for i, (arr, meta) in enumerate(dec.iter_array(ds, as_rgb=True)):
            pi = str(meta.get("photometric_interpretation", photometric))
            if pi.startswith("YBR") and arr.ndim == 3:  # not converted by the decoder
                arr = convert_color_space(arr, pi if pi in ("YBR_FULL", "YBR_FULL_422") else "YBR_FULL", "RGB")
            elif pi == "PALETTE COLOR":
                arr = apply_color_lut(arr, ds)
                if arr.dtype != np.uint8:
                    arr = (arr >> 8).astype(np.uint8)  # 16-bit LUT entries: the high byte is the display value
            if out is None:
                out = np.empty((n, *arr.shape), arr.dtype)
            if i >= n or arr.shape != out.shape[1:]:
                raise UnreadableInput(f"{path}: frame {i} does not match the declared {n} frames of {out.shape[1:]}")
            out[i] = arr
    except UnreadableInput:
        raise
    except MemoryError:
        raise
    except Exception as e:
        raise UnreadableInput(f"{path}: cannot decode pixel data ({describe(e)})") from None
    if out is None:
        raise UnreadableInput(f"{path}: DICOM file has no frames")
    if bits == 1:
        out = out.astype(np.uint8) * 255  # 1-bit (segmentation-like) images: 0 and 1 are black and white
    elif out.dtype != np.uint8:
        window = (_number(ds, "WindowCenter"), _number(ds, "WindowWidth")) if out.ndim == 3 else ()
        out = window_to_uint8(out, *window)  # no (readable) window: min-max over the clip
    if photometric == "MONOCHROME1":
        out = 255 - out
    return out
