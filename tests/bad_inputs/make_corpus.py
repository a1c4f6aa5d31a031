"""Regenerate the malformed inputs in this folder: `python tests/bad_inputs/make_corpus.py`.

Each file is tiny and wrong in one way; tests/test_bad_inputs.py checks that sonosynth
answers every one with a single-line error and exit code 2. Cases that cannot be committed
(directories, links, special files) are made at test time.
"""
from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import av
import numpy as np
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

HERE = Path(__file__).resolve().parent
TEXT = b"This is a plain text file, not an image.\n"


def _mp4(faststart: bool, frames: int = 20) -> bytes:
    """Noisy frames of H.264; faststart moves the index (moov) before the data, which needs a real file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp4"
        _encode_mp4(path, faststart, frames)
        return path.read_bytes()


def _damaged_payload(mp4: bytes) -> bytes:
    """Every 397th byte of the H.264 data scrambled, the index whole: FFmpeg decodes every frame without a word
    by concealing the damage (smeared blocks) unless asked to stop at the first error."""
    data = bytearray(mp4)
    for k in range(data.find(b"mdat") + 64, len(data), 397):
        data[k] = (data[k] * 7 + 13) & 255
    return bytes(data)


def _mkv_ffv1() -> bytes:
    """30 frames of lossless FFV1 in Matroska, which keeps no frame count: only the duration betrays a cut."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mkv"
        with av.open(str(path), "w", format="matroska", options={"fflags": "+bitexact"}) as out:  # no random UIDs
            s = out.add_stream("ffv1", rate=10)
            s.width, s.height, s.pix_fmt = 32, 24, "gray"
            rng = np.random.default_rng(3)
            for _ in range(30):
                for p in s.encode(av.VideoFrame.from_ndarray(rng.integers(0, 256, (24, 32), np.uint8), format="gray")):
                    out.mux(p)
            for p in s.encode():
                out.mux(p)
        return path.read_bytes()


def _encode_mp4(path: Path, faststart: bool, frames: int = 20) -> None:
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"} if faststart else {}) as out:
        s = out.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        rng = np.random.default_rng(0)
        for _ in range(frames):
            frame = av.VideoFrame.from_ndarray(rng.integers(0, 256, (48, 64, 3), np.uint8), format="rgb24")
            for p in s.encode(frame):
                out.mux(p)
        for p in s.encode():
            out.mux(p)


def _dicom(rows: int = 8, cols: int = 8, frames: int | None = 2, pixels: bytes | None = None,
           syntax: str = ExplicitVRLittleEndian) -> bytes:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.3.1"
    meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=[str(rows), str(cols), str(frames), syntax])
    meta.TransferSyntaxUID = syntax
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID, "US"
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = rows, cols, 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    if frames is not None:
        ds.NumberOfFrames = frames
    if pixels is not None:
        ds.PixelData = encapsulate([pixels]) if UID(syntax).is_compressed else pixels
        ds["PixelData"].VR = "OB"
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def _png_corrupt_idat() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.arange(64 * 64, dtype=np.uint32).reshape(64, 64).astype(np.uint8)).save(buf, format="PNG")
    data = bytearray(buf.getvalue())
    i = data.find(b"IDAT") + 4
    data[i:i + 40] = bytes(40)  # zero the start of the compressed stream; CRC no longer matches
    return bytes(data)


def _gif(frames: int = 6) -> bytes:
    buf = io.BytesIO()
    ims = [Image.fromarray(np.full((32, 32), 40 * k, np.uint8)) for k in range(frames)]
    ims[0].save(buf, format="GIF", save_all=True, append_images=ims[1:], duration=100)
    return buf.getvalue()


def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64, 3), np.uint8)).save(buf, format="JPEG")
    return buf.getvalue()


def corpus() -> dict[str, bytes]:
    mp4 = _mp4(False)
    mp4_fast = _mp4(True)
    mkv = _mkv_ffv1()
    one_frame = bytes(range(64)) * 2
    files = {f"empty{ext}": b"" for ext in (".mp4", ".dcm", ".png", ".npz", ".mha", ".gif", ".jpg", ".avi", ".mkv")}
    files.update({
        "text_renamed.dcm": TEXT, "text_renamed.mp4": TEXT, "text_renamed.png": TEXT, "text_renamed.npz": TEXT,
        "unknown_format.xyz": TEXT,
        "random_bytes.mkv": np.random.default_rng(2).integers(0, 256, 4096, np.uint8).tobytes(),
        "truncated_moov_at_end.mp4": mp4[: len(mp4) // 2],
        "truncated_faststart.mp4": mp4_fast[: len(mp4_fast) * 2 // 3],
        "truncated_ffv1.mkv": mkv[: len(mkv) // 2],
        "truncated_inside_index.mp4": _mp4(False, frames=8)[:-500],  # no codec can be told for the stream
        "damaged_payload.mp4": _damaged_payload(_mp4(True, frames=8)),
        "dicom_no_pixel_data.dcm": _dicom(pixels=None),
        "dicom_zero_frames.dcm": _dicom(frames=0, pixels=b""),
        "dicom_one_pixel.dcm": _dicom(1, 1, 1, b"\x80\x00"),
        "dicom_absurd_dimensions.dcm": _dicom(65535, 65535, 10000, one_frame),
        "dicom_unsupported_syntax.dcm": _dicom(pixels=one_frame, syntax="1.2.840.10008.1.2.4.100"),  # MPEG-2 video
        "dicom_short_pixel_data.dcm": _dicom(8, 8, 4, one_frame),
        "dicom_truncated.dcm": _dicom(16, 16, 2, bytes(512))[:300],
        "one_by_one.png": _png_bytes(np.zeros((1, 1), np.uint8)),
        "corrupt_idat.png": _png_corrupt_idat(),
        "truncated.jpg": _jpeg()[:400],
        "truncated.gif": _gif()[:60],
        "npz_without_frames.npz": _npz(images=np.zeros((2, 8, 8), np.uint8)),
        "npz_wrong_dtype.npz": _npz(frames=np.zeros((2, 8, 8), np.float32), fps=np.float64(10)),
        "npz_wrong_shape.npz": _npz(frames=np.zeros((2, 8, 8, 4), np.uint8)),
        "npz_absurd_header.npz": _npz_absurd(),
        "missing_raw.mhd": b"ObjectType = Image\nNDims = 3\nDimSize = 8 8 2\nElementType = MET_UCHAR\nElementDataFile = missing.raw\n",
        "truncated_data.mha": b"ObjectType = Image\nNDims = 3\nDimSize = 64 64 10\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n" + bytes(100),
    })
    return files


def _png_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def _npz_absurd() -> bytes:
    """A 'frames' header declaring 100000x4000x4000 uint8 over 16 bytes of data (np.load would try 1.6 TB)."""
    header = np.lib.format.header_data_from_array_1_0(np.zeros((1,), np.uint8))
    header["shape"] = (100000, 4000, 4000)
    npy = io.BytesIO()
    np.lib.format.write_array_header_1_0(npy, header)
    npy.write(bytes(16))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("frames.npy", date_time=(1980, 1, 1, 0, 0, 0)), npy.getvalue())  # reproducible bytes
    return buf.getvalue()


def main() -> None:
    files = corpus()
    for name, data in files.items():
        (HERE / name).write_bytes(data)
    print(f"wrote {len(files)} files to {HERE}")


if __name__ == "__main__":
    main()
