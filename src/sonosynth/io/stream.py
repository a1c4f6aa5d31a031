"""Streaming video in and out, for clips too long to hold in memory (translation of long cines).

`open_video_stream` decodes chunk by chunk; `VideoStreamWriter` encodes frame by frame into a
temporary file that is renamed into place only when the whole clip is written.
"""
from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import BadOption, UnreadableInput
from .atomic import atomic_path
from .detect import check_readable, sniff

STREAM_WRITE_FORMATS = {".mp4": ("mp4", "libx264", "yuv420p"), ".mkv": ("matroska", "ffv1", None)}


class VideoStream:
    """A video file opened for chunked decoding: `fps`, `n_frames` (declared, may be 0) and `chunks()`."""

    def __init__(self, path: str | os.PathLike):
        import av

        from .video import _GREY_FORMATS, _rate

        self.path = check_readable(path)
        if sniff(self.path) != "video":
            raise UnreadableInput(f"{self.path}: not a video file (streaming reads video only)")
        try:
            self.container = av.open(str(self.path))
            self.stream = self.container.streams.video[0]
        except Exception as e:  # noqa: BLE001 - any decoder failure is the file's fault
            raise UnreadableInput(f"{self.path}: not a readable video ({type(e).__name__}: {e})") from None
        self.stream.thread_type = "AUTO"
        self.fps = _rate(self.stream)
        self.n_frames = int(self.stream.frames or 0)
        self._fmt = "gray" if (self.stream.codec_context.pix_fmt or "") in _GREY_FORMATS else "rgb24"

    def chunks(self, size: int = 32) -> Iterator[np.ndarray]:
        """uint8 arrays of up to `size` frames, (n,H,W) or (n,H,W,3) as the file stores them."""
        buf: list[np.ndarray] = []
        count = 0
        try:
            for frame in self.container.decode(self.stream):
                buf.append(frame.to_ndarray(format=self._fmt))
                count += 1
                if len(buf) == size:
                    yield np.stack(buf)
                    buf = []
        except UnreadableInput:
            raise
        except Exception as e:  # noqa: BLE001
            raise UnreadableInput(f"{self.path}: corrupt video data after {count} frames ({type(e).__name__}: {e})") from None
        finally:
            self.container.close()
        if buf:
            yield np.stack(buf)
        if count == 0:
            raise UnreadableInput(f"{self.path}: no decodable video frames (truncated or corrupt)")


class VideoStreamWriter:
    """Frame-by-frame encoder for .mp4 (H.264, yuv420p, +faststart) or .mkv (FFV1, lossless), atomic."""

    def __init__(self, path: str | os.PathLike, fps: float, overwrite: bool = False, crf: int = 23):
        self.path = Path(path)
        ext = self.path.suffix.lower()
        if ext not in STREAM_WRITE_FORMATS:
            raise BadOption(f"streaming output must be {' or '.join(STREAM_WRITE_FORMATS)}, got {ext or 'no extension'}")
        if not 0 <= int(crf) <= 51:
            raise BadOption(f"crf must be between 0 and 51, got {crf}")
        self.fps, self.overwrite, self.crf = fps, overwrite, int(crf)
        self.container = self.stream = None

    def __enter__(self) -> "VideoStreamWriter":
        self._atomic = atomic_path(self.path, self.overwrite)
        self.tmp = self._atomic.__enter__()
        return self

    def _open(self, frame: np.ndarray) -> None:
        import av

        fmt, codec, pix_fmt = STREAM_WRITE_FORMATS[self.path.suffix.lower()]
        options = {"movflags": "+faststart"} if fmt == "mp4" else {}
        self.container = av.open(str(self.tmp), mode="w", format=fmt, options=options)
        self.stream = self.container.add_stream(codec, rate=Fraction(self.fps).limit_denominator(1001))
        self.rgb = frame.ndim == 3
        h, w = frame.shape[:2]
        if pix_fmt is None:
            pix_fmt = "bgr0" if self.rgb else "gray"
        self.pad = (h % 2, w % 2) if pix_fmt == "yuv420p" else (0, 0)
        self.stream.height, self.stream.width = h + self.pad[0], w + self.pad[1]
        self.stream.pix_fmt = pix_fmt
        self.stream.options = {"crf": str(self.crf), "preset": "medium"} if codec == "libx264" else {"level": "3"}

    def write(self, frame: np.ndarray) -> None:
        """Append one uint8 frame (H,W) or (H,W,3); all frames must share size and kind."""
        import av

        if self.container is None:
            self._open(frame)
        if any(self.pad):
            pad = [(0, self.pad[0]), (0, self.pad[1])] + ([(0, 0)] if frame.ndim == 3 else [])
            frame = np.pad(frame, pad, mode="edge")  # yuv420p needs even sides: replicate the last row/column
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24" if self.rgb else "gray")
        for packet in self.stream.encode(vf):
            self.container.mux(packet)

    def __exit__(self, exc_type, exc, tb):
        try:
            if self.container is not None:
                if exc_type is None:
                    for packet in self.stream.encode():
                        self.container.mux(packet)
                self.container.close()
            elif exc_type is None:
                raise BadOption(f"no frames to write to {self.path}")
        except BaseException as e:
            self._atomic.__exit__(type(e), e, e.__traceback__)
            raise
        return self._atomic.__exit__(exc_type, exc, tb)
